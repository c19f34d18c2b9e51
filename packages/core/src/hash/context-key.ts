import { Hash64, hashBytes64 } from './hash64.js';

/**
 * Builds the 64-bit key that identifies a metric context: its name, its host and the *set* of
 * its tags. Tag order and duplicate tags do not change the key; the sample's value never enters
 * it. This is the identity the agent's `pkg/aggregator/ckey/key.go` gives its keys (a murmur3
 * sum over name and host seeded with a tag-set hash); the exact bits differ, which nothing relies
 * on.
 *
 * @remarks
 * One builder is reused for every sample: `reset()`, `addTag()` per tag, then `finish()`. The
 * tag set is combined with XOR after de-duplication, so it is order-insensitive, and the
 * de-duplication is a small open-addressing table stamped with a generation counter, so a
 * hostile line with thousands of tags costs linear time, not quadratic.
 *
 * @example
 * ```ts
 * const key = new ContextKeyBuilder();
 * key.reset();
 * key.addTagString('env:prod');
 * key.finishStrings('page.views', 'web-1');
 * console.log(key.lo, key.hi);
 * ```
 */
export class ContextKeyBuilder {
  /** Low 32 bits of the last finished key. */
  lo = 0;
  /** High 32 bits of the last finished key. */
  hi = 0;

  private tagsLo = 0;
  private tagsHi = 0;
  private tagCount = 0;
  private generation = 1;
  private slotGen = new Uint32Array(64);
  private slotLo = new Uint32Array(64);
  private slotHi = new Uint32Array(64);
  private readonly part = new Hash64();
  private readonly nameHash = new Hash64();
  private readonly mixWords = new Uint32Array(6);
  private readonly mixBytes = new Uint8Array(this.mixWords.buffer);
  private scratch = new Uint8Array(256);

  /** Starts a new key. */
  reset(): void {
    this.tagsLo = 0;
    this.tagsHi = 0;
    this.tagCount = 0;
    this.generation = (this.generation + 1) >>> 0;
    if (this.generation === 0) {
      this.slotGen.fill(0);
      this.generation = 1;
    }
  }

  /** Adds the tag `buf[start, end)` to the set. */
  addTag(buf: Uint8Array, start: number, end: number): void {
    const part = this.part;
    hashBytes64(buf, start, end, 0x7a6b5c4d, 0x1f2e3d4c, part);
    if (this.insertUnique(part.lo, part.hi)) {
      this.tagsLo ^= part.lo;
      this.tagsHi ^= part.hi;
    }
  }

  /** Adds a tag given as a string (hashed as its UTF-8 bytes, so it matches `addTag`). */
  addTagString(tag: string): void {
    const n = this.encode(tag);
    this.addTag(this.scratch, 0, n);
  }

  /** Finishes the key from the name `nameBuf[nameStart, nameEnd)` and host `hostBuf[hostStart, hostEnd)`. */
  finish(
    nameBuf: Uint8Array,
    nameStart: number,
    nameEnd: number,
    hostBuf: Uint8Array,
    hostStart: number,
    hostEnd: number,
  ): void {
    const name = this.nameHash;
    hashBytes64(nameBuf, nameStart, nameEnd, 0x2545f491, 0x4f6cdd1d, name);
    const host = this.part;
    hashBytes64(hostBuf, hostStart, hostEnd, 0x1b873593, 0x68e31da4, host);
    this.combine(name.lo, name.hi, host.lo, host.hi);
  }

  /** Finishes the key from a name and a host given as strings. */
  finishStrings(name: string, host: string): void {
    const nameHash = this.nameHash;
    let n = this.encode(name);
    hashBytes64(this.scratch, 0, n, 0x2545f491, 0x4f6cdd1d, nameHash);
    n = this.encode(host);
    const hostHash = this.part;
    hashBytes64(this.scratch, 0, n, 0x1b873593, 0x68e31da4, hostHash);
    this.combine(nameHash.lo, nameHash.hi, hostHash.lo, hostHash.hi);
  }

  /** The last finished key as one unsigned 64-bit integer (allocates; not for hot paths). */
  toBigInt(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** Number of distinct tags in the current key. */
  get distinctTags(): number {
    return this.tagCount;
  }

  private combine(nameLo: number, nameHi: number, hostLo: number, hostHi: number): void {
    const w = this.mixWords;
    w[0] = nameLo;
    w[1] = nameHi;
    w[2] = hostLo;
    w[3] = hostHi;
    w[4] = this.tagsLo;
    w[5] = this.tagsHi;
    const out = this.part;
    hashBytes64(this.mixBytes, 0, 24, 0x3c6ef372, 0xa54ff53a, out);
    this.lo = out.lo;
    this.hi = out.hi;
  }

  /** Returns false when the tag hash is already in the set. */
  private insertUnique(lo: number, hi: number): boolean {
    if ((this.tagCount + 1) * 2 > this.slotGen.length) this.grow();
    const mask = this.slotGen.length - 1;
    const gen = this.generation;
    let slot = lo & mask;
    for (;;) {
      if (this.slotGen[slot] !== gen) {
        this.slotGen[slot] = gen;
        this.slotLo[slot] = lo;
        this.slotHi[slot] = hi;
        this.tagCount++;
        return true;
      }
      if (this.slotLo[slot] === lo && this.slotHi[slot] === hi) return false;
      slot = (slot + 1) & mask;
    }
  }

  private grow(): void {
    const oldGen = this.slotGen;
    const oldLo = this.slotLo;
    const oldHi = this.slotHi;
    const size = oldGen.length * 2;
    this.slotGen = new Uint32Array(size);
    this.slotLo = new Uint32Array(size);
    this.slotHi = new Uint32Array(size);
    const gen = this.generation;
    const mask = size - 1;
    for (let i = 0; i < oldGen.length; i++) {
      if (oldGen[i] !== gen) continue;
      let slot = oldLo[i]! & mask;
      while (this.slotGen[slot] === gen) slot = (slot + 1) & mask;
      this.slotGen[slot] = gen;
      this.slotLo[slot] = oldLo[i]!;
      this.slotHi[slot] = oldHi[i]!;
    }
  }

  private encode(s: string): number {
    if (s.length * 3 > this.scratch.length) this.scratch = new Uint8Array(s.length * 3 + 64);
    return textEncoder.encodeInto(s, this.scratch).written;
  }
}

const textEncoder = new TextEncoder();

/** Convenience: the context key of a name, host and tag list, as an unsigned 64-bit BigInt. */
export function contextKey(name: string, host: string, tags: readonly string[]): bigint {
  const b = sharedBuilder;
  b.reset();
  for (const t of tags) b.addTagString(t);
  b.finishStrings(name, host);
  return b.toBigInt();
}
const sharedBuilder = new ContextKeyBuilder();
