/**
 * Why a trace payload (or a `/v0.6/stats` payload) could not be decoded. The decoders never throw:
 * a malformed body becomes `{ ok: false, reason, message }`, the receiver answers 400 with the
 * message, and the reason's counter goes up.
 *
 * The checks follow the agent's msgpack decoders (`pkg/proto/pbgo/trace/decoder_bytes.go`,
 * `decoder_v05.go`, `span_gen.go`, `tracer_payload_gen.go`, `stats_gen.go`); `dropReason` is the
 * agent's `TracesDropped` bucket for the same failure (`pkg/trace/api/api.go` `handleTraces`:
 * `msgp.ErrShortBytes` is counted apart, every other decode error is a decoding error).
 */
import { CounterSet } from '@kennel/core';

export const TraceDecodeErrorReasons = [
  {
    reason: 'truncated',
    dropReason: 'msgp_short_bytes',
    text: 'the body ends inside a value, or a header announces more elements than bytes remain',
  },
  {
    reason: 'wrong_type',
    dropReason: 'decoding_error',
    text: 'a value has a wire type its field does not accept (for example a float where an id goes)',
  },
  {
    reason: 'overflow',
    dropReason: 'decoding_error',
    text: "a number does not fit its field's type (a start above 2^63-1, an error outside int32, a negative uint)",
  },
  {
    reason: 'too_long',
    dropReason: 'decoding_error',
    text: 'an array or map header announces more than 25,000,000 elements ("too long payload")',
  },
  {
    reason: 'too_many_spans',
    dropReason: 'decoding_error',
    text: "the payload's span headers announce more spans than the decoder's span budget (kennel's memory bound, 1,000,000 by default: a decoded span costs about 400 bytes of heap, so 25 MB of one-byte empty spans would need 10 GB)",
  },
  {
    reason: 'invalid_msgpack',
    dropReason: 'decoding_error',
    text: 'a byte that is not a msgpack type (0xc1)',
  },
  {
    reason: 'v05_span_length',
    dropReason: 'decoding_error',
    text: 'a v0.5 span is not an array of exactly 12 elements',
  },
  {
    reason: 'v05_string_index',
    dropReason: 'decoding_error',
    text: 'a v0.5 string index is not in the string table',
  },
  {
    reason: 'invalid_json',
    dropReason: 'decoding_error',
    text: 'a JSON body is not JSON, or not the shape of its endpoint',
  },
  {
    reason: 'unsupported_version',
    dropReason: 'decoding_error',
    text: 'the endpoint version is not one this decoder knows',
  },
  {
    reason: 'internal',
    dropReason: 'decoding_error',
    text: 'the decoder hit an unexpected condition (a kennel bug: please report it)',
  },
] as const;

export type TraceDecodeErrorReasonEntry = (typeof TraceDecodeErrorReasons)[number];
/** The reason label of a decode failure. */
export type TraceDecodeErrorReason = TraceDecodeErrorReasonEntry['reason'];

/** The reason labels, by name, for code that compares them. */
export const TraceDecodeErrorReason = {
  TRUNCATED: 'truncated',
  WRONG_TYPE: 'wrong_type',
  OVERFLOW: 'overflow',
  TOO_LONG: 'too_long',
  TOO_MANY_SPANS: 'too_many_spans',
  INVALID_MSGPACK: 'invalid_msgpack',
  V05_SPAN_LENGTH: 'v05_span_length',
  V05_STRING_INDEX: 'v05_string_index',
  INVALID_JSON: 'invalid_json',
  UNSUPPORTED_VERSION: 'unsupported_version',
  INTERNAL: 'internal',
} as const satisfies Record<string, TraceDecodeErrorReason>;

/** A failed decode: the reason label and a message for the 400 body and the log. */
export interface TraceDecodeFailure {
  readonly ok: false;
  readonly reason: TraceDecodeErrorReason;
  readonly message: string;
}

/** The counter names of a decode-error counter set: one per reason. */
export const TRACE_DECODE_ERROR_COUNTERS: readonly TraceDecodeErrorReason[] = TraceDecodeErrorReasons.map((e) => e.reason);

/** A counter set with one counter per decode-error reason (group `trace_decode_errors`). */
export function createTraceDecodeErrorCounters(): CounterSet<TraceDecodeErrorReason> {
  return new CounterSet<TraceDecodeErrorReason>('trace_decode_errors', TRACE_DECODE_ERROR_COUNTERS);
}

/**
 * The process-wide decode-error counters: every decoder in this package bumps these unless its
 * caller passes its own set.
 */
export const traceDecodeErrors: CounterSet<TraceDecodeErrorReason> = createTraceDecodeErrorCounters();

const byReason = new Map<string, TraceDecodeErrorReasonEntry>(TraceDecodeErrorReasons.map((e) => [e.reason, e]));

/** The catalogue entry of a reason (its agent drop bucket and its description). */
export function traceDecodeErrorEntry(reason: TraceDecodeErrorReason): TraceDecodeErrorReasonEntry {
  return byReason.get(reason)!;
}
