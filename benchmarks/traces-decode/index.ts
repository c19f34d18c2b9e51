/**
 * traces-decode: kennel's trace decoder against msgpackr's generic `unpack` (64-bit integers as
 * BigInt, so both are lossless) on the same bytes in the same run, for a v0.4 and a v0.5 payload
 * of 500 traces x 10 spans. See README.md in this folder.
 *
 *   node benchmarks/dist/traces-decode/index.js             full run, writes results/traces-decode.json
 *   node benchmarks/dist/traces-decode/index.js --quick     short budget (CI), writes results/traces-decode.quick.json
 *   node --cpu-prof benchmarks/dist/traces-decode/index.js --profile kennel-v04 --seconds 10
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { Unpackr, isNativeAccelerationEnabled } from 'msgpackr';
import { decodeTraces } from '@kennel/traces';
import type { Span, TracerPayload } from '@kennel/core';
import { printEnvironment } from '../_harness/env.js';
import { generateCorpus, type Corpus, type GenSpan } from './payload.js';

const SEED = 20251201;
const TARGET_RATIO = 2;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: process.env['KENNEL_BENCH_QUICK'] === '1' },
    traces: { type: 'string', default: '500' },
    spans: { type: 'string', default: '10' },
    profile: { type: 'string' },
    seconds: { type: 'string', default: '10' },
  },
});

/**
 * Each task gets `time` ms in total, spread over `rounds` rounds; every round runs the four tasks
 * in a rotated order. On a shared machine the load drifts over a run: interleaving gives every
 * task the same mix of quiet and busy moments, so the same-run ratios stay meaningful.
 */
const RUNS = {
  full: { rounds: 6, time: 6000, warmupTime: 300, iterations: 10, warmupIterations: 5 },
  quick: { rounds: 2, time: 400, warmupTime: 100, iterations: 5, warmupIterations: 3 },
} as const;

const unpackr = new Unpackr({ int64AsType: 'bigint', mapsAsObjects: true, useRecords: false });

let sink = 0;

type TaskId = 'kennel-v04' | 'msgpackr-v04' | 'kennel-v05' | 'msgpackr-v05';
const TASKS: Record<TaskId, string> = {
  'kennel-v04': 'kennel decodeTraces v0.4',
  'msgpackr-v04': 'msgpackr unpack v0.4 (int64 as BigInt)',
  'kennel-v05': 'kennel decodeTraces v0.5',
  'msgpackr-v05': 'msgpackr unpack v0.5 (int64 as BigInt)',
};

function passes(corpus: Corpus): Record<TaskId, () => void> {
  const v04 = Buffer.from(corpus.v04.buffer, corpus.v04.byteOffset, corpus.v04.byteLength);
  const v05 = Buffer.from(corpus.v05.buffer, corpus.v05.byteOffset, corpus.v05.byteLength);
  return {
    'kennel-v04': () => {
      const r = decodeTraces(v04, 'v0.4');
      sink ^= r.ok ? r.spans : -1;
    },
    'msgpackr-v04': () => {
      const r = unpackr.unpack(v04) as unknown[];
      sink ^= r.length;
    },
    'kennel-v05': () => {
      const r = decodeTraces(v05, 'v0.5');
      sink ^= r.ok ? r.spans : -1;
    },
    'msgpackr-v05': () => {
      const r = unpackr.unpack(v05) as unknown[][];
      sink ^= r[1]!.length;
    },
  };
}

/** Before timing: both decoders must read back exactly what was generated. */
function guard(corpus: Corpus): void {
  for (const version of ['v0.4', 'v0.5'] as const) {
    const r = decodeTraces(version === 'v0.4' ? corpus.v04 : corpus.v05, version);
    if (!r.ok) throw new Error(`kennel ${version}: ${r.reason}: ${r.message}`);
    if (r.spans !== corpus.spans) throw new Error(`kennel ${version}: ${r.spans} spans, expected ${corpus.spans}`);
    checkPayload(version, r.payload, corpus.traces);
  }
  const t04 = unpackr.unpack(corpus.v04) as Record<string, unknown>[][];
  const t05 = (unpackr.unpack(corpus.v05) as unknown[][])[1] as unknown[][][];
  let n = 0;
  for (let t = 0; t < corpus.traces.length; t++) {
    for (let s = 0; s < corpus.traces[t]!.length; s++) {
      const want = corpus.traces[t]![s]!;
      if (t04[t]![s]!['span_id'] !== want.spanId) throw new Error(`msgpackr v0.4: span ${s} of trace ${t} has the wrong span_id`);
      if (t05[t]![s]![4] !== want.spanId) throw new Error(`msgpackr v0.5: span ${s} of trace ${t} has the wrong span_id`);
      n++;
    }
  }
  if (n !== corpus.spans) throw new Error('msgpackr: wrong span count');
}

function checkPayload(version: string, p: TracerPayload, traces: GenSpan[][]): void {
  if (p.chunks.length !== traces.length) throw new Error(`kennel ${version}: ${p.chunks.length} chunks`);
  for (let t = 0; t < traces.length; t++) {
    const got = p.chunks[t]!.spans;
    const want = traces[t]!;
    if (got.length !== want.length) throw new Error(`kennel ${version}: trace ${t} has ${got.length} spans`);
    for (let s = 0; s < want.length; s++) {
      const a: Span = got[s]!;
      const w = want[s]!;
      const same =
        a.service === w.service &&
        a.name === w.name &&
        a.resource === w.resource &&
        a.traceId === w.traceId &&
        a.spanId === w.spanId &&
        a.parentId === w.parentId &&
        a.start === w.start &&
        a.duration === w.duration &&
        a.error === w.error &&
        a.type === w.type &&
        JSON.stringify(a.meta) === JSON.stringify(w.meta) &&
        JSON.stringify(a.metrics) === JSON.stringify(w.metrics);
      if (!same) throw new Error(`kennel ${version}: span ${s} of trace ${t} differs from the generated span`);
    }
  }
}

interface TaskFigures {
  readonly task: string;
  readonly samples: number;
  readonly medianMs: number;
  readonly p75Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly spansPerSec: number;
  readonly mbPerSec: number;
}

function quantile(sorted: readonly number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
}

function figures(name: string, samples: readonly number[], spans: number, bytes: number): TaskFigures {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  return {
    task: name,
    samples: sorted.length,
    medianMs: round(median, 4),
    p75Ms: round(quantile(sorted, 0.75), 4),
    p99Ms: round(quantile(sorted, 0.99), 4),
    meanMs: round(sorted.reduce((a, b) => a + b, 0) / sorted.length, 4),
    spansPerSec: Math.round(spans / (median / 1000)),
    mbPerSec: round(bytes / 1e6 / (median / 1000), 1),
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function profile(id: string, corpus: Corpus, seconds: number): void {
  if (!(id in TASKS)) throw new Error(`--profile takes one of ${Object.keys(TASKS).join(', ')}`);
  const pass = passes(corpus)[id as TaskId];
  const until = performance.now() + seconds * 1000;
  const t0 = performance.now();
  let n = 0;
  while (performance.now() < until) {
    pass();
    n++;
  }
  const s = (performance.now() - t0) / 1000;
  const bytes = id.endsWith('v04') ? corpus.v04.length : corpus.v05.length;
  console.log(
    `profile     ${TASKS[id as TaskId]}: ${n} passes in ${s.toFixed(1)} s, mean ` +
      `${((corpus.spans * n) / s / 1e6).toFixed(3)} M spans/s, ${((bytes * n) / s / 1e6).toFixed(1)} MB/s`,
  );
}

function main(): void {
  const nTraces = Number(args.traces);
  const perTrace = Number(args.spans);
  const corpus = generateCorpus(SEED, nTraces, perTrace);
  guard(corpus);
  if (args.profile !== undefined) {
    profile(args.profile, corpus, Number(args.seconds));
    return;
  }
  const env = printEnvironment();
  const mode = args.quick ? 'quick' : 'full';
  const run = RUNS[mode];
  console.log(`msgpackr    1.12.1, native acceleration (msgpackr-extract): ${isNativeAccelerationEnabled ? 'on' : 'off'}`);
  console.log(
    `corpus      seed ${SEED}: ${nTraces} traces x ${perTrace} spans = ${corpus.spans} spans; ` +
      `v0.4 ${(corpus.v04.length / 1e6).toFixed(3)} MB (${Math.round(corpus.v04.length / corpus.spans)} B/span), ` +
      `v0.5 ${(corpus.v05.length / 1e6).toFixed(3)} MB (${Math.round(corpus.v05.length / corpus.spans)} B/span)`,
  );
  console.log(
    `run         ${mode}: ${run.time} ms per task in ${run.rounds} interleaved rounds (task order rotated), ` +
      `one iteration decodes the whole payload` + ((globalThis as { gc?: unknown }).gc ? ', gc before each task' : ''),
  );
  const gc = (globalThis as { gc?: () => void }).gc;
  const p = passes(corpus);
  const ids = Object.keys(TASKS) as TaskId[];
  const pooled = Object.fromEntries(ids.map((id) => [id, [] as number[]])) as Record<TaskId, number[]>;
  const roundRatios: { v04: number; v05: number }[] = [];
  for (let r = 0; r < run.rounds; r++) {
    const bench = new Bench({
      name: `traces-decode round ${r + 1}`,
      time: run.time / run.rounds,
      warmupTime: run.warmupTime,
      iterations: run.iterations,
      warmupIterations: run.warmupIterations,
      retainSamples: true,
      throws: true,
      setup: () => gc?.(),
    });
    for (let k = 0; k < ids.length; k++) {
      const id = ids[(k + r) % ids.length]!;
      bench.add(TASKS[id], p[id]);
    }
    bench.runSync();
    const med: Partial<Record<TaskId, number>> = {};
    for (const t of bench.tasks) {
      const id = ids.find((x) => TASKS[x] === t.name)!;
      const res = t.result;
      if (res.state !== 'completed' || res.latency.samples === undefined) throw new Error(`task ${t.name} did not complete`);
      pooled[id].push(...res.latency.samples);
      med[id] = res.latency.p50;
    }
    roundRatios.push({ v04: round(med['msgpackr-v04']! / med['kennel-v04']!, 2), v05: round(med['msgpackr-v05']! / med['kennel-v05']!, 2) });
  }
  const by = (id: TaskId): TaskFigures =>
    figures(TASKS[id], pooled[id], corpus.spans, id.endsWith('v04') ? corpus.v04.length : corpus.v05.length);
  const tasks = ids.map(by);
  const ratioV04 = round(by('kennel-v04').spansPerSec / by('msgpackr-v04').spansPerSec, 2);
  const ratioV05 = round(by('kennel-v05').spansPerSec / by('msgpackr-v05').spansPerSec, 2);
  const header = ['task', 'median ms', 'p99 ms', 'samples', 'M spans/s', 'MB/s'];
  const rows = tasks.map((t) => [t.task, t.medianMs.toFixed(3), t.p99Ms.toFixed(3), String(t.samples), (t.spansPerSec / 1e6).toFixed(3), t.mbPerSec.toFixed(1)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(fmt(header));
  for (const r of rows) console.log(fmt(r));
  const met = ratioV04 >= TARGET_RATIO && ratioV05 >= TARGET_RATIO;
  console.log(`ratios      kennel/msgpackr v0.4 ${ratioV04}x, v0.5 ${ratioV05}x (target >= ${TARGET_RATIO}x: ${met ? 'met' : 'NOT met'})`);
  console.log(`per round   v0.4 ${roundRatios.map((x) => x.v04).join(' ')}; v0.5 ${roundRatios.map((x) => x.v05).join(' ')}`);
  const results = new URL('../../results/', import.meta.url);
  mkdirSync(results, { recursive: true });
  const file = new URL(mode === 'quick' ? 'traces-decode.quick.json' : 'traces-decode.json', results);
  writeFileSync(
    file,
    JSON.stringify(
      {
        benchmark: 'traces-decode',
        environment: env,
        msgpackr: { version: '1.12.1', nativeAcceleration: isNativeAccelerationEnabled },
        run: { mode, ...run },
        corpus: { seed: SEED, traces: nTraces, spansPerTrace: perTrace, spans: corpus.spans, v04Bytes: corpus.v04.length, v05Bytes: corpus.v05.length },
        tasks,
        ratios: { v04: ratioV04, v05: ratioV05, perRound: roundRatios },
        target: { ratio: TARGET_RATIO, met },
        sink,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`written     ${file.pathname}`);
}

main();
