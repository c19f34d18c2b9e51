import type { AddressInfo } from 'node:net';
import { DogStatsDSources } from '@kennel/dogstatsd/source';
import type { Env } from '../config/env.js';
import { loadConfig, redactApiKey } from '../config/load.js';
import type { Config } from '../config/load.js';
import { ApmPipeline, apmNotRunning, startApm } from '../topology/apm-pipeline.js';
import { HealthRegistry } from '../topology/health.js';
import { LOGS_AGENT_NOT_RUNNING, LogsPipeline } from '../topology/logs-pipeline.js';
import { MetricsPipeline } from '../topology/metrics-pipeline.js';
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
  /** The status document `kennel status --json` prints. */
  stats(): Record<string, unknown>;
  health(): { Healthy: string[]; Unhealthy: string[] };
  /**
   * Stops as the agent's sidecar does on SIGTERM: sources first, then every bucket (the open one
   * included) is flushed, then the forwarder drains until `forwarder_stop_timeout`.
   */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** `kennel run -- CMD ARGS`: the application to run as a child, its output collected as logs. */
  readonly command?: readonly string[];
}

/** Starts the agent: DogStatsD sources → codec → aggregator → encoders → forwarder or local intake. */
export async function startAgent(env: Env, io: RunIo, configFile?: string, options: StartOptions = {}): Promise<RunningAgent> {
  const config = loadConfig(env, configFile);
  if (config.unknownFileKeys.length > 0) {
    const keys = config.unknownFileKeys;
    io.log(`kennel: ${configFile}: ignoring ${keys.length} key${keys.length === 1 ? '' : 's'} kennel does not read: ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', ...' : ''}`);
  }
  const startedAt = Date.now();
  const health = new HealthRegistry();
  const sink = await createSink(config, io.log);
  const pipeline = new MetricsPipeline(config, sink, io.log);
  await pipeline.start();
  health.register('aggregator');
  pipeline.onFlushed = () => health.beat('aggregator');

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
        onBatch: (buf, count, spans, transport) => pipeline.onBatch(buf, count, spans, transport),
        warn: (line) => io.log(`kennel: ${line}`),
      });
    } catch (e) {
      await pipeline.stop();
      await sink.close();
      throw e;
    }
    if (sources.udp) {
      udpAddress = { address: sources.udp.address, port: sources.udp.port };
      io.log(`kennel: DogStatsD listening on udp ${udpAddress.address}:${udpAddress.port} (${sources.udp.implementation})`);
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

  const agent: RunningAgent = {
    config,
    udpAddress,
    udsPath,
    statusAddress: null,
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
        dogstatsdStats: { ...p.dogstatsdStats, ...(sources ? sources.stats() : {}) },
        dogstatsdErrorReasons: p.dogstatsdErrorReasons,
        aggregatorStats: p.aggregatorStats,
        logsStats: logs ? logs.logsStats() : LOGS_AGENT_NOT_RUNNING,
        apmStats: apm ? apm.stats() : apmNotRunning(apmOff),
        ...sink.status(),
      };
    },
    health: () => health.report(),
    async stop() {
      clearInterval(beat);
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
    status = new StatusServer({ status: () => agent.stats(), health: () => agent.health() });
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
  });
  io.log(`kennel: ${signal}: stopping (flushing every bucket, draining the forwarder)`);
  await agent.stop();
  const s = agent.stats();
  io.log(`kennel: stopped; ${JSON.stringify({ dogstatsdStats: s.dogstatsdStats, aggregatorStats: s.aggregatorStats })}`);
  return 0;
}
