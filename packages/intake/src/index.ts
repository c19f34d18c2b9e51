export { DecodeErrorReason, decoded, decodeError } from './decode/result.js';
export type { DecodeResult } from './decode/result.js';
export { decompressBody, DEFAULT_MAX_DECOMPRESSED_BYTES } from './decode/decompress.js';
export type { DecompressOptions } from './decode/decompress.js';
export { decodeSeriesV2, decodeSketches } from './decode/protobuf.js';
export { decodeSeriesV1, decodeCheckRuns, decodeEvents } from './decode/json.js';
export type { DecodedEvents } from './decode/json.js';
export { decodeLogs } from './decode/logs.js';
export type { IntakeLogEvent } from './decode/logs.js';
export { decodeAgentPayload } from './decode/traces.js';
export { decodeStatsPayload } from './decode/stats.js';
export { MsgpackReader } from './decode/msgpack-reader.js';
export { decodeIntakeRequest, decodeBody, intakeKindOf, INTAKE_ENDPOINTS } from './decode/payload.js';
export type { DecodedPayload, IntakeRequest, IntakePath, IntakePayloadKind } from './decode/payload.js';

export { DEFAULT_MAX_BODY_BYTES } from './limits.js';
export {
  IntakeStore,
  STORE_KINDS,
  STORE_COUNTERS,
  DEFAULT_STORE_MAX_AGE_MS,
  DEFAULT_STORE_MAX_BYTES,
} from './store/intake-store.js';
export type {
  IntakeItemTypes,
  StoreKind,
  StoreCounterName,
  KindCounts,
  IntakeCounts,
  StoredPayload,
  AnyStoredPayload,
  IntakeStoreOptions,
  MetricQuery,
  SeriesQuery,
  CheckQuery,
  EventQuery,
  LogQuery,
  IngestResult,
} from './store/intake-store.js';
export { WaitTimeoutError, DEFAULT_WAIT_TIMEOUT_MS } from './store/wait.js';
export type { WaitOptions } from './store/wait.js';
export { FakeIntake, DEFAULT_MAX_RECORDED_REQUESTS, redactSecret } from './server/fake-intake.js';
export type {
  FakeIntakeOptions,
  FakeIntakeCounts,
  FakeIntakeRequest,
  FakeIntakeResponse,
  FakeIntakeHandler,
  ListenOptions,
  RecordedRequest,
  RequestOutcome,
} from './server/fake-intake.js';
export { LocalIntake } from './local/local-intake.js';
export type { LocalIntakeOptions, LocalSubmission, LocalSubmitResult } from './local/local-intake.js';
export { LocalWeb } from './web/local-web.js';
export type { LocalWebOptions } from './web/local-web.js';
export { WebAssets } from './web/assets.js';
export type { Asset, WebAssetsOptions } from './web/assets.js';
export { MetricsIndex, histogramSuffixes, DEFAULT_HISTOGRAM_SUFFIXES, DISTRIBUTION_STATS } from './web/metrics-index.js';
export type { MetricTypeName, MetricSummary, MetricDetail, MetricPoints, ContextDetail, MetricFilter } from './web/metrics-index.js';
export { TracesIndex, spansOf, traceKey, TRACES_KIND, STATS_KIND } from './web/traces-index.js';
export type { SpanView, SpanJson, TraceSummary, TraceDetail, TraceQuery, ServiceRow, ServiceFigures } from './web/traces-index.js';
export { LogsIndex, LOGS_KIND, normalizeStatus } from './web/logs-index.js';
export type { LogEntry, LogsQuery } from './web/logs-index.js';
export { agentSketchQuantile, sketchStats, decodeDDSketch, MergedDDSketch, PERCENTILES } from './web/sketch.js';
export type { SketchStats, DDSketchData } from './web/sketch.js';
