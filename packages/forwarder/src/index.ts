export {
  resolveSerializerConfig,
  compressionKindOf,
  SERIALIZER_DEFAULTS,
  SERIALIZER_CONFIG_KEYS,
} from './config.js';
export type { SerializerOptions, SerializerConfig, CompressionKind } from './config.js';

export { compressOnce } from './compression/types.js';
export type { Compression, CompressionStream, ContentEncoding } from './compression/types.js';
export { identityCompression } from './compression/identity.js';
export { createZlibCompression, zlibCompressBound, adler32 } from './compression/zlib.js';
export { createZstdCompression, loadZstdBinding, zstdCompressBound } from './compression/zstd.js';
export type { ZstdBinding } from './compression/zstd.js';
export { loadCompression, compressionCounters, COMPRESSION_COUNTERS } from './compression/load.js';
export type { LoadCompressionOptions, CompressionCounterName } from './compression/load.js';

export {
  PayloadKind,
  Endpoint,
  ContentType,
  ENCODER_COUNTERS,
  EncoderCounter,
  encodeAll,
} from './encoders/types.js';
export type { IntakePayload, IntakeEncoder, EncodeResult, EncoderCounterName } from './encoders/types.js';
export { MAX_REPACKS } from './encoders/payload-stream.js';
export { SeriesV2Encoder, DOGSTATSD_ORIGIN, SERIES_TYPE_CODE } from './encoders/series-v2.js';
export { SketchEncoder } from './encoders/sketches.js';
export { SeriesV1Encoder, ServiceCheckEncoder, EventEncoder } from './encoders/json.js';
export { DEVICE_TAG_PREFIX, RESOURCE_TAG_PREFIX } from './encoders/series-tags.js';
