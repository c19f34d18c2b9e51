import { WriteBuffer } from '../internal/write-buffer.js';
import type { Compression, CompressionStream } from './types.js';

/** What kennel needs from a zstd binding: one-shot compression of a buffer into one frame. */
export interface ZstdBinding {
  compress(src: Uint8Array, level: number): Uint8Array;
}

/**
 * `ZSTD_compressBound` (`zstd.h`, `ZSTD_COMPRESSBOUND`), which the agent's zstd strategy uses
 * as its `CompressBound`: the most one frame of `n` bytes can take.
 */
export function zstdCompressBound(n: number): number {
  const small = 128 << 10;
  return n + (n >>> 8) + (n < small ? (small - n) >>> 11 : 0);
}

/** The process-wide `@bokuweb/zstd-wasm` `init()`, shared by every kennel package that loads it. */
const ZSTD_WASM_INIT = Symbol.for('kennel.zstd-wasm.init');

let loading: Promise<ZstdBinding> | undefined;

/**
 * Loads the zstd binding once: `@bokuweb/zstd-wasm`, zstd compiled to WebAssembly and shipped
 * in its npm tarball, so nothing is built or downloaded at install. `KENNEL_DISABLE_ZSTD=1`
 * makes the load fail on purpose (and so the caller fall back to zlib).
 */
export function loadZstdBinding(): Promise<ZstdBinding> {
  if (process.env['KENNEL_DISABLE_ZSTD'] === '1') {
    return Promise.reject(new Error('disabled by KENNEL_DISABLE_ZSTD=1'));
  }
  loading ??= (async (): Promise<ZstdBinding> => {
    const zstd = await import('@bokuweb/zstd-wasm');
    // One instantiation per process: the module is shared (kennel's packages resolve to the same
    // copy) and a second init() swaps its memory under functions already bound to the first
    // instance, after which every compress returns zeros.
    const shared = globalThis as { [ZSTD_WASM_INIT]?: Promise<void> };
    await (shared[ZSTD_WASM_INIT] ??= zstd.init().catch((e: unknown) => {
      delete shared[ZSTD_WASM_INIT];
      throw e;
    }));
    const compress = zstd.compress;
    // Check it works before anyone relies on it.
    compress(new Uint8Array(1), 1);
    return { compress: (src: Uint8Array, level: number): Uint8Array => compress(src, level) };
  })();
  return loading;
}

class ZstdStream implements CompressionStream {
  private readonly out = new WriteBuffer(16 * 1024);
  private frames = 0;
  private readonly binding: ZstdBinding;
  private readonly level: number;

  constructor(binding: ZstdBinding, level: number) {
    this.binding = binding;
    this.level = level;
  }

  get length(): number {
    return this.out.pos;
  }

  segment(src: Uint8Array, start: number, end: number): number {
    if (end === start) return 0;
    const frame = this.binding.compress(src.subarray(start, end), this.level);
    this.out.bytes(frame);
    this.frames++;
    return frame.length;
  }

  finish(src: Uint8Array, start: number, end: number): Uint8Array {
    // A body always holds at least one frame, even an empty one.
    if (end > start || this.frames === 0) {
      const frame = this.binding.compress(src.subarray(start, end), this.level);
      this.out.bytes(frame);
    }
    const body = new Uint8Array(this.out.pos);
    body.set(this.out.buf.subarray(0, this.out.pos));
    this.reset();
    return body;
  }

  reset(): void {
    this.out.pos = 0;
    this.frames = 0;
  }
}

/** zstd compression at `level`, sent as `Content-Encoding: zstd`. */
export function createZstdCompression(binding: ZstdBinding, level: number): Compression {
  return Object.freeze({
    kind: 'zstd',
    contentEncoding: 'zstd',
    headerBytes: 0,
    trailerBytes: 0,
    segmentBound: zstdCompressBound,
    // The small-input margin: at most (128 KiB >> 11) + 1 more for two small segments than one.
    boundSlack: 65,
    createStream: (): CompressionStream => new ZstdStream(binding, level),
    compressWhole: (data: Uint8Array): Uint8Array => binding.compress(data, level),
  });
}
