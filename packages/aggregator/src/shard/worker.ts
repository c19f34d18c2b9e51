import { existsSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ResolvedAggregatorConfig } from '../config.js';
import { ShardCore } from './shard-core.js';
import type { ShardTask, WireFlushResult } from './shard-handle.js';

// One shard per worker thread: its state lives here for the thread's whole life.
const core = new ShardCore((workerData as { config: ResolvedAggregatorConfig }).config);

// Test-only (`KENNEL_TEST_STALL_SHARD_FILE`, the fault suite's health case): while that file
// exists, the shard's first flush blocks this thread, as a shard stuck in a loop would, so
// batches pile up behind it. Never set in production; nothing else can stop a shard from outside.
let stallFile = process.env.KENNEL_TEST_STALL_SHARD_FILE ?? '';

export default function shardTask(task: ShardTask): unknown {
  if (task.op === 'ingest') {
    core.ingest(task);
    // The buffer goes back to the router to be refilled.
    return Piscina.move(task.buffer);
  }
  if (task.op === 'pending' && stallFile !== '') {
    const slot = new Int32Array(new SharedArrayBuffer(4));
    while (existsSync(stallFile)) Atomics.wait(slot, 0, 0, 20);
    stallFile = '';
  }
  if (task.op === 'pending') return core.pendingBuckets(task.now, task.final);
  // Series go flat, made without an object each: posting objects costs 20 s for a million of them (see SeriesWire).
  const flat = core.flushWire(task.now, task.final, task.pending);
  // This thread's own heap (status shows it beside the main thread's): read after the flush, once per 15 s.
  const out: WireFlushResult = { wire: flat.wire, sketches: flat.sketches, counters: flat.counters, heapUsed: getHeapStatistics().used_heap_size };
  return out;
}
