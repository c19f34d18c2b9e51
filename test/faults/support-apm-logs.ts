/**
 * The fault suite's tools for the APM and logs pipelines: a `kennel run` with its trace receiver
 * on its own TCP port and Unix socket and its logs sent to the fake intake, a trace load whose
 * span ids are counted once the receiver answered 200, a log file written line by line, and the
 * exactly-once checks over what the fake intake stored.
 *
 * Nothing here measures time: every wait polls a condition until it holds, and the test's own
 * timeout is the safety net.
 */
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeIntake } from '@kennel/intake';
import { msgpack } from '../integration/apm-support.js';
import { freeTcpPort } from '../utils/index.js';
import { launch, sleep } from './support.js';
import type { FaultKennel, Status } from './support.js';

// --- waiting ----------------------------------------------------------------------------------------

let testSignal: AbortSignal | undefined;

/** Ties `waitFor` to a test: once its timeout (the safety net) fires, every wait throws instead of polling on. */
export function bindTest(t: { readonly signal: AbortSignal }): void {
  testSignal = t.signal;
}

/**
 * Polls `cond` every `everyMs` until it holds, as `waitUntil` does; throws once the test bound
 * with `bindTest` timed out, so a case that waits for something that never comes ends with its
 * test instead of keeping the process alive.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, everyMs = 100): Promise<void> {
  while (!(await cond())) {
    if (testSignal?.aborted === true) throw new Error('the test timed out: the condition never held');
    await sleep(everyMs);
  }
}

// --- a kennel with APM and logs -------------------------------------------------------------------

export interface ApmLogsKennel extends FaultKennel {
  readonly apmPort: number;
  readonly apmSocket: string;
  /** `apmStats` of the status document. */
  apm(): Promise<Status>;
}

export interface ApmLogsOptions {
  readonly intake?: FakeIntake;
  /** The `logs:` entries (`DD_LOGS`); none: logs only from `kennel run -- CMD`, if any. */
  readonly logs?: readonly Record<string, unknown>[];
  readonly env?: Record<string, string>;
  /** Reuse the folder (run path, registry) of an earlier kennel: the restart after kill -9. */
  readonly dir?: string;
  readonly args?: string[];
}

/**
 * Starts `kennel run` with the trace receiver on a free TCP port and `<dir>/apm.socket`, traces
 * and logs sent to `intake`, short logs backoffs, and waits for its APM and logs start lines.
 */
export async function launchApmLogs(o: ApmLogsOptions = {}): Promise<ApmLogsKennel> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'kennel-fault-al-'));
  const apmPort = await freeTcpPort();
  const apmSocket = join(dir, 'apm.socket');
  const logsOn = o.logs !== undefined && o.logs.length > 0;
  const k = await launch({
    ...(o.intake ? { intake: o.intake } : {}),
    dir,
    ...(o.args ? { args: o.args } : {}),
    env: {
      DD_APM_ENABLED: 'true',
      DD_APM_RECEIVER_PORT: String(apmPort),
      DD_APM_RECEIVER_SOCKET: apmSocket,
      ...(o.intake ? { DD_APM_DD_URL: o.intake.url, DD_LOGS_CONFIG_LOGS_DD_URL: o.intake.url } : {}),
      DD_LOGS_ENABLED: logsOn ? 'true' : 'false',
      ...(logsOn ? { DD_LOGS: JSON.stringify(o.logs) } : {}),
      // The agent's logs backoff grows to 120 s; the suite's outages are short.
      DD_LOGS_CONFIG_SENDER_BACKOFF_BASE: '0.2',
      DD_LOGS_CONFIG_SENDER_BACKOFF_MAX: '1',
      DD_LOGS_CONFIG_FILE_SCAN_PERIOD: '0.1',
      DD_LOGS_CONFIG_BATCH_WAIT: '0.2',
      ...o.env,
    },
  });
  const e = () => k.proc.stderr();
  const wantLogs = logsOn || (o.args?.includes('--') ?? false);
  await waitFor(() => !k.alive() || (/APM: (listening|off)|trace receiver is off/.test(e()) && (!wantLogs || e().includes('kennel: logs: collecting'))), 20);
  if (!k.alive() || !e().includes('APM: listening for traces')) {
    await k.stop('SIGKILL');
    throw new Error(`kennel did not start its trace receiver:\n${e()}`);
  }
  return Object.assign(k, { apmPort, apmSocket, apm: async () => (await k.status()).apmStats as Status });
}

// --- traces ---------------------------------------------------------------------------------------

export type TraceTarget = { readonly port: number } | { readonly socketPath: string };

export interface Reply {
  readonly status: number;
  readonly body: string;
}

/** One HTTP request to the trace receiver; rejects on a transport error. */
export function traceCall(target: TraceTarget, path: string, body: Buffer | string, headers: Record<string, string | number> = {}, agent: Agent | false = false, method = 'PUT'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', ...target, path, method, agent, headers: { 'Content-Length': Buffer.byteLength(body), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Spans of one trace, as dd-trace writes them in /v0.4 (the root keeps it: priority 1, AUTO_KEEP). */
export function traceSpans(traceId: bigint, spans: number, service: string): Record<string, unknown>[] {
  const now = BigInt(Date.now()) * 1_000_000n;
  const out: Record<string, unknown>[] = [];
  for (let j = 0; j < spans; j++) {
    out.push({
      trace_id: traceId,
      span_id: spanIdOf(traceId, j),
      parent_id: j === 0 ? 0n : spanIdOf(traceId, 0),
      name: j === 0 ? 'web.request' : 'db.query',
      service,
      resource: j === 0 ? 'GET /orders' : 'SELECT orders',
      type: j === 0 ? 'web' : 'sql',
      start: now + BigInt(j) * 1000n,
      duration: 500_000n,
      error: 0,
      meta: { env: 'fault', 'span.kind': j === 0 ? 'server' : 'client' },
      metrics: j === 0 ? { _sampling_priority_v1: 1, _top_level: 1 } : {},
    });
  }
  return out;
}

export function spanIdOf(traceId: bigint, j: number): bigint {
  return traceId * 8n + BigInt(j);
}

const TRACE_HEADERS = {
  'Content-Type': 'application/msgpack',
  'Datadog-Meta-Lang': 'nodejs',
  'Datadog-Meta-Lang-Version': 'v20.19.0',
  'Datadog-Meta-Tracer-Version': '5.132.0',
};

/**
 * A steady load of /v0.4 traces (each of `spansPerTrace` spans with unique ids) over a keep-alive
 * connection to the TCP port or the Unix socket, one request of `tracesPerRequest` traces every
 * `everyMs`. `answered` holds the span ids of every request answered 200 (kennel has taken them);
 * `attempted` those of every request sent, answered or not.
 */
export class TraceLoad {
  readonly target: TraceTarget;
  readonly service: string;
  readonly tracesPerRequest: number;
  readonly spansPerTrace: number;
  readonly everyMs: number;
  readonly answered = new Set<string>();
  readonly attempted = new Set<string>();
  readonly statuses = new Map<number, number>();
  transportErrors = 0;
  private next: bigint;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(target: TraceTarget, service: string, o: { tracesPerRequest?: number; spansPerTrace?: number; everyMs?: number } = {}) {
    this.target = target;
    this.service = service;
    this.tracesPerRequest = o.tracesPerRequest ?? 5;
    this.spansPerTrace = o.spansPerTrace ?? 3;
    this.everyMs = o.everyMs ?? 100;
    // Trace ids unique across the kennels of a run: the clock in the high bits, a counter below.
    this.next = (BigInt(Date.now()) << 18n) + BigInt(Math.floor(Math.random() * 1000)) * 256n;
  }

  start(): this {
    // Unreferenced: a load generator left running by a timed-out test does not keep the file's process alive.
    this.timer = setInterval(() => void this.round(), this.everyMs).unref();
    return this;
  }

  /** One request now; resolves with its status (0 for a transport error). */
  async round(): Promise<number> {
    if (this.busy) return -1;
    this.busy = true;
    const traces: Record<string, unknown>[][] = [];
    const ids: string[] = [];
    for (let i = 0; i < this.tracesPerRequest; i++) {
      const id = this.next++;
      traces.push(traceSpans(id, this.spansPerTrace, this.service));
      for (let j = 0; j < this.spansPerTrace; j++) ids.push(String(spanIdOf(id, j)));
    }
    for (const id of ids) this.attempted.add(id);
    let status = 0;
    try {
      const r = await traceCall(this.target, '/v0.4/traces', msgpack(traces), { ...TRACE_HEADERS, 'X-Datadog-Trace-Count': traces.length }, this.agent);
      status = r.status;
      this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
      if (status === 200) for (const id of ids) this.answered.add(id);
    } catch {
      this.transportErrors++;
    } finally {
      this.busy = false;
    }
    return status;
  }

  /** Stops after the request in progress. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await waitFor(() => !this.busy, 5);
    this.agent.destroy();
  }

  /** Traces answered 200. */
  get traces(): number {
    return this.answered.size / this.spansPerTrace;
  }
}

/** How many times each span id of `service` arrived at the intake. */
export function spanArrivals(intake: FakeIntake, service: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of intake.store.payloads('traces')) {
    for (const tp of p.items) {
      for (const c of tp.chunks) {
        for (const s of c.spans) {
          if (s.service !== service) continue;
          const k = String(s.spanId);
          out.set(k, (out.get(k) ?? 0) + 1);
        }
      }
    }
  }
  return out;
}

/** `missing`: answered but never arrived; `duplicated`: arrived more than once; `unexpected`: arrived, never sent. */
export function spanCheck(load: TraceLoad, arrived: Map<string, number>): { missing: string[]; duplicated: string[]; unexpected: string[] } {
  return {
    missing: [...load.answered].filter((id) => !arrived.has(id)),
    duplicated: [...arrived].filter(([, n]) => n !== 1).map(([id, n]) => `${id} ×${n}`),
    unexpected: [...arrived.keys()].filter((id) => !load.attempted.has(id)),
  };
}

// --- logs -----------------------------------------------------------------------------------------

/** Lines `<prefix>-<i> <pad>` of a fixed width each, so byte offsets map to line numbers. */
export function logLine(prefix: string, i: number, pad = 40): string {
  return `${prefix}-${String(i).padStart(7, '0')} ${'x'.repeat(pad)}`;
}

/** A log file written by the test: `lines` lines every `everyMs`, every line kept in `written`. */
export class FileWriter {
  readonly path: string;
  readonly prefix: string;
  readonly linesPerRound: number;
  readonly everyMs: number;
  readonly written: string[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(path: string, prefix: string, linesPerRound = 10, everyMs = 100) {
    this.path = path;
    this.prefix = prefix;
    this.linesPerRound = linesPerRound;
    this.everyMs = everyMs;
    writeFileSync(path, '');
  }

  start(): this {
    // Unreferenced: a writer left running by a timed-out test does not keep the file's process alive.
    this.timer = setInterval(() => this.write(this.linesPerRound), this.everyMs).unref();
    return this;
  }

  write(n: number): void {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(logLine(this.prefix, this.written.length + i));
    appendFileSync(this.path, lines.map((l) => l + '\n').join(''));
    this.written.push(...lines);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** The line count of a byte offset (every line has the same length). */
  linesAt(offset: number): number {
    const width = Buffer.byteLength(logLine(this.prefix, 0)) + 1;
    if (offset % width !== 0) throw new Error(`offset ${offset} is not at a line boundary (lines of ${width} bytes)`);
    return offset / width;
  }
}

/** Messages of the intake's logs that start with `<prefix>-`, in arrival order. */
export function logMessages(intake: FakeIntake, prefix: string): string[] {
  const out: string[] = [];
  for (const e of intake.store.logs()) if (e.message.startsWith(prefix + '-')) out.push(e.message);
  return out;
}

/** Which expected lines are missing, which arrived twice, which were never written. */
export function linesCheck(got: readonly string[], expected: readonly string[]): { missing: string[]; duplicated: string[]; unexpected: string[] } {
  const seen = new Map<string, number>();
  for (const g of got) seen.set(g, (seen.get(g) ?? 0) + 1);
  const want = new Set(expected);
  return {
    missing: expected.filter((e) => !seen.has(e)),
    duplicated: [...seen].filter(([, n]) => n > 1).map(([m, n]) => `${m} ×${n}`),
    unexpected: [...seen.keys()].filter((m) => !want.has(m)),
  };
}

/** A short summary of a check for assertion messages. */
export function brief(c: { missing: string[]; duplicated: string[]; unexpected: string[] }): { missing: number; duplicated: number; unexpected: number } {
  return { missing: c.missing.length, duplicated: c.duplicated.length, unexpected: c.unexpected.length };
}

/** The file offset `registry.json` holds for `path` (`file:<path>`), or null. */
export function registryOffset(runPath: string, path: string): number | null {
  try {
    const r = JSON.parse(readFileSync(join(runPath, 'registry.json'), 'utf8')) as { Registry: Record<string, { Offset: string }> };
    const e = r.Registry[`file:${path}`];
    return e === undefined ? null : Number(e.Offset);
  } catch {
    return null;
  }
}

/** `logsStats.metrics` as numbers. */
export function logsMetrics(s: Status): Record<string, number> {
  const m = (s.logsStats?.metrics ?? {}) as Record<string, string>;
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number(v)]));
}

export { sleep };
