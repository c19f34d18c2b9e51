import { ErrorCode, KennelError } from '@kennel/core';

/** What `serializer_compressor_kind` resolves to. */
export type CompressionKind = 'zstd' | 'zlib' | 'identity';

/**
 * Encoder options. Each one is the agent's `datadog.yaml` key in camelCase; the key is named in
 * its TSDoc and in {@link SERIALIZER_CONFIG_KEYS}. Defaults are the agent's
 * (`pkg/config/setup/config.go`, serializer section).
 */
export interface SerializerOptions {
  /**
   * `serializer_compressor_kind`: `zstd`, `zlib` (sent as `Content-Encoding: deflate`), or
   * anything else for no compression (`identity`).
   * @defaultValue `'zstd'` (`DefaultCompressorKind` in `pkg/config/setup/constants.go`)
   */
  readonly compressorKind?: string;
  /**
   * `serializer_zstd_compressor_level`.
   * @defaultValue `1` (`DefaultZstdCompressionLevel`)
   */
  readonly zstdCompressorLevel?: number;
  /**
   * `serializer_max_series_payload_size`: compressed bytes per `/api/v2/series` payload.
   * @defaultValue `512000`
   */
  readonly maxSeriesPayloadSize?: number;
  /**
   * `serializer_max_series_uncompressed_payload_size`: uncompressed bytes per `/api/v2/series` payload.
   * @defaultValue `5242880`
   */
  readonly maxSeriesUncompressedPayloadSize?: number;
  /**
   * `serializer_max_series_points_per_payload`: points per `/api/v2/series` payload.
   * @defaultValue `10000`
   */
  readonly maxSeriesPointsPerPayload?: number;
  /**
   * `serializer_max_payload_size`: compressed bytes per payload of every other kind (sketches,
   * v1 series, check runs, events).
   * @defaultValue `2621440` (2.5 MiB)
   */
  readonly maxPayloadSize?: number;
  /**
   * `serializer_max_uncompressed_payload_size`: uncompressed bytes per payload of every other kind.
   * @defaultValue `4194304` (4 MiB)
   */
  readonly maxUncompressedPayloadSize?: number;
  /**
   * `hostname`: the agent's own host name, written as `internalHostname` in `/intake/` event
   * payloads.
   * @defaultValue `''`
   */
  readonly hostname?: string;
}

/** The resolved, frozen configuration every encoder reads. */
export interface SerializerConfig {
  readonly compressorKind: string;
  readonly compression: CompressionKind;
  readonly zstdCompressorLevel: number;
  readonly maxSeriesPayloadSize: number;
  readonly maxSeriesUncompressedPayloadSize: number;
  readonly maxSeriesPointsPerPayload: number;
  readonly maxPayloadSize: number;
  readonly maxUncompressedPayloadSize: number;
  readonly hostname: string;
}

/** The agent's defaults for every option. */
export const SERIALIZER_DEFAULTS: Readonly<Required<SerializerOptions>> = Object.freeze({
  compressorKind: 'zstd',
  zstdCompressorLevel: 1,
  maxSeriesPayloadSize: 512000,
  maxSeriesUncompressedPayloadSize: 5242880,
  maxSeriesPointsPerPayload: 10000,
  maxPayloadSize: 2621440,
  maxUncompressedPayloadSize: 4194304,
  hostname: '',
});

/** Option name → the agent's `datadog.yaml` key (and so `DD_<KEY>` in the environment). */
export const SERIALIZER_CONFIG_KEYS = Object.freeze({
  compressorKind: 'serializer_compressor_kind',
  zstdCompressorLevel: 'serializer_zstd_compressor_level',
  maxSeriesPayloadSize: 'serializer_max_series_payload_size',
  maxSeriesUncompressedPayloadSize: 'serializer_max_series_uncompressed_payload_size',
  maxSeriesPointsPerPayload: 'serializer_max_series_points_per_payload',
  maxPayloadSize: 'serializer_max_payload_size',
  maxUncompressedPayloadSize: 'serializer_max_uncompressed_payload_size',
  hostname: 'hostname',
} as const satisfies Record<keyof SerializerOptions, string>);

/** zstd's own level range (`ZSTD_minCLevel()` .. `ZSTD_maxCLevel()`). */
const ZSTD_MIN_LEVEL = -131072;
const ZSTD_MAX_LEVEL = 22;

function invalid(option: keyof SerializerOptions, rule: string, got: unknown): KennelError {
  return new KennelError(
    ErrorCode.CONFIG_INVALID,
    `${SERIALIZER_CONFIG_KEYS[option]} (${option}): ${rule}, got ${JSON.stringify(got)}`,
  );
}

function size(options: SerializerOptions, option: keyof SerializerOptions, min: number): number {
  const v = options[option] ?? SERIALIZER_DEFAULTS[option];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw invalid(option, `expected a whole number of at least ${min}`, v);
  }
  return v;
}

/**
 * Maps `serializer_compressor_kind` as the agent does: exactly `zstd` or `zlib`, and anything
 * else (`none`, a typo) means no compression
 * (`comp/serializer/compression/selector/selector.go`, `NewCompressorReq`).
 */
export function compressionKindOf(compressorKind: string): CompressionKind {
  return compressorKind === 'zstd' ? 'zstd' : compressorKind === 'zlib' ? 'zlib' : 'identity';
}

/**
 * Validates encoder options and fills in the agent's defaults.
 *
 * @throws {@link KennelError} `ERR_CONFIG_INVALID` naming the agent key when a value is malformed.
 * @example
 * ```ts
 * const config = resolveSerializerConfig({ compressorKind: 'zlib', hostname: 'web-1' });
 * config.maxSeriesPayloadSize; // 512000
 * ```
 */
export function resolveSerializerConfig(options: SerializerOptions = {}): SerializerConfig {
  const compressorKind = options.compressorKind ?? SERIALIZER_DEFAULTS.compressorKind;
  if (typeof compressorKind !== 'string') throw invalid('compressorKind', 'expected a string', compressorKind);
  const zstdCompressorLevel = options.zstdCompressorLevel ?? SERIALIZER_DEFAULTS.zstdCompressorLevel;
  if (
    typeof zstdCompressorLevel !== 'number' ||
    !Number.isSafeInteger(zstdCompressorLevel) ||
    zstdCompressorLevel < ZSTD_MIN_LEVEL ||
    zstdCompressorLevel > ZSTD_MAX_LEVEL
  ) {
    throw invalid('zstdCompressorLevel', `expected a whole number from ${ZSTD_MIN_LEVEL} to ${ZSTD_MAX_LEVEL}`, zstdCompressorLevel);
  }
  const hostname = options.hostname ?? SERIALIZER_DEFAULTS.hostname;
  if (typeof hostname !== 'string') throw invalid('hostname', 'expected a string', hostname);
  // 64 bytes is far below anything useful, and leaves room for the compression framing.
  return Object.freeze({
    compressorKind,
    compression: compressionKindOf(compressorKind),
    zstdCompressorLevel,
    maxSeriesPayloadSize: size(options, 'maxSeriesPayloadSize', 64),
    maxSeriesUncompressedPayloadSize: size(options, 'maxSeriesUncompressedPayloadSize', 64),
    maxSeriesPointsPerPayload: size(options, 'maxSeriesPointsPerPayload', 1),
    maxPayloadSize: size(options, 'maxPayloadSize', 64),
    maxUncompressedPayloadSize: size(options, 'maxUncompressedPayloadSize', 64),
    hostname,
  });
}
