export { Hash64, hashBytes64, fmix32 } from './hash/hash64.js';
export { ContextKeyBuilder, contextKey } from './hash/context-key.js';
export { CounterSet, CounterMap } from './telemetry/counters.js';
export { KennelError, isKennelError } from './errors/kennel-error.js';
export { ErrorCode, ParseError, ParseErrorCounter, ParseErrorReason, parseErrorByCode } from './errors/codes.js';
export type { ParseErrorReasonEntry, ParseErrorReasonLabel } from './errors/codes.js';
export { StringInterner, decodeString } from './intern/string-interner.js';
export type { StringInternerOptions } from './intern/string-interner.js';
export { SeriesTypeCode } from './metrics/payload-types.js';
export type {
  SeriesApiType,
  SeriesPoint,
  SeriesResource,
  SeriesOrigin,
  Series,
  SketchPoint,
  SketchSeries,
  EventPriority,
  EventAlertType,
  MetricEvent,
  ServiceCheckStatus,
  ServiceCheck,
} from './metrics/payload-types.js';
export { MetricType, MetricTypeName } from './metrics/sample-view.js';
export type { MetricSampleView } from './metrics/sample-view.js';
export { AttributeValueType, PRIORITY_NONE } from './traces/span.js';
export type {
  AttributeArrayValue,
  AttributeAnyValue,
  SpanLink,
  SpanEvent,
  Span,
  TraceChunk,
  TracerPayload,
  AgentPayload,
} from './traces/span.js';
export { Trilean } from './traces/stats-payload.js';
export type { ClientGroupedStats, ClientStatsBucket, ClientStatsPayload, StatsPayload } from './traces/stats-payload.js';
