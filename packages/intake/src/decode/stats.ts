import type { ClientGroupedStats, ClientStatsBucket, ClientStatsPayload, StatsPayload, Trilean } from '@kennel/core';
import { MsgpackReader } from './msgpack-reader.js';
import { decodeError, decoded, DecodeErrorReason, type DecodeResult } from './result.js';

// Keys: the Go field names of pkg/proto/pbgo/trace/stats_gen.go (msgp), plus `srv_src`
// (shared/spec/traces.md §c.3). Unknown keys are skipped, as msgp does.

function strings(r: MsgpackReader): string[] {
  const n = r.arrayHeader();
  const out: string[] = [];
  for (let i = 0; i < n && !r.failed; i++) out.push(r.str());
  return out;
}

function groupedStats(r: MsgpackReader): ClientGroupedStats {
  const g: ClientGroupedStats = {
    service: '',
    name: '',
    resource: '',
    httpStatusCode: 0,
    type: '',
    dbType: '',
    hits: 0,
    errors: 0,
    duration: 0,
    okSummary: new Uint8Array(0),
    errorSummary: new Uint8Array(0),
    synthetics: false,
    topLevelHits: 0,
    spanKind: '',
    peerTags: [],
    isTraceRoot: 0,
    grpcStatusCode: '',
    httpMethod: '',
    httpEndpoint: '',
    serviceSource: '',
    spanDerivedPrimaryTags: [],
    additionalMetricTags: [],
  };
  const n = r.mapHeader();
  for (let i = 0; i < n && !r.failed; i++) {
    switch (r.str()) {
      case 'Service':
        g.service = r.str();
        break;
      case 'Name':
        g.name = r.str();
        break;
      case 'Resource':
        g.resource = r.str();
        break;
      case 'HTTPStatusCode':
        g.httpStatusCode = r.uint();
        break;
      case 'Type':
        g.type = r.str();
        break;
      case 'DBType':
        g.dbType = r.str();
        break;
      case 'Hits':
        g.hits = r.uint();
        break;
      case 'Errors':
        g.errors = r.uint();
        break;
      case 'Duration':
        g.duration = r.uint();
        break;
      case 'OkSummary':
        g.okSummary = r.bytes();
        break;
      case 'ErrorSummary':
        g.errorSummary = r.bytes();
        break;
      case 'Synthetics':
        g.synthetics = r.bool();
        break;
      case 'TopLevelHits':
        g.topLevelHits = r.uint();
        break;
      case 'SpanKind':
        g.spanKind = r.str();
        break;
      case 'PeerTags':
        g.peerTags = strings(r);
        break;
      case 'IsTraceRoot':
        g.isTraceRoot = r.int() as Trilean;
        break;
      case 'GRPCStatusCode':
        g.grpcStatusCode = r.str();
        break;
      case 'HTTPMethod':
        g.httpMethod = r.str();
        break;
      case 'HTTPEndpoint':
        g.httpEndpoint = r.str();
        break;
      case 'srv_src':
        g.serviceSource = r.str();
        break;
      case 'SpanDerivedPrimaryTags':
        g.spanDerivedPrimaryTags = strings(r);
        break;
      case 'AdditionalMetricTags':
        g.additionalMetricTags = strings(r);
        break;
      default:
        r.skip();
    }
  }
  return g;
}

function bucket(r: MsgpackReader): ClientStatsBucket {
  const b: ClientStatsBucket = { start: 0n, duration: 0, stats: [], agentTimeShift: 0 };
  const n = r.mapHeader();
  for (let i = 0; i < n && !r.failed; i++) {
    switch (r.str()) {
      case 'Start':
        b.start = r.u64();
        break;
      case 'Duration':
        b.duration = r.uint();
        break;
      case 'Stats': {
        const m = r.arrayHeader();
        for (let j = 0; j < m && !r.failed; j++) {
          if (r.nil()) continue;
          b.stats.push(groupedStats(r));
        }
        break;
      }
      case 'AgentTimeShift':
        b.agentTimeShift = r.int();
        break;
      default:
        r.skip();
    }
  }
  return b;
}

function clientPayload(r: MsgpackReader): ClientStatsPayload {
  const p: ClientStatsPayload = {
    hostname: '',
    env: '',
    version: '',
    stats: [],
    lang: '',
    tracerVersion: '',
    runtimeId: '',
    sequence: 0,
    agentAggregation: '',
    service: '',
    containerId: '',
    tags: [],
    gitCommitSha: '',
    imageTag: '',
    processTagsHash: 0n,
    processTags: '',
  };
  const n = r.mapHeader();
  for (let i = 0; i < n && !r.failed; i++) {
    switch (r.str()) {
      case 'Hostname':
        p.hostname = r.str();
        break;
      case 'Env':
        p.env = r.str();
        break;
      case 'Version':
        p.version = r.str();
        break;
      case 'Stats': {
        const m = r.arrayHeader();
        for (let j = 0; j < m && !r.failed; j++) {
          if (r.nil()) continue;
          p.stats.push(bucket(r));
        }
        break;
      }
      case 'Lang':
        p.lang = r.str();
        break;
      case 'TracerVersion':
        p.tracerVersion = r.str();
        break;
      case 'RuntimeID':
        p.runtimeId = r.str();
        break;
      case 'Sequence':
        p.sequence = r.uint();
        break;
      case 'AgentAggregation':
        p.agentAggregation = r.str();
        break;
      case 'Service':
        p.service = r.str();
        break;
      case 'ContainerID':
        p.containerId = r.str();
        break;
      case 'Tags':
        p.tags = strings(r);
        break;
      case 'GitCommitSha':
        p.gitCommitSha = r.str();
        break;
      case 'ImageTag':
        p.imageTag = r.str();
        break;
      case 'ProcessTagsHash':
        p.processTagsHash = r.u64();
        break;
      case 'ProcessTags':
        p.processTags = r.str();
        break;
      default:
        r.skip();
    }
  }
  return p;
}

/**
 * Decodes an uncompressed `/api/v0.2/stats` body (msgpack `StatsPayload`) into the shared
 * stats types. Summaries stay protobuf `DDSketch` bytes. Never throws; trailing bytes after the
 * payload are an error.
 */
export function decodeStatsPayload(body: Uint8Array): DecodeResult<StatsPayload> {
  const r = new MsgpackReader(body);
  const p: StatsPayload = { agentHostname: '', agentEnv: '', stats: [], agentVersion: '', clientComputed: false, splitPayload: false };
  const n = r.mapHeader();
  for (let i = 0; i < n && !r.failed; i++) {
    switch (r.str()) {
      case 'AgentHostname':
        p.agentHostname = r.str();
        break;
      case 'AgentEnv':
        p.agentEnv = r.str();
        break;
      case 'Stats': {
        const m = r.arrayHeader();
        for (let j = 0; j < m && !r.failed; j++) {
          if (r.nil()) continue;
          p.stats.push(clientPayload(r));
        }
        break;
      }
      case 'AgentVersion':
        p.agentVersion = r.str();
        break;
      case 'ClientComputed':
        p.clientComputed = r.bool();
        break;
      case 'SplitPayload':
        p.splitPayload = r.bool();
        break;
      default:
        r.skip();
    }
  }
  if (!r.failed && !r.atEnd) r.fail(DecodeErrorReason.INVALID_SHAPE, 'bytes after the stats payload');
  return r.failed ? decodeError(r.reason ?? DecodeErrorReason.TRUNCATED, r.message) : decoded(p);
}
