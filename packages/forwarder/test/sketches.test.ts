import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SketchSeries } from '@kennel/core';
import { encodeAll, SketchEncoder } from '../src/index.js';
import { config, decompress, hex, identity, zstd } from './helpers.js';

const latency: SketchSeries = {
  name: 'latency',
  host: 'h',
  tags: ['env:prod'],
  interval: 10,
  points: [
    { timestamp: 1700000000, count: 5, min: 1, max: 4, sum: 10, avg: 2, keys: [-1, 0, 5], counts: [3, 1, 65535] },
  ],
};

const f64 = (v: number): string => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return b.toString('hex');
};

test('writes a sketch field by field as the agent does, then the empty metadata footer', () => {
  const encoder = new SketchEncoder(config(), identity);
  assert.equal(encoder.add(latency), 'ok');
  const [p] = encoder.finish();
  const expected = [
    '0a', '58', // SketchPayload.sketches, 88 bytes
    '0a07' + hex(Buffer.from('latency')), // metric
    '1201' + hex(Buffer.from('h')), // host
    '2208' + hex(Buffer.from('env:prod')), // tags = 4
    '3a38', // dogsketches = 7, 56 bytes
    '0880e2cfaa06', // ts
    '1005', // cnt
    '19' + f64(1), '21' + f64(4), '29' + f64(2), '31' + f64(10), // min, max, avg, sum
    '3a03' + '01000a', // k: zig-zag -1 -> 1, 0 -> 0, 5 -> 10, packed
    '4205' + '0301ffff03', // n: packed uint32
    '4206', '0a04', '200a', '280a', // metadata = 8: origin product 10, category 10
    '1200', // footer: SketchPayload.metadata = 2, empty
  ].join('');
  assert.equal(hex(decompress(p!)), expected);
  assert.equal(p!.endpoint, '/api/beta/sketches');
  assert.equal(p!.contentType, 'application/x-protobuf');
  assert.equal(p!.items, 1);
  assert.equal(p!.points, 1);
});

test('omits zero fields and empty bins, as molecule does', () => {
  const encoder = new SketchEncoder(config(), identity);
  encoder.add({
    name: 'z',
    host: '',
    tags: [''],
    interval: 0,
    points: [{ timestamp: 0, count: 0, min: 0, max: -0, sum: 0, avg: 0, keys: [], counts: [] }],
    origin: { product: 10, category: 11, service: 7 },
  });
  const [p] = encoder.finish();
  assert.equal(hex(decompress(p!)), '0a' + '0f' + '0a017a' + '3a00' + '4208' + '0a06200a280b3007' + '1200');
});

test('takes Int32Array keys and Uint32Array counts', () => {
  const encoder = new SketchEncoder(config(), identity);
  encoder.add({ ...latency, points: [{ ...latency.points[0]!, keys: Int32Array.of(-1, 0, 5), counts: Uint32Array.of(3, 1, 65535) }] });
  const typed = hex(decompress(encoder.finish()[0]!));
  encoder.add(latency);
  assert.equal(typed, hex(decompress(encoder.finish()[0]!)));
});

test('drops and counts a sketch whose keys and counts differ in length', () => {
  const encoder = new SketchEncoder(config(), identity);
  assert.equal(encoder.add({ ...latency, points: [{ ...latency.points[0]!, counts: [1] }] }), 'ok');
  assert.equal(encoder.counters.get('InvalidItem'), 1);
  assert.deepEqual(encoder.finish(), []);
});

test('cuts payloads at serializer_max_payload_size, footer included', () => {
  // 90 bytes per sketch; a payload of n sketches is 90n + 2: 5 fit in 460, 6 (542) do not.
  const encoder = new SketchEncoder(config({ maxPayloadSize: 460 }), identity);
  const payloads = encodeAll(encoder, Array.from({ length: 12 }, () => latency));
  assert.deepEqual(
    payloads.map((p) => [p.items, p.body.length]),
    [
      [5, 452],
      [5, 452],
      [2, 182],
    ],
  );
});

test('cuts payloads at serializer_max_uncompressed_payload_size', () => {
  const encoder = new SketchEncoder(config({ maxUncompressedPayloadSize: 300 }), zstd);
  const payloads = encodeAll(encoder, Array.from({ length: 7 }, () => latency));
  assert.deepEqual(
    payloads.map((p) => [p.items, p.uncompressedBytes]),
    [
      [3, 272],
      [3, 272],
      [1, 92],
    ],
  );
});

test('drops and counts a sketch too big for an empty payload', () => {
  const encoder = new SketchEncoder(config({ maxPayloadSize: 200 }), identity);
  assert.equal(encoder.add({ ...latency, tags: ['t'.repeat(300)] }), 'ok');
  assert.equal(encoder.counters.get('ItemTooBig'), 1);
  assert.equal(encoder.add(latency), 'ok');
  assert.equal(encoder.finish()[0]!.items, 1);
});
