import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricEvent, Series, ServiceCheck } from '@kennel/core';
import { encodeAll, EventEncoder, SeriesV1Encoder, ServiceCheckEncoder } from '../src/index.js';
import { config, identity, text, zlib, zstd } from './helpers.js';

const pageViews: Series = {
  name: 'page.views',
  host: 'myhost',
  tags: ['env:prod'],
  type: 'rate',
  interval: 10,
  points: [{ timestamp: 1700000000, value: 0.1 }],
};

test('writes v1 series as the agent encodeSerie does', () => {
  const encoder = new SeriesV1Encoder(config(), identity);
  encoder.add(pageViews);
  encoder.add({
    name: 'disk.free',
    host: '',
    tags: ['device:sda1', 'a"b', 'dd.internal.resource:db:x', ''],
    type: 'gauge',
    interval: 0,
    points: [
      { timestamp: 1.9, value: 1e21 },
      { timestamp: 2, value: -0.5 },
    ],
    sourceTypeName: 'my_check',
  });
  const [p] = encoder.finish();
  assert.equal(
    text(p!),
    '{"series":[' +
      '{"metric":"page.views","points":[[1700000000,0.1]],"tags":["env:prod"],"host":"myhost","type":"rate","interval":10},' +
      '{"metric":"disk.free","points":[[1,1e+21],[2,-0.5]],"tags":["a\\"b",""],"host":"","device":"sda1","type":"gauge","interval":0,"source_type_name":"my_check"}' +
      ']}',
  );
  assert.equal(p!.endpoint, '/api/v1/series');
  assert.equal(p!.contentType, 'application/json');
  assert.equal(p!.points, 3);
  assert.equal(p!.items, 2);
});

test('drops and counts a v1 series with a value JSON cannot hold', () => {
  const encoder = new SeriesV1Encoder(config(), identity);
  assert.equal(encoder.add({ ...pageViews, points: [{ timestamp: 1, value: Number.NaN }] }), 'ok');
  assert.equal(encoder.add({ ...pageViews, points: [{ timestamp: 1, value: Number.POSITIVE_INFINITY }] }), 'ok');
  assert.equal(encoder.counters.get('InvalidItem'), 2);
  encoder.add(pageViews);
  assert.equal(text(encoder.finish()[0]!).includes('Infinity'), false);
});

test('cuts v1 payloads at serializer_max_payload_size with header, separators and footer counted', () => {
  // One series is 115 bytes; n in a payload take 13 + 115n + (n - 1) bytes: 3 (360) fit in 370, 4 (476) do not.
  const item = '{"metric":"page.views","points":[[1700000000,0.1]],"tags":["env:prod"],"host":"myhost","type":"rate","interval":10}';
  assert.equal(item.length, 115);
  const encoder = new SeriesV1Encoder(config({ maxPayloadSize: 370 }), identity);
  const payloads = encodeAll(encoder, Array.from({ length: 7 }, () => pageViews));
  assert.deepEqual(
    payloads.map((p) => [p.items, p.body.length]),
    [
      [3, 360],
      [3, 360],
      [1, 128],
    ],
  );
  assert.equal(text(payloads[2]!), `{"series":[${item}]}`);
});

const check: ServiceCheck = { name: 'app.up', host: 'h', timestamp: 1700000000, status: 2, message: 'down', tags: ['env:prod', 'x'] };

test('writes check runs as the agent writeServiceCheck does, with null for no tags', () => {
  const encoder = new ServiceCheckEncoder(config(), zlib);
  encoder.add(check);
  encoder.add({ ...check, tags: [], message: '', status: 0 });
  const [p] = encoder.finish();
  assert.equal(
    text(p!),
    '[{"check":"app.up","host_name":"h","timestamp":1700000000,"status":2,"message":"down","tags":["env:prod","x"]},' +
      '{"check":"app.up","host_name":"h","timestamp":1700000000,"status":0,"message":"","tags":null}]',
  );
  assert.equal(p!.endpoint, '/api/v1/check_run');
  assert.equal(p!.contentEncoding, 'deflate');
  assert.equal(p!.points, 0);
});

const event: MetricEvent = {
  title: 'deploy',
  text: 'v1.2 is out',
  timestamp: 1700000000,
  host: 'h',
  aggregationKey: '',
  priority: 'normal',
  sourceTypeName: '',
  alertType: 'info',
  tags: [],
};

test('writes events grouped by source type as the agent writeEvent does', () => {
  const encoder = new EventEncoder(config({ hostname: 'agent-host' }), zstd);
  encoder.add(event);
  encoder.add({ ...event, title: 'oom', alertType: 'error', sourceTypeName: 'docker', aggregationKey: 'k', tags: ['a'] });
  encoder.add({ ...event, title: 'again', priority: 'low' });
  const [p] = encoder.finish();
  assert.equal(
    text(p!),
    '{"apiKey":"","events":{' +
      '"api":[' +
      '{"msg_title":"deploy","msg_text":"v1.2 is out","timestamp":1700000000,"priority":"normal","host":"h","alert_type":"info"},' +
      '{"msg_title":"again","msg_text":"v1.2 is out","timestamp":1700000000,"priority":"low","host":"h","alert_type":"info"}' +
      '],"docker":[' +
      '{"msg_title":"oom","msg_text":"v1.2 is out","timestamp":1700000000,"priority":"normal","host":"h","tags":["a"],"alert_type":"error","aggregation_key":"k","source_type_name":"docker"}' +
      ']},"internalHostname":"agent-host"}',
  );
  assert.equal(p!.endpoint, '/intake/');
  assert.equal(p!.items, 3);
  assert.equal(p!.uncompressedBytes, Buffer.byteLength(text(p!)));
});

test('cuts event payloads by their worst-case compressed size', () => {
  // An api event below is 101 bytes; a payload of n takes 47 (header and footer) + 8 (`"api":[`
  // and `]`) + 101n + (n - 1) bytes: 3 (360) fit in 400, 4 (462) do not.
  const one = '{"msg_title":"deploy","msg_text":"v1.2 is out","timestamp":1700000000,"priority":"normal","host":"h"}';
  const e = { ...event, alertType: '' as never };
  assert.equal(one.length, 101);
  const encoder = new EventEncoder(config({ maxPayloadSize: 400 }), identity);
  const payloads = encodeAll(encoder, Array.from({ length: 7 }, () => e));
  assert.deepEqual(
    payloads.map((p) => [p.items, p.body.length]),
    [
      [3, 360],
      [3, 360],
      [1, 156],
    ],
  );
  assert.equal(text(payloads[2]!), `{"apiKey":"","events":{"api":[${one}]},"internalHostname":""}`);
  assert.equal(encoder.counters.get('PayloadFull'), 2);
});

test('drops and counts an event too big for an empty payload', () => {
  const encoder = new EventEncoder(config({ maxPayloadSize: 400 }), identity);
  assert.equal(encoder.add({ ...event, text: 'x'.repeat(400) }), 'ok');
  assert.equal(encoder.counters.get('ItemTooBig'), 1);
  assert.deepEqual(encoder.finish(), []);
});
