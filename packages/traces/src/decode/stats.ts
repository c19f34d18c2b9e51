/**
 * `/v0.6/stats`: the tracer's `ClientStatsPayload` (msgpack, keys are the Go field names; see
 * `pkg/proto/pbgo/trace/stats_gen.go` and `shared/spec/traces.md` c.4), into plain objects.
 *
 * Leniency as for trace payloads (`reader.ts`): strings may be str, bin or nil; integers any
 * msgpack integer in range; unknown keys are skipped; nil buckets and nil groups are dropped.
 */
import type { CounterSet } from '@kennel/core';
import type { TraceDecodeErrorReason, TraceDecodeFailure } from './errors.js';
import { caught } from './msgpack.js';
import {
  begin,
  finish,
  keyString,
  peekNil,
  readArrayHeader,
  readBin,
  readBool,
  readI32,
  readI64,
  readKey,
  readMapHeader,
  readStr,
  readU32,
  readU64Strict,
  setContext,
  skipNil,
  skipValue,
} from './reader.js';

/** `ClientGroupedStats`: one aggregation group of a stats bucket. */
export interface ClientGroupedStats {
  service: string;
  name: string;
  resource: string;
  httpStatusCode: number;
  type: string;
  dbType: string;
  hits: bigint;
  errors: bigint;
  /** Total duration in nanoseconds. */
  duration: bigint;
  /** DDSketch of ok latencies, protobuf-encoded. */
  okSummary: Uint8Array;
  /** DDSketch of error latencies, protobuf-encoded. */
  errorSummary: Uint8Array;
  synthetics: boolean;
  topLevelHits: bigint;
  spanKind: string;
  peerTags: string[];
  /** Trilean: 0 not set, 1 true, 2 false. */
  isTraceRoot: number;
  grpcStatusCode: string;
  httpMethod: string;
  httpEndpoint: string;
  /** `srv_src` on the wire. */
  serviceSource: string;
  spanDerivedPrimaryTags: string[];
}

/** `ClientStatsBucket`: a time bucket of grouped stats. */
export interface ClientStatsBucket {
  /** Bucket start, nanoseconds since the Unix epoch. */
  start: bigint;
  /** Bucket length in nanoseconds. */
  duration: bigint;
  stats: ClientGroupedStats[];
  agentTimeShift: bigint;
}

/** `ClientStatsPayload`: what a tracer sends to `/v0.6/stats`. */
export interface ClientStatsPayload {
  hostname: string;
  env: string;
  version: string;
  stats: ClientStatsBucket[];
  lang: string;
  tracerVersion: string;
  runtimeId: string;
  sequence: bigint;
  agentAggregation: string;
  service: string;
  containerId: string;
  tags: string[];
  gitCommitSha: string;
  imageTag: string;
  processTagsHash: bigint;
  processTags: string;
}

/** A decoded stats payload, or why it could not be decoded. */
export type ClientStatsDecodeResult = { readonly ok: true; readonly payload: ClientStatsPayload } | TraceDecodeFailure;

/**
 * Decodes a `/v0.6/stats` body. Never throws: a malformed body returns a failure with a reason
 * and bumps the reason's counter (`counters`, default the package-wide `traceDecodeErrors`).
 */
export function decodeClientStats(body: Uint8Array, options: { readonly counters?: CounterSet<TraceDecodeErrorReason> | undefined } = {}): ClientStatsDecodeResult {
  begin(body);
  try {
    return { ok: true, payload: readPayload() };
  } catch (e) {
    return caught(e, options.counters);
  } finally {
    finish();
  }
}

function readStrings(what: string): string[] {
  const n = readArrayHeader(what, true);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(readStr(what));
  return out;
}

function readPayload(): ClientStatsPayload {
  const p: ClientStatsPayload = {
    hostname: '',
    env: '',
    version: '',
    stats: [],
    lang: '',
    tracerVersion: '',
    runtimeId: '',
    sequence: 0n,
    agentAggregation: '',
    service: '',
    containerId: '',
    tags: [],
    gitCommitSha: '',
    imageTag: '',
    processTagsHash: 0n,
    processTags: '',
  };
  const n = readMapHeader('stats payload', false);
  for (let i = 0; i < n; i++) {
    readKey('stats payload key');
    switch (keyString()) {
      case 'Hostname':
        p.hostname = readStr('Hostname');
        break;
      case 'Env':
        p.env = readStr('Env');
        break;
      case 'Version':
        p.version = readStr('Version');
        break;
      case 'Stats': {
        const m = readArrayHeader('Stats', true);
        for (let j = 0; j < m; j++) {
          setContext(j, -1);
          if (peekNil()) skipNil();
          else p.stats.push(readBucket());
        }
        setContext(-1, -1);
        break;
      }
      case 'Lang':
        p.lang = readStr('Lang');
        break;
      case 'TracerVersion':
        p.tracerVersion = readStr('TracerVersion');
        break;
      case 'RuntimeID':
        p.runtimeId = readStr('RuntimeID');
        break;
      case 'Sequence':
        p.sequence = readU64Strict('Sequence');
        break;
      case 'AgentAggregation':
        p.agentAggregation = readStr('AgentAggregation');
        break;
      case 'Service':
        p.service = readStr('Service');
        break;
      case 'ContainerID':
        p.containerId = readStr('ContainerID');
        break;
      case 'Tags':
        p.tags = readStrings('Tags');
        break;
      case 'GitCommitSha':
        p.gitCommitSha = readStr('GitCommitSha');
        break;
      case 'ImageTag':
        p.imageTag = readStr('ImageTag');
        break;
      case 'ProcessTagsHash':
        p.processTagsHash = readU64Strict('ProcessTagsHash');
        break;
      case 'ProcessTags':
        p.processTags = readStr('ProcessTags');
        break;
      default:
        skipValue('stats payload');
    }
  }
  return p;
}

function readBucket(): ClientStatsBucket {
  const bucket: ClientStatsBucket = { start: 0n, duration: 0n, stats: [], agentTimeShift: 0n };
  const n = readMapHeader('stats bucket', false);
  for (let i = 0; i < n; i++) {
    readKey('stats bucket key');
    switch (keyString()) {
      case 'Start':
        bucket.start = readU64Strict('Start');
        break;
      case 'Duration':
        bucket.duration = readU64Strict('Duration');
        break;
      case 'Stats': {
        const m = readArrayHeader('bucket Stats', true);
        for (let j = 0; j < m; j++) {
          if (peekNil()) skipNil();
          else bucket.stats.push(readGroup());
        }
        break;
      }
      case 'AgentTimeShift':
        bucket.agentTimeShift = readI64('AgentTimeShift');
        break;
      default:
        skipValue('stats bucket');
    }
  }
  return bucket;
}

function readGroup(): ClientGroupedStats {
  const g: ClientGroupedStats = {
    service: '',
    name: '',
    resource: '',
    httpStatusCode: 0,
    type: '',
    dbType: '',
    hits: 0n,
    errors: 0n,
    duration: 0n,
    okSummary: new Uint8Array(0),
    errorSummary: new Uint8Array(0),
    synthetics: false,
    topLevelHits: 0n,
    spanKind: '',
    peerTags: [],
    isTraceRoot: 0,
    grpcStatusCode: '',
    httpMethod: '',
    httpEndpoint: '',
    serviceSource: '',
    spanDerivedPrimaryTags: [],
  };
  const n = readMapHeader('grouped stats', false);
  for (let i = 0; i < n; i++) {
    readKey('grouped stats key');
    switch (keyString()) {
      case 'Service':
        g.service = readStr('Service');
        break;
      case 'Name':
        g.name = readStr('Name');
        break;
      case 'Resource':
        g.resource = readStr('Resource');
        break;
      case 'HTTPStatusCode':
        g.httpStatusCode = readU32('HTTPStatusCode');
        break;
      case 'Type':
        g.type = readStr('Type');
        break;
      case 'DBType':
        g.dbType = readStr('DBType');
        break;
      case 'Hits':
        g.hits = readU64Strict('Hits');
        break;
      case 'Errors':
        g.errors = readU64Strict('Errors');
        break;
      case 'Duration':
        g.duration = readU64Strict('Duration');
        break;
      case 'OkSummary':
        g.okSummary = readBin('OkSummary');
        break;
      case 'ErrorSummary':
        g.errorSummary = readBin('ErrorSummary');
        break;
      case 'Synthetics':
        g.synthetics = readBool('Synthetics');
        break;
      case 'TopLevelHits':
        g.topLevelHits = readU64Strict('TopLevelHits');
        break;
      case 'SpanKind':
        g.spanKind = readStr('SpanKind');
        break;
      case 'PeerTags':
        g.peerTags = readStrings('PeerTags');
        break;
      case 'IsTraceRoot':
        g.isTraceRoot = readI32('IsTraceRoot');
        break;
      case 'GRPCStatusCode':
        g.grpcStatusCode = readStr('GRPCStatusCode');
        break;
      case 'HTTPMethod':
        g.httpMethod = readStr('HTTPMethod');
        break;
      case 'HTTPEndpoint':
        g.httpEndpoint = readStr('HTTPEndpoint');
        break;
      case 'srv_src':
        g.serviceSource = readStr('srv_src');
        break;
      case 'SpanDerivedPrimaryTags':
        g.spanDerivedPrimaryTags = readStrings('SpanDerivedPrimaryTags');
        break;
      default:
        skipValue('grouped stats');
    }
  }
  return g;
}
