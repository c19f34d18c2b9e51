/**
 * The JSON trace bodies: `/spans` and `/v0.1/spans` (a flat array of spans), and `/v0.2/traces`,
 * `/v0.3/traces` and `/v0.4/traces` with a JSON Content-Type (an array of traces of spans).
 *
 * @remarks
 * The agent decodes these with Go's `encoding/json` into `pb.Span` (`api.go`
 * `decodeTracerPayload`, `decodeRequest`), so this follows its rules: object keys match field
 * names case-insensitively, unknown keys are ignored, `null` leaves a field at its zero value,
 * integer fields take only integer literals in range (no `1.0`, no `1e3`), and a value of the
 * wrong type fails the whole body. Integers are parsed into bigints, so 64-bit ids are
 * lossless (`JSON.parse` would round them). v0.1 spans are grouped into chunks by trace id,
 * in the order each trace id first appears. Not a hot path: a plain recursive-descent parser.
 */
import type { AttributeAnyValue, AttributeArrayValue, Span, SpanEvent, SpanLink, TraceChunk } from '@kennel/core';
import { failure, fromHeaders, makeChunk } from './msgpack.js';
import { makeSpan } from './spans.js';
import { MAX_SPANS_PER_PAYLOAD, type JsonTraceVersion, type TraceDecodeOptions, type TraceDecodeResult, type TraceRequestMeta } from './types.js';

/** A JSON value; integer literals are bigints, other numbers are `JsonFloat`s. */
type Json = null | boolean | string | bigint | JsonFloat | Json[] | JsonObject;
class JsonFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}
class JsonObject {
  readonly entries: [string, Json][];
  constructor(entries: [string, Json][]) {
    this.entries = entries;
  }
}

class JsonError {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

/** The body holds more spans than the span budget (see `TraceDecodeOptions.maxSpans`). */
class SpanBudgetError {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

const MAX_DEPTH = 512;
const textDecoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * Decodes a JSON trace body. Never throws: a malformed body returns `{ ok: false, reason:
 * 'invalid_json', message }` and bumps the counter.
 */
export function decodeJsonTraces(
  body: Uint8Array,
  version: JsonTraceVersion,
  meta: TraceRequestMeta = {},
  options: TraceDecodeOptions = {},
): TraceDecodeResult {
  try {
    if (version !== 'v0.1' && version !== 'v0.2' && version !== 'v0.3' && version !== 'v0.4') {
      return failure(options.counters, 'unsupported_version', `unsupported JSON trace endpoint version ${String(version)}`);
    }
    // Spans are the elements of the top-level array (v0.1) or of its arrays (v0.2 to v0.4): the
    // parser counts them as it goes, so a body of tiny spans is refused before it is all built.
    const root = new JsonParser(textDecoder.decode(body), version === 'v0.1' ? 0 : 1, options.maxSpans ?? MAX_SPANS_PER_PAYLOAD).parseDocument();
    let chunks: TraceChunk[];
    let spans = 0;
    if (!Array.isArray(root)) throw new JsonError(`expected an array, got ${kind(root)}`);
    if (version === 'v0.1') {
      const byTrace = new Map<bigint, Span[]>();
      for (let i = 0; i < root.length; i++) {
        const v = root[i]!;
        if (v === null) continue;
        const s = toSpan(v, `span ${i}`);
        let list = byTrace.get(s.traceId);
        if (list === undefined) byTrace.set(s.traceId, (list = []));
        list.push(s);
        spans++;
      }
      chunks = [...byTrace.values()].map(makeChunk);
    } else if (version === 'v0.2' || version === 'v0.3' || version === 'v0.4') {
      chunks = [];
      for (let t = 0; t < root.length; t++) {
        const trace = root[t]!;
        const list: Span[] = [];
        if (trace !== null) {
          if (!Array.isArray(trace)) throw new JsonError(`trace ${t}: expected an array, got ${kind(trace)}`);
          for (let i = 0; i < trace.length; i++) {
            const v = trace[i]!;
            if (v === null) continue;
            list.push(toSpan(v, `span ${i} of trace ${t}`));
            spans++;
          }
        }
        chunks.push(makeChunk(list));
      }
    } else {
      return failure(options.counters, 'unsupported_version', `unsupported JSON trace endpoint version ${String(version)}`);
    }
    return { ok: true, payload: fromHeaders(chunks, meta), spans };
  } catch (e) {
    if (e instanceof JsonError) return failure(options.counters, 'invalid_json', e.message);
    if (e instanceof SpanBudgetError) return failure(options.counters, 'too_many_spans', e.message);
    return failure(options.counters, 'internal', `internal decoder error: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function kind(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof JsonObject) return 'an object';
  if (v instanceof JsonFloat) return 'a number';
  return typeof v === 'bigint' ? 'a number' : `a ${typeof v}`;
}

// ---------------------------------------------------------------------------------------------
// Field conversion (Go encoding/json into pb.Span)

/** Calls `f` with each field whose lowercased name is known (null values skipped). */
function fields(v: Json, where: string, f: (name: string, value: Json) => void): void {
  if (!(v instanceof JsonObject)) throw new JsonError(`${where}: expected an object, got ${kind(v)}`);
  for (const [k, value] of v.entries) {
    if (value === null) continue;
    f(k.toLowerCase(), value);
  }
}

function str(v: Json, where: string): string {
  if (typeof v !== 'string') throw new JsonError(`${where}: cannot unmarshal ${kind(v)} into a string`);
  return v;
}

function int(v: Json, where: string, min: bigint, max: bigint, type: string): bigint {
  if (typeof v !== 'bigint') throw new JsonError(`${where}: cannot unmarshal ${kind(v)}${v instanceof JsonFloat ? ` ${v.value}` : ''} into ${type}`);
  if (v < min || v > max) throw new JsonError(`${where}: number ${v} overflows ${type}`);
  return v;
}

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const u64 = (v: Json, w: string): bigint => int(v, w, 0n, U64_MAX, 'uint64');
const i64 = (v: Json, w: string): bigint => int(v, w, I64_MIN, I64_MAX, 'int64');
const i32 = (v: Json, w: string): number => Number(int(v, w, -(1n << 31n), (1n << 31n) - 1n, 'int32'));
const u32 = (v: Json, w: string): number => Number(int(v, w, 0n, (1n << 32n) - 1n, 'uint32'));

function f64(v: Json, where: string): number {
  if (v instanceof JsonFloat) return v.value;
  if (typeof v === 'bigint') return Number(v);
  throw new JsonError(`${where}: cannot unmarshal ${kind(v)} into float64`);
}

function bool(v: Json, where: string): boolean {
  if (typeof v !== 'boolean') throw new JsonError(`${where}: cannot unmarshal ${kind(v)} into bool`);
  return v;
}

function map<T>(v: Json, where: string, conv: (x: Json, w: string) => T): Record<string, T> {
  if (!(v instanceof JsonObject)) throw new JsonError(`${where}: expected an object, got ${kind(v)}`);
  const out: Record<string, T> = {};
  for (const [k, x] of v.entries) {
    const value = x === null ? conv(zeroFor(conv), where) : conv(x, `${where}.${k}`);
    Object.defineProperty(out, k, { value, writable: true, enumerable: true, configurable: true });
  }
  return out;
}

/** Go decodes `null` into a map element as the element's zero value. */
function zeroFor(conv: unknown): Json {
  return conv === f64 ? 0n : '';
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function bytes(v: Json, where: string): Uint8Array {
  const s = str(v, where);
  if (s.length % 4 !== 0 || !B64.test(s)) throw new JsonError(`${where}: illegal base64 data`);
  return new Uint8Array(Buffer.from(s, 'base64'));
}

function toSpan(v: Json, where: string): Span {
  let service = '';
  let name = '';
  let resource = '';
  let traceId = 0n;
  let spanId = 0n;
  let parentId = 0n;
  let start = 0n;
  let duration = 0;
  let error = 0;
  let type = '';
  let meta: Record<string, string> = {};
  let metrics: Record<string, number> = {};
  let metaStruct: Record<string, Uint8Array> = {};
  let links: SpanLink[] = [];
  let events: SpanEvent[] = [];
  fields(v, where, (k, x) => {
    const w = `${where}: ${k}`;
    switch (k) {
      case 'service':
        service = str(x, w);
        break;
      case 'name':
        name = str(x, w);
        break;
      case 'resource':
        resource = str(x, w);
        break;
      case 'trace_id':
        traceId = u64(x, w);
        break;
      case 'span_id':
        spanId = u64(x, w);
        break;
      case 'parent_id':
        parentId = u64(x, w);
        break;
      case 'start':
        start = i64(x, w);
        break;
      case 'duration':
        duration = Number(i64(x, w));
        break;
      case 'error':
        error = i32(x, w);
        break;
      case 'type':
        type = str(x, w);
        break;
      case 'meta':
        meta = map(x, w, str);
        break;
      case 'metrics':
        metrics = map(x, w, f64);
        break;
      case 'meta_struct':
        metaStruct = map(x, w, bytes);
        break;
      case 'span_links':
        links = list(x, w, toLink);
        break;
      case 'span_events':
        events = list(x, w, toEvent);
        break;
      default:
    }
  });
  return makeSpan(service, name, resource, traceId, spanId, parentId, start, duration, error, type, meta, metrics, metaStruct, links, events);
}

function list<T>(v: Json, where: string, conv: (x: Json, w: string) => T): T[] {
  if (!Array.isArray(v)) throw new JsonError(`${where}: expected an array, got ${kind(v)}`);
  const out: T[] = [];
  v.forEach((x, i) => {
    if (x !== null) out.push(conv(x, `${where}[${i}]`));
  });
  return out;
}

function toLink(v: Json, where: string): SpanLink {
  let traceId = 0n;
  let traceIdHigh = 0n;
  let spanId = 0n;
  let attributes: Record<string, string> = {};
  let tracestate = '';
  let flags = 0;
  fields(v, where, (k, x) => {
    const w = `${where}: ${k}`;
    if (k === 'trace_id') traceId = u64(x, w);
    else if (k === 'trace_id_high') traceIdHigh = u64(x, w);
    else if (k === 'span_id') spanId = u64(x, w);
    else if (k === 'attributes') attributes = map(x, w, str);
    else if (k === 'tracestate') tracestate = str(x, w);
    else if (k === 'flags') flags = u32(x, w);
  });
  return { traceId, traceIdHigh, spanId, attributes, tracestate, flags };
}

function toEvent(v: Json, where: string): SpanEvent {
  let timeUnixNano = 0n;
  let name = '';
  const attributes: Record<string, AttributeAnyValue> = {};
  fields(v, where, (k, x) => {
    const w = `${where}: ${k}`;
    if (k === 'time_unix_nano') timeUnixNano = u64(x, w);
    else if (k === 'name') name = str(x, w);
    else if (k === 'attributes') {
      if (!(x instanceof JsonObject)) throw new JsonError(`${w}: expected an object, got ${kind(x)}`);
      for (const [ak, av] of x.entries) {
        if (av === null) continue;
        const a = toAnyValue(av, `${w}.${ak}`, true);
        if (a !== null) Object.defineProperty(attributes, ak, { value: a, writable: true, enumerable: true, configurable: true });
      }
    }
  });
  return { timeUnixNano, name, attributes };
}

function toAnyValue(v: Json, where: string, nested: true): AttributeAnyValue | null;
function toAnyValue(v: Json, where: string, nested: false): AttributeArrayValue | null;
function toAnyValue(v: Json, where: string, nested: boolean): AttributeAnyValue | null {
  let type = 0;
  let stringValue = '';
  let boolValue = false;
  let intValue = 0n;
  let doubleValue = 0;
  let arrayValue: AttributeArrayValue[] = [];
  fields(v, where, (k, x) => {
    const w = `${where}: ${k}`;
    if (k === 'type') type = i32(x, w);
    else if (k === 'string_value') stringValue = str(x, w);
    else if (k === 'bool_value') boolValue = bool(x, w);
    else if (k === 'int_value') intValue = i64(x, w);
    else if (k === 'double_value') doubleValue = f64(x, w);
    else if (k === 'array_value' && nested) {
      fields(x, w, (ak, ax) => {
        if (ak === 'values') {
          arrayValue = list(ax, `${w}.values`, (e, ew) => toAnyValue(e, ew, false)).filter((e): e is AttributeArrayValue => e !== null);
        }
      });
    }
  });
  switch (type) {
    case 0:
      return { type: 0, stringValue };
    case 1:
      return { type: 1, boolValue };
    case 2:
      return { type: 2, intValue };
    case 3:
      return { type: 3, doubleValue };
    case 4:
      return nested ? { type: 4, arrayValue } : null;
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Parser

class JsonParser {
  private i = 0;
  private readonly s: string;
  /** The depth of the arrays whose elements are spans. */
  private readonly spanDepth: number;
  private readonly maxSpans: number;
  private budget: number;
  constructor(s: string, spanDepth: number, maxSpans: number) {
    this.s = s;
    this.spanDepth = spanDepth;
    this.maxSpans = maxSpans;
    this.budget = maxSpans;
  }

  parseDocument(): Json {
    const v = this.value(0);
    this.ws();
    if (this.i < this.s.length) throw this.err('unexpected data after the top-level value');
    return v;
  }

  private err(what: string): JsonError {
    return new JsonError(`invalid JSON at character ${this.i}: ${what}`);
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  private value(depth: number): Json {
    if (depth > MAX_DEPTH) throw this.err(`nesting deeper than ${MAX_DEPTH}`);
    this.ws();
    const s = this.s;
    if (this.i >= s.length) throw this.err('unexpected end of input');
    const c = s[this.i]!;
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === 't') return this.literal('true', true);
    if (c === 'f') return this.literal('false', false);
    if (c === 'n') return this.literal('null', null);
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    throw this.err(`unexpected character ${JSON.stringify(c)}`);
  }

  private literal<T extends Json>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.i)) throw this.err(`expected ${word}`);
    this.i += word.length;
    return v;
  }

  private object(depth: number): JsonObject {
    this.i++;
    const entries: [string, Json][] = [];
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return new JsonObject(entries);
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') throw this.err('expected a string key');
      const k = this.string();
      this.ws();
      if (this.s[this.i] !== ':') throw this.err('expected ":"');
      this.i++;
      entries.push([k, this.value(depth + 1)]);
      this.ws();
      const c = this.s[this.i];
      this.i++;
      if (c === '}') return new JsonObject(entries);
      if (c !== ',') throw this.err('expected "," or "}"');
    }
  }

  private array(depth: number): Json[] {
    this.i++;
    const out: Json[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    const spans = depth === this.spanDepth;
    for (;;) {
      if (spans && this.budget-- <= 0) throw new SpanBudgetError(`the payload holds more than ${this.maxSpans} spans (kennel's span budget per payload)`);
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i];
      this.i++;
      if (c === ']') return out;
      if (c !== ',') throw this.err('expected "," or "]"');
    }
  }

  private string(): string {
    const s = this.s;
    const start = this.i;
    let j = start + 1;
    let escaped = false;
    for (;;) {
      if (j >= s.length) throw this.err('unterminated string');
      const c = s.charCodeAt(j);
      if (c === 0x22) break;
      if (c < 0x20) throw this.err('control character in a string');
      if (c === 0x5c) {
        escaped = true;
        j += 2;
        continue;
      }
      j++;
    }
    this.i = j + 1;
    if (!escaped) return s.slice(start + 1, j);
    try {
      return JSON.parse(s.slice(start, j + 1)) as string;
    } catch {
      throw this.err('invalid escape in a string');
    }
  }

  private number(): bigint | JsonFloat {
    const s = this.s;
    const m = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    const r = m.exec(s);
    if (r === null) throw this.err('invalid number');
    this.i = m.lastIndex;
    return r[2] === undefined && r[3] === undefined ? BigInt(r[0]) : new JsonFloat(Number(r[0]));
  }
}
