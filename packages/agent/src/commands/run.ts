import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { ErrorCode, KennelError } from '@kennel/core';
import { DogStatsDSources } from '@kennel/dogstatsd/source';
import { trimMemory } from '@kennel/native';
import type { Env } from '../config/env.js';
import { loadConfig, redactApiKey } from '../config/load.js';
import type { Config } from '../config/load.js';
import { ApmPipeline, apmNotRunning, startApm } from '../topology/apm-pipeline.js';
import { HealthRegistry } from '../topology/health.js';
import { LOGS_AGENT_NOT_RUNNING, LogsPipeline } from '../topology/logs-pipeline.js';
import { MetricsPipeline } from '../topology/metrics-pipeline.js';
import { RuntimeStats } from '../topology/runtime-stats.js';
import { createSink } from '../topology/sinks.js';
import type { MetricsSink } from '../topology/sinks.js';
import { StatusServer } from '../topology/status-server.js';
import { KENNEL_VERSION } from '../version.js';
import { superviseChild } from './run-child.js';

export interface RunIo {
  log(s: string): void;
}

export interface RunningAgent {
  readonly config: Config;
  /** The UDP address bound, or null when UDP is off (`DD_DOGSTATSD_PORT=0`). */
  readonly udpAddress: { address: string; port: number } | null;
  /** The Unix datagram socket path, or null when off. */
  readonly udsPath: string | null;
  /** The status port bound, or null when off (`DD_CMD_PORT=0`). */
  readonly statusAddress: AddressInfo | null;
  readonly pipeline: MetricsPipeline;
  readonly sink: MetricsSink;
  /** The logs pipeline, or null when `logs_enabled` is off and no command was given. */
  readonly logs: LogsPipeline | null;
  /** The APM pipeline (trace receiver on 8126 and the Unix socket), or null when it is not running. */
  readonly apm: ApmPipeline | null;
  /** Where the auth token guarded IPC routes need was written, or null when it could not be. */
  readonly authTokenPath: string | null;
  /** Resolves when `POST /agent/stop` asks the agent to stop (`kennel stop`). */
  readonly stopRequested: Promise<string>;
  /** The status document `kennel status --json` prints. */
  stats(): Record<string, unknown>;
  health(): { Healthy: string[]; Unhealthy: string[] };
  /**
   * Stops as the agent's sidecar does on SIGTERM: sources first, then every bucket (the open one
   * included) is flushed, then the forwarder drains until `forwarder_stop_timeout`.
   */
  stop(): Promise<void>;
}

function configError(message: string): KennelError {
  return new KennelError(ErrorCode.CONFIG_INVALID, message);
}

/** `auth_token_file_path`, or `<run_path>/auth_token` when it is empty. */
export function authTokenPath(config: Config): string {
  return config.string('auth_token_file_path') || join(config.string('run_path'), 'auth_token');
}

/** Checks the paths kennel will write before anything is opened; throws naming the key. */
function validatePaths(config: Config): void {
  const dir = (key: string, env: string, path: string) => {
    if (path === '') return;
    const st = statSync(path, { throwIfNoEntry: false });
    if (st !== undefined && !st.isDirectory()) throw configError(`${env} (${key}): ${path} exists and is not a directory`);
  };
  dir('run_path', 'DD_RUN_PATH', config.string('run_path'));
  if (config.int('forwarder_storage_max_size_in_bytes') > 0) dir('forwarder_storage_path', 'DD_FORWARDER_STORAGE_PATH', config.string('forwarder_storage_path'));
  const token = authTokenPath(config);
  const st = lstatSync(token, { throwIfNoEntry: false });
  if (st !== undefined && !st.isFile()) {
    throw configError(`DD_AUTH_TOKEN_FILE_PATH (auth_token_file_path): ${token} exists and is not a regular file (a link or a folder is never followed or replaced)`);
  }
  const socket = config.string('dogstatsd_socket');
  if (config.bool('use_dogstatsd') && socket !== '' && !socket.startsWith('/')) {
    throw configError(`DD_DOGSTATSD_SOCKET (dogstatsd_socket): expected an absolute path, got ${JSON.stringify(socket)}`);
  }
}

/**
 * Writes a new session token (32 random bytes, hex) to `path`, mode 0600, as the agent's
 * `auth_token`: a temporary file then a rename, so a reader never sees half a token.
 */
function writeAuthToken(path: string): string {
  const token = randomBytes(32).toString('hex');
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, token, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never written
    }
    throw e;
  }
  return token;
}

export interface StartOptions {
  /** `kennel run -- CMD ARGS`: the application to run as a child, its output collected as logs. */
  readonly command?: readonly string[];
}

/** Starts the agent: DogStatsD sources → codec → aggregator → encoders → forwarder or local intake. */
export async function startAgent(env: Env, io: RunIo, configFile?: string, options: StartOptions = {}): Promise<RunningAgent> {
  const config = loadConfig(env, configFile);
  validatePaths(config);
  if (config.unknownFileKeys.length > 0) {
    const keys = config.unknownFileKeys;
    io.log(`kennel: ${configFile}: ignoring ${keys.length} key${keys.length === 1 ? '' : 's'} kennel does not read: ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', ...' : ''}`);
  }
  const startedAt = Date.now();
  const health = new HealthRegistry();
  const runtime = new RuntimeStats(startedAt, Date.now, { intervalMs: config.int('kennel_memory_trim_interval') * 1000, trim: trimMemory });
  const sink = await createSink(config, io.log);
  const pipeline = new MetricsPipeline(config, sink, io.log);
  await pipeline.start();
  health.register('aggregator');
  pipeline.onFlushed = () => health.beat('aggregator');
  // Stuck: batches wait for a shard, or a flush started, and for 15 s no shard applied a batch
  // and no flush came back (a shard that stopped answering).
  health.watch('aggregator', {
    waiting: () => pipeline.flushes.started > pipeline.flushes.completed || pipeline.aggregator.backlog().queued > 0,
    progress: () => pipeline.flushes.completed + pipeline.aggregator.backlog().applied,
  });
  if (sink.mode === 'forward') {
    const fwd = () => sink.status().forwarderStats as { Pending: number; Transactions: Record<string, number> };
    // Stuck: payloads wait, and no attempt ends and no retry pass moves them for 15 s (or the request timeout and 5 s).
    health.watch(
      'forwarder',
      {
        waiting: () => fwd().Pending > 0,
        progress: () => {
          const t = fwd().Transactions;
          return t.Success! + t.Errors! + t.Dropped! + t.Requeued! + t.Retried! + t.HTTPErrors!;
        },
      },
      Math.max(15, config.int('forwarder_timeout') + 5) * 1000,
    );
  }

  let sources: DogStatsDSources | null = null;
  let udpAddress: RunningAgent['udpAddress'] = null;
  let udsPath: string | null = null;
  if (config.bool('use_dogstatsd')) {
    const port = config.int('dogstatsd_port');
    const socket = config.string('dogstatsd_socket');
    try {
      sources = await DogStatsDSources.open({
        udp: port > 0 ? { host: config.bool('dogstatsd_non_local_traffic') ? '0.0.0.0' : '127.0.0.1', port } : null,
        uds: socket !== '' ? socket : null,
        bufferSize: config.int('dogstatsd_buffer_size'),
        receiveBufferSize: config.int('dogstatsd_so_rcvbuf'),
        batchSize: config.int('dogstatsd_packet_buffer_size'),
        readerThread: config.bool('dogstatsd_reader_thread'),
        ringSize: config.int('dogstatsd_reader_ring_size'),
        onBatch: (buf, count, spans, transport) => pipeline.onBatch(buf, count, spans, transport),
        warn: (line) => io.log(`kennel: ${line}`),
      });
    } catch (e) {
      await pipeline.stop();
      await sink.close();
      throw e;
    }
    pipeline.attachSources(sources);
    if (sources.udp) {
      udpAddress = { address: sources.udp.address, port: sources.udp.port };
      io.log(`kennel: DogStatsD listening on udp ${udpAddress.address}:${udpAddress.port} (${sources.udp.implementation}${sources.udp.readerThread ? ', reader thread' : ''})`);
    } else {
      io.log('kennel: DogStatsD UDP is off (DD_DOGSTATSD_PORT=0)');
    }
    if (sources.uds) {
      udsPath = sources.uds.path;
      io.log(`kennel: DogStatsD listening on unix socket ${udsPath}`);
    }
    health.register('dogstatsd-main');
  }
  let logs: LogsPipeline | null = null;
  try {
    logs = await LogsPipeline.start({ config, hostname: pipeline.hostname, sink, command: options.command, env, log: io.log });
  } catch (e) {
    if (sources) await sources.close();
    await pipeline.stop();
    await sink.close();
    throw e;
  }
  // APM: the trace receiver, processing, stats and the trace writer (off on its own when it cannot listen).
  const { apm, why: apmOff } = await startApm(config, {
    sink,
    dogstatsd: config.bool('use_dogstatsd') ? (buf, s, e) => pipeline.onPacket(buf, s, e, 'udp') : null,
    log: io.log,
    health,
  });
  const beat = setInterval(() => {
    if (sources) health.beat('dogstatsd-main');
  }, 5000);
  beat.unref();

  let requestStop: (why: string) => void = () => {};
  const stopRequested = new Promise<string>((resolve) => (requestStop = resolve));
  const agent: RunningAgent = {
    config,
    udpAddress,
    udsPath,
    statusAddress: null,
    authTokenPath: null,
    stopRequested,
    pipeline,
    sink,
    logs,
    apm,
    stats() {
      const p = pipeline.stats();
      return {
        agent: {
          version: KENNEL_VERSION,
          pid: process.pid,
          now: new Date().toISOString(),
          uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
          hostname: pipeline.hostname,
          mode: sink.mode,
          apiKey: redactApiKey(config.string('api_key')),
        },
        dogstatsdStats: {
          ...p.dogstatsdStats,
          ...(sources ? sources.stats() : {}),
          // Datagrams longer than dogstatsd_buffer_size, cut as the agent cuts them (kennel's counters).
          ...(udpAddress && sources ? { UdpPacketsTruncated: sources.truncated.udp } : {}),
          ...(udsPath && sources ? { UdsPacketsTruncated: sources.truncated.uds } : {}),
        },
        dogstatsdErrorReasons: p.dogstatsdErrorReasons,
        aggregatorStats: p.aggregatorStats,
        logsStats: logs ? logs.logsStats() : LOGS_AGENT_NOT_RUNNING,
        apmStats: apm ? apm.stats() : apmNotRunning(apmOff),
        ...sink.status(),
        ...(status ? { statusServerStats: status.stats() } : {}),
        runtimeStats: runtime.read(pipeline.aggregator.workerHeapUsed()),
      };
    },
    health: () => health.report(),
    async stop() {
      clearInterval(beat);
      health.close();
      runtime.close();
      if (sources) await sources.close();
      // APM: the receiver stops, every stats bucket and the open trace payload are flushed, its forwarder drains.
      const apmStopped = apm ? apm.stop(config.int('forwarder_stop_timeout') * 1000) : Promise.resolve();
      // Logs: the child is waited for, the sources stop, the sender sends the rest, the registry is written.
      const logsStopped = logs ? logs.stop() : Promise.resolve();
      await pipeline.stop();
      await sink.drain(config.int('forwarder_stop_timeout') * 1000);
      await logsStopped;
      await apmStopped;
      await sink.close();
      if (status) await status.close();
    },
  };

  let status: StatusServer | null = null;
  const cmdPort = config.int('cmd_port');
  if (cmdPort > 0) {
    // The session token guarded IPC routes need, written fresh at every start (the agent's auth_token).
    const tokenPath = authTokenPath(config);
    let token: string | null = null;
    try {
      token = writeAuthToken(tokenPath);
      (agent as { authTokenPath: string | null }).authTokenPath = tokenPath;
    } catch (e) {
      const why = `cannot write the auth token ${tokenPath}: ${(e as Error).message}`;
      if (config.source('run_path') !== 'default' || config.source('auth_token_file_path') !== 'default') {
        await agent.stop();
        throw configError(`DD_RUN_PATH (run_path): ${why}`);
      }
      io.log(`kennel: ${why}; the guarded IPC calls (kennel flush, kennel stop) are off; set DD_RUN_PATH to a folder kennel can write`);
    }
    status = new StatusServer(
      { status: () => agent.stats(), health: () => agent.health() },
      { token, timeoutMs: config.int('server_timeout') * 1000, maxConnections: config.int('cmd_max_connections') },
    );
    status.guard('POST', '/agent/flush', async () => ({ status: 200, body: { flushed: await pipeline.flushClosed() } }));
    status.guard('POST', '/agent/stop', () => {
      requestStop('kennel stop');
      return { status: 200, body: { stopping: true } };
    });
    sink.routes?.(status);
    try {
      (agent as { statusAddress: AddressInfo | null }).statusAddress = await status.listen(config.string('cmd_host'), cmdPort);
    } catch (e) {
      status = null;
      await agent.stop();
      throw e;
    }
  }
  if (sink.mode === 'local') {
    const a = agent.statusAddress;
    const url = a ? `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/` : null;
    const window = `${Math.round(config.int('local_intake.max_age_seconds') / 60)} min or ${Math.round(config.int('local_intake.max_bytes') / 1048576)} MiB`;
    io.log(
      url
        ? `kennel: no DD_API_KEY: local mode, nothing leaves this machine; see your metrics, traces and logs at ${url} (the last ${window}, JSON at ${url}api)`
        : `kennel: no DD_API_KEY: local mode, nothing leaves this machine; the local intake keeps the last ${window} (the local page is off with DD_CMD_PORT=0)`,
    );
  } else {
    io.log(`kennel: forwarding to ${sink.describe()} with API key ${redactApiKey(config.string('api_key'))}`);
  }
  return agent;
}

/**
 * `kennel run`: starts, then on SIGTERM or SIGINT stops as the sidecar does, and exits 0.
 * `kennel run -- CMD ARGS`: runs CMD as a child and exits with its code once it exited (see `superviseChild`).
 */
export async function runCommand(env: Env, io: RunIo, configFile?: string, command?: readonly string[]): Promise<number> {
  const agent = await startAgent(env, io, configFile, command !== undefined ? { command } : {});
  if (agent.logs?.child) return superviseChild(agent, agent.logs.child, io);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
    void agent.stopRequested.then(resolve);
  });
  io.log(`kennel: ${signal}: stopping (flushing every bucket, draining the forwarder)`);
  await agent.stop();
  const s = agent.stats();
  // What was sent, retried and dropped by every pipeline, readable after exit (the fault suite
  // checks drops at shutdown against it): the trace and stats writers' totals and forwarder,
  // and the logs agent's counters.
  const apmKennel = ((s.apmStats as { kennel?: Record<string, unknown> } | undefined)?.kennel ?? null);
  const logsMetrics = ((s.logsStats as { metrics?: Record<string, unknown> } | undefined)?.metrics ?? null);
  const last = {
    dogstatsdStats: s.dogstatsdStats,
    aggregatorStats: s.aggregatorStats,
    ...(s.forwarderStats ? { forwarderStats: s.forwarderStats } : {}),
    ...(apmKennel
      ? {
          apmStats: {
            traceWriterTotal: apmKennel['traceWriterTotal'],
            statsWriterTotal: apmKennel['statsWriterTotal'],
            ...(apmKennel['forwarder'] !== undefined ? { forwarder: apmKennel['forwarder'] } : {}),
          },
        }
      : {}),
    ...(logsMetrics && Object.keys(logsMetrics).length > 0 ? { logsStats: { metrics: logsMetrics } } : {}),
  };
  io.log(`kennel: stopped; ${JSON.stringify(last)}`);
  return 0;
}
