import { CounterSet } from '@kennel/core';
import type { AttributeAnyValue, AttributeArrayValue, Span, SpanEvent, SpanLink, TraceChunk, TracerPayload } from '@kennel/core';
import type { ApmCompression } from '../compression/apm.js';
import { WriteBuffer } from '../internal/write-buffer.js';
import { AGENT_VERSION } from '../transport/endpoints.js';
import {
  APM_ENCODER_COUNTERS,
  ApmContentType,
  ApmEndpoint,
  apmHeaders,
  traceAgentUserAgent,
  TRACE_AGENT_GIT_COMMIT,
  type ApmEncoderCounterName,
  type ApmPayload,
} from './apm-payload.js';
import type { EncodeResult } from './types.js';

/**
 * `MaxPayloadSize`: 3,200,000 bytes, "the maximum allowed by the Datadog API"
 * (`pkg/trace/writer/trace.go`). The agent compares its msgpack size estimate with it; kennel
 * compares the exact uncompressed protobuf size.
 */
export const MAX_TRACE_PAYLOAD_SIZE = 3_200_000;

// Field keys ((number << 3) | wire type), libdd-trace-protobuf/src/pb/agent_payload.proto,
// tracer_payload.proto and span.proto (shared/spec/traces.md §d.2).
const K_AP_HOSTNAME = 0x0a; // AgentPayload.hostName = 1
const K_AP_ENV = 0x12; // env = 2
const K_AP_TRACER_PAYLOADS = 0x2a; // tracerPayloads = 5
const K_AP_TAGS = 0x32; // tags = 6
const K_AP_AGENT_VERSION = 0x3a; // agentVersion = 7
const K_AP_TARGET_TPS = 0x41; // targetTPS = 8, double
const K_AP_ERROR_TPS = 0x49; // errorTPS = 9, double
const K_AP_RARE = 0x50; // rareSamplerEnabled = 10, bool
const K_TP_CONTAINER_ID = 0x0a; // TracerPayload.containerID = 1
const K_TP_LANGUAGE = 0x12; // languageName = 2
const K_TP_LANGUAGE_VERSION = 0x1a; // languageVersion = 3
const K_TP_TRACER_VERSION = 0x22; // tracerVersion = 4
const K_TP_RUNTIME_ID = 0x2a; // runtimeID = 5
const K_TP_CHUNKS = 0x32; // chunks = 6
const K_TP_TAGS = 0x3a; // tags = 7
const K_TP_ENV = 0x42; // env = 8
const K_TP_HOSTNAME = 0x4a; // hostname = 9
const K_TP_APP_VERSION = 0x52; // appVersion = 10
const K_TC_PRIORITY = 0x08; // TraceChunk.priority = 1, int32
const K_TC_ORIGIN = 0x12; // origin = 2
const K_TC_SPANS = 0x1a; // spans = 3
const K_TC_TAGS = 0x22; // tags = 4
const K_TC_DROPPED = 0x28; // droppedTrace = 5, bool
const K_S_SERVICE = 0x0a; // Span.service = 1
const K_S_NAME = 0x12; // name = 2
const K_S_RESOURCE = 0x1a; // resource = 3
const K_S_TRACE_ID = 0x20; // traceID = 4, uint64
const K_S_SPAN_ID = 0x28; // spanID = 5, uint64
const K_S_PARENT_ID = 0x30; // parentID = 6, uint64
const K_S_START = 0x38; // start = 7, int64
const K_S_DURATION = 0x40; // duration = 8, int64
const K_S_ERROR = 0x48; // error = 9, int32
const K_S_META = 0x52; // meta = 10, map<string, string>
const K_S_METRICS = 0x5a; // metrics = 11, map<string, double>
const K_S_TYPE = 0x62; // type = 12
const K_S_META_STRUCT = 0x6a; // meta_struct = 13, map<string, bytes>
const K_S_LINKS = 0x72; // spanLinks = 14
const K_S_EVENTS = 0x7a; // spanEvents = 15
const K_L_TRACE_ID = 0x08; // SpanLink.traceID = 1
const K_L_TRACE_ID_HIGH = 0x10; // traceID_high = 2
const K_L_SPAN_ID = 0x18; // spanID = 3
const K_L_ATTRIBUTES = 0x22; // attributes = 4
const K_L_TRACESTATE = 0x2a; // tracestate = 5
const K_L_FLAGS = 0x30; // flags = 6, uint32
const K_E_TIME = 0x09; // SpanEvent.time_unix_nano = 1, fixed64
const K_E_NAME = 0x12; // name = 2
const K_E_ATTRIBUTES = 0x1a; // attributes = 3, map<string, AttributeAnyValue>
const K_V_TYPE = 0x08; // AttributeAnyValue.type = 1 (AttributeArrayValue too)
const K_V_STRING = 0x12; // string_value = 2
const K_V_BOOL = 0x18; // bool_value = 3
const K_V_INT = 0x20; // int_value = 4, int64
const K_V_DOUBLE = 0x29; // double_value = 5
const K_V_ARRAY = 0x32; // array_value = 6 (AttributeArray { values = 1 })
const K_MAP_KEY = 0x0a; // map entry key = 1
const K_MAP_VALUE_LEN = 0x12; // map entry value = 2 (string, bytes, message)
const K_MAP_VALUE_DOUBLE = 0x11; // map entry value = 2 (double)

const U64 = 0xffffffffffffffffn;

/** A varint of a 64-bit value given as a bigint (int64 values as their two's complement). */
export function writeVarintBig(w: WriteBuffer, v: bigint): void {
  let u = v & U64;
  if (u < 0x100000000n) {
    w.varint32(Number(u));
    return;
  }
  w.ensure(10);
  const buf = w.buf;
  let p = w.pos;
  while (u > 0x7fn) {
    buf[p++] = Number(u & 0x7fn) | 0x80;
    u >>= 7n;
  }
  buf[p++] = Number(u);
  w.pos = p;
}

/** An int64 or int32 field from a number (negative values as 10-byte two's complement), omitted when 0. */
function intField(w: WriteBuffer, key: number, v: number): void {
  const n = Number.isFinite(v) ? Math.trunc(v) : 0;
  if (n === 0) return;
  w.byte(key);
  if (Number.isSafeInteger(n)) w.varint64(n);
  else writeVarintBig(w, BigInt(n));
}

function bigField(w: WriteBuffer, key: number, v: bigint): void {
  if (v === 0n) return;
  w.byte(key);
  writeVarintBig(w, v);
}

function boolField(w: WriteBuffer, key: number, v: boolean): void {
  if (!v) return;
  w.byte(key);
  w.byte(1);
}

function doubleField(w: WriteBuffer, key: number, v: number): void {
  // proto3 omits 0 (and -0); NaN is written.
  if (v === 0) return;
  w.byte(key);
  w.double(v);
}

/** A length-delimited string written even when empty (map entry keys and values are always written). */
function str(w: WriteBuffer, key: number, s: string): void {
  w.ensure(s.length * 3 + 6);
  w.buf[w.pos++] = key;
  const start = w.pos++;
  w.pos += w.buf.write(s, w.pos);
  w.ldelim(start);
}

function stringMap(w: WriteBuffer, key: number, m: Readonly<Record<string, string>>): void {
  for (const k in m) {
    w.byte(key);
    const e = w.fork();
    str(w, K_MAP_KEY, k);
    str(w, K_MAP_VALUE_LEN, m[k]!);
    w.ldelim(e);
  }
}

function writeArrayValue(w: WriteBuffer, v: AttributeArrayValue): void {
  if (v.type !== 0) {
    w.byte(K_V_TYPE);
    w.varint32(v.type);
  }
  if (v.stringValue !== undefined) w.stringField(K_V_STRING, v.stringValue);
  boolField(w, K_V_BOOL, v.boolValue === true);
  if (v.intValue !== undefined) bigField(w, K_V_INT, v.intValue);
  if (v.doubleValue !== undefined) doubleField(w, K_V_DOUBLE, v.doubleValue);
}

function writeAnyValue(w: WriteBuffer, v: AttributeAnyValue): void {
  writeArrayValue(w, v as AttributeArrayValue);
  const arr = v.arrayValue;
  if (arr !== undefined && arr.length > 0) {
    w.byte(K_V_ARRAY);
    const a = w.fork();
    for (const item of arr) {
      w.byte(0x0a);
      const it = w.fork();
      writeArrayValue(w, item);
      w.ldelim(it);
    }
    w.ldelim(a);
  }
}

function writeLink(w: WriteBuffer, l: SpanLink): void {
  w.byte(K_S_LINKS);
  const start = w.fork();
  bigField(w, K_L_TRACE_ID, l.traceId);
  bigField(w, K_L_TRACE_ID_HIGH, l.traceIdHigh);
  bigField(w, K_L_SPAN_ID, l.spanId);
  stringMap(w, K_L_ATTRIBUTES, l.attributes);
  w.stringField(K_L_TRACESTATE, l.tracestate);
  if (l.flags !== 0) {
    w.byte(K_L_FLAGS);
    w.varint32(l.flags >>> 0);
  }
  w.ldelim(start);
}

function writeEvent(w: WriteBuffer, e: SpanEvent): void {
  w.byte(K_S_EVENTS);
  const start = w.fork();
  const t = e.timeUnixNano & U64;
  if (t !== 0n) {
    w.byte(K_E_TIME);
    w.ensure(8);
    w.buf.writeBigUInt64LE(t, w.pos);
    w.pos += 8;
  }
  w.stringField(K_E_NAME, e.name);
  for (const k in e.attributes) {
    w.byte(K_E_ATTRIBUTES);
    const entry = w.fork();
    str(w, K_MAP_KEY, k);
    w.byte(K_MAP_VALUE_LEN);
    const v = w.fork();
    writeAnyValue(w, e.attributes[k]!);
    w.ldelim(v);
    w.ldelim(entry);
  }
  w.ldelim(start);
}

/** Writes one `Span` message body. */
export function writeSpan(w: WriteBuffer, s: Span): void {
  w.stringField(K_S_SERVICE, s.service);
  w.stringField(K_S_NAME, s.name);
  w.stringField(K_S_RESOURCE, s.resource);
  bigField(w, K_S_TRACE_ID, s.traceId);
  bigField(w, K_S_SPAN_ID, s.spanId);
  bigField(w, K_S_PARENT_ID, s.parentId);
  bigField(w, K_S_START, s.start);
  intField(w, K_S_DURATION, s.duration);
  intField(w, K_S_ERROR, s.error | 0);
  stringMap(w, K_S_META, s.meta);
  for (const k in s.metrics) {
    w.byte(K_S_METRICS);
    const e = w.fork();
    str(w, K_MAP_KEY, k);
    w.byte(K_MAP_VALUE_DOUBLE);
    w.double(s.metrics[k]!);
    w.ldelim(e);
  }
  w.stringField(K_S_TYPE, s.type);
  for (const k in s.metaStruct) {
    w.byte(K_S_META_STRUCT);
    const e = w.fork();
    str(w, K_MAP_KEY, k);
    w.byte(K_MAP_VALUE_LEN);
    const v = w.fork();
    w.bytes(s.metaStruct[k]!);
    w.ldelim(v);
    w.ldelim(e);
  }
  for (const l of s.spanLinks) writeLink(w, l);
  for (const e of s.spanEvents) writeEvent(w, e);
}

/** Writes one `TraceChunk` message body. */
export function writeChunk(w: WriteBuffer, c: TraceChunk): void {
  intField(w, K_TC_PRIORITY, c.priority | 0);
  w.stringField(K_TC_ORIGIN, c.origin);
  for (const s of c.spans) {
    w.byte(K_TC_SPANS);
    const start = w.fork();
    writeSpan(w, s);
    w.ldelim(start);
  }
  stringMap(w, K_TC_TAGS, c.tags);
  boolField(w, K_TC_DROPPED, c.droppedTrace);
}

/** Writes `AgentPayload.tracerPayloads` entry holding `chunks` (a subset of `tp.chunks` when split). */
function writeTracerPayload(w: WriteBuffer, tp: TracerPayload, chunks: readonly TraceChunk[]): void {
  w.byte(K_AP_TRACER_PAYLOADS);
  const start = w.fork();
  writeTracerPayloadBody(w, tp, chunks);
  w.ldelim(start);
}

/** Writes one `TracerPayload` message body holding `chunks`. */
export function writeTracerPayloadBody(w: WriteBuffer, tp: TracerPayload, chunks: readonly TraceChunk[]): void {
  w.stringField(K_TP_CONTAINER_ID, tp.containerId);
  w.stringField(K_TP_LANGUAGE, tp.languageName);
  w.stringField(K_TP_LANGUAGE_VERSION, tp.languageVersion);
  w.stringField(K_TP_TRACER_VERSION, tp.tracerVersion);
  w.stringField(K_TP_RUNTIME_ID, tp.runtimeId);
  for (const c of chunks) {
    w.byte(K_TP_CHUNKS);
    const cs = w.fork();
    writeChunk(w, c);
    w.ldelim(cs);
  }
  stringMap(w, K_TP_TAGS, tp.tags);
  w.stringField(K_TP_ENV, tp.env);
  w.stringField(K_TP_HOSTNAME, tp.hostname);
  w.stringField(K_TP_APP_VERSION, tp.appVersion);
}

function varintLength(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

export interface TraceEncoderOptions {
  /** `AgentPayload.hostName`: the agent's host name. @defaultValue `''` */
  readonly hostname?: string;
  /** `AgentPayload.env`: the agent's `default_env`. @defaultValue `'none'` */
  readonly env?: string;
  /** `AgentPayload.agentVersion`, also in the user agent. @defaultValue `AGENT_VERSION` */
  readonly agentVersion?: string;
  /** The git commit in the user agent. @defaultValue {@link TRACE_AGENT_GIT_COMMIT} */
  readonly gitCommit?: string;
  /** `AgentPayload.targetTPS` (the priority sampler's). @defaultValue `10` */
  readonly targetTPS?: number;
  /** `AgentPayload.errorTPS` (the errors sampler's). @defaultValue `10` */
  readonly errorTPS?: number;
  /** `AgentPayload.rareSamplerEnabled`. @defaultValue `false` */
  readonly rareSamplerEnabled?: boolean;
  /** `AgentPayload.tags`. @defaultValue `{}` */
  readonly tags?: Readonly<Record<string, string>>;
  /** Uncompressed bytes per payload. @defaultValue {@link MAX_TRACE_PAYLOAD_SIZE} */
  readonly maxPayloadSize?: number;
}

/**
 * The `/api/v0.2/traces` encoder: protobuf `AgentPayload` with one `tracerPayloads` entry per
 * added `TracerPayload`, compressed whole (zstd, or gzip without it) as the trace writer does.
 *
 * @remarks
 * Fields are written in field-number order and proto3 defaults (empty strings, zero numbers,
 * false) are omitted; map entries always carry their key and value; maps are written in the
 * object's key order. The `AgentPayload` header (host, env) and footer (tags, version, target
 * TPS, error TPS, rare sampler) frame every payload.
 *
 * `add` returns `'flush-required'` when the tracer payload does not fit the open payload (call
 * `finish()` and add it again). A tracer payload too big for an empty payload is cut between
 * its chunks into several payloads (counted in `Splits`; `finish()` then returns them all); a
 * chunk too big on its own is dropped (`ItemTooBig`, its spans in `SpansTooBig`), as the intake
 * would refuse it.
 *
 * @example
 * ```ts
 * const encoder = new TraceEncoder({ hostname: 'web-1', env: 'prod' }, await loadTraceCompression());
 * if (encoder.add(tracerPayload) === 'flush-required') { send(encoder.finish()); encoder.add(tracerPayload); }
 * send(encoder.finish()); // POST body to /api/v0.2/traces with payload.headers
 * ```
 */
export class TraceEncoder {
  readonly kind = 'traces' as const;
  readonly counters = new CounterSet<ApmEncoderCounterName>('trace_writer', APM_ENCODER_COUNTERS);
  readonly maxPayloadSize: number;
  private readonly compression: ApmCompression;
  private readonly userAgent: string;
  private readonly w = new WriteBuffer(64 * 1024);
  private readonly scratch = new WriteBuffer(16 * 1024);
  private readonly header: Uint8Array;
  private readonly footer: Uint8Array;
  private readonly languages = new Set<string>();
  private readonly ready: ApmPayload[] = [];
  private items = 0;
  private chunks = 0;

  constructor(options: TraceEncoderOptions, compression: ApmCompression) {
    this.compression = compression;
    this.maxPayloadSize = options.maxPayloadSize ?? MAX_TRACE_PAYLOAD_SIZE;
    this.userAgent = traceAgentUserAgent(options.agentVersion ?? AGENT_VERSION, options.gitCommit ?? TRACE_AGENT_GIT_COMMIT);
    const h = new WriteBuffer(256);
    h.stringField(K_AP_HOSTNAME, options.hostname ?? '');
    h.stringField(K_AP_ENV, options.env ?? 'none');
    this.header = Uint8Array.from(h.buf.subarray(0, h.pos));
    const f = new WriteBuffer(256);
    stringMap(f, K_AP_TAGS, options.tags ?? {});
    f.stringField(K_AP_AGENT_VERSION, options.agentVersion ?? AGENT_VERSION);
    doubleField(f, K_AP_TARGET_TPS, options.targetTPS ?? 10);
    doubleField(f, K_AP_ERROR_TPS, options.errorTPS ?? 10);
    boolField(f, K_AP_RARE, options.rareSamplerEnabled ?? false);
    this.footer = Uint8Array.from(f.buf.subarray(0, f.pos));
    this.reset();
  }

  /** Tracer payloads in the open payload. */
  get pendingItems(): number {
    return this.items;
  }

  private reset(): void {
    this.w.pos = 0;
    this.w.bytes(this.header);
    this.items = 0;
    this.chunks = 0;
  }

  private accept(tp: TracerPayload, chunks: readonly TraceChunk[]): void {
    const v = this.counters;
    this.items++;
    this.chunks += chunks.length;
    v.add('ItemsEncoded');
    v.add('ChunksEncoded', chunks.length);
    let spans = 0;
    for (const c of chunks) spans += c.spans.length;
    v.add('SpansEncoded', spans);
    if (tp.languageName !== '') this.languages.add(tp.languageName);
  }

  add(tp: TracerPayload): EncodeResult {
    const w = this.w;
    const start = w.pos;
    writeTracerPayload(w, tp, tp.chunks);
    const max = this.maxPayloadSize;
    if (w.pos + this.footer.length <= max) {
      this.accept(tp, tp.chunks);
      return 'ok';
    }
    w.pos = start;
    if (this.items > 0) {
      this.counters.add('PayloadFull');
      return 'flush-required';
    }
    this.split(tp);
    return 'ok';
  }

  /** Cuts a tracer payload too big for one payload between its chunks (the open payload is empty). */
  private split(tp: TracerPayload): void {
    const s = this.scratch;
    s.pos = 0;
    writeTracerPayloadBody(s, tp, []);
    // The tracer payload's body without chunks; each chunk adds its key, length and body.
    const emptyBody = s.pos;
    const sizes: number[] = [];
    for (const c of tp.chunks) {
      s.pos = 0;
      writeChunk(s, c);
      sizes.push(1 + varintLength(s.pos) + s.pos);
    }
    const room = this.maxPayloadSize - this.header.length - this.footer.length;
    const fits = (body: number): boolean => 1 + varintLength(body) + body <= room;
    let group: TraceChunk[] = [];
    let body = emptyBody;
    let pieces = 0;
    const emit = (last: boolean): void => {
      if (group.length === 0) return;
      writeTracerPayload(this.w, tp, group);
      this.accept(tp, group);
      pieces++;
      if (!last) this.ready.push(this.close()!);
      group = [];
      body = emptyBody;
    };
    for (let i = 0; i < tp.chunks.length; i++) {
      const c = tp.chunks[i]!;
      const size = sizes[i]!;
      if (!fits(emptyBody + size)) {
        this.counters.add('ItemTooBig');
        this.counters.add('SpansTooBig', c.spans.length);
        continue;
      }
      if (!fits(body + size)) emit(false);
      group.push(c);
      body += size;
    }
    emit(true);
    if (pieces > 1) this.counters.add('Splits');
  }

  private close(): ApmPayload | null {
    if (this.items === 0) {
      this.reset();
      return null;
    }
    const w = this.w;
    w.bytes(this.footer);
    const raw = w.buf.subarray(0, w.pos);
    const body = this.compression.compress(raw);
    const v = this.counters;
    v.add('TotalPayloads');
    v.add('BytesIn', raw.length);
    v.add('BytesOut', body.length);
    const payload: ApmPayload = {
      kind: 'traces',
      endpoint: ApmEndpoint.TRACES,
      contentType: ApmContentType.PROTOBUF,
      contentEncoding: this.compression.contentEncoding,
      headers: apmHeaders(ApmContentType.PROTOBUF, this.compression.contentEncoding, [...this.languages].sort(), this.userAgent),
      body,
      uncompressedBytes: raw.length,
      items: this.items,
      entries: this.chunks,
    };
    this.reset();
    return payload;
  }

  /** Closes the open payload: every payload a split produced, then the open one (none when empty). */
  finish(): ApmPayload[] {
    const out = this.ready.splice(0, this.ready.length);
    const last = this.close();
    if (last !== null) out.push(last);
    return out;
  }
}

/** Encodes every tracer payload, cutting payloads where the encoder asks (the encoder is left empty). */
export function encodeAllTraces(encoder: TraceEncoder, payloads: Iterable<TracerPayload>): ApmPayload[] {
  const out: ApmPayload[] = [];
  for (const tp of payloads) {
    if (encoder.add(tp) === 'flush-required') {
      out.push(...encoder.finish());
      encoder.add(tp);
    }
  }
  out.push(...encoder.finish());
  return out;
}
