import { workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ResolvedAggregatorConfig } from '../config.js';
import { ShardCore } from './shard-core.js';
import type { FlushResult } from './shard-core.js';
import type { ShardTask } from './shard-handle.js';

// One shard per worker thread: its state lives here for the thread's whole life.
const core = new ShardCore((workerData as { config: ResolvedAggregatorConfig }).config);

export default function shardTask(task: ShardTask): unknown {
  if (task.op === 'ingest') {
    core.ingest(task);
    // The buffer goes back to the router to be refilled.
    return Piscina.move(task.buffer);
  }
  if (task.op === 'pending') return core.pendingBuckets(task.now, task.final);
  const r: FlushResult = core.flush(task.now, task.final, task.pending);
  return r;
}
