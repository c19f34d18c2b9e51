/**
 * APM stats as the trace-agent sends them to `/api/v0.2/stats` (`libdd-trace-protobuf/src/pb/stats.proto`;
 * on the wire msgpack with the Go field names as keys, `pkg/proto/pbgo/trace/stats_gen.go`; see
 * `shared/spec/traces.md` §c.3). Shared by the stats concentrator, the stats encoder and the intake
 * decoder.
 *
 * Counts (`hits`, `errors`, `duration`, `topLevelHits`, `sequence`) are `uint64` on the wire and
 * `number`s here: exact below 2^53. Bucket starts are nanoseconds since the epoch and the process
 * tags hash uses all 64 bits, so both are `bigint`s.
 */

/** `Trilean` (stats.proto): `IsTraceRoot` of a grouped stat. */
export const Trilean = { NOT_SET: 0, TRUE: 1, FALSE: 2 } as const;
export type Trilean = (typeof Trilean)[keyof typeof Trilean];

/** `ClientGroupedStats`: the stats of one aggregation key in one bucket. */
export interface ClientGroupedStats {
  service: string;
  name: string;
  resource: string;
  httpStatusCode: number;
  type: string;
  dbType: string;
  hits: number;
  errors: number;
  /** Sum of the span durations, in nanoseconds. */
  duration: number;
  /** Protobuf `DDSketch` of the durations of the spans without error. */
  okSummary: Uint8Array;
  /** Protobuf `DDSketch` of the durations of the spans with an error. */
  errorSummary: Uint8Array;
  synthetics: boolean;
  topLevelHits: number;
  spanKind: string;
  peerTags: string[];
  isTraceRoot: Trilean;
  /** The gRPC status code as a numeric string, or `''`. */
  grpcStatusCode: string;
  httpMethod: string;
  httpEndpoint: string;
  /** `_dd.svc_src` (msgpack key `srv_src`). */
  serviceSource: string;
  spanDerivedPrimaryTags: string[];
  additionalMetricTags: string[];
}

/** `ClientStatsBucket`: one time bucket. */
export interface ClientStatsBucket {
  /** Bucket start, nanoseconds since the epoch. */
  start: bigint;
  /** Bucket length, nanoseconds. */
  duration: number;
  stats: ClientGroupedStats[];
  agentTimeShift: number;
}

/** `ClientStatsPayload`: the buckets of one payload aggregation key (env, host, version, ...). */
export interface ClientStatsPayload {
  hostname: string;
  env: string;
  version: string;
  stats: ClientStatsBucket[];
  lang: string;
  tracerVersion: string;
  runtimeId: string;
  sequence: number;
  agentAggregation: string;
  service: string;
  containerId: string;
  tags: string[];
  gitCommitSha: string;
  imageTag: string;
  processTagsHash: bigint;
  processTags: string;
}

/** `StatsPayload`: what `/api/v0.2/stats` receives. */
export interface StatsPayload {
  agentHostname: string;
  agentEnv: string;
  stats: ClientStatsPayload[];
  agentVersion: string;
  clientComputed: boolean;
  splitPayload: boolean;
}
