import type { Series } from '@kennel/core';
import { Piscina } from 'piscina';
import type { ResolvedAggregatorConfig } from '../config.js';
import { SampleBatch } from '../wire/sample-batch.js';
import type { SampleBatchData } from '../wire/sample-batch.js';
import { seriesOfWire } from '../wire/series-wire.js';
import type { SeriesWire } from '../wire/series-wire.js';
import { ShardCore } from './shard-core.js';
import type { FlushResult } from './shard-core.js';

/** Which metric buckets a flush covers, over every shard. */
export interface PendingBuckets {
  readonly closed: readonly number[];
  readonly any: boolean;
}

/** What the router needs from a shard, wherever it runs. */
export interface ShardHandle {
  /** A batch to fill (recycled from a shard when one came back). */
  acquire(): SampleBatch;
  /** Hands a filled batch to the shard; the router must not touch it afterwards. */
  ingest(batch: SampleBatch): void;
  /** Phase one of a flush (see `ShardCore.pendingBuckets`), after every batch ingested before the call. */
  pending(now: number, final: boolean): Promise<PendingBuckets>;
  /** Phase two: flushes closed buckets (or all with `final`) given the union of every shard's pending buckets. */
  flush(now: number, final: boolean, pending: PendingBuckets): Promise<ShardFlush>;
  /** Samples dropped because the shard's queue was full. */
  readonly queueDrops: number;
  /** Batches handed to the shard and not yet applied (what a stuck shard lets pile up). */
  readonly batchesQueued: number;
  /** Batches the shard applied since it started (grows while the shard makes progress). */
  readonly batchesApplied: number;
  /** Called after the shard applied (or failed) a queued batch: where back-pressure lifts. */
  onApplied: () => void;
  /**
   * V8 heap in use in the shard's own worker thread, in bytes, as of its last flush: each worker
   * has its own heap, which the main thread's `process.memoryUsage()` does not count. 0 for a
   * shard that runs in the caller's thread (its state is in the caller's heap).
   */
  readonly heapUsed: number;
  close(): Promise<void>;
}

/** One shard's flush: its series are made as they are iterated (once) when they come from a worker. */
export interface ShardFlush {
  readonly series: Iterable<Series>;
  readonly seriesCount: number;
  readonly sketches: FlushResult['sketches'];
  readonly counters: FlushResult['counters'];
}

/** Batch geometry: bytes per batch for names and tag lists, at ~96 bytes a sample. */
export function batchBytes(samples: number): number {
  return samples * 96;
}

/** A shard in the caller's thread: for tests, tools and single-threaded embedding. */
export class InlineShard implements ShardHandle {
  readonly core: ShardCore;
  readonly queueDrops = 0;
  readonly batchesQueued = 0;
  onApplied: () => void = () => {};
  readonly heapUsed = 0;
  batchesApplied = 0;
  private readonly cfg: ResolvedAggregatorConfig;
  private spare: SampleBatch | null = null;

  constructor(cfg: ResolvedAggregatorConfig) {
    this.cfg = cfg;
    this.core = new ShardCore(cfg);
  }

  acquire(): SampleBatch {
    const b = this.spare ?? new SampleBatch(this.cfg.batchSamples, batchBytes(this.cfg.batchSamples));
    this.spare = null;
    b.reset();
    return b;
  }

  ingest(batch: SampleBatch): void {
    this.core.ingest(batch);
    this.batchesApplied++;
    this.spare = batch;
  }

  async pending(now: number, final: boolean): Promise<PendingBuckets> {
    return this.core.pendingBuckets(now, final);
  }

  async flush(now: number, final: boolean, pending: PendingBuckets): Promise<ShardFlush> {
    const r = this.core.flush(now, final, pending);
    return { series: r.series, seriesCount: r.series.length, sketches: r.sketches, counters: r.counters };
  }

  async close(): Promise<void> {}
}

/** What the shard worker answers a flush with: the series flattened (see `SeriesWire`). */
export interface WireFlushResult {
  readonly wire: SeriesWire;
  readonly sketches: FlushResult['sketches'];
  readonly counters: FlushResult['counters'];
  /** The worker's V8 heap in use after the flush (`v8.getHeapStatistics().used_heap_size`). */
  readonly heapUsed: number;
}

/** A task for the shard worker (`worker.ts`). */
export type ShardTask =
  | ({ op: 'ingest' } & SampleBatchData)
  | { op: 'pending'; now: number; final: boolean }
  | { op: 'flush'; now: number; final: boolean; pending: PendingBuckets };

/**
 * A shard in its own worker thread: a piscina pool of exactly one thread, so the shard's state
 * stays in that thread and tasks run in the order they were sent. Batches travel as transferred
 * buffers and come back the same way to be reused.
 */
export class WorkerShard implements ShardHandle {
  queueDrops = 0;
  batchesApplied = 0;
  heapUsed = 0;
  private readonly cfg: ResolvedAggregatorConfig;
  private readonly pool: Piscina;
  private readonly free: ArrayBuffer[] = [];
  private inFlight = 0;
  onApplied: () => void = () => {};

  get batchesQueued(): number {
    return this.inFlight;
  }

  constructor(cfg: ResolvedAggregatorConfig, index: number) {
    this.cfg = cfg;
    this.pool = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: 1,
      maxThreads: 1,
      // Every queued batch goes to the worker's port at once, not one per round trip: with 1,
      // piscina hands the next batch over only when the main thread has taken the previous
      // result, so the shard sat idle whenever the main thread was busy decoding (at 1 M lines/s
      // over UDP it was half idle while its queue reached the back-pressure mark). The worker
      // still runs them one at a time, in order: the handler is synchronous and the port is FIFO.
      // The queue's bound stays ours (`maxQueuedBatches`, counted in QueueDrops); the extra
      // slots are for the flush's two tasks.
      concurrentTasksPerWorker: cfg.maxQueuedBatches + 4,
      // Without it piscina puts a task it could not hand over at the tail of its queue, so a flush
      // could run before batches sent ahead of it (and a stop lose them): tasks must run in order.
      stricterFIFO: true,
      // The longest delay a Node timer takes (2^31-1 ms): a larger one fires after 1 ms, which
      // would retire the shard's only thread and its state.
      idleTimeout: 2 ** 31 - 1,
      workerData: { config: cfg, index },
    });
  }

  acquire(): SampleBatch {
    const n = this.cfg.batchSamples;
    return new SampleBatch(n, batchBytes(n), this.free.pop());
  }

  ingest(batch: SampleBatch): void {
    if (this.inFlight >= this.cfg.maxQueuedBatches) {
      this.queueDrops += batch.count;
      this.free.push(batch.buffer);
      return;
    }
    this.inFlight++;
    const task: ShardTask = { op: 'ingest', ...batch.data() };
    this.pool.run(task, { transferList: [batch.buffer] }).then(
      (buf: ArrayBuffer) => {
        this.inFlight--;
        this.batchesApplied++;
        if (this.free.length < 8) this.free.push(buf);
        this.onApplied();
      },
      () => {
        this.inFlight--;
        this.onApplied();
      },
    );
  }

  async pending(now: number, final: boolean): Promise<PendingBuckets> {
    const task: ShardTask = { op: 'pending', now, final };
    return (await this.pool.run(task)) as PendingBuckets;
  }

  async flush(now: number, final: boolean, pending: PendingBuckets): Promise<ShardFlush> {
    const task: ShardTask = { op: 'flush', now, final, pending };
    const r = (await this.pool.run(task)) as WireFlushResult;
    this.heapUsed = r.heapUsed;
    const wire = r.wire;
    return { series: { [Symbol.iterator]: () => seriesOfWire(wire) }, seriesCount: wire.count, sketches: r.sketches, counters: r.counters };
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
