import assert from 'node:assert/strict';
import { test } from 'node:test';
import { harness } from './helpers.js';

test('workerHeapUsed is each shard worker heap as of its last flush, and 0 for shards in this thread', async () => {
  const inline = harness({ shards: 2 });
  inline.send(1000, 'page.views:1|c|#env:prod');
  await inline.agg.flush(1020);
  assert.equal(inline.agg.workerHeapUsed(), 0);
  await inline.agg.stop(1030);

  const workers = harness({ shards: 2, threads: true });
  try {
    // Nothing flushed yet: no worker has said anything.
    assert.equal(workers.agg.workerHeapUsed(), 0);
    for (let i = 0; i < 100; i++) workers.send(1000, `page.views:1|c|#env:prod,i:${i}`);
    await workers.agg.flush(1020);
    const after = workers.agg.workerHeapUsed();
    // Two isolates of their own: each holds at least its module graph, and neither is the size of a process.
    assert.ok(after > 2 * 1024 * 1024, `workers' heap ${after} B`);
    assert.ok(after < 512 * 1024 * 1024, `workers' heap ${after} B`);
  } finally {
    await workers.agg.stop(1030);
  }
});
