import { Hash64, hashBytes64 } from '../hash/hash64.js';

/** Options of a {@link StringInterner}. */
export interface StringInternerOptions {
  /**
   * Most strings kept. Past it the interner refuses: it still returns the decoded string, but
   * does not keep it, and counts the refusal.
   * @defaultValue 4096 (the agent's `dogstatsd_string_interner_size`)
   */
  readonly maxEntries?: number;
  /**
   * Most bytes of string data kept.
   * @defaultValue 1 MiB
   */
  readonly maxBytes?: number;
}

// ignoreBOM: a leading U+FEFF is data (Go keeps the bytes), not a byte-order mark to drop.
const textDecoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * A bounded map from bytes to strings, so the hot path builds a string only the first time it
 * sees the bytes. Lookup hashes the bytes and compares them with a private copy; nothing is
 * allocated on a hit.
 *
 * @remarks
 * Unlike the agent's interner (`comp/dogstatsd/server/impl/intern.go`), which empties itself
 * when full, this one keeps what it has and refuses new entries, counting each refusal in
 * `refused`. A refused string is still returned, so no data is lost: it is only not shared.
 * Bytes that are not valid UTF-8 decode with U+FFFD replacement characters (Go keeps the raw
 * bytes; JavaScript strings cannot).
 */
export class StringInterner {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** Lookups answered from the table. */
  hits = 0;
  /** Strings added to the table. */
  misses = 0;
  /** Strings decoded but not kept because the table was full. */
  refused = 0;

  private readonly slotEntry: Int32Array;
  private readonly slotHash: Uint32Array;
  private readonly mask: number;
  private readonly strings: string[] = [];
  private readonly offsets: number[] = [];
  private readonly lengths: number[] = [];
  private arena: Uint8Array;
  private arenaUsed = 0;
  private readonly h = new Hash64();

  constructor(options: StringInternerOptions = {}) {
    const maxEntries = options.maxEntries ?? 4096;
    const maxBytes = options.maxBytes ?? 1 << 20;
    if (!Number.isInteger(maxEntries) || maxEntries < 0) {
      throw new RangeError(`StringInterner maxEntries must be a whole number >= 0, got ${maxEntries}`);
    }
    if (!Number.isInteger(maxBytes) || maxBytes < 0) {
      throw new RangeError(`StringInterner maxBytes must be a whole number >= 0, got ${maxBytes}`);
    }
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
    let size = 16;
    while (size < maxEntries * 2) size *= 2;
    this.slotEntry = new Int32Array(size).fill(-1);
    this.slotHash = new Uint32Array(size);
    this.mask = size - 1;
    this.arena = new Uint8Array(Math.min(maxBytes, 4096));
  }

  /** Number of strings held. */
  get size(): number {
    return this.strings.length;
  }

  /** The string for `buf[start, end)`, from the table when it is there. */
  intern(buf: Uint8Array, start: number, end: number): string {
    const len = end - start;
    if (len === 0) return '';
    hashBytes64(buf, start, end, 0x9747b28c, 0, this.h);
    const hash = this.h.lo;
    let slot = hash & this.mask;
    for (;;) {
      const e = this.slotEntry[slot]!;
      if (e < 0) break;
      if (this.slotHash[slot] === hash && this.lengths[e] === len && this.sameBytes(e, buf, start, len)) {
        this.hits++;
        return this.strings[e]!;
      }
      slot = (slot + 1) & this.mask;
    }
    const s = decodeString(buf, start, end);
    if (this.strings.length >= this.maxEntries || this.arenaUsed + len > this.maxBytes) {
      this.refused++;
      return s;
    }
    this.misses++;
    const e = this.strings.length;
    this.strings.push(s);
    this.offsets.push(this.arenaUsed);
    this.lengths.push(len);
    this.store(buf, start, len);
    this.slotEntry[slot] = e;
    this.slotHash[slot] = hash;
    return s;
  }

  private sameBytes(e: number, buf: Uint8Array, start: number, len: number): boolean {
    const a = this.arena;
    const off = this.offsets[e]!;
    for (let i = 0; i < len; i++) if (a[off + i] !== buf[start + i]) return false;
    return true;
  }

  private store(buf: Uint8Array, start: number, len: number): void {
    if (this.arenaUsed + len > this.arena.length) {
      let size = this.arena.length * 2;
      while (size < this.arenaUsed + len) size *= 2;
      const next = new Uint8Array(Math.min(size, this.maxBytes));
      next.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = next;
    }
    this.arena.set(buf.subarray(start, start + len), this.arenaUsed);
    this.arenaUsed += len;
  }
}

/**
 * Decodes `buf[start, end)` as UTF-8. Short ASCII runs (the common case for metric names and
 * tags) are built with `String.fromCharCode` without a subarray view.
 */
export function decodeString(buf: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len <= 32) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (buf[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      let s = '';
      for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
      return s;
    }
  }
  return textDecoder.decode(buf.subarray(start, end));
}
