/**
 * A deliberately plain DogStatsD parser, for differential tests only.
 *
 * It is written from `/work/shared/spec/dogstatsd.md` §1-§5 (not from the codec), with ordinary
 * string operations, and it favours being obviously right over being fast. It returns the same
 * shapes as `parsePacket`, with `null` in place of any rejected line (it does not name reasons).
 *
 * It is meant to be right on valid input and on the near-valid input the tests make by mutating
 * valid lines. It does not read hexadecimal floats (`0x1p4`, valid in Go): it throws
 * {@link ReferenceUnsupported} on them, and tests skip such cases.
 */
import type { DecodedEvent, DecodedMetric, DecodedServiceCheck, MetricTypeName } from '../src/index.js';

export interface ReferenceOptions {
  /** §2.5: read `|T` (default true). */
  readonly noAggregationPipeline?: boolean;
  /** §2.5/§5: read `|c:`, `|e:`, `|card:` (default false). */
  readonly originDetectionClient?: boolean;
  /** §1: drop an unterminated last line (default false). */
  readonly eolRequired?: boolean;
}

export type ReferenceMessage = DecodedMetric | DecodedEvent | DecodedServiceCheck;

/** Thrown for input this parser does not model (hex floats). */
export class ReferenceUnsupported extends Error {}

// Decodes as the codec does (WHATWG UTF-8 with replacement characters), but keeps a leading BOM,
// as Go's string(bytes) does.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const encoder = new TextEncoder();

/** §1 framing: split on `\n`, drop one `\r` before it, skip empty lines. One entry per message. */
export function referenceParsePacket(packet: string, options: ReferenceOptions = {}): (ReferenceMessage | null)[] {
  const out: (ReferenceMessage | null)[] = [];
  const segments = packet.split('\n');
  const last = segments.pop()!; // what follows the last "\n" ('' when the packet ends with one)
  for (const seg of segments) {
    const line = seg.endsWith('\r') ? seg.slice(0, -1) : seg;
    if (line !== '') out.push(referenceParseLine(line, options));
  }
  if (last !== '') {
    if (options.eolRequired) {
      out.push(null); // UnterminatedMetricErrors
    } else {
      const line = last.endsWith('\r') ? last.slice(0, -1) : last;
      if (line !== '') out.push(referenceParseLine(line, options));
    }
  }
  return out;
}

/** §1 message classification. */
export function referenceParseLine(line: string, options: ReferenceOptions = {}): ReferenceMessage | null {
  if (line.startsWith('_e{')) return parseEvent(line);
  if (line.startsWith('_sc')) return parseServiceCheck(line);
  return parseMetric(line, options);
}

// ---------------------------------------------------------------------------------------------
// Numbers (§3)

/** Digits, with Go's underscores allowed only between two digits. */
const D = String.raw`\d+(?:_\d+)*`;
const DECIMAL_FLOAT = new RegExp(String.raw`^[+-]?(?:${D}(?:\.(?:${D})?)?|\.${D})(?:[eE][+-]?${D})?$`);

/** Go `strconv.ParseFloat(s, 64)`, or null when Go returns an error. */
export function referenceParseFloat(s: string): number | null {
  if (/^[+-]?(?:inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  if (/^[+-]?0x/i.test(s)) throw new ReferenceUnsupported(`hex float ${JSON.stringify(s)}`);
  if (!DECIMAL_FLOAT.test(s)) return null;
  const v = Number(s.replaceAll('_', '')); // correctly rounded, as Go's is
  return Number.isFinite(v) ? v : null; // out of range: Go's ErrRange
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go `strconv.ParseInt(s, 10, 64)` / `Atoi`, as the nearest double, or null on error. */
export function referenceParseInt(s: string): number | null {
  if (!/^[+-]?\d+$/.test(s)) return null;
  const n = BigInt(s);
  if (n < INT64_MIN || n > INT64_MAX) return null;
  return Number(n);
}

// ---------------------------------------------------------------------------------------------
// Metrics (§2)

const TYPES = new Map<string, MetricTypeName>([
  ['g', 'gauge'],
  ['c', 'counter'],
  ['h', 'histogram'],
  ['d', 'distribution'],
  ['s', 'set'],
  ['ms', 'timing'],
]);

function parseTags(payload: string): string[] {
  return payload === '' ? [] : payload.split(',');
}

function parseMetric(line: string, options: ReferenceOptions): DecodedMetric | null {
  const fields = line.split('|');
  if (fields.length < 2) return null; // 1. at least one "|"
  const first = fields[0]!;
  const colon = first.indexOf(':'); // 2. split at the first ":"
  if (colon < 0) return null;
  const name = first.slice(0, colon);
  const raw = first.slice(colon + 1);
  if (name === '' || raw === '') return null;
  const type = TYPES.get(fields[1]!); // 3. exact type
  if (type === undefined) return null;

  let values: number[] | [string];
  if (type === 'set') {
    values = [raw]; // 4. the whole raw value, colons included
  } else {
    const items = raw.includes(':') ? raw.split(':').filter((v) => v !== '') : [raw];
    if (items.length === 0) return null;
    values = [];
    for (const item of items) {
      const v = referenceParseFloat(item);
      if (v === null) return null;
      values.push(v);
    }
  }

  // 5. the other fields, in order; the last of a kind wins; unknown and empty ones are skipped.
  let sampleRate = 1;
  let tags: string[] = [];
  let timestamp: number | null = null;
  let containerId: string | null = null;
  let externalData: string | null = null;
  let cardinality: string | null = null;
  const readTimestamps = options.noAggregationPipeline ?? true;
  const origin = options.originDetectionClient ?? false;
  for (const f of fields.slice(2)) {
    if (f.startsWith('#')) {
      tags = parseTags(f.slice(1));
    } else if (f.startsWith('@')) {
      const r = referenceParseFloat(f.slice(1));
      if (r === null) return null;
      sampleRate = r;
    } else if (f.startsWith('T')) {
      if (!readTimestamps) continue;
      const t = referenceParseInt(f.slice(1));
      if (t === null || t < 1) return null;
      timestamp = t;
    } else if (origin && f.startsWith('c:')) {
      containerId = f.slice(2);
    } else if (origin && f.startsWith('e:')) {
      externalData = f.slice(2);
    } else if (origin && f.startsWith('card:')) {
      cardinality = f.slice(5);
    }
  }
  return { kind: 'metric', name, type, values, sampleRate, tags, timestamp, containerId, externalData, cardinality };
}

// ---------------------------------------------------------------------------------------------
// Events (§4): lengths are UTF-8 byte counts, so this one works on bytes.

function cleanEventText(bytes: Uint8Array): string {
  return decoder.decode(bytes).replaceAll('\\n', '\n');
}

function parseEvent(line: string): DecodedEvent | null {
  const b = encoder.encode(line);
  const colon = b.indexOf(0x3a);
  if (colon < 0) return null;
  if (colon < 7) return null; // the header is at least 7 bytes
  // "_e{" <title_len> "," <text_len> <one more byte, normally "}">
  const lengths = decoder.decode(b.subarray(3, colon - 1));
  const comma = lengths.indexOf(',');
  if (comma < 0) return null;
  const titleLength = referenceParseInt(lengths.slice(0, comma));
  if (titleLength === null || titleLength < 0) return null;
  if (titleLength === 0) return null; // empty title
  const textLength = referenceParseInt(lengths.slice(comma + 1));
  if (textLength === null || textLength < 0) return null;

  const body = b.subarray(colon + 1);
  if (body.length < titleLength + 1 + textLength) return null;
  const event = {
    kind: 'event' as const,
    title: cleanEventText(body.subarray(0, titleLength)),
    // The byte at titleLength is not checked to be "|".
    text: cleanEventText(body.subarray(titleLength + 1, titleLength + 1 + textLength)),
    timestamp: 0,
    hostname: '',
    aggregationKey: '',
    priority: 'normal' as DecodedEvent['priority'],
    sourceType: '',
    alertType: 'info' as DecodedEvent['alertType'],
    tags: [] as string[],
  };
  const rest = body.subarray(titleLength + 1 + textLength);
  if (rest.length === 0) return event;
  // Whatever follows the text is "|"-separated optional fields (normally starting with an empty
  // one). An invalid value is ignored and the previous value kept.
  for (const f of decoder.decode(rest).split('|')) {
    if (f.startsWith('d:')) {
      const t = referenceParseInt(f.slice(2));
      if (t !== null) event.timestamp = t;
    } else if (f.startsWith('h:')) {
      event.hostname = f.slice(2);
    } else if (f.startsWith('k:')) {
      event.aggregationKey = f.slice(2);
    } else if (f.startsWith('p:')) {
      const p = f.slice(2);
      if (p === 'normal' || p === 'low') event.priority = p;
    } else if (f.startsWith('s:')) {
      event.sourceType = f.slice(2);
    } else if (f.startsWith('t:')) {
      const t = f.slice(2);
      if (t === 'error' || t === 'warning' || t === 'info' || t === 'success') event.alertType = t;
    } else if (f.startsWith('#')) {
      event.tags = parseTags(f.slice(1));
    }
  }
  return event;
}

// ---------------------------------------------------------------------------------------------
// Service checks (§4)

const STATUSES = new Map<string, 0 | 1 | 2 | 3>([
  ['0', 0],
  ['1', 1],
  ['2', 2],
  ['3', 3],
]);

function parseServiceCheck(line: string): DecodedServiceCheck | null {
  if (line.split('|').length < 3) return null; // at least two "|"
  const b = encoder.encode(line);
  if (b.length < 4) return null;
  // The first 4 bytes ("_sc|") are dropped; the 4th is not checked.
  const parts = decoder.decode(b.subarray(4)).split('|');
  const name = parts[0]!;
  if (name === '') return null;
  const status = STATUSES.get(parts[1] ?? '');
  if (status === undefined) return null;
  const check = {
    kind: 'service_check' as const,
    name,
    status,
    timestamp: 0,
    hostname: '',
    message: '',
    tags: [] as string[],
  };
  for (const f of parts.slice(2)) {
    if (f.startsWith('d:')) {
      const t = referenceParseInt(f.slice(2));
      if (t !== null) check.timestamp = t;
    } else if (f.startsWith('h:')) {
      check.hostname = f.slice(2);
    } else if (f.startsWith('#')) {
      check.tags = parseTags(f.slice(1));
    } else if (f.startsWith('m:')) {
      check.message = f.slice(2);
    }
  }
  return check;
}
