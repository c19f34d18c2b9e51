import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AttributeAnyValue, AttributeArrayValue, Span, SpanEvent, SpanLink, TraceChunk, TracerPayload } from '@kennel/core';
import { TraceEncoder, encodeAllTraces } from '../src/index.js';
import { AgentPayloadPb, gzipApm, inflate, pbObject, zstdApm } from './apm-support.js';

const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 200);

// What protobufjs gives back for a string: UTF-8 cannot hold a lone surrogate, so it becomes U+FFFD.
const wf = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');
const z = (v: number): number => (v === 0 ? 0 : v);
const U64 = (1n << 64n) - 1n;

const text = fc.oneof(fc.string({ maxLength: 10 }), fc.string({ unit: 'binary', maxLength: 6 }), fc.constant(''));
const u64 = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: U64 }));
const i64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const dict = <T>(v: fc.Arbitrary<T>): fc.Arbitrary<Record<string, T>> => fc.dictionary(text, v, { maxKeys: 3 });

const arrayValue: fc.Arbitrary<AttributeArrayValue> = fc.record(
  {
    type: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const),
    stringValue: text,
    boolValue: fc.boolean(),
    intValue: i64,
    doubleValue: fc.double(),
  },
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
const link: fc.Arbitrary<SpanLink> = fc.record({
  traceId: u64,
  traceIdHigh: u64,
  spanId: u64,
  attributes: dict(text),
  tracestate: text,
  flags: fc.nat({ max: 0xffffffff }),
});
const event: fc.Arbitrary<SpanEvent> = fc.record({ timeUnixNano: u64, name: text, attributes: dict(anyValue) });
const span: fc.Arbitrary<Span> = fc.record({
  service: text,
  name: text,
  resource: text,
  traceId: u64,
  spanId: u64,
  parentId: u64,
  start: i64,
  duration: fc.integer({ min: -(2 ** 40), max: 2 ** 50 }),
  error: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  type: text,
  meta: dict(text),
  metrics: dict(fc.double()),
  metaStruct: dict(fc.uint8Array({ maxLength: 5 })),
  spanLinks: fc.array(link, { maxLength: 2 }),
  spanEvents: fc.array(event, { maxLength: 2 }),
});
const chunk: fc.Arbitrary<TraceChunk> = fc.record({
  priority: fc.integer({ min: -128, max: 2 }),
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

const strMap = (m: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [wf(k), wf(v)]));

function arrayValueOut(v: AttributeArrayValue): unknown {
  return {
    type: v.type,
    stringValue: wf(v.stringValue ?? ''),
    boolValue: v.boolValue ?? false,
    intValue: String(v.intValue ?? 0n),
    doubleValue: z(v.doubleValue ?? 0),
  };
}

/** The object protobufjs gives for a kennel span (proto3 defaults included, 64-bit values as strings). */
function spanOut(s: Span): unknown {
  return {
    service: wf(s.service),
    name: wf(s.name),
    resource: wf(s.resource),
    traceID: String(s.traceId),
    spanID: String(s.spanId),
    parentID: String(s.parentId),
    start: String(s.start),
    duration: String(Math.trunc(s.duration)),
    error: s.error,
    meta: strMap(s.meta),
    metrics: Object.fromEntries(Object.entries(s.metrics).map(([k, v]) => [wf(k), v])),
    type: wf(s.type),
    metaStruct: Object.fromEntries(Object.entries(s.metaStruct).map(([k, v]) => [wf(k), Array.from(v)])),
    spanLinks: s.spanLinks.map((l) => ({
      traceID: String(l.traceId),
      traceIDHigh: String(l.traceIdHigh),
      spanID: String(l.spanId),
      attributes: strMap(l.attributes),
      tracestate: wf(l.tracestate),
      flags: l.flags,
    })),
    spanEvents: s.spanEvents.map((e) => ({
      timeUnixNano: String(e.timeUnixNano),
      name: wf(e.name),
      attributes: Object.fromEntries(
        Object.entries(e.attributes).map(([k, v]) => [
          wf(k),
          {
            ...(arrayValueOut(v as AttributeArrayValue) as object),
            arrayValue: v.arrayValue !== undefined && v.arrayValue.length > 0 ? { values: v.arrayValue.map(arrayValueOut) } : null,
          },
        ]),
      ),
    })),
  };
}

function tracerPayloadOut(tp: TracerPayload): unknown {
  return {
    containerID: wf(tp.containerId),
    languageName: wf(tp.languageName),
    languageVersion: wf(tp.languageVersion),
    tracerVersion: wf(tp.tracerVersion),
    runtimeID: wf(tp.runtimeId),
    chunks: tp.chunks.map((c) => ({
      priority: c.priority,
      origin: wf(c.origin),
      spans: c.spans.map(spanOut),
      tags: strMap(c.tags),
      droppedTrace: c.droppedTrace,
    })),
    tags: strMap(tp.tags),
    env: wf(tp.env),
    hostname: wf(tp.hostname),
    appVersion: wf(tp.appVersion),
  };
}

test('protobufjs reads every AgentPayload back field for field', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(tracerPayload, { maxLength: 4 }),
      fc.record({ hostname: text, env: text, agentVersion: text, targetTPS: fc.double(), errorTPS: fc.double(), rareSamplerEnabled: fc.boolean(), tags: dict(text) }),
      fc.constantFrom(zstdApm, gzipApm),
      async (items, options, compression) => {
        const payloads = encodeAllTraces(new TraceEncoder(options, compression), items);
        assert.equal(payloads.length, items.length === 0 ? 0 : 1);
        for (const p of payloads) {
          const o = AgentPayloadPb.toObject(AgentPayloadPb.decode(inflate(p)), pbObject);
          assert.deepStrictEqual(o, {
            hostName: wf(options.hostname),
            env: wf(options.env),
            tracerPayloads: items.map(tracerPayloadOut),
            tags: strMap(options.tags),
            agentVersion: wf(options.agentVersion),
            targetTPS: z(options.targetTPS),
            errorTPS: z(options.errorTPS),
            rareSamplerEnabled: options.rareSamplerEnabled,
          });
        }
      },
    ),
    { numRuns },
  );
});

test('the bytes are what protobufjs writes for the same message', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(tracerPayload, { minLength: 1, maxLength: 3 }), async (items) => {
      const [p] = encodeAllTraces(new TraceEncoder({ hostname: 'h', env: 'e', agentVersion: '1', targetTPS: 10, errorTPS: 10 }, gzipApm), items);
      const body = inflate(p!);
      // Re-encode what protobufjs decoded: protobufjs writes set fields in field order and map
      // entries in key order, as kennel does, so the bytes must match exactly when no default
      // value is written (fromObject keeps only what the wire carried).
      const again = AgentPayloadPb.encode(AgentPayloadPb.decode(body)).finish();
      assert.equal(Buffer.from(again).toString('hex'), Buffer.from(body).toString('hex'));
    }),
    { numRuns },
  );
});
