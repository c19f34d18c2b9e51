/**
 * The span map of v0.4 and v0.7 payloads (msgp tags of `span.proto`), with its span links and
 * span events, read with the agent's leniency (`span_gen.go` `UnmarshalMsg`, `decoder_bytes.go`).
 *
 * @remarks
 * Keys are matched on their bytes, never decoded. Unknown keys are skipped. A key given twice
 * keeps its last value. A nil span link, span event or event attribute value is dropped (the
 * agent keeps a nil pointer, which its later stages skip).
 *
 * Span events deviate from the agent on purpose in one place: their integer fields
 * (`time_unix_nano`, an attribute's `type` and `int_value`) also accept a float64 that holds an
 * integer, because dd-trace-js's native span-event encoder writes every JavaScript number as a
 * float64 (`encode/0.4.js` `_encodeValue`).
 */
import type { AttributeAnyValue, AttributeArrayValue, Span, SpanEvent, SpanLink } from '@kennel/core';
import {
  checkI64,
  defineOwn,
  fail,
  keyMatches,
  keyWords,
  peekNil,
  readArrayHeader,
  readBin,
  readBool,
  readAnyFloat,
  readI32,
  readI64,
  readI64Number,
  readIntegralFloat,
  readKey,
  readMapHeader,
  readNumMap,
  readStr,
  readStrMap,
  readU32,
  readU64,
  readU64Strict,
  skipNil,
  skipValue,
} from './reader.js';

const K_SERVICE = keyWords('service');
const K_NAME = keyWords('name');
const K_RESOURCE = keyWords('resource');
const K_TRACE_ID = keyWords('trace_id');
const K_SPAN_ID = keyWords('span_id');
const K_PARENT_ID = keyWords('parent_id');
const K_START = keyWords('start');
const K_DURATION = keyWords('duration');
const K_ERROR = keyWords('error');
const K_TYPE = keyWords('type');
const K_META = keyWords('meta');
const K_METRICS = keyWords('metrics');
const K_META_STRUCT = keyWords('meta_struct');
const K_SPAN_LINKS = keyWords('span_links');
const K_SPAN_EVENTS = keyWords('span_events');
const K_TRACE_ID_HIGH = keyWords('trace_id_high');
const K_ATTRIBUTES = keyWords('attributes');
const K_TRACESTATE = keyWords('tracestate');
const K_FLAGS = keyWords('flags');
const K_TIME_UNIX_NANO = keyWords('time_unix_nano');
const K_STRING_VALUE = keyWords('string_value');
const K_BOOL_VALUE = keyWords('bool_value');
const K_INT_VALUE = keyWords('int_value');
const K_DOUBLE_VALUE = keyWords('double_value');
const K_ARRAY_VALUE = keyWords('array_value');
const K_VALUES = keyWords('values');

/** Builds a span with every field present, in one shape (hidden classes stay monomorphic). */
export function makeSpan(
  service: string,
  name: string,
  resource: string,
  traceId: bigint,
  spanId: bigint,
  parentId: bigint,
  start: bigint,
  duration: number,
  error: number,
  type: string,
  meta: Record<string, string>,
  metrics: Record<string, number>,
  metaStruct: Record<string, Uint8Array>,
  spanLinks: SpanLink[],
  spanEvents: SpanEvent[],
): Span {
  return { service, name, resource, traceId, spanId, parentId, start, duration, error, type, meta, metrics, metaStruct, spanLinks, spanEvents };
}

/** One v0.4 span map (the caller has handled a nil span). */
export function readSpanMap(): Span {
  const n = readMapHeader('span', false);
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
  let meta: Record<string, string> | null = null;
  let metrics: Record<string, number> | null = null;
  let metaStruct: Record<string, Uint8Array> | null = null;
  let links: SpanLink[] | null = null;
  let events: SpanEvent[] | null = null;
  for (let i = 0; i < n; i++) {
    switch (readKey('span key')) {
      case 4:
        if (keyMatches(K_NAME)) name = readStr('name');
        else if (keyMatches(K_META)) meta = readStrMap('meta');
        else if (keyMatches(K_TYPE)) type = readStr('type');
        else skipValue('span');
        break;
      case 5:
        if (keyMatches(K_START)) start = readI64('start');
        else if (keyMatches(K_ERROR)) error = readI32('error');
        else skipValue('span');
        break;
      case 7:
        if (keyMatches(K_SERVICE)) service = readStr('service');
        else if (keyMatches(K_SPAN_ID)) spanId = readU64('span_id');
        else if (keyMatches(K_METRICS)) metrics = readNumMap('metrics');
        else skipValue('span');
        break;
      case 8:
        if (keyMatches(K_TRACE_ID)) traceId = readU64('trace_id');
        else if (keyMatches(K_RESOURCE)) resource = readStr('resource');
        else if (keyMatches(K_DURATION)) duration = readI64Number('duration');
        else skipValue('span');
        break;
      case 9:
        if (keyMatches(K_PARENT_ID)) parentId = readU64('parent_id');
        else skipValue('span');
        break;
      case 10:
        if (keyMatches(K_SPAN_LINKS)) links = readSpanLinks();
        else skipValue('span');
        break;
      case 11:
        if (keyMatches(K_META_STRUCT)) metaStruct = readMetaStruct();
        else if (keyMatches(K_SPAN_EVENTS)) events = readSpanEvents();
        else skipValue('span');
        break;
      default:
        skipValue('span');
    }
  }
  return makeSpan(
    service,
    name,
    resource,
    traceId,
    spanId,
    parentId,
    start,
    duration,
    error,
    type,
    meta ?? {},
    metrics ?? {},
    metaStruct ?? {},
    links ?? [],
    events ?? [],
  );
}

function readMetaStruct(): Record<string, Uint8Array> {
  const n = readMapHeader('meta_struct', true);
  const m: Record<string, Uint8Array> = {};
  for (let i = 0; i < n; i++) {
    const k = readStr('meta_struct key');
    const v = readBin('meta_struct value');
    if (k === '__proto__') defineOwn(m, k, v);
    else m[k] = v;
  }
  return m;
}

function readSpanLinks(): SpanLink[] {
  const n = readArrayHeader('span_links', true);
  const out: SpanLink[] = [];
  for (let i = 0; i < n; i++) {
    if (peekNil()) skipNil();
    else out.push(readSpanLink());
  }
  return out;
}

function readSpanLink(): SpanLink {
  const n = readMapHeader('span link', false);
  let traceId = 0n;
  let traceIdHigh = 0n;
  let spanId = 0n;
  let attributes: Record<string, string> | null = null;
  let tracestate = '';
  let flags = 0;
  for (let i = 0; i < n; i++) {
    readKey('span link key');
    if (keyMatches(K_TRACE_ID)) traceId = readU64('span link trace_id');
    else if (keyMatches(K_SPAN_ID)) spanId = readU64('span link span_id');
    else if (keyMatches(K_TRACE_ID_HIGH)) traceIdHigh = readU64Strict('span link trace_id_high');
    else if (keyMatches(K_ATTRIBUTES)) attributes = readStrMap('span link attributes');
    else if (keyMatches(K_TRACESTATE)) tracestate = readStr('span link tracestate');
    else if (keyMatches(K_FLAGS)) flags = readU32('span link flags');
    else skipValue('span link');
  }
  return { traceId, traceIdHigh, spanId, attributes: attributes ?? {}, tracestate, flags };
}

function readSpanEvents(): SpanEvent[] {
  const n = readArrayHeader('span_events', true);
  const out: SpanEvent[] = [];
  for (let i = 0; i < n; i++) {
    if (peekNil()) skipNil();
    else out.push(readSpanEvent());
  }
  return out;
}

function readSpanEvent(): SpanEvent {
  const n = readMapHeader('span event', false);
  let timeUnixNano = 0n;
  let name = '';
  let attributes: Record<string, AttributeAnyValue> | null = null;
  for (let i = 0; i < n; i++) {
    readKey('span event key');
    if (keyMatches(K_TIME_UNIX_NANO)) timeUnixNano = readEventUint('span event time_unix_nano');
    else if (keyMatches(K_NAME)) name = readStr('span event name');
    else if (keyMatches(K_ATTRIBUTES)) attributes = readEventAttributes();
    else skipValue('span event');
  }
  return { timeUnixNano, name, attributes: attributes ?? {} };
}

function readEventAttributes(): Record<string, AttributeAnyValue> {
  const n = readMapHeader('span event attributes', true);
  const m: Record<string, AttributeAnyValue> = {};
  for (let i = 0; i < n; i++) {
    const k = readStr('span event attribute key');
    if (peekNil()) {
      skipNil();
      continue;
    }
    const v = readAnyValue();
    if (v === null) continue;
    if (k === '__proto__') defineOwn(m, k, v);
    else m[k] = v;
  }
  return m;
}

/** An `AttributeAnyValue` map; null when its type is not one of 0..4 (the agent leaves it empty). */
function readAnyValue(): AttributeAnyValue | null {
  const n = readMapHeader('span event attribute', false);
  let type = 0;
  let stringValue = '';
  let boolValue = false;
  let intValue = 0n;
  let doubleValue = 0;
  let arrayValue: AttributeArrayValue[] = [];
  for (let i = 0; i < n; i++) {
    readKey('span event attribute key');
    if (keyMatches(K_TYPE)) type = readEventInt32('span event attribute type');
    else if (keyMatches(K_STRING_VALUE)) stringValue = readStr('span event string_value');
    else if (keyMatches(K_BOOL_VALUE)) boolValue = readBool('span event bool_value');
    else if (keyMatches(K_INT_VALUE)) intValue = readEventInt64('span event int_value');
    else if (keyMatches(K_DOUBLE_VALUE)) doubleValue = readAnyFloat('span event double_value');
    else if (keyMatches(K_ARRAY_VALUE)) arrayValue = readArrayValue();
    else skipValue('span event attribute');
  }
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
      return { type: 4, arrayValue };
    default:
      return null;
  }
}

/** `array_value`: nil, or a map whose `values` is an array of `AttributeArrayValue` maps. */
function readArrayValue(): AttributeArrayValue[] {
  const n = readMapHeader('span event array_value', true);
  let values: AttributeArrayValue[] = [];
  for (let i = 0; i < n; i++) {
    readKey('span event array_value key');
    if (keyMatches(K_VALUES)) {
      const m = readArrayHeader('span event array_value values', true);
      values = [];
      for (let j = 0; j < m; j++) {
        if (peekNil()) {
          skipNil();
          continue;
        }
        const v = readArrayElement();
        if (v !== null) values.push(v);
      }
    } else {
      skipValue('span event array_value');
    }
  }
  return values;
}

/** An `AttributeArrayValue` (no nested arrays: a nested `array_value` is skipped). */
function readArrayElement(): AttributeArrayValue | null {
  const n = readMapHeader('span event array element', false);
  let type = 0;
  let stringValue = '';
  let boolValue = false;
  let intValue = 0n;
  let doubleValue = 0;
  for (let i = 0; i < n; i++) {
    readKey('span event array element key');
    if (keyMatches(K_TYPE)) type = readEventInt32('span event array element type');
    else if (keyMatches(K_STRING_VALUE)) stringValue = readStr('span event string_value');
    else if (keyMatches(K_BOOL_VALUE)) boolValue = readBool('span event bool_value');
    else if (keyMatches(K_INT_VALUE)) intValue = readEventInt64('span event int_value');
    else if (keyMatches(K_DOUBLE_VALUE)) doubleValue = readAnyFloat('span event double_value');
    else skipValue('span event array element');
  }
  switch (type) {
    case 0:
      return { type: 0, stringValue };
    case 1:
      return { type: 1, boolValue };
    case 2:
      return { type: 2, intValue };
    case 3:
      return { type: 3, doubleValue };
    default:
      return null;
  }
}

function readEventUint(what: string): bigint {
  const f = readIntegralFloat(what);
  if (f === null) return readU64Strict(what);
  if (f < 0 || f >= 2 ** 64) return readFloatRangeFail(what, f);
  return BigInt(f);
}

function readEventInt64(what: string): bigint {
  const f = readIntegralFloat(what);
  if (f === null) return readI64(what);
  return checkI64(what, BigInt(f));
}

function readEventInt32(what: string): number {
  const f = readIntegralFloat(what);
  if (f === null) return readI32(what);
  if (f > 0x7fffffff || f < -0x80000000) return readFloatRangeFail(what, f);
  return f;
}

function readFloatRangeFail(what: string, f: number): never {
  return fail('overflow', `${what}: ${f} is out of range for the field`);
}
