/**
 * A seeded 64-bit hash over bytes, kept as two 32-bit lanes so the hot path never touches
 * BigInt. kennel's own construction: 8 bytes per step (one 32-bit word per lane), each lane an
 * xor-multiply-rotate round (the round of xxHash32 and MurmurHash3, both public domain), and the
 * two lanes added into each other at every step; MurmurHash3 x86_128's cross-add and fmix32
 * finalise it.
 *
 * @remarks
 * This is not the agent's murmur3-128 key. kennel only needs the key's identity semantics
 * (see `ContextKeyBuilder`), not its exact bits.
 *
 * Why the state is really 64 bits, not two 32-bit hashes side by side: one step maps the state
 * `(h1, h2)` and the block `(k1, k2)` to
 *
 *     h1' = rotl13(imul(h1 ^ k1, M1)) + h2
 *     h2' = rotl17(imul(h2 ^ k2, M2)) + h1'
 *
 * For a fixed block this is a bijection of the 64-bit state (undo h2' with h1', then h1' with h2;
 * `imul` by an odd constant, `rotl` and `+` are invertible). So two inputs of the same length
 * that differ in one block leave that block with different states and, every later step being a
 * bijection, can never meet again: a collision needs a later block whose difference cancels the
 * whole 64-bit state difference, which unrelated inputs hit with probability about 2^-64. Each
 * lane reads a different half of the block, but h2' takes in h1' (so both words) and h1 takes in
 * h2 at the next step, so neither lane is a hash of half the input: without that feedback, two
 * inputs differing only in odd words would collide whenever one 32-bit lane did. (MurmurHash3
 * x86_32 run twice reads every word into both lanes instead, at twice the multiplications.)
 * The finaliser is a bijection too, and mixes the length in, so zero-padded tails of different
 * lengths differ.
 *
 * Against the previous construction (MurmurHash3 x86_32 run twice, 4 bytes per step, and a
 * context key that hashed name, host and tags separately and then hashed the three results
 * again) this is half the multiplications per byte; `ContextKeyBuilder` runs the same steps
 * inline (see there).
 */

/** @internal The lane multipliers (the golden ratio and xxHash32's PRIME32_2), both odd. */
export const M1 = 0x9e3779b1 | 0;
/** @internal */
export const M2 = 0x85ebca77 | 0;
const F1 = 0x85ebca6b | 0;
const F2 = 0xc2b2ae35 | 0;

/** The result of a 64-bit hash, as two unsigned 32-bit halves. Reused: read it right away. */
export class Hash64 {
  lo = 0;
  hi = 0;
}

export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Where {@link absorb64} leaves its state and {@link finish64} its result, as signed 32-bit
 * integers (small integers for V8, so no heap numbers). Read right after the call.
 * @internal
 */
export const lane = new Int32Array(2);

/**
 * Runs the block steps over `buf[start, end)` from the state `(h1, h2)` and leaves the state in
 * `lane`. A last partial block is zero-padded (the finaliser's length tells it apart). Words are
 * assembled from byte loads: callers of hashBytes64 hash one string per buffer, so a DataView
 * (what the context key uses, per packet) would cost an allocation per call.
 */
function absorb64(buf: Uint8Array, start: number, end: number, h1: number, h2: number): void {
  let i = start;
  const blockEnd = end - ((end - start) & 7);
  for (; i < blockEnd; i += 8) {
    const k1 = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    const k2 = buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24);
    h1 = Math.imul(h1 ^ k1, M1);
    h1 = (((h1 << 13) | (h1 >>> 19)) + h2) | 0;
    h2 = Math.imul(h2 ^ k2, M2);
    h2 = (((h2 << 17) | (h2 >>> 15)) + h1) | 0;
  }
  const r = end - i;
  if (r > 0) {
    let k1 = buf[i]!;
    let k2 = 0;
    if (r > 1) k1 |= buf[i + 1]! << 8;
    if (r > 2) k1 |= buf[i + 2]! << 16;
    if (r > 3) {
      k1 |= buf[i + 3]! << 24;
      if (r > 4) k2 = buf[i + 4]!;
      if (r > 5) k2 |= buf[i + 5]! << 8;
      if (r > 6) k2 |= buf[i + 6]! << 16;
    }
    h1 = Math.imul(h1 ^ k1, M1);
    h1 = (((h1 << 13) | (h1 >>> 19)) + h2) | 0;
    h2 = Math.imul(h2 ^ k2, M2);
    h2 = (((h2 << 17) | (h2 >>> 15)) + h1) | 0;
  }
  lane[0] = h1;
  lane[1] = h2;
}

/**
 * One block step on two words (for combining hashes that are already words). Leaves the state
 * in `lane`.
 * @internal
 */
export function step64(h1: number, h2: number, k1: number, k2: number): void {
  h1 = Math.imul(h1 ^ k1, M1);
  h1 = (((h1 << 13) | (h1 >>> 19)) + h2) | 0;
  h2 = Math.imul(h2 ^ k2, M2);
  h2 = (((h2 << 17) | (h2 >>> 15)) + h1) | 0;
  lane[0] = h1;
  lane[1] = h2;
}

/**
 * The finaliser: the length in, MurmurHash3 x86_128's cross-add, fmix32 on each lane, cross-add.
 * Leaves the result in `lane` (signed; `>>> 0` for the unsigned halves).
 * @internal
 */
export function finish64(h1: number, h2: number, len: number): void {
  h1 ^= len;
  h2 ^= len;
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, F1);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, F2);
  h1 ^= h1 >>> 16;
  h2 ^= h2 >>> 16;
  h2 = Math.imul(h2, F1);
  h2 ^= h2 >>> 13;
  h2 = Math.imul(h2, F2);
  h2 ^= h2 >>> 16;
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  lane[0] = h1;
  lane[1] = h2;
}

/** Hashes `buf[start, end)` with the seeds into `out`. */
export function hashBytes64(
  buf: Uint8Array,
  start: number,
  end: number,
  seedLo: number,
  seedHi: number,
  out: Hash64,
): void {
  absorb64(buf, start, end, seedLo | 0, seedHi | 0);
  finish64(lane[0]!, lane[1]!, end - start);
  out.lo = lane[0]! >>> 0;
  out.hi = lane[1]! >>> 0;
}
