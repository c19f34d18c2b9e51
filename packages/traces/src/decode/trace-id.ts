import type { Span } from '@kennel/core';

/** The meta key holding the high 64 bits of a 128-bit trace id, as 16 lowercase hex digits. */
export const TRACE_ID_HIGH_TAG = '_dd.p.tid';

const HEX = /^[0-9a-fA-F]{1,16}$/;

/**
 * The high 64 bits of a span's trace id from its `_dd.p.tid` meta tag, or undefined when the tag
 * is absent or not hex (tracers set it on the first span of each chunk only;
 * `pkg/trace/traceutil/span.go`). The decoders keep the tag in meta as received.
 */
export function traceIdHigh(span: Pick<Span, 'meta'>): bigint | undefined {
  const v = span.meta[TRACE_ID_HIGH_TAG];
  if (v === undefined || !HEX.test(v)) return undefined;
  return BigInt(`0x${v}`);
}

/**
 * The full 128-bit trace id of a span: `_dd.p.tid` as the high 64 bits over `traceId` (the low
 * 64 bits). Without the tag (or with a malformed one) it is the 64-bit `traceId`.
 *
 * @example
 * ```ts
 * traceId128(span).toString(16).padStart(32, '0'); // the W3C trace id
 * ```
 */
export function traceId128(span: Pick<Span, 'meta' | 'traceId'>): bigint {
  const high = traceIdHigh(span);
  return high === undefined ? span.traceId : (high << 64n) | span.traceId;
}
