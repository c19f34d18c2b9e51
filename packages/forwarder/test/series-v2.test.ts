import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Series } from '@kennel/core';
import { compressOnce, encodeAll, SeriesV2Encoder } from '../src/index.js';
import { compressions, config, decompress, hex, identity, zlib, zstd } from './helpers.js';

const pageViews: Series = {
  name: 'page.views',
  host: 'myhost',
  tags: ['env:prod'],
  type: 'rate',
  interval: 10,
  points: [{ timestamp: 1700000000, value: 0.1 }],
};

function encodeOne(series: Series): Uint8Array {
  const encoder = new SeriesV2Encoder(config(), identity);
  assert.equal(encoder.add(series), 'ok');
  const payloads = encoder.finish();
  assert.equal(payloads.length, 1);
  return decompress(payloads[0]!);
}

test('writes a series field by field as the agent does', () => {
  const expected = [
    '0a43', // MetricPayload.series, 67 bytes
    '0a0e', '0a04' + hex(Buffer.from('host')), '1206' + hex(Buffer.from('myhost')), // resources: {type: host, name: myhost}
    '120a' + hex(Buffer.from('page.views')), // metric
    '1a08' + hex(Buffer.from('env:prod')), // tags
    '2802', // type = RATE
    '400a', // interval = 10
    '220f', '1080e2cfaa06', '09' + '9a9999999999b93f', // points: {timestamp: 1700000000, value: 0.1}
    '4a06', '0a04', '200a', '280a', // metadata.origin: product 10, category 10 (service 0 omitted)
  ].join('');
  assert.equal(hex(encodeOne(pageViews)), expected);
});

test('sends every payload with the v2 endpoint, protobuf content type and the compression encoding', () => {
  for (const c of compressions) {
    const encoder = new SeriesV2Encoder(config(), c);
    encoder.add(pageViews);
    const [p] = encoder.finish();
    assert.equal(p!.endpoint, '/api/v2/series');
    assert.equal(p!.contentType, 'application/x-protobuf');
    assert.equal(p!.contentEncoding, c.contentEncoding);
    assert.equal(p!.items, 1);
    assert.equal(p!.points, 1);
    assert.equal(p!.uncompressedBytes, 69);
    assert.equal(decompress(p!).length, 69);
  }
});

test('moves a device tag into a device resource and resource tags into resources', () => {
  const bytes = encodeOne({
    name: 'm',
    host: 'h',
    tags: ['a', 'device:sda0', 'dd.internal.resource:db:orders', 'device:sda1', 'dd.internal.resource:bad', 'b'],
    type: 'gauge',
    interval: 0,
    points: [],
    resources: [{ type: 'cluster', name: 'c1' }],
  });
  const expected = [
    '0a', '4b', // 75 bytes
    '0a09', '0a04' + hex(Buffer.from('host')), '1201' + hex(Buffer.from('h')),
    '0a0e', '0a06' + hex(Buffer.from('device')), '1204' + hex(Buffer.from('sda1')), // the last device tag wins
    '0a0d', '0a07' + hex(Buffer.from('cluster')), '1202' + hex(Buffer.from('c1')), // series.resources first
    '0a0c', '0a02' + hex(Buffer.from('db')), '1206' + hex(Buffer.from('orders')), // then resource tags
    '1201' + hex(Buffer.from('m')),
    '1a01' + hex(Buffer.from('a')), '1a01' + hex(Buffer.from('b')), // the special tags are gone
    '2803', // GAUGE; interval 0 omitted; no points
    '4a06', '0a04', '200a', '280a',
  ].join('');
  assert.equal(hex(bytes), expected);
});

test('omits zero values, empty strings and empty tags, and writes negative timestamps as 10-byte varints', () => {
  const bytes = encodeOne({
    name: '',
    host: '',
    tags: ['', 'x'],
    type: 'count',
    interval: 0,
    points: [
      { timestamp: 0, value: 0 },
      { timestamp: -1, value: -0 },
      { timestamp: 5.9, value: Number.NaN },
    ],
    origin: { product: 0, category: 0, service: 0 },
  });
  const expected = [
    '0a', '2d', // 45 bytes
    '0a06', '0a04' + hex(Buffer.from('host')), // the host resource is kept, with no name
    '1a01' + hex(Buffer.from('x')),
    '2801',
    '2200', // {timestamp 0, value 0}: both omitted
    '220b', '10ffffffffffffffffff01', // timestamp -1; -0 equals 0 and is omitted
    '220b', '1005', '09' + '000000000000f87f', // 5.9 truncates to 5; NaN is written
    '4a02', '0a00', // metadata with an empty origin
  ].join('');
  assert.equal(hex(bytes), expected);
});

test('lengths of 128 bytes or more take a two-byte varint', () => {
  const name = 'n'.repeat(200);
  const bytes = encodeOne({ ...pageViews, name, tags: [] });
  // series = 16 (host resource) + 203 (metric) + 2 (type) + 2 (interval) + 17 (point) + 8 (metadata) = 248
  assert.equal(hex(bytes.subarray(0, 3)), '0af801');
  const at = 3 + 16;
  assert.equal(hex(bytes.subarray(at, at + 3)), '12c801');
  assert.equal(bytes.length, 3 + 248);
});

test('cuts a payload when the next series would pass the point limit', () => {
  const encoder = new SeriesV2Encoder(config({ maxSeriesPointsPerPayload: 5 }), identity);
  const three = { ...pageViews, points: [1, 2, 3].map((t) => ({ timestamp: t, value: t })) };
  assert.equal(encoder.add(three), 'ok');
  assert.equal(encoder.add(three), 'flush-required');
  assert.equal(encoder.pendingItems, 1);
  const [first] = encoder.finish();
  assert.equal(first!.points, 3);
  assert.equal(encoder.add(three), 'ok');
  assert.equal(encoder.counters.get('PayloadFull'), 1);
});

test('drops and counts a series with more points than a payload may hold', () => {
  const encoder = new SeriesV2Encoder(config({ maxSeriesPointsPerPayload: 5 }), identity);
  const six = { ...pageViews, points: [1, 2, 3, 4, 5, 6].map((t) => ({ timestamp: t, value: t })) };
  assert.equal(encoder.add(six), 'ok');
  assert.equal(encoder.counters.get('ItemTooBig'), 1);
  assert.equal(encoder.pendingItems, 0);
  assert.deepEqual(encoder.finish(), []);
});

test('cuts payloads at the compressed limit exactly, without compression', () => {
  // Each series is 69 bytes: identity compression fits 7 (483 bytes) in 500, not 8 (552).
  const encoder = new SeriesV2Encoder(config({ maxSeriesPayloadSize: 500 }), identity);
  const payloads = encodeAll(encoder, Array.from({ length: 20 }, () => pageViews));
  assert.deepEqual(
    payloads.map((p) => [p.items, p.body.length]),
    [
      [7, 483],
      [7, 483],
      [6, 414],
    ],
  );
  assert.equal(encoder.counters.get('PayloadFull'), 2);
});

test('cuts payloads at the uncompressed limit', () => {
  const encoder = new SeriesV2Encoder(config({ maxSeriesUncompressedPayloadSize: 200 }), zstd);
  const payloads = encodeAll(encoder, Array.from({ length: 5 }, () => pageViews));
  assert.deepEqual(
    payloads.map((p) => [p.items, p.uncompressedBytes]),
    [
      [2, 138],
      [2, 138],
      [1, 69],
    ],
  );
});

test('drops and counts a series too big for an empty payload, and keeps encoding the next ones', () => {
  const encoder = new SeriesV2Encoder(config({ maxSeriesPayloadSize: 500 }), identity);
  assert.equal(encoder.add(pageViews), 'ok');
  assert.equal(encoder.add({ ...pageViews, name: 'x'.repeat(600) }), 'ok');
  assert.equal(encoder.counters.get('ItemTooBig'), 1);
  assert.equal(encoder.add(pageViews), 'ok');
  const [p] = encoder.finish();
  assert.equal(p!.items, 2);
});

test('packs compressible series far past the compressed limit in uncompressed bytes', () => {
  const limit = 4000;
  for (const c of [zstd, zlib]) {
    const encoder = new SeriesV2Encoder(config({ maxSeriesPayloadSize: limit }), c);
    const series = Array.from({ length: 2000 }, (_, i) => ({ ...pageViews, tags: [`env:prod`, `shard:${i % 10}`] }));
    const payloads = encodeAll(encoder, series);
    for (const p of payloads) {
      assert.ok(p.body.length <= limit, `${p.body.length} > ${limit}`);
      assert.equal(decompress(p).length, p.uncompressedBytes);
    }
    const first = payloads[0]!;
    assert.ok(first.uncompressedBytes > 5 * limit, `only ${first.uncompressedBytes} uncompressed bytes`);
    assert.equal(
      payloads.reduce((n, p) => n + p.items, 0),
      2000,
    );
    assert.ok(encoder.counters.get('TotalCompressCycles') > payloads.length);
  }
});

test('sends a zstd payload that was cut into segments as one frame when that is smaller', () => {
  const encoder = new SeriesV2Encoder(config({ maxSeriesPayloadSize: 4000 }), zstd);
  const series = Array.from({ length: 600 }, (_, i) => ({ ...pageViews, tags: ['env:prod', `shard:${i % 10}`] }));
  const [first] = encodeAll(encoder, series);
  const raw = decompress(first!);
  assert.equal(first!.body.length, compressOnce(zstd, raw).length);
  // One frame: the zstd magic number (28 b5 2f fd) opens the body and nothing else does.
  assert.equal(Buffer.from(first!.body).indexOf(Buffer.of(0x28, 0xb5, 0x2f, 0xfd), 1), -1);
  assert.ok(first!.body.length <= 4000);
});

test('drops and counts a series whose type is not gauge, rate or count', () => {
  const encoder = new SeriesV2Encoder(config(), identity);
  assert.equal(encoder.add({ ...pageViews, type: 'histogram' as never }), 'ok');
  assert.equal(encoder.counters.get('InvalidItem'), 1);
  assert.deepEqual(encoder.finish(), []);
});

test('drops and counts a series with a timestamp that is not a finite number', () => {
  const encoder = new SeriesV2Encoder(config(), identity);
  assert.equal(encoder.add({ ...pageViews, points: [{ timestamp: Number.POSITIVE_INFINITY, value: 1 }] }), 'ok');
  assert.equal(encoder.counters.get('InvalidItem'), 1);
  assert.equal(encoder.pendingItems, 0);
});

test('is reusable after finish', () => {
  const encoder = new SeriesV2Encoder(config(), zstd);
  encoder.add(pageViews);
  const [a] = encoder.finish();
  encoder.add(pageViews);
  const [b] = encoder.finish();
  assert.deepEqual(decompress(a!), decompress(b!));
  assert.equal(encoder.counters.get('TotalPayloads'), 2);
  assert.equal(encoder.counters.get('ItemsEncoded'), 2);
});
