/**
 * The servers under load: kennel and its peers. Each adapter starts one fresh server process
 * (one per step, so counters start at zero and VmHWM is the step's own peak), waits until it
 * listens, reads how many lines (or samples) it has counted, and stops it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { grantedReceiveBuffer } from './proc.js';

export type Transport = 'udp' | 'uds';
export type ServerName = 'kennel' | 'kennel-loop' | 'kennel-2shards' | 'netdata' | 'etsy' | 'node-dgram';

/** What a server has counted since it started. */
export interface ServerCount {
  /** Lines, or for kennel samples (`MetricPackets` counts each value of a multi-value line). */
  readonly value: number;
  /** The server's own counters, as read. */
  readonly detail: Record<string, unknown>;
}

export interface RunningServer {
  readonly name: ServerName;
  readonly pid: number;
  readonly transport: Transport;
  /** Where the load generator sends: `127.0.0.1:port` or a socket path. */
  readonly dest: string;
  readonly udpPort: number | null;
  readonly udsPath: string | null;
  /** `value` counts lines or samples. */
  readonly unit: 'lines' | 'samples';
  count(final?: boolean): Promise<ServerCount>;
  /** The kernel's `rb` for the listening socket (twice the SO_RCVBUF asked for). */
  grantedRcvbuf(): number | null;
  exited(): boolean;
  stop(): Promise<void>;
  readonly logPath: string;
}

export interface StartOptions {
  readonly transport: Transport;
  /** A fresh directory for this process's files (config, socket, log). */
  readonly workDir: string;
  readonly receiveBufferBytes: number;
  readonly ports: { readonly udp: number; readonly http: number };
  /** kennel only: run `node --cpu-prof --cpu-prof-dir=<dir>` on kennel's entry point. */
  readonly cpuProfileDir?: string;
}

export interface ServerDef {
  readonly name: ServerName;
  readonly transports: readonly Transport[];
  /** A human description of the version and settings, for the record; throws when unavailable. */
  describe(): string;
  start(o: StartOptions): Promise<RunningServer>;
}

/** benchmarks/e2e-dogstatsd/ (the source folder, where loadgen.c and peers/ live). */
export const SOURCE_DIR = fileURLToPath(new URL('../../e2e-dogstatsd/', import.meta.url));
/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PEERS = join(SOURCE_DIR, 'peers');
const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------
// Helpers

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface Proc {
  readonly child: ChildProcess;
  readonly logPath: string;
  exited: boolean;
  exitDescription: string;
}

function startProcess(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, workDir: string): Proc {
  const logPath = join(workDir, 'server.log');
  const log = createWriteStream(logPath);
  const child = spawn(cmd, args, { env, cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const p: Proc = { child, logPath, exited: false, exitDescription: '' };
  child.on('exit', (code, signal) => {
    p.exited = true;
    p.exitDescription = signal ? `signal ${signal}` : `exit code ${code}`;
  });
  child.on('error', (e) => {
    p.exited = true;
    p.exitDescription = e.message;
  });
  return p;
}

function logTail(path: string, n = 15): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitFor(p: Proc, what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (p.exited) throw new Error(`${what} exited while starting (${p.exitDescription}); log ${p.logPath}:\n${logTail(p.logPath)}`);
    try {
      if (await probe()) return;
    } catch {
      // not ready yet
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms; log ${p.logPath}:\n${logTail(p.logPath)}`);
    await sleep(200);
  }
}

async function stopProcess(p: Proc, graceMs = 10_000): Promise<void> {
  if (p.exited) return;
  const done = new Promise<void>((r) => p.child.once('exit', () => r()));
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (!p.exited) p.child.kill('SIGKILL');
  }, graceMs);
  await done;
  clearTimeout(timer);
}

export function httpGet(port: number, path: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 400) reject(new Error(`GET ${path}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
        else resolve(body);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The environment without the Datadog variables of the caller (kennel must run in local mode). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('DD_') || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return env;
}

function udpDest(port: number): string {
  return `127.0.0.1:${port}`;
}

// ---------------------------------------------------------------------------------------------
// kennel

const KENNEL_BIN = join(REPO_ROOT, 'node_modules', '.bin', 'kennel');
const KENNEL_ENTRY = join(REPO_ROOT, 'node_modules', '@kennel', 'agent', 'bin', 'kennel.js');

function kennelStatus(port: number): Promise<Record<string, unknown>> {
  return httpGet(port, '/agent/status').then((t) => JSON.parse(t) as Record<string, unknown>);
}

function kennelCount(doc: Record<string, unknown>): ServerCount {
  const d = (doc['dogstatsdStats'] ?? {}) as Record<string, unknown>;
  const a = (doc['aggregatorStats'] ?? {}) as Record<string, unknown>;
  const packets = Number(d['MetricPackets'] ?? NaN);
  const errors = Number(d['MetricParseErrors'] ?? 0);
  if (!Number.isFinite(packets)) throw new Error('kennel status has no dogstatsdStats.MetricPackets');
  // A sample decoded and then dropped before aggregation (the shard queue's bound, the context
  // limit) is lost as surely as a datagram the kernel dropped: it does not count as received.
  const dropped = Number(a['QueueDrops'] ?? 0) + Number(a['ContextsDropped'] ?? 0);
  return {
    value: packets + errors - dropped,
    detail: { ...d, QueueDrops: a['QueueDrops'], ContextsDropped: a['ContextsDropped'], SourcePauses: a['SourcePauses'] },
  };
}

/** kennel run with its defaults (`kennel`), or with extra settings for a same-run comparison. */
function kennelServer(name: ServerName, extraEnv: Readonly<Record<string, string>>, note: string): ServerDef {
  return {
  name,
  transports: ['udp', 'uds'],
  describe() {
    if (!existsSync(KENNEL_BIN)) throw new Error(`${KENNEL_BIN} is missing: run pnpm install and pnpm build`);
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'packages', 'agent', 'package.json'), 'utf8')) as { version: string };
    return `kennel ${pkg.version} (node_modules/.bin/kennel run, local mode${note}, ${process.version})`;
  },
  async start(o) {
    const udsPath = join(o.workDir, 'dsd.socket');
    const env: NodeJS.ProcessEnv = {
      ...cleanEnv(),
      DD_DOGSTATSD_SO_RCVBUF: String(o.receiveBufferBytes),
      DD_DOGSTATSD_PORT: String(o.ports.udp),
      DD_DOGSTATSD_SOCKET: udsPath,
      DD_CMD_PORT: String(o.ports.http),
      DD_HOSTNAME: 'kennel-bench',
      // The trace receiver's fixed port (8126) and socket would clash with any other kennel on
      // the machine; this benchmark is DogStatsD only.
      DD_APM_RECEIVER_PORT: '0',
      DD_APM_RECEIVER_SOCKET: '',
      ...extraEnv,
    };
    // Node refuses --cpu-prof in NODE_OPTIONS, so a profiled run starts node on the entry point
    // the bin shim execs.
    const p =
      o.cpuProfileDir === undefined
        ? startProcess(KENNEL_BIN, ['run'], env, o.workDir)
        : startProcess(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfileDir}`, KENNEL_ENTRY, 'run'], env, o.workDir);
    await waitFor(p, 'kennel run', 30_000, async () => {
      const doc = await kennelStatus(o.ports.http);
      kennelCount(doc);
      return o.transport === 'udp' || existsSync(udsPath);
    });
    return {
      name,
      pid: p.child.pid!,
      transport: o.transport,
      dest: o.transport === 'udp' ? udpDest(o.ports.udp) : udsPath,
      udpPort: o.ports.udp,
      udsPath,
      unit: 'samples',
      logPath: p.logPath,
      async count(final) {
        if (!final) return kennelCount(await kennelStatus(o.ports.http));
        // The recorded figure comes from the CLI the way a user reads it.
        const out = execFileSync(KENNEL_BIN, ['status', '--json'], {
          env: { ...cleanEnv(), DD_CMD_PORT: String(o.ports.http) },
          encoding: 'utf8',
          timeout: 30_000,
        });
        return kennelCount(JSON.parse(out) as Record<string, unknown>);
      },
      grantedRcvbuf: () => (o.transport === 'udp' ? grantedReceiveBuffer({ udpPort: o.ports.udp }) : grantedReceiveBuffer({ unixPath: udsPath })),
      exited: () => p.exited,
      stop: () => stopProcess(p),
    };
  },
  };
}

export const kennel = kennelServer('kennel', {}, '');
/** kennel reading its sockets on the event loop instead of its reader threads (`dogstatsd_reader_thread: false`). */
export const kennelLoop = kennelServer('kennel-loop', { DD_DOGSTATSD_READER_THREAD: 'false' }, ', DD_DOGSTATSD_READER_THREAD=false');
/** kennel with two aggregation shards (`dogstatsd_pipeline_count: 2`): the router then keys samples on the main thread. */
export const kennel2Shards = kennelServer('kennel-2shards', { DD_DOGSTATSD_PIPELINE_COUNT: '2' }, ', DD_DOGSTATSD_PIPELINE_COUNT=2');

// ---------------------------------------------------------------------------------------------
// netdata (Debian package `netdata`): its internal statsd server only, every collector off.

function netdataVersion(): string {
  return execFileSync('netdata', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** `netdata_netdata_statsd_events_total{...dimension="counters"} 123 ts` lines, as collected. */
function netdataEvents(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  const re = /^netdata_netdata_statsd_events_total\{[^}]*dimension="([^"]+)"\}\s+(\d+)/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) out[m[1]!] = Number(m[2]);
  return out;
}

export const netdata: ServerDef = {
  name: 'netdata',
  transports: ['udp'],
  describe() {
    return `${netdataVersion()} (Debian package; internal statsd plugin only, every collector off, db mode ram)`;
  },
  async start(o) {
    const d = o.workDir;
    for (const sub of ['cache', 'lib', 'log', 'run']) mkdirSync(join(d, sub), { recursive: true });
    const conf = [
      '# written by benchmarks/e2e-dogstatsd: netdata as a statsd server and nothing else',
      '[global]',
      '\trun as user = root',
      '\thostname = kennel-bench',
      '[db]',
      '\tmode = ram',
      '\tupdate every = 1',
      '[directories]',
      `\tcache = ${d}/cache`,
      `\tlib = ${d}/lib`,
      `\tlog = ${d}/log`,
      `\trun = ${d}/run`,
      '[logs]',
      `\terror = ${d}/log/error.log`,
      `\tdebug = ${d}/log/debug.log`,
      '\taccess = none',
      '[web]',
      `\tbind to = 127.0.0.1:${o.ports.http}`,
      '[ml]',
      '\tenabled = no',
      '[health]',
      '\tenabled = no',
      '[plugins]',
      '\tenable running new plugins = no',
      ...['proc', 'diskspace', 'cgroups', 'tc', 'idlejitter', 'timex', 'checks', 'apps', 'python.d', 'charts.d', 'go.d', 'ebpf', 'perf', 'slabinfo'].map(
        (k) => `\t${k} = no`,
      ),
      '\tstatsd = yes',
      '[statsd]',
      '\tenabled = yes',
      `\tbind to = udp:127.0.0.1:${o.ports.udp}`,
      '',
    ].join('\n');
    const confPath = join(d, 'netdata.conf');
    writeFileSync(confPath, conf);
    const p = startProcess('netdata', ['-D', '-c', confPath], cleanEnv(), d);
    // netdata's Prometheus endpoint returns, per `server=` name, only what was collected since
    // that name's previous request: a fresh name per request gets every counter, as collected.
    let reads = 0;
    const read = async (): Promise<ServerCount> => {
      const text = await httpGet(o.ports.http, `/api/v1/allmetrics?format=prometheus&source=as-collected&timestamps=no&server=kennel-bench-${++reads}`);
      // The statsd charts appear with the first datagram: no chart yet means nothing counted.
      const ev = netdataEvents(text);
      let lines = 0;
      for (const [k, v] of Object.entries(ev)) if (k !== 'errors') lines += v;
      return { value: lines, detail: ev };
    };
    await waitFor(p, 'netdata', 60_000, async () => {
      await httpGet(o.ports.http, '/api/v1/info');
      return grantedReceiveBuffer({ udpPort: o.ports.udp }) !== null;
    });
    return {
      name: 'netdata',
      pid: p.child.pid!,
      transport: o.transport,
      dest: udpDest(o.ports.udp),
      udpPort: o.ports.udp,
      udsPath: null,
      unit: 'lines',
      logPath: p.logPath,
      count: read,
      grantedRcvbuf: () => grantedReceiveBuffer({ udpPort: o.ports.udp }),
      exited: () => p.exited,
      stop: () => stopProcess(p),
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Etsy statsd (npm `statsd`), with its UDP server asking for the receive buffer and a backend
// that totals its own metrics_received counter.

function statsdDir(): string {
  return join(require.resolve('statsd/package.json'), '..');
}

function mgmtCommand(port: number, cmd: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let buf = '';
    const timer = setTimeout(() => s.destroy(new Error(`statsd management port: no END within ${timeoutMs} ms`)), timeoutMs);
    s.on('connect', () => s.write(`${cmd}\n`));
    s.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      if (buf.includes('END\n')) {
        clearTimeout(timer);
        s.end('quit\n');
        resolve(buf);
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export const etsy: ServerDef = {
  name: 'etsy',
  transports: ['udp'],
  describe() {
    const pkg = JSON.parse(readFileSync(join(statsdDir(), 'package.json'), 'utf8')) as { version: string };
    return `Etsy statsd ${pkg.version} (npm; flushInterval 1 s, no output backend, ${process.version})`;
  },
  async start(o) {
    const mgmtPort = o.ports.http;
    const config = {
      address: '127.0.0.1',
      port: o.ports.udp,
      mgmt_address: '127.0.0.1',
      mgmt_port: mgmtPort,
      flushInterval: 1000,
      automaticConfigReload: false,
      backends: [join(PEERS, 'etsy-count-backend.cjs')],
      servers: [{ server: join(PEERS, 'etsy-udp-server.cjs'), address: '127.0.0.1', port: o.ports.udp, recvBufferSize: o.receiveBufferBytes }],
    };
    const confPath = join(o.workDir, 'statsd-config.js');
    writeFileSync(confPath, JSON.stringify(config, null, 2));
    const p = startProcess(process.execPath, [join(statsdDir(), 'stats.js'), confPath], cleanEnv(), o.workDir);
    const read = async (): Promise<ServerCount> => {
      const text = await mgmtCommand(mgmtPort, 'stats');
      const get = (k: string): number => {
        const m = new RegExp(`^kennelbench\\.${k}: (\\d+)$`, 'm').exec(text);
        if (!m) throw new Error(`statsd stats has no kennelbench.${k}`);
        return Number(m[1]);
      };
      const bad = /^messages\.bad_lines_seen: (\d+)$/m.exec(text);
      return {
        value: get('metrics_received'),
        detail: { metrics_received: get('metrics_received'), packets_received: get('packets_received'), bad_lines_seen: bad ? Number(bad[1]) : null, flushes: get('flushes') },
      };
    };
    await waitFor(p, 'Etsy statsd', 30_000, async () => {
      await read();
      return grantedReceiveBuffer({ udpPort: o.ports.udp }) !== null;
    });
    return {
      name: 'etsy',
      pid: p.child.pid!,
      transport: o.transport,
      dest: udpDest(o.ports.udp),
      udpPort: o.ports.udp,
      udsPath: null,
      unit: 'lines',
      logPath: p.logPath,
      count: read,
      grantedRcvbuf: () => grantedReceiveBuffer({ udpPort: o.ports.udp }),
      exited: () => p.exited,
      stop: () => stopProcess(p),
    };
  },
};

// ---------------------------------------------------------------------------------------------
// A node:dgram loop that only counts lines: the floor for any Node.js server.

export const nodeDgram: ServerDef = {
  name: 'node-dgram',
  transports: ['udp'],
  describe() {
    return `node:dgram counting loop (peers/node-dgram-count.mjs, ${process.version})`;
  },
  async start(o) {
    const p = startProcess(process.execPath, [join(PEERS, 'node-dgram-count.mjs'), String(o.ports.udp), String(o.ports.http)], cleanEnv(), o.workDir);
    const read = async (): Promise<ServerCount> => {
      const d = JSON.parse(await httpGet(o.ports.http, '/')) as { lines: number };
      return { value: d.lines, detail: d as unknown as Record<string, unknown> };
    };
    await waitFor(p, 'node-dgram', 15_000, async () => {
      await read();
      return true;
    });
    return {
      name: 'node-dgram',
      pid: p.child.pid!,
      transport: o.transport,
      dest: udpDest(o.ports.udp),
      udpPort: o.ports.udp,
      udsPath: null,
      unit: 'lines',
      logPath: p.logPath,
      count: read,
      grantedRcvbuf: () => grantedReceiveBuffer({ udpPort: o.ports.udp }),
      exited: () => p.exited,
      stop: () => stopProcess(p),
    };
  },
};

export const SERVERS: Readonly<Record<ServerName, ServerDef>> = { kennel, 'kennel-loop': kennelLoop, 'kennel-2shards': kennel2Shards, netdata, etsy, 'node-dgram': nodeDgram };
