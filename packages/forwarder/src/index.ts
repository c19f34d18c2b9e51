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

export { Forwarder, FORWARDER_COUNTERS } from './forwarder.js';
export type {
  ForwarderConstructorOptions,
  ForwarderRuntimeOptions,
  ForwarderTransaction,
  ForwarderLogLevel,
  ForwarderCounterName,
  ForwarderStats,
  TransactionStats,
  DrainResult,
} from './forwarder.js';
export { resolveForwarderConfig, FORWARDER_DEFAULTS, FORWARDER_CONFIG_KEYS } from './transport/config.js';
export type { ForwarderOptions, ForwarderConfig } from './transport/config.js';
export {
  AGENT_VERSION,
  AGENT_PAYLOAD_VERSION,
  DEFAULT_SITE,
  ENDPOINT_NAMES,
  resolveIntakeUrl,
  addAgentVersionToDomain,
  endpointName,
} from './transport/endpoints.js';
export type { IntakeUrlConfig } from './transport/endpoints.js';
export { Header, buildHeaders } from './transport/headers.js';
export { redactApiKey, createScrubber, scrubUrl } from './transport/redact.js';
export { HttpTransport, classifyTransportError, LOGGED_BODY_LIMIT, TIMEOUT_CODE } from './transport/http-transport.js';
export type { HttpTransportOptions, ExchangePhase } from './transport/http-transport.js';
export { TransportErrorKind } from './transport/types.js';
export type { Transport, TransportOutcome } from './transport/types.js';
export {
  Verdict,
  VerdictReason,
  classify,
  classifyStatus,
  errorsByTypeCounter,
  ERRORS_BY_TYPE,
} from './retry/classifier.js';
export type { Classification, ErrorsByTypeName } from './retry/classifier.js';
export {
  ExpBackoffPolicy,
  BlockedEndpoints,
  CircuitState,
  RetryGate,
  Priority,
  compareRetryOrder,
} from './retry/policy.js';
export type { BackoffSettings, Prioritized } from './retry/policy.js';
export { RetryQueue, STORAGE_DISABLED_STATUS } from './retry/queue.js';
export type { QueuedTransaction, RetryQueueStorage, RetryQueueOptions } from './retry/queue.js';
export {
  DiskStorage,
  createForwarderCodec,
  encodeRetryFile,
  decodeRetryFile,
  storageFolder,
  DISK_STORAGE_COUNTERS,
  STORAGE_NOT_IN_USE_STATUS,
  STORAGE_AGENT_FOLDER,
  RETRY_FILE_MAGIC,
  RETRY_FILE_VERSION,
  RETRY_FILE_EXTENSION,
  RETRY_TEMP_EXTENSION,
  RETRY_FILE_HEADER_BYTES,
} from './retry/disk-storage.js';
export type {
  DiskStorageOptions,
  DiskStorageStats,
  DiskStorageCounterName,
  DiskStorageLogLevel,
  StoredTransaction,
  TransactionCodec,
  StatfsFunction,
  StatfsResult,
  RetryFileSummary,
  DecodedRetryFile,
  ForwarderCodecOptions,
} from './retry/disk-storage.js';

// Trace-agent payloads: /api/v0.2/traces (protobuf AgentPayload) and /api/v0.2/stats (msgpack StatsPayload).
export {
  gzipApmCompression,
  zstdApmCompression,
  loadTraceCompression,
  ZSTD_BEST_SPEED,
  GZIP_BEST_SPEED,
} from './compression/apm.js';
export type { ApmCompression, ApmContentEncoding } from './compression/apm.js';
export {
  ApmEndpoint,
  ApmContentType,
  ApmHeader,
  APM_ENCODER_COUNTERS,
  TRACE_AGENT_GIT_COMMIT,
  traceAgentUserAgent,
  apmHeaders,
} from './encoders/apm-payload.js';
export type { ApmPayload, ApmEncoderCounterName } from './encoders/apm-payload.js';
export {
  TraceEncoder,
  encodeAllTraces,
  MAX_TRACE_PAYLOAD_SIZE,
  writeSpan,
  writeChunk,
  writeTracerPayloadBody,
  writeVarintBig,
} from './encoders/traces.js';
export type { TraceEncoderOptions } from './encoders/traces.js';
export {
  StatsEncoder,
  MAX_STATS_ENTRIES_PER_PAYLOAD,
  writeStatsPayload,
  writeClientStatsPayload,
  writeBucket,
  writeGroupedStats,
} from './encoders/stats.js';
export type { StatsEncoderOptions } from './encoders/stats.js';
