import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLIENT_RATE_KEY,
  DEFAULT_SERVICE_NAME,
  DEFAULT_SPAN_NAME,
  MAX_META_VAL_LEN,
  PRIORITY_RATE_KEY,
  TraceProcessor,
  computeTopLevel,
  getMetaFromTrace,
  getRoot,
  hasTopLevel,
  isMeasured,
  isPartialSnapshot,
  setChunkAttributes,
  updateTracerTopLevel,
} from '../src/index.js';
import { NOW_NS, chunk, span, testSpan, tracerPayload } from './process-support.js';

function processor(): TraceProcessor {
  return new TraceProcessor({ now: () => NOW_NS });
}

/** The non-zero counters of a processor. */
function fixes(p: TraceProcessor): Record<string, number> {
  const out: Record<string, number> = {};
  for (const set of [p.spansMalformed, p.tracesDropped]) {
    for (const [k, v] of Object.entries(set.snapshot())) if (v !== 0) out[k] = v;
  }
  return out;
}

// Cases from DataDog/datadog-agent pkg/trace/agent/normalizer_test.go.

test('a well-formed span passes normalisation untouched and counts nothing (TestNormalizeOK)', () => {
  const p = processor();
  const s = testSpan();
  assert.equal(p.normalizeSpan(s, ''), true);
  assert.deepStrictEqual(s, testSpan());
  assert.deepStrictEqual(fixes(p), {});
});

test('an empty service becomes unnamed-service, or unnamed-<lang>-service (TestNormalizeEmptyService*)', () => {
  const p = processor();
  const a = testSpan({ service: '' });
  p.normalizeSpan(a, '');
  assert.equal(a.service, DEFAULT_SERVICE_NAME);
  const b = testSpan({ service: '' });
  p.normalizeSpan(b, 'java');
  assert.equal(b.service, 'unnamed-java-service');
  assert.deepStrictEqual(fixes(p), { service_empty: 2 });
});

test('a long service is cut to 100 bytes and counted as service_truncate (TestNormalizeLongService)', () => {
  const p = processor();
  const s = testSpan({ service: 'CAMEMBERT'.repeat(100) });
  p.normalizeSpan(s, '');
  assert.equal(s.service, 'camembert'.repeat(100).slice(0, 100));
  assert.deepStrictEqual(fixes(p), { service_truncate: 1 });
});

test('an empty, long or invalid name is fixed and counted (TestNormalizeEmptyName, LongName, NameNoAlphanumeric)', () => {
  const p = processor();
  const a = testSpan({ name: '' });
  p.normalizeSpan(a, '');
  assert.equal(a.name, DEFAULT_SPAN_NAME);
  const b = testSpan({ name: 'CAMEMBERT'.repeat(100) });
  p.normalizeSpan(b, '');
  assert.equal(b.name, 'CAMEMBERT'.repeat(100).slice(0, 100));
  const c = testSpan({ name: '/' });
  p.normalizeSpan(c, '');
  assert.equal(c.name, DEFAULT_SPAN_NAME);
  assert.deepStrictEqual(fixes(p), { span_name_empty: 1, span_name_truncate: 1, span_name_invalid: 1 });
});

test('an empty resource takes the normalised name (TestNormalizeEmptyResource)', () => {
  const p = processor();
  const s = testSpan({ resource: '' });
  p.normalizeSpan(s, '');
  assert.equal(s.resource, 'django.controller');
  assert.deepStrictEqual(fixes(p), { resource_empty: 1 });
});

test('a zero trace id or span id makes the span unfixable (TestNormalizeNoTraceID, NoSpanID)', () => {
  const p = processor();
  assert.equal(p.normalizeSpan(testSpan({ traceId: 0n }), ''), false);
  assert.equal(p.normalizeSpan(testSpan({ spanId: 0n }), ''), false);
  assert.deepStrictEqual(fixes(p), { trace_id_zero: 1, span_id_zero: 1 });
});

test('a start before 2000 becomes now - duration (TestNormalizeStart too-small)', () => {
  const p = processor();
  const s = testSpan({ start: 42n });
  p.normalizeSpan(s, '', NOW_NS);
  assert.equal(s.start, NOW_NS - 10_000_000n);
  // too-small-with-large-duration: a duration past now leaves start = now.
  const t = testSpan({ start: 42n, duration: Number(NOW_NS) * 2 });
  p.normalizeSpan(t, '', NOW_NS);
  assert.equal(t.start, NOW_NS);
  assert.deepStrictEqual(fixes(p), { invalid_start_date: 2 });
});

test('a negative or overflowing duration becomes 0 (TestNormalizeNegativeDuration, LargeDuration)', () => {
  const p = processor();
  const a = testSpan({ duration: -50 });
  p.normalizeSpan(a, '');
  assert.equal(a.duration, 0);
  const b = testSpan({ duration: 2 ** 63 });
  p.normalizeSpan(b, '');
  assert.equal(b.duration, 0);
  const c = testSpan({ duration: 0 });
  p.normalizeSpan(c, '');
  assert.equal(c.duration, 0);
  assert.deepStrictEqual(fixes(p), { invalid_duration: 2 });
});

test('a long type is cut to 100 bytes (TestNormalizeTypeTooLong)', () => {
  const p = processor();
  const s = testSpan({ type: 'sql'.repeat(1000) });
  p.normalizeSpan(s, '');
  assert.equal(s.type, 'sql'.repeat(1000).slice(0, 100));
  assert.deepStrictEqual(fixes(p), { type_truncate: 1 });
});

test('service and env are tag-normalised (TestNormalizeServiceTag, TestNormalizeEnv)', () => {
  const p = processor();
  const s = testSpan({ service: 'retargeting(api-Staging ', meta: { env: 'DEVELOPMENT' } });
  p.normalizeSpan(s, '');
  assert.equal(s.service, 'retargeting_api-staging');
  assert.equal(s.meta['env'], 'development');
  assert.deepStrictEqual(fixes(p), {});
});

test('a Zipkin-style root (parent == trace == span id) gets parent 0 (TestSpecialZipkinRootSpan)', () => {
  const p = processor();
  const s = testSpan({ parentId: 42n, traceId: 42n, spanId: 42n });
  p.normalizeSpan(s, '');
  assert.equal(s.parentId, 0n);
  assert.equal(s.traceId, 42n);
  assert.equal(s.spanId, 42n);
});

test('an invalid http.status_code meta is deleted and counted', () => {
  const p = processor();
  const s = testSpan({ meta: { 'http.status_code': '99' } });
  p.normalizeSpan(s, '');
  assert.equal('http.status_code' in s.meta, false);
  const ok = testSpan({ meta: { 'http.status_code': '200' } });
  p.normalizeSpan(ok, '');
  assert.equal(ok.meta['http.status_code'], '200');
  assert.deepStrictEqual(fixes(p), { invalid_http_status_code: 1 });
});

test('peer.service and _dd.base_service are normalised; an invalid one becomes empty', () => {
  const p = processor();
  const s = testSpan({ meta: { 'peer.service': 'My-DB', '_dd.base_service': '$$' } });
  p.normalizeSpan(s, '');
  assert.equal(s.meta['peer.service'], 'my-db');
  assert.equal(s.meta['_dd.base_service'], '');
  assert.deepStrictEqual(fixes(p), { base_service_invalid: 1 });
});

test('an empty chunk, a foreign span and a zero id drop the chunk; a duplicate span id is only counted (TestNormalizeTrace*)', () => {
  const p = processor();
  const foreign = [testSpan({ traceId: 1n, spanId: 1n }), testSpan({ traceId: 2n, spanId: 2n })];
  const zero = [testSpan({ spanId: 0n })];
  const dup = [testSpan({ spanId: 7n, parentId: 0n }), testSpan({ spanId: 7n })];
  const tp = tracerPayload([chunk([]), chunk(foreign), chunk(zero), chunk(dup, { priority: 1 })]);
  const r = p.process(tp);
  assert.equal(r.payload.chunks.length, 1);
  assert.equal(r.payload.chunks[0]!.spans, dup);
  assert.deepStrictEqual(fixes(p), { empty_trace: 1, foreign_span: 1, span_id_zero: 1, duplicate_span_id: 1 });
  assert.equal(p.counters.get('TracesReceived'), 4);
  assert.equal(p.counters.get('SpansReceived'), 5);
  assert.equal(p.counters.get('SpansDropped'), 3);
});

// pkg/trace/agent/truncator_test.go.

test('truncation cuts resources, long meta keys and values and long metric keys (TestTruncate*)', () => {
  const p = processor();
  const s = testSpan({
    resource: 'TOOLONG'.repeat(5000),
    meta: { ['TOOLONG'.repeat(1000)]: 'foo', foo: 'TOOLONG'.repeat(25000), user: 'leo' },
    metrics: { ['TOOLONG'.repeat(1000)]: 42, cheese_weight: 1 },
  });
  p.truncate(s);
  assert.equal(s.resource.length, 5000);
  const longKey = 'TOOLONG'.repeat(1000).slice(0, 200) + '...';
  assert.deepStrictEqual(Object.keys(s.meta), [longKey, 'foo', 'user']);
  assert.equal(s.meta[longKey], 'foo');
  assert.equal(s.meta['foo'], 'TOOLONG'.repeat(25000).slice(0, MAX_META_VAL_LEN) + '...');
  assert.deepStrictEqual(s.metrics, { [longKey]: 42, cheese_weight: 1 });
  assert.deepStrictEqual(
    [p.counters.get('ResourceTruncated'), p.counters.get('MetaKeyTruncated'), p.counters.get('MetaValueTruncated'), p.counters.get('MetricsKeyTruncated')],
    [1, 1, 1, 1],
  );
});

test('structured meta (_dd.*.json, .protobuf, .msgpack) is never truncated (TestTruncateStructuredMetaTag)', () => {
  for (const suffix of ['json', 'protobuf', 'msgpack']) {
    const p = processor();
    const key = `_dd.${'k'.repeat(201)}.${suffix}`;
    const val = 'v'.repeat(MAX_META_VAL_LEN + 1);
    const s = testSpan({ meta: { [key]: val, [`key.${suffix}`]: val } });
    p.truncate(s);
    assert.equal(s.meta[key], val);
    assert.equal(s.meta[`key.${suffix}`]!.length, MAX_META_VAL_LEN + 3);
  }
});

// pkg/trace/traceutil/span_test.go and trace_test.go.

test('top-level: roots, spans whose parent has another service, not the rest (TestTopLevelTypical)', () => {
  const tr = [span(1n, 0n, 'mcnulty'), span(2n, 1n, 'mcnulty'), span(3n, 2n, 'master-db'), span(4n, 1n, 'redis'), span(5n, 1n, 'mcnulty')];
  computeTopLevel(tr);
  assert.deepStrictEqual(
    tr.map((s) => hasTopLevel(s.metrics)),
    [true, false, true, true, false],
  );
});

test('top-level: one service, root in the middle (TestTopLevelOneService) and local roots (TestTopLevelLocalRoot)', () => {
  const one = [span(2n, 1n, 'mcnulty'), span(3n, 2n, 'mcnulty'), span(1n, 0n, 'mcnulty'), span(4n, 1n, 'mcnulty'), span(5n, 1n, 'mcnulty')];
  computeTopLevel(one);
  assert.deepStrictEqual(
    one.map((s) => hasTopLevel(s.metrics)),
    [false, false, true, false, false],
  );
  const local = [
    span(1n, 0n, 'mcnulty'),
    span(2n, 1n, 'mcnulty'),
    span(3n, 2n, 'master-db'),
    span(4n, 1n, 'redis'),
    span(5n, 1n, 'mcnulty'),
    span(6n, 4n, 'redis'),
    span(7n, 4n, 'redis'),
  ];
  computeTopLevel(local);
  assert.deepStrictEqual(
    local.map((s) => hasTopLevel(s.metrics)),
    [true, false, true, true, false, false, false],
  );
  // A span whose parent is not in the chunk is top-level too.
  const orphan = [span(9n, 8n, 'x')];
  computeTopLevel(orphan);
  assert.equal(orphan[0]!.metrics['_top_level'], 1);
});

test('measured and partial snapshots read _dd.measured == 1 and _dd.partial_version >= 0 (TestIsMeasured, TestIsPartialSnapshot)', () => {
  assert.equal(isMeasured({}), false);
  assert.equal(isMeasured({ '_dd.measured': 1 }), true);
  assert.equal(isMeasured({ '_dd.measured': 0 }), false);
  assert.equal(isPartialSnapshot({}), false);
  assert.equal(isPartialSnapshot({ '_dd.partial_version': -10 }), false);
  assert.equal(isPartialSnapshot({ '_dd.partial_version': 7 }), true);
});

test('the tracer _dd.top_level is copied to _top_level when the client computed top-level', () => {
  const s = span(2n, 1n, 'a', { metrics: { '_dd.top_level': 1 } });
  updateTracerTopLevel(s);
  assert.equal(s.metrics['_top_level'], 1);
  assert.equal(hasTopLevel({ '_dd.top_level': 1 }), true);
  const p = processor();
  const sub = span(3n, 2n, 'a');
  const tp = tracerPayload([chunk([span(2n, 1n, 'a', { metrics: { '_dd.top_level': 1 } }), sub], { priority: 1 })]);
  p.process(tp, { clientComputedTopLevel: true });
  // Not computed by the agent: the orphan span 2 keeps only the tracer's mark.
  assert.equal(tp.chunks[0]!.spans[0]!.metrics['_top_level'], 1);
  assert.equal(sub.metrics['_top_level'], undefined);
});

test('the root is the last span without parent, else the orphan (TestGetRootFromCompleteTrace, FromPartialTrace)', () => {
  const complete = [span(12341n, 0n, 's1'), span(12342n, 12341n, 's1'), span(12343n, 12341n, 's1'), span(12344n, 12342n, 's2'), span(12345n, 12344n, 's2')];
  assert.equal(getRoot(complete)!.spanId, 12341n);
  const partial = [span(12341n, 12340n, 's1'), span(12342n, 12341n, 's1'), span(12343n, 12342n, 's2')];
  assert.equal(getRoot(partial)!.spanId, 12341n);
  assert.equal(getRoot([]), undefined);
});

test('env and version come from the root, else from another span (TestGetEnv, TestGetAppVersion)', () => {
  const root = span(1n, 0n, 'a', { meta: { env: 'root' } });
  assert.equal(getMetaFromTrace(root, [span(24n, 5n, 'a'), root], 'env'), 'root');
  const bare = span(1n, 0n, 'a');
  assert.equal(getMetaFromTrace(bare, [span(24n, 5n, 'a', { meta: { version: 'version' } }), bare], 'version'), 'version');
  assert.equal(getMetaFromTrace(bare, [bare], 'env'), '');
});

test('chunk priority and origin come from the root only when the chunk has none (TestNormalizeChunk*)', () => {
  const root = testSpan({ metrics: { _sampling_priority_v1: 1 }, meta: { '_dd.origin': 'rum' } });
  const c = chunk([root]);
  setChunkAttributes(c, root);
  assert.equal(c.priority, 1);
  assert.equal(c.origin, 'rum');
  const d = chunk([root], { priority: 0, origin: 'lambda' });
  setChunkAttributes(d, root);
  assert.equal(d.priority, 0);
  assert.equal(d.origin, 'lambda');
  // TestNormalizePopulatePriorityFromAnySpan: the first span that has it.
  const spans = [testSpan({ spanId: 1n }), testSpan({ spanId: 2n, metrics: { _sampling_priority_v1: 2 } }), testSpan({ spanId: 3n, metrics: { _sampling_priority_v1: 1 } })];
  const e = chunk(spans);
  setChunkAttributes(e, spans[0]!);
  assert.equal(e.priority, 2);
  // The decision maker is promoted to a chunk tag.
  const f = chunk([testSpan({ meta: { '_dd.p.dm': '-4' } })]);
  setChunkAttributes(f, f.spans[0]!);
  assert.deepStrictEqual(f.tags, { '_dd.p.dm': '-4' });
});

test('sampling keeps priority > 0, drops priority < 0 and P0 without error, keeps P0 with an error', () => {
  const p = processor();
  const mk = (id: bigint, priority: number, error = 0): ReturnType<typeof chunk> =>
    chunk([testSpan({ traceId: id, spanId: id, parentId: 0n, error, metrics: {} })], { priority });
  const tp = tracerPayload([mk(1n, 2), mk(2n, 1), mk(3n, 0), mk(4n, -1), mk(5n, 0, 1), mk(6n, -128)]);
  const r = p.process(tp);
  assert.deepStrictEqual(
    r.payload.chunks.map((c) => [c.spans[0]!.traceId, c.droppedTrace]),
    [
      [1n, false],
      [2n, false],
      [5n, false],
      [6n, false],
    ],
  );
  // Every chunk that passed normalisation goes to stats, kept or not.
  assert.equal(r.stats.length, 6);
  const c = p.counters.snapshot();
  assert.deepStrictEqual(
    [c.TracesPriority2, c.TracesPriority1, c.TracesPriority0, c.TracesPriorityNeg, c.TracesPriorityNone, c.TracesKept, c.TracesSampledOut],
    [1, 1, 2, 1, 1, 4, 2],
  );
});

test('a dropped chunk keeps its single-span-sampled spans, at priority 2', () => {
  const p = processor();
  const kept = testSpan({ spanId: 2n, metrics: { '_dd.span_sampling.mechanism': 8 } });
  const tp = tracerPayload([chunk([testSpan({ spanId: 1n, parentId: 0n, metrics: {} }), kept], { priority: -1 })]);
  const r = p.process(tp);
  assert.equal(r.payload.chunks.length, 1);
  assert.deepStrictEqual(r.payload.chunks[0]!.spans, [kept]);
  assert.equal(r.payload.chunks[0]!.priority, 2);
  assert.equal(p.counters.get('SingleSpanKept'), 1);
});

test('the payload env is tag-normalised and filled from the root; the client rate is recorded below 1', () => {
  const p = processor();
  const root = testSpan({ parentId: 0n, meta: { env: 'Staging', version: '1.2', '_dd.hostname': 'h1' }, metrics: { _sample_rate: 0.5 } });
  const tp = tracerPayload([chunk([root], { priority: 1 })], { env: '' });
  p.process(tp);
  assert.equal(tp.env, 'staging');
  assert.equal(tp.appVersion, '1.2');
  assert.equal(tp.hostname, 'h1');
  assert.equal(root.metrics[CLIENT_RATE_KEY], 0.5);
  assert.equal(root.metrics['_top_level'], 1);
  // The priority sampler records the rate it applied on a sampled root.
  assert.equal(root.metrics[PRIORITY_RATE_KEY], 1);
});

test('ignore_resources drops chunks by root resource and counts TracesFiltered', () => {
  const p = new TraceProcessor({ ignoreResources: ['^GET /health'], now: () => NOW_NS });
  const tp = tracerPayload([chunk([testSpan({ parentId: 0n, resource: 'GET /healthcheck' })]), chunk([testSpan({ parentId: 0n, spanId: 9n })])]);
  const r = p.process(tp);
  assert.equal(r.payload.chunks.length, 1);
  assert.equal(p.counters.get('TracesFiltered'), 1);
  assert.equal(p.counters.get('SpansFiltered'), 1);
});

test('client-computed stats send no chunk to stats', () => {
  const p = processor();
  const r = p.process(tracerPayload([chunk([testSpan({ parentId: 0n })], { priority: 1 })]), { clientComputedStats: true });
  assert.equal(r.stats.length, 0);
  assert.equal(r.payload.chunks.length, 1);
});
