import type {
  AgentPayload,
  AttributeAnyValue,
  AttributeArrayValue,
  Span,
  SpanEvent,
  SpanLink,
  TraceChunk,
  TracerPayload,
} from '@kennel/core';
import { ProtoReader, WireType } from './proto-reader.js';
import { decodeError, decoded, DecodeErrorReason, type DecodeResult, type Mutable } from './result.js';

// Field numbers: libdd-trace-protobuf/src/pb/agent_payload.proto, tracer_payload.proto and
// span.proto (shared/spec/traces.md §d.2).

/** The last varint as an unsigned 64-bit bigint. */
function u64(r: ProtoReader): bigint {
  if (!r.varint()) return 0n;
  return (BigInt(r.hi) << 32n) | BigInt(r.lo);
}

/** An `int64` as a bigint (two's complement). */
function i64(r: ProtoReader): bigint {
  return BigInt.asIntN(64, u64(r));
}

/** An `int32`: the low 32 bits of the varint, signed. */
function i32(r: ProtoReader): number {
  return r.varint() ? r.lo | 0 : 0;
}

function bool(r: ProtoReader): boolean {
  return r.varint() ? r.lo !== 0 || r.hi !== 0 : false;
}

function bytes(r: ProtoReader): Uint8Array {
  const outer = r.enter();
  if (outer < 0) return new Uint8Array(0);
  // A plain Uint8Array copy (the body may be a Buffer, whose slice is a view).
  const b = new Uint8Array(r.buf.subarray(r.pos, r.end));
  r.leave(outer);
  return b;
}

/** Reads one map entry `{key = 1 string; value = 2}` with `value` reading the value field. */
function mapEntry<V>(r: ProtoReader, message: string, value: (r: ProtoReader, wt: number) => V, empty: V): [string, V] | null {
  const outer = r.enter();
  if (outer < 0) return null;
  let k = '';
  let v = empty;
  while (r.more) {
    const key = r.key();
    if (key < 0) break;
    const f = key >>> 3;
    if (f === 1) {
      if (r.expect(key & 7, WireType.LEN, message, 1)) k = r.string();
    } else if (f === 2) v = value(r, key & 7);
    else r.skip(key & 7);
  }
  r.leave(outer);
  return r.failed ? null : [k, v];
}

function stringValue(r: ProtoReader, wt: number): string {
  return r.expect(wt, WireType.LEN, 'map entry', 2) ? r.string() : '';
}

function doubleValue(r: ProtoReader, wt: number): number {
  return r.expect(wt, WireType.FIXED64, 'map entry', 2) ? r.double() : 0;
}

function bytesValue(r: ProtoReader, wt: number): Uint8Array {
  return r.expect(wt, WireType.LEN, 'map entry', 2) ? bytes(r) : new Uint8Array(0);
}

function readStringMapEntry(r: ProtoReader, into: Record<string, string>): void {
  const e = mapEntry(r, 'map<string, string>', stringValue, '');
  if (e !== null) into[e[0]] = e[1];
}

/** `AttributeArrayValue` fields 1..5, shared with `AttributeAnyValue`. */
function readScalarAttr(r: ProtoReader, f: number, wt: number, v: Mutable<AttributeAnyValue>): boolean {
  switch (f) {
    case 1:
      if (r.expect(wt, WireType.VARINT, 'AttributeAnyValue', f)) v.type = r.uint32() as AttributeAnyValue['type'];
      return true;
    case 2:
      if (r.expect(wt, WireType.LEN, 'AttributeAnyValue', f)) v.stringValue = r.string();
      return true;
    case 3:
      if (r.expect(wt, WireType.VARINT, 'AttributeAnyValue', f)) v.boolValue = bool(r);
      return true;
    case 4:
      if (r.expect(wt, WireType.VARINT, 'AttributeAnyValue', f)) v.intValue = i64(r);
      return true;
    case 5:
      if (r.expect(wt, WireType.FIXED64, 'AttributeAnyValue', f)) v.doubleValue = r.double();
      return true;
    default:
      return false;
  }
}

function readAnyValue(r: ProtoReader, wt: number): AttributeAnyValue {
  const v: Mutable<AttributeAnyValue> = { type: 0 };
  if (!r.expect(wt, WireType.LEN, 'map entry', 2)) return v;
  const outer = r.enter();
  if (outer < 0) return v;
  while (r.more) {
    const key = r.key();
    if (key < 0) break;
    const f = key >>> 3;
    if (readScalarAttr(r, f, key & 7, v)) continue;
    if (f === 6 && r.expect(key & 7, WireType.LEN, 'AttributeAnyValue', 6)) {
      const values: AttributeArrayValue[] = [];
      const a = r.enter();
      if (a < 0) break;
      while (r.more) {
        const k = r.key();
        if (k < 0) break;
        if (k >>> 3 === 1 && r.expect(k & 7, WireType.LEN, 'AttributeArray', 1)) {
          const item: Mutable<AttributeAnyValue> = { type: 0 };
          const o = r.enter();
          if (o < 0) break;
          while (r.more) {
            const kk = r.key();
            if (kk < 0) break;
            if (!readScalarAttr(r, kk >>> 3, kk & 7, item)) r.skip(kk & 7);
          }
          r.leave(o);
          values.push(item as AttributeArrayValue);
        } else r.skip(k & 7);
      }
      r.leave(a);
      v.arrayValue = values;
    } else if (f !== 6) r.skip(key & 7);
  }
  r.leave(outer);
  return v;
}

function readLink(r: ProtoReader): SpanLink {
  const l: Mutable<SpanLink> = { traceId: 0n, traceIdHigh: 0n, spanId: 0n, attributes: {}, tracestate: '', flags: 0 };
  const attributes: Record<string, string> = {};
  const outer = r.enter();
  if (outer < 0) return l;
  while (r.more) {
    const key = r.key();
    if (key < 0) break;
    const f = key >>> 3;
    const wt = key & 7;
    switch (f) {
      case 1:
        if (r.expect(wt, WireType.VARINT, 'SpanLink', f)) l.traceId = u64(r);
        break;
      case 2:
        if (r.expect(wt, WireType.VARINT, 'SpanLink', f)) l.traceIdHigh = u64(r);
        break;
      case 3:
        if (r.expect(wt, WireType.VARINT, 'SpanLink', f)) l.spanId = u64(r);
        break;
      case 4:
        if (r.expect(wt, WireType.LEN, 'SpanLink', f)) readStringMapEntry(r, attributes);
        break;
      case 5:
        if (r.expect(wt, WireType.LEN, 'SpanLink', f)) l.tracestate = r.string();
        break;
      case 6:
        if (r.expect(wt, WireType.VARINT, 'SpanLink', f)) l.flags = r.uint32();
        break;
      default:
        r.skip(wt);
    }
  }
  r.leave(outer);
  l.attributes = attributes;
  return l;
}

function readEvent(r: ProtoReader): SpanEvent {
  const e: Mutable<SpanEvent> = { timeUnixNano: 0n, name: '', attributes: {} };
  const attributes: Record<string, AttributeAnyValue> = {};
  const outer = r.enter();
  if (outer < 0) return e;
  while (r.more) {
    const key = r.key();
    if (key < 0) break;
    const f = key >>> 3;
    const wt = key & 7;
    if (f === 1) {
      if (r.expect(wt, WireType.FIXED64, 'SpanEvent', f)) {
        if (r.end - r.pos < 8) r.fail(DecodeErrorReason.TRUNCATED, 'fixed64 runs past the end of its message');
        else {
          e.timeUnixNano = Buffer.from(r.buf.buffer, r.buf.byteOffset, r.buf.byteLength).readBigUInt64LE(r.pos);
          r.pos += 8;
        }
      }
    } else if (f === 2) {
      if (r.expect(wt, WireType.LEN, 'SpanEvent', f)) e.name = r.string();
    } else if (f === 3) {
      if (r.expect(wt, WireType.LEN, 'SpanEvent', f)) {
        const entry = mapEntry(r, 'map<string, AttributeAnyValue>', readAnyValue, { type: 0 } as AttributeAnyValue);
        if (entry !== null) attributes[entry[0]] = entry[1];
      }
    } else r.skip(wt);
  }
  r.leave(outer);
  e.attributes = attributes;
  return e;
}

function readSpan(r: ProtoReader): Span {
  const s: Span = {
    service: '',
    name: '',
    resource: '',
    traceId: 0n,
    spanId: 0n,
    parentId: 0n,
    start: 0n,
    duration: 0,
    error: 0,
    type: '',
    meta: {},
    metrics: {},
    metaStruct: {},
    spanLinks: [],
    spanEvents: [],
  };
  const outer = r.enter();
  if (outer < 0) return s;
  while (r.more) {
    const key = r.key();
    if (key < 0) break;
    const f = key >>> 3;
    const wt = key & 7;
    switch (f) {
      case 1:
        if (r.expect(wt, WireType.LEN, 'Span', f)) s.service = r.string();
        break;
      case 2:
        if (r.expect(wt, WireType.LEN, 'Span', f)) s.name = r.string();
        break;
      case 3:
        if (r.expect(wt, WireType.LEN, 'Span', f)) s.resource = r.string();
        break;
      case 4:
        if (r.expect(wt, WireType.VARINT, 'Span', f)) s.traceId = u64(r);
        break;
      case 5:
        if (r.expect(wt, WireType.VARINT, 'Span', f)) s.spanId = u64(r);
        break;
      case 6:
        if (r.expect(wt, WireType.VARINT, 'Span', f)) s.parentId = u64(r);
        break;
      case 7:
        if (r.expect(wt, WireType.VARINT, 'Span', f)) s.start = i64(r);
        break;
      case 8:
        if (r.expect(wt, WireType.VARINT, 'Span', f)) s.duration = Number(i64(r));
        break;
      case 9:
        if (r.expect(wt, WireType.VARINT, 'Span', f)) s.error = i32(r);
        break;
      case 10:
        if (r.expect(wt, WireType.LEN, 'Span', f)) readStringMapEntry(r, s.meta);
        break;
      case 11:
        if (r.expect(wt, WireType.LEN, 'Span', f)) {
          const e = mapEntry(r, 'map<string, double>', doubleValue, 0);
          if (e !== null) s.metrics[e[0]] = e[1];
        }
        break;
      case 12:
        if (r.expect(wt, WireType.LEN, 'Span', f)) s.type = r.string();
        break;
      case 13:
        if (r.expect(wt, WireType.LEN, 'Span', f)) {
          const e = mapEntry(r, 'map<string, bytes>', bytesValue, new Uint8Array(0));
          if (e !== null) s.metaStruct[e[0]] = e[1];
        }
        break;
      case 14:
        if (r.expect(wt, WireType.LEN, 'Span', f)) s.spanLinks.push(readLink(r));
        break;
      case 15:
        if (r.expect(wt, WireType.LEN, 'Span', f)) s.spanEvents.push(readEvent(r));
        break;
      default:
        r.skip(wt);
    }
  }
  r.leave(outer);
  return s;
}

function readChunk(r: ProtoReader): TraceChunk {
  const c: TraceChunk = { priority: 0, origin: '', spans: [], tags: {}, droppedTrace: false };
  const outer = r.enter();
  if (outer < 0) return c;
  while (r.more) {
    const key = r.key();
    if (key < 0) break;
    const f = key >>> 3;
    const wt = key & 7;
    switch (f) {
      case 1:
        if (r.expect(wt, WireType.VARINT, 'TraceChunk', f)) c.priority = i32(r);
        break;
      case 2:
        if (r.expect(wt, WireType.LEN, 'TraceChunk', f)) c.origin = r.string();
        break;
      case 3:
        if (r.expect(wt, WireType.LEN, 'TraceChunk', f)) c.spans.push(readSpan(r));
        break;
      case 4:
        if (r.expect(wt, WireType.LEN, 'TraceChunk', f)) readStringMapEntry(r, c.tags);
        break;
      case 5:
        if (r.expect(wt, WireType.VARINT, 'TraceChunk', f)) c.droppedTrace = bool(r);
        break;
      default:
        r.skip(wt);
    }
  }
  r.leave(outer);
  return c;
}

const TRACER_PAYLOAD_STRINGS = ['', 'containerId', 'languageName', 'languageVersion', 'tracerVersion', 'runtimeId'] as const;

function readTracerPayload(r: ProtoReader): TracerPayload {
  const p: TracerPayload = {
    containerId: '',
    languageName: '',
    languageVersion: '',
    tracerVersion: '',
    runtimeId: '',
    chunks: [],
    tags: {},
    env: '',
    hostname: '',
    appVersion: '',
  };
  const outer = r.enter();
  if (outer < 0) return p;
  while (r.more) {
    const key = r.key();
    if (key < 0) break;
    const f = key >>> 3;
    const wt = key & 7;
    if (f >= 1 && f <= 5) {
      if (r.expect(wt, WireType.LEN, 'TracerPayload', f)) p[TRACER_PAYLOAD_STRINGS[f] as Exclude<(typeof TRACER_PAYLOAD_STRINGS)[number], ''>] = r.string();
    } else if (f === 6) {
      if (r.expect(wt, WireType.LEN, 'TracerPayload', f)) p.chunks.push(readChunk(r));
    } else if (f === 7) {
      if (r.expect(wt, WireType.LEN, 'TracerPayload', f)) readStringMapEntry(r, p.tags);
    } else if (f === 8) {
      if (r.expect(wt, WireType.LEN, 'TracerPayload', f)) p.env = r.string();
    } else if (f === 9) {
      if (r.expect(wt, WireType.LEN, 'TracerPayload', f)) p.hostname = r.string();
    } else if (f === 10) {
      if (r.expect(wt, WireType.LEN, 'TracerPayload', f)) p.appVersion = r.string();
    } else r.skip(wt);
  }
  r.leave(outer);
  return p;
}

/**
 * Decodes an uncompressed `/api/v0.2/traces` body (protobuf `AgentPayload`). Unknown fields
 * (the retired `traces`/`transactions`, `idxTracerPayloads`, `containerDebug`) are skipped.
 * Never throws.
 */
export function decodeAgentPayload(body: Uint8Array): DecodeResult<AgentPayload> {
  const r = new ProtoReader(body);
  const p: AgentPayload = {
    hostName: '',
    env: '',
    tracerPayloads: [],
    tags: {},
    agentVersion: '',
    targetTPS: 0,
    errorTPS: 0,
    rareSamplerEnabled: false,
  };
  while (r.more) {
    const key = r.key();
    if (key < 0) break;
    const f = key >>> 3;
    const wt = key & 7;
    switch (f) {
      case 1:
        if (r.expect(wt, WireType.LEN, 'AgentPayload', f)) p.hostName = r.string();
        break;
      case 2:
        if (r.expect(wt, WireType.LEN, 'AgentPayload', f)) p.env = r.string();
        break;
      case 5:
        if (r.expect(wt, WireType.LEN, 'AgentPayload', f)) p.tracerPayloads.push(readTracerPayload(r));
        break;
      case 6:
        if (r.expect(wt, WireType.LEN, 'AgentPayload', f)) readStringMapEntry(r, p.tags);
        break;
      case 7:
        if (r.expect(wt, WireType.LEN, 'AgentPayload', f)) p.agentVersion = r.string();
        break;
      case 8:
        if (r.expect(wt, WireType.FIXED64, 'AgentPayload', f)) p.targetTPS = r.double();
        break;
      case 9:
        if (r.expect(wt, WireType.FIXED64, 'AgentPayload', f)) p.errorTPS = r.double();
        break;
      case 10:
        if (r.expect(wt, WireType.VARINT, 'AgentPayload', f)) p.rareSamplerEnabled = bool(r);
        break;
      default:
        r.skip(wt);
    }
  }
  return r.failed ? decodeError(r.reason ?? DecodeErrorReason.TRUNCATED, r.message) : decoded(p);
}
