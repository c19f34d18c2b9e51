import { CounterSet } from '@kennel/core';
import type { ClientGroupedStats, ClientStatsBucket, ClientStatsPayload, StatsPayload } from '@kennel/core';
import { gzipApmCompression, type ApmCompression } from '../compression/apm.js';
import { arrayHeader, bin, bool, int, key, mapHeader, str, uint } from '../internal/msgpack-writer.js';
import { WriteBuffer } from '../internal/write-buffer.js';
import { AGENT_VERSION } from '../transport/endpoints.js';
import {
  APM_ENCODER_COUNTERS,
  ApmContentType,
  ApmEndpoint,
  apmHeaders,
  traceAgentUserAgent,
  TRACE_AGENT_GIT_COMMIT,
  type ApmEncoderCounterName,
  type ApmPayload,
} from './apm-payload.js';
import type { EncodeResult } from './types.js';

/**
 * `maxEntriesPerPayload`: grouped stats per `/api/v0.2/stats` payload (`pkg/trace/writer/stats.go`:
 * about 375 compressed bytes each, so payloads stay near 1.5 MB).
 */
export const MAX_STATS_ENTRIES_PER_PAYLOAD = 4000;

function strings(w: WriteBuffer, a: readonly string[]): void {
  arrayHeader(w, a.length);
  for (const s of a) str(w, s);
}

/**
 * `ClientGroupedStats` as msgpack: the 16 keys of `stats_gen.go`, then `GRPCStatusCode`,
 * `HTTPMethod`, `HTTPEndpoint` and `srv_src` (as dd-trace-js sends them), then
 * `SpanDerivedPrimaryTags` and `AdditionalMetricTags` only when not empty (their key names are
 * inferred from the Go field names; an intake skips keys it does not know).
 */
export function writeGroupedStats(w: WriteBuffer, g: ClientGroupedStats): void {
  const extra = (g.spanDerivedPrimaryTags.length > 0 ? 1 : 0) + (g.additionalMetricTags.length > 0 ? 1 : 0);
  mapHeader(w, 20 + extra);
  key(w, 'Service');
  str(w, g.service);
  key(w, 'Name');
  str(w, g.name);
  key(w, 'Resource');
  str(w, g.resource);
  key(w, 'HTTPStatusCode');
  uint(w, g.httpStatusCode);
  key(w, 'Type');
  str(w, g.type);
  key(w, 'DBType');
  str(w, g.dbType);
  key(w, 'Hits');
  uint(w, g.hits);
  key(w, 'Errors');
  uint(w, g.errors);
  key(w, 'Duration');
  uint(w, g.duration);
  key(w, 'OkSummary');
  bin(w, g.okSummary);
  key(w, 'ErrorSummary');
  bin(w, g.errorSummary);
  key(w, 'Synthetics');
  bool(w, g.synthetics);
  key(w, 'TopLevelHits');
  uint(w, g.topLevelHits);
  key(w, 'SpanKind');
  str(w, g.spanKind);
  key(w, 'PeerTags');
  strings(w, g.peerTags);
  key(w, 'IsTraceRoot');
  int(w, g.isTraceRoot);
  key(w, 'GRPCStatusCode');
  str(w, g.grpcStatusCode);
  key(w, 'HTTPMethod');
  str(w, g.httpMethod);
  key(w, 'HTTPEndpoint');
  str(w, g.httpEndpoint);
  key(w, 'srv_src');
  str(w, g.serviceSource);
  if (g.spanDerivedPrimaryTags.length > 0) {
    key(w, 'SpanDerivedPrimaryTags');
    strings(w, g.spanDerivedPrimaryTags);
  }
  if (g.additionalMetricTags.length > 0) {
    key(w, 'AdditionalMetricTags');
    strings(w, g.additionalMetricTags);
  }
}

/** `ClientStatsBucket`: `Start`, `Duration`, `Stats`, `AgentTimeShift`. */
export function writeBucket(w: WriteBuffer, b: ClientStatsBucket): void {
  mapHeader(w, 4);
  key(w, 'Start');
  uint(w, b.start);
  key(w, 'Duration');
  uint(w, b.duration);
  key(w, 'Stats');
  arrayHeader(w, b.stats.length);
  for (const g of b.stats) writeGroupedStats(w, g);
  key(w, 'AgentTimeShift');
  int(w, b.agentTimeShift);
}

/** `ClientStatsPayload`, every key of `stats.proto` in field order. */
export function writeClientStatsPayload(w: WriteBuffer, p: ClientStatsPayload): void {
  mapHeader(w, 16);
  key(w, 'Hostname');
  str(w, p.hostname);
  key(w, 'Env');
  str(w, p.env);
  key(w, 'Version');
  str(w, p.version);
  key(w, 'Stats');
  arrayHeader(w, p.stats.length);
  for (const b of p.stats) writeBucket(w, b);
  key(w, 'Lang');
  str(w, p.lang);
  key(w, 'TracerVersion');
  str(w, p.tracerVersion);
  key(w, 'RuntimeID');
  str(w, p.runtimeId);
  key(w, 'Sequence');
  uint(w, p.sequence);
  key(w, 'AgentAggregation');
  str(w, p.agentAggregation);
  key(w, 'Service');
  str(w, p.service);
  key(w, 'ContainerID');
  str(w, p.containerId);
  key(w, 'Tags');
  strings(w, p.tags);
  key(w, 'GitCommitSha');
  str(w, p.gitCommitSha);
  key(w, 'ImageTag');
  str(w, p.imageTag);
  key(w, 'ProcessTagsHash');
  uint(w, p.processTagsHash);
  key(w, 'ProcessTags');
  str(w, p.processTags);
}

/** `StatsPayload`: `AgentHostname`, `AgentEnv`, `Stats`, `AgentVersion`, `ClientComputed`, `SplitPayload`. */
export function writeStatsPayload(w: WriteBuffer, p: StatsPayload): void {
  mapHeader(w, 6);
  key(w, 'AgentHostname');
  str(w, p.agentHostname);
  key(w, 'AgentEnv');
  str(w, p.agentEnv);
  key(w, 'Stats');
  arrayHeader(w, p.stats.length);
  for (const c of p.stats) writeClientStatsPayload(w, c);
  key(w, 'AgentVersion');
  str(w, p.agentVersion);
  key(w, 'ClientComputed');
  bool(w, p.clientComputed);
  key(w, 'SplitPayload');
  bool(w, p.splitPayload);
}

function entriesOf(p: ClientStatsPayload): number {
  let n = 0;
  for (const b of p.stats) n += b.stats.length;
  return n;
}

/**
 * `splitPayload`: a client payload with `max` entries or more is dealt round robin into
 * `ceil(entries / max)` payloads, one bucket per time window in each.
 */
function splitClientPayload(p: ClientStatsPayload, max: number): { payload: ClientStatsPayload; entries: number }[] {
  if (p.stats.length === 0) return [];
  const n = entriesOf(p);
  if (max <= 0 || n < max) return [{ payload: p, entries: n }];
  const count = Math.ceil(n / max);
  const parts = Array.from({ length: count }, () => ({
    payload: { ...p, stats: [] as ClientStatsBucket[] },
    entries: 0,
    windows: new Map<string, ClientStatsBucket>(),
  }));
  let i = 0;
  for (const b of p.stats) {
    const tw = `${b.start}/${b.duration}`;
    for (const g of b.stats) {
      const part = parts[i % count]!;
      let bucket = part.windows.get(tw);
      if (bucket === undefined) {
        bucket = { start: b.start, duration: b.duration, stats: [], agentTimeShift: b.agentTimeShift };
        part.windows.set(tw, bucket);
        part.payload.stats.push(bucket);
      }
      bucket.stats.push(g);
      part.entries++;
      i++;
    }
  }
  return parts.map(({ payload, entries }) => ({ payload, entries }));
}

export interface StatsEncoderOptions {
  /** The agent version in the user agent. @defaultValue `AGENT_VERSION` */
  readonly agentVersion?: string;
  /** The git commit in the user agent. @defaultValue {@link TRACE_AGENT_GIT_COMMIT} */
  readonly gitCommit?: string;
  /** Grouped stats per payload. @defaultValue {@link MAX_STATS_ENTRIES_PER_PAYLOAD} */
  readonly maxEntriesPerPayload?: number;
  /** The languages reported in `X-Datadog-Reported-Languages`. @defaultValue `() => []` */
  readonly languages?: () => readonly string[];
}

/**
 * The `/api/v0.2/stats` encoder: msgpack `StatsPayload`, gzip at BestSpeed, as the agent's stats
 * writer sends it (`pkg/trace/writer/stats.go` `buildPayloads`, `encodePayload`).
 *
 * @remarks
 * Each added `StatsPayload` (one concentrator flush) is split into payloads of at most 4000
 * grouped stats: client payloads with 4000 entries or more are dealt round robin into pieces
 * first, then pieces are grouped in order while they fit; when that makes more than one payload,
 * each is marked `SplitPayload`. Unlike the agent, split pieces keep every field of their
 * client payload. `add` never asks for a flush; `finish()` returns what was built since the last
 * call. A `StatsPayload` without grouped stats produces nothing (the agent sends nothing either).
 *
 * @example
 * ```ts
 * const encoder = new StatsEncoder();
 * encoder.add(concentrator.flush(nowNs));
 * for (const p of encoder.finish()) post(p.endpoint, p.headers, p.body);
 * ```
 */
export class StatsEncoder {
  readonly kind = 'stats' as const;
  readonly counters = new CounterSet<ApmEncoderCounterName>('stats_writer', APM_ENCODER_COUNTERS);
  readonly maxEntriesPerPayload: number;
  private readonly compression: ApmCompression;
  private readonly userAgent: string;
  private readonly languages: () => readonly string[];
  private readonly w = new WriteBuffer(64 * 1024);
  private readonly ready: ApmPayload[] = [];

  constructor(options: StatsEncoderOptions = {}, compression: ApmCompression = gzipApmCompression) {
    this.compression = compression;
    this.maxEntriesPerPayload = options.maxEntriesPerPayload ?? MAX_STATS_ENTRIES_PER_PAYLOAD;
    this.userAgent = traceAgentUserAgent(options.agentVersion ?? AGENT_VERSION, options.gitCommit ?? TRACE_AGENT_GIT_COMMIT);
    this.languages = options.languages ?? ((): readonly string[] => []);
  }

  /** Payloads built and not yet returned by `finish()`. */
  get pendingItems(): number {
    return this.ready.length;
  }

  add(sp: StatsPayload): EncodeResult {
    const max = this.maxEntriesPerPayload;
    const pieces = sp.stats.flatMap((p) => splitClientPayload(p, max));
    const groups: { stats: ClientStatsPayload[]; entries: number }[] = [];
    let current: { stats: ClientStatsPayload[]; entries: number } = { stats: [], entries: 0 };
    for (const piece of pieces) {
      if (current.entries + piece.entries > max && current.stats.length > 0) {
        groups.push(current);
        current = { stats: [], entries: 0 };
      }
      current.stats.push(piece.payload);
      current.entries += piece.entries;
    }
    if (current.entries > 0) groups.push(current);
    const split = groups.length > 1;
    if (split) this.counters.add('Splits');
    for (const g of groups) {
      this.encode({ ...sp, stats: g.stats, splitPayload: split || sp.splitPayload }, g.entries);
    }
    return 'ok';
  }

  private encode(sp: StatsPayload, entries: number): void {
    const w = this.w;
    w.pos = 0;
    writeStatsPayload(w, sp);
    const raw = w.buf.subarray(0, w.pos);
    const body = this.compression.compress(raw);
    const v = this.counters;
    v.add('ItemsEncoded', sp.stats.length);
    v.add('EntriesEncoded', entries);
    v.add('TotalPayloads');
    v.add('BytesIn', raw.length);
    v.add('BytesOut', body.length);
    this.ready.push({
      kind: 'stats',
      endpoint: ApmEndpoint.STATS,
      contentType: ApmContentType.MSGPACK,
      contentEncoding: this.compression.contentEncoding,
      headers: apmHeaders(ApmContentType.MSGPACK, this.compression.contentEncoding, [...this.languages()].sort(), this.userAgent),
      body,
      uncompressedBytes: raw.length,
      items: sp.stats.length,
      entries,
    });
  }

  finish(): ApmPayload[] {
    return this.ready.splice(0, this.ready.length);
  }
}
