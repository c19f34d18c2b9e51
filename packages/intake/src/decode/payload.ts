import type { AgentPayload, MetricEvent, Series, ServiceCheck, SketchSeries, StatsPayload } from '@kennel/core';
import { decompressBody, type DecompressOptions } from './decompress.js';
import { decodeCheckRuns, decodeEvents, decodeSeriesV1 } from './json.js';
import { decodeLogs, type IntakeLogEvent } from './logs.js';
import { decodeSeriesV2, decodeSketches } from './protobuf.js';
import { decodeError, decoded, DecodeErrorReason, type DecodeResult } from './result.js';
import { decodeStatsPayload } from './stats.js';
import { decodeAgentPayload } from './traces.js';

/** Intake paths and the payload each carries (`comp/forwarder/defaultforwarder/endpoints/endpoints.go`). */
export const INTAKE_ENDPOINTS = Object.freeze({
  '/api/v2/series': 'series_v2',
  '/api/beta/sketches': 'sketches',
  '/api/v1/series': 'series_v1',
  '/api/v1/check_run': 'check_runs',
  '/intake/': 'events',
  // The logs intake (`comp/logs-library/client/http/destination.go`, `buildURL`, track `logs`).
  '/api/v2/logs': 'logs',
  // The trace-agent's (`pkg/trace/writer/trace.go` `pathTraces`, `stats.go` `pathStats`).
  '/api/v0.2/traces': 'traces',
  '/api/v0.2/stats': 'stats',
} as const);
export type IntakePath = keyof typeof INTAKE_ENDPOINTS;
export type IntakePayloadKind = (typeof INTAKE_ENDPOINTS)[IntakePath];

/** A decoded request body, by kind. */
export type DecodedPayload =
  | { readonly kind: 'series_v2'; readonly series: Series[] }
  | { readonly kind: 'series_v1'; readonly series: Series[] }
  | { readonly kind: 'sketches'; readonly sketches: SketchSeries[] }
  | { readonly kind: 'check_runs'; readonly checks: ServiceCheck[] }
  | { readonly kind: 'events'; readonly events: MetricEvent[]; readonly internalHostname: string }
  | { readonly kind: 'logs'; readonly logs: IntakeLogEvent[] }
  | { readonly kind: 'traces'; readonly payload: AgentPayload }
  | { readonly kind: 'stats'; readonly payload: StatsPayload };

/** One request as the intake received it. */
export interface IntakeRequest {
  /** The request path; a query string and a missing trailing slash on `/intake` are tolerated. */
  readonly path: string;
  /** The `Content-Encoding` header, if any. */
  readonly contentEncoding?: string | undefined;
  readonly body: Uint8Array;
}

/** The payload kind of a request path, or undefined for a path that is not an intake endpoint. */
export function intakeKindOf(path: string): IntakePayloadKind | undefined {
  const q = path.indexOf('?');
  let p = q >= 0 ? path.slice(0, q) : path;
  if (p === '/intake') p = '/intake/';
  return (INTAKE_ENDPOINTS as Record<string, IntakePayloadKind>)[p];
}

/** Decodes an uncompressed body of the given kind. */
export function decodeBody(kind: IntakePayloadKind, body: Uint8Array): DecodeResult<DecodedPayload> {
  switch (kind) {
    case 'series_v2': {
      const r = decodeSeriesV2(body);
      return r.ok ? decoded({ kind, series: r.value }) : r;
    }
    case 'series_v1': {
      const r = decodeSeriesV1(body);
      return r.ok ? decoded({ kind, series: r.value }) : r;
    }
    case 'sketches': {
      const r = decodeSketches(body);
      return r.ok ? decoded({ kind, sketches: r.value }) : r;
    }
    case 'check_runs': {
      const r = decodeCheckRuns(body);
      return r.ok ? decoded({ kind, checks: r.value }) : r;
    }
    case 'events': {
      const r = decodeEvents(body);
      return r.ok ? decoded({ kind, events: r.value.events, internalHostname: r.value.internalHostname }) : r;
    }
    case 'logs': {
      const r = decodeLogs(body);
      return r.ok ? decoded({ kind, logs: r.value }) : r;
    }
    case 'traces': {
      const r = decodeAgentPayload(body);
      return r.ok ? decoded({ kind, payload: r.value }) : r;
    }
    case 'stats': {
      const r = decodeStatsPayload(body);
      return r.ok ? decoded({ kind, payload: r.value }) : r;
    }
  }
}

/**
 * Decodes one intake request: picks the decoder by path, undoes the `Content-Encoding`, and
 * parses the body. Never throws; a bad request is a result with a reason.
 *
 * @example
 * ```ts
 * const r = decodeIntakeRequest({ path: '/api/v2/series', contentEncoding: 'zstd', body });
 * if (r.ok && r.value.kind === 'series_v2') console.log(r.value.series.length);
 * else if (!r.ok) console.log(r.reason, r.message);
 * ```
 */
export function decodeIntakeRequest(request: IntakeRequest, options: DecompressOptions = {}): DecodeResult<DecodedPayload> {
  const kind = intakeKindOf(request.path);
  if (kind === undefined) return decodeError(DecodeErrorReason.UNKNOWN_ENDPOINT, `${request.path} is not an intake endpoint`);
  const body = decompressBody(request.body, request.contentEncoding, options);
  if (!body.ok) return body;
  return decodeBody(kind, body.value);
}
