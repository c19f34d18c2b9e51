import { Hash64, M1, M2, finish64, hashBytes64, lane, step64 } from './hash64.js';

/**
 * Builds the 64-bit key that identifies a metric context: its name, its host and the *set* of
 * its tags. Tag order and duplicate tags do not change the key; the sample's value never enters
 * it. This is the identity the agent's `pkg/aggregator/ckey/key.go` gives its keys (a murmur3
 * sum over name and host seeded with a tag-set hash); the exact bits differ, which nothing relies
 * on.
 *
 * @remarks
 * One builder is reused for every sample: `reset()`, `addTag()` per tag, then `finish()` (or
 * `finishWithHostHash()` with a host hashed once by `hashHost()`, as the router does for its
 * default host). Every tag gets a 64-bit hash and the set is their XOR after de-duplication, so
 * it is order- and duplicate-insensitive; name, host and tag set then go through one more hash
 * pass seeded with the set. De-duplication is a short list behind a 32-bit filter for the usual
 * handful of tags, and an open-addressing table stamped with a generation counter past 16, so a
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
  /** Up to SMALL distinct tag hashes, in `smallLo`/`smallHi`, with a 32-bit filter of them. */
  private filter = 0;
  private readonly smallLo = new Int32Array(SMALL);
  private readonly smallHi = new Int32Array(SMALL);
  /** Past SMALL distinct tags: the open-addressing table, stamped with `generation`. */
  private large = false;
  private generation = 0;
  private slotGen = new Uint32Array(64);
  private slotLo = new Int32Array(64);
  private slotHi = new Int32Array(64);
  private readonly hostHash = new Hash64();
  private scratch = new Uint8Array(256);
  /** A DataView over the last buffer seen (see `addTag`). */
  private viewOf: Uint8Array = EMPTY;
  private view: DataView<ArrayBufferLike> = new DataView(EMPTY.buffer);

  /** Starts a new key. */
  reset(): void {
    this.tagsLo = 0;
    this.tagsHi = 0;
    this.tagCount = 0;
    this.filter = 0;
    this.large = false;
  }

  /** Adds the tag `buf[start, end)` to the set. */
  addTag(buf: Uint8Array, start: number, end: number): void {
    // Each tag gets a full 64-bit hash with its own finaliser; the set is the XOR of the
    // distinct tags' hashes (de-duplicated first, as t ^ t = 0), hence order- and
    // duplicate-insensitive. Two sets then collide when the XOR of the hashes over their
    // symmetric difference is 0, which is a 2^-64 event only if no half of a tag's hash is
    // predictable from a 32-bit part of its state. The state is 64 bits (each block step of
    // hash64.ts is a bijection of both lanes together), and finish64 adds the lanes into each
    // other before and after fmix32 on each, so both halves depend non-linearly (over GF(2)) on
    // all 64. A cheaper finaliser would not do: for tags that share their first word one lane
    // starts out the same, a half left as roughly "constant + other lane" is near-linear in 32
    // bits, and four such tags whose halves XOR to 0 would need only a 32-bit coincidence in the
    // other half: 32-bit keys for exactly the tag families real traffic has (pod_name:web-...).
    //
    // The block loop is written out here and in finishWithHostHash rather than shared: a call
    // per tag costs about 5 % of the keyed pass (measured), and V8 does not inline a loop this
    // size. It reads 32-bit words through a DataView over the caller's buffer, created once per
    // distinct buffer (the codec hands every line of a packet over in the same buffer); four
    // byte loads per word measured about 10 % slower.
    if (buf !== this.viewOf) this.setView(buf);
    const dv = this.view;
    let h1 = TAG_SEED_LO;
    let h2 = TAG_SEED_HI;
    let i = start;
    const blockEnd = end - ((end - start) & 7);
    for (; i < blockEnd; i += 8) {
      const k1 = dv.getInt32(i, true);
      const k2 = dv.getInt32(i + 4, true);
      h1 = Math.imul(h1 ^ k1, M1);
      h1 = (((h1 << 13) | (h1 >>> 19)) + h2) | 0;
      h2 = Math.imul(h2 ^ k2, M2);
      h2 = (((h2 << 17) | (h2 >>> 15)) + h1) | 0;
    }
    if (i < end) {
      // The last 1 to 7 bytes, zero-padded: one masked 8-byte read when the buffer goes on that
      // far (no branch per byte length), else byte by byte.
      const r = end - i;
      let k1 = 0;
      let k2 = 0;
      if (i + 8 <= buf.length) {
        const r1 = r > 4 ? 4 : r;
        k1 = dv.getInt32(i, true) & TAIL_MASK[r1]!;
        k2 = dv.getInt32(i + 4, true) & TAIL_MASK[r - r1]!;
      } else {
        for (let j = 0; j < r; j++) {
          if (j < 4) k1 |= buf[i + j]! << (8 * j);
          else k2 |= buf[i + j]! << (8 * (j - 4));
        }
      }
      h1 = Math.imul(h1 ^ k1, M1);
      h1 = (((h1 << 13) | (h1 >>> 19)) + h2) | 0;
      h2 = Math.imul(h2 ^ k2, M2);
      h2 = (((h2 << 17) | (h2 >>> 15)) + h1) | 0;
    }
    finish64(h1, h2, end - start);
    const lo = lane[0]!;
    const hi = lane[1]!;
    if (this.insertUnique(lo, hi)) {
      this.tagsLo ^= lo;
      this.tagsHi ^= hi;
    }
  }

  /** Adds a tag given as a string (hashed as its UTF-8 bytes, so it matches `addTag`). */
  addTagString(tag: string): void {
    const n = this.encode(tag);
    this.addTag(this.scratch, 0, n);
  }

  /**
   * Hashes a host's bytes for {@link finishWithHostHash}. A caller whose host is the same for
   * most samples (the router's default host) hashes it once and keeps `out`.
   */
  hashHost(buf: Uint8Array, start: number, end: number, out: Hash64): void {
    hashBytes64(buf, start, end, HOST_SEED_LO, HOST_SEED_HI, out);
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
    const host = this.hostHash;
    hashBytes64(hostBuf, hostStart, hostEnd, HOST_SEED_LO, HOST_SEED_HI, host);
    this.finishWithHostHash(nameBuf, nameStart, nameEnd, host);
  }

  /**
   * Finishes the key from the name `nameBuf[nameStart, nameEnd)` and a host already hashed with
   * {@link hashHost}: the same key as `finish` with that host's bytes.
   */
  finishWithHostHash(nameBuf: Uint8Array, nameStart: number, nameEnd: number, host: Hash64): void {
    // One pass: the name is absorbed from a state seeded with the tag set (as the agent seeds
    // its murmur sum with the tags' hash), the host's hash is one more block, then one
    // finaliser, instead of hashing name, host and a 24-byte record of the three again. For a
    // fixed name every step is a bijection of the state, so different tag sets or hosts cannot
    // meet; the length goes into the finaliser.
    if (nameBuf !== this.viewOf) this.setView(nameBuf);
    const dv = this.view;
    let h1 = this.tagsLo ^ KEY_SEED_LO;
    let h2 = this.tagsHi ^ KEY_SEED_HI;
    let i = nameStart;
    const end = nameEnd;
    const blockEnd = end - ((end - i) & 7);
    for (; i < blockEnd; i += 8) {
      const k1 = dv.getInt32(i, true);
      const k2 = dv.getInt32(i + 4, true);
      h1 = Math.imul(h1 ^ k1, M1);
      h1 = (((h1 << 13) | (h1 >>> 19)) + h2) | 0;
      h2 = Math.imul(h2 ^ k2, M2);
      h2 = (((h2 << 17) | (h2 >>> 15)) + h1) | 0;
    }
    if (i < end) {
      const r = end - i;
      let k1 = 0;
      let k2 = 0;
      if (i + 8 <= nameBuf.length) {
        const r1 = r > 4 ? 4 : r;
        k1 = dv.getInt32(i, true) & TAIL_MASK[r1]!;
        k2 = dv.getInt32(i + 4, true) & TAIL_MASK[r - r1]!;
      } else {
        for (let j = 0; j < r; j++) {
          if (j < 4) k1 |= nameBuf[i + j]! << (8 * j);
          else k2 |= nameBuf[i + j]! << (8 * (j - 4));
        }
      }
      h1 = Math.imul(h1 ^ k1, M1);
      h1 = (((h1 << 13) | (h1 >>> 19)) + h2) | 0;
      h2 = Math.imul(h2 ^ k2, M2);
      h2 = (((h2 << 17) | (h2 >>> 15)) + h1) | 0;
    }
    step64(h1, h2, host.lo, host.hi);
    finish64(lane[0]!, lane[1]!, nameEnd - nameStart);
    this.lo = lane[0]! >>> 0;
    this.hi = lane[1]! >>> 0;
  }

  /** Finishes the key from a name and a host given as strings. */
  finishStrings(name: string, host: string): void {
    let n = this.encode(host);
    const hostHash = this.hostHash;
    hashBytes64(this.scratch, 0, n, HOST_SEED_LO, HOST_SEED_HI, hostHash);
    n = this.encode(name);
    this.finishWithHostHash(this.scratch, 0, n, hostHash);
  }

  /** The last finished key as one unsigned 64-bit integer (allocates; not for hot paths). */
  toBigInt(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** Number of distinct tags in the current key. */
  get distinctTags(): number {
    return this.tagCount;
  }

  private setView(buf: Uint8Array): void {
    this.viewOf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /**
   * Returns false when the tag hash is already in the set. Lines carry a handful of tags, so the
   * first SMALL distinct hashes sit in a list behind a 32-bit filter (one bit per hash, from its
   * low bits: a clear bit proves the hash is new, so the list is scanned only on a set bit). A
   * line with more distinct tags moves to the open-addressing table, so a hostile line with
   * thousands of tags stays linear.
   */
  private insertUnique(lo: number, hi: number): boolean {
    const n = this.tagCount;
    if (!this.large) {
      const bit = 1 << (lo & 31);
      if ((this.filter & bit) !== 0) {
        const sl = this.smallLo;
        const sh = this.smallHi;
        for (let j = 0; j < n; j++) if (sl[j] === lo && sh[j] === hi) return false;
      }
      if (n < SMALL) {
        this.filter |= bit;
        this.smallLo[n] = lo;
        this.smallHi[n] = hi;
        this.tagCount = n + 1;
        return true;
      }
      this.toLarge();
    }
    return this.insertLarge(lo, hi);
  }

  /** Moves the SMALL listed hashes into a fresh generation of the table. */
  private toLarge(): void {
    this.large = true;
    this.generation = (this.generation + 1) >>> 0;
    if (this.generation === 0) {
      this.slotGen.fill(0);
      this.generation = 1;
    }
    const n = this.tagCount;
    this.tagCount = 0;
    for (let j = 0; j < n; j++) this.insertLarge(this.smallLo[j]!, this.smallHi[j]!);
  }

  private insertLarge(lo: number, hi: number): boolean {
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
    this.slotLo = new Int32Array(size);
    this.slotHi = new Int32Array(size);
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

/** Distinct tags kept in the list before the table takes over. */
const SMALL = 16;
const EMPTY = new Uint8Array(0);
/** Masks keeping the low 0 to 4 bytes of a little-endian word. */
const TAIL_MASK = Int32Array.of(0, 0xff, 0xffff, 0xffffff, -1);
const TAG_SEED_LO = 0x7a6b5c4d;
const TAG_SEED_HI = 0x1f2e3d4c;
const HOST_SEED_LO = 0x1b873593;
const HOST_SEED_HI = 0x68e31da4;
const KEY_SEED_LO = 0x2545f491;
const KEY_SEED_HI = 0x4f6cdd1d;

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
