/**
 * A seeded 64-bit hash over bytes, computed as two 32-bit lanes so the hot path never touches
 * BigInt. The block mixing follows MurmurHash3 (x86_32, public domain, Austin Appleby), run twice
 * with different constants and seeds, then cross-mixed and finalised with fmix32.
 *
 * @remarks
 * This is not the agent's murmur3-128 key. kennel only needs the key's identity semantics
 * (see `ContextKeyBuilder`), not its exact bits.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const C3 = 0x85ebca6b;
const C4 = 0xc2b2ae35;

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

/** Hashes `buf[start, end)` with the seeds into `out`. */
export function hashBytes64(
  buf: Uint8Array,
  start: number,
  end: number,
  seedLo: number,
  seedHi: number,
  out: Hash64,
): void {
  let h1 = seedLo | 0;
  let h2 = seedHi | 0;
  let i = start;
  const blockEnd = end - ((end - start) & 3);
  for (; i < blockEnd; i += 4) {
    const k = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    let k1 = Math.imul(k, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, C2);
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    let k2 = Math.imul(k, C3);
    k2 = (k2 << 17) | (k2 >>> 15);
    h2 ^= Math.imul(k2, C4);
    h2 = (h2 << 15) | (h2 >>> 17);
    h2 = (Math.imul(h2, 5) + 0x38495ab5) | 0;
  }
  const rest = end - i;
  if (rest > 0) {
    let k = buf[i]!;
    if (rest > 1) k |= buf[i + 1]! << 8;
    if (rest > 2) k |= buf[i + 2]! << 16;
    let k1 = Math.imul(k, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, C2);
    let k2 = Math.imul(k, C3);
    k2 = (k2 << 17) | (k2 >>> 15);
    h2 ^= Math.imul(k2, C4);
  }
  const len = end - start;
  h1 ^= len;
  h2 ^= len;
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  out.lo = h1 >>> 0;
  out.hi = h2 >>> 0;
}
