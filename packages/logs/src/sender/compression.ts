import { gzip } from 'node:zlib';
import type { LogsSenderConfig } from './config.js';

/** How a payload body is compressed, and the `Content-Encoding` it is sent with. */
export interface LogsCompression {
  /** `zstd`, `gzip`, or `none` when `use_compression` is off. */
  readonly kind: 'zstd' | 'gzip' | 'none';
  /** The `Content-Encoding` header: `zstd`, `gzip`, or `identity` (the agent's noop strategy). */
  readonly contentEncoding: 'zstd' | 'gzip' | 'identity';
  /** Compresses one whole payload body. Rejects only on a broken binding or zlib. */
  compress(data: Uint8Array): Promise<Uint8Array>;
}

/** What kennel needs from a zstd binding: one-shot compression of a buffer into one frame. */
export interface LogsZstdBinding {
  compress(src: Uint8Array, level: number): Uint8Array;
}

/** The process-wide `@bokuweb/zstd-wasm` `init()`, shared by every kennel package that loads it. */
const ZSTD_WASM_INIT = Symbol.for('kennel.zstd-wasm.init');

let loading: Promise<LogsZstdBinding> | undefined;

/**
 * Loads the zstd binding once: `@bokuweb/zstd-wasm` (zstd compiled to WebAssembly, in its npm
 * tarball; Node 20's `node:zlib` has no zstd), imported on first use. `KENNEL_DISABLE_ZSTD=1`
 * makes the load fail on purpose, so the sender falls back to gzip.
 */
export function loadLogsZstdBinding(): Promise<LogsZstdBinding> {
  if (process.env['KENNEL_DISABLE_ZSTD'] === '1') return Promise.reject(new Error('disabled by KENNEL_DISABLE_ZSTD=1'));
  loading ??= (async (): Promise<LogsZstdBinding> => {
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
  // A failed load may be retried by a later sender (the cause may have been transient).
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

/** gzip at `level` (Go's `gzip.NewWriterLevel`; `compression_level` 6 by default), on libuv's thread pool. */
export function gzipCompression(level: number): LogsCompression {
  return Object.freeze({
    kind: 'gzip',
    contentEncoding: 'gzip',
    compress: (data: Uint8Array): Promise<Uint8Array> =>
      new Promise((resolve, reject) => {
        gzip(data, { level }, (err, out) => (err !== null ? reject(err) : resolve(out)));
      }),
  });
}

/** zstd at `level` through `binding`, one frame per payload. */
export function zstdCompression(binding: LogsZstdBinding, level: number): LogsCompression {
  return Object.freeze({
    kind: 'zstd',
    contentEncoding: 'zstd',
    compress: (data: Uint8Array): Promise<Uint8Array> => {
      try {
        return Promise.resolve(binding.compress(data, level));
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },
  });
}

/** No compression: `use_compression: false`. */
export const noCompression: LogsCompression = Object.freeze({
  kind: 'none',
  contentEncoding: 'identity',
  compress: (data: Uint8Array): Promise<Uint8Array> => Promise.resolve(data),
});

export interface LoadLogsCompressionOptions {
  /** Loads the zstd binding. @defaultValue {@link loadLogsZstdBinding} */
  readonly loadZstd?: () => Promise<LogsZstdBinding>;
  /** Where the one-line fallback warning goes. @defaultValue `process.emitWarning` */
  readonly warn?: (line: string) => void;
}

/** The gzip level used when zstd cannot load: the agent's `compression_level` default. */
const FALLBACK_GZIP_LEVEL = 6;

/**
 * The compression the configuration asks for. zstd (the agent's default `compression_kind`) is
 * loaded lazily, on the first call that needs it; if it cannot load, payloads are gzip-compressed
 * at level 6 (`Content-Encoding: gzip`) instead, with one warning.
 *
 * @example
 * ```ts
 * const compression = await loadLogsCompression(resolveLogsSenderConfig());
 * compression.contentEncoding; // 'zstd'
 * ```
 */
export async function loadLogsCompression(
  config: Pick<LogsSenderConfig, 'useCompression' | 'compressionKind' | 'compressionLevel'>,
  options: LoadLogsCompressionOptions = {},
): Promise<LogsCompression> {
  if (!config.useCompression) return noCompression;
  if (config.compressionKind === 'gzip') return gzipCompression(config.compressionLevel);
  try {
    const binding = await (options.loadZstd ?? loadLogsZstdBinding)();
    return zstdCompression(binding, config.compressionLevel);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    (options.warn ?? ((line: string) => process.emitWarning(line, 'KennelWarning')))(
      `zstd is unavailable (${why}); compressing logs with gzip (Content-Encoding: gzip) instead`,
    );
    return gzipCompression(FALLBACK_GZIP_LEVEL);
  }
}
