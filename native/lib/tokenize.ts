/**
 * The DogStatsD tokenizer: the structural delimiters of a packet, in order, in one call. The
 * codec (`@kennel/dogstatsd`) walks them instead of searching for each delimiter with
 * `Buffer.indexOf`. Native (`src/tokenize.h`, SSE2 or AVX2) when the addon is loaded; this module
 * also holds its JavaScript twin, {@link tokenizeJs}, with the same signature and output.
 *
 * This module loads nothing but the addon: no socket code, so a codec may import it
 * (`@kennel/native/tokenize`).
 */
import { loadNative } from './load.js';

/**
 * Writes the structural delimiters of `buf[start, end)` to `out`, in order, one entry each:
 * `(position << 2) | kind` with the absolute position in `buf` and kind {@link TOKEN_NEWLINE}
 * (`\n`), {@link TOKEN_PIPE} (`|`), {@link TOKEN_COMMA} (`,`) or {@link TOKEN_COLON} (`:`).
 *
 * - `\n` and `|` are always written.
 * - `:` only before the first `|` of its line: the name's colon and the separators of packed
 *   values (tag colons are not structure).
 * - `,` only after the first `|` of its line: tag separators (an event header's comma is not).
 *
 * Returns the number of entries, or -1 when they do not fit in `out` (then `out` holds
 * anything): an `out` of `end - start` entries always suffices. Throws a `TypeError` for
 * arguments of the wrong type and a `RangeError` unless `0 <= start <= end <= buf.length` are
 * integers and `end < 2^30` (positions take 30 bits).
 */
export type Tokenize = (buf: Uint8Array, start: number, end: number, out: Uint32Array) => number;

export const TOKEN_NEWLINE = 0;
export const TOKEN_PIPE = 1;
export const TOKEN_COMMA = 2;
export const TOKEN_COLON = 3;
/** One past the largest `end` a tokenizer accepts. */
export const TOKENIZE_MAX_END = 2 ** 30 - 1;

const NL = 0x0a;
const PIPE = 0x7c;
const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * The JavaScript twin of the native tokenizer: same arguments, same checks, same entries. It is
 * a byte loop, slower than the codec's own `Buffer.indexOf` searches, so the codec does not use
 * it; it is the reference the native kernel is tested against.
 */
export const tokenizeJs: Tokenize = function tokenize(buf, start, end, out) {
  checkArguments(buf, start, end, out);
  const cap = out.length;
  let n = 0;
  let beforePipe = true;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    let kind: number;
    if (c === NL) {
      kind = TOKEN_NEWLINE;
      beforePipe = true;
    } else if (c === PIPE) {
      kind = TOKEN_PIPE;
      beforePipe = false;
    } else if (c === COMMA) {
      if (beforePipe) continue;
      kind = TOKEN_COMMA;
    } else if (c === COLON) {
      if (!beforePipe) continue;
      kind = TOKEN_COLON;
    } else {
      continue;
    }
    if (n === cap) return -1;
    out[n++] = (i << 2) | kind;
  }
  return n;
};

function checkArguments(buf: Uint8Array, start: number, end: number, out: Uint32Array): void {
  if (!(buf instanceof Uint8Array)) throw new TypeError('tokenize: buf must be a Uint8Array');
  if (typeof start !== 'number' || typeof end !== 'number') {
    throw new TypeError('tokenize: start and end must be numbers');
  }
  if (!(out instanceof Uint32Array)) throw new TypeError('tokenize: out must be a Uint32Array');
  if (!(start >= 0) || !(start <= end) || !(end <= buf.length) || Math.floor(start) !== start || Math.floor(end) !== end) {
    throw new RangeError('tokenize: need integers 0 <= start <= end <= buf.length');
  }
  if (end > TOKENIZE_MAX_END) throw new RangeError('tokenize: end must be below 2^30');
}

/** Which tokenizer {@link loadTokenizer} found. */
export type TokenizerLoadResult =
  | { readonly tokenize: Tokenize; readonly native: true; readonly kernel: 'avx2' | 'sse2' | 'scalar'; readonly reason: null }
  | { readonly tokenize: Tokenize; readonly native: false; readonly kernel: 'js'; readonly reason: string };

/**
 * The native tokenizer when the addon is loaded (and `KENNEL_DISABLE_NATIVE` is not set), else
 * the JavaScript twin with the reason. Like {@link loadNative}, it reads the kill switch on every
 * call; callers take it once (the codec, in its constructor).
 */
export function loadTokenizer(): TokenizerLoadResult {
  const { binding, reason } = loadNative();
  if (binding === null) return { tokenize: tokenizeJs, native: false, kernel: 'js', reason };
  return { tokenize: binding.tokenize, native: true, kernel: binding.tokenizerKernel, reason: null };
}

/**
 * The native tokenizer with each kernel this CPU runs (`avx2` only with AVX2, `sse2` on x86-64,
 * `scalar` always), for tests and benchmarks; empty when the addon is not loaded or is switched off.
 */
export function nativeTokenizerKernels(): Readonly<Partial<Record<'avx2' | 'sse2' | 'scalar', Tokenize>>> {
  const { binding } = loadNative();
  return binding === null ? {} : binding.tokenizeKernels;
}

/** The native tokenizer, or `null` when the addon is not loaded or is switched off. */
export function nativeTokenizer(): Tokenize | null {
  const r = loadTokenizer();
  return r.native ? r.tokenize : null;
}
