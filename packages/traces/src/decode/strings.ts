/**
 * Strings out of msgpack bytes: a small cache for the short strings that repeat (map keys, tag
 * keys, service and operation names, tag values such as `GET` or `200`), fast ASCII paths, and
 * the agent's repair of invalid UTF-8.
 *
 * @remarks
 * The cache is msgpackr's key cache idea (style anchors 3b) applied to values too: a string is
 * looked up by its bytes, so a hit allocates nothing and returns the very string object built the
 * first time (which V8 has usually internalized already when it served as a property key). It is
 * direct-mapped with a second chance: a miss takes the slot only if the string there was not hit
 * since it was stored or last spared, so one-off values (URLs, SQL with literals) do not push
 * out the strings that repeat, and memory never grows. The cache is module state, shared by every
 * decode on this thread; it holds at most `SLOTS` strings of at most `MAX_CACHED` bytes.
 *
 * Invalid UTF-8 becomes U+FFFD the way Go's `repairUTF8` (`decoder_bytes.go`) does it: one
 * replacement character per byte that does not start a valid sequence (WHATWG decoders, and so
 * `TextDecoder`, replace a maximal invalid subpart with one character instead).
 */

/** Longest string (in bytes) the cache keeps. */
const MAX_CACHED = 64;
const SLOTS = 4096;
/** `h >>> SLOT_SHIFT` is a slot index (the top 12 bits of a 32-bit hash). */
const SLOT_SHIFT = 20;

const slotLen = new Int32Array(SLOTS).fill(-1);
/** Second-chance bits: set by a hit; a miss clears a set bit instead of evicting the entry. */
const slotUsed = new Uint8Array(SLOTS);
const slotStr: string[] = new Array<string>(SLOTS).fill('');
const arena = new Uint8Array(SLOTS * MAX_CACHED);
const arenaView = new DataView(arena.buffer);

// The body being decoded, and a view of it for reading four bytes at a time.
let src: Uint8Array = arena;
let srcView: DataView = arenaView;

/** Sets the bytes `bytesToString` reads (the reader calls this when a decode begins). */
export function setSource(b: Uint8Array, view: DataView): void {
  src = b;
  srcView = view;
}

interface NodeBufferSlices {
  latin1Slice(this: Uint8Array, start: number, end: number): string;
  utf8Slice(this: Uint8Array, start: number, end: number): string;
}
// Node's Buffer methods take any Uint8Array as `this`; they decode without the subarray a
// TextDecoder call needs. latin1 is exact for ASCII bytes, utf8Slice is exact for valid UTF-8.
const nodeSlices = Buffer.prototype as unknown as NodeBufferSlices;
const latin1Slice = nodeSlices.latin1Slice;
const utf8Slice = nodeSlices.utf8Slice;

/** The string of the `len` bytes at `start` of the source, from the cache when it is short. `len` > 0. */
export function bytesToString(start: number, len: number): string {
  const b = src;
  if (len > MAX_CACHED) return uncached(b, start, start + len);
  const e = start + len;
  const v = srcView;
  // The slot comes from the length and the first and last four bytes, so finding it costs the
  // same for every length; the comparison below is what makes a hit exact. Words are read
  // little-endian (the machine's order) on both sides, so comparing them compares bytes.
  let h: number;
  if (len >= 4) {
    h = Math.imul(v.getInt32(start, true) ^ Math.imul(v.getInt32(e - 4, true) ^ len, 0x85ebca6b), 0x9e3779b1);
  } else {
    h = Math.imul((b[start]! << 16) | ((len > 1 ? b[start + 1]! : 0) << 8) | (len > 2 ? b[start + 2]! : 0) | (len << 24), 0x9e3779b1);
  }
  const slot = h >>> SLOT_SHIFT;
  if (slotLen[slot] === len) {
    let j = slot * MAX_CACHED;
    let i = start;
    while (i + 4 <= e && v.getInt32(i, true) === arenaView.getInt32(j, true)) {
      i += 4;
      j += 4;
    }
    while (i < e && arena[j] === b[i]) {
      i++;
      j++;
    }
    if (i === e) {
      slotUsed[slot] = 1;
      return slotStr[slot]!;
    }
  }
  let or = 0;
  for (let i = start; i < e; i++) or |= b[i]!;
  const s = or < 0x80 ? asciiString(b, start, len) : utf8String(b, start, e);
  if (slotUsed[slot] === 1) {
    // The entry was hit since it was stored (or since its last reprieve): keep it, so one-off
    // values (URLs, ids) do not evict the strings that repeat.
    slotUsed[slot] = 0;
    return s;
  }
  slotLen[slot] = len;
  slotStr[slot] = s;
  let j = slot * MAX_CACHED;
  for (let i = start; i < e; i++) arena[j++] = b[i]!;
  return s;
}

function uncached(b: Uint8Array, start: number, e: number): string {
  for (let i = start; i < e; i++) {
    if (b[i]! >= 0x80) return utf8String(b, start, e);
  }
  return latin1Slice.call(b, start, e);
}

/** An ASCII string of 1 to 64 bytes. Short ones skip the native call, which costs ~100 ns. */
function asciiString(b: Uint8Array, p: number, len: number): string {
  const fcc = String.fromCharCode;
  switch (len) {
    case 1:
      return fcc(b[p]!);
    case 2:
      return fcc(b[p]!, b[p + 1]!);
    case 3:
      return fcc(b[p]!, b[p + 1]!, b[p + 2]!);
    case 4:
      return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!);
    case 5:
      return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!);
    case 6:
      return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!);
    case 7:
      return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!);
    case 8:
      return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!);
    default:
      break;
  }
  if (len > 24) return latin1Slice.call(b, p, p + len);
  let s = fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!);
  const e = p + len;
  p += 8;
  while (p + 8 <= e) {
    s += fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!);
    p += 8;
  }
  while (p < e) s += fcc(b[p++]!);
  return s;
}

/** A string from bytes that are not all ASCII: exact when valid, Go's repair when not. */
function utf8String(b: Uint8Array, start: number, e: number): string {
  return validUtf8(b, start, e) ? utf8Slice.call(b, start, e) : repairUtf8(b, start, e);
}

/**
 * Whether `b[i, e)` is well-formed UTF-8 (Go's `utf8.Valid`: no overlong forms, no surrogates,
 * nothing above U+10FFFF).
 */
export function validUtf8(b: Uint8Array, i: number, e: number): boolean {
  while (i < e) {
    const n = sequenceLength(b, i, e);
    if (n === 0) return false;
    i += n;
  }
  return true;
}

/**
 * The length of the valid UTF-8 sequence starting at `b[i]`, or 0 when none does (the table of
 * well-formed byte sequences, Unicode 15 table 3-7, which Go's decoder implements).
 */
function sequenceLength(b: Uint8Array, i: number, e: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  if (c < 0xc2) return 0;
  if (c < 0xe0) return i + 1 < e && (b[i + 1]! & 0xc0) === 0x80 ? 2 : 0;
  if (c < 0xf0) {
    if (i + 2 >= e) return 0;
    const c1 = b[i + 1]!;
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return c1 >= lo && c1 <= hi && (b[i + 2]! & 0xc0) === 0x80 ? 3 : 0;
  }
  if (c < 0xf5) {
    if (i + 3 >= e) return 0;
    const c1 = b[i + 1]!;
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return c1 >= lo && c1 <= hi && (b[i + 2]! & 0xc0) === 0x80 && (b[i + 3]! & 0xc0) === 0x80 ? 4 : 0;
  }
  return 0;
}

/** Go's `repairUTF8`: valid sequences decode, every other byte becomes one U+FFFD. */
export function repairUtf8(b: Uint8Array, i: number, e: number): string {
  let out = '';
  const units: number[] = [];
  while (i < e) {
    const n = sequenceLength(b, i, e);
    const c = b[i]!;
    if (n === 0) {
      units.push(0xfffd);
      i += 1;
    } else if (n === 1) {
      units.push(c);
      i += 1;
    } else if (n === 2) {
      units.push(((c & 0x1f) << 6) | (b[i + 1]! & 0x3f));
      i += 2;
    } else if (n === 3) {
      units.push(((c & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f));
      i += 3;
    } else {
      const cp = ((c & 0x07) << 18) | ((b[i + 1]! & 0x3f) << 12) | ((b[i + 2]! & 0x3f) << 6) | (b[i + 3]! & 0x3f);
      const v = cp - 0x10000;
      units.push(0xd800 | (v >> 10), 0xdc00 | (v & 0x3ff));
      i += 4;
    }
    if (units.length >= 4096) {
      out += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  return out + String.fromCharCode(...units);
}
