import { CounterSet } from '@kennel/core';
import type { SerializerConfig } from '../config.js';
import { identityCompression } from './identity.js';
import type { Compression } from './types.js';
import { createZlibCompression } from './zlib.js';
import { createZstdCompression, loadZstdBinding, type ZstdBinding } from './zstd.js';

export const COMPRESSION_COUNTERS = ['ZstdLoaded', 'ZstdFallbacks', 'NoCompression'] as const;
export type CompressionCounterName = (typeof COMPRESSION_COUNTERS)[number];

/**
 * Process-wide compression counters: `ZstdLoaded` (zstd strategies handed out),
 * `ZstdFallbacks` (zstd was asked for but could not load, zlib used instead), `NoCompression`
 * (the kind was neither `zstd` nor `zlib`).
 */
export const compressionCounters = new CounterSet<CompressionCounterName>('compression', COMPRESSION_COUNTERS);

export interface LoadCompressionOptions {
  /** Loads the zstd binding. @defaultValue {@link loadZstdBinding} */
  readonly loadZstd?: () => Promise<ZstdBinding>;
  /** Where the one-line warnings go. @defaultValue `process.emitWarning` */
  readonly warn?: (line: string) => void;
}

let warnedZstd = false;

function defaultWarn(line: string): void {
  process.emitWarning(line, 'KennelWarning');
}

/**
 * Builds the compression strategy `serializer_compressor_kind` asks for. zstd is loaded lazily,
 * on the first call that needs it; if it cannot load, payloads are compressed with zlib
 * (`Content-Encoding: deflate`) instead, with one warning per process and `ZstdFallbacks`
 * bumped.
 *
 * @example
 * ```ts
 * const config = resolveSerializerConfig();
 * const compression = await loadCompression(config);
 * compression.contentEncoding; // 'zstd'
 * ```
 */
export async function loadCompression(
  config: Pick<SerializerConfig, 'compression' | 'compressorKind' | 'zstdCompressorLevel'>,
  options: LoadCompressionOptions = {},
): Promise<Compression> {
  const warn = options.warn ?? defaultWarn;
  switch (config.compression) {
    case 'zstd': {
      try {
        const binding = await (options.loadZstd ?? loadZstdBinding)();
        compressionCounters.add('ZstdLoaded');
        return createZstdCompression(binding, config.zstdCompressorLevel);
      } catch (e) {
        compressionCounters.add('ZstdFallbacks');
        if (!warnedZstd || options.warn !== undefined) {
          warnedZstd = true;
          const why = e instanceof Error ? e.message : String(e);
          warn(`zstd is unavailable (${why}); compressing payloads with zlib (Content-Encoding: deflate) instead`);
        }
        return createZlibCompression();
      }
    }
    case 'zlib':
      return createZlibCompression();
    case 'identity':
      compressionCounters.add('NoCompression');
      // The agent's words (comp/serializer/compression/selector/selector.go).
      warn(
        config.compressorKind === 'none'
          ? 'no serializer_compressor_kind set. use zlib or zstd'
          : "invalid serializer_compressor_kind detected. use one of 'zlib', 'zstd'",
      );
      return identityCompression;
  }
}
