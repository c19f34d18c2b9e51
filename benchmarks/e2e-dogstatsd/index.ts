/**
 * e2e-dogstatsd: the highest rate each DogStatsD server sustains with no loss, over UDP and over
 * a Unix datagram socket, on the same seeded load in the same run. See README.md in this folder.
 *
 *   node benchmarks/dist/e2e-dogstatsd/index.js                  full run (kennel, netdata, Etsy statsd, node:dgram)
 *   node benchmarks/dist/e2e-dogstatsd/index.js --quick          a few seconds, kennel only (CI)
 *   node benchmarks/dist/e2e-dogstatsd/index.js --servers kennel,netdata --transports udp
 *   node benchmarks/dist/e2e-dogstatsd/index.js --servers kennel --rate 2000000     one step per transport
 *   node benchmarks/dist/e2e-dogstatsd/index.js --servers kennel --rate 2000000 --profile /tmp/prof
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { createSocket } from 'node:dgram';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateLines, packLines, type Corpus } from '../_harness/corpus.js';
import { encodeLoadgenCorpus } from '../_harness/loadgen-corpus.js';
import { printEnvironment, type BenchEnvironment } from '../_harness/env.js';
import { cpuSeconds, threadCpuSeconds, loadAverage, memoryKiB, readSysctl, threadCount, udpRcvbufErrors, udpSocketDrops, writeSysctl } from './proc.js';
import { SERVERS, SOURCE_DIR, type RunningServer, type ServerDef, type ServerName, type Transport } from './servers.js';

// ---------------------------------------------------------------------------------------------
// Configuration

interface FullRun {
  readonly durationS: number;
  readonly warmS: number;
  readonly settleMaxS: number;
  readonly settleStableS: number;
  readonly ladderBaseLinesPerSec: number;
  /** The ladder rung each server starts on (rate = ladderBase x sqrt(2)^rung). */
  readonly startRung: Readonly<Record<ServerName, number>>;
  readonly maxLinesPerSec: number;
  /** Run a failed step once more before the rate counts as failed. */
  readonly retryFailed: boolean;
  readonly bisectSteps: number;
  readonly servers: readonly ServerName[];
  readonly transports: readonly Transport[];
}
interface QuickRun {
  readonly durationS: number;
  readonly warmS: number;
  readonly settleMaxS: number;
  readonly settleStableS: number;
  readonly rates: readonly number[];
  readonly servers: readonly ServerName[];
  readonly transports: readonly Transport[];
}
interface VariantsFile {
  readonly corpus: { readonly seed: number; readonly contexts: number; readonly targetBytes: number };
  readonly packetBytes: Readonly<Record<Transport, number>>;
  readonly receiveBufferBytes: number;
  readonly unixMaxDgramQlen: number;
  readonly runs: { readonly full: FullRun; readonly quick: QuickRun };
  readonly transportsByServer: Readonly<Record<ServerName, readonly Transport[]>>;
  readonly passRule: { readonly lateToleranceFraction: number; readonly lateToleranceS: number };
}

const config = JSON.parse(readFileSync(join(SOURCE_DIR, 'variants.json'), 'utf8')) as VariantsFile;
const RESULTS = new URL('../../results/', import.meta.url);

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: process.env['KENNEL_BENCH_QUICK'] === '1' },
    servers: { type: 'string' },
    transports: { type: 'string' },
    duration: { type: 'string' },
    rate: { type: 'string' },
    profile: { type: 'string' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
    nice: { type: 'string', default: '-10' },
  },
  strict: true,
});

// The issue's goals, as same-run ratios on this machine.
const GOAL_VS_NETDATA_UDP = 1.0;
const GOAL_VS_ETSY_UDP = 7;
const GOAL_UDS_LINES_PER_SEC = 2_000_000;

// ---------------------------------------------------------------------------------------------
// Corpus files for the C sender

interface CorpusFile {
  readonly transport: Transport;
  readonly path: string;
  readonly packets: number;
  readonly lines: number;
  readonly samples: number;
  readonly bytes: number;
  readonly meanPacketBytes: number;
  readonly meanLineBytes: number;
}

function writeCorpusFile(corpus: Corpus, transport: Transport, path: string): CorpusFile {
  const { file, lines, samples } = encodeLoadgenCorpus(corpus.packets);
  if (lines !== corpus.lines) throw new Error(`corpus: counted ${lines} lines, the generator wrote ${corpus.lines}`);
  const expectedSamples = corpus.expected.values + corpus.expected.setLines;
  if (samples !== expectedSamples) throw new Error(`corpus: counted ${samples} samples, the generator expects ${expectedSamples}`);
  writeFileSync(path, file);
  return {
    transport,
    path,
    packets: corpus.packets.length,
    lines,
    samples,
    bytes: corpus.bytes,
    meanPacketBytes: Math.round(corpus.bytes / corpus.packets.length),
    meanLineBytes: Math.round((corpus.bytes / lines) * 10) / 10,
  };
}

// ---------------------------------------------------------------------------------------------
// The C sender

function compileLoadgen(dir: string): string {
  const out = join(dir, 'loadgen');
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', out, join(SOURCE_DIR, 'loadgen.c')], { stdio: ['ignore', 'inherit', 'inherit'] });
  return out;
}

interface LoadgenReport {
  readonly targetLines: number;
  readonly packets: number;
  readonly lines: number;
  readonly samples: number;
  readonly bytes: number;
  readonly elapsedS: number;
  readonly achievedLinesPerSec: number;
  readonly syscalls: number;
  readonly stalls: number;
  readonly stallS: number;
  readonly sendErrors: number;
  readonly lastErrno: number;
  readonly aborted: boolean;
  readonly sndbuf: number;
  readonly cpuUserS: number;
  readonly cpuSysS: number;
}

/**
 * The nice value for the sender and the server under test (every thread of it), so that the rest
 * of a shared machine (nice 0) disturbs a step less. The same for every server; 0 turns it off.
 */
const NICE = Number(args.nice);

/** Renices every thread of `pid` (setpriority on Linux applies per thread). */
function reniceAll(pid: number): void {
  if (NICE === 0) return;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return;
  }
  for (const tid of tids) {
    try {
      setPriority(Number(tid), NICE);
    } catch {
      // not allowed (not root): run at the default priority
    }
  }
}

function runLoadgen(bin: string, transport: Transport, dest: string, corpusPath: string, rate: number, durationS: number): Promise<LoadgenReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [transport, dest, corpusPath, String(rate), String(durationS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) reniceAll(child.pid);
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as LoadgenReport);
      } catch {
        reject(new Error(`loadgen exited with ${code} and no report: ${err.trim() || out.trim()}`));
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Ports

function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  return new Promise((resolve, reject) => {
    if (kind === 'tcp') {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => resolve(port));
      });
    } else {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(0, '127.0.0.1', () => {
        const port = s.address().port;
        s.close(() => resolve(port));
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// One step: a fresh server, a fixed rate, a fixed duration

type FailReason = 'loss' | 'late' | 'aborted' | 'send-errors' | 'server-exited' | 'overcount';

interface StepResult {
  readonly server: ServerName;
  readonly transport: Transport;
  readonly targetLinesPerSec: number;
  readonly durationS: number;
  readonly pass: boolean;
  readonly reasons: readonly FailReason[];
  /** What the server counts (lines, or samples for kennel). */
  readonly unit: 'lines' | 'samples';
  readonly sent: { readonly lines: number; readonly samples: number; readonly packets: number; readonly bytes: number };
  readonly expected: number;
  readonly counted: number;
  readonly lost: number;
  readonly settleS: number;
  readonly loadgen: LoadgenReport;
  /** Server CPU time over the step ÷ the send time, in % of one core. */
  readonly cpuPct: number | null;
  /** The same by thread (see `threadShares`), threads under 1 % left out. */
  readonly threadCpuPct: Readonly<Record<string, number>>;
  readonly rssPeakMiB: number | null;
  readonly rssEndMiB: number | null;
  readonly threads: number | null;
  readonly grantedRcvbuf: number | null;
  /** /proc/net/udp drops of the server's socket over the step (UDP only). */
  readonly socketDrops: number | null;
  /** Host-wide Udp RcvbufErrors over the step. */
  readonly hostRcvbufErrors: number | null;
  readonly loadAverageBefore: readonly [number, number, number];
  readonly serverDetail: Record<string, unknown>;
}

interface StepSettings {
  readonly durationS: number;
  readonly warmS: number;
  readonly settleMaxS: number;
  readonly settleStableS: number;
}

interface Context {
  readonly loadgen: string;
  readonly corpora: Readonly<Record<Transport, CorpusFile>>;
  readonly workRoot: string;
  stepNo: number;
  readonly retry: boolean;
  readonly cpuProfileDir?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/**
 * CPU % of a core per thread between two `threadCpuSeconds` readings, busiest first: `main` is
 * the thread whose id is the process id, named threads (the readers) by name, and the other
 * `node` threads (workers, libuv's pool, V8's helpers) as `node-1`, `node-2`... by how busy they
 * were, so a Node server's busiest worker is `node-1`. Threads under 1 % are left out.
 */
function threadShares(pid: number, before: ReturnType<typeof threadCpuSeconds>, after: ReturnType<typeof threadCpuSeconds>, seconds: number): Record<string, number> {
  const rows: { name: string; pct: number }[] = [];
  for (const [tid, t] of after) {
    const pct = Math.round(((t.seconds - (before.get(tid)?.seconds ?? 0)) / seconds) * 1000) / 10;
    if (pct >= 1) rows.push({ name: tid === pid ? 'main' : t.name, pct });
  }
  rows.sort((a, b) => b.pct - a.pct);
  const out: Record<string, number> = {};
  const seen = new Map<string, number>();
  for (const r of rows) {
    const n = (seen.get(r.name) ?? 0) + 1;
    seen.set(r.name, n);
    out[r.name === 'main' ? 'main' : `${r.name}-${n}`] = r.pct;
  }
  return out;
}

const mib = (kib: number | null): number | null => (kib === null ? null : Math.round((kib / 1024) * 10) / 10);

async function runStep(ctx: Context, def: ServerDef, transport: Transport, rate: number, s: StepSettings): Promise<StepResult> {
  const workDir = join(ctx.workRoot, `${String(++ctx.stepNo).padStart(3, '0')}-${def.name}-${transport}-${rate}`);
  mkdirSync(workDir, { recursive: true });
  const ports = { udp: await freePort('udp'), http: await freePort('tcp') };
  const server: RunningServer = await def.start({
    transport,
    workDir,
    receiveBufferBytes: config.receiveBufferBytes,
    ports,
    ...(def.name === 'kennel' && ctx.cpuProfileDir !== undefined ? { cpuProfileDir: ctx.cpuProfileDir } : {}),
  });
  try {
    reniceAll(server.pid);
    await sleep(s.warmS * 1000);
    reniceAll(server.pid); // threads started after the listener came up
    const load = loadAverage();
    const base = (await server.count()).value;
    const cpu0 = cpuSeconds(server.pid);
    const threads0 = threadCpuSeconds(server.pid);
    const drops0 = transport === 'udp' ? udpSocketDrops(ports.udp) : null;
    const host0 = udpRcvbufErrors();
    const rcvbuf = server.grantedRcvbuf();

    const lg = await runLoadgen(ctx.loadgen, transport, server.dest, ctx.corpora[transport].path, rate, s.durationS);
    const expected = server.unit === 'samples' ? lg.samples : lg.lines;

    // Settle: wait until the server has counted everything, or its count stops moving.
    const settleStart = Date.now();
    let counted = (await server.count()).value - base;
    let lastChange = Date.now();
    while (counted < expected && !server.exited()) {
      if (Date.now() - settleStart > s.settleMaxS * 1000) break;
      if (Date.now() - lastChange > s.settleStableS * 1000) break;
      await sleep(250);
      const c = (await server.count()).value - base;
      if (c !== counted) {
        counted = c;
        lastChange = Date.now();
      }
    }
    const settleS = (Date.now() - settleStart) / 1000;
    const cpu1 = cpuSeconds(server.pid);
    const threads1 = threadCpuSeconds(server.pid);
    const mem = memoryKiB(server.pid);
    const threads = threadCount(server.pid);
    const drops1 = transport === 'udp' ? udpSocketDrops(ports.udp) : null;
    const host1 = udpRcvbufErrors();
    const final = await server.count(true);
    counted = final.value - base;

    const reasons: FailReason[] = [];
    if (server.exited()) reasons.push('server-exited');
    if (lg.aborted) reasons.push('aborted');
    if (lg.sendErrors > 0) reasons.push('send-errors');
    if (counted < expected) reasons.push('loss');
    if (counted > expected) reasons.push('overcount');
    const lateBy = lg.elapsedS - s.durationS;
    if (lateBy > Math.max(config.passRule.lateToleranceS, s.durationS * config.passRule.lateToleranceFraction)) reasons.push('late');
    return {
      server: def.name,
      transport,
      targetLinesPerSec: rate,
      durationS: s.durationS,
      pass: reasons.length === 0,
      reasons,
      unit: server.unit,
      sent: { lines: lg.lines, samples: lg.samples, packets: lg.packets, bytes: lg.bytes },
      expected,
      counted,
      lost: Math.max(0, expected - counted),
      settleS,
      loadgen: lg,
      cpuPct: cpu0 === null || cpu1 === null ? null : Math.round(((cpu1 - cpu0) / lg.elapsedS) * 1000) / 10,
      threadCpuPct: threadShares(server.pid, threads0, threads1, lg.elapsedS),
      rssPeakMiB: mib(mem?.hwm ?? null),
      rssEndMiB: mib(mem?.rss ?? null),
      threads,
      grantedRcvbuf: rcvbuf,
      socketDrops: drops0 === null || drops1 === null ? null : drops1 - drops0,
      hostRcvbufErrors: host0 === null || host1 === null ? null : host1 - host0,
      loadAverageBefore: load,
      serverDetail: final.detail,
    };
  } finally {
    await server.stop();
    if (!args.keep) rmSync(workDir, { recursive: true, force: true });
  }
}

function fmtRate(r: number): string {
  return `${(r / 1e6).toFixed(3)} M/s`;
}

function printStep(r: StepResult, tag = ''): void {
  const lg = r.loadgen;
  const parts = [
    `${r.server.padEnd(10)} ${r.transport} ${fmtRate(r.targetLinesPerSec).padStart(11)}${tag === '' ? '' : ` ${tag}`}`,
    `load ${r.loadAverageBefore[0].toFixed(2)}`,
    `sent ${lg.lines} lines (${lg.packets} dgrams) in ${lg.elapsedS.toFixed(3)} s`,
    `counted ${r.counted}/${r.expected} ${r.unit}`,
    r.lost > 0 ? `LOST ${r.lost} (${((r.lost / r.expected) * 100).toFixed(2)} %)` : 'lost 0',
    `cpu ${r.cpuPct ?? '?'} %` +
      (Object.keys(r.threadCpuPct).length > 1
        ? ` (${Object.entries(r.threadCpuPct)
            .map(([n, p]) => `${n} ${p}`)
            .join(', ')})`
        : ''),
    `rss ${r.rssPeakMiB ?? '?'} MiB`,
    `sender cpu ${Math.round(((lg.cpuUserS + lg.cpuSysS) / lg.elapsedS) * 100)} %`,
    ...(lg.stalls > 0 ? [`stalls ${lg.stalls} (${lg.stallS.toFixed(2)} s)`] : []),
    ...(r.socketDrops ? [`kernel drops ${r.socketDrops}`] : []),
    r.pass ? 'PASS' : `FAIL (${r.reasons.join(', ')})`,
  ];
  console.log(parts.join('  '));
}

// ---------------------------------------------------------------------------------------------
// The search for the highest no-loss rate

interface SeriesResult {
  readonly server: ServerName;
  readonly transport: Transport;
  readonly steps: readonly StepResult[];
  /** The highest passing rate, or null when none passed. */
  readonly maxLinesPerSec: number | null;
  readonly atMax: StepResult | null;
  /** The lowest failing rate above it, or null when the ladder reached its top without a failure. */
  readonly firstFailLinesPerSec: number | null;
  /** True when the sender, not the server, set the ceiling: late with no loss and no back-pressure (UDP). */
  readonly senderLimited: boolean;
  readonly error: string | null;
}

/** One server and transport being searched. */
interface Series {
  readonly def: ServerDef;
  readonly transport: Transport;
  readonly steps: StepResult[];
  /** The ladder rung it starts on. */
  readonly startRung: number;
  lo: StepResult | null;
  hi: StepResult | null;
  /** Still climbing the ladder. */
  climbing: boolean;
  /** Set when a step could not run (the server did not start, a counter could not be read). */
  error: string | null;
}

/**
 * Runs one rate for a series. A failed step is run once more, and the rate fails only when both
 * fail: on a shared machine a burst of someone else's work can cost one step its loss-free run.
 * Every server gets the same rule. Both steps are recorded.
 */
async function attempt(ctx: Context, s: Series, rate: number, settings: StepSettings): Promise<StepResult | null> {
  try {
    let r = await runStep(ctx, s.def, s.transport, Math.round(rate), settings);
    printStep(r);
    s.steps.push(r);
    if (!r.pass && ctx.retry) {
      r = await runStep(ctx, s.def, s.transport, Math.round(rate), settings);
      printStep(r, 'retry');
      s.steps.push(r);
    }
    return r;
  } catch (e) {
    s.error = (e as Error).message;
    s.climbing = false;
    console.log(`${s.def.name.padEnd(10)} ${s.transport} ${fmtRate(rate).padStart(11)}  ERROR ${s.error}`);
    return null;
  }
}

/**
 * The search, interleaved across servers so that every server meets each rate within a couple
 * of minutes of the others (the machine's background load drifts; same-time steps keep the
 * ratios fair):
 *
 * 1. Ladder: rates `ladderBase x sqrt(2)^k`. At each rung, every series still climbing runs
 *    one step; a series stops climbing at its first failure (or at `maxLinesPerSec`).
 * 2. Bisect: `bisectSteps` rounds; each round every series runs the geometric mean of its last
 *    pass and first failure. A series whose first rung failed halves instead, until a pass.
 */
async function searchAll(ctx: Context, all: Series[], run: FullRun, fixedRate: number | null): Promise<void> {
  const settings: StepSettings = run;
  if (fixedRate !== null) {
    for (const s of all) {
      const r = await attempt(ctx, s, fixedRate, settings);
      if (r === null) continue;
      if (r.pass) s.lo = r;
      else s.hi = r;
    }
    return;
  }
  for (let rung = 0; ; rung++) {
    const rate = run.ladderBaseLinesPerSec * Math.SQRT2 ** rung;
    if (rate > run.maxLinesPerSec * 1.0001) break;
    const active = all.filter((s) => s.climbing && s.startRung <= rung);
    if (active.length === 0 && all.every((s) => !s.climbing || s.startRung < rung)) break;
    if (active.length > 0) console.log(`--- ${fmtRate(rate)}: ${active.map((s) => `${s.def.name}/${s.transport}`).join(', ')}`);
    for (const s of active) {
      const r = await attempt(ctx, s, rate, settings);
      if (r === null) continue;
      if (r.pass) s.lo = r;
      else {
        s.hi = r;
        s.climbing = false;
      }
    }
  }
  for (const s of all) s.climbing = false;
  for (let round = 0; round < run.bisectSteps + 4; round++) {
    const work: { s: Series; rate: number }[] = [];
    for (const s of all) {
      if (s.error !== null) continue;
      if (s.lo !== null && s.hi !== null && round < run.bisectSteps) work.push({ s, rate: Math.sqrt(s.lo.targetLinesPerSec * s.hi.targetLinesPerSec) });
      else if (s.lo === null && s.hi !== null) work.push({ s, rate: s.hi.targetLinesPerSec / 2 });
    }
    if (work.length === 0) break;
    console.log(`--- bisect ${round + 1}: ${work.map((w) => `${w.s.def.name}/${w.s.transport} ${fmtRate(w.rate)}`).join(', ')}`);
    for (const { s, rate } of work) {
      const r = await attempt(ctx, s, rate, settings);
      if (r === null) continue;
      if (r.pass) s.lo = r;
      else s.hi = r;
    }
  }
}

function seriesResult(s: Series): SeriesResult {
  const hi = s.hi;
  const senderLimited =
    hi !== null && s.transport === 'udp' && hi.reasons.length === 1 && hi.reasons[0] === 'late' && hi.loadgen.stalls === 0 && hi.lost === 0;
  return {
    server: s.def.name,
    transport: s.transport,
    steps: s.steps,
    maxLinesPerSec: s.lo?.targetLinesPerSec ?? null,
    atMax: s.lo,
    firstFailLinesPerSec: hi?.targetLinesPerSec ?? null,
    senderLimited,
    error: s.error,
  };
}

// ---------------------------------------------------------------------------------------------
// Summary

function summaryTable(series: readonly SeriesResult[]): string {
  const rows = [
    '| server | transport | max no-loss rate (lines/s) | first failing rate | CPU at max (% of a core) | peak RSS at max (MiB) | threads | rcvbuf granted |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of series) {
    const m = s.atMax;
    const max = s.maxLinesPerSec === null ? 'none passed' : `**${(s.maxLinesPerSec / 1e6).toFixed(3)} M**`;
    const fail =
      s.firstFailLinesPerSec === null
        ? 'none up to the ladder top'
        : `${(s.firstFailLinesPerSec / 1e6).toFixed(3)} M (${s.steps.find((x) => x.targetLinesPerSec === s.firstFailLinesPerSec)?.reasons.join(', ') ?? ''}${
            s.senderLimited ? '; sender limit' : ''
          })`;
    rows.push(
      `| ${s.server} | ${s.transport} | ${max} | ${fail} | ${m?.cpuPct ?? '-'} | ${m?.rssPeakMiB ?? '-'} | ${m?.threads ?? '-'} | ${m?.grantedRcvbuf ?? '-'} |`,
    );
  }
  return rows.join('\n');
}

interface Ratios {
  readonly kennelVsNetdataUdp: number | null;
  readonly kennelVsEtsyUdp: number | null;
  readonly kennelVsNodeDgramUdp: number | null;
  readonly kennelUds: number | null;
}

function ratios(series: readonly SeriesResult[]): Ratios {
  const max = (server: ServerName, t: Transport): number | null => series.find((s) => s.server === server && s.transport === t)?.maxLinesPerSec ?? null;
  const ratio = (a: number | null, b: number | null): number | null => (a === null || b === null || b === 0 ? null : Math.round((a / b) * 100) / 100);
  const k = max('kennel', 'udp');
  return {
    kennelVsNetdataUdp: ratio(k, max('netdata', 'udp')),
    kennelVsEtsyUdp: ratio(k, max('etsy', 'udp')),
    kennelVsNodeDgramUdp: ratio(k, max('node-dgram', 'udp')),
    kennelUds: max('kennel', 'uds'),
  };
}

function printRatios(r: Ratios): void {
  const verdict = (ok: boolean): string => (ok ? 'met' : '**not met**');
  const lines = ['| | kennel | goal | |', '|---|---:|---:|---|'];
  if (r.kennelVsNetdataUdp !== null)
    lines.push(`| kennel ÷ netdata, UDP | ${r.kennelVsNetdataUdp.toFixed(2)}x | ≥ ${GOAL_VS_NETDATA_UDP.toFixed(1)}x | ${verdict(r.kennelVsNetdataUdp >= GOAL_VS_NETDATA_UDP)} |`);
  if (r.kennelVsEtsyUdp !== null)
    lines.push(`| kennel ÷ Etsy statsd, UDP | ${r.kennelVsEtsyUdp.toFixed(2)}x | ≥ ${GOAL_VS_ETSY_UDP}x | ${verdict(r.kennelVsEtsyUdp >= GOAL_VS_ETSY_UDP)} |`);
  if (r.kennelVsNodeDgramUdp !== null) lines.push(`| kennel ÷ node:dgram counting loop, UDP | ${r.kennelVsNodeDgramUdp.toFixed(2)}x | (reference) | |`);
  if (r.kennelUds !== null)
    lines.push(`| kennel over UDS | ${(r.kennelUds / 1e6).toFixed(3)} M lines/s | ≥ 2 M | ${verdict(r.kennelUds >= GOAL_UDS_LINES_PER_SEC)} |`);
  console.log(lines.join('\n'));
}

// ---------------------------------------------------------------------------------------------
// Main

function listArg(v: string | undefined): string[] | null {
  return v === undefined ? null : v.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

function hasCompiler(): boolean {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  const quick = args.quick === true;
  const env: BenchEnvironment = printEnvironment();
  if (!hasCompiler()) {
    console.log('skipped     no C compiler (`cc`): the load generator is a C program; install gcc or build-essential');
    return quick ? 0 : 1;
  }
  const base = quick ? config.runs.quick : config.runs.full;
  const servers = (listArg(args.servers) ?? base.servers) as ServerName[];
  const transports = (listArg(args.transports) ?? base.transports) as Transport[];
  for (const s of servers) if (!(s in SERVERS)) throw new Error(`unknown server ${s}; known: ${Object.keys(SERVERS).join(', ')}`);
  const durationS = args.duration !== undefined ? Number(args.duration) : base.durationS;
  const fixedRate = args.rate !== undefined ? Number(args.rate) : null;
  const run: FullRun = { ...config.runs.full, ...(quick ? config.runs.quick : {}), durationS };

  // Every server gets the same receive buffer: it asks for `receiveBufferBytes`, and rmem_max
  // caps what netdata asks for (it asks for more) at the same figure.
  const rmemPath = 'net/core/rmem_max';
  const rmemBefore = readSysctl(rmemPath);
  const rmemSet = writeSysctl(rmemPath, config.receiveBufferBytes);
  // A Unix datagram socket queues at most net.unix.max_dgram_qlen datagrams. The kernel's own
  // default is 10; systemd sets 512 on most Linux hosts (50-default.conf). Without systemd (this
  // VM) the harness sets systemd's figure, before any server creates its socket.
  const qlenPath = 'net/unix/max_dgram_qlen';
  const qlenBefore = readSysctl(qlenPath);
  const qlenSet = qlenBefore !== null && qlenBefore < config.unixMaxDgramQlen && writeSysctl(qlenPath, config.unixMaxDgramQlen);
  const restore = (): void => {
    if (rmemSet && rmemBefore !== null) writeSysctl(rmemPath, rmemBefore);
    if (qlenSet && qlenBefore !== null) writeSysctl(qlenPath, qlenBefore);
  };
  process.on('exit', restore);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));
  const sysctls = {
    rmemMaxBefore: rmemBefore,
    rmemMax: readSysctl(rmemPath),
    rmemMaxSetByHarness: rmemSet,
    rmemDefault: readSysctl('net/core/rmem_default'),
    wmemMax: readSysctl('net/core/wmem_max'),
    unixMaxDgramQlenBefore: qlenBefore,
    unixMaxDgramQlen: readSysctl(qlenPath),
    unixMaxDgramQlenSetByHarness: qlenSet,
  };
  console.log(
    `sysctl      net.core.rmem_max ${sysctls.rmemMax}${rmemSet ? ` (set by the harness, was ${rmemBefore}; restored at exit)` : ' (could not set it: not allowed here)'}, ` +
      `rmem_default ${sysctls.rmemDefault}, wmem_max ${sysctls.wmemMax}, ` +
      `net.unix.max_dgram_qlen ${sysctls.unixMaxDgramQlen}${qlenSet ? ` (set by the harness, was ${qlenBefore}; restored at exit)` : ''}`,
  );

  const workRoot = mkdtempSync(join(tmpdir(), 'kennel-e2e-'));
  try {
    const lines = generateLines(config.corpus);
    const corpora = {
      udp: writeCorpusFile(packLines(lines, config.packetBytes.udp), 'udp', join(workRoot, 'corpus-udp.bin')),
      uds: writeCorpusFile(packLines(lines, config.packetBytes.uds), 'uds', join(workRoot, 'corpus-uds.bin')),
    };
    for (const c of Object.values(corpora))
      console.log(
        `corpus      ${c.transport}: ${c.packets} datagrams (mean ${c.meanPacketBytes} B, max ${config.packetBytes[c.transport]} B), ${c.lines} lines ` +
          `(mean ${c.meanLineBytes} B), ${c.samples} samples, ${lines.contexts} contexts, seed ${config.corpus.seed}`,
      );
    const loadgen = compileLoadgen(workRoot);
    console.log(
      `sender      loadgen.c (cc -O2), sendmmsg batches of up to 64, paced every 100 us; ${durationS} s per step, fresh server per step; ` +
        (NICE === 0 ? 'default priority' : `sender and server at nice ${NICE}`),
    );

    const profileDir = args.profile;
    if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
    const ctx: Context = {
      loadgen,
      corpora,
      workRoot,
      stepNo: 0,
      retry: !quick && run.retryFailed,
      ...(profileDir !== undefined ? { cpuProfileDir: profileDir } : {}),
    };

    const described: Record<string, string> = {};
    const searched: Series[] = [];
    let harnessError = false;
    for (const name of servers) {
      const def = SERVERS[name];
      try {
        described[name] = def.describe();
      } catch (e) {
        console.log(`server      ${name}: unavailable (${(e as Error).message}); skipped`);
        harnessError ||= quick;
        continue;
      }
      console.log(`server      ${name}: ${described[name]}`);
      for (const t of transports) {
        if (!config.transportsByServer[name].includes(t)) {
          console.log(`            ${name} has no ${t === 'uds' ? 'Unix datagram socket' : t} listener; skipped`);
          continue;
        }
        searched.push({ def, transport: t, steps: [], startRung: run.startRung[name], lo: null, hi: null, climbing: true, error: null });
      }
    }
    try {
      if (quick) {
        const rates = fixedRate !== null ? [fixedRate] : config.runs.quick.rates;
        for (const s of searched)
          for (const rate of rates) {
            const r = await runStep(ctx, s.def, s.transport, rate, run);
            printStep(r);
            s.steps.push(r);
            if (r.pass) s.lo = r;
            else {
              s.hi ??= r;
              harnessError = true;
            }
          }
      } else {
        await searchAll(ctx, searched, run, fixedRate);
      }
    } catch (e) {
      console.log(`harness     ${(e as Error).message}`);
      harnessError = true;
    }
    const series = searched.map(seriesResult);
    if (searched.some((x) => x.error !== null)) harnessError = true;

    console.log('');
    console.log(summaryTable(series));
    console.log('');
    const r = ratios(series);
    if (!quick) printRatios(r);

    const outPath = args.out ?? new URL(quick ? 'e2e-dogstatsd.quick.json' : fixedRate !== null ? 'e2e-dogstatsd.fixed.json' : 'e2e-dogstatsd.json', RESULTS).pathname;
    mkdirSync(join(outPath, '..'), { recursive: true });
    writeFileSync(
      outPath,
      JSON.stringify(
        {
          benchmark: 'e2e-dogstatsd',
          mode: quick ? 'quick' : fixedRate !== null ? 'fixed-rate' : 'full',
          environment: env,
          sysctls,
          corpus: { ...config.corpus, files: Object.values(corpora).map(({ path: _p, ...c }) => c) },
          receiveBufferBytes: config.receiveBufferBytes,
          run,
          nice: NICE,
          servers: described,
          series,
          ratios: r,
          goals: { kennelVsNetdataUdp: GOAL_VS_NETDATA_UDP, kennelVsEtsyUdp: GOAL_VS_ETSY_UDP, kennelUdsLinesPerSec: GOAL_UDS_LINES_PER_SEC },
          profileDir: profileDir ?? null,
          profiles: profileDir !== undefined ? readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')) : [],
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`\nwrote ${outPath}`);
    if (profileDir !== undefined) console.log(`profiles in ${profileDir}: node benchmarks/dist/_harness/cpuprofile-top.js <file>`);
    return harnessError ? 1 : 0;
  } finally {
    if (!args.keep) rmSync(workRoot, { recursive: true, force: true });
    else console.log(`kept ${workRoot}`);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exitCode = 1;
  },
);
