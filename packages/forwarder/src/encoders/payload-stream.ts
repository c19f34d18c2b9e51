import type { CounterSet } from '@kennel/core';
import type { Compression, CompressionStream } from '../compression/types.js';
import { WriteBuffer } from '../internal/write-buffer.js';
import type { EncoderCounterName } from './types.js';

/** How `commit` ended. */
export const Commit = { OK: 0, FULL: 1, TOO_BIG: 2 } as const;
export type Commit = (typeof Commit)[keyof typeof Commit];

/** The agent's cap on flushes per payload ("CPU time vs tighter payload tradeoff", `maxRepacks`). */
export const MAX_REPACKS = 40;

export interface PayloadLimits {
  readonly maxCompressed: number;
  readonly maxUncompressed: number;
}

export interface ClosedPayload {
  readonly body: Uint8Array;
  readonly uncompressedBytes: number;
  readonly items: number;
}

/**
 * One payload being built, item by item: the agent's `stream.Compressor`
 * (`pkg/serializer/internal/stream/compressor.go`), ported.
 *
 * @remarks
 * Items are written into {@link PayloadStream.w} between `begin()` and `commit()`. Bytes not
 * yet compressed are *pending*. An item is taken when the worst case of the whole payload
 * still fits: compressed bytes so far + `segmentBound(pending + item + footer)` + trailer
 * within the compressed limit, and all bytes within the uncompressed one. When it does not,
 * the pending bytes before the item are compressed as one segment (the agent's `pack`), which
 * replaces their worst case with their real size, and the check runs again; if it still fails
 * the payload is full. At most {@link MAX_REPACKS} packs are made per payload, as in the agent.
 *
 * An item is too big when it cannot fit an *empty* payload by the same worst case; the agent
 * drops it (`ErrItemTooBig`). Unlike the agent we count the footer against the uncompressed
 * limit, the framing against the compressed one, and keep `boundSlack` in reserve (a pack
 * turns one bound into an actual size plus a second bound), so a finished payload is within
 * both limits by construction, not nearly:
 *
 * - after an accepted item: `compressed + segmentBound(pending + footer) + trailer + slack <= max`;
 * - after a pack whose item then did not fit, nothing is pending and
 *   `compressed + segmentBound(footer) + trailer <= max`, which is all `close()` needs.
 *
 * The whole payload stays in `w` (at most the uncompressed limit), so that a compression with
 * `compressWhole` (zstd) can recompress it as one piece at `close()` and send that instead
 * when it is no larger than the segmented body, which is within the limit.
 */
export class PayloadStream {
  /** The payload's uncompressed bytes; items are written here. */
  readonly w: WriteBuffer;
  private readonly cs: CompressionStream;
  private readonly compression: Compression;
  private readonly header: Uint8Array;
  private readonly footer: Uint8Array;
  private readonly separator: Uint8Array;
  private readonly limits: PayloadLimits;
  private readonly counters: CounterSet<EncoderCounterName>;
  private readonly cCycles: number;
  private readonly cPayloads: number;
  private readonly cBytesIn: number;
  private readonly cBytesOut: number;
  /** Trailer plus bound slack, kept free so a pack never overshoots (see `Compression.boundSlack`). */
  private readonly reserve: number;
  /** `w[0, packedEnd)` is compressed into segments; `w[packedEnd, pos)` is pending. */
  private packedEnd = 0;
  private itemStart = 0;
  /** Items in the payload. */
  items = 0;
  private repacks = 0;

  constructor(
    compression: Compression,
    limits: PayloadLimits,
    framing: { header: Uint8Array; footer: Uint8Array; separator: Uint8Array },
    counters: CounterSet<EncoderCounterName>,
  ) {
    this.compression = compression;
    this.cs = compression.createStream();
    this.reserve = compression.trailerBytes + compression.boundSlack;
    this.limits = limits;
    this.header = framing.header;
    this.footer = framing.footer;
    this.separator = framing.separator;
    this.counters = counters;
    this.cCycles = counters.index('TotalCompressCycles');
    this.cPayloads = counters.index('TotalPayloads');
    this.cBytesIn = counters.index('BytesIn');
    this.cBytesOut = counters.index('BytesOut');
    this.w = new WriteBuffer(64 * 1024);
    this.reset();
  }

  /** Starts an item: call, write the item into `w`, then `commit()` or `abort()`. */
  begin(): void {
    this.itemStart = this.w.pos;
    if (this.items > 0 && this.separator.length > 0) this.w.bytes(this.separator);
  }

  /** Forgets the item being written. */
  abort(): void {
    this.w.pos = this.itemStart;
  }

  /** Does the payload, ending at `end` before its footer, still fit by its worst case? */
  private fits(end: number): boolean {
    const tail = end + this.footer.length;
    return (
      this.cs.length + this.compression.segmentBound(tail - this.packedEnd) + this.reserve <= this.limits.maxCompressed &&
      tail <= this.limits.maxUncompressed
    );
  }

  /** Takes the item written since `begin()`, or says why not (and forgets it). */
  commit(): Commit {
    const w = this.w;
    const start = this.itemStart;
    const sep = this.items > 0 ? this.separator.length : 0;
    const itemLength = w.pos - start - sep;
    // Would it fit an empty payload? (The agent's checkItemSize, by the same worst case.)
    const alone = this.header.length + itemLength + this.footer.length;
    const c = this.compression;
    if (c.headerBytes + c.segmentBound(alone) + this.reserve > this.limits.maxCompressed || alone > this.limits.maxUncompressed) {
      w.pos = start;
      return Commit.TOO_BIG;
    }
    if (this.repacks >= MAX_REPACKS) {
      w.pos = start;
      return Commit.FULL;
    }
    if (!this.fits(w.pos)) {
      if (start === this.packedEnd) {
        w.pos = start;
        return Commit.FULL;
      }
      // pack: compress what is pending before the item.
      this.cs.segment(w.buf, this.packedEnd, start);
      this.counters.values[this.cCycles]!++;
      this.packedEnd = start;
      if (!this.fits(w.pos)) {
        w.pos = start;
        return Commit.FULL;
      }
      this.repacks++;
    }
    this.items++;
    return Commit.OK;
  }

  /** Closes the payload: null when it holds no item. The stream is then empty. */
  close(): ClosedPayload | null {
    if (this.items === 0) {
      this.reset();
      return null;
    }
    const w = this.w;
    w.bytes(this.footer);
    const uncompressedBytes = w.pos;
    const cut = this.packedEnd > 0;
    let body = this.cs.finish(w.buf, this.packedEnd, w.pos);
    const v = this.counters.values;
    v[this.cCycles]!++;
    const whole = this.compression.compressWhole;
    if (cut && whole !== undefined) {
      const one = whole(w.buf.subarray(0, w.pos));
      v[this.cCycles]!++;
      if (one.length <= body.length) body = one;
    }
    const items = this.items;
    v[this.cPayloads]!++;
    v[this.cBytesIn]! += uncompressedBytes;
    v[this.cBytesOut]! += body.length;
    this.reset();
    return { body, uncompressedBytes, items };
  }

  /** Drops the open payload and writes the header of the next one. */
  reset(): void {
    this.cs.reset();
    this.w.pos = 0;
    this.w.bytes(this.header);
    this.packedEnd = 0;
    this.items = 0;
    this.repacks = 0;
    this.itemStart = this.w.pos;
  }
}
