import { Trilean } from '@kennel/core';
import type { Span } from '@kennel/core';

/**
 * The stats aggregation key of a span and the values derived from it.
 *
 * @remarks
 * Restated from `DataDog/datadog-agent` `pkg/trace/stats/aggregation.go` (newest:
 * `BucketsAggregationKey` with service, name, resource, type, span kind, HTTP status code,
 * synthetics, peer-tags hash, span-derived-primary-tags hash, additional-metric-tags hash,
 * `_dd.svc_src`, is-trace-root, gRPC status code, HTTP method and endpoint; the FNV-1a 64 tag
 * hash over sorted tags joined by a 0 byte; `parseGRPCStatusString`), `span_concentrator.go`
 * (`peerTagKeysToAggregateForSpan`, `KindsComputed`) and `pkg/trace/semantics/mappings.json`
 * (the keys the HTTP and gRPC status codes are looked up under, in order); Apache-2.0.
 */

/** The agent's default peer-tag keys (`pkg/trace/stats/peer_tags.ini`, `[dd.apm.peer.tags]`), sorted. */
export const DEFAULT_PEER_TAGS: readonly string[] = Object.freeze(
  [
    'peer.hostname',
    'peer.cassandra.contact.points',
    'peer.couchbase.seed.nodes',
    'peer.rpc.service',
    'peer.rpc.system',
    'peer.aws.s3.bucket',
    'peer.aws.sqs.queue',
    'peer.aws.kinesis.stream',
    'peer.aws.dynamodb.table',
    'peer.db.system',
    'peer.db.name',
    'peer.messaging.system',
    'peer.messaging.destination',
    'peer.kafka.bootstrap.servers',
    'peer.cluster.name',
    'peer.service',
  ].sort(),
);

/** Span kinds that get stats when `compute_stats_by_span_kind` is on (`KindsComputed`). */
const KINDS_COMPUTED = new Set(['server', 'consumer', 'client', 'producer']);

const BASE_SERVICE_KEY = '_dd.base_service';
const SERVICE_SOURCE_KEY = '_dd.svc_src';

/** Does this `span.kind` make a span eligible for stats (compared lowercased)? */
export function isComputedSpanKind(kind: string | undefined): boolean {
  return kind !== undefined && KINDS_COMPUTED.has(kind.toLowerCase());
}

/** FNV-1a 64 over the tags sorted, joined by a 0 byte (`tagsFnvHash`); 0 for no tags. Sorts `tags` in place. */
export function tagsFnvHash(tags: string[]): bigint {
  if (tags.length === 0) return 0n;
  tags.sort(compareBytes);
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  for (let i = 0; i < tags.length; i++) {
    if (i > 0) h = ((h ^ 0n) * prime) & mask;
    const b = Buffer.from(tags[i]!, 'utf8');
    for (let j = 0; j < b.length; j++) h = ((h ^ BigInt(b[j]!)) * prime) & mask;
  }
  return h;
}

/** Go's `sort.Strings`: byte order of the UTF-8 encodings. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The HTTP status code: metric `http.status_code`, meta `http.status_code`, then the OTel `http.response.status_code` pair; 0 when none or out of range. */
export function statusCode(meta: Readonly<Record<string, string>>, metrics: Readonly<Record<string, number>>): number {
  for (const key of ['http.status_code', 'http.response.status_code']) {
    const m = metrics[key];
    if (m !== undefined) return toStatusCode(Math.trunc(m));
    const s = meta[key];
    if (s !== undefined) {
      const v = parseInt64(s);
      if (v !== null) return toStatusCode(v);
    }
  }
  return 0;
}

function toStatusCode(v: number): number {
  return Number.isFinite(v) && v >= 0 && v <= 0xffffffff ? v : 0;
}

/** Go's `strconv.ParseInt(s, 10, 64)` for plain decimal strings (sign allowed); null when it fails. */
function parseInt64(s: string): number | null {
  if (!/^[+-]?[0-9]+$/.test(s)) return null;
  const v = Number(s);
  return Math.abs(v) <= 9.223372036854776e18 ? v : null;
}

/** gRPC code names (`google.golang.org/genproto/googleapis/rpc/code`) and the agent's extra spellings. */
const GRPC_CODES: Readonly<Record<string, string>> = Object.freeze({
  OK: '0',
  CANCELLED: '1',
  CANCELED: '1',
  UNKNOWN: '2',
  INVALID_ARGUMENT: '3',
  INVALIDARGUMENT: '3',
  DEADLINE_EXCEEDED: '4',
  DEADLINEEXCEEDED: '4',
  NOT_FOUND: '5',
  NOTFOUND: '5',
  ALREADY_EXISTS: '6',
  ALREADYEXISTS: '6',
  PERMISSION_DENIED: '7',
  PERMISSIONDENIED: '7',
  RESOURCE_EXHAUSTED: '8',
  RESOURCEEXHAUSTED: '8',
  FAILED_PRECONDITION: '9',
  FAILEDPRECONDITION: '9',
  ABORTED: '10',
  OUT_OF_RANGE: '11',
  OUTOFRANGE: '11',
  UNIMPLEMENTED: '12',
  INTERNAL: '13',
  UNAVAILABLE: '14',
  DATA_LOSS: '15',
  DATALOSS: '15',
  UNAUTHENTICATED: '16',
});

/** `parseGRPCStatusString`: a number, a code name (any case, `StatusCode.` prefix allowed), or `''`. */
export function parseGrpcStatus(s: string): string {
  if (/^[0-9]+$/.test(s)) {
    const v = Number(s);
    if (v <= 0xffffffff) return String(v);
  }
  const name = (s.startsWith('StatusCode.') ? s.slice('StatusCode.'.length) : s).toUpperCase();
  return Object.hasOwn(GRPC_CODES, name) ? GRPC_CODES[name]! : '';
}

/** The keys the gRPC status code is looked up under, in the registry's order (meta, then metric, per key). */
const GRPC_KEYS = ['rpc.grpc.status_code', 'grpc.code', 'rpc.grpc.status.code', 'grpc.status.code'];

/** The gRPC status code of a span as the agent aggregates it, or `''`. */
export function grpcStatusCode(meta: Readonly<Record<string, string>>, metrics: Readonly<Record<string, number>>): string {
  for (const key of GRPC_KEYS) {
    const s = meta[key];
    if (s !== undefined && s !== '') return parseGrpcStatus(s);
    const m = metrics[key];
    if (m !== undefined) return parseGrpcStatus(String(Math.trunc(m)));
  }
  return '';
}

/**
 * The peer tags of a span (`matchingPeerTags`): for `client`, `producer` and `consumer` spans
 * every configured key with a non-empty meta value, as `key:value`; for internal (or kindless)
 * spans with `_dd.base_service`, only that tag; else none. Peer IP addresses are not quantized.
 */
export function matchingPeerTags(meta: Readonly<Record<string, string>>, peerTagKeys: readonly string[]): string[] {
  if (peerTagKeys.length === 0) return [];
  const kind = (meta['span.kind'] ?? '').toLowerCase();
  const base = meta[BASE_SERVICE_KEY] ?? '';
  let keys: readonly string[];
  if ((kind === '' || kind === 'internal') && base !== '') keys = [BASE_SERVICE_KEY];
  else if (kind === 'client' || kind === 'producer' || kind === 'consumer') keys = peerTagKeys;
  else return [];
  const out: string[] = [];
  for (const k of keys) {
    const v = meta[k];
    if (v !== undefined && v !== '') out.push(`${k}:${v}`);
  }
  return out;
}

/** What the concentrator keeps of a span (`StatSpan`). */
export interface StatSpan {
  readonly service: string;
  readonly resource: string;
  readonly name: string;
  readonly type: string;
  readonly error: number;
  readonly parentId: bigint;
  readonly start: bigint;
  readonly duration: number;
  readonly spanKind: string;
  readonly statusCode: number;
  readonly isTopLevel: boolean;
  readonly peerTags: string[];
  readonly grpcStatusCode: string;
  readonly serviceSource: string;
  readonly httpMethod: string;
  readonly httpEndpoint: string;
}

/**
 * `NewStatSpanWithConfig`: the stat span of a top-level, measured or (with
 * `computeStatsBySpanKind`) server/client/producer/consumer span; null for any other span and
 * for partial snapshots.
 */
export function toStatSpan(s: Span, peerTagKeys: readonly string[], computeStatsBySpanKind: boolean): StatSpan | null {
  const metrics = s.metrics;
  const meta = s.meta;
  const topLevel = metrics['_top_level'] === 1 || metrics['_dd.top_level'] === 1;
  const eligibleKind = computeStatsBySpanKind && isComputedSpanKind(meta['span.kind']);
  if (!(topLevel || metrics['_dd.measured'] === 1 || eligibleKind)) return null;
  const partial = metrics['_dd.partial_version'];
  if (partial !== undefined && partial >= 0) return null;
  return {
    service: s.service,
    resource: s.resource,
    name: s.name,
    type: s.type,
    error: s.error,
    parentId: s.parentId,
    start: s.start,
    duration: s.duration,
    spanKind: meta['span.kind'] ?? '',
    statusCode: statusCode(meta, metrics),
    isTopLevel: topLevel,
    peerTags: matchingPeerTags(meta, peerTagKeys),
    grpcStatusCode: grpcStatusCode(meta, metrics),
    serviceSource: meta[SERVICE_SOURCE_KEY] ?? '',
    // The agent's own spans carry no HTTP method and endpoint in the key (tracers' stats do).
    httpMethod: '',
    httpEndpoint: '',
  };
}

/** The payload part of the aggregation key (`PayloadAggregationKey`). */
export interface PayloadKey {
  readonly env: string;
  readonly hostname: string;
  readonly version: string;
  readonly containerId: string;
  readonly gitCommitSha: string;
  readonly imageTag: string;
  readonly lang: string;
  readonly processTagsHash: bigint;
}

/** The bucket part of the aggregation key (`BucketsAggregationKey`), with what the grouped stat reports. */
export interface BucketKey {
  readonly service: string;
  readonly name: string;
  readonly resource: string;
  readonly type: string;
  readonly spanKind: string;
  readonly statusCode: number;
  readonly synthetics: boolean;
  readonly peerTagsHash: bigint;
  readonly serviceSource: string;
  readonly isTraceRoot: Trilean;
  readonly grpcStatusCode: string;
  readonly httpMethod: string;
  readonly httpEndpoint: string;
}

/** `NewAggregationFromSpan`: the bucket key of a stat span in a chunk of this origin. */
export function bucketKeyOf(s: StatSpan, origin: string): BucketKey {
  return {
    service: s.service,
    name: s.name,
    resource: s.resource,
    type: s.type,
    spanKind: s.spanKind,
    statusCode: s.statusCode,
    synthetics: origin.startsWith('synthetics'),
    peerTagsHash: tagsFnvHash(s.peerTags),
    serviceSource: s.serviceSource,
    isTraceRoot: s.parentId === 0n ? Trilean.TRUE : Trilean.FALSE,
    grpcStatusCode: s.grpcStatusCode,
    httpMethod: s.httpMethod,
    httpEndpoint: s.httpEndpoint,
  };
}

/** A string that identifies a key: its fields joined by a separator no string field can forge ambiguously. */
export function encodeKey(fields: readonly (string | number | bigint | boolean)[]): string {
  return JSON.stringify(fields.map((f) => (typeof f === 'bigint' ? f.toString() : f)));
}
