import type { MetricSampleView, Series, SketchSeries } from '@kennel/core';
import { resolveAggregatorConfig } from './config.js';
import type { AggregatorOptions, ResolvedAggregatorConfig } from './config.js';
import { Router } from './router.js';
import { InlineShard, WorkerShard } from './shard/shard-handle.js';
import type { ShardHandle } from './shard/shard-handle.js';
import { SHARD_COUNTERS } from './shard/shard-core.js';
import type { ShardCounterName } from './shard/shard-core.js';

/** What a flush of every shard yields, ready for the encoders. */
export interface AggregatorFlush {
  readonly series: Series[];
  readonly sketches: SketchSeries[];
}

/** A flush whose series are made as they are iterated; iterate `series` once. */
export interface AggregatorFlushStream {
  readonly series: Iterable<Series>;
  readonly seriesCount: number;
  readonly sketches: SketchSeries[];
}

export interface AggregatorRuntimeOptions extends AggregatorOptions {
  /**
   * Run each shard in its own worker thread (piscina). Off runs them in the calling thread.
   * @defaultValue true
   */
  readonly threads?: boolean;
}

/** The agent's aggregator counters as `kennel status` shows them, plus kennel's drop counters. */
export type AggregatorStats = Record<ShardCounterName | 'QueueDrops' | 'SamplesRouted', number>;

/**
 * DogStatsD aggregation as the agent's time sampler does it, sharded by context over N
 * single-writer shards. Feed it decoded metric views with `addMetric`; flush on the agent's
 * 15 s interval with `start`, or by hand with `flush`.
 *
 * @example
 * ```ts
 * const agg = new Aggregator({ shards: 2 });
 * agg.now = Date.now() / 1000;
 * codec.decode(packet, 0, packet.length, { onMetric: (m) => agg.addMetric(m), ... });
 * const { series, sketches } = await agg.flush(Date.now() / 1000);
 * await agg.stop();
 * ```
 */
export class Aggregator {
  readonly config: ResolvedAggregatorConfig;
  readonly router: Router;
  private readonly shards: ShardHandle[];
  private readonly latest: Record<ShardCounterName, number>[];
  private flushTimer: NodeJS.Timeout | null = null;
  private dispatchTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(options: AggregatorRuntimeOptions = {}) {
    this.config = resolveAggregatorConfig(options);
    const threads = options.threads ?? true;
    this.shards = [];
    for (let i = 0; i < this.config.shards; i++) {
      this.shards.push(threads ? new WorkerShard(this.config, i) : new InlineShard(this.config));
    }
    this.router = new Router(this.shards, this.config.defaultHost);
    this.latest = this.shards.map(() => emptyCounters());
  }

  /** Arrival time (Unix seconds) for the samples that follow. */
  set now(t: number) {
    this.router.now = t;
  }
  get now(): number {
    return this.router.now;
  }

  /** Adds one decoded metric line. */
  addMetric(v: MetricSampleView): void {
    this.router.addMetric(v);
  }

  /**
   * Flushes every shard: closed buckets, or every bucket with `final`. Flushes run one at a
   * time, in call order.
   */
  async flush(now: number = Date.now() / 1000, final = false): Promise<AggregatorFlush> {
    const f = await this.flushStream(now, final);
    return { series: Array.from(f.series), sketches: f.sketches };
  }

  /**
   * {@link Aggregator.flush}, with the series made one at a time as `series` is iterated (once):
   * a flush of a million contexts then never holds a million series objects at once.
   */
  flushStream(now: number = Date.now() / 1000, final = false): Promise<AggregatorFlushStream> {
    const run = this.flushing.then(() => this.flushNow(now, final));
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private async flushNow(now: number, final: boolean): Promise<AggregatorFlushStream> {
    this.router.dispatchAll();
    // Two phases, so every shard zero-fills counters into the same buckets one sampler would.
    const phase1 = await Promise.all(this.shards.map((s) => s.pending(now, final)));
    const closed = new Set<number>();
    let any = false;
    for (const p of phase1) {
      for (const b of p.closed) closed.add(b);
      any ||= p.any;
    }
    const pending = { closed: [...closed].sort((a, b) => a - b), any };
    const results = await Promise.all(this.shards.map((s) => s.flush(now, final, pending)));
    const sketches: SketchSeries[] = [];
    let seriesCount = 0;
    results.forEach((r, i) => {
      seriesCount += r.seriesCount;
      for (const s of r.sketches) sketches.push(s);
      this.latest[i] = r.counters;
    });
    const series: Iterable<Series> = {
      *[Symbol.iterator]() {
        for (const r of results) yield* r.series;
      },
    };
    return { series, seriesCount, sketches };
  }

  /**
   * Starts the agent's timers: partial batches go to the shards every `dispatchMs` (the agent's
   * `dogstatsd_packet_buffer_flush_timeout`, 100 ms) and every shard flushes every `flushMs`
   * (15 s, `DefaultFlushInterval`), handing the result to `onFlush`; `flushMs` 0 starts no flush
   * timer.
   */
  start(onFlush: (f: AggregatorFlush) => void, flushMs = 15_000, dispatchMs = 100, onError?: (e: unknown) => void): void {
    this.dispatchTimer = setInterval(() => this.router.dispatchAll(), dispatchMs);
    this.dispatchTimer.unref();
    // 0: the caller drives the flushes itself (`flush`), only partial batches are dispatched here.
    if (flushMs <= 0) return;
    this.flushTimer = setInterval(() => {
      this.flush(Date.now() / 1000).then(onFlush, onError ?? (() => undefined));
    }, flushMs);
    this.flushTimer.unref();
  }

  /**
   * Stops the timers, flushes every bucket including the open one (nothing received is kept
   * back), and stops the shards. Returns that last flush.
   */
  async stop(now: number = Date.now() / 1000): Promise<AggregatorFlush> {
    const f = await this.stopStream(now);
    return { series: Array.from(f.series), sketches: f.sketches };
  }

  /** {@link Aggregator.stop}, the last flush's series made as they are iterated (see {@link Aggregator.flushStream}). */
  async stopStream(now: number = Date.now() / 1000): Promise<AggregatorFlushStream> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.dispatchTimer) clearInterval(this.dispatchTimer);
    this.flushTimer = this.dispatchTimer = null;
    if (this.stopped) return { series: [], seriesCount: 0, sketches: [] };
    this.stopped = true;
    const last = await this.flushStream(now, true);
    await Promise.all(this.shards.map((s) => s.close()));
    return last;
  }

  /** Most batches queued to any one shard now (what back-pressure watches). */
  maxShardBacklog(): number {
    let m = 0;
    for (const s of this.shards) if (s.batchesQueued > m) m = s.batchesQueued;
    return m;
  }

  /** Called whenever a shard applied a queued batch (worker shards only): where back-pressure lifts. */
  set onBatchApplied(cb: () => void) {
    for (const s of this.shards) s.onApplied = cb;
  }

  /**
   * Batches handed to the shards and not yet applied, and batches applied since start, over every
   * shard: a health check reads a shard as stuck when `queued` stays above 0 and `applied` stops.
   */
  backlog(): { queued: number; applied: number } {
    let queued = 0;
    let applied = 0;
    for (const s of this.shards) {
      queued += s.batchesQueued;
      applied += s.batchesApplied;
    }
    return { queued, applied };
  }

  /**
   * V8 heap in use in the shard worker threads, summed over shards, in bytes, as of each shard's
   * last flush (0 before the first flush, and with `threads: false`). The main thread's
   * `process.memoryUsage().heapUsed` does not include it.
   */
  workerHeapUsed(): number {
    let n = 0;
    for (const s of this.shards) n += s.heapUsed;
    return n;
  }

  /** Counters summed over shards (as of each shard's last flush) plus the router's. */
  stats(): AggregatorStats {
    const out = { ...emptyCounters(), QueueDrops: 0, SamplesRouted: this.router.samples } as AggregatorStats;
    for (const c of this.latest) {
      for (const k of SHARD_COUNTERS) out[k] += c[k];
    }
    // Every shard flushes together: one aggregator flush, not one per shard.
    out.NumberOfFlush = Math.max(0, ...this.latest.map((c) => c.NumberOfFlush));
    for (const s of this.shards) out.QueueDrops += s.queueDrops;
    return out;
  }
}

function emptyCounters(): Record<ShardCounterName, number> {
  const o = {} as Record<ShardCounterName, number>;
  for (const k of SHARD_COUNTERS) o[k] = 0;
  return o;
}
