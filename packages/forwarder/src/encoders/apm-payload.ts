import type { ApmContentEncoding } from '../compression/apm.js';
import { AGENT_VERSION } from '../transport/endpoints.js';

/** The trace-agent's intake paths (`pkg/trace/writer/trace.go` `pathTraces`, `stats.go` `pathStats`). */
export const ApmEndpoint = {
  TRACES: '/api/v0.2/traces',
  STATS: '/api/v0.2/stats',
} as const;
export type ApmEndpoint = (typeof ApmEndpoint)[keyof typeof ApmEndpoint];

/** Content types the trace writers send. */
export const ApmContentType = {
  PROTOBUF: 'application/x-protobuf',
  MSGPACK: 'application/msgpack',
} as const;
export type ApmContentType = (typeof ApmContentType)[keyof typeof ApmContentType];

/** Header names of the trace writers (`pkg/trace/writer/sender.go`, `trace.go`). */
export const ApmHeader = {
  REPORTED_LANGUAGES: 'X-Datadog-Reported-Languages',
  USER_AGENT: 'User-Agent',
  CONTENT_TYPE: 'Content-Type',
  CONTENT_ENCODING: 'Content-Encoding',
  API_KEY: 'DD-Api-Key',
} as const;

/** The git commit kennel reports in its trace-agent user agent (the agent reports its own build). */
export const TRACE_AGENT_GIT_COMMIT = 'kennel';

/** `User-Agent: Datadog Trace Agent/<version>/<git commit>` (`newSenders` in `sender.go`). */
export function traceAgentUserAgent(version: string = AGENT_VERSION, commit: string = TRACE_AGENT_GIT_COMMIT): string {
  return `Datadog Trace Agent/${version}/${commit}`;
}

/** One compressed trace-agent request body with the headers the agent sends with it (the API key aside). */
export interface ApmPayload {
  readonly kind: 'traces' | 'stats';
  readonly endpoint: ApmEndpoint;
  readonly contentType: ApmContentType;
  readonly contentEncoding: ApmContentEncoding;
  /** `Content-Type`, `Content-Encoding`, `X-Datadog-Reported-Languages` and `User-Agent`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  readonly uncompressedBytes: number;
  /** Tracer payloads (traces) or client stats payloads (stats) in the body. */
  readonly items: number;
  /** Trace chunks (traces) or grouped stats (stats) in the body. */
  readonly entries: number;
}

/** Counters of the trace and stats encoders. */
export const APM_ENCODER_COUNTERS = [
  'ItemsEncoded',
  'ChunksEncoded',
  'SpansEncoded',
  'EntriesEncoded',
  'ItemTooBig',
  'SpansTooBig',
  'PayloadFull',
  'Splits',
  'TotalPayloads',
  'BytesIn',
  'BytesOut',
] as const;
export type ApmEncoderCounterName = (typeof APM_ENCODER_COUNTERS)[number];

export function apmHeaders(
  contentType: ApmContentType,
  contentEncoding: ApmContentEncoding,
  languages: readonly string[],
  userAgent: string,
): Record<string, string> {
  return {
    [ApmHeader.CONTENT_TYPE]: contentType,
    [ApmHeader.CONTENT_ENCODING]: contentEncoding,
    [ApmHeader.REPORTED_LANGUAGES]: languages.join('|'),
    [ApmHeader.USER_AGENT]: userAgent,
  };
}
