/**
 * A hash table from 64-bit context keys (two u32 halves) to small integer ids, in typed arrays:
 * 12 bytes a slot, no object per entry. Linear probing; deletion shifts later entries back
 * (no tombstones), so lookups stay short after heavy expiry.
 */
export class ContextTable {
  private keyLo: Uint32Array;
  private keyHi: Uint32Array;
  /** id + 1; 0 marks an empty slot. */
  private ids: Int32Array;
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.keyLo = new Uint32Array(cap);
    this.keyHi = new Uint32Array(cap);
    this.ids = new Int32Array(cap);
    this.mask = cap - 1;
  }

  /** Bytes held by the table's arrays. */
  get byteSize(): number {
    return this.ids.length * 12;
  }

  /** The id of a key, or -1. */
  get(lo: number, hi: number): number {
    const mask = this.mask;
    let slot = (lo ^ (hi >>> 7)) & mask;
    for (;;) {
      const id = this.ids[slot]!;
      if (id === 0) return -1;
      if (this.keyLo[slot] === lo && this.keyHi[slot] === hi) return id - 1;
      slot = (slot + 1) & mask;
    }
  }

  /** Adds a key that is not in the table. */
  set(lo: number, hi: number, id: number): void {
    if ((this.size + 1) * 2 > this.ids.length) this.grow();
    this.insert(lo, hi, id);
    this.size++;
  }

  /** Removes a key; returns whether it was there. */
  delete(lo: number, hi: number): boolean {
    const mask = this.mask;
    let slot = (lo ^ (hi >>> 7)) & mask;
    for (;;) {
      const id = this.ids[slot]!;
      if (id === 0) return false;
      if (this.keyLo[slot] === lo && this.keyHi[slot] === hi) break;
      slot = (slot + 1) & mask;
    }
    // Backward-shift deletion: move later entries of the probe run into the hole.
    let hole = slot;
    let next = (hole + 1) & mask;
    for (;;) {
      const id = this.ids[next]!;
      if (id === 0) break;
      const home = (this.keyLo[next]! ^ (this.keyHi[next]! >>> 7)) & mask;
      // The entry at `next` may move into `hole` if its home is not in (hole, next].
      const between = hole <= next ? home > hole && home <= next : home > hole || home <= next;
      if (!between) {
        this.keyLo[hole] = this.keyLo[next]!;
        this.keyHi[hole] = this.keyHi[next]!;
        this.ids[hole] = id;
        hole = next;
      }
      next = (next + 1) & mask;
    }
    this.ids[hole] = 0;
    this.size--;
    return true;
  }

  private insert(lo: number, hi: number, id: number): void {
    const mask = this.mask;
    let slot = (lo ^ (hi >>> 7)) & mask;
    while (this.ids[slot] !== 0) slot = (slot + 1) & mask;
    this.keyLo[slot] = lo;
    this.keyHi[slot] = hi;
    this.ids[slot] = id + 1;
  }

  private grow(): void {
    const lo = this.keyLo;
    const hi = this.keyHi;
    const ids = this.ids;
    const cap = ids.length * 2;
    this.keyLo = new Uint32Array(cap);
    this.keyHi = new Uint32Array(cap);
    this.ids = new Int32Array(cap);
    this.mask = cap - 1;
    for (let i = 0; i < ids.length; i++) if (ids[i] !== 0) this.insert(lo[i]!, hi[i]!, ids[i]! - 1);
  }
}
