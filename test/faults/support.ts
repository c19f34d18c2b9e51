/**
 * The fault suite's tools: sizes from `KENNEL_FAULT_SCALE`, a `kennel run` child with its own
 * ports, socket and run path, status and IPC calls, load generators whose sends are counted, and
 * the exactly-once checks over the fake intake's series.
 *
 * Nothing here measures time: every wait polls a condition until it holds, and the test's own
 * timeout is the safety net.
 */
import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Series } from '@kennel/core';
import type { FakeIntake } from '@kennel/intake';
import { sendUnixDatagram } from '@kennel/native';
import { freeTcpPort, freeUdpPort, runKennel, startKennel } from '../utils/index.js';
import type { KennelProcess } from '../utils/index.js';

export { runKennel };

// --- sizes -------------------------------------------------------------------------------------

/** `KENNEL_FAULT_SCALE=full` runs the sizes; anything else (the default, CI) the small ones. */
export const FULL = process.env.KENNEL_FAULT_SCALE === 'full';

export const SIZES = FULL
  ? {
      /** How long the intake answers 503. */
      outageMs: 120_000,
      /** Distinct contexts one client sends. */
      contexts: 10_000_000,
      /** `dogstatsd_context_limit` of the cardinality case. */
      contextLimit: 1_000_000,
      /** Fuzzed datagrams, half over UDP, half over the Unix socket. */
      fuzzDatagrams: 1_000_000,
    }
  : { outageMs: 15_000, contexts: 100_000, contextLimit: 10_000, fuzzDatagrams: 100_000 };

export const API_KEY = 'faultfaultfaultfaultfault12345';

// --- waiting -----------------------------------------------------------------------------------

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every `everyMs` until it holds (the test's timeout bounds it). */
export async function waitUntil(cond: () => boolean | Promise<boolean>, everyMs = 100): Promise<void> {
  while (!(await cond())) await sleep(everyMs);
}

/** Waits until the wall clock is `afterS` seconds into a 10 s bucket (so the bucket before is closed). */
export async function waitForBucketOffset(afterS: number): Promise<void> {
  const now = Date.now() / 1000;
  const start = now - (now % 10);
  let target = start + afterS;
  if (target <= now) target += 10;
  await sleep((target - now) * 1000);
}

/** A progress line on stderr with `KENNEL_FAULT_VERBOSE=1` (the runner prints diagnostics only at the end of a file). */
export function progress(line: string): void {
  if (process.env.KENNEL_FAULT_VERBOSE === '1') process.stderr.write(`[fault ${new Date().toISOString().slice(11, 23)}] ${line}\n`);
}

/**
 * Runs cases at once and waits for every one (a failing case does not leave the others running
 * past the test); reports each result as a diagnostic and throws the failures together.
 */
export async function allCases(t: { diagnostic(s: string): void }, cases: Record<string, () => Promise<string>>): Promise<void> {
  const names = Object.keys(cases);
  const results = await Promise.allSettled(names.map((n) => cases[n]!()));
  const failures: string[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') t.diagnostic(r.value);
    else {
      const e = r.reason as Error;
      failures.push(`${names[i]}: ${e?.stack ?? String(e)}`);
      t.diagnostic(`${names[i]}: FAILED ${e?.message ?? String(e)}`);
    }
  });
  if (failures.length > 0) throw new Error(failures.join('\n\n'));
}

// --- a seeded PRNG -------------------------------------------------------------------------------

/** mulberry32: a small seeded generator, so every fuzzed byte can be replayed from the seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// --- a kennel under test -------------------------------------------------------------------------

/** The status document, loosely typed: the tests read the counters they check. */
export type Status = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface FaultKennel {
  readonly proc: KennelProcess;
  readonly dir: string;
  readonly runPath: string;
  readonly socket: string;
  readonly udpPort: number;
  readonly cmdPort: number;
  readonly env: Record<string, string>;
  /** `GET /agent/status` (JSON). */
  status(): Promise<Status>;
  /** `GET /agent/status/health`. */
  health(): Promise<{ Healthy: string[]; Unhealthy: string[] }>;
  /** `POST /agent/flush` with the auth token: the closed buckets, now. */
  flush(): Promise<{ status: number; body: unknown }>;
  /** VmRSS of the process (worker threads included), KiB. */
  rssKiB(): number;
  alive(): boolean;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** The last `kennel: stopped; {...}` line, parsed. */
  stoppedLine(): Status | null;
}

export interface LaunchOptions {
  /** Where the forwarder sends; none runs local mode. */
  readonly intake?: FakeIntake;
  readonly env?: Record<string, string>;
  /** Reuse the folder (run path, socket) of an earlier kennel: the restart after kill -9. */
  readonly dir?: string;
  readonly args?: string[];
}

/**
 * Starts `kennel run` with its own UDP port, Unix socket, status port and run path (in a new
 * temporary folder), the forwarder pointed at `intake` with a short backoff, and waits for its
 * start line.
 */
export async function launch(o: LaunchOptions = {}): Promise<FaultKennel> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'kennel-fault-'));
  const runPath = join(dir, 'run');
  const socket = join(dir, 'dsd.socket');
  const udpPort = await freeUdpPort();
  const cmdPort = await freeTcpPort();
  const env: Record<string, string> = {
    DD_API_KEY: o.intake ? API_KEY : '',
    ...(o.intake ? { DD_DD_URL: o.intake.url } : {}),
    DD_HOSTNAME: 'fault-host',
    DD_DOGSTATSD_PORT: String(udpPort),
    DD_DOGSTATSD_SOCKET: socket,
    DD_CMD_PORT: String(cmdPort),
    DD_RUN_PATH: runPath,
    // The agent's backoff grows to 64 s; the suite's outages are short, so it stays at 1-2 s.
    DD_FORWARDER_BACKOFF_BASE: '1',
    DD_FORWARDER_BACKOFF_MAX: '2',
    // The metrics path only: traces and logs get their own cases (and every kennel of a run would
    // share the trace receiver's port 8126 and socket).
    DD_APM_ENABLED: 'false',
    DD_LOGS_ENABLED: 'false',
    ...o.env,
  };
  const proc = startKennel(env, o.args ?? ['run']);
  const k: FaultKennel = {
    proc,
    dir,
    runPath,
    socket,
    udpPort,
    cmdPort,
    env,
    status: async () => (await httpJson(cmdPort, 'GET', '/agent/status')).body as Status,
    health: async () => (await httpJson(cmdPort, 'GET', '/agent/status/health')).body as { Healthy: string[]; Unhealthy: string[] },
    flush: () => httpJson(cmdPort, 'POST', '/agent/flush', { authorization: `Bearer ${token(runPath)}` }),
    rssKiB: () => rssKiB(proc.child.pid!),
    alive: () => proc.child.exitCode === null && proc.child.signalCode === null,
    stop: (signal) => proc.stop(signal),
    stoppedLine: () => {
      const last = proc
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('kennel: stopped; '))
        .at(-1);
      return last === undefined ? null : (JSON.parse(last.slice('kennel: stopped; '.length)) as Status);
    },
  };
  await waitUntil(() => /forwarding to|local mode/.test(proc.stderr()) || !k.alive(), 20);
  if (!k.alive()) throw new Error(`kennel did not start:\n${proc.stderr()}`);
  return k;
}

/** The auth token `kennel run` wrote into its run path. */
export function token(runPath: string): string {
  return readFileSync(join(runPath, 'auth_token'), 'utf8').trim();
}

export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** One HTTP request to the loopback status port, on its own connection (no keep-alive). */
export function httpJson(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
  body?: Buffer | string,
): Promise<{ status: number; body: unknown; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers: { connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, text });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

// --- senders -------------------------------------------------------------------------------------

/**
 * Sends datagrams to a Unix datagram socket, waiting while the receiver's queue is full: a Unix
 * datagram socket never loses what it took, so what this returns is what kennel reads.
 */
export async function sendUds(path: string, datagrams: readonly Uint8Array[]): Promise<number> {
  let sent = 0;
  while (sent < datagrams.length) {
    const n = sendUnixDatagram(path, sent === 0 ? datagrams : datagrams.slice(sent));
    sent += n;
    if (sent < datagrams.length) await sleep(n === 0 ? 5 : 0);
  }
  return sent;
}

/** A UDP client on loopback. */
export class UdpClient {
  private readonly s: UdpSocket = createSocket('udp4');
  private readonly port: number;

  constructor(port: number) {
    this.port = port;
  }

  send(d: Uint8Array | string): Promise<void> {
    return new Promise((resolve, reject) => this.s.send(d, this.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  }

  close(): void {
    this.s.close();
  }
}

/**
 * A steady load of counters `<name>:1|c|#ctx:<i>` for `contexts` contexts over the Unix socket,
 * one round every `everyMs`; `sent[i]` is what went out for context i in whole rounds.
 */
export class CounterLoad {
  readonly socket: string;
  readonly name: string;
  readonly contexts: number;
  readonly everyMs: number;
  readonly sent: number[];
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private error: unknown = null;
  private readonly datagrams: Uint8Array[] = [];

  constructor(socket: string, name: string, contexts: number, everyMs = 100) {
    this.socket = socket;
    this.name = name;
    this.contexts = contexts;
    this.everyMs = everyMs;
    this.sent = new Array<number>(contexts).fill(0);
    // 100 lines a datagram, well under 8 KiB.
    for (let i = 0; i < contexts; i += 100) {
      const lines: string[] = [];
      for (let j = i; j < Math.min(contexts, i + 100); j++) lines.push(`${name}:1|c|#ctx:${j}`);
      this.datagrams.push(Buffer.from(lines.join('\n')));
    }
  }

  start(): this {
    // Unreferenced: a load generator left running by a timed-out test does not keep the file's process alive.
    this.timer = setInterval(() => void this.round(), this.everyMs).unref();
    return this;
  }

  private async round(): Promise<void> {
    if (this.busy || this.timer === null) return;
    this.busy = true;
    try {
      await sendUds(this.socket, this.datagrams);
      for (let i = 0; i < this.contexts; i++) this.sent[i]!++;
    } catch (e) {
      this.error = e;
      this.stopTimer();
    } finally {
      this.busy = false;
    }
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Stops after the round in progress; throws what a send threw. */
  async stop(): Promise<number> {
    this.stopTimer();
    await waitUntil(() => !this.busy, 5);
    if (this.error !== null) throw this.error;
    return this.total;
  }

  /** Stops; a failed send (kennel went away: kill -9, SIGTERM) is no error. */
  async stopQuietly(): Promise<number> {
    this.stopTimer();
    await waitUntil(() => !this.busy, 5);
    return this.total;
  }

  get total(): number {
    let t = 0;
    for (const n of this.sent) t += n;
    return t;
  }
}

/**
 * Gauges built so that every series of a flush holds exactly one point: context i gets
 * `<name>:<bucket start>|g|#ctx:<i>` only in even 10 s buckets, never within a second of a bucket
 * edge. With `serializer_max_series_points_per_payload: 1` every payload then carries exactly
 * one point, so the forwarder's transaction counters count points.
 */
export class OnePointGauges {
  readonly socket: string;
  readonly name: string;
  readonly contexts: number;
  readonly everyMs: number;
  /** `ctx|bucket` of every point sent. */
  readonly expected = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private error: unknown = null;

  constructor(socket: string, name: string, contexts: number, everyMs = 500) {
    this.socket = socket;
    this.name = name;
    this.contexts = contexts;
    this.everyMs = everyMs;
  }

  start(): this {
    // Unreferenced: a load generator left running by a timed-out test does not keep the file's process alive.
    this.timer = setInterval(() => void this.round(), this.everyMs).unref();
    return this;
  }

  private async round(): Promise<void> {
    if (this.busy || this.timer === null) return;
    const now = Date.now() / 1000;
    const inTwenty = now % 20;
    if (inTwenty < 1 || inTwenty > 9) return;
    const bucket = Math.trunc(now) - (Math.trunc(now) % 10);
    this.busy = true;
    try {
      const lines: string[] = [];
      for (let i = 0; i < this.contexts; i++) lines.push(`${this.name}:${bucket}|g|#ctx:${i}`);
      const datagrams: Uint8Array[] = [];
      for (let i = 0; i < lines.length; i += 100) datagrams.push(Buffer.from(lines.slice(i, i + 100).join('\n')));
      await sendUds(this.socket, datagrams);
      for (let i = 0; i < this.contexts; i++) this.expected.add(`${i}|${bucket}`);
    } catch (e) {
      this.error = e;
      this.stopTimer();
    } finally {
      this.busy = false;
    }
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Stops after the round in progress. */
  async stop(): Promise<void> {
    this.stopTimer();
    await waitUntil(() => !this.busy, 5);
  }

  get failure(): unknown {
    return this.error;
  }
}

// --- what arrived ---------------------------------------------------------------------------------

export function tagValue(s: Series, key: string): string | undefined {
  const t = s.tags.find((x) => x.startsWith(key + ':'));
  return t === undefined ? undefined : t.slice(key.length + 1);
}

export interface PointEntry {
  /** How many times this (series, timestamp) point arrived. */
  count: number;
  values: number[];
  /** The `ctx:` tag's value. */
  ctx: string;
  ts: number;
}

/** Every point of the series named `name`, keyed by `host|tags|type|timestamp`. */
export function pointsOf(series: readonly Series[], name: string): Map<string, PointEntry> {
  const out = new Map<string, PointEntry>();
  for (const s of series) {
    if (s.name !== name) continue;
    const id = `${s.host}|${[...s.tags].sort().join(',')}|${s.type}`;
    const ctx = tagValue(s, 'ctx') ?? '';
    for (const p of s.points) {
      const key = `${id}|${p.timestamp}`;
      let e = out.get(key);
      if (e === undefined) out.set(key, (e = { count: 0, values: [], ctx, ts: p.timestamp }));
      e.count++;
      e.values.push(p.value);
    }
  }
  return out;
}

/** Points that arrived more than once (empty when every point arrived exactly once). */
export function duplicates(points: Map<string, PointEntry>): string[] {
  return [...points].filter(([, e]) => e.count !== 1).map(([k, e]) => `${k} ×${e.count}`);
}

/** Per context, what a counter's points add up to over every bucket (rate × 10 s). */
export function counterTotals(points: Map<string, PointEntry>): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of points.values()) {
    let sum = 0;
    for (const v of e.values) sum += v * 10;
    out.set(e.ctx, (out.get(e.ctx) ?? 0) + sum);
  }
  for (const [k, v] of out) out.set(k, Math.round(v));
  return out;
}

/** Sum of every context's total. */
export function counterSum(points: Map<string, PointEntry>): number {
  let n = 0;
  for (const v of counterTotals(points).values()) n += v;
  return n;
}

/** The forwarder's `Transactions` block of a status document or stopped line. */
export function transactions(s: Status): Status {
  return s.forwarderStats.Transactions;
}
