import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AttributeAnyValue, AttributeArrayValue, Span, SpanEvent, SpanLink, TraceChunk, TracerPayload } from '@kennel/core';
import {
  TRACE_DECODE_ERROR_COUNTERS,
  createTraceDecodeErrorCounters,
  decodeClientStats,
  decodeJsonTraces,
  decodeTraces,
  type TraceDecodeFailure,
} from '../src/index.js';
import { chunkOf, encodeV04, encodeV05, encodeV07, numRuns, payloadOf } from './decode-support.js';

const REASONS = new Set<string>(TRACE_DECODE_ERROR_COUNTERS);
const counters = createTraceDecodeErrorCounters();

function wellFormed(r: { ok: true } | TraceDecodeFailure): void {
  if (r.ok) return;
  assert.ok(REASONS.has(r.reason), `unknown reason ${r.reason}`);
  assert.notEqual(r.reason, 'internal', r.message);
  assert.equal(typeof r.message, 'string');
  assert.ok(r.message.length > 0);
}

function decodeAll(body: Uint8Array): void {
  for (const v of ['v0.3', 'v0.4', 'v0.5', 'v0.7'] as const) wellFormed(decodeTraces(body, v, {}, { counters }));
  for (const v of ['v0.1', 'v0.4'] as const) wellFormed(decodeJsonTraces(body, v, {}, { counters }));
  wellFormed(decodeClientStats(body, { counters }));
}

// ---------------------------------------------------------------------------------------------
// Generators

const U64 = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom(0n, 1n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n));
const I64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const text = fc.oneof(
  fc.constantFrom('', 'web', 'prod', 'GET', '200', 'express.request', 'a-string-longer-than-sixty-four-bytes-so-that-the-cache-skips-it-entirely'),
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ minLength: 60, maxLength: 90 }),
);
const key = fc.oneof(fc.constantFrom('env', 'version', 'span.kind', 'http.method', 'component', '_dd.p.tid', '__proto__', '0'), fc.string({ maxLength: 10 }), fc.string({ unit: 'grapheme', maxLength: 6 }));
const double = fc.double().map((v) => (Object.is(v, -0) ? 0 : v));
const strMap = fc.dictionary(key, text, { maxKeys: 12, noNullPrototype: true });
const numMap = fc.dictionary(key, double, { maxKeys: 6, noNullPrototype: true });

const arrayValue: fc.Arbitrary<AttributeArrayValue> = fc.oneof(
  text.map((stringValue) => ({ type: 0 as const, stringValue })),
  fc.boolean().map((boolValue) => ({ type: 1 as const, boolValue })),
  I64.map((intValue) => ({ type: 2 as const, intValue })),
  double.map((doubleValue) => ({ type: 3 as const, doubleValue })),
);
const anyValue: fc.Arbitrary<AttributeAnyValue> = fc.oneof(
  arrayValue,
  fc.array(arrayValue, { maxLength: 3 }).map((values) => ({ type: 4 as const, arrayValue: values })),
);
const link: fc.Arbitrary<SpanLink> = fc.record({
  traceId: U64,
  traceIdHigh: U64,
  spanId: U64,
  attributes: strMap,
  tracestate: text,
  flags: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
}, { noNullPrototype: true });
const event: fc.Arbitrary<SpanEvent> = fc.record({
  timeUnixNano: U64,
  name: text,
  attributes: fc.dictionary(key, anyValue, { maxKeys: 4, noNullPrototype: true }),
}, { noNullPrototype: true });

function spanArb(full: boolean): fc.Arbitrary<Span> {
  return fc.record({
    service: text,
    name: text,
    resource: text,
    traceId: U64,
    spanId: U64,
    parentId: U64,
    start: I64,
    duration: fc.maxSafeInteger(),
    error: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    type: text,
    meta: strMap,
    metrics: numMap,
    metaStruct: full ? fc.dictionary(key, fc.uint8Array({ maxLength: 16 }), { maxKeys: 2, noNullPrototype: true }) : fc.constant({}),
    spanLinks: full ? fc.array(link, { maxLength: 2 }) : fc.constant([]),
    spanEvents: full ? fc.array(event, { maxLength: 2 }) : fc.constant([]),
  }, { noNullPrototype: true });
}

const traces = (full: boolean): fc.Arbitrary<Span[][]> => fc.array(fc.array(spanArb(full), { maxLength: 5 }), { maxLength: 4 });

const chunk: fc.Arbitrary<TraceChunk> = fc.record({
  priority: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  origin: text,
  spans: fc.array(spanArb(true), { maxLength: 4 }),
  tags: strMap,
  droppedTrace: fc.boolean(),
}, { noNullPrototype: true });
const tracerPayload: fc.Arbitrary<TracerPayload> = fc.record({
  containerId: text,
  languageName: text,
  languageVersion: text,
  tracerVersion: text,
  runtimeId: text,
  chunks: fc.array(chunk, { maxLength: 3 }),
  tags: strMap,
  env: text,
  hostname: text,
  appVersion: text,
}, { noNullPrototype: true });

/** Same data and the same key order in every meta and metrics object. */
function assertSameKeyOrder(got: TracerPayload, want: TracerPayload): void {
  got.chunks.forEach((c, i) =>
    c.spans.forEach((s, j) => {
      const w = want.chunks[i]!.spans[j]!;
      assert.deepEqual(Object.keys(s.meta), Object.keys(w.meta));
      assert.deepEqual(Object.keys(s.metrics), Object.keys(w.metrics));
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Properties

test('arbitrary bytes never throw: every decoder returns a payload or a named reason', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (body) => decodeAll(body)), { numRuns });
});

test('mutated and truncated valid payloads never throw', () => {
  const mutation = fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), cut: fc.nat() }, { noNullPrototype: true });
  fc.assert(
    fc.property(traces(true), tracerPayload, fc.array(mutation, { minLength: 1, maxLength: 4 }), (t, p, muts) => {
      for (const body of [encodeV04(t), encodeV05(t), encodeV07(p)]) {
        if (body.length === 0) continue;
        const m = body.slice();
        for (const { at, byte } of muts) m[at % m.length] = byte;
        decodeAll(m);
        decodeAll(body.subarray(0, muts[0]!.cut % body.length));
      }
    }),
    { numRuns },
  );
});

test('arbitrary JSON text never throws', () => {
  const enc = new TextEncoder();
  fc.assert(
    fc.property(fc.oneof(fc.json(), fc.string()), (s) => {
      const body = enc.encode(s);
      for (const v of ['v0.1', 'v0.2', 'v0.3', 'v0.4'] as const) wellFormed(decodeJsonTraces(body, v, {}, { counters }));
    }),
    { numRuns },
  );
});

test('v0.4: traces encoded with msgpackr decode to the same spans, ids, meta_struct, links and events included', () => {
  fc.assert(
    fc.property(traces(true), (t) => {
      const r = decodeTraces(encodeV04(t), 'v0.4', { lang: 'nodejs', containerId: 'c' });
      if (!r.ok) assert.fail(`${r.reason}: ${r.message}`);
      const want = payloadOf(t.map((spans) => chunkOf(spans)), { languageName: 'nodejs', containerId: 'c' });
      assert.deepStrictEqual(r.payload, want);
      assertSameKeyOrder(r.payload, want);
      assert.equal(r.spans, t.reduce((n, x) => n + x.length, 0));
    }),
    { numRuns },
  );
});

test('v0.5: traces encoded with msgpackr (with a generated string table) decode to the same spans', () => {
  fc.assert(
    fc.property(traces(false), (t) => {
      const r = decodeTraces(encodeV05(t), 'v0.5', { tracerVersion: '1.0' });
      if (!r.ok) assert.fail(`${r.reason}: ${r.message}`);
      const want = payloadOf(t.map((spans) => chunkOf(spans)), { tracerVersion: '1.0' });
      assert.deepStrictEqual(r.payload, want);
      assertSameKeyOrder(r.payload, want);
    }),
    { numRuns },
  );
});

test('v0.7: tracer payloads encoded with msgpackr decode to themselves', () => {
  fc.assert(
    fc.property(tracerPayload, (p) => {
      const r = decodeTraces(encodeV07(p), 'v0.7', { lang: 'ignored' });
      if (!r.ok) assert.fail(`${r.reason}: ${r.message}`);
      assert.deepStrictEqual(r.payload, p);
      assertSameKeyOrder(r.payload, p);
    }),
    { numRuns },
  );
});
