import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTraceDecodeErrorCounters, decodeTraces, type TraceDecodeResult } from '../src/index.js';
import { bytes, chunkOf, encodeV05, encodeV07, fixstr, pack, payloadOf, span, spanWire } from './decode-support.js';

function ok(r: TraceDecodeResult) {
  if (!r.ok) assert.fail(`expected ok, got ${r.reason}: ${r.message}`);
  return r;
}

function rejects(body: Uint8Array, version: 'v0.5' | 'v0.7', reason: string, message?: RegExp) {
  const counters = createTraceDecodeErrorCounters();
  const r = decodeTraces(body, version, {}, { counters });
  assert.equal(r.ok, false, 'expected a failure');
  if (r.ok) return;
  assert.equal(r.reason, reason, r.message);
  if (message) assert.match(r.message, message);
  assert.equal(counters.get(r.reason), 1);
}

/** A v0.5 span array with the given 12 elements (raw bytes each). */
function v05(table: string[], ...elements: Uint8Array[]): Uint8Array {
  return bytes(0x92, 0x90 | table.length, ...table.map(fixstr), 0x91, 0x91, 0x90 | elements.length, ...elements);
}

const TABLE = ['', 'svc', 'op', 'res', 'k', 'v', 'web'];
const FIELDS = (): Uint8Array[] => [
  bytes(1),
  bytes(2),
  bytes(3),
  bytes(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
  bytes(0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe),
  bytes(0),
  bytes(0xcf, 0x18, 0x0c, 0x9b, 0x2b, 0x5c, 0x00, 0x00, 0x00),
  bytes(0xcd, 0x03, 0xe8),
  bytes(1),
  bytes(0x81, 4, 5),
  bytes(0x81, 4, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0),
  bytes(6),
];

test('a v0.5 payload decodes through its string table, with the header metadata', () => {
  const a = span({ spanId: 2n ** 64n - 1n, traceId: 2n ** 63n, parentId: 5n, meta: { env: 'prod', '_dd.p.tid': 'abcdef0123456789' }, metrics: { x: 1.25, y: -3 } });
  const b = span({ service: 'db', name: 'pg.query', meta: {}, metrics: {} });
  const r = ok(decodeTraces(encodeV05([[a, b], []]), 'v0.5', { lang: 'python', tracerVersion: '2.1' }));
  assert.equal(r.spans, 2);
  assert.deepEqual(r.payload, payloadOf([chunkOf([a, b]), chunkOf([])], { languageName: 'python', tracerVersion: '2.1' }));
});

test('v0.5 hand-written span: every field by its index', () => {
  const s = ok(decodeTraces(v05(TABLE, ...FIELDS()), 'v0.5')).payload.chunks[0]!.spans[0]!;
  assert.deepEqual(
    s,
    span({
      service: 'svc',
      name: 'op',
      resource: 'res',
      traceId: 2n ** 64n - 1n,
      spanId: 2n ** 64n - 2n,
      parentId: 0n,
      start: 0x180c9b2b5c000000n,
      duration: 1000,
      error: 1,
      meta: { k: 'v' },
      metrics: { k: 1.5 },
      type: 'web',
    }),
  );
});

test('a v0.5 span that is not exactly 12 elements is refused', () => {
  const f = FIELDS();
  rejects(v05(TABLE, ...f.slice(0, 11)), 'v0.5', 'v05_span_length', /encoded span needs exactly 12 elements in array, got 11/);
  rejects(v05(TABLE, ...f, bytes(0)), 'v0.5', 'v05_span_length', /got 13/);
});

test('a v0.5 string index out of the table is refused; indexes must be unsigned integers', () => {
  const f = FIELDS();
  f[0] = bytes(7);
  rejects(v05(TABLE, ...f), 'v0.5', 'v05_string_index', /service: string index 7 out of range \(string table length 7\)/);
  f[0] = bytes(0xc0);
  rejects(v05(TABLE, ...f), 'v0.5', 'wrong_type', /service: expected an unsigned integer, got nil/);
  f[0] = bytes(0xff);
  rejects(v05(TABLE, ...f), 'v0.5', 'overflow', /negative/);
  f[0] = fixstr('svc');
  rejects(v05(TABLE, ...f), 'v0.5', 'wrong_type');
  const g = FIELDS();
  g[9] = bytes(0x81, 4, 9);
  rejects(v05(TABLE, ...g), 'v0.5', 'v05_string_index', /meta value/);
});

test('v0.5 meta and metrics must be maps (nil is refused); ids may be nil', () => {
  const f = FIELDS();
  f[9] = bytes(0xc0);
  rejects(v05(TABLE, ...f), 'v0.5', 'wrong_type', /meta: expected a map, got nil/);
  const g = FIELDS();
  g[3] = bytes(0xc0);
  g[6] = bytes(0xc0);
  const s = ok(decodeTraces(v05(TABLE, ...g), 'v0.5')).payload.chunks[0]!.spans[0]!;
  assert.equal(s.traceId, 0n);
  assert.equal(s.start, 0n);
});

test('the v0.5 string table takes str, bin and nil, repaired like any string', () => {
  const body = bytes(0x92, 0x93, 0xc0, 0xc4, 1, 0xff, fixstr('x'), 0x91, 0x91, 0x9c, 1, 2, 1, 0, 0, 0, 0, 0, 0, 0x80, 0x80, 0);
  const s = ok(decodeTraces(body, 'v0.5')).payload.chunks[0]!.spans[0]!;
  assert.equal(s.service, '\ufffd');
  assert.equal(s.name, 'x');
});

test('v0.5 headers over 25,000,000 are "too long payload"', () => {
  rejects(bytes(0x92, 0xdd, 0x01, 0x7d, 0x78, 0x41), 'v0.5', 'too_long', /too long payload/);
  rejects(bytes(0x92, 0xdd, 0x00, 0x00, 0x00, 0x09), 'v0.5', 'truncated');
});

test('a v0.7 payload is taken as it is, headers ignored', () => {
  const p = payloadOf(
    [
      chunkOf([span(), span({ spanId: 3n })], { priority: 2, origin: 'synthetics', tags: { '_dd.p.dm': '-4' }, droppedTrace: true }),
      chunkOf([span({ traceId: 9n })], { priority: -1 }),
    ],
    { containerId: 'c1', languageName: 'go', languageVersion: '1.22', tracerVersion: '1.60.0', runtimeId: 'r', tags: { a: 'b' }, env: 'prod', hostname: 'h', appVersion: '3' },
  );
  const r = ok(decodeTraces(encodeV07(p), 'v0.7', { lang: 'ignored', containerId: 'ignored' }));
  assert.equal(r.spans, 3);
  assert.deepEqual(r.payload, p);
});

test('v0.7: missing fields are zero values (a chunk without priority has priority 0); unknown keys skipped; nil chunks and spans dropped', () => {
  const r = ok(decodeTraces(pack({ container_debug: { x: [1, 2] }, chunks: [null, { spans: [null, spanWire(span())], extra: 1 }] }), 'v0.7'));
  assert.deepEqual(r.payload, payloadOf([{ priority: 0, origin: '', spans: [span()], tags: {}, droppedTrace: false }]));
});

test('v0.7 field types are checked', () => {
  rejects(pack({ chunks: [{ priority: 1.5 }] }), 'v0.7', 'wrong_type', /priority: expected an integer, got float64 \(0xcb\) in trace 0/);
  rejects(pack({ chunks: [{ dropped_trace: 1 }] }), 'v0.7', 'wrong_type', /dropped_trace: expected a bool/);
  rejects(pack({ chunks: {} }), 'v0.7', 'wrong_type', /chunks: expected an array/);
  rejects(pack([]), 'v0.7', 'wrong_type', /tracer payload: expected a map/);
  rejects(bytes(0x81, 0x01, 0x02), 'v0.7', 'wrong_type', /tracer payload key/);
});
