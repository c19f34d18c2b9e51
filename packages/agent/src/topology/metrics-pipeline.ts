import { hostname as osHostname } from 'node:os';
import { CounterSet } from '@kennel/core';
import type { MetricEvent, Series, ServiceCheck } from '@kennel/core';
import { Aggregator } from '@kennel/aggregator';
import type { AggregatorFlushStream } from '@kennel/aggregator';
import { DogStatsDCodec } from '@kennel/dogstatsd';
import type { DecodedEvent, DecodedServiceCheck, DogStatsDVisitor, MetricView } from '@kennel/dogstatsd';
import {
  EventEncoder,
  SeriesV1Encoder,
  SeriesV2Encoder,
  ServiceCheckEncoder,
  SketchEncoder,
  encodeAll,
  loadCompression,
  resolveSerializerConfig,
} from '@kennel/forwarder';
import type { Compression, IntakeEncoder, IntakePayload, SerializerConfig } from '@kennel/forwarder';
import type { Config } from '../config/load.js';

/** Where encoded payloads go: the HTTP forwarder, or the local intake in local mode. */
export interface PayloadSink {
  send(payload: IntakePayload): void;
}

/** The agent's aggregator counters for events and service checks, plus kennel's drops. */
const PIPELINE_COUNTERS = [
  'Event',
  'ServiceCheck',
  'EventsFlushed',
  'ServiceChecksFlushed',
  'EventsDropped',
  'ServiceChecksDropped',
  'PayloadsEncoded',
  'EncoderItemsDropped',
  'SourcePauses',
] as const;
type PipelineCounterName = (typeof PIPELINE_COUNTERS)[number];

/** The agent's flush interval (`DefaultFlushInterval`). */
const FLUSH_INTERVAL_MS = 15_000;

/** Most events (and, separately, service checks) held between flushes; more are dropped and counted. */
const MAX_PENDING_CHECKS = 10_000;

export type Transport = 'udp' | 'uds';

/** The host the agent reports: `hostname`, else the OS host name. */
export function agentHostname(c: Config): string {
  return c.string('hostname') || osHostname();
}

/**
 * The tags the agent adds to every DogStatsD metric, event and service check: `dogstatsd_tags`,
 * and the static `tags` / `extra_tags`, which the agent adds to every metric where it runs
 * without host metadata (its sidecar case, `GetStaticTagsSlice`).
 */
export function extraTags(c: Config): string[] {
  return [...c.list('dogstatsd_tags'), ...c.list('tags'), ...c.list('extra_tags')];
}

/**
 * DogStatsD end to end, minus the sockets: packets in (`onPacket`), aggregated series, sketches,
 * events and service checks out to a {@link PayloadSink} at every flush.
 */
export class MetricsPipeline implements DogStatsDVisitor {
  readonly codec: DogStatsDCodec;
  readonly aggregator: Aggregator;
  readonly counters = new CounterSet<PipelineCounterName>('pipeline', PIPELINE_COUNTERS);
  readonly hostname: string;
  private readonly sink: PayloadSink;
  private readonly eol: Record<Transport, boolean>;
  private readonly extra: readonly string[];
  private readonly serializer: SerializerConfig;
  private readonly useV2: boolean;
  private readonly log: (line: string) => void;
  private compression: Compression | null = null;
  private events: MetricEvent[] = [];
  private checks: ServiceCheck[] = [];
  private lastErrorLog = 0;
  private errorsSinceLog = 0;
  private lastFlush: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(c: Config, sink: PayloadSink, log: (line: string) => void, threads = true) {
    this.sink = sink;
    this.log = log;
    this.hostname = agentHostname(c);
    this.extra = extraTags(c);
    this.codec = new DogStatsDCodec({
      noAggregationPipeline: c.bool('dogstatsd_no_aggregation_pipeline'),
      originDetectionClient: c.bool('dogstatsd_origin_detection_client'),
    });
    const eol = c.list('dogstatsd_eol_required');
    this.eol = { udp: eol.includes('udp'), uds: eol.includes('uds') };
    this.aggregator = new Aggregator({
      threads,
      shards: c.int('dogstatsd_pipeline_count'),
      expirySeconds: c.int('dogstatsd_expiry_seconds'),
      contextExpirySeconds: c.int('dogstatsd_context_expiry_seconds'),
      histogramAggregates: c.list('histogram_aggregates'),
      histogramPercentiles: c.list('histogram_percentiles'),
      contextLimit: c.int('dogstatsd_context_limit'),
      defaultHost: this.hostname,
      extraTags: this.extra,
      internerSize: c.int('dogstatsd_string_interner_size'),
      // The agent's queue holds dogstatsd_queue_size batches of dogstatsd_packet_buffer_size
      // packets; kennel's batches hold 8192 samples, so the same bound in samples (at ~16 lines
      // a packet) is this many batches.
      maxQueuedBatches: Math.max(4, Math.ceil((c.int('dogstatsd_queue_size') * c.int('dogstatsd_packet_buffer_size') * 16) / 8192)),
    });
    this.serializer = resolveSerializerConfig({
      compressorKind: c.string('serializer_compressor_kind'),
      zstdCompressorLevel: c.int('serializer_zstd_compressor_level'),
      maxPayloadSize: c.int('serializer_max_payload_size'),
      maxUncompressedPayloadSize: c.int('serializer_max_uncompressed_payload_size'),
      maxSeriesPayloadSize: c.int('serializer_max_series_payload_size'),
      maxSeriesUncompressedPayloadSize: c.int('serializer_max_series_uncompressed_payload_size'),
      maxSeriesPointsPerPayload: c.int('serializer_max_series_points_per_payload'),
      hostname: this.hostname,
    });
    this.useV2 = c.bool('use_v2_api.series');
  }

  /** Loads the compressor (zstd, with a deflate fallback) and starts the 15 s flush. */
  async start(): Promise<void> {
    this.compression = await loadCompression(this.serializer, { warn: (m) => this.log(`kennel: ${m}`) });
    // The aggregator's own timer only dispatches partial batches (100 ms); the pipeline drives the
    // 15 s flush itself, so that health sees a flush that does not come back.
    this.aggregator.start(() => {}, 0, 100);
    this.flushTimer = setInterval(() => {
      this.flushClosed().catch((e: unknown) => this.log(`kennel: aggregator flush failed: ${e instanceof Error ? e.message : String(e)}`));
    }, FLUSH_INTERVAL_MS);
    this.flushTimer.unref();
  }

  /** Called after every flush has been handed to the sink (health check-in). */
  onFlushed: () => void = () => {};

  /** Flushes started, and flushes handed to the sink: what health's progress check reads. */
  readonly flushes = { started: 0, completed: 0 };

  /**
   * Flushes the closed buckets (what the 15 s timer and `POST /agent/flush` do) and hands the
   * payloads to the sink. Flushes run one at a time, in call order. Resolves with the number of
   * series and sketches flushed.
   */
  flushClosed(now = Date.now() / 1000): Promise<{ series: number; sketches: number }> {
    this.flushes.started++;
    const run = this.lastFlush.then(async () => {
      const f = await this.aggregator.flushStream(now);
      await this.emit(f);
      return { series: f.seriesCount, sketches: f.sketches.length };
    });
    this.lastFlush = run.then(
      () => undefined,
      () => undefined,
    );
    return run.finally(() => {
      this.flushes.completed++;
    });
  }

  /** A batch of datagrams from a source: datagram i is `buf[spans[2i], +spans[2i+1])`. */
  onBatch(buf: Uint8Array, count: number, spans: Uint32Array, transport: Transport): void {
    this.aggregator.now = Date.now() / 1000;
    const eol = this.eol[transport];
    for (let i = 0; i < count; i++) {
      const s = spans[2 * i]!;
      this.codec.decode(buf, s, s + spans[2 * i + 1]!, this, eol);
    }
    const bp = this.backpressure;
    if (bp !== null && !bp.paused && this.aggregator.maxShardBacklog() >= bp.high) {
      bp.paused = true;
      this.counters.add('SourcePauses');
      bp.sources.pause();
    }
  }

  private backpressure: { sources: { pause(): void; resume(): void }; high: number; low: number; paused: boolean } | null = null;

  /**
   * Back-pressure on the sources, as the agent's listeners block on a full packet channel: when a
   * shard's queue is half full, the sources stop taking datagrams (the reader threads fill their
   * rings, then the kernel's buffers: a Unix socket's senders wait, UDP drops there) until every
   * shard is back under a quarter. The queue's bound (`QueueDrops`) is then reached only by
   * what one slab holds past the half, so samples read are aggregated rather than dropped.
   */
  attachSources(sources: { pause(): void; resume(): void }): void {
    const max = this.aggregator.config.maxQueuedBatches;
    const bp = { sources, high: Math.max(1, Math.floor(max / 2)), low: Math.floor(max / 4), paused: false };
    this.backpressure = bp;
    this.aggregator.onBatchApplied = () => {
      if (bp.paused && this.aggregator.maxShardBacklog() <= bp.low) {
        bp.paused = false;
        bp.sources.resume();
      }
    };
  }

  /** One datagram from a source. */
  onPacket(buf: Uint8Array, start: number, end: number, transport: Transport): void {
    this.aggregator.now = Date.now() / 1000;
    this.codec.decode(buf, start, end, this, this.eol[transport]);
  }

  onMetric(view: MetricView): void {
    this.aggregator.addMetric(view);
  }

  onEvent(e: DecodedEvent): void {
    this.counters.add('Event');
    if (this.events.length >= MAX_PENDING_CHECKS) {
      this.counters.add('EventsDropped');
      return;
    }
    const { host, tags } = this.enrichTags(e.tags);
    this.events.push({
      title: e.title,
      text: e.text,
      timestamp: e.timestamp,
      host: e.hostname !== '' ? e.hostname : host,
      aggregationKey: e.aggregationKey,
      priority: e.priority,
      sourceTypeName: e.sourceType,
      alertType: e.alertType,
      tags,
    });
  }

  onServiceCheck(sc: DecodedServiceCheck): void {
    this.counters.add('ServiceCheck');
    if (this.checks.length >= MAX_PENDING_CHECKS) {
      this.counters.add('ServiceChecksDropped');
      return;
    }
    const { host, tags } = this.enrichTags(sc.tags);
    this.checks.push({
      name: sc.name,
      host: sc.hostname !== '' ? sc.hostname : host,
      timestamp: sc.timestamp,
      status: sc.status,
      message: sc.message,
      tags,
    });
  }

  onError(code: number, buf: Uint8Array, s: number, e: number): void {
    // A clear line, at most one every 10 s, with how many were dropped since.
    this.errorsSinceLog++;
    const now = Date.now();
    if (now - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = now;
    const n = this.errorsSinceLog;
    this.errorsSinceLog = 0;
    const sample = new TextDecoder().decode(buf.subarray(s, Math.min(e, s + 120)));
    this.log(`kennel: dropped ${n} malformed DogStatsD message${n === 1 ? '' : 's'} (see kennel status); last: reason ${code}, ${JSON.stringify(sample)}`);
  }

  /** The `host:` tag (last wins) becomes the host and leaves the tags (`enrich.go`); extra tags appended. */
  private enrichTags(raw: readonly string[]): { host: string; tags: string[] } {
    let host = this.hostname;
    const tags: string[] = [];
    for (const t of raw) {
      if (t.startsWith('host:')) host = t.slice(5);
      else if (!t.startsWith('dd.internal.entity_id:') && !t.startsWith('dd.internal.card:')) tags.push(t);
    }
    for (const t of this.extra) tags.push(t);
    return { host, tags };
  }

  /** Flushes now (for tests and tools); `final` flushes the open bucket too. */
  async flush(now = Date.now() / 1000, final = false): Promise<void> {
    const f = await this.aggregator.flushStream(now, final);
    await this.lastFlush;
    await this.emit(f);
  }

  private async emit(f: AggregatorFlushStream): Promise<void> {
    const compression = this.compression;
    if (compression === null) return;
    const payloads: IntakePayload[] = [];
    const seriesEnc: IntakeEncoder<Series> = this.useV2
      ? new SeriesV2Encoder(this.serializer, compression)
      : new SeriesV1Encoder(this.serializer, compression);
    const sketchEnc = new SketchEncoder(this.serializer, compression);
    // The series are made one at a time from the shard's flat form and dropped once encoded.
    if (f.seriesCount > 0) for (const p of encodeAll(seriesEnc, f.series)) payloads.push(p);
    if (f.sketches.length > 0) payloads.push(...encodeAll(sketchEnc, f.sketches));
    // Series and sketches no payload can hold (too big, too many points, unwritable): dropped, counted.
    for (const enc of [seriesEnc, sketchEnc] as IntakeEncoder<unknown>[]) {
      const c = enc.counters.snapshot();
      this.counters.add('EncoderItemsDropped', (c.ItemTooBig ?? 0) + (c.InvalidItem ?? 0));
    }
    const events = this.events;
    const checks = this.checks;
    this.events = [];
    this.checks = [];
    if (events.length > 0) {
      payloads.push(...encodeAll(new EventEncoder(this.serializer, compression), events));
      this.counters.add('EventsFlushed', events.length);
    }
    if (checks.length > 0) {
      payloads.push(...encodeAll(new ServiceCheckEncoder(this.serializer, compression), checks));
      this.counters.add('ServiceChecksFlushed', checks.length);
    }
    this.counters.add('PayloadsEncoded', payloads.length);
    for (const p of payloads) this.sink.send(p);
    this.onFlushed();
  }

  /** Stops: flushes every bucket, the open one included, and what events and checks are held. */
  async stop(): Promise<void> {
    if (this.flushTimer !== null) clearInterval(this.flushTimer);
    this.flushTimer = null;
    await this.lastFlush;
    const f = await this.aggregator.stopStream(Date.now() / 1000);
    await this.lastFlush;
    await this.emit(f);
  }

  /** `dogstatsdStats` and `aggregatorStats` with the agent's key names. */
  stats(): {
    dogstatsdStats: Record<string, number>;
    dogstatsdErrorReasons: Record<string, number>;
    aggregatorStats: Record<string, number>;
  } {
    const a = this.aggregator.stats();
    const p = this.counters.snapshot();
    return {
      dogstatsdStats: this.codec.counters.snapshot(),
      dogstatsdErrorReasons: this.codec.errorsByReason(),
      aggregatorStats: {
        // Counted as samples reach the router, so status is current between flushes.
        DogstatsdMetricSample: a.SamplesRouted,
        DogstatsdContexts: a.DogstatsdContexts,
        SeriesFlushed: a.SeriesFlushed,
        SketchesFlushed: a.SketchesFlushed,
        NumberOfFlushes: a.NumberOfFlush,
        Event: p.Event,
        EventsFlushed: p.EventsFlushed,
        ServiceCheck: p.ServiceCheck,
        ServiceChecksFlushed: p.ServiceChecksFlushed,
        ContextsCreated: a.ContextsCreated,
        ContextsExpired: a.ContextsExpired,
        ContextsDropped: a.ContextsDropped,
        NonFiniteSamplesDropped: a.NonFiniteSamplesDropped,
        QueueDrops: a.QueueDrops,
        // kennel's: times the sources were paused because a shard's queue was half full.
        SourcePauses: p.SourcePauses,
        EventsDropped: p.EventsDropped,
        EncoderItemsDropped: p.EncoderItemsDropped,
        ServiceChecksDropped: p.ServiceChecksDropped,
        NoAggregationProcessedOk: a.NoAggregationProcessedOk,
        NoAggregationProcessedUnsupportedType: a.NoAggregationProcessedUnsupportedType,
      },
    };
  }
}
