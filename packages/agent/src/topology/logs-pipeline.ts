import { accessSync, constants, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CounterMap, ErrorCode, KennelError } from '@kennel/core';
import {
  ChildProcessSource,
  HttpLogsSink,
  LogChannel,
  LogsSender,
  LogsSources,
  Registry,
  compileProcessingRules,
  createLogsAgentCounters,
  createLogsContext,
  createSubmitLogsSink,
  formatLogsAgentStatus,
  resolveLogsEndpoint,
  resolveLogsSenderConfig,
  resolveLogsSourceConfig,
} from '@kennel/logs';
import type { ChildExit, LogMessage, LogsAgentCounters, LogsAgentStatus, LogsIntegrationStatus, LogsSink, LogsSourceConfig, LogsSourceStatus } from '@kennel/logs';
import type { Env } from '../config/env.js';
import type { Config } from '../config/load.js';
import { envName } from '../config/schema.js';
import type { MetricsSink } from './sinks.js';
import { LocalSink } from './sinks.js';

/** `logsStats` of `kennel status --json` when no logs are collected: the agent's "Logs Agent is not running". */
export const LOGS_AGENT_NOT_RUNNING: LogsAgentStatus = Object.freeze({
  is_running: false,
  endpoints: [],
  metrics: {},
  integrations: [],
  errors: [],
  warnings: [],
  use_http: false,
});

export interface LogsPipelineOptions {
  readonly config: Config;
  /** `hostname` of every event (the metrics pipeline's). */
  readonly hostname: string;
  /** The metrics sink: in local mode its `LocalIntake` takes the logs payloads too. */
  readonly sink: MetricsSink;
  /** `kennel run -- CMD ARGS`: the command and its arguments. */
  readonly command?: readonly string[] | undefined;
  /** The child's environment. @defaultValue `process.env` */
  readonly env?: Env;
  readonly log: (line: string) => void;
  /** Where the child's output is echoed (`logs_config.child_echo`). @defaultValue `process.stdout`, `process.stderr` */
  readonly echo?: { readonly stdout?: NodeJS.WritableStream; readonly stderr?: NodeJS.WritableStream };
}

function configError(message: string): KennelError {
  return new KennelError(ErrorCode.CONFIG_INVALID, message);
}

/** The key as the user wrote it: the variable when it came from the environment. */
function where(c: Config, key: string): string {
  return c.source(key) === 'env' ? envName(key) : key;
}

/** The log sources of the `logs:` list (`DD_LOGS` as JSON, or the top-level `logs:` of datadog.yaml). */
export function resolveLogsEntries(c: Config): LogsSourceConfig[] {
  const raw = c.json('logs');
  if (raw === null || raw === undefined) return [];
  const at = where(c, 'logs');
  if (!Array.isArray(raw)) throw configError(`${at}: expected a list of log sources (type: file with path, tcp or udp with port), got ${JSON.stringify(raw)}`);
  return raw.map((entry: unknown, i: number) => resolveLogsSourceConfig(entry, `${at}[${i}]`));
}

/**
 * The logs side of `kennel run`: sources (the child of `kennel run -- CMD`, the `logs:` files and
 * listeners) → decoding and processing rules → a bounded channel → the sender (the agent's
 * batches, compression, retry forever) → the HTTP logs intake, or in local mode the local intake;
 * the offsets of files are acknowledged in send order once the intake accepted them, and kept in
 * `registry.json` under `logs_config.run_path`.
 *
 * @remarks
 * Stop order (`stop()`): the child is waited for (it was sent SIGTERM if it still runs), the
 * sources stop (what they decoded is pushed), the channel is closed and drained into the sender,
 * the sender sends what is left (up to `logs_config.stop_grace_period`), then the registry is
 * written a last time.
 */
export class LogsPipeline {
  readonly config: Config;
  readonly channel: LogChannel;
  readonly sender: LogsSender<LogMessage>;
  readonly registry: Registry;
  readonly sources: LogsSources | null;
  readonly child: ChildProcessSource | null;
  readonly counters: LogsAgentCounters;
  /** The child's service and source, when there is a child. */
  readonly childIdentity: { readonly service: string; readonly source: string } | null;
  private readonly entries: readonly LogsSourceConfig[];
  private readonly log: (line: string) => void;
  private readonly consumer: Promise<void>;
  private childExit: ChildExit | Error | null = null;
  private stopping: Promise<void> | null = null;
  private readonly errors: string[] = [];

  private constructor(
    o: LogsPipelineOptions,
    parts: {
      channel: LogChannel;
      sender: LogsSender<LogMessage>;
      registry: Registry;
      sources: LogsSources | null;
      child: ChildProcessSource | null;
      counters: LogsAgentCounters;
      entries: readonly LogsSourceConfig[];
      childIdentity: { service: string; source: string } | null;
    },
  ) {
    this.config = o.config;
    this.log = o.log;
    this.channel = parts.channel;
    this.sender = parts.sender;
    this.registry = parts.registry;
    this.sources = parts.sources;
    this.child = parts.child;
    this.counters = parts.counters;
    this.entries = parts.entries;
    this.childIdentity = parts.childIdentity;
    this.consumer = this.consume();
  }

  /**
   * Builds and starts the pipeline when `logs_enabled` is on or a command is given; `null`
   * otherwise. Throws a `KennelError` naming the key of a malformed setting, or when a listener
   * cannot bind; nothing is left running then.
   */
  static async start(o: LogsPipelineOptions): Promise<LogsPipeline | null> {
    const c = o.config;
    const command = o.command !== undefined && o.command.length > 0 ? o.command : null;
    const enabled = c.bool('logs_enabled');
    if (!enabled && command === null) return null;

    // Everything that can be wrong with the configuration is checked before anything starts.
    const entries = enabled ? resolveLogsEntries(c) : [];
    const globalRules = compileProcessingRules(c.json('logs_config.processing_rules'), where(c, 'logs_config.processing_rules'));
    const warn = (line: string): void => o.log(`kennel: logs: ${line}`);
    const senderConfig = resolveLogsSenderConfig(
      {
        batchWait: c.float('logs_config.batch_wait'),
        batchMaxSize: c.int('logs_config.batch_max_size'),
        batchMaxContentSize: c.int('logs_config.batch_max_content_size'),
        payloadChannelSize: c.int('logs_config.payload_channel_size'),
        useCompression: c.bool('logs_config.use_compression'),
        compressionKind: c.string('logs_config.compression_kind'),
        zstdCompressionLevel: c.int('logs_config.zstd_compression_level'),
        compressionLevel: c.int('logs_config.compression_level'),
        httpTimeout: c.int('logs_config.http_timeout'),
        senderBackoffBase: c.float('logs_config.sender_backoff_base'),
        senderBackoffFactor: c.float('logs_config.sender_backoff_factor'),
        senderBackoffMax: c.float('logs_config.sender_backoff_max'),
        senderRecoveryInterval: c.int('logs_config.sender_recovery_interval'),
        senderRecoveryReset: c.bool('logs_config.sender_recovery_reset'),
        stopGracePeriod: c.int('logs_config.stop_grace_period'),
        useContainerTimestamp: c.bool('logs_config.use_container_timestamp'),
      },
      { warn },
    );
    let sink: LogsSink;
    if (o.sink.mode === 'local' && o.sink instanceof LocalSink) {
      const intake = o.sink.intake;
      sink = createSubmitLogsSink((p) => intake.submit(p));
    } else {
      const apiKey = c.string('logs_config.api_key') || c.string('api_key');
      sink = new HttpLogsSink(
        resolveLogsEndpoint({
          apiKey,
          logsDdUrl: c.string('logs_config.logs_dd_url'),
          logsNoSsl: c.bool('logs_config.logs_no_ssl'),
          ddUrl: c.string('logs_config.dd_url'),
          site: c.string('site'),
        }),
      );
    }

    const counters = createLogsAgentCounters();
    const channel = new LogChannel({ highWaterMark: 10_000 });
    const ctx = createLogsContext({
      output: channel,
      counters: { counters: counters.counters, rules: new CounterMap() },
      globalRules,
      globalTags: [...c.list('tags'), ...c.list('extra_tags')],
      maxMessageSize: c.int('logs_config.max_message_size_bytes'),
      aggregationTimeoutMs: c.int('logs_config.aggregation_timeout'),
      tagTruncatedLogs: c.bool('logs_config.tag_truncated_logs'),
      tagMultiLineLogs: c.bool('logs_config.tag_multi_line_logs'),
      useContainerTimestamp: c.bool('logs_config.use_container_timestamp'),
    });
    const runPath = c.string('logs_config.run_path') || c.string('run_path');
    const registry = await Registry.open({
      runPath,
      ttlHours: c.int('logs_config.auditor_ttl'),
      atomicWrite: c.bool('logs_config.atomic_registry_write'),
    });
    if (registry.recoveryError !== '') warn(`${registry.recoveryError}; files are read from their start_position`);
    if (entries.some((e) => e.type === 'file')) {
      // Said once at start: the periodic writes fail silently.
      try {
        mkdirSync(runPath, { recursive: true });
        accessSync(runPath, constants.W_OK);
      } catch (e) {
        warn(`cannot write ${registry.path} (${(e as Error).message}): file offsets will not survive a restart; set DD_LOGS_CONFIG_RUN_PATH to a folder kennel can write`);
      }
    }
    const sender = new LogsSender<LogMessage>({
      sink,
      hostname: o.hostname,
      config: senderConfig,
      counters,
      // Offsets move only once the intake has the lines (or refused them for good), in send order.
      onAccepted: (messages) => ackLastPerSource(registry, messages),
      warn,
    });
    const sources =
      entries.length > 0
        ? new LogsSources(ctx, entries, {
            registry,
            file: {
              scanPeriodMs: c.float('logs_config.file_scan_period') * 1000,
              closeTimeoutMs: c.int('logs_config.close_timeout') * 1000,
              openFilesLimit: c.int('logs_config.open_files_limit'),
              recursiveGlob: c.bool('logs_config.enable_recursive_glob'),
              wildcardSelection: c.string('logs_config.file_wildcard_selection_mode') as 'by_name' | 'by_modification_time',
            },
            network: { useSourceHostTag: c.bool('logs_config.use_sourcehost_tag'), frameSize: c.int('logs_config.frame_size') },
          })
        : null;

    let child: ChildProcessSource | null = null;
    let childIdentity: { service: string; source: string } | null = null;
    if (command !== null) {
      const name = basename(command[0]!);
      childIdentity = {
        service: c.string('logs_config.child_service') || c.string('service') || name,
        source: c.string('logs_config.child_source') || name,
      };
      child = new ChildProcessSource(ctx, {
        command: command[0]!,
        args: command.slice(1),
        env: (o.env ?? process.env) as NodeJS.ProcessEnv,
        service: childIdentity.service,
        source: childIdentity.source,
        ...(c.bool('logs_config.child_echo') ? { echo: o.echo ?? { stdout: process.stdout, stderr: process.stderr } } : {}),
      });
    }

    const pipeline = new LogsPipeline(o, { channel, sender, registry, sources, child, counters, entries, childIdentity });
    registry.start();
    try {
      if (sources !== null) await sources.start();
    } catch (e) {
      await pipeline.stop();
      throw e;
    }
    if (child !== null) {
      child.start();
      child.exited.then(
        (x) => (pipeline.childExit = x),
        (e: Error) => {
          pipeline.childExit = e;
          pipeline.errors.push(e.message);
        },
      );
    }
    o.log(
      `kennel: logs: collecting ${[
        ...(command !== null ? [`the output of ${command.join(' ')} (service ${childIdentity!.service}, source ${childIdentity!.source})`] : []),
        ...entries.map((e) => (e.type === 'file' ? `file ${e.path}` : `${e.type} port ${e.port}`)),
      ].join(', ')}; ${sender.endpointLine()}; offsets in ${registry.path}`,
    );
    return pipeline;
  }

  /** Sources → sender, batch by batch; the sender's backpressure pauses the sources through the channel. */
  private async consume(): Promise<void> {
    const max = this.sender.config.batchMaxSize;
    for (;;) {
      const batch = await this.channel.receiveBatch(max);
      if (batch.length === 0) return;
      try {
        await this.sender.sendBatch(batch);
      } catch {
        // The sender gave up at stop_grace_period: what it did not send stays unacknowledged.
        return;
      }
    }
  }

  /** How the child ended, once it has. */
  get childExited(): ChildExit | Error | null {
    return this.childExit;
  }

  /** `logsStats` of `kennel status --json`. */
  logsStats(): LogsAgentStatus {
    return this.sender.logsStats(this.integrations(), [], this.errors);
  }

  /** The Logs Agent section's lines. */
  statusLines(): string[] {
    return formatLogsAgentStatus(this.logsStats());
  }

  private integrations(): LogsIntegrationStatus[] {
    const out: LogsIntegrationStatus[] = [];
    if (this.child !== null && this.childIdentity !== null) {
      const x = this.childExit;
      out.push({
        name: this.childIdentity.service,
        sources: [
          {
            type: 'process',
            configuration: { Command: [this.child.command, ...this.child.args].join(' '), Service: this.childIdentity.service, Source: this.childIdentity.source },
            status: x === null ? 'OK' : x instanceof Error ? `Error: ${x.message}` : `OK (exited with ${x.exitCode})`,
            inputs: ['stdout', 'stderr'],
            messages: [],
            info: { BytesRead: [String(this.child.bytes)] },
          },
        ],
      });
    }
    if (this.sources !== null) {
      const groups = new Map<string, LogsSourceStatus[]>();
      const add = (name: string, s: LogsSourceStatus): void => {
        const g = groups.get(name);
        if (g === undefined) groups.set(name, [s]);
        else g.push(s);
      };
      const tailers = this.sources.file?.tailerInfo() ?? [];
      for (const f of this.sources.file?.info() ?? []) {
        const bytes = tailers.filter((t) => f.inputs.includes(t.path)).reduce((n, t) => n + t.bytesRead, 0);
        add(f.source || f.service || 'file', {
          type: 'file',
          configuration: { Path: f.path, Service: f.service, Source: f.source },
          status: f.status,
          inputs: f.inputs,
          messages: f.messages,
          info: { BytesRead: [String(bytes)] },
        });
      }
      for (const l of [...this.sources.tcp, ...this.sources.udp]) {
        add(l.config.source || l.config.service || l.config.type, {
          type: l.config.type,
          configuration: { Port: String(l.port), Service: l.config.service, Source: l.config.source },
          status: 'OK',
          inputs: [],
          messages: [],
          // kennel adds what the listener cut or dropped: UDP datagrams past logs_config.frame_size
          // (cut to it) and datagrams dropped while the pipeline stayed full; TCP connections taken
          // and those closed by idle_timeout.
          info:
            l.config.type === 'udp'
              ? { BytesRead: [String(l.stats.bytesRead)], DatagramsTruncated: [String(l.stats.datagramsTruncated)], DatagramsDropped: [String(l.stats.datagramsDropped)] }
              : { BytesRead: [String(l.stats.bytesRead)], Connections: [String(l.stats.connections)], IdleTimeouts: [String(l.stats.idleTimeouts)] },
        });
      }
      for (const [name, sources] of groups) out.push({ name, sources });
    }
    return out;
  }

  /** The bound ports of the `logs:` listeners, in entry order (a `port: 0` entry gets a free one). */
  listenerPorts(): { type: 'tcp' | 'udp'; port: number }[] {
    if (this.sources === null) return [];
    return [...this.sources.tcp.map((l) => ({ type: 'tcp' as const, port: l.port })), ...this.sources.udp.map((l) => ({ type: 'udp' as const, port: l.port }))];
  }

  /** The `logs:` entries this pipeline reads. */
  get sourceEntries(): readonly LogsSourceConfig[] {
    return this.entries;
  }

  /**
   * Stops: waits for the child (SIGTERM first if it still runs), stops the sources, drains the
   * channel into the sender, lets the sender send the rest (`logs_config.stop_grace_period`;
   * then twice that at most when the intake is down), and writes the registry.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.child !== null) {
      if (this.childExit === null) this.child.kill('SIGTERM');
      await this.child.exited.catch(() => {});
    }
    if (this.sources !== null) await this.sources.stop();
    this.channel.close();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.consumer, new Promise<void>((r) => (timer = setTimeout(r, this.sender.config.stopGracePeriodMs)))]);
    clearTimeout(timer);
    await this.sender.close();
    await this.consumer;
    try {
      await this.registry.stop();
    } catch (e) {
      this.log(`kennel: logs: cannot write ${this.registry.path}: ${(e as Error).message}; set DD_LOGS_CONFIG_RUN_PATH to a folder kennel can write`);
    }
  }
}

/**
 * Acknowledges a payload's messages: for each source, only the offset of its last message (file
 * offsets only grow within a source, so the registry ends in the same state as when every message
 * is acknowledged, without one entry update per line), sources in the order of their last message.
 */
export function ackLastPerSource(registry: Pick<Registry, 'ack'>, messages: readonly LogMessage[]): void {
  let single: string | undefined;
  let singleOffset: number | undefined;
  let many: Map<string, number> | undefined;
  for (const m of messages) {
    const o = m.origin;
    if (o.offset === undefined) continue;
    if (many === undefined) {
      if (single === undefined || single === o.sourceId) {
        single = o.sourceId;
        singleOffset = o.offset;
        continue;
      }
      many = new Map([[single, singleOffset!]]);
    }
    // Re-inserted, so the map's order is the order of each source's last message.
    many.delete(o.sourceId);
    many.set(o.sourceId, o.offset);
  }
  if (many !== undefined) for (const [id, off] of many) registry.ack(id, off);
  else if (single !== undefined) registry.ack(single, singleOffset);
}

/** `<run_path>/registry.json` as `logs_config.run_path` resolves it. */
export function logsRegistryPath(c: Config): string {
  return join(c.string('logs_config.run_path') || c.string('run_path'), 'registry.json');
}
