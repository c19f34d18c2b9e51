// Sender (src/sender/): batching, compression, the HTTP destination, status.
export {
  LogsSender,
  ackEach,
  classifyLogsOutcome,
  SendVerdict,
} from './sender/sender.js';
export type { LogsSenderInit, AcceptedOutcome } from './sender/sender.js';
export { resolveLogsSenderConfig, LOGS_SENDER_DEFAULTS, LOGS_SENDER_CONFIG_KEYS } from './sender/config.js';
export type { LogsSenderOptions, LogsSenderConfig, LogsCompressionKind, ResolveLogsSenderConfigOptions } from './sender/config.js';
export {
  resolveLogsEndpoint,
  formatEndpointStatus,
  DEFAULT_LOGS_SITE,
  LOGS_HTTP_ENDPOINT_PREFIX,
  LOGS_INTAKE_PATH,
} from './sender/endpoint.js';
export type { LogsEndpointOptions, LogsEndpoint } from './sender/endpoint.js';
export { LogEventEncoder, goJsonString, DEFAULT_STATUS } from './sender/encoder.js';
export type { SenderMessage } from './sender/encoder.js';
export {
  loadLogsCompression,
  loadLogsZstdBinding,
  gzipCompression,
  zstdCompression,
  noCompression,
} from './sender/compression.js';
export type { LogsCompression, LogsZstdBinding, LoadLogsCompressionOptions } from './sender/compression.js';
export {
  HttpLogsSink,
  createSubmitLogsSink,
  buildLogsHeaders,
  LOGS_AGENT_VERSION,
  LOGS_INTAKE_PROTOCOL,
  LOGS_INTAKE_ORIGIN,
  LOGGED_RESPONSE_LIMIT,
} from './sender/sink.js';
export type { LogsSink, LogsSinkOutcome, LogsRequest, HttpLogsSinkOptions, LogsSubmission, LogsSubmitResult } from './sender/sink.js';
export { LogsBackoffPolicy } from './sender/backoff.js';
export { LOGS_AGENT_COUNTERS, createLogsAgentCounters, formatGoDuration } from './sender/counters.js';
export type { LogsAgentCounterName, LogsAgentCounters } from './sender/counters.js';
export {
  formatLogsAgentStatus,
  logsStatusMetrics,
  logsAgentExpvars,
  LOGS_STATUS_METRICS,
} from './sender/status.js';
export type { LogsAgentStatus, LogsIntegrationStatus, LogsSourceStatus } from './sender/status.js';

// Collection and processing (src/types.ts, src/source/, src/process/, src/registry/).
export { LogStatus } from './types.js';
export type { LogMessage, LogOrigin, LogSink } from './types.js';
export { LogChannel } from './source/channel.js';
export type { LogChannelOptions } from './source/channel.js';
export { createLogsContext, InputPipeline } from './source/context.js';
export type { LogsContext, LogsContextOptions, SourceIdentity } from './source/context.js';
export { resolveLogsSourceConfig, parseTags, guessFormat, tailingModeFromString, TailingMode } from './source/config.js';
export type { LogsSourceConfig, FileSourceConfig, NetworkSourceConfig } from './source/config.js';
export { ChildProcessSource } from './source/child-process.js';
export type { ChildProcessSourceOptions, ChildExit } from './source/child-process.js';
export { FileSource } from './source/file.js';
export type { FileSourceOptions, FileSourceInfo, FileTailerInfo } from './source/file.js';
export { TcpSource, UdpSource } from './source/network.js';
export type { NetworkSourceOptions, UdpSourceOptions, NetworkSourceStats } from './source/network.js';
export { LogsSources } from './source/sources.js';
export type { LogsSourcesOptions } from './source/sources.js';
export { globFiles, containsWildcard, reverseLexicographical } from './source/glob.js';
export { GoRegexp, GoRegexpSyntaxError } from './process/go-regexp.js';
export { compileProcessingRules, parseProcessingRulesJson, multiLineRule, ProcessingRuleType } from './process/rules.js';
export type { ProcessingRule, ProcessingRuleConfig } from './process/rules.js';
export { Processor, createLogsPipelineCounters, jsonStatus, LOGS_SOURCE_COUNTERS } from './process/processor.js';
export type { ProcessorOptions, LogsPipelineCounters, LogsSourceCounterName, LogsSourceCounterSink } from './process/processor.js';
export { LineDecoder, Framing, DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_AGGREGATION_TIMEOUT_MS } from './process/decoder.js';
export type { LineDecoderOptions } from './process/decoder.js';
export { NewlineFramer, trimSpace } from './process/framer.js';
export { SingleLineHandler, MultiLineHandler, TRUNCATED_FLAG, ESCAPED_LINE_FEED } from './process/line-handlers.js';
export type { DecodedLine } from './process/line-handlers.js';
export { parseDockerJsonLine, parseCriLine, LogFormat } from './process/container-formats.js';
export type { ParsedLine } from './process/container-formats.js';
export { Registry, serializeRegistry, parseRegistry, REGISTRY_VERSION, REGISTRY_FILENAME } from './registry/registry.js';
export type { RegistryEntry, RegistryOptions, RegistryTrackOptions } from './registry/registry.js';
export { crc64Iso, computeFingerprint, resolveFingerprintConfig, DEFAULT_FINGERPRINT_CONFIG, FingerprintStrategy } from './registry/fingerprint.js';
export type { Fingerprint, FingerprintConfig } from './registry/fingerprint.js';
