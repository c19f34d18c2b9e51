/**
 * The msgpack trace payloads: v0.3/v0.4 (array of traces of span maps), v0.5 (string table and
 * 12-element span arrays) and v0.7 (a `TracerPayload` map), into `TracerPayload`s.
 *
 * Sources: `pkg/trace/api/version.go` (the formats), `pkg/trace/api/api.go`
 * (`decodeTracerPayload`, `traceChunksFromTraces`), `pkg/proto/pbgo/trace/trace_gen.go`,
 * `decoder_v05.go` and `tracer_payload_gen.go` (the decoders).
 */
import { PRIORITY_NONE, type CounterSet, type Span, type TraceChunk, type TracerPayload } from '@kennel/core';
import { traceDecodeErrors, type TraceDecodeErrorReason, type TraceDecodeFailure } from './errors.js';
import {
  ABORT,
  begin,
  fail,
  finish,
  keyString,
  peekNil,
  readArrayHeader,
  readBool,
  readF64,
  readI32,
  readI64,
  readI64Number,
  readKey,
  readMapHeader,
  readStr,
  readStrMap,
  readU32,
  readU64,
  setContext,
  skipNil,
  skipValue,
} from './reader.js';
import { byKey, MAX_KEYS, numberShapes, stringShapes, type ShapeNode } from './shapes.js';
import { makeSpan, readSpanMap } from './spans.js';
import { MAX_SPANS_PER_PAYLOAD, type MsgpackTraceVersion, type TraceDecodeOptions, type TraceDecodeResult, type TraceRequestMeta } from './types.js';

let spanCount = 0;
/** Spans this payload may still announce (see `TraceDecodeOptions.maxSpans`). */
let spanBudget = MAX_SPANS_PER_PAYLOAD;
let spanMax = MAX_SPANS_PER_PAYLOAD;
// The trace (or chunk) being read, for messages.
let currentTrace = -1;

/**
 * Decodes a msgpack trace payload of the given endpoint version into a `TracerPayload`.
 *
 * @remarks
 * v0.3, v0.4 and v0.5 chunks get priority `PRIORITY_NONE` (-128) and empty tags, and the
 * payload's language, tracer version and container id come from `meta` (the request headers).
 * A v0.7 payload is taken as it is (a chunk without `priority` has priority 0, as in the agent).
 * Nil spans and nil chunks are dropped. Bytes after the payload are ignored, as the agent ignores
 * them. Never throws: a malformed body returns `{ ok: false, reason, message }` and bumps the
 * reason's counter.
 *
 * @example
 * ```ts
 * const r = decodeTraces(body, 'v0.4', { lang: req.headers['datadog-meta-lang'] });
 * if (!r.ok) return reply(400, r.message);
 * ```
 */
export function decodeTraces(
  body: Uint8Array,
  version: MsgpackTraceVersion,
  meta: TraceRequestMeta = {},
  options: TraceDecodeOptions = {},
): TraceDecodeResult {
  spanCount = 0;
  spanMax = options.maxSpans ?? MAX_SPANS_PER_PAYLOAD;
  spanBudget = spanMax;
  currentTrace = -1;
  begin(body);
  try {
    let payload: TracerPayload;
    switch (version) {
      case 'v0.3':
      case 'v0.4':
        payload = fromHeaders(decodeV04(), meta);
        break;
      case 'v0.5':
        payload = fromHeaders(decodeV05(), meta);
        break;
      case 'v0.7':
        payload = decodeV07();
        break;
      default:
        return failure(options.counters, 'unsupported_version', `unsupported trace endpoint version ${String(version)}`);
    }
    return { ok: true, payload, spans: spanCount };
  } catch (e) {
    return caught(e, options.counters);
  } finally {
    finish();
  }
}

/** Turns what a decode threw into a failure result (and counts it). */
export function caught(e: unknown, counters: CounterSet<TraceDecodeErrorReason> | undefined): TraceDecodeFailure {
  if (e === ABORT) return failure(counters, ABORT.reason, ABORT.message);
  // Not a decode failure: a bug, or the engine running out of memory. Still never thrown.
  return failure(counters, 'internal', `internal decoder error: ${e instanceof Error ? e.message : String(e)}`);
}

/** A counted failure result. */
export function failure(
  counters: CounterSet<TraceDecodeErrorReason> | undefined,
  reason: TraceDecodeErrorReason,
  message: string,
): TraceDecodeFailure {
  const c = counters ?? traceDecodeErrors;
  c.values[c.index(reason)]! += 1;
  return { ok: false, reason, message };
}

/** The chunk of a v0.1 to v0.5 trace (`traceChunksFromTraces`). */
export function makeChunk(spans: Span[]): TraceChunk {
  return { priority: PRIORITY_NONE, origin: '', spans, tags: {}, droppedTrace: false };
}

/** The payload of v0.1 to v0.5 chunks, described by the request headers. */
export function fromHeaders(chunks: TraceChunk[], meta: TraceRequestMeta): TracerPayload {
  return {
    containerId: meta.containerId ?? '',
    languageName: meta.lang ?? '',
    languageVersion: meta.langVersion ?? '',
    tracerVersion: meta.tracerVersion ?? '',
    runtimeId: '',
    chunks,
    tags: {},
    env: '',
    hostname: '',
    appVersion: '',
  };
}

// ---------------------------------------------------------------------------------------------
// v0.3 / v0.4: [[span, ...], ...]

function decodeV04(): TraceChunk[] {
  const nTraces = readArrayHeader('traces', false);
  const chunks: TraceChunk[] = [];
  for (let t = 0; t < nTraces; t++) {
    currentTrace = t;
    setContext(t, -1);
    chunks.push(makeChunk(readSpanList()));
  }
  currentTrace = -1;
  return chunks;
}

/** An array of span maps; nil spans are dropped. */
function readSpanList(): Span[] {
  const n = readArrayHeader('trace', true);
  spendSpans(n);
  const spans: Span[] = [];
  for (let s = 0; s < n; s++) {
    if (peekNil()) {
      skipNil();
      continue;
    }
    setContextSpan(s);
    spans.push(readSpanMap());
    spanCount++;
  }
  return spans;
}

/** Takes `n` spans announced by a header from the payload's budget, or fails before they are read. */
function spendSpans(n: number): void {
  if (n > spanBudget) {
    fail('too_many_spans', `the payload announces more than ${spanMax} spans (kennel's span budget per payload)`);
  }
  spanBudget -= n;
}

function setContextSpan(s: number): void {
  setContext(currentTrace, s);
}

// ---------------------------------------------------------------------------------------------
// v0.5: [ [string...], [[ [12 fields], ... ], ...] ]

function decodeV05(): TraceChunk[] {
  // The agent reads the outer header and ignores its count (`UnmarshalMsgDictionary`).
  readArrayHeader('payload', false);
  const nStrings = readArrayHeader('string table', false);
  const dict: string[] = new Array<string>(nStrings);
  for (let i = 0; i < nStrings; i++) dict[i] = readStr('string table entry');
  const nTraces = readArrayHeader('traces', false);
  const chunks: TraceChunk[] = [];
  for (let t = 0; t < nTraces; t++) {
    currentTrace = t;
    setContext(t, -1);
    const nSpans = readArrayHeader('trace', false);
    spendSpans(nSpans);
    const spans: Span[] = [];
    for (let s = 0; s < nSpans; s++) {
      setContext(t, s);
      spans.push(readSpanV05(dict));
      spanCount++;
    }
    chunks.push(makeChunk(spans));
  }
  currentTrace = -1;
  return chunks;
}

function str(dict: string[], what: string): string {
  const i = readU32(what);
  if (i >= dict.length) fail('v05_string_index', `${what}: string index ${i} out of range (string table length ${dict.length})`);
  return dict[i]!;
}

function readSpanV05(dict: string[]): Span {
  const n = readArrayHeader('span', false);
  if (n !== 12) fail('v05_span_length', `encoded span needs exactly 12 elements in array, got ${n}`);
  const service = str(dict, 'service');
  const name = str(dict, 'name');
  const resource = str(dict, 'resource');
  const traceId = readU64('trace_id');
  const spanId = readU64('span_id');
  const parentId = readU64('parent_id');
  const start = readI64('start');
  const duration = readI64Number('duration');
  const error = readI32('error');
  const meta = readDictMeta(dict);
  const metrics = readDictMetrics(dict);
  const type = str(dict, 'type');
  return makeSpan(service, name, resource, traceId, spanId, parentId, start, duration, error, type, meta, metrics, {}, [], []);
}

/** A v0.5 meta map: string-table keys and values, built through the key-sequence tree (`shapes.ts`). */
function readDictMeta(dict: string[]): Record<string, string> {
  const n = readMapHeader('meta', false);
  if (n === 0) return {};
  const t = stringShapes;
  const keys = t.keys;
  const vals = t.vals;
  let node: ShapeNode<string> | null = n <= MAX_KEYS ? t.root : null;
  for (let i = 0; i < n; i++) {
    const k = str(dict, 'meta key');
    if (node !== null) {
      const nx = node.next;
      node = nx !== null && nx.key === k ? nx : t.child(node, k);
    }
    const v = str(dict, 'meta value');
    if (i < MAX_KEYS) {
      keys[i] = k;
      vals[i] = v;
    } else {
      keys.push(k);
      vals.push(v);
    }
  }
  if (node !== null) return t.build(node, n);
  const out = byKey(keys, vals, n);
  if (n > MAX_KEYS) t.trim();
  return out;
}

/** A v0.5 metrics map: string-table keys, float64 values. */
function readDictMetrics(dict: string[]): Record<string, number> {
  const n = readMapHeader('metrics', false);
  if (n === 0) return {};
  const t = numberShapes;
  const keys = t.keys;
  const vals = t.vals;
  let node: ShapeNode<number> | null = n <= MAX_KEYS ? t.root : null;
  for (let i = 0; i < n; i++) {
    const k = str(dict, 'metrics key');
    if (node !== null) {
      const nx = node.next;
      node = nx !== null && nx.key === k ? nx : t.child(node, k);
    }
    const v = readF64('metrics value');
    if (i < MAX_KEYS) {
      keys[i] = k;
      vals[i] = v;
    } else {
      keys.push(k);
      vals.push(v);
    }
  }
  if (node !== null) return t.build(node, n);
  const out = byKey(keys, vals, n);
  if (n > MAX_KEYS) t.trim();
  return out;
}

// ---------------------------------------------------------------------------------------------
// v0.7: TracerPayload map

function decodeV07(): TracerPayload {
  const n = readMapHeader('tracer payload', false);
  let containerId = '';
  let languageName = '';
  let languageVersion = '';
  let tracerVersion = '';
  let runtimeId = '';
  let chunks: TraceChunk[] = [];
  let tags: Record<string, string> = {};
  let env = '';
  let hostname = '';
  let appVersion = '';
  for (let i = 0; i < n; i++) {
    readKey('tracer payload key');
    switch (keyString()) {
      case 'container_id':
        containerId = readStr('container_id');
        break;
      case 'language_name':
        languageName = readStr('language_name');
        break;
      case 'language_version':
        languageVersion = readStr('language_version');
        break;
      case 'tracer_version':
        tracerVersion = readStr('tracer_version');
        break;
      case 'runtime_id':
        runtimeId = readStr('runtime_id');
        break;
      case 'chunks':
        chunks = readChunks();
        break;
      case 'tags':
        tags = readStrMap('tags');
        break;
      case 'env':
        env = readStr('env');
        break;
      case 'hostname':
        hostname = readStr('hostname');
        break;
      case 'app_version':
        appVersion = readStr('app_version');
        break;
      default:
        skipValue('tracer payload');
    }
  }
  return { containerId, languageName, languageVersion, tracerVersion, runtimeId, chunks, tags, env, hostname, appVersion };
}

function readChunks(): TraceChunk[] {
  const n = readArrayHeader('chunks', true);
  const out: TraceChunk[] = [];
  for (let c = 0; c < n; c++) {
    currentTrace = c;
    setContext(c, -1);
    if (peekNil()) {
      skipNil();
      continue;
    }
    out.push(readChunk());
  }
  currentTrace = -1;
  return out;
}

function readChunk(): TraceChunk {
  const n = readMapHeader('chunk', false);
  let priority = 0;
  let origin = '';
  let spans: Span[] = [];
  let tags: Record<string, string> = {};
  let droppedTrace = false;
  for (let i = 0; i < n; i++) {
    readKey('chunk key');
    switch (keyString()) {
      case 'priority':
        priority = readI32('priority');
        break;
      case 'origin':
        origin = readStr('origin');
        break;
      case 'spans':
        spans = readSpanList();
        break;
      case 'tags':
        tags = readStrMap('chunk tags');
        break;
      case 'dropped_trace':
        droppedTrace = readBool('dropped_trace');
        break;
      default:
        skipValue('chunk');
    }
  }
  return { priority, origin, spans, tags, droppedTrace };
}
