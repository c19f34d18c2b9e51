// The trace receiver (the package's only sockets) and what it serves: `@kennel/traces/source`.
export {
  TraceReceiver,
  RECEIVER_COUNTERS,
  AGENT_TRACE_SOCKET_MODE,
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_RECEIVER_TIMEOUT_MS,
  DEFAULT_EVP_MAX_PAYLOAD_BYTES,
  CONNECTION_LEASE_MS,
  MAX_PENDING_CONNECTIONS,
  isHeaderTrue,
} from './receiver.js';
export type {
  TraceReceiverOptions,
  ReceiverHandlers,
  ReceivedTraces,
  ReceivedClientStats,
  ProxyRequest,
  ProxyAnswer,
  ReceiverCounterName,
} from './receiver.js';
export {
  ENDPOINTS,
  EVP_PROXY_ALLOWED_HEADERS,
  SPAN_KINDS_STATS_COMPUTED,
  buildInfo,
  matchEndpoint,
  mediaTypeOf,
  traceDecoding,
} from './endpoints.js';
export type { EndpointDef, EndpointHandling, InfoDocument, InfoOptions, ProxyProduct, TraceEndpointVersion } from './endpoints.js';
export {
  ReceiverStats,
  TagStats,
  TAG_STATS_FIELDS,
  TRACES_DROPPED_FIELDS,
  SPANS_MALFORMED_FIELDS,
  TRACES_DROPPED_REASONS,
  SPANS_MALFORMED_REASONS,
  MAX_RECEIVER_CLIENTS,
} from './receiver-stats.js';
export type { ReceiverTags, TagStatsJson, TagStatsField, TracesDroppedField, SpansMalformedField } from './receiver-stats.js';
