import { constants, deflateRawSync, type ZlibOptions } from 'node:zlib';
import { WriteBuffer } from '../internal/write-buffer.js';
import type { Compression, CompressionStream } from './types.js';

/** Deflate's window: a segment may refer this far back into the previous ones. */
const WINDOW = 32768;

/**
 * The agent's zlib `CompressBound` (`comp/serializer/compression/impl-zlib`, from zlib's
 * `compressBound`): stored-block overhead plus the 6-byte zlib wrapper.
 */
export function zlibCompressBound(n: number): number {
  return n + (n >>> 12) + (n >>> 14) + Math.floor(n / 33554432) + 13;
}

/**
 * Adler-32 (RFC 1950, section 8.2), the zlib trailer. `adler` is the running value (1 to
 * start).
 */
export function adler32(adler: number, buf: Uint8Array, start: number, end: number): number {
  let a = adler & 0xffff;
  let b = adler >>> 16;
  let i = start;
  while (i < end) {
    // 5552 is zlib's NMAX: the most bytes before the sums must be reduced.
    const stop = Math.min(end, i + 5552);
    for (; i < stop; i++) {
      a += buf[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** The zlib header's FLG byte for a level, as zlib's `deflate.c` sets FLEVEL and FCHECK. */
function zlibHeaderFlags(level: number): number {
  const flevel = level >= 0 && level < 2 ? 0 : level >= 2 && level < 6 ? 1 : level === 6 || level < 0 ? 2 : 3;
  const flg = flevel << 6;
  return flg + (31 - ((0x78 * 256 + flg) % 31));
}

class ZlibStream implements CompressionStream {
  private readonly out = new WriteBuffer(16 * 1024);
  private readonly history = Buffer.allocUnsafe(WINDOW);
  private historyLength = 0;
  private adler = 1;
  private readonly level: number;
  private readonly headerFlags: number;

  constructor(level: number) {
    this.level = level;
    this.headerFlags = zlibHeaderFlags(level);
    this.reset();
  }

  get length(): number {
    return this.out.pos;
  }

  segment(src: Uint8Array, start: number, end: number): number {
    return this.compress(src, start, end, constants.Z_SYNC_FLUSH);
  }

  private compress(src: Uint8Array, start: number, end: number, flush: number): number {
    const options: ZlibOptions = { level: this.level, finishFlush: flush };
    // The previous bytes are the decoder's window when it reaches this segment, so the
    // compressor may refer to them: a preset dictionary on raw deflate writes nothing to the
    // stream (pigz cuts its blocks the same way).
    if (this.historyLength > 0) options.dictionary = this.history.subarray(0, this.historyLength);
    const input = src.subarray(start, end);
    const compressed = deflateRawSync(input, options);
    this.out.bytes(compressed);
    this.adler = adler32(this.adler, src, start, end);
    this.remember(src, start, end);
    return compressed.length;
  }

  private remember(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n >= WINDOW) {
      this.history.set(src.subarray(end - WINDOW, end), 0);
      this.historyLength = WINDOW;
      return;
    }
    const keep = Math.min(this.historyLength, WINDOW - n);
    if (keep < this.historyLength) this.history.copyWithin(0, this.historyLength - keep, this.historyLength);
    this.history.set(src.subarray(start, end), keep);
    this.historyLength = keep + n;
  }

  finish(src: Uint8Array, start: number, end: number): Uint8Array {
    this.compress(src, start, end, constants.Z_FINISH);
    const out = this.out;
    out.ensure(4);
    out.buf.writeUInt32BE(this.adler, out.pos);
    out.pos += 4;
    const body = new Uint8Array(out.pos);
    body.set(out.buf.subarray(0, out.pos));
    this.reset();
    return body;
  }

  reset(): void {
    this.out.pos = 0;
    this.out.byte(0x78);
    this.out.byte(this.headerFlags);
    this.historyLength = 0;
    this.adler = 1;
  }
}

/**
 * zlib (RFC 1950) compression, sent as `Content-Encoding: deflate` as the agent's zlib strategy
 * does. The level defaults to zlib's default (6), which Go's `zlib.NewWriter` uses too.
 */
export function createZlibCompression(level: number = constants.Z_DEFAULT_COMPRESSION): Compression {
  return Object.freeze({
    kind: 'zlib',
    contentEncoding: 'deflate',
    headerBytes: 2,
    trailerBytes: 4,
    // A segment is raw deflate: the bound less the wrapper it does not carry, plus the empty
    // stored block a sync flush appends (at most 5 bytes). Keeping the wrapper in keeps a
    // margin.
    segmentBound: (n: number): number => zlibCompressBound(n) + 5,
    // The floors only make a sum smaller; the constant counts twice.
    boundSlack: 18,
    createStream: (): CompressionStream => new ZlibStream(level),
  });
}
