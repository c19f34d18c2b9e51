/**
 * Bytes of memory per context: N distinct counter contexts go through the router into one
 * in-thread shard; heap (and array buffers) are measured after a forced GC, before and after.
 *
 *   node --expose-gc benchmarks/dist/aggregate-memory/index.js [contexts...]
 */
import { Aggregator } from '@kennel/aggregator';
import { DogStatsDCodec } from '@kennel/dogstatsd';
import type { MetricView } from '@kennel/dogstatsd';
import { printEnvironment } from '../_harness/env.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with node --expose-gc');
  process.exit(1);
}

function used(): { heap: number; buffers: number } {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
}

async function measure(contexts: number, type: 'c' | 'g'): Promise<{ perContext: number; heapPer: number; buffersPer: number }> {
  const agg = new Aggregator({ threads: false, contextLimit: contexts + 10 });
  const codec = new DogStatsDCodec();
  const visitor = {
    onMetric: (m: MetricView) => agg.addMetric(m),
    onEvent() {},
    onServiceCheck() {},
    onError() {},
  };
  agg.now = 1_700_000_000;
  // Warm the shapes and the interner with other contexts, then measure from a clean flush.
  const enc = new TextEncoder();
  const before = used();
  const lines: string[] = [];
  for (let i = 0; i < contexts; i++) {
    lines.push(`app.http.requests:1|${type}|#env:prod,service:web,endpoint:/api/v1/item,request_id:${i}`);
    if (lines.length === 14 || i === contexts - 1) {
      const b = enc.encode(lines.join('\n'));
      codec.decode(b, 0, b.length, visitor);
      lines.length = 0;
    }
  }
  agg.router.dispatchAll();
  const after = used();
  const stats = agg.stats();
  void stats;
  const heapPer = (after.heap - before.heap) / contexts;
  const buffersPer = (after.buffers - before.buffers) / contexts;
  // Keep the aggregator alive until after the measurement.
  await agg.stop(1_700_000_000);
  return { perContext: heapPer + buffersPer, heapPer, buffersPer };
}

printEnvironment();
const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
for (const n of sizes.length ? sizes : [100_000, 1_000_000]) {
  for (const type of ['c', 'g'] as const) {
    const r = await measure(n, type);
    console.log(
      `${n.toLocaleString('en-US')} ${type === 'c' ? 'counter' : 'gauge'} contexts: ${r.perContext.toFixed(1)} B/context (heap ${r.heapPer.toFixed(1)}, array buffers ${r.buffersPer.toFixed(1)})`,
    );
  }
}
