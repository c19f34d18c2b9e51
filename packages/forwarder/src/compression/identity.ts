import { WriteBuffer } from '../internal/write-buffer.js';
import type { Compression, CompressionStream } from './types.js';

class IdentityStream implements CompressionStream {
  private readonly out = new WriteBuffer(16 * 1024);

  get length(): number {
    return this.out.pos;
  }

  segment(src: Uint8Array, start: number, end: number): number {
    this.out.bytes(src.subarray(start, end));
    return end - start;
  }

  finish(src: Uint8Array, start: number, end: number): Uint8Array {
    this.segment(src, start, end);
    const body = new Uint8Array(this.out.pos);
    body.set(this.out.buf.subarray(0, this.out.pos));
    this.reset();
    return body;
  }

  reset(): void {
    this.out.pos = 0;
  }
}

/**
 * No compression, `Content-Encoding: identity`: what the agent's noop strategy does for any
 * `serializer_compressor_kind` other than `zlib` and `zstd` (`CompressBound(n) = n`).
 */
export const identityCompression: Compression = Object.freeze({
  kind: 'identity',
  contentEncoding: 'identity',
  headerBytes: 0,
  trailerBytes: 0,
  segmentBound: (n: number): number => n,
  boundSlack: 0,
  createStream: (): CompressionStream => new IdentityStream(),
});
