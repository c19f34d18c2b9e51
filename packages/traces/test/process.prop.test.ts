import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Span } from '@kennel/core';
import {
  MAX_META_KEY_LEN,
  MAX_META_VAL_LEN,
  MAX_NAME_LEN,
  MAX_SERVICE_LEN,
  MAX_TYPE_LEN,
  TraceProcessor,
  YEAR_2000_NS,
  normalizeName,
  normalizeService,
  normalizeTag,
  normalizeTagValue,
  truncateUTF8,
  utf8Length,
} from '../src/index.js';
import { NOW_NS, chunk, tracerPayload } from './process-support.js';

const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 200);
const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ minLength: 90, maxLength: 300 }));

test('tag normalisation is idempotent and keeps at most 200 characters', () => {
  fc.assert(
    fc.property(text, (s) => {
      for (const f of [normalizeTag, normalizeTagValue]) {
        const once = f(s);
        assert.equal(f(once), once);
        assert.ok([...once].length <= 200);
        assert.ok(!once.endsWith('_'));
      }
    }),
    { numRuns },
  );
});

test('truncateUTF8 returns the longest prefix of whole characters within the limit', () => {
  fc.assert(
    fc.property(text, fc.nat(400), (s, limit) => {
      const t = truncateUTF8(s, limit);
      assert.ok(s.startsWith(t));
      assert.ok(utf8Length(t) <= limit || t === s);
      if (t !== s) {
        const next = String.fromCodePoint(s.codePointAt(t.length)!);
        assert.ok(utf8Length(t + next) > limit);
      }
    }),
    { numRuns },
  );
});

test('names and services come out non-empty and within their byte limits', () => {
  fc.assert(
    fc.property(text, (s) => {
      const n = normalizeName(s).value;
      assert.ok(n.length > 0 && utf8Length(n) <= MAX_NAME_LEN);
      assert.match(n, /^[A-Za-z][A-Za-z0-9._]*$/);
      const svc = normalizeService(s, 'go').value;
      assert.ok(svc.length > 0 && utf8Length(svc) <= MAX_SERVICE_LEN + 'unnamed-go-service'.length);
    }),
    { numRuns },
  );
});

const id = fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 5n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
const span: fc.Arbitrary<Span> = fc.record({
  service: text,
  name: text,
  resource: text,
  traceId: fc.oneof(fc.constant(7n), id),
  spanId: id,
  parentId: id,
  start: fc.oneof(fc.constant(42n), fc.bigInt({ min: YEAR_2000_NS, max: NOW_NS })),
  duration: fc.oneof(fc.integer({ min: -1000, max: 10 ** 12 }), fc.constant(2 ** 63)),
  error: fc.constantFrom(0, 1),
  type: text,
  meta: fc.dictionary(text, text, { maxKeys: 4 }),
  metrics: fc.dictionary(fc.constantFrom('_sampling_priority_v1', '_sample_rate', '_dd.measured', 'x'), fc.double({ noNaN: true }), { maxKeys: 3 }),
  metaStruct: fc.constant({}),
  spanLinks: fc.constant([]),
  spanEvents: fc.constant([]),
});

test('processing never throws and leaves every kept span normalised', () => {
  fc.assert(
    fc.property(fc.array(fc.array(span, { maxLength: 4 }), { maxLength: 4 }), fc.integer({ min: -2, max: 2 }), (chunks, priority) => {
      const p = new TraceProcessor({ now: () => NOW_NS });
      const tp = tracerPayload(chunks.map((spans) => chunk(spans, { priority })));
      const { payload, stats } = p.process(tp);
      for (const c of [...payload.chunks, ...stats.map((s) => s.chunk)]) {
        for (const s of c.spans) {
          assert.ok(s.service.length > 0 && s.name.length > 0 && s.resource.length > 0);
          assert.ok(s.traceId !== 0n && s.spanId !== 0n);
          assert.ok(s.duration >= 0 && s.start >= YEAR_2000_NS);
          assert.ok(utf8Length(s.type) <= MAX_TYPE_LEN);
          for (const [k, v] of Object.entries(s.meta)) {
            assert.ok(utf8Length(k) <= MAX_META_KEY_LEN + 3);
            assert.ok(utf8Length(v) <= MAX_META_VAL_LEN + 3);
          }
        }
      }
      const c = p.counters.snapshot();
      assert.equal(c.TracesReceived, chunks.length);
      assert.ok(c.TracesKept <= chunks.length);
    }),
    { numRuns },
  );
});
