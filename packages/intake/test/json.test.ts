import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCheckRuns, decodeEvents, decodeSeriesV1 } from '../src/index.js';

const json = (s: string): Uint8Array => Buffer.from(s);

test('reads v1 series as the agent writes them', () => {
  const body = json(
    '{"series":[{"metric":"disk.free","points":[[1,1e+21],[2,-0.5]],"tags":["a"],"host":"h","device":"sda1","type":"gauge","interval":10,"source_type_name":"c"}]}',
  );
  assert.deepStrictEqual(decodeSeriesV1(body), {
    ok: true,
    value: [
      {
        name: 'disk.free',
        host: 'h',
        tags: ['a'],
        type: 'gauge',
        interval: 10,
        points: [
          { timestamp: 1, value: 1e21 },
          { timestamp: 2, value: -0.5 },
        ],
        device: 'sda1',
        sourceTypeName: 'c',
      },
    ],
  });
});

test('reads a v1 series with the public API defaults: gauge, interval 0, no tags', () => {
  assert.deepStrictEqual(decodeSeriesV1(json('{"series":[{"metric":"m","points":[]}]}')), {
    ok: true,
    value: [{ name: 'm', host: '', tags: [], type: 'gauge', interval: 0, points: [] }],
  });
});

test('names what is wrong with a v1 body', () => {
  assert.deepStrictEqual(decodeSeriesV1(json('{"series":[{"metric":"m","points":[[1]]}]}')), {
    ok: false,
    reason: 'invalid_shape',
    message: 'series[0].points[0] is not [timestamp, value]',
  });
  assert.deepStrictEqual(decodeSeriesV1(json('{"series":[{"metric":"m","points":[],"type":"histogram"}]}')), {
    ok: false,
    reason: 'invalid_shape',
    message: 'series[0].type "histogram" is not one of gauge, rate, count',
  });
  const bad = decodeSeriesV1(json('{"series":['));
  assert.equal(bad.ok, false);
  assert.equal(!bad.ok && bad.reason, 'invalid_json');
  assert.equal(decodeSeriesV1(json('[]')).ok, false);
});

test('reads check runs, with null tags as none', () => {
  const body = json(
    '[{"check":"app.up","host_name":"h","timestamp":1700000000,"status":2,"message":"down","tags":null},' +
      '{"check":"db.up","host_name":"","timestamp":1,"status":0,"message":"","tags":["x"]}]',
  );
  assert.deepStrictEqual(decodeCheckRuns(body), {
    ok: true,
    value: [
      { name: 'app.up', host: 'h', timestamp: 1700000000, status: 2, message: 'down', tags: [] },
      { name: 'db.up', host: '', timestamp: 1, status: 0, message: '', tags: ['x'] },
    ],
  });
  assert.deepStrictEqual(decodeCheckRuns(json('[{"check":"c","status":4}]')), {
    ok: false,
    reason: 'invalid_shape',
    message: 'check_run[0].status 4 is not 0, 1, 2 or 3',
  });
});

test('reads events from every source type group, with the agent defaults for omitted fields', () => {
  const body = json(
    '{"apiKey":"","events":{"api":[{"msg_title":"deploy","msg_text":"t","timestamp":1,"host":"h"}],' +
      '"docker":[{"msg_title":"oom","msg_text":"","timestamp":2,"priority":"low","host":"","tags":["a"],"alert_type":"error","aggregation_key":"k","source_type_name":"docker"}]},' +
      '"internalHostname":"agent-host"}',
  );
  assert.deepStrictEqual(decodeEvents(body), {
    ok: true,
    value: {
      internalHostname: 'agent-host',
      events: [
        { title: 'deploy', text: 't', timestamp: 1, host: 'h', aggregationKey: '', priority: 'normal', sourceTypeName: '', alertType: 'info', tags: [] },
        { title: 'oom', text: '', timestamp: 2, host: '', aggregationKey: 'k', priority: 'low', sourceTypeName: 'docker', alertType: 'error', tags: ['a'] },
      ],
    },
  });
  assert.deepStrictEqual(decodeEvents(json('{"events":{"api":[{"alert_type":"fatal"}]}}')), {
    ok: false,
    reason: 'invalid_shape',
    message: 'events.api[0].alert_type "fatal" is not one of error, warning, info, success',
  });
});
