/**
 * Parse + aggregate throughput: the seeded DogStatsD corpus (10,000 contexts, mixed types)
 * through the codec, the router and the shards, against a naive `split` parser feeding a
 * `Map`-keyed aggregator, in the same run. One iteration = ten passes of the corpus into one
 * 10 s bucket, then a flush of every bucket that builds the series (so the worker variants count
 * only once every sample is applied).
 *
 *   node benchmarks/dist/aggregate-sharded/index.js [--quick]
 *
 * Variants: kennel in one thread (codec, router and shard on one core), kennel with 1 and 2
 * worker shards (the decoding thread routes, the workers aggregate), and the naive aggregator.
 */
import { Bench } from 'tinybench';
import { Aggregator } from '@kennel/aggregator';
import { DogStatsDCodec } from '@kennel/dogstatsd';
import type { MetricView } from '@kennel/dogstatsd';
import { generateLines, packLines } from '../_harness/corpus.js';
import type { Corpus } from '../_harness/corpus.js';
import { naiveParse } from '../_harness/naive-parser.js';
import type { NaiveMetric } from '../_harness/naive-parser.js';
import { printEnvironment } from '../_harness/env.js';

const quick = process.argv.includes('--quick');
const NOW = 1_700_000_003;
/** Corpus passes per flush: 10 passes put ~44 samples per context in the bucket before it flushes. */
const PASSES = 10;

/** The naive aggregator: a string key per sample (name, host, sorted tags), a Map of plain objects. */
class NaiveAggregator {
  private contexts = new Map<string, { name: string; tags: string[]; type: string; value: number; values: number[]; set: Set<string> | null }>();
  add(m: NaiveMetric): void {
    const tags = m.tags.slice().sort();
    const key = `${m.name}|${tags.join(',')}`;
    let c = this.contexts.get(key);
    if (c === undefined) {
      c = { name: m.name, tags, type: m.type, value: 0, values: [], set: m.type === 's' ? new Set() : null };
      this.contexts.set(key, c);
    }
    switch (m.type) {
      case 'c':
        for (const v of m.values) c.value += v / m.sampleRate;
        break;
      case 'g':
        c.value = m.values[m.values.length - 1]!;
        break;
      case 's':
        c.set!.add(m.setMember!);
        break;
      default:
        for (const v of m.values) c.values.push(v);
    }
  }
  /** Builds the same series objects kennel flushes: rate for counters, the five histogram aggregates. */
  flush(ts: number): number {
    const out: { name: string; tags: string[]; type: string; interval: number; points: { timestamp: number; value: number }[] }[] = [];
    const pt = (name: string, tags: string[], type: string, value: number) =>
      out.push({ name, tags, type, interval: 10, points: [{ timestamp: ts, value }] });
    for (const c of this.contexts.values()) {
      if (c.type === 'h' || c.type === 'ms') {
        const v = c.values.sort((a, b) => a - b);
        const sum = v.reduce((a, b) => a + b, 0);
        pt(c.name + '.max', c.tags, 'gauge', v[v.length - 1]!);
        pt(c.name + '.median', c.tags, 'gauge', v[Math.floor((v.length - 1) / 2)]!);
        pt(c.name + '.avg', c.tags, 'gauge', sum / v.length);
        pt(c.name + '.count', c.tags, 'rate', v.length / 10);
        pt(c.name + '.95percentile', c.tags, 'gauge', v[Math.floor((95 * v.length - 1) / 100)]!);
      } else if (c.type === 'd') {
        pt(c.name, c.tags, 'sketch', c.values.length);
      } else if (c.type === 's') {
        pt(c.name, c.tags, 'gauge', c.set!.size);
      } else pt(c.name, c.tags, c.type === 'c' ? 'rate' : 'gauge', c.type === 'c' ? c.value / 10 : c.value);
    }
    this.contexts.clear();
    return out.length;
  }
}

function packets(corpus: Corpus): Buffer[] {
  return corpus.packets;
}

async function main(): Promise<void> {
  printEnvironment();
  const lines = generateLines({ seed: 20250601, contexts: 10000, targetBytes: 4 << 20 });
  const corpus = packLines(lines, 1400);
  const total = corpus.lines;
  const valuesPerPass = (lines.expected.values + lines.expected.setLines) * PASSES;
  console.log(`corpus      ${total} lines x ${PASSES} passes, ${valuesPerPass} samples, ${corpus.packets.length} UDP packets, ${lines.contexts} contexts`);
  const pk = packets(corpus);

  const kennel = (shards: number, threads: boolean) => {
    const agg = new Aggregator({ shards, threads, batchSamples: 2048, maxQueuedBatches: 1 << 16 });
    const codec = new DogStatsDCodec();
    const visitor = { onMetric: (m: MetricView) => agg.addMetric(m), onEvent() {}, onServiceCheck() {}, onError() {} };
    agg.now = NOW;
    return {
      agg,
      async pass() {
        for (let k = 0; k < PASSES; k++) for (const p of pk) codec.decode(p, 0, p.length, visitor);
        const r = await agg.flush(NOW, true);
        return r.series.length + r.sketches.length;
      },
    };
  };
  const inline = kennel(1, false);
  const one = kennel(1, true);
  const two = kennel(2, true);
  const naive = new NaiveAggregator();
  const naivePass = () => {
    for (let k = 0; k < PASSES; k++) for (const p of pk) naiveParse(p, (m) => naive.add(m));
    return naive.flush(NOW - 3);
  };
  // Same output size from both (a guard that both aggregate the whole corpus).
  const a = await inline.pass();
  const b = naivePass();
  console.log(`guard       kennel ${a} series, naive ${b} series per pass`);

  const bench = new Bench({ time: quick ? 500 : 6000, warmupTime: quick ? 200 : 1500, iterations: quick ? 5 : 20 });
  bench.add('kennel, one thread (codec + router + shard)', () => inline.pass());
  bench.add('kennel, 1 worker shard', () => one.pass());
  bench.add('kennel, 2 worker shards', () => two.pass());
  bench.add('naive split + Map aggregator', () => {
    naivePass();
  });
  await bench.run();
  const rows: { task: string; median: number }[] = [];
  for (const t of bench.tasks) {
    const r = t.result as { latency?: { p50?: number } } | undefined;
    rows.push({ task: t.name, median: r?.latency?.p50 ?? NaN });
  }
  const base = rows.find((r) => r.task.startsWith('naive'))!.median;
  console.log('\ntask                                            median ms   M samples/s   vs naive');
  for (const r of rows) {
    const sps = valuesPerPass / (r.median / 1000) / 1e6;
    console.log(`${r.task.padEnd(48)}${r.median.toFixed(1).padStart(9)}   ${sps.toFixed(2).padStart(11)}   ${(base / r.median).toFixed(2)}x`);
  }
  await Promise.all([inline.agg.stop(NOW), one.agg.stop(NOW), two.agg.stop(NOW)]);
}

await main();
