/**
 * The catalogue of kennel's error codes. `docs/errors.md` documents each one.
 *
 * Thrown errors (`KennelError.code`) are configuration and programmer errors. Data-path problems
 * are never thrown: a malformed DogStatsD message gets a `ParseErrorReason` and bumps the agent's
 * counter named by it.
 */
export const ErrorCode = {
  /** A configuration value is malformed or out of range. */
  CONFIG_INVALID: 'ERR_CONFIG_INVALID',
  /** A configuration key is not known. */
  CONFIG_UNKNOWN_KEY: 'ERR_CONFIG_UNKNOWN_KEY',
  /** A listener (UDP, UDS, HTTP) could not be opened. */
  LISTEN_FAILED: 'ERR_LISTEN_FAILED',
  /** An argument passed to a public API is not what it documents. */
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The agent's expvar counter a DogStatsD parse error increments (`comp/dogstatsd/server/impl/server.go`). */
export const ParseErrorCounter = {
  METRIC: 'MetricParseErrors',
  EVENT: 'EventParseErrors',
  SERVICE_CHECK: 'ServiceCheckParseErrors',
  UNTERMINATED: 'UnterminatedMetricErrors',
} as const;
export type ParseErrorCounter = (typeof ParseErrorCounter)[keyof typeof ParseErrorCounter];

/**
 * Why a DogStatsD message was rejected. The numeric code is what the hot path carries; the
 * `reason` label is what telemetry, `kennel decode` and logs show; `counter` is the agent's
 * expvar counter the rejection increments. The checks and their order follow
 * `comp/dogstatsd/server/impl/parse*.go`.
 */
export const ParseErrorReason = [
  { code: 0, reason: 'none', counter: ParseErrorCounter.METRIC, text: 'no error' },
  // Metrics (parse.go parseMetricSample, parse_metrics.go)
  { code: 1, reason: 'metric_no_pipe', counter: ParseErrorCounter.METRIC, text: 'a metric needs at least one "|" (name:value|type)' },
  { code: 2, reason: 'metric_no_colon', counter: ParseErrorCounter.METRIC, text: 'the first field has no ":" between name and value' },
  { code: 3, reason: 'metric_empty_name', counter: ParseErrorCounter.METRIC, text: 'the metric name is empty' },
  { code: 4, reason: 'metric_empty_value', counter: ParseErrorCounter.METRIC, text: 'the metric value is empty' },
  { code: 5, reason: 'metric_invalid_type', counter: ParseErrorCounter.METRIC, text: 'the metric type is not one of g c h d s ms' },
  { code: 6, reason: 'metric_invalid_value', counter: ParseErrorCounter.METRIC, text: 'a metric value is not a number (Go ParseFloat)' },
  { code: 7, reason: 'metric_no_values', counter: ParseErrorCounter.METRIC, text: 'a multi-value list holds no value' },
  { code: 8, reason: 'metric_invalid_sample_rate', counter: ParseErrorCounter.METRIC, text: 'the @sample rate is not a number (Go ParseFloat)' },
  { code: 9, reason: 'metric_invalid_timestamp', counter: ParseErrorCounter.METRIC, text: 'the T timestamp is not a base-10 integer' },
  { code: 10, reason: 'metric_timestamp_not_positive', counter: ParseErrorCounter.METRIC, text: 'the T timestamp must be > 0' },
  // Events (parse_events.go)
  { code: 20, reason: 'event_no_colon', counter: ParseErrorCounter.EVENT, text: 'the event has no ":" after its header' },
  { code: 21, reason: 'event_invalid_header', counter: ParseErrorCounter.EVENT, text: 'the event header is not _e{title_length,text_length}' },
  { code: 22, reason: 'event_empty_title', counter: ParseErrorCounter.EVENT, text: 'the event title length is 0' },
  { code: 23, reason: 'event_too_short', counter: ParseErrorCounter.EVENT, text: 'the event is shorter than its declared title and text lengths' },
  // Service checks (parse_service_checks.go)
  { code: 30, reason: 'service_check_invalid_format', counter: ParseErrorCounter.SERVICE_CHECK, text: 'a service check needs _sc|name|status' },
  { code: 31, reason: 'service_check_empty_name', counter: ParseErrorCounter.SERVICE_CHECK, text: 'the service check name is empty' },
  { code: 32, reason: 'service_check_invalid_status', counter: ParseErrorCounter.SERVICE_CHECK, text: 'the service check status is not 0, 1, 2 or 3' },
  // Framing (server.go nextMessage with dogstatsd_eol_required)
  { code: 40, reason: 'unterminated_line', counter: ParseErrorCounter.UNTERMINATED, text: 'the last line has no newline and this transport requires one' },
] as const;

export type ParseErrorReasonEntry = (typeof ParseErrorReason)[number];
export type ParseErrorReasonLabel = ParseErrorReasonEntry['reason'];

const byCode: ParseErrorReasonEntry[] = [];
for (const e of ParseErrorReason) byCode[e.code] = e;

/** Looks up a parse error by its numeric code. */
export function parseErrorByCode(code: number): ParseErrorReasonEntry {
  return byCode[code] ?? ParseErrorReason[0];
}

/** The numeric codes, by name, for the hot path. */
export const ParseError = {
  NONE: 0,
  METRIC_NO_PIPE: 1,
  METRIC_NO_COLON: 2,
  METRIC_EMPTY_NAME: 3,
  METRIC_EMPTY_VALUE: 4,
  METRIC_INVALID_TYPE: 5,
  METRIC_INVALID_VALUE: 6,
  METRIC_NO_VALUES: 7,
  METRIC_INVALID_SAMPLE_RATE: 8,
  METRIC_INVALID_TIMESTAMP: 9,
  METRIC_TIMESTAMP_NOT_POSITIVE: 10,
  EVENT_NO_COLON: 20,
  EVENT_INVALID_HEADER: 21,
  EVENT_EMPTY_TITLE: 22,
  EVENT_TOO_SHORT: 23,
  SERVICE_CHECK_INVALID_FORMAT: 30,
  SERVICE_CHECK_EMPTY_NAME: 31,
  SERVICE_CHECK_INVALID_STATUS: 32,
  UNTERMINATED_LINE: 40,
} as const;
export type ParseError = (typeof ParseError)[keyof typeof ParseError];
