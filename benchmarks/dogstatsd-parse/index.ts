/**
 * dogstatsd-parse: the DogStatsD codec against a naive `split`-based parser, on the same corpus
 * in the same run. See README.md in this folder for what is measured and what is not.
 *
 *   node benchmarks/dist/dogstatsd-parse/index.js            full run, writes results/dogstatsd-parse.json
 *   node benchmarks/dist/dogstatsd-parse/index.js --quick    short budget (CI), writes results/dogstatsd-parse.quick.json
 *   node benchmarks/dist/dogstatsd-parse/index.js --variant uds
 *   node --cpu-prof benchmarks/dist/dogstatsd-parse/index.js --profile kennel --seconds 10
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bench, type Task } from 'tinybench';
import { ContextKeyBuilder, Hash64 } from '@kennel/core';
import {
  DogStatsDCodec,
  MetricType,
  type DecodedEvent,
  type DecodedServiceCheck,
  type DogStatsDVisitor,
  type MetricView,
} from '@kennel/dogstatsd';
import { generateLines, packLines, type Corpus } from '../_harness/corpus.js';
import { printEnvironment, type BenchEnvironment } from '../_harness/env.js';
import { naiveParse, type NaiveMetric } from '../_harness/naive-parser.js';
import { Tally, type TallySummary } from '../_harness/tally.js';

// ---------------------------------------------------------------------------------------------
// Configuration

interface RunConfig {
  readonly timeMs: number;
  readonly warmupTimeMs: number;
  readonly minIterations: number;
  readonly warmupIterations: number;
}
interface VariantConfig {
  readonly name: string;
  readonly description: string;
  readonly env: Readonly<Record<string, string>>;
  readonly maxPacketBytes: number;
}
interface VariantsFile {
  readonly corpus: { readonly seed: number; readonly contexts: number; readonly targetBytes: number };
  readonly runs: { readonly full: RunConfig; readonly quick: RunConfig };
  readonly variants: readonly VariantConfig[];
}

const HERE = new URL('../../dogstatsd-parse/', import.meta.url);
const RESULTS = new URL('../../results/', import.meta.url);
const config = JSON.parse(readFileSync(new URL('variants.json', HERE), 'utf8')) as VariantsFile;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: process.env['KENNEL_BENCH_QUICK'] === '1' },
    variant: { type: 'string' },
    time: { type: 'string' },
    out: { type: 'string' },
    profile: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    // Internal: run one variant and write its result to --out (see main()).
    child: { type: 'boolean', default: false },
  },
  strict: true,
});

const TASKS = {
  kennel: 'kennel codec',
  'kennel-js': 'kennel codec, JS only',
  'kennel-key': 'kennel codec + context key',
  naive: 'naive split',
  'naive-key': 'naive split + string key',
} as const;
type TaskId = keyof typeof TASKS;

// The targets, for the kennel codec against the naive parser, on one core. `kennel codec`
// is the codec as the agent builds it (the native tokenizer when the addon is loaded);
// `kennel codec, JS only` the same codec with `nativeTokenizer: false` (the Buffer.indexOf path
// every packet takes where the addon is missing or KENNEL_DISABLE_NATIVE=1 is set).
const TARGET_RATIO = 6;
const TARGET_LINES_PER_SEC = 5_000_000;

// ---------------------------------------------------------------------------------------------
// The passes. Each pass parses every packet of the corpus once and tallies every metric.

/**
 * The kennel visitor. One class for the timed passes and the guard (a `mode` field, not three
 * classes) so the codec's visitor call site stays monomorphic across tasks.
 */
class KennelVisitor implements DogStatsDVisitor {
  readonly tally = new Tally();
  readonly key = new ContextKeyBuilder();
  /** The (empty) host's hash, once, as the router keeps its default host's. */
  readonly hostHash = new Hash64();
  /** 0: tally only; 1: tally and context key; 2: as 1, and record keys (guard only). */
  mode: 0 | 1 | 2 = 0;
  readonly seen = new Set<string>();

  constructor() {
    this.key.hashHost(NO_HOST, 0, 0, this.hostHash);
  }

  onMetric(m: MetricView): void {
    const t = this.tally;
    t.lines++;
    if (m.type === MetricType.SET) t.setLines++;
    const n = m.valueCount;
    const v = m.values;
    let sum = t.valueSum;
    for (let i = 0; i < n; i++) sum += v[i]!;
    t.valueSum = sum;
    t.values += n;
    t.tags += m.tagCount;
    if (m.sampleRate !== 1) t.sampledLines++;
    t.rateSum += m.sampleRate;
    if (this.mode === 0) return;
    const key = this.key;
    const buf = m.buf;
    key.reset();
    const starts = m.tagStarts;
    const ends = m.tagEnds;
    for (let i = 0; i < m.tagCount; i++) key.addTag(buf, starts[i]!, ends[i]!);
    key.finishWithHostHash(buf, m.nameStart, m.nameEnd, this.hostHash);
    t.keySink ^= key.lo;
    if (this.mode === 2) this.seen.add(`${key.hi}:${key.lo}`);
  }
  onEvent(_event: DecodedEvent): void {
    this.tally.errors++; // the corpus has none
  }
  onServiceCheck(_check: DecodedServiceCheck): void {
    this.tally.errors++;
  }
  onError(_code: number, _buf: Uint8Array, _lineStart: number, _lineEnd: number): void {
    this.tally.errors++;
  }
}
const NO_HOST = new Uint8Array(0);

function kennelPass(codec: DogStatsDCodec, packets: readonly Buffer[], visitor: KennelVisitor): void {
  visitor.tally.reset();
  for (let i = 0; i < packets.length; i++) {
    const p = packets[i]!;
    codec.decode(p, 0, p.length, visitor);
  }
}

function makeNaiveVisit(t: Tally): (m: NaiveMetric) => void {
  return (m) => {
    t.lines++;
    if (m.type === 's') t.setLines++;
    const v = m.values;
    for (let i = 0; i < v.length; i++) t.valueSum += v[i]!;
    t.values += v.length;
    t.tags += m.tags.length;
    if (m.sampleRate !== 1) t.sampledLines++;
    t.rateSum += m.sampleRate;
  };
}

/** The naive context table: `name|sorted tags` as a string key in a Map, as a naive aggregator would. */
function makeNaiveKeyVisit(t: Tally, contexts: Map<string, number>): (m: NaiveMetric) => void {
  const tallyOnly = makeNaiveVisit(t);
  return (m) => {
    tallyOnly(m);
    const key = `${m.name}|${m.tags.sort().join(',')}`;
    contexts.set(key, (contexts.get(key) ?? 0) + 1);
    t.keySink += key.length;
  };
}

function naivePass(packets: readonly Buffer[], tally: Tally, visit: (m: NaiveMetric) => void): void {
  tally.reset();
  for (let i = 0; i < packets.length; i++) naiveParse(packets[i]!, visit);
}

// ---------------------------------------------------------------------------------------------
// Per-variant setup, guard and timing

interface Passes {
  readonly run: Record<TaskId, () => void>;
  readonly tallies: Record<TaskId, Tally>;
  readonly kennel: KennelVisitor;
  readonly kennelKey: KennelVisitor;
  /** Whether `kennel codec` tokenizes natively (false: the addon is not loaded or is switched off). */
  readonly nativeTokenizer: boolean;
  readonly naiveContexts: Map<string, number>;
}

function makePasses(corpus: Corpus): Passes {
  const packets = corpus.packets;
  const codec = new DogStatsDCodec();
  const codecJs = new DogStatsDCodec({ nativeTokenizer: false });
  const kennel = new KennelVisitor();
  const kennelJs = new KennelVisitor();
  const kennelKey = new KennelVisitor();
  kennelKey.mode = 1;
  const naiveTally = new Tally();
  const naiveKeyTally = new Tally();
  const naiveContexts = new Map<string, number>();
  const naiveVisit = makeNaiveVisit(naiveTally);
  const naiveKeyVisit = makeNaiveKeyVisit(naiveKeyTally, naiveContexts);
  return {
    run: {
      kennel: () => kennelPass(codec, packets, kennel),
      'kennel-js': () => kennelPass(codecJs, packets, kennelJs),
      'kennel-key': () => kennelPass(codec, packets, kennelKey),
      naive: () => naivePass(packets, naiveTally, naiveVisit),
      'naive-key': () => naivePass(packets, naiveKeyTally, naiveKeyVisit),
    },
    tallies: { kennel: kennel.tally, 'kennel-js': kennelJs.tally, 'kennel-key': kennelKey.tally, naive: naiveTally, 'naive-key': naiveKeyTally },
    kennel,
    kennelKey,
    nativeTokenizer: codec.usesNativeTokenizer,
    naiveContexts,
  };
}

/**
 * Before timing: every pass must find the same lines, values, value sum, tags and sample rates,
 * and those must match what the generator wrote; the two context tables must find the same
 * number of distinct contexts. The value sums are compared exactly: both sides add the same
 * doubles in the same order, and Go's ParseFloat and JS parseFloat both round correctly.
 */
function guard(variant: string, corpus: Corpus, passes: Passes): void {
  const problems: string[] = [];
  passes.kennelKey.mode = 2;
  for (const id of Object.keys(TASKS) as TaskId[]) passes.run[id]();
  passes.kennelKey.mode = 1;
  const ref = passes.tallies.naive.summary();
  const e = corpus.expected;
  const check = (what: string, got: number, want: number): void => {
    if (got !== want) problems.push(`${what}: got ${got}, want ${want}`);
  };
  check('naive lines vs generator', ref.lines, e.lines);
  check('naive values vs generator', ref.values, e.values);
  check('naive set lines vs generator', ref.setLines, e.setLines);
  check('naive tags vs generator', ref.tags, e.tags);
  check('naive sampled lines vs generator', ref.sampledLines, e.sampledLines);
  for (const id of Object.keys(TASKS) as TaskId[]) {
    const s: TallySummary = passes.tallies[id].summary();
    for (const k of Object.keys(s) as (keyof TallySummary)[]) check(`${id} ${k} vs naive`, s[k], ref[k]);
    check(`${id} errors, events and service checks`, passes.tallies[id].errors, 0);
  }
  check('kennel distinct context keys vs naive string keys', passes.kennelKey.seen.size, passes.naiveContexts.size);
  if (problems.length > 0) {
    console.error(`\ncorrectness guard failed on the ${variant} corpus; not timing anything:`);
    for (const p of problems) console.error(`  - ${p}`);
    const where = firstDisagreement(corpus);
    if (where !== null) console.error(`  first disagreeing line: ${where}`);
    process.exit(1);
  }
  console.log(
    `guard       ok: ${ref.lines} lines, ${ref.values} values (sum ${ref.valueSum}), ${ref.tags} tags, ` +
      `${passes.naiveContexts.size} distinct name+tag-set contexts, all ${Object.keys(TASKS).length} passes agree`,
  );
}

/** Finds the first line where kennel and naive disagree (diagnostics for a failed guard only). */
function firstDisagreement(corpus: Corpus): string | null {
  const codec = new DogStatsDCodec();
  for (const p of corpus.packets) {
    const naive: string[] = [];
    naiveParse(p, (m) => naive.push(JSON.stringify([m.name, m.values, m.tags.length, m.sampleRate])));
    const kennel: string[] = [];
    const text = p.toString('latin1');
    const collect: DogStatsDVisitor = {
      onMetric: (m) =>
        kennel.push(
          JSON.stringify([
            text.slice(m.nameStart, m.nameEnd),
            Array.from(m.values.subarray(0, m.valueCount)),
            m.tagCount,
            m.sampleRate,
          ]),
        ),
      onEvent: () => kennel.push('event'),
      onServiceCheck: () => kennel.push('service_check'),
      onError: (code, _b, s, e) => kennel.push(`error ${code}: ${text.slice(s, e)}`),
    };
    codec.decode(p, 0, p.length, collect);
    const n = Math.max(naive.length, kennel.length);
    for (let i = 0; i < n; i++) {
      if (naive[i] !== kennel[i]) {
        const line = text.split('\n')[i] ?? '(none)';
        return `${JSON.stringify(line)}: naive ${naive[i] ?? '(none)'}, kennel ${kennel[i] ?? '(none)'}`;
      }
    }
  }
  return null;
}

interface TaskFigures {
  readonly task: string;
  readonly samples: number;
  readonly medianMs: number;
  readonly p75Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly rmePercent: number;
  readonly linesPerSec: number;
  readonly mbPerSec: number;
}

function figures(task: Task, corpus: Corpus): TaskFigures {
  const r = task.result;
  if (r.state !== 'completed') throw new Error(`task ${task.name} did not complete: ${r.state}`);
  const l = r.latency;
  const medianS = l.p50 / 1000;
  return {
    task: task.name,
    samples: l.samplesCount,
    medianMs: round(l.p50, 4),
    p75Ms: round(l.p75, 4),
    p99Ms: round(l.p99, 4),
    meanMs: round(l.mean, 4),
    rmePercent: round(l.rme, 2),
    linesPerSec: Math.round(corpus.lines / medianS),
    mbPerSec: round(corpus.bytes / 1e6 / medianS, 1),
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

interface VariantResult {
  readonly variant: string;
  readonly description: string;
  readonly maxPacketBytes: number;
  readonly packets: number;
  readonly lines: number;
  readonly bytes: number;
  readonly meanPacketBytes: number;
  readonly meanLineBytes: number;
  readonly tasks: readonly TaskFigures[];
  /** Whether `kennel codec` used the native tokenizer in this run. */
  readonly nativeTokenizer: boolean;
  readonly ratios: {
    /** kennel codec ÷ naive split, by median lines/s. */
    readonly codecVsNaive: number;
    /** kennel codec, JS only ÷ naive split. */
    readonly codecJsVsNaive: number;
    /** kennel codec ÷ kennel codec, JS only: what the tokenizer buys. */
    readonly codecVsCodecJs: number;
    /** kennel codec + context key ÷ naive split + string key. */
    readonly codecKeyVsNaiveKey: number;
  };
  readonly targets: {
    readonly ratio: number;
    readonly linesPerSec: number;
    readonly ratioMet: boolean;
    readonly linesPerSecMet: boolean;
  };
}

function runVariant(v: VariantConfig, corpus: Corpus, run: RunConfig): VariantResult {
  console.log(
    `\n== ${v.name}: ${corpus.packets.length} packets of at most ${v.maxPacketBytes} B, ${corpus.lines} lines, ` +
      `${(corpus.bytes / 1e6).toFixed(2)} MB (mean ${(corpus.bytes / corpus.packets.length).toFixed(0)} B/packet, ` +
      `${(corpus.bytes / corpus.lines).toFixed(1)} B/line)`,
  );
  const passes = makePasses(corpus);
  guard(v.name, corpus, passes);
  console.log(
    `tokenizer   kennel codec: ${passes.nativeTokenizer ? 'native' : 'NOT native (addon not loaded or KENNEL_DISABLE_NATIVE set): both kennel codec tasks run the JS path'}`,
  );
  const gc = (globalThis as { gc?: () => void }).gc;
  const bench = new Bench({
    name: `dogstatsd-parse ${v.name}`,
    time: run.timeMs,
    warmupTime: run.warmupTimeMs,
    iterations: run.minIterations,
    warmupIterations: run.warmupIterations,
    throws: true,
    // With --expose-gc, start every task from a collected heap so one task's garbage is not
    // charged to the next.
    setup: () => gc?.(),
  });
  for (const id of Object.keys(TASKS) as TaskId[]) bench.add(TASKS[id], passes.run[id]);
  bench.runSync();
  const tasks = bench.tasks.map((t) => figures(t, corpus));
  const by = (id: TaskId): TaskFigures => tasks.find((t) => t.task === TASKS[id])!;
  const codecVsNaive = round(by('kennel').linesPerSec / by('naive').linesPerSec, 2);
  const codecJsVsNaive = round(by('kennel-js').linesPerSec / by('naive').linesPerSec, 2);
  const codecVsCodecJs = round(by('kennel').linesPerSec / by('kennel-js').linesPerSec, 2);
  const codecKeyVsNaiveKey = round(by('kennel-key').linesPerSec / by('naive-key').linesPerSec, 2);
  printTable(tasks, by('naive').linesPerSec);
  const linesPerSec = by('kennel').linesPerSec;
  const ratioMet = codecVsNaive >= TARGET_RATIO;
  const linesPerSecMet = linesPerSec >= TARGET_LINES_PER_SEC;
  console.log(
    `ratios      codec/naive ${codecVsNaive}x (target >= ${TARGET_RATIO}x: ${ratioMet ? 'met' : 'NOT met'}), ` +
      `codec JS only/naive ${codecJsVsNaive}x, codec/codec JS only ${codecVsCodecJs}x, ` +
      `codec+key/naive+key ${codecKeyVsNaiveKey}x; codec ${(linesPerSec / 1e6).toFixed(2)} M lines/s ` +
      `(target >= ${TARGET_LINES_PER_SEC / 1e6} M: ${linesPerSecMet ? 'met' : 'NOT met'})`,
  );
  // Keep the sinks alive so no pass can be optimised away.
  sink ^= passes.tallies.kennel.keySink ^ passes.tallies['kennel-key'].keySink ^ passes.tallies['naive-key'].keySink;
  return {
    variant: v.name,
    description: v.description,
    maxPacketBytes: v.maxPacketBytes,
    packets: corpus.packets.length,
    lines: corpus.lines,
    bytes: corpus.bytes,
    meanPacketBytes: Math.round(corpus.bytes / corpus.packets.length),
    meanLineBytes: round(corpus.bytes / corpus.lines, 1),
    tasks,
    nativeTokenizer: passes.nativeTokenizer,
    ratios: { codecVsNaive, codecJsVsNaive, codecVsCodecJs, codecKeyVsNaiveKey },
    targets: { ratio: TARGET_RATIO, linesPerSec: TARGET_LINES_PER_SEC, ratioMet, linesPerSecMet },
  };
}
let sink = 0;

function printTable(tasks: readonly TaskFigures[], naiveLinesPerSec: number): void {
  const header = ['task', 'median ms/pass', 'p99 ms', 'samples', 'M lines/s', 'MB/s', 'vs naive'];
  const rows = tasks.map((t) => [
    t.task,
    t.medianMs.toFixed(3),
    t.p99Ms.toFixed(3),
    String(t.samples),
    (t.linesPerSec / 1e6).toFixed(2),
    t.mbPerSec.toFixed(1),
    `${(t.linesPerSec / naiveLinesPerSec).toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(fmt(header));
  for (const r of rows) console.log(fmt(r));
}

// ---------------------------------------------------------------------------------------------
// Profile mode: one task in a plain loop, no tinybench, for `node --cpu-prof`.

function profile(id: string, corpus: Corpus, seconds: number): void {
  if (!(id in TASKS)) throw new Error(`--profile takes one of ${Object.keys(TASKS).join(', ')}`);
  const passes = makePasses(corpus);
  const pass = passes.run[id as TaskId];
  const until = performance.now() + seconds * 1000;
  let n = 0;
  const t0 = performance.now();
  while (performance.now() < until) {
    pass();
    n++;
  }
  const s = (performance.now() - t0) / 1000;
  console.log(
    `profile     ${TASKS[id as TaskId]}: ${n} passes in ${s.toFixed(1)} s, mean ` +
      `${((corpus.lines * n) / s / 1e6).toFixed(2)} M lines/s, ${((corpus.bytes * n) / s / 1e6).toFixed(1)} MB/s`,
  );
}

// ---------------------------------------------------------------------------------------------
// Main

/**
 * Each variant runs in its own process, as sirun runs variants: JIT feedback, heap state and GC
 * pressure left by one variant's tasks (the naive ones allocate heavily) must not leak into the
 * next. Within a variant, all tasks share one process, so their ratios are same-run.
 */
function main(): void {
  const mode = args.quick ? 'quick' : 'full';
  const base = config.runs[mode];
  const run: RunConfig = args.time === undefined ? base : { ...base, timeMs: Number(args.time) };
  const only = args.variant ?? process.env['KENNEL_BENCH_VARIANT'];
  const variants = config.variants.filter((v) => only === undefined || v.name === only);
  if (variants.length === 0) throw new Error(`no variant named ${only}; see variants.json`);

  if (args.child) {
    const v = variants[0]!;
    const lines = generateLines(config.corpus);
    const result = runVariant(v, packLines(lines, v.maxPacketBytes), run);
    writeFileSync(args.out!, JSON.stringify({ result, sink }));
    return;
  }

  const env: BenchEnvironment = printEnvironment();
  console.log(
    `run         ${mode}: ${run.timeMs} ms per task (warmup ${run.warmupTimeMs} ms), one iteration = one pass over the corpus, ` +
      `one process per variant` +
      ((globalThis as { gc?: unknown }).gc ? ', gc between tasks' : ''),
  );
  const lines = generateLines(config.corpus);
  console.log(
    `corpus      seed ${config.corpus.seed}, ${lines.contexts} contexts, ${lines.expected.lines} lines ` +
      `(${lines.expected.setLines} sets, ${lines.expected.sampledLines} sampled, ${lines.expected.values} values, ${lines.expected.tags} tags)`,
  );

  if (args.profile !== undefined) {
    const v = variants[0]!;
    profile(args.profile, packLines(lines, v.maxPacketBytes), Number(args.seconds));
    return;
  }

  const scratch = mkdtempSync(join(tmpdir(), 'kennel-bench-'));
  const results: VariantResult[] = [];
  try {
    for (const v of variants) {
      const out = join(scratch, `${v.name}.json`);
      const childArgs = [...process.execArgv, fileURLToPath(import.meta.url), '--child', '--variant', v.name, '--out', out];
      if (args.quick) childArgs.push('--quick');
      if (args.time !== undefined) childArgs.push('--time', args.time);
      try {
        execFileSync(process.execPath, childArgs, { stdio: 'inherit', env: { ...process.env, ...v.env } });
      } catch (err) {
        // The child has printed why (a failed guard exits with status 1); don't add a stack.
        const status = (err as { status?: number | null }).status;
        console.error(`\nvariant ${v.name} failed (exit status ${status ?? 'unknown'}); no results written`);
        process.exit(typeof status === 'number' && status !== 0 ? status : 1);
      }
      const r = JSON.parse(readFileSync(out, 'utf8')) as { result: VariantResult; sink: number };
      results.push(r.result);
      sink ^= r.sink;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const out = args.out ?? fileURLToPath(new URL(mode === 'full' ? 'dogstatsd-parse.json' : 'dogstatsd-parse.quick.json', RESULTS));
  mkdirSync(fileURLToPath(RESULTS), { recursive: true });
  const argv = process.argv.slice(2);
  const record = {
    benchmark: 'dogstatsd-parse',
    mode,
    command: `node benchmarks/dist/dogstatsd-parse/index.js${argv.length > 0 ? ' ' + argv.join(' ') : ''}`,
    execArgv: process.execArgv,
    environment: env,
    run,
    corpus: { ...config.corpus, ...lines.expected },
    units: { mb: '10^6 bytes', linesPerSec: 'corpus lines / median pass time' },
    variants: results,
    summary: results.map((r) => ({
      variant: r.variant,
      codecLinesPerSec: r.tasks.find((t) => t.task === TASKS.kennel)!.linesPerSec,
      codecMbPerSec: r.tasks.find((t) => t.task === TASKS.kennel)!.mbPerSec,
      codecJsLinesPerSec: r.tasks.find((t) => t.task === TASKS['kennel-js'])!.linesPerSec,
      nativeTokenizer: r.nativeTokenizer,
      naiveLinesPerSec: r.tasks.find((t) => t.task === TASKS.naive)!.linesPerSec,
      codecVsNaive: r.ratios.codecVsNaive,
      codecJsVsNaive: r.ratios.codecJsVsNaive,
      codecKeyVsNaiveKey: r.ratios.codecKeyVsNaiveKey,
      targetsMet: r.targets.ratioMet && r.targets.linesPerSecMet,
    })),
    sink,
  };
  writeFileSync(out, JSON.stringify(record, null, 2) + '\n');
  console.log(`\nsummary`);
  for (const s of record.summary) {
    console.log(
      `  ${s.variant}: codec ${(s.codecLinesPerSec / 1e6).toFixed(2)} M lines/s, ${s.codecMbPerSec} MB/s ` +
        `(tokenizer ${s.nativeTokenizer ? 'native' : 'not native'}); codec JS only ` +
        `${(s.codecJsLinesPerSec / 1e6).toFixed(2)} M lines/s; naive ${(s.naiveLinesPerSec / 1e6).toFixed(2)} M lines/s; ` +
        `codec/naive ${s.codecVsNaive}x; codec JS only/naive ${s.codecJsVsNaive}x; ` +
        `codec+key/naive+key ${s.codecKeyVsNaiveKey}x; targets ${s.targetsMet ? 'met' : 'NOT met'}`,
    );
  }
  console.log(`wrote       ${out}`);
}

main();
