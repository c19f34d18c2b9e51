import type { CompressionKind } from '../config.js';

/** The `Content-Encoding` a payload is sent with (`comp/serializer/compression` consts). */
export type ContentEncoding = 'zstd' | 'deflate' | 'identity';

/**
 * A compression strategy, the counterpart of the agent's `compression.Component`: a worst-case
 * bound and a way to build one compressed body from successive segments of input.
 *
 * @remarks
 * The agent streams a payload into one compressor and flushes it whenever it needs to know
 * the compressed size (`pkg/serializer/internal/stream/compressor.go`, `pack`). We do the
 * same with *segments*: each flush compresses the pending bytes as one segment, and the
 * compressed length so far is exact. For zlib a segment is a run of deflate blocks ended by a
 * sync flush, primed with the previous 32 KiB as its dictionary, so the body is one ordinary
 * zlib stream that loses nothing to the cut. For zstd a segment is one zstd frame: the body is
 * a sequence of frames, which RFC 8878 (section 3) defines as valid zstd data and every
 * decoder reads back to back; a frame does not see the previous frames' bytes, so a payload
 * cut in many segments compresses worse than one frame would, which `compressWhole` repairs.
 */
export interface Compression {
  readonly kind: CompressionKind;
  readonly contentEncoding: ContentEncoding;
  /** Compressed bytes a stream holds before its first segment (the zlib header). */
  readonly headerBytes: number;
  /** Compressed bytes `finish` adds after the last segment (the zlib Adler-32). */
  readonly trailerBytes: number;
  /** The most `n` input bytes can take as one segment (the agent's `CompressBound`, plus framing). */
  segmentBound(n: number): number;
  /**
   * How much `segmentBound(a) + segmentBound(b)` can exceed `segmentBound(a + b)`. A payload
   * keeps this much in reserve so that cutting its pending bytes into two segments can never
   * push it past its limit.
   */
  readonly boundSlack: number;
  /** A new, empty stream. Streams are reused across payloads: `finish` resets them. */
  createStream(): CompressionStream;
  /**
   * Compresses a whole payload in one piece, when that is worth a second pass: zstd frames do
   * not share history, so a payload cut in many segments is recompressed as one frame at the
   * end and sent that way if it came out smaller (it usually does, by up to a quarter for
   * payloads near the limit). Absent for zlib, whose segments already share their window.
   */
  readonly compressWhole?: (data: Uint8Array) => Uint8Array;
}

/** One compressed body being built from segments. */
export interface CompressionStream {
  /** Compressed bytes so far, exact. */
  readonly length: number;
  /** Compresses `src[start, end)` as the next segment and returns its compressed size. */
  segment(src: Uint8Array, start: number, end: number): number;
  /**
   * Compresses `src[start, end)` as the last segment and returns a copy of the whole body.
   * The stream is then empty and ready for the next payload.
   */
  finish(src: Uint8Array, start: number, end: number): Uint8Array;
  /** Drops everything written so far. */
  reset(): void;
}

/** Compresses `data` in one segment. */
export function compressOnce(compression: Compression, data: Uint8Array): Uint8Array {
  return compression.createStream().finish(data, 0, data.length);
}
