import { CounterSet, ErrorCode, KennelError } from '@kennel/core';
import type { ClientGroupedStats, ClientStatsBucket, ClientStatsPayload, StatsPayload } from '@kennel/core';
import type { ProcessedTrace } from '../process/processor.js';
import { DEFAULT_PEER_TAGS, bucketKeyOf, encodeKey, toStatSpan, tagsFnvHash, type BucketKey, type PayloadKey, type StatSpan } from './aggregation.js';
import { DDSketch } from './ddsketch.js';

/**
 * The APM stats concentrator: spans grouped into 10 s buckets by their end time and into
 * aggregation keys, flushed as a `StatsPayload` once a bucket is old enough.
 *
 * @remarks
 * Restated from `DataDog/datadog-agent` `pkg/trace/stats/concentrator.go` (`addNow`: host and env
 * fall back to the agent's, the weight is the root's `1 / _sample_rate`; `Flush`;
 * `defaultBufferLen = 2`), `span_concentrator.go` (bucket `= max(end - end % 10 s, oldestTs)`,
 * buckets newer than `now - bufferLen x 10 s` kept unless forced, `oldestTs` moved to
 * `align(now) - (bufferLen - 1) x 10 s` after each flush), `statsraw.go` (hits, errors, duration
 * and top-level hits as float sums of the weight, stochastically rounded on export; durations
 * with their mantissa cut to 10 bits go to the error or ok DDSketch) and `weight.go`;
 * Apache-2.0.
 */

/** `BucketInterval`: 10 s. */
export const BUCKET_INTERVAL_NS = 10_000_000_000n;
/** `defaultBufferLen`: buckets kept open before they are flushed. */
export const DEFAULT_BUFFER_LEN = 2;

export const CONCENTRATOR_COUNTERS = ['SpansSeen', 'SpansAggregated', 'SpansIgnored', 'SketchRejects', 'BucketsFlushed', 'GroupsFlushed'] as const;
export type ConcentratorCounterName = (typeof CONCENTRATOR_COUNTERS)[number];

export interface ConcentratorOptions {
  /** `apm_config.bucket_size_seconds`, in nanoseconds. @defaultValue `10_000_000_000n` */
  readonly bucketIntervalNs?: bigint;
  /** `apm_config.compute_stats_by_span_kind`. @defaultValue `true` */
  readonly computeStatsBySpanKind?: boolean;
  /** `apm_config.peer_tags_aggregation`. @defaultValue `true` */
  readonly peerTagsAggregation?: boolean;
  /** `apm_config.peer_tags`: keys added to {@link DEFAULT_PEER_TAGS}. @defaultValue `[]` */
  readonly peerTags?: readonly string[];
  /** The agent's env (`default_env`). @defaultValue `'none'` */
  readonly agentEnv?: string;
  /** The agent's host name. @defaultValue `''` */
  readonly agentHostname?: string;
  /** The agent version written in every payload. @defaultValue `''` */
  readonly agentVersion?: string;
  /** `features: disable_cid_stats` turned around: keep the container id as a dimension. @defaultValue `true` */
  readonly containerIdStats?: boolean;
  /** The uniform random source for stochastic rounding. @defaultValue `Math.random` */
  readonly random?: () => number;
}

/** The payload-level inputs of a batch of traces (`stats.Input`). */
export interface StatsInputInfo {
  readonly containerId?: string;
  readonly containerTags?: readonly string[];
  /** The `_dd.tags.process` tags, comma separated. */
  readonly processTags?: string;
}

interface Group {
  readonly key: BucketKey;
  hits: number;
  topLevelHits: number;
  errors: number;
  duration: number;
  readonly ok: DDSketch;
  readonly err: DDSketch;
  readonly peerTags: string[];
}

interface RawBucket {
  readonly start: bigint;
  /** Payload key string → (bucket key string → group). */
  readonly byPayload: Map<string, { readonly key: PayloadKey; readonly groups: Map<string, Group> }>;
  readonly containerTags: Map<string, readonly string[]>;
  readonly processTags: Map<bigint, string>;
}

/** `nsTimestampToFloat`: the duration as a double with its mantissa cut to 10 bits. */
export function truncateDuration(ns: number): number {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, ns);
  b.setUint32(0, b.getUint32(0) & 0xfffff800);
  b.setUint32(4, 0);
  return b.getFloat64(0);
}

/** `weight`: 1 / `_sample_rate` of the root when that is in (0, 1], else 1. */
export function spanWeight(metrics: Readonly<Record<string, number>> | undefined): number {
  const r = metrics?.['_sample_rate'];
  if (r === undefined || !(r > 0 && r <= 1)) return 1;
  return 1 / r;
}

function align(ts: bigint, size: bigint): bigint {
  // Go's % truncates toward zero, so negative timestamps align upwards as in the agent.
  return ts - (ts % size);
}

/** Splits `_dd.tags.process` (comma separated) for its hash (`processTagsHash`). */
function processTagsHash(tags: string): bigint {
  return tags === '' ? 0n : tagsFnvHash(tags.split(','));
}

/**
 * The agent's stats `Concentrator`.
 *
 * @example
 * ```ts
 * const concentrator = new Concentrator({ agentEnv: 'prod', agentHostname: 'web-1' }, nowNs);
 * concentrator.add(processor.process(payload).stats);
 * const payload = concentrator.flush(nowNs, false); // StatsPayload with the buckets older than 20 s
 * ```
 */
export class Concentrator {
  readonly counters = new CounterSet<ConcentratorCounterName>('concentrator', CONCENTRATOR_COUNTERS);
  readonly bucketInterval: bigint;
  readonly bufferLen = DEFAULT_BUFFER_LEN;
  readonly peerTagKeys: readonly string[];
  readonly computeStatsBySpanKind: boolean;
  readonly agentEnv: string;
  readonly agentHostname: string;
  readonly agentVersion: string;
  private readonly containerIdStats: boolean;
  private readonly random: () => number;
  /** The oldest bucket start stats may still go to; older spans are added to it. */
  oldestTs: bigint;
  private readonly buckets = new Map<bigint, RawBucket>();

  constructor(options: ConcentratorOptions = {}, nowNs: bigint = BigInt(Date.now()) * 1_000_000n) {
    const size = options.bucketIntervalNs ?? BUCKET_INTERVAL_NS;
    if (typeof size !== 'bigint' || size <= 0n) {
      throw new KennelError(ErrorCode.CONFIG_INVALID, `apm_config.bucket_size_seconds (bucketIntervalNs): expected a positive bigint of nanoseconds, got ${String(size)}`);
    }
    this.bucketInterval = size;
    this.computeStatsBySpanKind = options.computeStatsBySpanKind ?? true;
    this.peerTagKeys =
      options.peerTagsAggregation === false ? [] : Object.freeze([...new Set([...DEFAULT_PEER_TAGS, ...(options.peerTags ?? [])])].sort());
    this.agentEnv = options.agentEnv ?? 'none';
    this.agentHostname = options.agentHostname ?? '';
    this.agentVersion = options.agentVersion ?? '';
    this.containerIdStats = options.containerIdStats ?? true;
    this.random = options.random ?? Math.random;
    this.oldestTs = align(nowNs, size);
  }

  /** Adds the stat-eligible spans of every trace (`Concentrator.Add`). */
  add(traces: readonly ProcessedTrace[], info: StatsInputInfo = {}): void {
    const containerId = this.containerIdStats ? (info.containerId ?? '') : '';
    const processTags = info.processTags ?? '';
    const pHash = processTagsHash(processTags);
    for (const pt of traces) {
      const key: PayloadKey = {
        env: pt.tracerEnv === '' ? this.agentEnv : pt.tracerEnv,
        hostname: pt.tracerHostname === '' ? this.agentHostname : pt.tracerHostname,
        version: pt.appVersion,
        containerId: containerId !== '' ? containerId : this.containerIdStats ? pt.containerId : '',
        gitCommitSha: pt.gitCommitSha,
        imageTag: pt.imageTag,
        lang: pt.lang,
        processTagsHash: pHash,
      };
      const weight = spanWeight(pt.root.metrics);
      for (const span of pt.chunk.spans) {
        this.counters.add('SpansSeen');
        const ss = toStatSpan(span, this.peerTagKeys, this.computeStatsBySpanKind);
        if (ss === null) {
          this.counters.add('SpansIgnored');
          continue;
        }
        this.addSpan(ss, key, pt.chunk.origin, weight, key.containerId, info.containerTags, pHash, processTags);
      }
    }
  }

  /** Adds one stat span to its bucket (`SpanConcentrator.addSpan`). */
  addSpan(
    s: StatSpan,
    key: PayloadKey,
    origin: string,
    weight: number,
    containerId = '',
    containerTags: readonly string[] | undefined = undefined,
    pHash = 0n,
    processTags = '',
  ): void {
    const end = s.start + BigInt(Math.trunc(s.duration));
    let btime = align(end, this.bucketInterval);
    if (btime < this.oldestTs) btime = this.oldestTs;
    let b = this.buckets.get(btime);
    if (b === undefined) {
      b = { start: btime, byPayload: new Map(), containerTags: new Map(), processTags: new Map() };
      this.buckets.set(btime, b);
    }
    if (pHash !== 0n && processTags !== '') b.processTags.set(pHash, processTags);
    if (containerId !== '' && containerTags !== undefined && containerTags.length > 0) b.containerTags.set(containerId, containerTags);
    const pk = encodeKey([key.env, key.hostname, key.version, key.containerId, key.gitCommitSha, key.imageTag, key.lang, key.processTagsHash]);
    let p = b.byPayload.get(pk);
    if (p === undefined) {
      p = { key, groups: new Map() };
      b.byPayload.set(pk, p);
    }
    const bk = bucketKeyOf(s, origin);
    const gk = encodeKey([
      bk.service,
      bk.name,
      bk.resource,
      bk.type,
      bk.spanKind,
      bk.statusCode,
      bk.synthetics,
      bk.peerTagsHash,
      bk.serviceSource,
      bk.isTraceRoot,
      bk.grpcStatusCode,
      bk.httpMethod,
      bk.httpEndpoint,
    ]);
    let g = p.groups.get(gk);
    if (g === undefined) {
      g = { key: bk, hits: 0, topLevelHits: 0, errors: 0, duration: 0, ok: new DDSketch(), err: new DDSketch(), peerTags: s.peerTags };
      p.groups.set(gk, g);
    }
    if (s.isTopLevel) g.topLevelHits += weight;
    g.hits += weight;
    if (s.error !== 0) g.errors += weight;
    g.duration += s.duration * weight;
    if (!(s.error !== 0 ? g.err : g.ok).add(truncateDuration(s.duration))) this.counters.add('SketchRejects');
    this.counters.add('SpansAggregated');
  }

  /**
   * Removes and returns the buckets old enough (all of them with `force`, as on shutdown) as one
   * `StatsPayload` with a `ClientStatsPayload` per payload key. `nowNs` is the flush time.
   */
  flush(nowNs: bigint, force = false): StatsPayload {
    const size = this.bucketInterval;
    const byPayload = new Map<string, { key: PayloadKey; buckets: ClientStatsBucket[]; tags: readonly string[] | undefined; processTags: string }>();
    const starts = [...this.buckets.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const ts of starts) {
      if (!force && ts > nowNs - BigInt(this.bufferLen) * size) continue;
      const b = this.buckets.get(ts)!;
      this.buckets.delete(ts);
      this.counters.add('BucketsFlushed');
      for (const [pk, p] of b.byPayload) {
        const stats: ClientGroupedStats[] = [];
        for (const g of p.groups.values()) stats.push(this.export(g));
        this.counters.add('GroupsFlushed', stats.length);
        let out = byPayload.get(pk);
        if (out === undefined) {
          out = { key: p.key, buckets: [], tags: undefined, processTags: '' };
          byPayload.set(pk, out);
        }
        out.buckets.push({ start: b.start, duration: Number(size), stats, agentTimeShift: 0 });
        const ct = b.containerTags.get(p.key.containerId);
        if (ct !== undefined) out.tags = ct;
        const pt = b.processTags.get(p.key.processTagsHash);
        if (pt !== undefined) out.processTags = pt;
      }
    }
    const newOldest = align(nowNs, size) - BigInt(this.bufferLen - 1) * size;
    if (newOldest > this.oldestTs) this.oldestTs = newOldest;
    const stats: ClientStatsPayload[] = [];
    for (const { key, buckets, tags, processTags } of byPayload.values()) {
      stats.push({
        hostname: key.hostname,
        env: key.env,
        version: key.version,
        stats: buckets,
        lang: key.lang,
        tracerVersion: '',
        runtimeId: '',
        sequence: 0,
        agentAggregation: '',
        service: '',
        containerId: key.containerId,
        tags: tags !== undefined ? [...tags] : [],
        gitCommitSha: key.gitCommitSha,
        imageTag: key.imageTag,
        processTagsHash: key.processTagsHash,
        processTags,
      });
    }
    return {
      agentHostname: this.agentHostname,
      agentEnv: this.agentEnv,
      stats,
      agentVersion: this.agentVersion,
      clientComputed: false,
      splitPayload: false,
    };
  }

  /** Open buckets, by start. */
  get openBuckets(): bigint[] {
    return [...this.buckets.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** `round`: down or up, up with probability equal to the fraction. */
  private round(f: number): number {
    const i = Math.trunc(f);
    return this.random() < f - i ? i + 1 : i;
  }

  private export(g: Group): ClientGroupedStats {
    const k = g.key;
    return {
      service: k.service,
      name: k.name,
      resource: k.resource,
      httpStatusCode: k.statusCode,
      type: k.type,
      dbType: '',
      hits: this.round(g.hits),
      errors: this.round(g.errors),
      duration: this.round(g.duration),
      okSummary: g.ok.toProto(),
      errorSummary: g.err.toProto(),
      synthetics: k.synthetics,
      topLevelHits: this.round(g.topLevelHits),
      spanKind: k.spanKind,
      peerTags: g.peerTags,
      isTraceRoot: k.isTraceRoot,
      grpcStatusCode: k.grpcStatusCode,
      httpMethod: k.httpMethod,
      httpEndpoint: k.httpEndpoint,
      serviceSource: k.serviceSource,
      spanDerivedPrimaryTags: [],
      additionalMetricTags: [],
    };
  }
}
