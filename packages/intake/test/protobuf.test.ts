import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { decodeSeriesV2, decodeSketches } from '../src/index.js';

const root = protobuf.parse(
  readFileSync(new URL('../../../forwarder/test/fixtures/agent_payload.proto', import.meta.url), 'utf8'),
).root;
const MetricPayload = root.lookupType('datadog.agentpayload.MetricPayload');
const SketchPayload = root.lookupType('datadog.agentpayload.SketchPayload');

const hex = (s: string): Uint8Array => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// The agent's bytes for page.views (see the forwarder's series-v2 test), with a device resource.
const agentSeries = hex(`
  0a53
  0a0e 0a04 686f7374 1206 6d79686f7374
  0a0e 0a06 646576696365 1204 73646131
  120a 706167652e7669657773
  1a08 656e763a70726f64
  2802 400a
  220f 1080e2cfaa06 099a9999999999b93f
  4a06 0a04 200a 280a`);

test('reads the series the agent writes', () => {
  assert.deepStrictEqual(decodeSeriesV2(agentSeries), {
    ok: true,
    value: [
      {
        name: 'page.views',
        host: 'myhost',
        tags: ['env:prod'],
        type: 'rate',
        interval: 10,
        points: [{ timestamp: 1700000000, value: 0.1 }],
        device: 'sda1',
        origin: { product: 10, category: 10, service: 0 },
      },
    ],
  });
});

test('reads what protobufjs writes, fields in schema order, extra resources and unknown fields included', () => {
  const body = MetricPayload.encode(
    MetricPayload.fromObject({
      series: [
        {
          resources: [
            { type: 'cluster', name: 'c1' },
            { type: 'host', name: 'h' },
          ],
          metric: 'm',
          tags: ['a', 'b'],
          points: [
            { value: -2.5, timestamp: -3 },
            { value: 1, timestamp: 4 },
          ],
          type: 1,
          unit: 'byte',
          sourceTypeName: 'check',
          interval: 15,
        },
      ],
    }),
  ).finish();
  // An unknown field (number 15, varint) at the end of the payload is skipped.
  const withUnknown = Buffer.concat([body, hex('7801')]);
  assert.deepStrictEqual(decodeSeriesV2(withUnknown), {
    ok: true,
    value: [
      {
        name: 'm',
        host: 'h',
        tags: ['a', 'b'],
        type: 'count',
        interval: 15,
        points: [
          { timestamp: -3, value: -2.5 },
          { timestamp: 4, value: 1 },
        ],
        sourceTypeName: 'check',
        unit: 'byte',
        resources: [{ type: 'cluster', name: 'c1' }],
      },
    ],
  });
});

test('rejects a series of metric type UNSPECIFIED', () => {
  const body = MetricPayload.encode(MetricPayload.fromObject({ series: [{ metric: 'm', type: 0 }] })).finish();
  const r = decodeSeriesV2(body);
  assert.deepStrictEqual(r, { ok: false, reason: 'invalid_value', message: 'series "m" has metric type 0 at byte 5' });
});

test('reports truncated and malformed protobuf instead of throwing', () => {
  const cases: [string, string][] = [
    ['0a53 0a0e', 'truncated'], // the series claims 83 bytes
    ['0a05 12ff', 'truncated'], // a varint runs off the end
    ['0a0b 12ffffffffffffffffffff01', 'invalid_varint'], // 11-byte varint
    ['0a02 1201', 'truncated'], // metric claims a byte that is not there
    ['0a02 1001', 'invalid_wire_type'], // metric (2) as a varint
    ['0b', 'invalid_wire_type'], // wire type 3 (group)
    ['00', 'invalid_wire_type'], // field 0
  ];
  for (const [bytes, reason] of cases) {
    const r = decodeSeriesV2(hex(bytes));
    assert.equal(r.ok, false, bytes);
    assert.equal(!r.ok && r.reason, reason, bytes);
  }
});

test('reads an empty payload as no series', () => {
  assert.deepStrictEqual(decodeSeriesV2(new Uint8Array(0)), { ok: true, value: [] });
});

test('reads sketches, packed or not, and skips the legacy distributions', () => {
  const body = SketchPayload.encode(
    SketchPayload.fromObject({
      sketches: [
        {
          metric: 'latency',
          host: 'h',
          tags: ['t'],
          distributions: [{ ts: 1, cnt: 2, v: [1.5] }],
          dogsketches: [{ ts: 1700000000, cnt: 5, min: 1, max: 4, avg: 2, sum: 10, k: [-1, 0, 5], n: [3, 1, 65535] }],
          metadata: { origin: { originProduct: 10, originCategory: 10 } },
        },
      ],
      metadata: {},
    }),
  ).finish();
  const expected = [
    {
      name: 'latency',
      host: 'h',
      tags: ['t'],
      interval: 0,
      points: [{ timestamp: 1700000000, count: 5, min: 1, max: 4, sum: 10, avg: 2, keys: [-1, 0, 5], counts: [3, 1, 65535] }],
      origin: { product: 10, category: 10, service: 0 },
    },
  ];
  assert.deepStrictEqual(decodeSketches(body), { ok: true, value: expected });
  // The same dogsketch with k and n unpacked (one key per value), as another writer may send it.
  const w = protobuf.Writer.create();
  w.uint32(0x0a).fork();
  w.uint32(0x0a).string('latency').uint32(0x12).string('h').uint32(0x22).string('t');
  w.uint32(0x3a).fork();
  w.uint32(0x08).int64(1700000000).uint32(0x10).int64(5);
  w.uint32(0x19).double(1).uint32(0x21).double(4).uint32(0x29).double(2).uint32(0x31).double(10);
  for (const k of [-1, 0, 5]) w.uint32(0x38).sint32(k);
  for (const n of [3, 1, 65535]) w.uint32(0x40).uint32(n);
  w.ldelim();
  w.uint32(0x42).fork().uint32(0x0a).fork().uint32(0x20).uint32(10).uint32(0x28).uint32(10).ldelim().ldelim();
  w.ldelim();
  const unpacked = w.finish();
  assert.deepStrictEqual(decodeSketches(unpacked), { ok: true, value: expected });
});

test('rejects a sketch whose keys and counts differ in length', () => {
  const body = SketchPayload.encode(SketchPayload.fromObject({ sketches: [{ metric: 's', dogsketches: [{ k: [1, 2], n: [1] }] }] })).finish();
  const r = decodeSketches(body);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.reason, 'invalid_value');
});
