import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PRIORITY_NONE } from '@kennel/core';
import type {
  AttributeAnyValue,
  AttributeArrayValue,
  ClientGroupedStats,
  ClientStatsBucket,
  ClientStatsPayload,
  Span,
  SpanEvent,
  SpanLink,
  StatsPayload,
  TraceChunk,
  TracerPayload,
} from '@kennel/core';
import { StatsEncoder, TraceEncoder, encodeAllTraces, gzipApmCompression, loadTraceCompression, type ApmPayload } from '@kennel/forwarder';
import { IntakeStore, decodeAgentPayload, decodeIntakeRequest, decodeStatsPayload } from '../src/index.js';

const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 200);
const zstd = await loadTraceCompression();
assert.equal(zstd.contentEncoding, 'zstd');

const wf = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');
const U64 = (1n << 64n) - 1n;
const text = fc.oneof(fc.string({ maxLength: 10 }), fc.string({ unit: 'binary', maxLength: 6 }), fc.constant(''));
const u64 = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: U64 }));
const i64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const dict = <T>(v: fc.Arbitrary<T>): fc.Arbitrary<Record<string, T>> => fc.dictionary(text, v, { maxKeys: 3 });

const arrayValue: fc.Arbitrary<AttributeArrayValue> = fc.record(
  { type: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const), stringValue: text, boolValue: fc.boolean(), intValue: i64, doubleValue: fc.double() },
  { requiredKeys: ['type'] },
);
const anyValue: fc.Arbitrary<AttributeAnyValue> = fc.record(
  {
    type: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const, 4 as const),
    stringValue: text,
    boolValue: fc.boolean(),
    intValue: i64,
    doubleValue: fc.double(),
    arrayValue: fc.array(arrayValue, { maxLength: 2 }),
  },
  { requiredKeys: ['type'] },
);
const link: fc.Arbitrary<SpanLink> = fc.record({ traceId: u64, traceIdHigh: u64, spanId: u64, attributes: dict(text), tracestate: text, flags: fc.nat({ max: 0xffffffff }) });
const event: fc.Arbitrary<SpanEvent> = fc.record({ timeUnixNano: u64, name: text, attributes: dict(anyValue) });
const span: fc.Arbitrary<Span> = fc.record({
  service: text,
  name: text,
  resource: text,
  traceId: u64,
  spanId: u64,
  parentId: u64,
  start: i64,
  duration: fc.integer({ min: -(2 ** 50), max: 2 ** 50 }),
  error: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  type: text,
  meta: dict(text),
  metrics: dict(fc.double()),
  metaStruct: dict(fc.uint8Array({ maxLength: 5 })),
  spanLinks: fc.array(link, { maxLength: 2 }),
  spanEvents: fc.array(event, { maxLength: 2 }),
});
const chunk: fc.Arbitrary<TraceChunk> = fc.record({
  priority: fc.oneof(fc.constant(PRIORITY_NONE), fc.integer({ min: -1, max: 2 })),
  origin: text,
  spans: fc.array(span, { maxLength: 3 }),
  tags: dict(text),
  droppedTrace: fc.boolean(),
});
const tracerPayload: fc.Arbitrary<TracerPayload> = fc.record({
  containerId: text,
  languageName: text,
  languageVersion: text,
  tracerVersion: text,
  runtimeId: text,
  chunks: fc.array(chunk, { maxLength: 3 }),
  tags: dict(text),
  env: text,
  hostname: text,
  appVersion: text,
});

const strMap = (m: Readonly<Record<string, string>>): Record<string, string> => Object.fromEntries(Object.entries(m).map(([k, v]) => [wf(k), wf(v)]));

/** An attribute value as it comes back: only the fields proto3 wrote (non-default). */
function attrBack(v: AttributeAnyValue): AttributeAnyValue {
  const out: Record<string, unknown> = { type: v.type };
  if (v.stringValue !== undefined && v.stringValue !== '') out['stringValue'] = wf(v.stringValue);
  if (v.boolValue === true) out['boolValue'] = true;
  if (v.intValue !== undefined && v.intValue !== 0n) out['intValue'] = v.intValue;
  if (v.doubleValue !== undefined && v.doubleValue !== 0) out['doubleValue'] = v.doubleValue;
  if (v.arrayValue !== undefined && v.arrayValue.length > 0) out['arrayValue'] = v.arrayValue.map((a) => attrBack(a));
  return out as unknown as AttributeAnyValue;
}

function spanBack(s: Span): Span {
  return {
    service: wf(s.service),
    name: wf(s.name),
    resource: wf(s.resource),
    traceId: s.traceId,
    spanId: s.spanId,
    parentId: s.parentId,
    start: s.start,
    duration: s.duration,
    error: s.error,
    type: wf(s.type),
    meta: strMap(s.meta),
    metrics: Object.fromEntries(Object.entries(s.metrics).map(([k, v]) => [wf(k), v])),
    metaStruct: Object.fromEntries(Object.entries(s.metaStruct).map(([k, v]) => [wf(k), Uint8Array.from(v)])),
    spanLinks: s.spanLinks.map((l) => ({ ...l, attributes: strMap(l.attributes), tracestate: wf(l.tracestate) })),
    spanEvents: s.spanEvents.map((e) => ({
      timeUnixNano: e.timeUnixNano,
      name: wf(e.name),
      attributes: Object.fromEntries(Object.entries(e.attributes).map(([k, v]) => [wf(k), attrBack(v)])),
    })),
  };
}

function chunkBack(c: TraceChunk): TraceChunk {
  return { priority: c.priority, origin: wf(c.origin), spans: c.spans.map(spanBack), tags: strMap(c.tags), droppedTrace: c.droppedTrace };
}

function tracerPayloadBack(tp: TracerPayload): TracerPayload {
  return {
    containerId: wf(tp.containerId),
    languageName: wf(tp.languageName),
    languageVersion: wf(tp.languageVersion),
    tracerVersion: wf(tp.tracerVersion),
    runtimeId: wf(tp.runtimeId),
    chunks: tp.chunks.map(chunkBack),
    tags: strMap(tp.tags),
    env: wf(tp.env),
    hostname: wf(tp.hostname),
    appVersion: wf(tp.appVersion),
  };
}

function request(p: ApmPayload): { path: string; contentEncoding: string; body: Uint8Array } {
  return { path: p.endpoint, contentEncoding: p.contentEncoding, body: p.body };
}

test('traces: encode, then the intake decode, gives the tracer payloads back', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(tracerPayload, { minLength: 1, maxLength: 4 }), fc.constantFrom(zstd, gzipApmCompression), async (items, compression) => {
      const options = { hostname: 'agent-host', env: 'prod', agentVersion: '7.64.0', targetTPS: 10, errorTPS: 5, rareSamplerEnabled: true, tags: { a: 'b' } };
      const [p] = encodeAllTraces(new TraceEncoder(options, compression), items);
      const r = decodeIntakeRequest(request(p!));
      assert.ok(r.ok, r.ok ? '' : r.message);
      assert.equal(r.value.kind, 'traces');
      if (r.value.kind !== 'traces') return;
      assert.deepStrictEqual(r.value.payload, {
        hostName: 'agent-host',
        env: 'prod',
        tracerPayloads: items.map(tracerPayloadBack),
        tags: { a: 'b' },
        agentVersion: '7.64.0',
        targetTPS: 10,
        errorTPS: 5,
        rareSamplerEnabled: true,
      });
    }),
    { numRuns },
  );
});

test('traces: with a small size limit every payload is within it and the chunks all come back in order', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(tracerPayload, { minLength: 1, maxLength: 6 }), fc.integer({ min: 4000, max: 20000 }), async (items, max) => {
      // Chunks here are at most a few hundred bytes, so none is too big alone.
      const encoder = new TraceEncoder({ maxPayloadSize: max }, gzipApmCompression);
      const payloads = encodeAllTraces(encoder, items);
      assert.equal(encoder.counters.get('ItemTooBig'), 0);
      const back: TraceChunk[] = [];
      for (const p of payloads) {
        assert.ok(p.uncompressedBytes <= max);
        const r = decodeIntakeRequest(request(p));
        assert.ok(r.ok && r.value.kind === 'traces');
        if (r.value.kind === 'traces') for (const tp of r.value.payload.tracerPayloads) back.push(...tp.chunks);
      }
      assert.deepStrictEqual(back, items.flatMap((tp) => tp.chunks.map(chunkBack)));
    }),
    { numRuns },
  );
});

const group: fc.Arbitrary<ClientGroupedStats> = fc.record({
  service: text,
  name: text,
  resource: text,
  httpStatusCode: fc.nat({ max: 0xffffffff }),
  type: text,
  dbType: text,
  hits: fc.nat(),
  errors: fc.nat(),
  duration: fc.maxSafeNat(),
  okSummary: fc.uint8Array({ maxLength: 20 }),
  errorSummary: fc.uint8Array({ maxLength: 300 }),
  synthetics: fc.boolean(),
  topLevelHits: fc.nat(),
  spanKind: text,
  peerTags: fc.array(text, { maxLength: 3 }),
  isTraceRoot: fc.constantFrom(0 as const, 1 as const, 2 as const),
  grpcStatusCode: text,
  httpMethod: text,
  httpEndpoint: text,
  serviceSource: text,
  spanDerivedPrimaryTags: fc.array(text, { maxLength: 2 }),
  additionalMetricTags: fc.array(text, { maxLength: 2 }),
});
const bucket: fc.Arbitrary<ClientStatsBucket> = fc.record({
  start: u64,
  duration: fc.maxSafeNat(),
  stats: fc.array(group, { maxLength: 4 }),
  agentTimeShift: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
});
const client: fc.Arbitrary<ClientStatsPayload> = fc.record({
  hostname: text,
  env: text,
  version: text,
  stats: fc.array(bucket, { maxLength: 3 }),
  lang: text,
  tracerVersion: text,
  runtimeId: text,
  sequence: fc.maxSafeNat(),
  agentAggregation: text,
  service: text,
  containerId: text,
  tags: fc.array(text, { maxLength: 3 }),
  gitCommitSha: text,
  imageTag: text,
  processTagsHash: u64,
  processTags: text,
});
const statsPayload: fc.Arbitrary<StatsPayload> = fc.record({
  agentHostname: text,
  agentEnv: text,
  stats: fc.array(client, { maxLength: 3 }),
  agentVersion: text,
  clientComputed: fc.boolean(),
  splitPayload: fc.boolean(),
});

function groupBack(g: ClientGroupedStats): ClientGroupedStats {
  return {
    ...g,
    service: wf(g.service),
    name: wf(g.name),
    resource: wf(g.resource),
    type: wf(g.type),
    dbType: wf(g.dbType),
    okSummary: Uint8Array.from(g.okSummary),
    errorSummary: Uint8Array.from(g.errorSummary),
    spanKind: wf(g.spanKind),
    peerTags: g.peerTags.map(wf),
    grpcStatusCode: wf(g.grpcStatusCode),
    httpMethod: wf(g.httpMethod),
    httpEndpoint: wf(g.httpEndpoint),
    serviceSource: wf(g.serviceSource),
    spanDerivedPrimaryTags: g.spanDerivedPrimaryTags.map(wf),
    additionalMetricTags: g.additionalMetricTags.map(wf),
  };
}

function clientBack(c: ClientStatsPayload): ClientStatsPayload {
  const s = (v: string): string => wf(v);
  return {
    ...c,
    hostname: s(c.hostname),
    env: s(c.env),
    version: s(c.version),
    stats: c.stats.map((b) => ({ ...b, stats: b.stats.map(groupBack) })),
    lang: s(c.lang),
    tracerVersion: s(c.tracerVersion),
    runtimeId: s(c.runtimeId),
    agentAggregation: s(c.agentAggregation),
    service: s(c.service),
    containerId: s(c.containerId),
    tags: c.tags.map(s),
    gitCommitSha: s(c.gitCommitSha),
    imageTag: s(c.imageTag),
    processTags: s(c.processTags),
  };
}

test('stats: encode, then the intake decode, gives the stats payload back', () => {
  fc.assert(
    fc.property(statsPayload, (sp) => {
      const encoder = new StatsEncoder();
      encoder.add(sp);
      const payloads = encoder.finish();
      const entries = sp.stats.reduce((n, c) => n + c.stats.reduce((m, b) => m + b.stats.length, 0), 0);
      if (entries === 0) {
        assert.equal(payloads.length, 0);
        return;
      }
      assert.equal(payloads.length, 1);
      const r = decodeIntakeRequest(request(payloads[0]!));
      assert.ok(r.ok, r.ok ? '' : r.message);
      assert.equal(r.value.kind, 'stats');
      if (r.value.kind !== 'stats') return;
      assert.deepStrictEqual(r.value.payload, {
        agentHostname: wf(sp.agentHostname),
        agentEnv: wf(sp.agentEnv),
        stats: sp.stats.filter((c) => c.stats.length > 0).map(clientBack),
        agentVersion: wf(sp.agentVersion),
        clientComputed: sp.clientComputed,
        splitPayload: sp.splitPayload,
      });
    }),
    { numRuns },
  );
});

test('the trace and stats decoders never throw on arbitrary or damaged bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      for (const d of [decodeAgentPayload, decodeStatsPayload]) {
        const r = d(bytes);
        if (!r.ok) assert.equal(typeof r.message, 'string');
      }
    }),
    { numRuns: numRuns * 5 },
  );
  // A valid body cut anywhere, or with one byte changed, decodes or fails with a reason.
  const [tp] = encodeAllTraces(new TraceEncoder({}, gzipApmCompression), [
    {
      containerId: 'c',
      languageName: 'go',
      languageVersion: '',
      tracerVersion: '',
      runtimeId: '',
      chunks: [{ priority: 1, origin: '', tags: {}, droppedTrace: false, spans: [] }],
      tags: {},
      env: '',
      hostname: '',
      appVersion: '',
    },
  ]);
  const body = decodeIntakeRequest(request(tp!));
  assert.ok(body.ok);
  fc.assert(
    fc.property(fc.nat(), fc.nat(255), (at, v) => {
      const raw = Buffer.from(tp!.body);
      for (const d of [decodeAgentPayload, decodeStatsPayload]) {
        d(raw.subarray(0, at % (raw.length + 1)));
        const copy = Uint8Array.from(raw);
        copy[at % copy.length] = v;
        d(copy);
      }
    }),
    { numRuns },
  );
});

test('the store keeps tracer payloads and client stats payloads as the traces and stats kinds', () => {
  const store = new IntakeStore();
  const [tp] = encodeAllTraces(new TraceEncoder({ hostname: 'h', env: 'prod' }, gzipApmCompression), [
    {
      containerId: '',
      languageName: 'go',
      languageVersion: '',
      tracerVersion: '',
      runtimeId: '',
      chunks: [
        {
          priority: 1,
          origin: '',
          tags: {},
          droppedTrace: false,
          spans: [
            {
              service: 's',
              name: 'n',
              resource: 'r',
              traceId: 1n,
              spanId: 2n,
              parentId: 0n,
              start: 1n,
              duration: 1,
              error: 0,
              type: '',
              meta: {},
              metrics: {},
              metaStruct: {},
              spanLinks: [],
              spanEvents: [],
            },
          ],
        },
      ],
      tags: {},
      env: '',
      hostname: '',
      appVersion: '',
    },
  ]);
  const t = store.ingest(request(tp!));
  assert.ok(t.ok);
  const held = store.payloads('traces');
  assert.equal(held.length, 1);
  assert.equal(held[0]!.items[0]!.languageName, 'go');
  assert.deepStrictEqual(held[0]!.meta, { hostName: 'h', env: 'prod', agentVersion: '7.64.0', targetTPS: '10', errorTPS: '10', rareSamplerEnabled: 'false' });
  const stats = new StatsEncoder();
  stats.add({
    agentHostname: 'h',
    agentEnv: 'prod',
    agentVersion: '7.64.0',
    clientComputed: false,
    splitPayload: false,
    stats: [
      {
        hostname: '',
        env: 'prod',
        version: '',
        lang: '',
        tracerVersion: '',
        runtimeId: '',
        sequence: 0,
        agentAggregation: '',
        service: '',
        containerId: '',
        tags: [],
        gitCommitSha: '',
        imageTag: '',
        processTagsHash: 0n,
        processTags: '',
        stats: [{ start: 10n, duration: 10, agentTimeShift: 0, stats: [] }],
      },
    ],
  });
  // A flush with buckets but no grouped stats sends nothing, as the agent.
  assert.deepStrictEqual(stats.finish(), []);
  const c = store.counts().kinds;
  assert.deepStrictEqual([c.traces.Payloads, c.traces.Items, c.traces.Points, c.stats.Payloads], [1, 1, 1, 0]);
});
