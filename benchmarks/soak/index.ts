/**
 * soak: a real `kennel run` taking DogStatsD metrics (UDP and the Unix socket), APM traces
 * (msgpack v0.4 over HTTP) and logs (its child's stdout, `kennel run -- CMD`) together for a long
 * time at half the combined rate this machine sustains, forwarding everything to a real
 * `FakeIntake` in another process. It samples kennel's memory, CPU and `kennel status --json`
 * every 10 s and checks at the end: nothing lost (every metric sample counted, every datagram's
 * marker counted at the intake, every trace and log line arrived exactly once), RSS flat (least
 * squares slope after a warm-up), no growth in event-loop delay. See README.md here.
 *
 *   node benchmarks/dist/soak/index.js                        rate check (~3 min), then 30 min at half of it; results/soak.json
 *   node benchmarks/dist/soak/index.js --quick                ~2.5 min at a fixed CI-sized rate; results/soak.quick.json
 *   node benchmarks/dist/soak/index.js --duration 600 --scale 0.3     10 min at a given scale, no rate check
 *   node benchmarks/dist/soak/index.js --check-only           only the rate check
 *
 * Exit code 1 when a criterion fails that is meaningful at the run's size: loss and kennel's
 * exit always; RSS slope, event-loop growth and the load keeping to schedule only in a run of
 * 10 minutes or more (a 2-minute slope is noise: it is reported, not judged).
 */
import { execFile, execFileSync, fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateLines, packLines } from '../_harness/corpus.js';
import { encodeLoadgenCorpus } from '../_harness/loadgen-corpus.js';
import { printEnvironment, type BenchEnvironment } from '../_harness/env.js';
import { generateCorpus } from '../traces-decode/payload.js';
import { LOG_PREFIX, MARKER_METRIC, TRACE_ID_BASE, type IntakeReport } from './protocol.js';

const KENNEL = fileURLToPath(new URL('../../../packages/agent/bin/kennel.js', import.meta.url));
const INTAKE = fileURLToPath(new URL('./intake.js', import.meta.url));
/** benchmarks/e2e-dogstatsd/loadgen.c: the paced C sendmmsg sender, reused as is. */
const LOADGEN_C = fileURLToPath(new URL('../../e2e-dogstatsd/loadgen.c', import.meta.url));
const RESULTS = new URL('../../results/', import.meta.url);
const API_KEY = 'soaksoaksoaksoaksoaksoaksoak12345';
const CLK_TCK = 100;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: process.env['KENNEL_BENCH_QUICK'] === '1' },
    duration: { type: 'string' },
    scale: { type: 'string' },
    'check-only': { type: 'boolean', default: false },
    'check-step': { type: 'string', default: '20' },
    sample: { type: 'string', default: '10' },
    warmup: { type: 'string' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
});

// ---------------------------------------------------------------------------------------------
// Rates

/**
 * Each pipeline's maximum with kennel doing nothing else, from benchmarks/RESULTS.md (this
 * machine, kennel's main thread saturated in each): e2e-dogstatsd re-run (UDP 0.85 M lines/s with
 * no loss, UDS 2.0 M), traces-receiver (54,151 spans/s over TCP), logs-throughput (216,624 lines/s
 * from one file; 206,564 from a child).
 */
const SOLO_MAXIMA = { udpLinesPerSec: 850_000, udsLinesPerSec: 2_000_000, spansPerSec: 54_151, logLinesPerSec: 206_564 } as const;

/**
 * Scale 1: each of the three pipelines at a third of its solo maximum (metrics' third split evenly
 * between UDP and UDS). kennel runs them on one main thread, so if their costs simply added up,
 * scale 1 would saturate it; the rate check measures what the machine (kennel, the load
 * generators and the intake together, on 2 cores) really sustains combined.
 */
interface Rates {
  readonly udpLinesPerSec: number;
  readonly udsLinesPerSec: number;
  readonly spansPerSec: number;
  readonly logLinesPerSec: number;
}
function ratesOf(scale: number): Rates {
  return {
    udpLinesPerSec: Math.round((SOLO_MAXIMA.udpLinesPerSec / 6) * scale),
    udsLinesPerSec: Math.round((SOLO_MAXIMA.udsLinesPerSec / 6) * scale),
    spansPerSec: Math.round((SOLO_MAXIMA.spansPerSec / 3) * scale),
    logLinesPerSec: Math.round((SOLO_MAXIMA.logLinesPerSec / 3) * scale),
  };
}
function fmtRates(r: Rates): string {
  return `UDP ${(r.udpLinesPerSec / 1000).toFixed(1)}k lines/s, UDS ${(r.udsLinesPerSec / 1000).toFixed(1)}k lines/s, traces ${(r.spansPerSec / 1000).toFixed(2)}k spans/s, logs ${(r.logLinesPerSec / 1000).toFixed(1)}k lines/s`;
}

/**
 * The CI-sized run's scale: half of the combined maximum the rate check found on this machine
 * (README.md, RESULTS.md's soak section), so that `--quick` soaks at the same rates as the full
 * run without spending 3 minutes on the check.
 */
const QUICK_SCALE = 0.25;
/** The ladder of the rate check: from here up (or down) by sqrt(2), then one bisection. */
const CHECK_START_SCALE = 0.5;

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 2): number => {
  const f = 10 ** d;
  return Math.round(x * f) / f;
};

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

interface ProcStat {
  readonly cpuS: number;
  readonly rssKiB: number;
  readonly hwmKiB: number;
  /** Anonymous resident memory (heaps, buffers, malloc arenas; not the mapped code). */
  readonly rssAnonKiB: number;
  readonly threads: number;
}
function procStat(pid: number): ProcStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const num = (re: RegExp): number => Number(re.exec(status)?.[1] ?? NaN);
    return {
      cpuS: (Number(f[11]) + Number(f[12])) / CLK_TCK,
      rssKiB: num(/^VmRSS:\s+(\d+) kB/m),
      hwmKiB: num(/^VmHWM:\s+(\d+) kB/m),
      rssAnonKiB: num(/^RssAnon:\s+(\d+) kB/m),
      threads: num(/^Threads:\s+(\d+)/m),
    };
  } catch {
    return null;
  }
}

function readSysctl(path: string): number | null {
  try {
    return Number(readFileSync(`/proc/sys/${path}`, 'utf8').trim());
  } catch {
    return null;
  }
}
function writeSysctl(path: string, value: number): boolean {
  try {
    writeFileSync(`/proc/sys/${path}`, `${value}\n`);
    return readSysctl(path) === value;
  } catch {
    return false;
  }
}

/** Least squares fit y = a + b x; b, and r^2. */
function leastSquares(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number; r2: number } | null {
  const n = xs.length;
  if (n < 3) return null;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i]!;
    sy += ys[i]!;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}
function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// ---------------------------------------------------------------------------------------------
// DogStatsD: the e2e corpus, one marker counter line per datagram, and the C sender

type Transport = 'udp' | 'uds';
const PACKET_BYTES: Record<Transport, number> = { udp: 1400, uds: 8192 };
const CORPUS = { seed: 20250601, contexts: 10_000, targetBytes: 8 << 20 };

interface CorpusFile {
  readonly path: string;
  readonly packets: number;
  readonly lines: number;
  readonly samples: number;
  readonly meanPacketBytes: number;
}

/**
 * loadgen's corpus file (see loadgen.c): the e2e-dogstatsd corpus packed a marker line short of
 * the datagram size, then `soak.marker:1|c|#transport:<t>` added to every datagram, so the sum of
 * the marker counter at the intake is the number of datagrams kennel received and forwarded.
 */
function writeCorpusFile(transport: Transport, path: string): CorpusFile {
  const markerLine = Buffer.from(`\n${MARKER_METRIC}:1|c|#transport:${transport}`);
  const lines = generateLines(CORPUS);
  const corpus = packLines(lines, PACKET_BYTES[transport] - markerLine.length);
  const { file, lines: totalLines, samples: totalSamples, bytes } = encodeLoadgenCorpus(corpus.packets.map((p) => Buffer.concat([p, markerLine])));
  writeFileSync(path, file);
  return { path, packets: corpus.packets.length, lines: totalLines, samples: totalSamples, meanPacketBytes: Math.round(bytes / corpus.packets.length) };
}

interface LoadgenReport {
  readonly packets: number;
  readonly lines: number;
  readonly samples: number;
  readonly bytes: number;
  readonly durationS: number;
  readonly elapsedS: number;
  readonly stalls: number;
  readonly stallS: number;
  readonly sendErrors: number;
  readonly aborted: boolean;
  readonly cpuUserS: number;
  readonly cpuSysS: number;
}

interface SenderTotals {
  packets: number;
  lines: number;
  samples: number;
  scheduledS: number;
  elapsedS: number;
  /** Sum over chunks of how late each ended past its schedule. */
  lateS: number;
  stalls: number;
  sendErrors: number;
  aborted: boolean;
  cpuS: number;
  chunks: number;
}

const running = new Set<ChildProcess>();

function runLoadgenOnce(bin: string, transport: Transport, dest: string, corpus: string, rate: number, seconds: number): Promise<LoadgenReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [transport, dest, corpus, String(rate), String(seconds)], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      running.delete(child);
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as LoadgenReport);
      } catch {
        reject(new Error(`loadgen exited with ${code} and no report: ${err.trim() || out.trim()}`));
      }
    });
  });
}

/** loadgen sends for at most 600 s a run: a long soak is a chain of runs of up to 300 s, back to back. */
async function runLoadgen(bin: string, transport: Transport, dest: string, corpus: string, rate: number, seconds: number, stop: { stopped: boolean }): Promise<SenderTotals> {
  const t: SenderTotals = { packets: 0, lines: 0, samples: 0, scheduledS: 0, elapsedS: 0, lateS: 0, stalls: 0, sendErrors: 0, aborted: false, cpuS: 0, chunks: 0 };
  let left = seconds;
  while (left > 0.001 && !stop.stopped) {
    const chunk = Math.min(300, left);
    const r = await runLoadgenOnce(bin, transport, dest, corpus, rate, chunk);
    t.packets += r.packets;
    t.lines += r.lines;
    t.samples += r.samples;
    t.scheduledS += chunk;
    t.elapsedS += r.elapsedS;
    t.lateS += Math.max(0, r.elapsedS - chunk);
    t.stalls += r.stalls;
    t.sendErrors += r.sendErrors;
    t.aborted ||= r.aborted;
    t.cpuS += r.cpuUserS + r.cpuSysS;
    t.chunks++;
    left -= chunk;
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Traces: dd-trace-js-shaped v0.4 payloads (traces-receiver's load), every trace with its own id

interface TracePayload {
  readonly body: Buffer;
  readonly traces: number;
  readonly spans: number;
  /** Byte offsets of each span's trace_id value (after the 0xcf), grouped by trace. */
  readonly idOffsets: readonly (readonly number[])[];
}

const TRACES_PER_PAYLOAD = 50;
const SPANS_PER_TRACE = 10;
const TRACE_KEY = Buffer.from([0xa8, ...Buffer.from('trace_id'), 0xcf]);

function tracePayloads(n: number): TracePayload[] {
  const out: TracePayload[] = [];
  for (let i = 0; i < n; i++) {
    const c = generateCorpus(20251202 + i, TRACES_PER_PAYLOAD, SPANS_PER_TRACE);
    const body = Buffer.from(c.v04.buffer, c.v04.byteOffset, c.v04.byteLength);
    const offsets: number[] = [];
    for (let at = body.indexOf(TRACE_KEY); at >= 0; at = body.indexOf(TRACE_KEY, at + TRACE_KEY.length)) offsets.push(at + TRACE_KEY.length);
    if (offsets.length !== c.spans) throw new Error(`trace payload: found ${offsets.length} trace ids for ${c.spans} spans`);
    const byTrace: number[][] = [];
    let k = 0;
    for (const t of c.traces) {
      byTrace.push(offsets.slice(k, k + t.length));
      k += t.length;
    }
    out.push({ body, traces: c.traces.length, spans: c.spans, idOffsets: byTrace });
  }
  return out;
}

interface TraceSenderTotals {
  requests: number;
  ok: number;
  failed: number;
  statuses: Record<string, number>;
  traces: number;
  spans: number;
  bytes: number;
  scheduledS: number;
  elapsedS: number;
  /** Requests that were due but waited for a free connection, at the worst moment. */
  maxBacklog: number;
  latenciesMs: number[];
  /** Traces and spans of the requests answered 200. */
  acceptedTraces: number;
  acceptedSpans: number;
  /** Requests that failed without an answer: when, why, and whether on a reused keep-alive connection (idle how long). */
  errors: { t: number; code: string; message: string; reusedSocket: boolean; idleMs: number | null; firstTrace: number }[];
  /** Requests sent again once after ECONNRESET on a reused keep-alive connection (see `send`). */
  retriedOnReset: number;
}

const FREE_AT = Symbol('freeAt');

/**
 * Sends `PUT /v0.4/traces` paced to `spansPerSec`, over up to `connections` keep-alive
 * connections (dd-trace-js flushes every 2 s from each process; several processes share the
 * agent). Each request is a copy of one of the payloads with its trace ids rewritten to the next
 * trace numbers, so the intake can tell every trace apart.
 */
async function sendTraces(port: number, payloads: readonly TracePayload[], spansPerSec: number, seconds: number, stop: { stopped: boolean }): Promise<TraceSenderTotals> {
  const connections = 4;
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const perReq = payloads[0]!.spans;
  const reqPerSec = spansPerSec / perReq;
  const total = Math.max(1, Math.round(reqPerSec * seconds));
  const t: TraceSenderTotals = {
    requests: 0, ok: 0, failed: 0, statuses: {}, traces: 0, spans: 0, bytes: 0, scheduledS: seconds, elapsedS: 0, maxBacklog: 0, latenciesMs: [],
    acceptedTraces: 0, acceptedSpans: 0, errors: [], retriedOnReset: 0,
  };
  // When each keep-alive connection went back to the pool: a request that fails on a reused
  // connection says how long it had been idle (the receiver closes connections idle for
  // receiver_timeout, 5 s, as the agent does).
  agent.on('free', (sock: object) => {
    (sock as Record<symbol, number>)[FREE_AT] = performance.now();
  });
  let inflight = 0;
  let nextTrace = 0;
  const t0 = performance.now();
  const one = (p: TracePayload): Promise<void> => {
    const body = Buffer.from(p.body);
    const firstTrace = nextTrace;
    for (const offs of p.idOffsets) {
      const id = TRACE_ID_BASE + BigInt(nextTrace++);
      for (const o of offs) body.writeBigUInt64BE(id, o);
    }
    t.requests++;
    t.traces += p.traces;
    t.spans += p.spans;
    t.bytes += body.length;
    const s = performance.now();
    return new Promise((resolve) => {
      const send = (isRetry: boolean): void => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          agent,
          method: 'PUT',
          path: '/v0.4/traces',
          headers: {
            'Content-Type': 'application/msgpack',
            'Content-Length': String(body.length),
            'X-Datadog-Trace-Count': String(p.traces),
            'Datadog-Meta-Lang': 'nodejs',
            'Datadog-Meta-Lang-Version': process.version,
            'Datadog-Meta-Lang-Interpreter': 'v8',
            'Datadog-Meta-Tracer-Version': '5.132.0',
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const code = String(res.statusCode ?? 0);
            t.statuses[code] = (t.statuses[code] ?? 0) + 1;
            if (res.statusCode === 200) {
              t.ok++;
              t.acceptedTraces += p.traces;
              t.acceptedSpans += p.spans;
            } else t.failed++;
            t.latenciesMs.push(performance.now() - s);
            resolve();
          });
        },
      );
      let idleMs: number | null = null;
      req.on('socket', (sock) => {
        const at = (sock as unknown as Record<symbol, number | undefined>)[FREE_AT];
        idleMs = at === undefined ? null : round(performance.now() - at, 1);
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        const code = e.code ?? 'error';
        // A keep-alive connection the server closed as idle just as it was reused: the request
        // never reached kennel. Well-behaved clients (agentkeepalive's advice, Go's transport)
        // send it again once on a new connection; so does this one, and counts it.
        if (code === 'ECONNRESET' && req.reusedSocket && !isRetry) {
          t.retriedOnReset++;
          send(true);
          return;
        }
        t.statuses[code] = (t.statuses[code] ?? 0) + 1;
        t.failed++;
        t.errors.push({ t: round((performance.now() - t0) / 1000, 2), code, message: e.message, reusedSocket: req.reusedSocket, idleMs, firstTrace });
        resolve();
      });
      req.end(body);
      };
      send(false);
    });
  };
  const pending: Promise<void>[] = [];
  let sent = 0;
  while (sent < total && !stop.stopped) {
    const due = Math.min(total, Math.floor(reqPerSec * ((performance.now() - t0) / 1000)) + 1);
    t.maxBacklog = Math.max(t.maxBacklog, due - sent - (connections - inflight));
    while (sent < due && inflight < connections) {
      inflight++;
      const p = one(payloads[sent % payloads.length]!).then(() => {
        inflight--;
      });
      pending.push(p);
      sent++;
    }
    await sleep(10);
  }
  await Promise.all(pending);
  t.elapsedS = (performance.now() - t0) / 1000;
  agent.destroy();
  return t;
}

// ---------------------------------------------------------------------------------------------
// Logs: kennel's child writes numbered lines to stdout, paced

const LOG_LINE_BYTES = 200;

/**
 * The child of `kennel run -- node writer.cjs RATE SECONDS START DONE`: it waits for the START
 * file, then writes `soak:<n> <body>` lines of 200 bytes to stdout at RATE lines/s for SECONDS
 * (every 20 ms what is due, one write), writes its totals to DONE and idles until SIGTERM (which
 * kennel passes on when it stops). stdout to a pipe blocks on Linux, so a kennel that reads
 * slower than the schedule shows as a late writer, not as loss.
 */
const WRITER = String.raw`
'use strict';
const fs = require('fs');
const [rate, seconds, startFile, doneFile] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4], process.argv[5]];
let a = 0x5eed;
const rnd = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
const words = ['GET', 'POST', 'user', 'order', 'cart', 'checkout', 'payment', 'ok', 'retry', 'timeout', 'db', 'cache', 'hit', 'miss', 'region', 'pod', 'worker', 'queue', 'latency_ms', 'status', 'bytes', 'session'];
const hex = (n) => { let s = ''; for (let i = 0; i < n; i++) s += Math.floor(rnd() * 16).toString(16); return s; };
const bodies = [];
for (let i = 0; i < 1024; i++) {
  let s = (rnd() < 0.9 ? 'INFO' : 'WARN') + ' request_id=' + hex(16);
  while (s.length < ${LOG_LINE_BYTES}) s += ' ' + words[Math.floor(rnd() * words.length)] + '=' + (rnd() < 0.5 ? hex(8) : Math.floor(rnd() * 100000));
  bodies.push(s);
}
const total = Math.round(rate * seconds);
let i = 0, maxBehind = 0, t0 = 0;
function tick() {
  const due = Math.min(total, Math.floor(rate * (Date.now() - t0) / 1000));
  maxBehind = Math.max(maxBehind, due - i);
  let chunk = '';
  while (i < due) { const h = '${LOG_PREFIX}' + i + ' '; chunk += h + bodies[i & 1023].slice(0, ${LOG_LINE_BYTES} - 1 - h.length) + '\n'; i++; }
  if (chunk !== '') fs.writeSync(1, chunk);
  if (i < total) setTimeout(tick, 20);
  else fs.writeFileSync(doneFile, JSON.stringify({ lines: i, elapsedS: (Date.now() - t0) / 1000, scheduledS: seconds, maxBehind }));
}
const wait = setInterval(() => { if (fs.existsSync(startFile)) { clearInterval(wait); t0 = Date.now(); tick(); } }, 20);
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
setInterval(() => {}, 1 << 30);
`;

interface WriterTotals {
  readonly lines: number;
  readonly elapsedS: number;
  readonly scheduledS: number;
  readonly maxBehind: number;
}

// ---------------------------------------------------------------------------------------------
// The intake process

class IntakeProc {
  readonly proc: ChildProcess;
  url = '';
  private waiting: ((m: unknown) => void) | undefined;

  private constructor() {
    this.proc = fork(INTAKE, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.proc.on('message', (m: { type: string }) => {
      if (m.type === 'report' || m.type === 'reset-done') {
        const w = this.waiting;
        this.waiting = undefined;
        w?.(m);
      }
    });
  }

  static async start(): Promise<IntakeProc> {
    const s = new IntakeProc();
    s.url = await new Promise<string>((resolve, reject) => {
      const on = (m: { type: string; url?: string }): void => {
        if (m.type === 'listening') {
          s.proc.off('message', on);
          resolve(m.url!);
        }
      };
      s.proc.on('message', on);
      s.proc.once('exit', (c) => reject(new Error(`the intake process exited with ${c}`)));
    });
    return s;
  }

  report(expect: { traces?: number; logs?: number } = {}): Promise<IntakeReport> {
    return new Promise((resolve) => {
      this.waiting = resolve as (m: unknown) => void;
      this.proc.send({ type: 'report', ...expect });
    });
  }

  reset(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting = () => resolve();
      this.proc.send({ type: 'reset' });
    });
  }

  cpuS(): number {
    return procStat(this.proc.pid!)?.cpuS ?? NaN;
  }

  stop(): void {
    if (this.proc.connected) this.proc.send({ type: 'exit' });
  }
}

// ---------------------------------------------------------------------------------------------
// kennel

interface Kennel {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly cmdPort: number;
  readonly apmPort: number;
  readonly udpPort: number;
  readonly udsPath: string;
  readonly startFile: string;
  readonly doneFile: string;
  readonly logPath: string;
  exitCode: number | null;
  exitSignal: string | null;
  exited: Promise<void>;
  output(): string;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DD_') && k !== 'NODE_OPTIONS') env[k] = v;
  return env;
}

async function startKennel(dir: string, intakeUrl: string, logRate: number, seconds: number): Promise<Kennel> {
  mkdirSync(dir, { recursive: true });
  const cmdPort = await freePort('tcp');
  const apmPort = await freePort('tcp');
  const udpPort = await freePort('udp');
  const udsPath = join(dir, 'dsd.socket');
  const writer = join(dir, 'writer.cjs');
  const startFile = join(dir, 'start');
  const doneFile = join(dir, 'writer-done.json');
  writeFileSync(writer, WRITER);
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    DD_API_KEY: API_KEY,
    DD_DD_URL: intakeUrl,
    DD_APM_DD_URL: intakeUrl,
    DD_LOGS_CONFIG_LOGS_DD_URL: intakeUrl,
    DD_HOSTNAME: 'soak-host',
    DD_SERVICE: 'soak-app',
    DD_DOGSTATSD_PORT: String(udpPort),
    DD_DOGSTATSD_SOCKET: udsPath,
    DD_DOGSTATSD_SO_RCVBUF: String(8 << 20),
    DD_APM_RECEIVER_PORT: String(apmPort),
    DD_APM_RECEIVER_SOCKET: join(dir, 'apm.socket'),
    DD_CMD_PORT: String(cmdPort),
    DD_RUN_PATH: join(dir, 'run'),
    DD_LOGS_CONFIG_CHILD_ECHO: 'false',
  };
  const logPath = join(dir, 'kennel.log');
  const log = createWriteStream(logPath);
  const child = spawn(process.execPath, [KENNEL, 'run', '--', process.execPath, writer, String(logRate), String(seconds), startFile, doneFile], {
    env,
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  const keep = (d: Buffer): void => {
    log.write(d);
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const k: Kennel = {
    child,
    pid: child.pid!,
    cmdPort,
    apmPort,
    udpPort,
    udsPath,
    startFile,
    doneFile,
    logPath,
    exitCode: null,
    exitSignal: null,
    exited: new Promise<void>((r) =>
      child.once('exit', (code, signal) => {
        running.delete(child);
        k.exitCode = code;
        k.exitSignal = signal;
        log.end();
        r();
      }),
    ),
    output: () => out,
  };
  const t0 = Date.now();
  const ready = (): boolean => out.includes('APM: listening for traces') && out.includes('logs: collecting') && out.includes('DogStatsD listening on unix socket') && existsSync(udsPath);
  while (!ready()) {
    if (child.exitCode !== null || Date.now() - t0 > 30_000) {
      child.kill('SIGKILL');
      throw new Error(`kennel did not start (DogStatsD on UDP and UDS, APM, logs):\n${out.slice(-3000)}`);
    }
    await sleep(50);
  }
  // The status port answers once the pipelines are up.
  for (;;) {
    try {
      await getJson(cmdPort, '/agent/status');
      break;
    } catch {
      if (Date.now() - t0 > 30_000) throw new Error(`kennel's status port did not answer:\n${out.slice(-3000)}`);
      await sleep(100);
    }
  }
  return k;
}

function getJson(port: number, path: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(b) as Record<string, unknown>);
        } catch (e) {
          reject(e as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

/** `kennel status --json`, the CLI a user runs. */
function statusCli(cmdPort: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [KENNEL, 'status', '--json'], { env: { ...cleanEnv(), DD_CMD_PORT: String(cmdPort) }, timeout: 30_000, maxBuffer: 64 << 20 }, (err, stdout) => {
      if (err) return reject(err);
      try {
        resolve(JSON.parse(stdout) as Record<string, unknown>);
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

/** The counters the soak reads from a status document. */
interface StatusFigures {
  readonly metricPackets: number;
  readonly metricParseErrors: number;
  readonly udpPackets: number;
  readonly udsPackets: number;
  readonly udpPacketReadingErrors: number;
  readonly spansReceived: number;
  readonly tracesReceived: number;
  readonly tracesDropped: number;
  readonly spansWritten: number;
  readonly logsProcessed: number;
  readonly logsSent: number;
  readonly runtime: RuntimeStats | null;
  readonly aggregatorDrops: Record<string, number>;
  readonly forwarder: Record<string, unknown>;
  /** `apmStats.kennel.receiverCounters`: requests, refusals, connections timed out or dropped. */
  readonly apmReceiverCounters: Record<string, number>;
}
interface RuntimeStats {
  readonly Rss: number;
  readonly HeapUsed: number;
  readonly EventLoopDelayP50Ms: number;
  readonly EventLoopDelayP99Ms: number;
  readonly EventLoopDelayMaxMs: number;
  readonly UptimeSeconds: number;
  readonly EventLoopDelayWindowSeconds?: number;
}

function num(v: unknown): number {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) ? n : 0;
}

function figuresOf(doc: Record<string, unknown>): StatusFigures {
  const d = (doc['dogstatsdStats'] ?? {}) as Record<string, unknown>;
  const agg = (doc['aggregatorStats'] ?? {}) as Record<string, unknown>;
  const apm = (doc['apmStats'] ?? {}) as Record<string, unknown>;
  const k = (apm['kennel'] ?? {}) as Record<string, unknown>;
  const receivers = (k['receiverTotal'] ?? []) as Record<string, unknown>[];
  let spans = 0;
  let traces = 0;
  let dropped = 0;
  for (const r of receivers) {
    spans += num(r['SpansReceived']);
    traces += num(r['TracesReceived']);
    const td = r['TracesDropped'];
    if (td && typeof td === 'object') for (const v of Object.values(td as Record<string, unknown>)) dropped += num(v);
  }
  const writer = (k['traceWriterTotal'] ?? {}) as Record<string, unknown>;
  const logs = ((doc['logsStats'] ?? {}) as Record<string, unknown>)['metrics'] as Record<string, unknown> | undefined;
  const rt = doc['runtimeStats'] as RuntimeStats | undefined;
  const drops: Record<string, number> = {};
  for (const [key, v] of Object.entries(agg)) if (/drop|limit|reject/i.test(key) && num(v) !== 0) drops[key] = num(v);
  return {
    metricPackets: num(d['MetricPackets']),
    metricParseErrors: num(d['MetricParseErrors']),
    udpPackets: num(d['UdpPackets']),
    udsPackets: num(d['UdsPackets']),
    udpPacketReadingErrors: num(d['UdpPacketReadingErrors']),
    spansReceived: spans,
    tracesReceived: traces,
    tracesDropped: dropped,
    spansWritten: num(writer['Spans']),
    logsProcessed: num(logs?.['LogsProcessed']),
    logsSent: num(logs?.['LogsSent']),
    runtime: rt && typeof rt.Rss === 'number' ? rt : null,
    aggregatorDrops: drops,
    forwarder: (doc['forwarderStats'] ?? {}) as Record<string, unknown>,
    apmReceiverCounters: (k['receiverCounters'] ?? {}) as Record<string, number>,
  };
}

// ---------------------------------------------------------------------------------------------
// One run: kennel under the three loads for `seconds`, sampled, then checked

interface Sample {
  /** Seconds since the load started. */
  readonly t: number;
  readonly rssMiB: number | null;
  readonly rssAnonMiB: number | null;
  /** kennel's CPU (every thread) since the previous sample, % of one core. */
  readonly cpuPct: number | null;
  readonly threads: number | null;
  readonly statusRssMiB: number | null;
  readonly heapUsedMiB: number | null;
  readonly elP50Ms: number | null;
  readonly elP99Ms: number | null;
  readonly elMaxMs: number | null;
  /** Round trip of `GET /agent/status/health` (answered on kennel's main thread), p99 of the probes since the previous sample, ms. */
  readonly probeP99Ms: number | null;
  readonly metricPackets: number | null;
  readonly spansReceived: number | null;
  readonly logsSent: number | null;
  /** The trace receiver's `ConnectionsTimedOut` so far (idle keep-alive connections closed after receiver_timeout included). */
  readonly apmConnectionsTimedOut: number | null;
  readonly intakeTraces: number;
  readonly intakeLogs: number;
  readonly intakeRssMiB: number;
  readonly loadAverage1: number;
  readonly statusError?: string;
}

interface RunOptions {
  readonly label: string;
  readonly scale: number;
  readonly seconds: number;
  readonly sampleS: number;
  readonly verbose: boolean;
}

interface Ctx {
  readonly loadgen: string;
  readonly corpora: Record<Transport, CorpusFile>;
  readonly payloads: readonly TracePayload[];
  readonly intake: IntakeProc;
  readonly workRoot: string;
  runNo: number;
}

interface Check {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
  /** False when the run is too short for the criterion to mean anything: reported, not judged. */
  readonly judged: boolean;
}

interface RunResult {
  readonly label: string;
  readonly scale: number;
  readonly rates: Rates;
  readonly seconds: number;
  readonly udp: SenderTotals;
  readonly uds: SenderTotals;
  readonly traces: Omit<TraceSenderTotals, 'latenciesMs'> & { latencyMedianMs: number; latencyP99Ms: number };
  readonly logs: WriterTotals | null;
  readonly statusAtEnd: StatusFigures | null;
  readonly intakeAfterExit: IntakeReport;
  /** The marker sums at the intake before SIGTERM (the open buckets arrive with the final flush). */
  readonly intakeMarkerBeforeStop: Record<string, number>;
  readonly kennelExit: { code: number | null; signal: string | null; stopS: number };
  readonly kennelCpuS: number;
  readonly kennelPeakRssMiB: number | null;
  readonly intakeCpuS: number;
  readonly harnessCpuS: number;
  readonly drainS: number;
  readonly samples: readonly Sample[];
  readonly loss: readonly Check[];
  readonly schedule: readonly Check[];
}

async function runOnce(ctx: Ctx, o: RunOptions): Promise<RunResult> {
  const rates = ratesOf(o.scale);
  const dir = join(ctx.workRoot, `${String(++ctx.runNo).padStart(2, '0')}-${o.label}`);
  await ctx.intake.reset();
  const kennel = await startKennel(dir, ctx.intake.url, rates.logLinesPerSec, o.seconds);
  const stop = { stopped: false };
  const samples: Sample[] = [];
  try {
    const p0 = procStat(kennel.pid);
    const intakeCpu0 = ctx.intake.cpuS();
    const harnessCpu0 = process.cpuUsage();
    const t0 = performance.now();
    writeFileSync(kennel.startFile, '');
    const udpP = runLoadgen(ctx.loadgen, 'udp', `127.0.0.1:${kennel.udpPort}`, ctx.corpora.udp.path, rates.udpLinesPerSec, o.seconds, stop);
    const udsP = runLoadgen(ctx.loadgen, 'uds', kennel.udsPath, ctx.corpora.uds.path, rates.udsLinesPerSec, o.seconds, stop);
    const trP = sendTraces(kennel.apmPort, ctx.payloads, rates.spansPerSec, o.seconds, stop);

    // Probes of the main thread's responsiveness, once a second.
    const probes: number[] = [];
    let probing = true;
    const probeLoop = (async () => {
      while (probing) {
        const s = performance.now();
        try {
          await getJson(kennel.cmdPort, '/agent/status/health', 10_000);
          probes.push(performance.now() - s);
        } catch {
          probes.push(10_000);
        }
        await sleep(1000);
      }
    })();

    let loadDone = false;
    const allLoad = Promise.all([udpP, udsP, trP]).finally(() => (loadDone = true));
    allLoad.catch(() => undefined);
    let prev = p0;
    let prevT = t0;
    let nextSample = t0 + o.sampleS * 1000;
    while (!loadDone) {
      await Promise.race([sleep(Math.max(0, nextSample - performance.now())), allLoad.catch(() => undefined)]);
      if (loadDone || kennel.exitCode !== null) break;
      if (performance.now() < nextSample) continue;
      nextSample += o.sampleS * 1000;
      const now = performance.now();
      const ps = procStat(kennel.pid);
      let fig: StatusFigures | null = null;
      let statusError: string | undefined;
      try {
        fig = figuresOf(await statusCli(kennel.cmdPort));
      } catch (e) {
        statusError = (e as Error).message.slice(0, 200);
      }
      const ir = await ctx.intake.report();
      const pr = probes.splice(0);
      const s: Sample = {
        t: round((now - t0) / 1000, 1),
        rssMiB: ps ? round(ps.rssKiB / 1024, 1) : null,
        rssAnonMiB: ps ? round(ps.rssAnonKiB / 1024, 1) : null,
        cpuPct: ps && prev ? round(((ps.cpuS - prev.cpuS) / ((now - prevT) / 1000)) * 100, 1) : null,
        threads: ps?.threads ?? null,
        statusRssMiB: fig?.runtime ? round(fig.runtime.Rss / 1048576, 1) : null,
        heapUsedMiB: fig?.runtime ? round(fig.runtime.HeapUsed / 1048576, 1) : null,
        elP50Ms: fig?.runtime?.EventLoopDelayP50Ms ?? null,
        elP99Ms: fig?.runtime?.EventLoopDelayP99Ms ?? null,
        elMaxMs: fig?.runtime?.EventLoopDelayMaxMs ?? null,
        probeP99Ms: pr.length ? round(quantile(pr, 0.99), 1) : null,
        metricPackets: fig?.metricPackets ?? null,
        spansReceived: fig?.spansReceived ?? null,
        logsSent: fig?.logsSent ?? null,
        apmConnectionsTimedOut: fig ? num(fig.apmReceiverCounters['ConnectionsTimedOut']) : null,
        intakeTraces: ir.traces.distinct,
        intakeLogs: ir.logs.distinct,
        intakeRssMiB: round(ir.rssBytes / 1048576, 1),
        loadAverage1: round(loadavg()[0]!, 2),
        ...(statusError !== undefined ? { statusError } : {}),
      };
      samples.push(s);
      prev = ps ?? prev;
      prevT = now;
      if (o.verbose)
        console.log(
          `  t=${String(Math.round(s.t)).padStart(5)} s  rss ${s.rssMiB} MiB` +
            (s.heapUsedMiB !== null ? ` (heap ${s.heapUsedMiB})` : '') +
            `  cpu ${s.cpuPct} %  el p99 ${s.elP99Ms ?? '-'} ms (max ${s.elMaxMs ?? '-'})  probe p99 ${s.probeP99Ms ?? '-'} ms  ` +
            `samples ${s.metricPackets ?? '?'}  spans ${s.spansReceived ?? '?'}  logs sent ${s.logsSent ?? '?'}  intake: ${s.intakeTraces} traces, ${s.intakeLogs} log lines  load ${s.loadAverage1}` +
            (statusError ? `  status error: ${statusError}` : ''),
        );
    }
    let udp: SenderTotals;
    let uds: SenderTotals;
    let tr: TraceSenderTotals;
    try {
      [udp, uds, tr] = await allLoad;
    } catch (e) {
      stop.stopped = true;
      throw e;
    }
    // Logs: the writer's totals once it wrote them (it keeps to the same schedule).
    let logs: WriterTotals | null = null;
    const wDeadline = Date.now() + 30_000;
    while (logs === null && Date.now() < wDeadline && kennel.exitCode === null) {
      if (existsSync(kennel.doneFile)) logs = JSON.parse(readFileSync(kennel.doneFile, 'utf8')) as WriterTotals;
      else await sleep(100);
    }
    // Drain: every trace and log line at the intake (or 60 s).
    const drainStart = performance.now();
    for (;;) {
      const r = await ctx.intake.report();
      if (r.traces.distinct >= tr.acceptedTraces && logs !== null && r.logs.distinct >= logs.lines) break;
      if (performance.now() - drainStart > 60_000 || kennel.exitCode !== null) break;
      await sleep(250);
    }
    const drainS = round((performance.now() - drainStart) / 1000, 2);
    probing = false;
    await probeLoop;
    let statusAtEnd: StatusFigures | null = null;
    try {
      statusAtEnd = figuresOf(await statusCli(kennel.cmdPort));
    } catch (e) {
      console.log(`  status at the end: ${(e as Error).message}`);
    }
    const intakeBeforeStop = await ctx.intake.report();
    const pEnd = procStat(kennel.pid);
    const harnessCpu = process.cpuUsage(harnessCpu0);
    // Stop: SIGTERM flushes every bucket (the open one too) and drains the forwarder.
    const stopStart = performance.now();
    kennel.child.kill('SIGTERM');
    const killer = setTimeout(() => kennel.child.kill('SIGKILL'), 30_000);
    await kennel.exited;
    clearTimeout(killer);
    const stopS = round((performance.now() - stopStart) / 1000, 2);
    await sleep(500);
    const intakeAfterExit = await ctx.intake.report({ traces: tr.traces, ...(logs !== null ? { logs: logs.lines } : {}) });
    const { latenciesMs, ...trRest } = tr;
    const result: RunResult = {
      label: o.label,
      scale: o.scale,
      rates,
      seconds: o.seconds,
      udp,
      uds,
      traces: { ...trRest, latencyMedianMs: round(quantile(latenciesMs, 0.5), 1), latencyP99Ms: round(quantile(latenciesMs, 0.99), 1) },
      logs,
      statusAtEnd,
      intakeAfterExit,
      intakeMarkerBeforeStop: intakeBeforeStop.marker,
      kennelExit: { code: kennel.exitCode, signal: kennel.exitSignal, stopS },
      kennelCpuS: p0 && pEnd ? round(pEnd.cpuS - p0.cpuS, 2) : NaN,
      kennelPeakRssMiB: pEnd ? round(pEnd.hwmKiB / 1024, 1) : null,
      intakeCpuS: round(ctx.intake.cpuS() - intakeCpu0, 2),
      harnessCpuS: round((harnessCpu.user + harnessCpu.system) / 1e6, 2),
      drainS,
      samples,
      loss: [],
      schedule: [],
    };
    return { ...result, loss: lossChecks(result, kennel), schedule: scheduleChecks(result) };
  } finally {
    stop.stopped = true;
    if (kennel.exitCode === null && kennel.child.signalCode === null) {
      kennel.child.kill('SIGKILL');
      await kennel.exited;
    }
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
  }
}

function lossChecks(r: RunResult, k: Kennel): Check[] {
  const out: Check[] = [];
  const st = r.statusAtEnd;
  const ia = r.intakeAfterExit;
  const samplesSent = r.udp.samples + r.uds.samples;
  out.push({
    name: 'kennel ran and stopped cleanly',
    pass: k.exitCode === 0 && r.kennelExit.signal === null,
    detail: `exit code ${k.exitCode}${r.kennelExit.signal ? `, signal ${r.kennelExit.signal}` : ''}, stopped ${r.kennelExit.stopS} s after SIGTERM` + (k.exitCode === 0 ? '' : `; log tail: ${k.output().slice(-600).replace(/\n/g, ' | ')}`),
    judged: true,
  });
  if (st === null) out.push({ name: 'metrics: every sample counted, none dropped', pass: false, detail: 'kennel status --json did not answer at the end', judged: true });
  else {
    out.push({
      name: 'metrics: every sample counted, none dropped',
      pass: st.metricPackets === samplesSent && st.metricParseErrors === 0 && st.udpPackets === r.udp.packets && st.udsPackets === r.uds.packets && Object.keys(st.aggregatorDrops).length === 0,
      detail:
        `sent ${samplesSent.toLocaleString('en-US')} samples (${r.udp.lines.toLocaleString('en-US')} + ${r.uds.lines.toLocaleString('en-US')} lines in ${r.udp.packets.toLocaleString('en-US')} UDP + ${r.uds.packets.toLocaleString('en-US')} UDS datagrams); ` +
        `kennel counted ${st.metricPackets.toLocaleString('en-US')} (parse errors ${st.metricParseErrors}), UdpPackets ${st.udpPackets.toLocaleString('en-US')}, UdsPackets ${st.udsPackets.toLocaleString('en-US')}` +
        (Object.keys(st.aggregatorDrops).length ? `; DROPPED in kennel: ${JSON.stringify(st.aggregatorDrops)} (aggregatorStats)` : '; aggregator drop counters 0'),
      judged: true,
    });
  }
  const mu = Math.round(ia.marker['udp'] ?? 0);
  const ms = Math.round(ia.marker['uds'] ?? 0);
  out.push({
    name: 'metrics: every datagram arrived at the intake',
    pass: mu === r.udp.packets && ms === r.uds.packets,
    detail: `sum of ${MARKER_METRIC} at the intake: udp ${mu.toLocaleString('en-US')} of ${r.udp.packets.toLocaleString('en-US')}, uds ${ms.toLocaleString('en-US')} of ${r.uds.packets.toLocaleString('en-US')} (before SIGTERM: udp ${Math.round(r.intakeMarkerBeforeStop['udp'] ?? 0).toLocaleString('en-US')}, uds ${Math.round(r.intakeMarkerBeforeStop['uds'] ?? 0).toLocaleString('en-US')}; ${ia.payloads['series_v2'] ?? 0} series payloads, ${ia.seriesPoints.toLocaleString('en-US')} points; ${ia.payloads['sketches'] ?? 0} sketch payloads)`,
    judged: true,
  });
  const t = ia.traces;
  const tr = r.traces;
  out.push({
    name: 'traces: every request answered 200',
    pass: tr.failed === 0 && tr.ok === tr.requests,
    detail:
      `${tr.requests.toLocaleString('en-US')} requests: ${JSON.stringify(tr.statuses)}` +
      (tr.retriedOnReset ? `; ${tr.retriedOnReset} sent again after ECONNRESET on a reused keep-alive connection` : '') +
      (tr.errors.length
        ? `; failed without an answer: ${tr.errors
            .slice(0, 5)
            .map((e) => `at ${e.t} s ${e.code} (${e.message})${e.reusedSocket ? `, on a keep-alive connection idle ${e.idleMs ?? '?'} ms` : ', on a new connection'}`)
            .join('; ')}${tr.errors.length > 5 ? '; ...' : ''}`
        : '') +
      (st ? `; receiver counters ${JSON.stringify(Object.fromEntries(Object.entries(st.apmReceiverCounters).filter(([, v]) => v !== 0)))}` : ''),
    judged: true,
  });
  out.push({
    name: 'traces: every accepted trace arrived exactly once',
    pass: t.distinct === tr.acceptedTraces && t.duplicates === 0 && t.missing === tr.traces - tr.acceptedTraces && t.foreign === 0 && t.spans === tr.acceptedSpans && (st === null || st.spansReceived === tr.acceptedSpans),
    detail:
      `sent ${tr.traces.toLocaleString('en-US')} traces / ${tr.spans.toLocaleString('en-US')} spans, ${tr.acceptedTraces.toLocaleString('en-US')} / ${tr.acceptedSpans.toLocaleString('en-US')} answered 200; ` +
      `kennel received ${st?.spansReceived.toLocaleString('en-US') ?? '?'} spans, wrote ${st?.spansWritten.toLocaleString('en-US') ?? '?'}; intake: ${t.distinct.toLocaleString('en-US')} distinct traces, ${t.duplicates} duplicates, ${t.missing ?? '?'} of the numbers sent missing, ${t.spans.toLocaleString('en-US')} spans in ${ia.payloads['traces'] ?? 0} payloads (${ia.statsPayloads} stats payloads)`,
    judged: true,
  });
  const l = ia.logs;
  const written = r.logs?.lines ?? -1;
  out.push({
    name: 'logs: every line arrived exactly once',
    pass: written >= 0 && l.distinct === written && l.duplicates === 0 && l.missing === 0 && l.foreign === 0,
    detail: `the child wrote ${written.toLocaleString('en-US')} lines; intake: ${l.distinct.toLocaleString('en-US')} distinct, ${l.duplicates} duplicates, ${l.missing ?? '?'} missing, ${l.foreign} foreign in ${ia.payloads['logs'] ?? 0} payloads; kennel LogsSent ${st?.logsSent.toLocaleString('en-US') ?? '?'}`,
    judged: true,
  });
  const rejected = ia.byOutcome['rejected'] ?? 0;
  out.push({
    name: 'intake: every payload decoded',
    pass: rejected === 0 && ia.decodeErrors === 0,
    detail: `${ia.requests.toLocaleString('en-US')} requests, by status ${JSON.stringify(ia.byStatus)}, ${rejected} rejected, ${ia.decodeErrors} decode errors`,
    judged: true,
  });
  return out;
}

/** How far behind its schedule a load finished, as a fraction of the schedule. */
function lateness(elapsedS: number, scheduledS: number): number {
  return scheduledS > 0 ? Math.max(0, elapsedS - scheduledS) / scheduledS : 0;
}

const LATE_TOLERANCE = 0.02;

function scheduleChecks(r: RunResult): Check[] {
  const uds = r.uds.scheduledS > 0 ? r.uds.lateS / r.uds.scheduledS : 0;
  const udp = r.udp.scheduledS > 0 ? r.udp.lateS / r.udp.scheduledS : 0;
  const tr = lateness(r.traces.elapsedS, r.traces.scheduledS);
  const lg = r.logs ? lateness(r.logs.elapsedS, r.logs.scheduledS) : 1;
  const pct = (x: number): string => `${round(x * 100, 2)} %`;
  return [
    {
      name: 'load kept to its schedule (kennel kept up)',
      pass: uds <= LATE_TOLERANCE && udp <= LATE_TOLERANCE && tr <= LATE_TOLERANCE && lg <= LATE_TOLERANCE && r.drainS < 30,
      detail:
        `late by: UDP ${pct(udp)}, UDS ${pct(uds)} (${r.uds.stalls} sender stalls), traces ${pct(tr)} (max backlog ${r.traces.maxBacklog} requests, latency median ${r.traces.latencyMedianMs} ms, p99 ${r.traces.latencyP99Ms} ms), ` +
        `logs ${pct(lg)} (max ${r.logs?.maxBehind ?? '?'} lines behind); everything at the intake ${r.drainS} s after the load ended (tolerance ${LATE_TOLERANCE * 100} %, 30 s)`,
      judged: true,
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// The analysis of a soak's samples

interface Analysis {
  readonly warmupS: number;
  readonly window: { readonly fromS: number; readonly toS: number; readonly samples: number };
  readonly rss: { slopeMiBPerHour: number; r2: number; firstMiB: number; lastMiB: number; minMiB: number; maxMiB: number; meanMiB: number } | null;
  readonly heap: { slopeMiBPerHour: number; r2: number; minMiB: number; maxMiB: number } | null;
  readonly eventLoop: {
    readonly source: 'runtimeStats' | 'status probe';
    readonly firstThirdP99Ms: number;
    readonly lastThirdP99Ms: number;
    readonly firstThirdMaxMs: number | null;
    readonly lastThirdMaxMs: number | null;
    readonly probeFirstThirdP99Ms: number | null;
    readonly probeLastThirdP99Ms: number | null;
  } | null;
  readonly cpuPctMedian: number | null;
  /** kennel's CPU (% of a core), median of the samples in the first and last third of the window. */
  readonly cpuThirds: { first: number; last: number } | null;
  /** RSS, mean of each sixth of the window: where growth happened. */
  readonly rssSixths: { fromS: number; meanMiB: number }[];
  /** The slope over the second half of the window only (MiB/h): is it slowing down? */
  readonly rssSlopeSecondHalfMiBPerHour: number | null;
  readonly loadAverage1: { min: number; median: number; max: number };
}

/** RSS flat: the least squares slope after the warm-up, at most this (MiB per hour). */
const RSS_SLOPE_LIMIT_MIB_PER_HOUR = 10;
/** No growth in event-loop delay: the last third's p99 at most 1.5 x the first third's + 5 ms. */
const EL_GROWTH_FACTOR = 1.5;
const EL_GROWTH_SLACK_MS = 5;
/** A run shorter than this judges only loss (and the exit); the rest is reported. */
const MIN_JUDGED_SECONDS = 600;

function analyse(samples: readonly Sample[], warmupS: number): Analysis {
  const w = samples.filter((s) => s.t >= warmupS);
  const xs = w.map((s) => s.t / 3600);
  const rssW = w.filter((s) => s.rssMiB !== null);
  const rssFit = leastSquares(
    rssW.map((s) => s.t / 3600),
    rssW.map((s) => s.rssMiB!),
  );
  const rssVals = rssW.map((s) => s.rssMiB!);
  const heapW = w.filter((s) => s.heapUsedMiB !== null);
  const heapFit = leastSquares(
    heapW.map((s) => s.t / 3600),
    heapW.map((s) => s.heapUsedMiB!),
  );
  const third = (pick: (s: Sample) => number | null, part: 0 | 2): number[] => {
    if (w.length < 3) return [];
    const from = w[0]!.t;
    const span = w[w.length - 1]!.t - from;
    return w
      .filter((s) => (part === 0 ? s.t <= from + span / 3 : s.t >= from + (2 * span) / 3))
      .map(pick)
      .filter((v): v is number => v !== null);
  };
  const hasRt = w.some((s) => s.elP99Ms !== null);
  let eventLoop: Analysis['eventLoop'] = null;
  const pf = third((s) => s.probeP99Ms, 0);
  const pl = third((s) => s.probeP99Ms, 2);
  if (hasRt) {
    const f = third((s) => s.elP99Ms, 0);
    const l = third((s) => s.elP99Ms, 2);
    const fm = third((s) => s.elMaxMs, 0);
    const lm = third((s) => s.elMaxMs, 2);
    if (f.length && l.length)
      eventLoop = {
        source: 'runtimeStats',
        firstThirdP99Ms: round(median(f), 2),
        lastThirdP99Ms: round(median(l), 2),
        firstThirdMaxMs: fm.length ? round(Math.max(...fm), 1) : null,
        lastThirdMaxMs: lm.length ? round(Math.max(...lm), 1) : null,
        probeFirstThirdP99Ms: pf.length ? round(median(pf), 1) : null,
        probeLastThirdP99Ms: pl.length ? round(median(pl), 1) : null,
      };
  } else if (pf.length && pl.length) {
    eventLoop = {
      source: 'status probe',
      firstThirdP99Ms: round(median(pf), 1),
      lastThirdP99Ms: round(median(pl), 1),
      firstThirdMaxMs: null,
      lastThirdMaxMs: null,
      probeFirstThirdP99Ms: round(median(pf), 1),
      probeLastThirdP99Ms: round(median(pl), 1),
    };
  }
  const cpu = w.map((s) => s.cpuPct).filter((v): v is number => v !== null);
  const cf = third((s) => s.cpuPct, 0);
  const cl = third((s) => s.cpuPct, 2);
  const sixths: { fromS: number; meanMiB: number }[] = [];
  if (rssW.length >= 6) {
    const from = rssW[0]!.t;
    const span = rssW[rssW.length - 1]!.t - from;
    for (let i = 0; i < 6; i++) {
      const part = rssW.filter((s) => s.t >= from + (i * span) / 6 && (i === 5 || s.t < from + ((i + 1) * span) / 6)).map((s) => s.rssMiB!);
      if (part.length) sixths.push({ fromS: round(from + (i * span) / 6, 0), meanMiB: round(part.reduce((x, y) => x + y, 0) / part.length, 1) });
    }
  }
  const half = rssW.length ? rssW.filter((s) => s.t >= (rssW[0]!.t + rssW[rssW.length - 1]!.t) / 2) : [];
  const halfFit = leastSquares(
    half.map((s) => s.t / 3600),
    half.map((s) => s.rssMiB!),
  );
  const loads = samples.map((s) => s.loadAverage1);
  return {
    warmupS,
    window: { fromS: w[0]?.t ?? NaN, toS: w[w.length - 1]?.t ?? NaN, samples: xs.length },
    rss: rssFit
      ? {
          slopeMiBPerHour: round(rssFit.slope, 2),
          r2: round(rssFit.r2, 3),
          firstMiB: rssVals[0]!,
          lastMiB: rssVals[rssVals.length - 1]!,
          minMiB: Math.min(...rssVals),
          maxMiB: Math.max(...rssVals),
          meanMiB: round(rssVals.reduce((a, b) => a + b, 0) / rssVals.length, 1),
        }
      : null,
    heap: heapFit ? { slopeMiBPerHour: round(heapFit.slope, 2), r2: round(heapFit.r2, 3), minMiB: Math.min(...heapW.map((s) => s.heapUsedMiB!)), maxMiB: Math.max(...heapW.map((s) => s.heapUsedMiB!)) } : null,
    eventLoop,
    cpuPctMedian: cpu.length ? round(median(cpu), 1) : null,
    cpuThirds: cf.length && cl.length ? { first: round(median(cf), 1), last: round(median(cl), 1) } : null,
    rssSixths: sixths,
    rssSlopeSecondHalfMiBPerHour: halfFit ? round(halfFit.slope, 1) : null,
    loadAverage1: loads.length ? { min: Math.min(...loads), median: round(median(loads), 2), max: Math.max(...loads) } : { min: NaN, median: NaN, max: NaN },
  };
}

function soakChecks(a: Analysis, judged: boolean): Check[] {
  const out: Check[] = [];
  out.push(
    a.rss === null
      ? { name: 'RSS flat', pass: false, detail: 'too few samples after the warm-up', judged }
      : {
          name: 'RSS flat',
          pass: a.rss.slopeMiBPerHour <= RSS_SLOPE_LIMIT_MIB_PER_HOUR,
          detail: `least squares slope ${a.rss.slopeMiBPerHour} MiB/h (r² ${a.rss.r2}) over ${a.window.samples} samples from ${a.window.fromS} s to ${a.window.toS} s; RSS ${a.rss.minMiB} to ${a.rss.maxMiB} MiB, mean ${a.rss.meanMiB}` +
            (a.rssSlopeSecondHalfMiBPerHour !== null ? `; second half alone ${a.rssSlopeSecondHalfMiBPerHour} MiB/h` : '') +
            (a.rssSixths.length ? `; means by sixth ${a.rssSixths.map((x) => x.meanMiB).join(', ')} MiB` : '') +
            (a.heap ? `; main-thread heap slope ${a.heap.slopeMiBPerHour} MiB/h (${a.heap.minMiB} to ${a.heap.maxMiB} MiB)` : '') +
            ` (limit ${RSS_SLOPE_LIMIT_MIB_PER_HOUR} MiB/h${judged ? '' : '; not judged in a run this short'})`,
          judged,
        },
  );
  const el = a.eventLoop;
  out.push(
    el === null
      ? { name: 'event-loop delay: no growth', pass: false, detail: 'no event-loop figures', judged }
      : {
          name: 'event-loop delay: no growth',
          pass: el.lastThirdP99Ms <= el.firstThirdP99Ms * EL_GROWTH_FACTOR + EL_GROWTH_SLACK_MS,
          detail:
            `p99 (${el.source === 'runtimeStats' ? 'runtimeStats.EventLoopDelayP99Ms, median of the samples' : 'status probe round trip, median of the 10 s p99s'}) first third ${el.firstThirdP99Ms} ms, last third ${el.lastThirdP99Ms} ms` +
            (el.firstThirdMaxMs !== null ? `; max ${el.firstThirdMaxMs} / ${el.lastThirdMaxMs} ms` : '') +
            (el.source === 'runtimeStats' && el.probeFirstThirdP99Ms !== null ? `; status probe p99 ${el.probeFirstThirdP99Ms} / ${el.probeLastThirdP99Ms} ms` : '') +
            ` (limit: last ≤ ${EL_GROWTH_FACTOR} x first + ${EL_GROWTH_SLACK_MS} ms${judged ? '' : '; not judged in a run this short'})`,
          judged,
        },
  );
  return out;
}

// ---------------------------------------------------------------------------------------------
// The rate check: what the machine sustains with the three loads together

interface CheckStep {
  readonly scale: number;
  readonly pass: boolean;
  readonly why: string;
  readonly kennelCpuPct: number;
  readonly result: Omit<RunResult, 'samples'>;
}

async function rateCheck(ctx: Ctx, stepS: number): Promise<{ maxScale: number | null; steps: CheckStep[] }> {
  const steps: CheckStep[] = [];
  const step = async (scale: number): Promise<boolean> => {
    const r = await runOnce(ctx, { label: `check-${scale.toFixed(3)}`, scale, seconds: stepS, sampleS: stepS * 2, verbose: false });
    const failed = [...r.loss, ...r.schedule].filter((c) => !c.pass);
    const pass = failed.length === 0;
    const cpuPct = round((r.kennelCpuS / stepS) * 100, 1);
    const { samples: _s, ...rest } = r;
    steps.push({ scale, pass, why: failed.map((c) => `${c.name}: ${c.detail}`).join(' / '), kennelCpuPct: cpuPct, result: rest });
    console.log(
      `check       scale ${scale.toFixed(3)} (${fmtRates(r.rates)}): kennel ${cpuPct} % of a core, intake ${round((r.intakeCpuS / stepS) * 100, 1)} %, peak RSS ${r.kennelPeakRssMiB} MiB, ` +
        `trace latency p99 ${r.traces.latencyP99Ms} ms, drained in ${r.drainS} s: ${pass ? 'PASS' : 'FAIL'}` +
        (pass ? '' : `\n            ${failed.map((c) => `${c.name}: ${c.detail}`).join('\n            ')}`),
    );
    return pass;
  };
  let lo: number | null = null;
  let hi: number | null = null;
  let s = CHECK_START_SCALE;
  if (await step(s)) {
    lo = s;
    while (hi === null && s < 4) {
      s *= Math.SQRT2;
      if (await step(s)) lo = s;
      else hi = s;
    }
  } else {
    hi = s;
    while (lo === null && s > 0.05) {
      s /= Math.SQRT2;
      if (await step(s)) lo = s;
      else hi = s;
    }
  }
  if (lo !== null && hi !== null) {
    const mid = Math.sqrt(lo * hi);
    if (await step(mid)) lo = mid;
  }
  return { maxScale: lo, steps };
}

// ---------------------------------------------------------------------------------------------
// Main

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
    console.log('skipped     no C compiler (`cc`): the DogStatsD load generator is e2e-dogstatsd/loadgen.c');
    return quick ? 0 : 1;
  }
  const seconds = Number(args.duration ?? (quick ? 150 : 1800));
  const sampleS = Number(args.sample);
  // RSS climbs for the first 3 to 5 minutes (the shard's contexts, buffers and pools filling up): a
  // 30-minute run skips 5 of them, a shorter one its first third.
  const warmupS = Number(args.warmup ?? (seconds >= 1200 ? 300 : Math.max(20, Math.round(seconds / 3))));
  const judged = seconds >= MIN_JUDGED_SECONDS;
  if (!(seconds > 0) || !(sampleS > 0)) throw new Error('--duration and --sample must be > 0');

  // Every socket gets the 8 MiB receive buffer it asks for, and a Unix datagram socket queues
  // systemd's 512 datagrams (the kernel default, 10, is what this VM has), as in e2e-dogstatsd.
  const rmemBefore = readSysctl('net/core/rmem_max');
  const rmemSet = rmemBefore !== null && rmemBefore < 8 << 20 && writeSysctl('net/core/rmem_max', 8 << 20);
  const qlenBefore = readSysctl('net/unix/max_dgram_qlen');
  const qlenSet = qlenBefore !== null && qlenBefore < 512 && writeSysctl('net/unix/max_dgram_qlen', 512);
  process.on('exit', () => {
    if (rmemSet && rmemBefore !== null) writeSysctl('net/core/rmem_max', rmemBefore);
    if (qlenSet && qlenBefore !== null) writeSysctl('net/unix/max_dgram_qlen', qlenBefore);
    for (const c of running) c.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));
  const sysctls = { rmemMax: readSysctl('net/core/rmem_max'), rmemMaxBefore: rmemBefore, unixMaxDgramQlen: readSysctl('net/unix/max_dgram_qlen'), unixMaxDgramQlenBefore: qlenBefore };
  console.log(`sysctl      net.core.rmem_max ${sysctls.rmemMax}${rmemSet ? ` (was ${rmemBefore})` : ''}, net.unix.max_dgram_qlen ${sysctls.unixMaxDgramQlen}${qlenSet ? ` (was ${qlenBefore})` : ''}; restored at exit`);

  const workRoot = mkdtempSync(join(tmpdir(), 'kennel-soak-'));
  const intake = await IntakeProc.start();
  try {
    const corpora = { udp: writeCorpusFile('udp', join(workRoot, 'corpus-udp.bin')), uds: writeCorpusFile('uds', join(workRoot, 'corpus-uds.bin')) };
    for (const [t, c] of Object.entries(corpora))
      console.log(`metrics     ${t}: ${c.packets} datagrams (mean ${c.meanPacketBytes} B), ${c.lines} lines, ${c.samples} samples, ${CORPUS.contexts} contexts + a ${MARKER_METRIC} line per datagram; loadgen.c (sendmmsg, paced)`);
    const loadgen = join(workRoot, 'loadgen');
    execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', loadgen, LOADGEN_C], { stdio: ['ignore', 'inherit', 'inherit'] });
    const payloads = tracePayloads(8);
    console.log(`traces      PUT /v0.4/traces over TCP, ${TRACES_PER_PAYLOAD} traces x ${SPANS_PER_TRACE} spans a request (${(payloads[0]!.body.length / 1000).toFixed(1)} kB, dd-trace-js layout), up to 4 keep-alive connections, every trace id unique`);
    console.log(`logs        kennel run -- node writer.cjs: ${LOG_LINE_BYTES}-byte numbered lines on the child's stdout, paced every 20 ms`);
    console.log(`intake      FakeIntake (@kennel/intake) in its own process at ${intake.url}: decodes every payload, tallies markers, trace ids and log numbers`);
    console.log(`solo maxima ${fmtRates({ ...SOLO_MAXIMA })} (benchmarks/RESULTS.md); scale 1 = a third of each (metrics split between UDP and UDS)`);
    const ctx: Ctx = { loadgen, corpora, payloads, intake, workRoot, runNo: 0 };

    let check: { maxScale: number | null; steps: CheckStep[] } | null = null;
    let scale: number;
    let scaleSource: string;
    if (args.scale !== undefined) {
      scale = Number(args.scale);
      scaleSource = '--scale';
    } else if (quick) {
      scale = QUICK_SCALE;
      scaleSource = 'QUICK_SCALE (half the combined maximum measured by the full run on this machine)';
    } else {
      console.log(`\n--- rate check: ${args['check-step']} s per step, the three loads together, fresh kennel per step`);
      check = await rateCheck(ctx, Number(args['check-step']));
      if (check.maxScale === null) throw new Error('the rate check found no scale the machine sustains');
      scale = check.maxScale / 2;
      scaleSource = `half the combined maximum of the rate check (scale ${round(check.maxScale, 3)})`;
      console.log(`check       combined maximum: scale ${round(check.maxScale, 3)} (${fmtRates(ratesOf(check.maxScale))})`);
    }
    const out = args.out ?? fileURLToPath(new URL(quick ? 'soak.quick.json' : args['check-only'] ? 'soak.check.json' : 'soak.json', RESULTS));
    mkdirSync(join(out, '..'), { recursive: true });
    if (args['check-only']) {
      writeFileSync(out, JSON.stringify({ benchmark: 'soak', mode: 'check-only', environment: env, sysctls, soloMaxima: SOLO_MAXIMA, check }, null, 2) + '\n');
      console.log(`results     ${out}`);
      return 0;
    }

    const rates = ratesOf(scale);
    console.log(`\n--- soak: ${seconds} s at scale ${round(scale, 3)} (${scaleSource}): ${fmtRates(rates)}; a sample every ${sampleS} s, warm-up ${warmupS} s`);
    const r = await runOnce(ctx, { label: 'soak', scale, seconds, sampleS, verbose: true });
    const a = analyse(r.samples, warmupS);
    const checks: Check[] = [...r.loss, ...r.schedule.map((c) => ({ ...c, judged })), ...soakChecks(a, judged)];
    console.log('');
    console.log('| criterion | result | |');
    console.log('|---|---|---|');
    for (const c of checks) console.log(`| ${c.name} | ${c.pass ? 'pass' : '**FAIL**'}${c.judged ? '' : ' (not judged)'} | ${c.detail} |`);
    console.log('');
    console.log(
      `kennel      CPU ${r.kennelCpuS} s over ${seconds} s (${round((r.kennelCpuS / seconds) * 100, 1)} % of a core; median of samples ${a.cpuPctMedian} %), peak RSS ${r.kennelPeakRssMiB} MiB; ` +
        `intake ${round((r.intakeCpuS / seconds) * 100, 1)} % of a core; load generators: UDP ${round((r.udp.cpuS / seconds) * 100, 1)} %, UDS ${round((r.uds.cpuS / seconds) * 100, 1)} %, harness (trace sender, sampling) ${round((r.harnessCpuS / seconds) * 100, 1)} %; load average ${a.loadAverage1.min} to ${a.loadAverage1.max} (median ${a.loadAverage1.median})`,
    );
    const failed = checks.filter((c) => c.judged && !c.pass);
    writeFileSync(
      out,
      JSON.stringify(
        {
          benchmark: 'soak',
          mode: quick ? 'quick' : 'full',
          environment: env,
          sysctls,
          soloMaxima: SOLO_MAXIMA,
          check,
          scale,
          scaleSource,
          rates,
          durationS: seconds,
          sampleS,
          warmupS,
          criteria: checks,
          analysis: a,
          limits: { rssSlopeMiBPerHour: RSS_SLOPE_LIMIT_MIB_PER_HOUR, eventLoopGrowthFactor: EL_GROWTH_FACTOR, eventLoopGrowthSlackMs: EL_GROWTH_SLACK_MS, minJudgedSeconds: MIN_JUDGED_SECONDS, lateTolerance: LATE_TOLERANCE },
          run: r,
          pass: failed.length === 0,
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`results     ${out}`);
    console.log(failed.length === 0 ? 'soak        PASS' : `soak        FAIL: ${failed.map((c) => c.name).join(', ')}`);
    return failed.length === 0 ? 0 : 1;
  } finally {
    intake.stop();
    if (!args.keep) rmSync(workRoot, { recursive: true, force: true });
    else console.log(`kept ${workRoot}`);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // Lingering keep-alive sockets or timers must not hold the process.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
