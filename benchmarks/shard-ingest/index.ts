/**
 * What one worker shard does with a batch, and nothing else: `ShardCore.ingest` of the batches
 * the router builds for a single worker shard (samples left unkeyed, `KEY_IN_SHARD`), from the
 * seeded corpus (10,000 contexts, mixed types). The shard is the e2e-dogstatsd ceiling with one
 * shard, so this is where its per-sample cost is tuned. Same run, same batches:
 *
 * - native keys: the default, one `@kennel/native` `keyBatch` call per batch;
 * - JavaScript keys: `ContextKeyer` per line (what runs without the addon);
 * - pre-keyed: the keys already in the batch (what is left once keying is free).
 *
 *   node benchmarks/dist/shard-ingest/index.js [--quick] [--profile]
 *
 * One iteration ingests every batch once (10 passes of the corpus) into a shard whose contexts
 * are all known (a warm-up pass created them), then flushes; the batches' flags and keys are
 * restored from a pristine copy before each iteration, outside the timing. `--profile` runs the
 * native variant alone for 10 s, for `node --cpu-prof`.
 */
import { Bench } from 'tinybench';
import { Router, ShardCore, SampleBatch, resolveAggregatorConfig } from '@kennel/aggregator';
import type { PendingBuckets, ShardFlush, ShardHandle } from '@kennel/aggregator';
import { DogStatsDCodec } from '@kennel/dogstatsd';
import type { MetricView } from '@kennel/dogstatsd';
import { nativeKeyBatch } from '@kennel/native/context-key';
import { generateLines, packLines } from '../_harness/corpus.js';
import { printEnvironment } from '../_harness/env.js';

const quick = process.argv.includes('--quick');
const profile = process.argv.includes('--profile');
const NOW = 1_700_000_003;
const PASSES = 10;

/** A stand-in for a worker shard that keeps the batches the router hands it (the router then leaves keying to the shard). */
class CapturingShard implements ShardHandle {
  readonly batches: SampleBatch[] = [];
  readonly queueDrops = 0;
  readonly batchesQueued = 0;
  readonly batchesApplied = 0;
  readonly heapUsed = 0;
  onApplied = () => {};
  private readonly samples: number;
  constructor(samples: number) {
    this.samples = samples;
  }
  acquire(): SampleBatch {
    return new SampleBatch(this.samples, this.samples * 96);
  }
  ingest(batch: SampleBatch): void {
    this.batches.push(batch);
  }
  pending(): Promise<PendingBuckets> {
    throw new Error('not a shard');
  }
  flush(): Promise<ShardFlush> {
    throw new Error('not a shard');
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function main(): Promise<void> {
  printEnvironment();
  const keyBatch = nativeKeyBatch();
  if (keyBatch === null) console.log('native      not loaded: the native variant is skipped');
  const lines = generateLines({ seed: 20250601, contexts: 10000, targetBytes: 4 << 20 });
  const corpus = packLines(lines, 1400);
  const cfg = resolveAggregatorConfig({ defaultHost: 'bench-host' });
  const capture = new CapturingShard(cfg.batchSamples);
  const router = new Router([capture], cfg.defaultHost);
  router.now = NOW;
  const codec = new DogStatsDCodec();
  const visitor = { onMetric: (m: MetricView) => router.addMetric(m), onEvent() {}, onServiceCheck() {}, onError() {} };
  for (let k = 0; k < PASSES; k++) for (const p of corpus.packets) codec.decode(p, 0, p.length, visitor);
  router.dispatchAll();
  const pristine = capture.batches.map((b) => new Uint8Array(b.buffer.slice(0)));
  const samples = capture.batches.reduce((n, b) => n + b.count, 0);
  console.log(`corpus      ${corpus.lines} lines x ${PASSES} passes = ${samples} samples in ${capture.batches.length} batches of up to ${cfg.batchSamples}, ${lines.contexts} contexts`);

  const restoreFrom = (copies: readonly Uint8Array[]) => () => capture.batches.forEach((b, i) => new Uint8Array(b.buffer).set(copies[i]!));
  const restore = restoreFrom(pristine);
  const shard = (native: boolean) => new ShardCore(cfg, { keyBatch: native ? keyBatch : null });
  const run = (core: ShardCore) => {
    for (const b of capture.batches) core.ingest(b);
    return core.flush(NOW + 20).series.length;
  };
  // Pre-keyed batches: the keys as a warm-up pass leaves them (the flag cleared), kept aside.
  const warm = shard(keyBatch !== null);
  restore();
  const seriesPerPass = run(warm);
  const keyed = capture.batches.map((b) => new Uint8Array(b.buffer.slice(0)));
  const restoreKeyed = restoreFrom(keyed);

  // Guard: every variant applies every sample into the same series.
  const variants: { name: string; core: ShardCore; before: () => void }[] = [];
  if (keyBatch !== null) variants.push({ name: 'native keys (keyBatch per batch)', core: shard(true), before: restore });
  variants.push({ name: 'JavaScript keys (ContextKeyer per line)', core: shard(false), before: restore });
  variants.push({ name: 'pre-keyed (keying free)', core: shard(false), before: restoreKeyed });
  for (const v of variants) {
    v.before();
    const n = run(v.core);
    if (n !== seriesPerPass) throw new Error(`${v.name}: ${n} series, expected ${seriesPerPass}`);
  }
  console.log(`guard       ${seriesPerPass} series per pass from every variant`);

  if (profile) {
    const v = variants[0]!;
    const until = Date.now() + 10_000;
    let n = 0;
    while (Date.now() < until) {
      v.before();
      run(v.core);
      n++;
    }
    console.log(`profile     ${v.name}: ${n} iterations in 10 s, ${((n * samples) / 10 / 1e6).toFixed(2)} M samples/s`);
    return;
  }

  const bench = new Bench({ time: quick ? 400 : 5000, warmupTime: quick ? 100 : 1000, iterations: quick ? 5 : 20 });
  for (const v of variants) bench.add(v.name, () => run(v.core), { beforeEach: v.before });
  await bench.run();
  const rows = bench.tasks.map((t) => ({ task: t.name, median: (t.result as { latency?: { p50?: number } } | undefined)?.latency?.p50 ?? NaN }));
  const base = rows.find((r) => r.task.startsWith('JavaScript'))!.median;
  console.log('\ntask                                       median ms   M samples/s   ns/sample   vs JS keys');
  for (const r of rows) {
    const sps = samples / (r.median / 1000);
    console.log(
      `${r.task.padEnd(42)}${r.median.toFixed(1).padStart(10)}   ${(sps / 1e6).toFixed(2).padStart(11)}   ${(1e9 / sps).toFixed(0).padStart(9)}   ${(base / r.median).toFixed(2)}x`,
    );
  }
}

await main();
