import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientGroupedStats, Span } from '@kennel/core';
import {
  BUCKET_INTERVAL_NS,
  Concentrator,
  DDSketch,
  TraceProcessor,
  grpcStatusCode,
  parseGrpcStatus,
  statusCode,
  tagsFnvHash,
  truncateDuration,
  type ProcessedTrace,
} from '../src/index.js';
import { chunk, span, tracerPayload } from './process-support.js';

// Rules from DataDog/datadog-agent pkg/trace/stats/concentrator.go, span_concentrator.go,
// statsraw.go and aggregation.go; scenarios after concentrator_test.go.

const B = BUCKET_INTERVAL_NS;
/** An aligned "now": a bucket start. */
const NOW = 1_735_689_600_000_000_000n;

/** A top-level span ending at `end` (ns). */
function ending(end: bigint, duration: number, extra: Partial<Span> = {}): Span {
  return span(extra.spanId ?? 1n, extra.parentId ?? 0n, extra.service ?? 'A1', {
    resource: 'resource1',
    name: 'query',
    type: 'db',
    start: end - BigInt(duration),
    duration,
    metrics: { _top_level: 1 },
    ...extra,
  });
}

function trace(spans: Span[], extra: Partial<ProcessedTrace> = {}): ProcessedTrace {
  return {
    chunk: chunk(spans),
    root: spans[0]!,
    tracerEnv: 'prod',
    tracerHostname: '',
    appVersion: '',
    lang: '',
    containerId: '',
    gitCommitSha: '',
    imageTag: '',
    ...extra,
  };
}

/** The counts of a grouped stat, without its summaries. */
function counts(g: ClientGroupedStats): Record<string, unknown> {
  return { service: g.service, resource: g.resource, hits: g.hits, errors: g.errors, duration: g.duration, topLevelHits: g.topLevelHits, isTraceRoot: g.isTraceRoot };
}

function concentrator(): Concentrator {
  const c = new Concentrator({ agentEnv: 'none', agentHostname: 'agent-host', agentVersion: '7.64.0', random: () => 0.5 }, NOW);
  // As if it had run for a while (concentrator_test.go sets oldestTs the same way).
  c.oldestTs = NOW - 2n * B;
  return c;
}

test('two spans with the same key aggregate into one group: hits, errors, duration and top-level hits', () => {
  const c = concentrator();
  c.add([trace([ending(NOW + 1n, 50), ending(NOW + 2n, 40, { spanId: 2n, error: 1 })])]);
  const p = c.flush(NOW + 3n * B, false);
  assert.equal(p.stats.length, 1);
  const b = p.stats[0]!.stats;
  assert.equal(b.length, 1);
  assert.equal(b[0]!.start, NOW);
  assert.equal(b[0]!.duration, 10_000_000_000);
  assert.deepStrictEqual(b[0]!.stats.map(counts), [
    { service: 'A1', resource: 'resource1', hits: 2, errors: 1, duration: 90, topLevelHits: 2, isTraceRoot: 1 },
  ]);
  const ok = DDSketch.fromProto(b[0]!.stats[0]!.okSummary)!;
  const err = DDSketch.fromProto(b[0]!.stats[0]!.errorSummary)!;
  assert.deepStrictEqual([ok.count, err.count], [1, 1]);
  assert.ok(Math.abs(ok.getValueAtQuantile(0.5) - 50) / 50 <= 0.01);
  assert.deepStrictEqual([p.agentHostname, p.agentEnv, p.agentVersion, p.stats[0]!.env, p.stats[0]!.hostname], ['agent-host', 'none', '7.64.0', 'prod', 'agent-host']);
});

test('a span is bucketed by its end: one ending in the next bucket goes there', () => {
  const c = concentrator();
  // Starts in the bucket at NOW, ends 1 ns into the next one.
  c.add([trace([ending(NOW + B + 1n, 20), ending(NOW + 5n, 5, { spanId: 2n })])]);
  assert.deepStrictEqual(c.openBuckets, [NOW, NOW + B]);
  const first = c.flush(NOW + 2n * B, false);
  assert.deepStrictEqual(first.stats[0]!.stats.map((b) => [b.start, b.stats[0]!.duration]), [[NOW, 5]]);
  const second = c.flush(NOW + 3n * B, false);
  assert.deepStrictEqual(second.stats[0]!.stats.map((b) => [b.start, b.stats[0]!.duration]), [[NOW + B, 20]]);
});

test('a bucket is flushed only once it is 2 buckets old, unless forced', () => {
  const c = concentrator();
  c.add([trace([ending(NOW + 1n, 10)])]);
  assert.equal(c.flush(NOW + B, false).stats.length, 0);
  assert.equal(c.flush(NOW + 2n * B - 1n, false).stats.length, 0);
  assert.equal(c.flush(NOW + 2n * B, false).stats.length, 1);
  c.add([trace([ending(NOW + 3n * B + 1n, 10)])]);
  assert.equal(c.flush(NOW + 3n * B, true).stats.length, 1);
  assert.deepStrictEqual(c.openBuckets, []);
});

test('spans older than the oldest bucket go into it (TestConcentratorOldestTs, cold)', () => {
  // A fresh concentrator accepts nothing older than its start bucket.
  const c = new Concentrator({ random: () => 0.5 }, NOW);
  const spans = [50, 40, 30, 20, 10].map((d, i) => ending(NOW - BigInt(5 - i) * B + 3n, d, { spanId: BigInt(i + 1) }));
  spans.push(ending(NOW + 3n, 1, { spanId: 9n }));
  c.add([trace(spans)]);
  assert.deepStrictEqual(c.openBuckets, [NOW]);
  for (let i = 0; i < 2; i++) assert.equal(c.flush(NOW + BigInt(i) * B, false).stats.length, 0);
  const p = c.flush(NOW + 2n * B, false);
  assert.deepStrictEqual(p.stats[0]!.stats[0]!.stats.map(counts), [
    { service: 'A1', resource: 'resource1', hits: 6, errors: 0, duration: 151, topLevelHits: 6, isTraceRoot: 1 },
  ]);
  // After a flush the oldest bucket moves to align(now) - 10 s.
  assert.equal(c.oldestTs, NOW + B);
});

test('only top-level, measured and server/client/producer/consumer spans get stats; partial snapshots none', () => {
  const c = concentrator();
  const spans = [
    ending(NOW + 1n, 10, { spanId: 1n, metrics: { _top_level: 1 } }),
    ending(NOW + 1n, 10, { spanId: 2n, parentId: 1n, resource: 'm', metrics: { '_dd.measured': 1 } }),
    ending(NOW + 1n, 10, { spanId: 3n, parentId: 1n, resource: 'k', metrics: {}, meta: { 'span.kind': 'CLIENT' } }),
    ending(NOW + 1n, 10, { spanId: 4n, parentId: 1n, resource: 'internal', metrics: {}, meta: { 'span.kind': 'internal' } }),
    ending(NOW + 1n, 10, { spanId: 5n, parentId: 1n, resource: 'p', metrics: { _top_level: 1, '_dd.partial_version': 0 } }),
  ];
  c.add([trace(spans)]);
  const groups = c.flush(NOW + 2n * B, false).stats[0]!.stats[0]!.stats;
  assert.deepStrictEqual(
    groups.map((g) => [g.resource, g.topLevelHits, g.spanKind, g.isTraceRoot]),
    [
      ['resource1', 1, '', 1],
      ['m', 0, '', 2],
      ['k', 0, 'CLIENT', 2],
    ],
  );
  assert.deepStrictEqual([c.counters.get('SpansSeen'), c.counters.get('SpansAggregated'), c.counters.get('SpansIgnored')], [5, 3, 2]);
});

test('counts are weighted by 1 / _sample_rate of the root', () => {
  const c = concentrator();
  const root = ending(NOW + 1n, 10, { metrics: { _top_level: 1, _sample_rate: 0.25 } });
  c.add([trace([root])]);
  const g = c.flush(NOW + 2n * B, false).stats[0]!.stats[0]!.stats[0]!;
  assert.deepStrictEqual([g.hits, g.topLevelHits, g.duration], [4, 4, 40]);
});

test('fractional weights are rounded stochastically, up when the draw is below the fraction', () => {
  const up = new Concentrator({ random: () => 0.1 }, NOW);
  const down = new Concentrator({ random: () => 0.9 }, NOW);
  for (const c of [up, down]) c.add([trace([ending(NOW + 1n, 10, { metrics: { _top_level: 1, _sample_rate: 0.4 } })])]);
  assert.equal(up.flush(NOW, true).stats[0]!.stats[0]!.stats[0]!.hits, 3);
  assert.equal(down.flush(NOW, true).stats[0]!.stats[0]!.stats[0]!.hits, 2);
});

test('the key splits by status code, synthetics origin, span kind, peer tags, trace root and gRPC code', () => {
  const c = concentrator();
  const base = { metrics: { _top_level: 1 } };
  const t = (s: Span, origin = ''): ProcessedTrace => ({ ...trace([s]), chunk: chunk([s], { origin }) });
  c.add([
    t(ending(NOW + 1n, 1, { ...base, meta: { 'http.status_code': '200' } })),
    t(ending(NOW + 1n, 1, { ...base, metrics: { _top_level: 1, 'http.status_code': 500 } })),
    t(ending(NOW + 1n, 1, { ...base }), 'synthetics-browser'),
    t(ending(NOW + 1n, 1, { ...base, meta: { 'span.kind': 'client', 'peer.service': 'pg', 'peer.hostname': 'db1' } })),
    t(ending(NOW + 1n, 1, { ...base, parentId: 7n })),
    t(ending(NOW + 1n, 1, { ...base, meta: { 'rpc.grpc.status_code': 'NotFound' } })),
  ]);
  const groups = c.flush(NOW + 2n * B, false).stats[0]!.stats[0]!.stats;
  assert.deepStrictEqual(
    groups.map((g) => [g.httpStatusCode, g.synthetics, g.spanKind, g.peerTags, g.isTraceRoot, g.grpcStatusCode]),
    [
      [200, false, '', [], 1, ''],
      [500, false, '', [], 1, ''],
      [0, true, '', [], 1, ''],
      [0, false, 'client', ['peer.hostname:db1', 'peer.service:pg'], 1, ''],
      [0, false, '', [], 2, ''],
      [0, false, '', [], 1, '5'],
    ],
  );
});

test('payload keys split by env, host and version; an empty env or host falls back to the agent', () => {
  const c = concentrator();
  c.add([
    trace([ending(NOW + 1n, 1)], { tracerEnv: '', tracerHostname: 'tracer-host', appVersion: '1.0' }),
    trace([ending(NOW + 1n, 1)], { tracerEnv: 'staging' }),
  ]);
  const p = c.flush(NOW + 2n * B, false);
  assert.deepStrictEqual(
    p.stats.map((s) => [s.env, s.hostname, s.version]),
    [
      ['none', 'tracer-host', '1.0'],
      ['staging', 'agent-host', ''],
    ],
  );
});

test('the processor output feeds the concentrator end to end', () => {
  const processor = new TraceProcessor({ now: () => NOW });
  const root = span(1n, 0n, 'web', { start: NOW - 100n, duration: 100, metrics: {}, meta: {} });
  const child = span(2n, 1n, 'db', { start: NOW - 50n, duration: 20, metrics: {}, meta: {} });
  const { stats } = processor.process(tracerPayload([chunk([root, child], { priority: 1 })], { env: 'prod' }));
  const c = concentrator();
  c.add(stats);
  const groups = c.flush(NOW + B, true).stats[0]!.stats.flatMap((b) => b.stats);
  assert.deepStrictEqual(
    groups.map((g) => [g.service, g.hits, g.topLevelHits, g.duration]),
    // The child ends 30 ns before NOW (the previous bucket), the root at NOW.
    [
      ['db', 1, 1, 20],
      ['web', 1, 1, 100],
    ],
  );
});

test('helpers: mantissa truncation, status and gRPC parsing, the FNV-1a 64 tag hash', () => {
  assert.equal(truncateDuration(1023), 1023);
  assert.equal(truncateDuration(1025), 1024);
  // 2^26 <= 123456789 < 2^27 and 9 explicit mantissa bits: steps of 2^17.
  assert.equal(truncateDuration(123456789), 941 * 2 ** 17);
  assert.equal(statusCode({ 'http.status_code': '404' }, {}), 404);
  assert.equal(statusCode({ 'http.status_code': 'x' }, {}), 0);
  assert.equal(statusCode({}, { 'http.response.status_code': 201 }), 201);
  assert.equal(parseGrpcStatus('CANCELLED'), '1');
  assert.equal(parseGrpcStatus('Canceled'), '1');
  assert.equal(parseGrpcStatus('StatusCode.DEADLINE_EXCEEDED'), '4');
  assert.equal(parseGrpcStatus('14'), '14');
  assert.equal(parseGrpcStatus('bogus'), '');
  assert.equal(grpcStatusCode({}, { 'grpc.code': 7 }), '7');
  assert.equal(tagsFnvHash([]), 0n);
  // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c.
  assert.equal(tagsFnvHash(['a']), 0xaf63dc4c8601ec8cn);
  // Sorted, joined by a 0 byte: the same set in any order hashes the same.
  assert.equal(tagsFnvHash(['b:2', 'a:1']), tagsFnvHash(['a:1', 'b:2']));
});
