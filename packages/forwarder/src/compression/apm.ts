import { gzipSync } from 'node:zlib';
import { loadZstdBinding, type ZstdBinding } from './zstd.js';

/**
 * Compression of the trace-agent's payloads: one pass over the whole serialised payload, as its
 * writers do (`pkg/trace/writer/trace.go` `serialize`, `stats.go` `encodePayload`).
 *
 * @remarks
 * Traces: the standalone trace-agent wires the zstd compression component
 * (`comp/trace/compression/impl-zstd`, `zstd.CompressLevel(..., zstd.BestSpeed)`, that is level 1,
 * one frame per write) and sends `Content-Encoding: zstd`; the gzip component
 * (`impl-gzip`, `gzip.BestSpeed`) is the fallback, `Content-Encoding: gzip`. Stats are always gzip
 * at BestSpeed (`pkg/trace/writer/stats.go`). Facts from `DataDog/datadog-agent`, Apache-2.0.
 */
export type ApmContentEncoding = 'zstd' | 'gzip';

/** A whole-payload compressor for trace-agent payloads. */
export interface ApmCompression {
  readonly contentEncoding: ApmContentEncoding;
  compress(data: Uint8Array): Uint8Array;
}

/** zstd's BestSpeed (`github.com/DataDog/zstd` `BestSpeed = 1`). */
export const ZSTD_BEST_SPEED = 1;
/** Go's `gzip.BestSpeed`. */
export const GZIP_BEST_SPEED = 1;

/** gzip at BestSpeed, `Content-Encoding: gzip`. */
export const gzipApmCompression: ApmCompression = Object.freeze({
  contentEncoding: 'gzip',
  compress: (data: Uint8Array): Uint8Array => new Uint8Array(gzipSync(data, { level: GZIP_BEST_SPEED })),
});

/** zstd at BestSpeed over a loaded binding, `Content-Encoding: zstd`. */
export function zstdApmCompression(binding: ZstdBinding): ApmCompression {
  return Object.freeze({
    contentEncoding: 'zstd',
    compress: (data: Uint8Array): Uint8Array => binding.compress(data, ZSTD_BEST_SPEED),
  });
}

/**
 * The trace payload compression: zstd when the binding loads, else gzip (as a trace-agent built
 * without zstd). Never rejects.
 */
export async function loadTraceCompression(load: () => Promise<ZstdBinding> = loadZstdBinding): Promise<ApmCompression> {
  try {
    return zstdApmCompression(await load());
  } catch {
    return gzipApmCompression;
  }
}
