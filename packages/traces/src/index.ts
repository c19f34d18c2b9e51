// Decoders: msgpack v0.3/v0.4/v0.5/v0.7, the JSON forms, /v0.6/stats.
export { decodeTraces } from './decode/msgpack.js';
export { decodeJsonTraces } from './decode/json.js';
export { decodeClientStats } from './decode/stats.js';
export type { ClientStatsPayload, ClientStatsBucket, ClientGroupedStats, ClientStatsDecodeResult } from './decode/stats.js';
export {
  TraceDecodeErrorReason,
  TraceDecodeErrorReasons,
  TRACE_DECODE_ERROR_COUNTERS,
  createTraceDecodeErrorCounters,
  traceDecodeErrors,
  traceDecodeErrorEntry,
} from './decode/errors.js';
export type { TraceDecodeErrorReasonEntry, TraceDecodeFailure } from './decode/errors.js';
export type { MsgpackTraceVersion, JsonTraceVersion, TraceRequestMeta, TraceDecodeOptions, TraceDecodeResult } from './decode/types.js';
export { MAX_SPANS_PER_PAYLOAD } from './decode/types.js';
export { traceId128, traceIdHigh, TRACE_ID_HIGH_TAG } from './decode/trace-id.js';

// Processing (normalisation, truncation, top-level, sampling) and APM stats.
export {
  DEFAULT_SPAN_NAME,
  DEFAULT_SERVICE_NAME,
  MAX_NAME_LEN,
  MAX_SERVICE_LEN,
  MAX_RESOURCE_LEN,
  MAX_TYPE_LEN,
  MAX_META_KEY_LEN,
  MAX_META_VAL_LEN,
  MAX_METRICS_KEY_LEN,
  MAX_TAG_LEN,
  YEAR_2000_NS,
  NormalizeError,
  utf8Length,
  truncateUTF8,
  normalizeTag,
  normalizeTagValue,
  normalizeName,
  normalizeService,
  normalizePeerService,
  fallbackService,
  isValidStatusCode,
} from './process/normalize.js';
export type { Normalized } from './process/normalize.js';
export {
  TOP_LEVEL_KEY,
  TRACER_TOP_LEVEL_KEY,
  MEASURED_KEY,
  PARTIAL_VERSION_KEY,
  SAMPLING_PRIORITY_KEY,
  DECISION_MAKER_KEY,
  ORIGIN_KEY,
  HOSTNAME_KEY,
  hasTopLevel,
  isMeasured,
  isPartialSnapshot,
  updateTracerTopLevel,
  computeTopLevel,
  getRoot,
  getMetaFromTrace,
  setChunkAttributes,
} from './process/trace-util.js';
export {
  PrioritySampler,
  SamplingPriority,
  DEFAULT_SERVICE_RATE_KEY,
  DEFAULT_RATE_BY_SERVICE,
  PRIORITY_RATE_KEY,
  rootWeight,
} from './process/sampler.js';
export type { PrioritySamplerOptions } from './process/sampler.js';
export {
  TraceProcessor,
  TRACES_DROPPED_COUNTERS,
  SPANS_MALFORMED_COUNTERS,
  PROCESS_COUNTERS,
  SPAN_SAMPLING_MECHANISM_KEY,
  CLIENT_RATE_KEY,
} from './process/processor.js';
export type {
  TracesDroppedReason,
  SpansMalformedReason,
  ProcessCounterName,
  ProcessorOptions,
  PayloadContext,
  ProcessedTrace,
  ProcessResult,
} from './process/processor.js';
export { DDSketch, LogarithmicMapping, CollapsingLowestDenseStore, RELATIVE_ACCURACY, MAX_NUM_BINS } from './stats/ddsketch.js';
export {
  DEFAULT_PEER_TAGS,
  isComputedSpanKind,
  tagsFnvHash,
  statusCode,
  parseGrpcStatus,
  grpcStatusCode,
  matchingPeerTags,
  toStatSpan,
  bucketKeyOf,
} from './stats/aggregation.js';
export type { StatSpan, PayloadKey, BucketKey } from './stats/aggregation.js';
export {
  Concentrator,
  BUCKET_INTERVAL_NS,
  DEFAULT_BUFFER_LEN,
  CONCENTRATOR_COUNTERS,
  truncateDuration,
  spanWeight,
} from './stats/concentrator.js';
export type { ConcentratorCounterName, ConcentratorOptions, StatsInputInfo } from './stats/concentrator.js';
