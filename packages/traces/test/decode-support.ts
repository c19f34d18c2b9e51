/**
 * Helpers for the decoder tests: msgpackr encoders for each payload version (from kennel's own
 * types, so a decode can be compared with its input), and hand-written msgpack bytes.
 */
import { Packr } from 'msgpackr';
import { PRIORITY_NONE } from '@kennel/core';
import type { AttributeAnyValue, AttributeArrayValue, Span, SpanEvent, SpanLink, TraceChunk, TracerPayload } from '@kennel/core';

export const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 200);

/** Plain msgpack: no records, objects as maps, Maps with their key types (v0.5). */
export const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

/** msgpackr's bytes as a plain Uint8Array (its Buffer would make deep-equal checks differ). */
export function pack(v: unknown): Uint8Array {
  return new Uint8Array(packr.pack(v));
}

export function span(overrides: Partial<Span> = {}): Span {
  return {
    service: 'web',
    name: 'http.request',
    resource: 'GET /users/:id',
    traceId: 0xfedcba9876543210n,
    spanId: 0x8000000000000001n,
    parentId: 0n,
    start: 1_733_000_000_000_000_000n,
    duration: 1_500_000,
    error: 0,
    type: 'web',
    meta: { env: 'prod', 'http.method': 'GET' },
    metrics: { '_dd.top_level': 1, _sampling_priority_v1: 2 },
    metaStruct: {},
    spanLinks: [],
    spanEvents: [],
    ...overrides,
  };
}

export function chunkOf(spans: Span[], extra: Partial<TraceChunk> = {}): TraceChunk {
  return { priority: PRIORITY_NONE, origin: '', spans, tags: {}, droppedTrace: false, ...extra };
}

export function payloadOf(chunks: TraceChunk[], extra: Partial<TracerPayload> = {}): TracerPayload {
  return {
    containerId: '',
    languageName: '',
    languageVersion: '',
    tracerVersion: '',
    runtimeId: '',
    chunks,
    tags: {},
    env: '',
    hostname: '',
    appVersion: '',
    ...extra,
  };
}

function anyValueWire(v: AttributeAnyValue | AttributeArrayValue): Record<string, unknown> {
  switch (v.type) {
    case 0:
      return { type: 0, string_value: v.stringValue };
    case 1:
      return { type: 1, bool_value: v.boolValue };
    case 2:
      return { type: 2, int_value: v.intValue };
    case 3:
      return { type: 3, double_value: v.doubleValue };
    default:
      return { type: 4, array_value: { values: ((v as AttributeAnyValue).arrayValue ?? []).map(anyValueWire) } };
  }
}

function linkWire(l: SpanLink): Record<string, unknown> {
  return { trace_id: l.traceId, trace_id_high: l.traceIdHigh, span_id: l.spanId, attributes: l.attributes, tracestate: l.tracestate, flags: l.flags };
}

function eventWire(e: SpanEvent): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.attributes)) {
    Object.defineProperty(attributes, k, { value: anyValueWire(v), enumerable: true, writable: true, configurable: true });
  }
  return { time_unix_nano: e.timeUnixNano, name: e.name, attributes };
}

/**
 * The v0.4 span map of a span. 64-bit fields go as BigInts (msgpackr writes int64 below 2^63 and
 * uint64 above), `duration` too so it stays an integer on the wire.
 */
export function spanWire(s: Span): Record<string, unknown> {
  return {
    service: s.service,
    name: s.name,
    resource: s.resource,
    trace_id: s.traceId,
    span_id: s.spanId,
    parent_id: s.parentId,
    start: s.start,
    duration: BigInt(s.duration),
    error: s.error,
    type: s.type,
    meta: s.meta,
    metrics: s.metrics,
    meta_struct: s.metaStruct,
    span_links: s.spanLinks.map(linkWire),
    span_events: s.spanEvents.map(eventWire),
  };
}

export function encodeV04(traces: Span[][]): Uint8Array {
  return pack(traces.map((t) => t.map(spanWire)));
}

/** A v0.5 payload: the string table is built from the spans, in first-use order. */
export function encodeV05(traces: Span[][]): Uint8Array {
  const table = new Map<string, number>();
  const id = (s: string): number => {
    let i = table.get(s);
    if (i === undefined) table.set(s, (i = table.size));
    return i;
  };
  id('');
  const body = traces.map((t) =>
    t.map((s) => [
      id(s.service),
      id(s.name),
      id(s.resource),
      s.traceId,
      s.spanId,
      s.parentId,
      s.start,
      BigInt(s.duration),
      s.error,
      new Map(Object.entries(s.meta).map(([k, v]) => [id(k), id(v)])),
      new Map(Object.entries(s.metrics).map(([k, v]) => [id(k), v])),
      id(s.type),
    ]),
  );
  return pack([[...table.keys()], body]);
}

export function encodeV07(p: TracerPayload): Uint8Array {
  return pack({
    container_id: p.containerId,
    language_name: p.languageName,
    language_version: p.languageVersion,
    tracer_version: p.tracerVersion,
    runtime_id: p.runtimeId,
    chunks: p.chunks.map((c) => ({ priority: c.priority, origin: c.origin, spans: c.spans.map(spanWire), tags: c.tags, dropped_trace: c.droppedTrace })),
    tags: p.tags,
    env: p.env,
    hostname: p.hostname,
    app_version: p.appVersion,
  });
}

/** Concatenates byte arrays and numbers (single bytes). */
export function bytes(...parts: (number | Uint8Array | string)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') for (const c of new TextEncoder().encode(p)) out.push(c);
    else for (const c of p) out.push(c);
  }
  return new Uint8Array(out);
}

/** A fixstr: header and UTF-8 bytes (under 32 bytes). */
export function fixstr(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  if (b.length > 31) throw new Error('fixstr too long');
  return bytes(0xa0 | b.length, b);
}

/** A v0.4 body of one trace of one span map with the given raw key/value pairs. */
export function oneSpanV04(...pairs: Uint8Array[]): Uint8Array {
  return bytes(0x91, 0x91, 0x80 | (pairs.length / 2), ...pairs);
}
