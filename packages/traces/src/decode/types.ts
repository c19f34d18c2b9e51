import type { CounterSet, TracerPayload } from '@kennel/core';
import type { TraceDecodeErrorReason, TraceDecodeFailure } from './errors.js';

/** The trace endpoint versions whose bodies are msgpack. */
export type MsgpackTraceVersion = 'v0.3' | 'v0.4' | 'v0.5' | 'v0.7';

/** The trace endpoints whose bodies can be JSON: `/spans` and `/v0.1/spans` are v0.1. */
export type JsonTraceVersion = 'v0.1' | 'v0.2' | 'v0.3' | 'v0.4';

/**
 * What the request headers say about the tracer (`shared/spec/traces.md` a.5). v0.1 to v0.5
 * payloads carry no tracer metadata, so the agent builds the `TracerPayload` from these
 * (`api.go` `decodeTracerPayload`); v0.7 payloads carry their own and these are not used.
 */
export interface TraceRequestMeta {
  /** `Datadog-Meta-Lang`. */
  readonly lang?: string | undefined;
  /** `Datadog-Meta-Lang-Version`. */
  readonly langVersion?: string | undefined;
  /** `Datadog-Meta-Lang-Interpreter` (not part of the payload; kept for the receiver's stats). */
  readonly langInterpreter?: string | undefined;
  /** `Datadog-Meta-Lang-Interpreter-Vendor` (as above). */
  readonly langInterpreterVendor?: string | undefined;
  /** `Datadog-Meta-Tracer-Version`. */
  readonly tracerVersion?: string | undefined;
  /**
   * The container id the receiver resolved for the request (`Datadog-Container-ID`, or the
   * `cid-`/`ci-` form of `Datadog-Entity-ID`).
   */
  readonly containerId?: string | undefined;
}

/** Options of a decode call. */
export interface TraceDecodeOptions {
  /**
   * Where failures are counted, one counter per reason.
   * @defaultValue the package-wide `traceDecodeErrors`
   */
  readonly counters?: CounterSet<TraceDecodeErrorReason> | undefined;
  /**
   * Spans one payload may announce (nil ones included); a span header that would pass it fails
   * the decode with `too_many_spans` before anything is allocated for it. kennel's bound, not the
   * agent's (whose only bound is 25,000,000 elements a header): a decoded span costs about 400
   * bytes of heap, so the 25 MiB body limit filled with one-byte `{}` spans would need 10 GB and
   * end the process. Real spans take 100 bytes or more on the wire, so 25 MiB of them is at most
   * about 260,000.
   * @defaultValue {@link MAX_SPANS_PER_PAYLOAD} (1,000,000)
   */
  readonly maxSpans?: number | undefined;
}

/** The default span budget of one trace payload (see `TraceDecodeOptions.maxSpans`). */
export const MAX_SPANS_PER_PAYLOAD = 1_000_000;

/** A decoded trace payload and its span count, or why it could not be decoded. */
export type TraceDecodeResult =
  | { readonly ok: true; readonly payload: TracerPayload; readonly spans: number }
  | TraceDecodeFailure;
