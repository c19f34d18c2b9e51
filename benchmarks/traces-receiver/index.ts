/**
 * traces-receiver: the APM receiver end to end, in spans/s. A real `kennel run` (a child process,
 * forward mode) receives v0.4 payloads shaped like dd-trace-js's over keep-alive HTTP on TCP and
 * on the Unix socket, decodes, processes, computes stats and writes `AgentPayload`s to a sink
 * intake in this process. Also the same chain in process, stage by stage. See README.md here.
 *
 *   node benchmarks/dist/traces-receiver/index.js            full run, writes results/traces-receiver.json
 *   node benchmarks/dist/traces-receiver/index.js --quick    short run (CI), writes results/traces-receiver.quick.json
 *   node benchmarks/dist/traces-receiver/index.js --profile-kennel /tmp/prof   the kennel child runs under --cpu-prof
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Concentrator, TraceProcessor, decodeTraces } from '@kennel/traces';
import { TraceEncoder, loadTraceCompression } from '@kennel/forwarder';
import { printEnvironment } from '../_harness/env.js';
import { generateCorpus } from '../traces-decode/payload.js';

const SEED = 20251202;
const KENNEL = fileURLToPath(new URL('../../../packages/agent/bin/kennel.js', import.meta.url));
const API_KEY = 'benchbenchbenchbenchbenchbench1';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: process.env['KENNEL_BENCH_QUICK'] === '1' },
    traces: { type: 'string', default: '50' },
    spans: { type: 'string', default: '10' },
    payloads: { type: 'string', default: '8' },
    connections: { type: 'string', default: '8' },
    seconds: { type: 'string' },
    'profile-kennel': { type: 'string' },
  },
});

const quick = args.quick === true;
const measureS = Number(args.seconds ?? (quick ? 2 : 10));
const warmupS = quick ? 1 : 3;
const nTraces = Number(args.traces);
const perTrace = Number(args.spans);
const nPayloads = Number(args.payloads);
const connections = Number(args.connections);

interface Payload {
  readonly body: Buffer;
  readonly spans: number;
  readonly traces: number;
}

function payloads(): Payload[] {
  const out: Payload[] = [];
  for (let i = 0; i < nPayloads; i++) {
    const c = generateCorpus(SEED + i, nTraces, perTrace);
    out.push({ body: Buffer.from(c.v04.buffer, c.v04.byteOffset, c.v04.byteLength), spans: c.spans, traces: c.traces.length });
  }
  return out;
}

/** The intake the kennel child forwards to: counts and drops (no decoding, so it costs little). */
async function sinkIntake(): Promise<{ url: string; byPath: Map<string, { requests: number; bytes: number }>; close(): Promise<void> }> {
  const byPath = new Map<string, { requests: number; bytes: number }>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      const e = byPath.get(path) ?? { requests: 0, bytes: 0 };
      e.requests++;
      e.bytes += bytes;
      byPath.set(path, e);
      res.writeHead(202, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    byPath,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

interface Kennel {
  readonly child: ChildProcess;
  readonly apmPort: number;
  readonly socket: string;
  readonly cmdPort: number;
  stderr(): string;
}

async function startKennel(intakeUrl: string): Promise<Kennel> {
  const dir = mkdtempSync(join(tmpdir(), 'kennel-bench-apm-'));
  const apmPort = await freePort();
  const cmdPort = await freePort();
  const socket = join(dir, 'apm.socket');
  const prof = args['profile-kennel'];
  const child = spawn(process.execPath, [...(prof !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), KENNEL, 'run'], {
    env: {
      ...process.env,
      DD_API_KEY: API_KEY,
      DD_DD_URL: intakeUrl,
      DD_APM_DD_URL: intakeUrl,
      DD_HOSTNAME: 'bench-host',
      DD_APM_RECEIVER_PORT: String(apmPort),
      DD_APM_RECEIVER_SOCKET: socket,
      DD_USE_DOGSTATSD: 'false',
      DD_LOGS_ENABLED: 'false',
      DD_CMD_PORT: String(cmdPort),
      DD_RUN_PATH: join(dir, 'run'),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const t0 = Date.now();
  while (!err.includes('APM: listening for traces')) {
    if (child.exitCode !== null || Date.now() - t0 > 20_000) throw new Error(`kennel did not start its trace receiver:\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, apmPort, socket, cmdPort, stderr: () => err };
}

/** utime + stime of a process, in seconds (Linux `/proc/<pid>/stat`, 100 ticks a second). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

function rssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

function put(target: { port: number } | { socketPath: string }, agent: Agent, p: Payload): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        ...target,
        agent,
        method: 'PUT',
        path: '/v0.4/traces',
        headers: {
          'Content-Type': 'application/msgpack',
          'Content-Length': String(p.body.length),
          'X-Datadog-Trace-Count': String(p.traces),
          'Datadog-Meta-Lang': 'nodejs',
          'Datadog-Meta-Lang-Version': process.version,
          'Datadog-Meta-Lang-Interpreter': 'v8',
          'Datadog-Meta-Tracer-Version': '5.132.0',
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(p.body);
  });
}

interface LoadFigures {
  readonly variant: string;
  readonly seconds: number;
  readonly requests: number;
  readonly failed: number;
  readonly spans: number;
  readonly spansPerSec: number;
  readonly mbPerSec: number;
  readonly latencyMedianMs: number;
  readonly latencyP99Ms: number;
  /** CPU the kennel process used over the window (user + system). */
  readonly kennelCpuSeconds: number;
  /** spans / kennel CPU second: what one core of kennel takes, independent of the load generator. */
  readonly spansPerKennelCpuSecond: number;
}

async function load(variant: string, target: { port: number } | { socketPath: string }, ps: Payload[], pid: number, seconds: number, record: boolean): Promise<LoadFigures> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let requests = 0;
  let failed = 0;
  let spans = 0;
  let bytes = 0;
  let next = 0;
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const p = ps[next++ % ps.length]!;
      const s = performance.now();
      const status = await put(target, agent, p);
      if (record) latencies.push(performance.now() - s);
      requests++;
      if (status === 200) {
        spans += p.spans;
        bytes += p.body.length;
      } else failed++;
    }
  };
  await Promise.all(Array.from({ length: connections }, () => worker()));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (f: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))]! : NaN);
  return {
    variant,
    seconds: round(elapsed, 2),
    requests,
    failed,
    spans,
    spansPerSec: Math.round(spans / elapsed),
    mbPerSec: round(bytes / 1e6 / elapsed, 1),
    latencyMedianMs: round(q(0.5), 2),
    latencyP99Ms: round(q(0.99), 2),
    kennelCpuSeconds: round(cpu, 2),
    spansPerKennelCpuSecond: Math.round(spans / cpu),
  };
}

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

/**
 * The chain inside the receiver, in this process, one stage more at a time: decode → process →
 * stats → encode (zstd, as the trace writer). Each stage gets fresh state, a warm-up and an equal
 * share of the time.
 */
async function inProcess(ps: Payload[], seconds: number): Promise<Record<string, number>> {
  const compression = await loadTraceCompression();
  const stages = ['decode', 'decode+process', 'decode+process+stats', 'decode+process+stats+encode'] as const;
  const out: Record<string, number> = {};
  for (const [si, stage] of stages.entries()) {
    const processor = new TraceProcessor({ agentEnv: 'none', hostname: 'bench-host' });
    const concentrator = new Concentrator({ agentEnv: 'none', agentHostname: 'bench-host' });
    const encoder = new TraceEncoder({ hostname: 'bench-host', env: 'none' }, compression);
    let i = 0;
    const pass = (): number => {
      const p = ps[i++ % ps.length]!;
      const r = decodeTraces(p.body, 'v0.4', { lang: 'nodejs' });
      if (!r.ok) throw new Error(r.message);
      if (si >= 1) {
        const { payload, stats } = processor.process(r.payload, { lang: 'nodejs' });
        if (si >= 2) concentrator.add(stats);
        if (si >= 3 && encoder.add(payload) === 'flush-required') {
          encoder.finish();
          encoder.add(payload);
        }
      }
      return r.spans;
    };
    const warm = performance.now() + 300;
    while (performance.now() < warm) pass();
    let spans = 0;
    const t0 = performance.now();
    const until = t0 + (seconds * 1000) / stages.length;
    while (performance.now() < until) spans += pass();
    encoder.finish();
    out[stage] = Math.round(spans / ((performance.now() - t0) / 1000));
  }
  return out;
}

async function statusOf(cmdPort: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: cmdPort, path: '/agent/status' }, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d.toString()));
      res.on('end', () => resolve(JSON.parse(b) as Record<string, unknown>));
    })
      .on('error', reject)
      .end();
  });
}

async function main(): Promise<void> {
  const env = printEnvironment();
  const ps = payloads();
  const spansPer = ps[0]!.spans;
  const avgBytes = Math.round(ps.reduce((a, p) => a + p.body.length, 0) / ps.length);
  console.log(`payloads    ${ps.length} v0.4 payloads of ${nTraces} traces x ${perTrace} spans (${spansPer} spans, ${(avgBytes / 1e3).toFixed(1)} kB, ${Math.round(avgBytes / spansPer)} B/span), dd-trace-js layout`);
  console.log(`load        ${connections} keep-alive connections, PUT /v0.4/traces back to back; warm-up ${warmupS} s, then ${measureS} s per variant`);
  const intake = await sinkIntake();
  const kennel = await startKennel(intake.url);
  const pid = kennel.child.pid!;
  const results: LoadFigures[] = [];
  let sent = 0;
  try {
    for (const [variant, target] of [
      ['tcp', { port: kennel.apmPort }],
      ['uds', { socketPath: kennel.socket }],
    ] as const) {
      const w = await load(variant, target, ps, pid, warmupS, false);
      sent += w.spans;
      const f = await load(variant, target, ps, pid, measureS, true);
      sent += f.spans;
      results.push(f);
      console.log(
        `${variant.padEnd(11)} ${f.spansPerSec.toLocaleString('en-US')} spans/s (${f.mbPerSec} MB/s, ${f.requests} requests, ${f.failed} failed), ` +
          `latency median ${f.latencyMedianMs} ms p99 ${f.latencyP99Ms} ms; kennel ${f.kennelCpuSeconds} CPU s: ${f.spansPerKennelCpuSecond.toLocaleString('en-US')} spans per CPU second; RSS ${rssMiB(pid)} MiB`,
      );
    }
    // Every span accepted is counted by the receiver and written out (the writer flushes every 5 s).
    const t0 = Date.now();
    let apm: Record<string, unknown> = {};
    let written = 0;
    while (Date.now() - t0 < 15_000) {
      apm = (await statusOf(kennel.cmdPort)).apmStats as Record<string, unknown>;
      written = ((apm.kennel as Record<string, Record<string, number>>).traceWriterTotal!).Spans ?? 0;
      const fwd = (apm.kennel as Record<string, { Pending: number }>).forwarder!;
      if (written >= sent && fwd.Pending === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const received = ((apm.kennel as Record<string, Record<string, number>[]>).receiverTotal ?? []).reduce((a, c) => a + (c.SpansReceived ?? 0), 0);
    const tracesOut = intake.byPath.get('/api/v0.2/traces') ?? { requests: 0, bytes: 0 };
    console.log(`check       sent ${sent} spans; kennel received ${received}, wrote ${written}; the intake got ${tracesOut.requests} trace payloads (${(tracesOut.bytes / 1e6).toFixed(1)} MB compressed)`);
    if (received !== sent || written !== sent) throw new Error(`lost spans: sent ${sent}, received ${received}, written ${written}`);
    const stages = await inProcess(ps, quick ? 2 : 8);
    console.log(`in process  ${Object.entries(stages).map(([k, v]) => `${k}: ${v.toLocaleString('en-US')} spans/s`).join('; ')}`);
    const out = { benchmark: 'traces-receiver', mode: quick ? 'quick' : 'full', env, payload: { traces: nTraces, spansPerTrace: perTrace, spans: spansPer, bytes: avgBytes }, connections, results, inProcess: stages, check: { sent, received, written, intakePayloads: tracesOut.requests, intakeBytes: tracesOut.bytes } };
    const dir = fileURLToPath(new URL('../../results/', import.meta.url));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, quick ? 'traces-receiver.quick.json' : 'traces-receiver.json'), JSON.stringify(out, null, 2) + '\n');
  } finally {
    kennel.child.kill('SIGTERM');
    await new Promise((r) => kennel.child.once('exit', r));
    await intake.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
