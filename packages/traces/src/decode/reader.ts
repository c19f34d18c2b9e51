/**
 * A msgpack reader specialised for trace payloads: the cursor over the body, the readers for each
 * field type with the agent's leniency, and the non-local exit that turns a malformed body into a
 * failure result.
 *
 * @remarks
 * The cursor (`b`, `pos`, `end`, `view`) is module state, as in msgpackr's `unpack.js`: nothing is
 * allocated per call and the readers need no context argument. A decode is synchronous and does
 * not re-enter itself, so one cursor per thread is enough; `begin` and `finish` bracket each
 * decode, and `finish` drops the reference to the body.
 *
 * Failures: a reader that meets a malformed value records the reason and the message in `ABORT`
 * and throws that one preallocated object (no `Error`, so no stack trace is captured). Only the
 * top-level decode functions catch it, and they return `{ ok: false, ... }`: nothing thrown here
 * ever leaves the package. This keeps the well-formed path free of result checks after every
 * field; a malformed body costs one throw.
 *
 * Wire-type leniency is the agent's (`pkg/proto/pbgo/trace/decoder_bytes.go`):
 * - strings: str or bin; nil reads as ""; invalid UTF-8 is repaired with U+FFFD.
 * - uint64 ids (`readU64`): any msgpack integer; a negative int is cast to uint64 (Java tracers
 *   have no unsigned type); nil reads as 0.
 * - int64 (`readI64`): any integer; a uint above 2^63-1 is an overflow.
 * - int32 (`readI32`): any integer in range.
 * - float64 (`readF64`): float64 or any integer (converted); float32 is refused, as the agent's
 *   `parseFloat64Bytes` refuses it.
 * - floats are never accepted where an integer goes, except in span events (see `spans.ts`).
 * - every array and map header above 25,000,000 is "too long payload" (`safeReadHeaderBytes`),
 *   and a header that announces more elements than bytes remain is truncated, so nothing is
 *   allocated for a count the body cannot hold.
 *
 * String-keyed maps (`readStrMap`, `readNumMap`) go through the key-sequence trees of
 * `shapes.ts`: a key that follows the sequence seen before is recognised by its bytes and never
 * decoded, and the object is built by one generated literal.
 */
import type { TraceDecodeErrorReason } from './errors.js';
import { byKey, MAX_KEYS, numberShapes, stringShapes, type ShapeNode } from './shapes.js';
import { bytesToString, setSource } from './strings.js';

/** The agent's header limit (`safeReadHeaderBytes` in `decoder_v05.go`). */
export const MAX_HEADER_ELEMENTS = 25_000_000;

const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);

let b: Uint8Array = EMPTY;
let view: DataView = EMPTY_VIEW;
let pos = 0;
let end = 0;

// Where the cursor is, for messages only: updated by the payload decoders as they walk.
let ctxTrace = -1;
let ctxSpan = -1;

/** Key bytes of the last `readKey`. */
let keyStart = 0;
let keyLen = 0;
/**
 * The last key as words, for matching known keys with a few integer compares: its first four
 * bytes, its last four, and bytes 4 to 7 when it is longer than 8 (big-endian int32s; the words
 * overlap for lengths 5 to 7 and 9 to 11, which keeps the compare exact). Keys of 1 to 3 bytes
 * are packed into `kw0`.
 */
let kw0 = 0;
let kwL = 0;
let kwM = 0;

/** A known key as words (see `kw0`). */
export interface KeyWords {
  readonly len: number;
  readonly w0: number;
  readonly wL: number;
  readonly wM: number;
}

/** The words of an ASCII key, computed as `readKey` computes them. */
export function keyWords(key: string): KeyWords {
  const k = new TextEncoder().encode(key);
  const n = k.length;
  const w = (p: number): number => (k[p]! << 24) | (k[p + 1]! << 16) | (k[p + 2]! << 8) | k[p + 3]!;
  if (n >= 4) return { len: n, w0: w(0), wL: w(n - 4), wM: n > 8 ? w(4) : 0 };
  let w0 = 0;
  for (let i = 0; i < n; i++) w0 = (w0 << 8) | k[i]!;
  return { len: n, w0, wL: 0, wM: 0 };
}

/** Whether the last key read is `k`. */
export function keyMatches(k: KeyWords): boolean {
  return keyLen === k.len && kw0 === k.w0 && kwL === k.wL && kwM === k.wM;
}

/** The preallocated failure a reader throws; `reason` and `message` describe the last one. */
export class DecodeAbort {
  reason: TraceDecodeErrorReason = 'internal';
  message = '';
}
export const ABORT = new DecodeAbort();

/** Points the cursor at `body`. */
export function begin(body: Uint8Array): void {
  b = body;
  view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  setSource(body, view);
  pos = 0;
  end = body.length;
  ctxTrace = -1;
  ctxSpan = -1;
}

/** Releases the body (the cursor must not keep a request alive). */
export function finish(): void {
  b = EMPTY;
  view = EMPTY_VIEW;
  setSource(EMPTY, EMPTY_VIEW);
  pos = 0;
  end = 0;
}

/** Sets the trace and span index that messages name (-1: none). */
export function setContext(trace: number, span: number): void {
  ctxTrace = trace;
  ctxSpan = span;
}

function context(): string {
  if (ctxTrace < 0) return '';
  if (ctxSpan < 0) return ` in trace ${ctxTrace}`;
  return ` in span ${ctxSpan} of trace ${ctxTrace}`;
}

/** Records a failure and leaves the decode. */
export function fail(reason: TraceDecodeErrorReason, what: string): never {
  ABORT.reason = reason;
  ABORT.message = `${what}${context()} (at byte ${pos})`;
  throw ABORT;
}

function truncated(what: string): never {
  return fail('truncated', `${what}: the body ends inside the value`);
}

function wrongType(what: string, expected: string, c: number): never {
  if (c === 0xc1) return fail('invalid_msgpack', `${what}: byte 0xc1 is not a msgpack type`);
  return fail('wrong_type', `${what}: expected ${expected}, got ${typeName(c)} (0x${c.toString(16).padStart(2, '0')})`);
}

/** The msgpack family of a leading byte, for messages. */
export function typeName(c: number): string {
  if (c < 0x80 || c >= 0xe0) return 'int';
  if (c < 0x90) return 'map';
  if (c < 0xa0) return 'array';
  if (c < 0xc0) return 'str';
  switch (c) {
    case 0xc0:
      return 'nil';
    case 0xc1:
      return 'never used';
    case 0xc2:
    case 0xc3:
      return 'bool';
    case 0xc4:
    case 0xc5:
    case 0xc6:
      return 'bin';
    case 0xca:
      return 'float32';
    case 0xcb:
      return 'float64';
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
      return 'uint';
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3:
      return 'int';
    case 0xd9:
    case 0xda:
    case 0xdb:
      return 'str';
    case 0xdc:
    case 0xdd:
      return 'array';
    case 0xde:
    case 0xdf:
      return 'map';
    default:
      return 'ext';
  }
}

function u16(p: number): number {
  return view.getUint16(p);
}

function u32(p: number): number {
  return view.getUint32(p);
}

/** True when the next value is nil (and there is one). */
export function peekNil(): boolean {
  return pos < end && b[pos] === 0xc0;
}

/** Consumes a nil known to be there (after `peekNil`). */
export function skipNil(): void {
  pos++;
}

// ---------------------------------------------------------------------------------------------
// Headers

function checkCount(what: string, n: number, minBytesEach: number): number {
  if (n > MAX_HEADER_ELEMENTS) {
    fail('too_long', `${what}: header announces ${n} elements, more than ${MAX_HEADER_ELEMENTS} ("too long payload")`);
  }
  if (n * minBytesEach > end - pos) {
    fail('truncated', `${what}: header announces ${n} elements but only ${end - pos} bytes remain`);
  }
  return n;
}

/** An array header; nil reads as an empty array when `nilOk`. */
export function readArrayHeader(what: string, nilOk: boolean): number {
  if (pos >= end) truncated(what);
  const c = b[pos]!;
  if ((c & 0xf0) === 0x90) {
    pos++;
    return checkCount(what, c & 0x0f, 1);
  }
  if (c === 0xdd) {
    if (pos + 5 > end) truncated(what);
    const n = u32(pos + 1);
    pos += 5;
    return checkCount(what, n, 1);
  }
  if (c === 0xdc) {
    if (pos + 3 > end) truncated(what);
    const n = u16(pos + 1);
    pos += 3;
    return checkCount(what, n, 1);
  }
  if (c === 0xc0 && nilOk) {
    pos++;
    return 0;
  }
  return wrongType(what, 'an array', c);
}

/** A map header (number of pairs); nil reads as an empty map when `nilOk`. */
export function readMapHeader(what: string, nilOk: boolean): number {
  if (pos >= end) truncated(what);
  const c = b[pos]!;
  if ((c & 0xf0) === 0x80) {
    pos++;
    return checkCount(what, c & 0x0f, 2);
  }
  if (c === 0xdf) {
    if (pos + 5 > end) truncated(what);
    const n = u32(pos + 1);
    pos += 5;
    return checkCount(what, n, 2);
  }
  if (c === 0xde) {
    if (pos + 3 > end) truncated(what);
    const n = u16(pos + 1);
    pos += 3;
    return checkCount(what, n, 2);
  }
  if (c === 0xc0 && nilOk) {
    pos++;
    return 0;
  }
  return wrongType(what, 'a map', c);
}

// ---------------------------------------------------------------------------------------------
// Strings and bytes

/** A string field: str or bin, nil as "", invalid UTF-8 repaired. */
export function readStr(what: string): string {
  if (pos >= end) truncated(what);
  const c = b[pos]!;
  let len: number;
  let start: number;
  if ((c & 0xe0) === 0xa0) {
    len = c & 0x1f;
    start = pos + 1;
  } else if (c === 0xd9 || c === 0xc4) {
    if (pos + 2 > end) truncated(what);
    len = b[pos + 1]!;
    start = pos + 2;
  } else if (c === 0xda || c === 0xc5) {
    if (pos + 3 > end) truncated(what);
    len = u16(pos + 1);
    start = pos + 3;
  } else if (c === 0xdb || c === 0xc6) {
    if (pos + 5 > end) truncated(what);
    len = u32(pos + 1);
    start = pos + 5;
  } else if (c === 0xc0) {
    pos++;
    return '';
  } else {
    return wrongType(what, 'a string', c);
  }
  const e = start + len;
  if (e > end) truncated(what);
  pos = e;
  if (len === 0) return '';
  return bytesToString(start, len);
}

/**
 * A map key: str or bin (msgp `ReadMapKeyZC`). Leaves its bytes for `keyIs` and returns its
 * length; nothing is decoded.
 */
export function readKey(what: string): number {
  if (pos >= end) truncated(what);
  const c = b[pos]!;
  let len: number;
  let start: number;
  if ((c & 0xe0) === 0xa0) {
    len = c & 0x1f;
    start = pos + 1;
  } else if (c === 0xd9 || c === 0xc4) {
    if (pos + 2 > end) truncated(what);
    len = b[pos + 1]!;
    start = pos + 2;
  } else if (c === 0xda || c === 0xc5) {
    if (pos + 3 > end) truncated(what);
    len = u16(pos + 1);
    start = pos + 3;
  } else if (c === 0xdb || c === 0xc6) {
    if (pos + 5 > end) truncated(what);
    len = u32(pos + 1);
    start = pos + 5;
  } else {
    return wrongType(what, 'a string key', c);
  }
  const e = start + len;
  if (e > end) truncated(what);
  pos = e;
  keyStart = start;
  keyLen = len;
  if (len >= 4) {
    kw0 = view.getInt32(start);
    kwL = view.getInt32(e - 4);
    kwM = len > 8 ? view.getInt32(start + 4) : 0;
  } else {
    let w = 0;
    for (let i = start; i < e; i++) w = (w << 8) | b[i]!;
    kw0 = w;
    kwL = 0;
    kwM = 0;
  }
  return len;
}

/** The last key read, as a string (for the maps whose keys are data). */
export function keyString(): string {
  return keyLen === 0 ? '' : bytesToString(keyStart, keyLen);
}

/** A bin value, copied (meta_struct values; the agent copies them too). Nil reads as empty. */
export function readBin(what: string): Uint8Array {
  if (pos >= end) truncated(what);
  const c = b[pos]!;
  let len: number;
  let start: number;
  if (c === 0xc4) {
    if (pos + 2 > end) truncated(what);
    len = b[pos + 1]!;
    start = pos + 2;
  } else if (c === 0xc5) {
    if (pos + 3 > end) truncated(what);
    len = u16(pos + 1);
    start = pos + 3;
  } else if (c === 0xc6) {
    if (pos + 5 > end) truncated(what);
    len = u32(pos + 1);
    start = pos + 5;
  } else if (c === 0xc0) {
    pos++;
    return new Uint8Array(0);
  } else {
    return wrongType(what, 'bin', c);
  }
  const e = start + len;
  if (e > end) truncated(what);
  pos = e;
  // A plain Uint8Array copy: `Buffer#slice` would return a view that keeps the body alive.
  const out = new Uint8Array(len);
  out.set(b.subarray(start, e));
  return out;
}

/** A data key (str, bin, or nil as ""), left as bytes and words like `readKey` leaves it. */
function readDataKey(what: string): void {
  if (pos < end && b[pos] === 0xc0) {
    pos++;
    keyStart = pos;
    keyLen = 0;
    kw0 = 0;
    kwL = 0;
    kwM = 0;
    return;
  }
  readKey(what);
}

/** Whether the last key read has the bytes `node` learned (exact: see `kw0`). */
function keyIsNode<T>(node: ShapeNode<T>): boolean {
  if (node.len !== keyLen || node.w0 !== kw0 || node.wL !== kwL || node.wM !== kwM) return false;
  if (keyLen <= 12) return true;
  const mid = node.mid;
  if (mid === null) return false;
  for (let i = 0, p = keyStart + 8; i < mid.length; i++, p++) if (b[p] !== mid[i]) return false;
  return true;
}

/** Teaches `node` the bytes of the last key read, once. */
function learnKey<T>(node: ShapeNode<T>): void {
  if (node.len !== -1) return;
  node.len = keyLen;
  node.w0 = kw0;
  node.wL = kwL;
  node.wM = kwM;
  if (keyLen > 12) {
    const mid = new Uint8Array(keyLen - 12);
    mid.set(b.subarray(keyStart + 8, keyStart + keyLen - 4));
    node.mid = mid;
  }
}

/**
 * A string value predicted by `node`: when its bytes are the ones the node saw last (compared as
 * words, exact for up to 16 bytes), the node's string is returned without decoding anything.
 * Constant tags (env, version, language, span.kind, ...) are read this way.
 */
function readStrAt(node: ShapeNode<string>, what: string): string {
  if (pos >= end) truncated(what);
  const c = b[pos]!;
  let len: number;
  let start: number;
  if ((c & 0xe0) === 0xa0) {
    len = c & 0x1f;
    start = pos + 1;
  } else {
    return readStr(what);
  }
  const e = start + len;
  if (e > end) truncated(what);
  if (len < 4 || len > 16) {
    pos = e;
    return len === 0 ? '' : bytesToString(start, len);
  }
  const w0 = view.getInt32(start);
  const wL = view.getInt32(e - 4);
  const wM = len > 8 ? view.getInt32(start + 4) : 0;
  const wN = len > 12 ? view.getInt32(start + 8) : 0;
  pos = e;
  if (node.pLen === len && node.p0 === w0 && node.pL === wL && node.pM === wM && node.pN === wN) return node.pStr;
  const v = bytesToString(start, len);
  node.pLen = len;
  node.p0 = w0;
  node.pL = wL;
  node.pM = wM;
  node.pN = wN;
  node.pStr = v;
  return v;
}

/** The child of `node` whose key is the last key read, found by its bytes; null when none is. */
function childByBytes<T>(node: ShapeNode<T>): ShapeNode<T> | null {
  const kids = node.kids;
  for (let i = 0; i < kids.length; i++) {
    const k = kids[i]!;
    if (keyIsNode(k)) return k;
  }
  return null;
}

/** A map of string to string (meta, tags, link attributes); nil reads as {}. See `shapes.ts`. */
export function readStrMap(what: string): Record<string, string> {
  const n = readMapHeader(what, true);
  if (n === 0) return {};
  const t = stringShapes;
  const keys = t.keys;
  const vals = t.vals;
  let node: ShapeNode<string> | null = n <= MAX_KEYS ? t.root : null;
  for (let i = 0; i < n; i++) {
    readDataKey(what);
    let k: string;
    const nx = node === null ? null : node.next;
    if (nx !== null && keyIsNode(nx)) {
      k = nx.key;
      node = nx;
    } else {
      const kid = node === null ? null : childByBytes(node);
      if (kid !== null) {
        k = kid.key;
        node!.next = kid;
        node = kid;
      } else {
        k = keyLen === 0 ? '' : bytesToString(keyStart, keyLen);
        if (node !== null) {
          node = t.child(node, k);
          if (node !== null) learnKey(node);
        }
      }
    }
    const v = node !== null ? readStrAt(node, what) : readStr(what);
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

/** A map of string to float64 (metrics); nil reads as {}. See `shapes.ts`. */
export function readNumMap(what: string): Record<string, number> {
  const n = readMapHeader(what, true);
  if (n === 0) return {};
  const t = numberShapes;
  const keys = t.keys;
  const vals = t.vals;
  let node: ShapeNode<number> | null = n <= MAX_KEYS ? t.root : null;
  for (let i = 0; i < n; i++) {
    readDataKey(what);
    let k: string;
    const nx = node === null ? null : node.next;
    if (nx !== null && keyIsNode(nx)) {
      k = nx.key;
      node = nx;
    } else {
      const kid = node === null ? null : childByBytes(node);
      if (kid !== null) {
        k = kid.key;
        node!.next = kid;
        node = kid;
      } else {
        k = keyLen === 0 ? '' : bytesToString(keyStart, keyLen);
        if (node !== null) {
          node = t.child(node, k);
          if (node !== null) learnKey(node);
        }
      }
    }
    const v = readF64(what);
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

/** Sets `__proto__` as an own data property (an assignment would change the prototype). */
export function defineOwn<T>(m: Record<string, T>, k: string, v: T): void {
  Object.defineProperty(m, k, { value: v, writable: true, enumerable: true, configurable: true });
}

// ---------------------------------------------------------------------------------------------
// Integers and floats

const SMALL: bigint[] = [];
for (let i = 0; i < 256; i++) SMALL.push(BigInt(i));
const U64 = 1n << 64n;

// Recently seen 64-bit ids, by their bytes: a trace's spans share a trace id and most parent ids
// are a sibling's span id, so a hit saves a BigInt allocation. BigInts are immutable, so sharing
// one between spans is safe.
const ID_SLOTS_SHIFT = 24; // 256 slots
const idHi = new Int32Array(256);
const idLo = new Int32Array(256);
const idVal: bigint[] = new Array<bigint>(256).fill(0n);

/** A uint64 id: any integer (negative ints cast to uint64, as Go's `uint64(int64)`), nil as 0. */
export function readU64(what: string): bigint {
  if (pos >= end) truncated(what);
  const c = b[pos]!;
  if (c < 0x80) {
    pos++;
    return SMALL[c]!;
  }
  if (c === 0xcf || c === 0xd3) {
    // A negative int64's two's-complement bytes read as a uint64 are exactly the cast.
    if (pos + 9 > end) truncated(what);
    const hi = view.getInt32(pos + 1);
    const lo = view.getInt32(pos + 5);
    const s = Math.imul(hi ^ lo, 0x9e3779b1) >>> ID_SLOTS_SHIFT;
    if (idLo[s] === lo && idHi[s] === hi) {
      pos += 9;
      return idVal[s]!;
    }
    const v = view.getBigUint64(pos + 1);
    pos += 9;
    idHi[s] = hi;
    idLo[s] = lo;
    idVal[s] = v;
    return v;
  }
  return readU64Slow(what, c, false);
}

/**
 * A uint64 that must not be negative (msgp `ReadUint64Bytes`: span link `trace_id_high`, span
 * event `time_unix_nano`).
 */
export function readU64Strict(what: string): bigint {
  if (pos >= end) truncated(what);
  const c = b[pos]!;
  if (c === 0xcf) {
    if (pos + 9 > end) truncated(what);
    const v = view.getBigUint64(pos + 1);
    pos += 9;
    return v;
  }
  return readU64Slow(what, c, true);
}

function readU64Slow(what: string, c: number, strict: boolean): bigint {
  let n: number;
  switch (c) {
    case 0xc0:
      pos++;
      return 0n;
    case 0xcc:
      if (pos + 2 > end) truncated(what);
      n = b[pos + 1]!;
      pos += 2;
      return SMALL[n]!;
    case 0xcd:
      if (pos + 3 > end) truncated(what);
      n = u16(pos + 1);
      pos += 3;
      return BigInt(n);
    case 0xce:
      if (pos + 5 > end) truncated(what);
      n = u32(pos + 1);
      pos += 5;
      return BigInt(n);
    case 0xcf:
      if (pos + 9 > end) truncated(what);
      pos += 9;
      return view.getBigUint64(pos - 8);
    case 0xd0:
      if (pos + 2 > end) truncated(what);
      n = (b[pos + 1]! << 24) >> 24;
      pos += 2;
      break;
    case 0xd1:
      if (pos + 3 > end) truncated(what);
      n = (u16(pos + 1) << 16) >> 16;
      pos += 3;
      break;
    case 0xd2:
      if (pos + 5 > end) truncated(what);
      n = u32(pos + 1) | 0;
      pos += 5;
      break;
    case 0xd3: {
      if (pos + 9 > end) truncated(what);
      const v = view.getBigInt64(pos + 1);
      if (v < 0n && strict) fail('overflow', `${what}: negative value ${v} for an unsigned field`);
      pos += 9;
      return v < 0n ? v + U64 : v;
    }
    default:
      // Positive fixint: what tracers write for small counts (dd-trace-js's /v0.6/stats).
      if (c < 0x80) {
        pos++;
        return SMALL[c]!;
      }
      if (c >= 0xe0) {
        n = c - 0x100;
        pos++;
        break;
      }
      return wrongType(what, 'an integer', c);
  }
  if (n >= 0) return BigInt(n);
  if (strict) {
    pos -= 1; // point the message at the value
    fail('overflow', `${what}: negative value ${n} for an unsigned field`);
  }
  return BigInt(n) + U64;
}

const MAX_I64 = (1n << 63n) - 1n;

/** An int64 as a bigint (span `start`): any integer; a uint above 2^63-1 overflows. Nil is 0. */
export function readI64(what: string): bigint {
  if (pos >= end) truncated(what);
  const c = b[pos]!;
  if (c === 0xcf) {
    if (pos + 9 > end) truncated(what);
    if (b[pos + 1]! >= 0x80) fail('overflow', `${what}: found uint64, overflows int64`);
    const v = view.getBigUint64(pos + 1);
    pos += 9;
    return v;
  }
  if (c === 0xd3) {
    if (pos + 9 > end) truncated(what);
    const v = view.getBigInt64(pos + 1);
    pos += 9;
    return v;
  }
  if (c < 0x80) {
    pos++;
    return SMALL[c]!;
  }
  return BigInt(readSmallInt(what, c));
}

/**
 * An int64 as a number (span `duration`): exact below 2^53. Any integer; a uint above 2^63-1
 * overflows. Nil is 0.
 */
export function readI64Number(what: string): number {
  if (pos >= end) truncated(what);
  const c = b[pos]!;
  if (c === 0xcf) {
    if (pos + 9 > end) truncated(what);
    const hi = u32(pos + 1);
    if (hi >= 0x80000000) fail('overflow', `${what}: found uint64, overflows int64`);
    const v = hi * 4294967296 + u32(pos + 5);
    pos += 9;
    return v;
  }
  if (c === 0xd3) {
    if (pos + 9 > end) truncated(what);
    const v = (u32(pos + 1) | 0) * 4294967296 + u32(pos + 5);
    pos += 9;
    return v;
  }
  if (c < 0x80) {
    pos++;
    return c;
  }
  return readSmallInt(what, c);
}

/**
 * Any integer encoding except the 64-bit ones, as a number; nil is 0. Every caller handles 0xcf
 * and 0xd3 itself (each with its own range rule) before it calls this.
 */
function readSmallInt(what: string, c: number): number {
  let n: number;
  switch (c) {
    case 0xc0:
      pos++;
      return 0;
    case 0xcc:
    case 0xd0:
      if (pos + 2 > end) truncated(what);
      n = c === 0xcc ? b[pos + 1]! : (b[pos + 1]! << 24) >> 24;
      pos += 2;
      return n;
    case 0xcd:
    case 0xd1:
      if (pos + 3 > end) truncated(what);
      n = c === 0xcd ? u16(pos + 1) : (u16(pos + 1) << 16) >> 16;
      pos += 3;
      return n;
    case 0xce:
    case 0xd2:
      if (pos + 5 > end) truncated(what);
      n = c === 0xce ? u32(pos + 1) : u32(pos + 1) | 0;
      pos += 5;
      return n;
    default:
      if (c >= 0xe0) {
        pos++;
        return c - 0x100;
      }
      return wrongType(what, 'an integer', c);
  }
}

/** An int32 (span `error`, chunk `priority`): any integer in range; nil is 0. */
export function readI32(what: string): number {
  if (pos >= end) truncated(what);
  const c = b[pos]!;
  if (c < 0x80) {
    pos++;
    return c;
  }
  if (c === 0xcf || c === 0xd3) {
    // The value is checked before it is rounded: exact 64-bit comparison on the two halves.
    if (pos + 9 > end) truncated(what);
    const hi = u32(pos + 1);
    const lo = u32(pos + 5);
    const fits = (hi === 0 && lo <= 0x7fffffff) || (c === 0xd3 && hi === 0xffffffff && lo >= 0x80000000);
    if (!fits) fail('overflow', `${what}: ${c === 0xcf ? 'uint64' : 'int64'} value overflows int32`);
    pos += 9;
    return lo | 0;
  }
  const start = pos;
  const n = readSmallInt(what, c);
  if (n > 0x7fffffff || n < -0x80000000) {
    pos = start;
    fail('overflow', `${what}: ${n} overflows int32`);
  }
  return n;
}

/** A uint32 (span link `flags`, v0.5 string indexes): any non-negative integer below 2^32. */
export function readU32(what: string): number {
  if (pos >= end) truncated(what);
  const c = b[pos]!;
  if (c < 0x80) {
    pos++;
    return c;
  }
  if (c === 0xce) {
    // dd-trace-js writes every v0.5 string index as a uint32.
    if (pos + 5 > end) truncated(what);
    const v = u32(pos + 1);
    pos += 5;
    return v;
  }
  if (c === 0xcf || c === 0xd3) {
    if (pos + 9 > end) truncated(what);
    const hi = u32(pos + 1);
    if (hi !== 0) fail('overflow', `${what}: value overflows uint32`);
    const lo = u32(pos + 5);
    pos += 9;
    return lo;
  }
  if (c === 0xc0) return wrongType(what, 'an unsigned integer', c);
  const start = pos;
  const n = readSmallInt(what, c);
  if (n < 0) {
    pos = start;
    fail('overflow', `${what}: negative value ${n} for an unsigned field`);
  }
  return n;
}

/** A float64 (metrics values): float64 or any integer (converted, as Go's float64()); nil is 0. */
export function readF64(what: string): number {
  if (pos >= end) truncated(what);
  const c = b[pos]!;
  if (c === 0xcb) {
    if (pos + 9 > end) truncated(what);
    const v = view.getFloat64(pos + 1);
    pos += 9;
    return v;
  }
  if (c < 0x80) {
    pos++;
    return c;
  }
  if (c === 0xcf) {
    if (pos + 9 > end) truncated(what);
    // hi * 2^32 is exact; adding lo rounds once, to nearest even, as Go's float64(uint64) does.
    const v = u32(pos + 1) * 4294967296 + u32(pos + 5);
    pos += 9;
    return v;
  }
  if (c === 0xd3) {
    if (pos + 9 > end) truncated(what);
    const v = (u32(pos + 1) | 0) * 4294967296 + u32(pos + 5);
    pos += 9;
    return v;
  }
  if (c === 0xca) return wrongType(what, 'float64 or an integer', c);
  return readSmallInt(what, c);
}

/** A float of either width or an integer (span event `double_value`, msgp `ReadFloat64Bytes`). */
export function readAnyFloat(what: string): number {
  if (pos < end && b[pos] === 0xca) {
    if (pos + 5 > end) truncated(what);
    const v = view.getFloat32(pos + 1);
    pos += 5;
    return v;
  }
  return readF64(what);
}

/** A float64 that must hold an integer, or null when the next value is not a float. */
export function readIntegralFloat(what: string): number | null {
  if (pos >= end) truncated(what);
  const c = b[pos]!;
  if (c !== 0xcb && c !== 0xca) return null;
  const v = readAnyFloat(what);
  if (!Number.isInteger(v)) {
    pos -= c === 0xcb ? 9 : 5;
    fail('wrong_type', `${what}: expected an integer, got the non-integral float ${v}`);
  }
  return v;
}

/** A bool: true or false; nil is false. */
export function readBool(what: string): boolean {
  if (pos >= end) truncated(what);
  const c = b[pos]!;
  if (c === 0xc3) {
    pos++;
    return true;
  }
  if (c === 0xc2 || c === 0xc0) {
    pos++;
    return false;
  }
  return wrongType(what, 'a bool', c);
}

/** Checks a bigint fits int64 (for values built from floats). */
export function checkI64(what: string, v: bigint): bigint {
  if (v > MAX_I64 || v < -MAX_I64 - 1n) fail('overflow', `${what}: ${v} overflows int64`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Skipping

/**
 * Skips one value of any type (unknown keys, msgp `Skip`). Iterative, so nesting depth costs no
 * stack: `pending` counts the values still to skip.
 */
export function skipValue(what: string): void {
  let pending = 1;
  while (pending > 0) {
    pending--;
    if (pos >= end) truncated(what);
    const c = b[pos]!;
    if (c < 0x80 || c >= 0xe0 || c === 0xc0 || c === 0xc2 || c === 0xc3) {
      pos++;
      continue;
    }
    if (c < 0x90) {
      pos++;
      pending += checkCount(what, c & 0x0f, 2) * 2;
      continue;
    }
    if (c < 0xa0) {
      pos++;
      pending += checkCount(what, c & 0x0f, 1);
      continue;
    }
    let skip: number;
    if (c < 0xc0) {
      skip = 1 + (c & 0x1f);
      if (pos + skip > end) truncated(what);
      pos += skip;
      continue;
    }
    switch (c) {
      case 0xc1:
        return wrongType(what, 'a value', c);
      case 0xc4:
      case 0xd9:
        if (pos + 2 > end) truncated(what);
        skip = 2 + b[pos + 1]!;
        break;
      case 0xc5:
      case 0xda:
        if (pos + 3 > end) truncated(what);
        skip = 3 + u16(pos + 1);
        break;
      case 0xc6:
      case 0xdb:
        if (pos + 5 > end) truncated(what);
        skip = 5 + u32(pos + 1);
        break;
      case 0xc7:
        if (pos + 2 > end) truncated(what);
        skip = 3 + b[pos + 1]!;
        break;
      case 0xc8:
        if (pos + 3 > end) truncated(what);
        skip = 4 + u16(pos + 1);
        break;
      case 0xc9:
        if (pos + 5 > end) truncated(what);
        skip = 6 + u32(pos + 1);
        break;
      case 0xca:
        skip = 5;
        break;
      case 0xcb:
        skip = 9;
        break;
      case 0xcc:
      case 0xd0:
        skip = 2;
        break;
      case 0xcd:
      case 0xd1:
        skip = 3;
        break;
      case 0xce:
      case 0xd2:
        skip = 5;
        break;
      case 0xcf:
      case 0xd3:
        skip = 9;
        break;
      case 0xd4:
        skip = 3;
        break;
      case 0xd5:
        skip = 4;
        break;
      case 0xd6:
        skip = 6;
        break;
      case 0xd7:
        skip = 10;
        break;
      case 0xd8:
        skip = 18;
        break;
      case 0xdc:
      case 0xde: {
        if (pos + 3 > end) truncated(what);
        const n = u16(pos + 1);
        pos += 3;
        pending += c === 0xdc ? checkCount(what, n, 1) : checkCount(what, n, 2) * 2;
        continue;
      }
      case 0xdd:
      case 0xdf: {
        if (pos + 5 > end) truncated(what);
        const n = u32(pos + 1);
        pos += 5;
        pending += c === 0xdd ? checkCount(what, n, 1) : checkCount(what, n, 2) * 2;
        continue;
      }
      default:
        return wrongType(what, 'a value', c);
    }
    if (pos + skip > end) truncated(what);
    pos += skip;
  }
}
