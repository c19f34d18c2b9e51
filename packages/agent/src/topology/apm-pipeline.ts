import { CounterSet } from '@kennel/core';
import type { ClientGroupedStats, ClientStatsPayload, StatsPayload, TracerPayload } from '@kennel/core';
import {
  AGENT_VERSION,
  Forwarder,
  HttpTransport,
  StatsEncoder,
  TRACE_AGENT_GIT_COMMIT,
  TraceEncoder,
  createScrubber,
  gzipApmCompression,
  loadTraceCompression,
  traceAgentUserAgent,
} from '@kennel/forwarder';
import type { ApmCompression, ApmPayload, IntakePayload, Transport, TransportOutcome } from '@kennel/forwarder';
import type { LocalIntake } from '@kennel/intake';
import {
  Concentrator,
  DEFAULT_PEER_TAGS,
  MAX_RESOURCE_LEN,
  PROCESS_COUNTERS,
  SPANS_MALFORMED_COUNTERS,
  TRACES_DROPPED_COUNTERS,
  TraceProcessor,
  normalizeName,
  normalizeService,
  normalizeTag,
  truncateUTF8,
  utf8Length,
} from '@kennel/traces';
import type { ClientStatsPayload as DecodedClientStats } from '@kennel/traces';
import {
  ENDPOINTS,
  ReceiverStats,
  SPANS_MALFORMED_REASONS,
  TRACES_DROPPED_REASONS,
  TraceReceiver,
  buildInfo,
} from '@kennel/traces/source';
import type { ReceivedClientStats, ReceivedTraces, SpansMalformedField, TagStats, TracesDroppedField } from '@kennel/traces/source';
import type { Config } from '../config/load.js';
import { ApmProxy } from './apm-proxy.js';
import { agentHostname } from './metrics-pipeline.js';

/**
 * APM end to end: the trace receiver (TCP 8126 and the Unix socket) → decode → the agent's
 * processing (normalisation, truncation, top-level, sampling priority) → the stats concentrator
 * (10 s buckets, flushed every 10 s) and the trace writer (`AgentPayload`s cut at 3.2 MB,
 * flushed every 5 s) → the trace intake (`apm_config.apm_dd_url`, else `https://trace.agent.<site>`)
 * through the retrying forwarder, or the local intake in local mode. Client stats
 * (`/v0.6/stats`) are normalised and sent as `ClientComputed` stats; the proxied products go
 * through {@link ApmProxy}; `/dogstatsd/v2/proxy` feeds the DogStatsD pipeline.
 */

/** `trace_writer.flush_period_seconds`: 5 s. */
export const TRACE_FLUSH_MS = 5000;
/** How often client stats are sent on (the agent's `ClientStatsAggregator` flushes every 2 s). */
export const CLIENT_STATS_FLUSH_MS = 2000;
/** How often receiver stats are gathered (`loop`: 10 s) and published for status (every minute). */
const STATS_TICK_MS = 10_000;
const PUBLISH_MS = 60_000;

/** The APM part of the configuration, with the agent's names (`pkg/config/setup/apm.go`, `comp/trace/config/setup.go`). */
export interface ApmConfig {
  readonly enabled: boolean;
  readonly receiverEnabled: boolean;
  readonly receiverHost: string;
  readonly receiverPort: number;
  readonly receiverSocket: string;
  /** The socket path is the default one (a failure to open it is a warning, not an error). */
  readonly receiverSocketIsDefault: boolean;
  readonly maxRequestBytes: number;
  /** `receiver_timeout` as configured (0: the 5 s default). */
  readonly receiverTimeout: number;
  readonly connectionLimit: number;
  readonly maxConnections: number;
  readonly ddUrl: string;
  readonly defaultEnv: string;
  readonly targetTPS: number;
  readonly errorTPS: number;
  readonly maxEPS: number;
  readonly bucketSeconds: number;
  readonly computeStatsBySpanKind: boolean;
  readonly peerTagsAggregation: boolean;
  readonly peerTags: readonly string[];
  readonly telemetryEnabled: boolean;
  readonly hostname: string;
  readonly statsdPort: number;
}

export function resolveApmConfig(c: Config): ApmConfig {
  const site = c.string('site') || 'datadoghq.com';
  const env = normalizeTag(c.string('apm_config.env') || c.string('env')) || 'none';
  return Object.freeze({
    enabled: c.bool('apm_config.enabled'),
    receiverEnabled: c.bool('apm_config.receiver_enabled'),
    receiverHost: c.bool('apm_config.apm_non_local_traffic') ? '0.0.0.0' : '127.0.0.1',
    receiverPort: c.int('apm_config.receiver_port'),
    receiverSocket: c.string('apm_config.receiver_socket'),
    receiverSocketIsDefault: c.source('apm_config.receiver_socket') === 'default',
    maxRequestBytes: c.int('apm_config.max_payload_size'),
    receiverTimeout: c.int('apm_config.receiver_timeout'),
    connectionLimit: c.int('apm_config.connection_limit'),
    maxConnections: c.int('apm_config.max_connections'),
    ddUrl: c.string('apm_config.apm_dd_url') || `https://trace.agent.${site}`,
    defaultEnv: env,
    targetTPS: c.float('apm_config.target_traces_per_second'),
    errorTPS: c.float('apm_config.errors_per_second'),
    maxEPS: c.float('apm_config.max_events_per_second'),
    bucketSeconds: c.int('apm_config.bucket_size_seconds'),
    computeStatsBySpanKind: c.bool('apm_config.compute_stats_by_span_kind'),
    peerTagsAggregation: c.bool('apm_config.peer_tags_aggregation'),
    peerTags: c.list('apm_config.peer_tags'),
    telemetryEnabled: c.bool('apm_config.telemetry.enabled'),
    hostname: agentHostname(c),
    statsdPort: c.int('dogstatsd_port'),
  });
}

export interface ApmPipelineDeps {
  readonly log: (line: string) => void;
  /** Local mode: payloads go here instead of the intake. Null in forward mode. */
  readonly localIntake: LocalIntake | null;
  /** `/dogstatsd/v2/proxy`: one DogStatsD datagram into the DogStatsD pipeline; null when DogStatsD is off. */
  readonly dogstatsd: ((buf: Uint8Array, start: number, end: number) => void) | null;
  /** Called at every stats tick (health check-in). */
  readonly onTick?: () => void;
}

/**
 * `info.TraceWriterInfo` (`pkg/trace/info/writer.go`), plus kennel's `Dropped`, `DroppedBytes`
 * and `DroppedTraces`: payloads the forwarder dropped (a permanent answer, the retry queue's
 * bound `forwarder_retry_queue_payloads_max_size`, shutdown), their bytes and the trace chunks
 * they held. The agent's sender counts the same drops as `datadog.trace_agent.trace_writer.dropped`
 * and `dropped_bytes` (`pkg/trace/writer/sender.go`, `eventTypeDropped`).
 */
const TRACE_WRITER_FIELDS = ['Payloads', 'Traces', 'Events', 'Spans', 'Errors', 'Retries', 'Bytes', 'BytesUncompressed', 'BytesEstimated', 'SingleMaxSize', 'Dropped', 'DroppedBytes', 'DroppedTraces'] as const;
/** `info.StatsWriterInfo`, plus kennel's `StatsEntries`, `ClientStatsPayloads`, `Dropped` and `DroppedBytes`. */
const STATS_WRITER_FIELDS = ['Payloads', 'StatsBuckets', 'StatsEntries', 'ClientStatsPayloads', 'Errors', 'Retries', 'Splits', 'Bytes', 'Dropped', 'DroppedBytes'] as const;
type TraceWriterField = (typeof TRACE_WRITER_FIELDS)[number];
type StatsWriterField = (typeof STATS_WRITER_FIELDS)[number];

/** The processor's reason names → the agent's `TracesDropped` / `SpansMalformed` fields. */
const DROPPED_FIELD = new Map<string, TracesDroppedField>(Object.entries(TRACES_DROPPED_REASONS).map(([f, r]) => [r, f as TracesDroppedField]));
const MALFORMED_FIELD = new Map<string, SpansMalformedField>(Object.entries(SPANS_MALFORMED_REASONS).map(([f, r]) => [r, f as SpansMalformedField]));
const PROCESS_TO_TAG: Readonly<Record<string, keyof TagStats['stats'] | undefined>> = {
  SpansReceived: 'SpansReceived',
  SpansDropped: 'SpansDropped',
  TracesFiltered: 'TracesFiltered',
  SpansFiltered: 'SpansFiltered',
  TracesPriorityNone: 'TracesPriorityNone',
  TracesPriorityNeg: 'TracesPriorityNeg',
  TracesPriority0: 'TracesPriority0',
  TracesPriority1: 'TracesPriority1',
  TracesPriority2: 'TracesPriority2',
};

/**
 * Rewrites the forwarder's metrics headers into the trace writer's (`User-Agent: Datadog Trace
 * Agent/<version>/<commit>`, `X-Datadog-Reported-Languages`, no `DD-Agent-Version` or
 * `DD-Agent-Payload`), and counts each endpoint's errors and retries for status.
 */
class TraceAgentTransport implements Transport {
  private readonly inner: Transport;
  private readonly extra = new WeakMap<Uint8Array, Readonly<Record<string, string>>>();
  private readonly attempted = new WeakSet<Uint8Array>();
  private readonly userAgent = traceAgentUserAgent(AGENT_VERSION, TRACE_AGENT_GIT_COMMIT);
  onOutcome: (path: string, outcome: TransportOutcome, retry: boolean) => void = () => {};

  constructor(inner: Transport) {
    this.inner = inner;
  }

  remember(body: Uint8Array, headers: Readonly<Record<string, string>>): void {
    this.extra.set(body, headers);
  }

  async post(url: string, headers: Readonly<Record<string, string>>, body: Uint8Array): Promise<TransportOutcome> {
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (k !== 'DD-Agent-Version' && k !== 'DD-Agent-Payload' && k !== 'User-Agent') h[k] = v;
    h['User-Agent'] = this.userAgent;
    const extra = this.extra.get(body);
    if (extra !== undefined) for (const [k, v] of Object.entries(extra)) if (k !== 'User-Agent') h[k] = v;
    const retry = this.attempted.has(body);
    this.attempted.add(body);
    const outcome = await this.inner.post(url, h, body);
    let path = '';
    try {
      path = new URL(url).pathname;
    } catch {
      // keep ''
    }
    this.onOutcome(path, outcome, retry);
    return outcome;
  }

  cancelAll(): void {
    this.inner.cancelAll();
  }
  close(): void {
    this.inner.close();
  }
}

/** A set of counters for the previous minute (`Published`) and since start (`Total`). */
class Window<N extends string> {
  readonly current: CounterSet<N>;
  readonly total: CounterSet<N>;
  published: Record<N, number>;
  constructor(group: string, names: readonly N[]) {
    this.current = new CounterSet<N>(group, names);
    this.total = new CounterSet<N>(group + '_total', names);
    this.published = this.current.snapshot();
  }
  add(name: N, n = 1): void {
    this.current.add(name, n);
    this.total.add(name, n);
  }
  max(name: N, n: number): void {
    const i = this.current.index(name);
    if (n > this.current.values[i]!) this.current.values[i] = n;
    if (n > this.total.values[i]!) this.total.values[i] = n;
  }
  publish(): void {
    this.published = this.current.snapshot();
    this.current.reset();
  }
}

export class ApmPipeline {
  readonly config: ApmConfig;
  readonly processor: TraceProcessor;
  readonly concentrator: Concentrator;
  readonly receiver: TraceReceiver;
  readonly proxy: ApmProxy;
  readonly forwarder: Forwarder | null;
  readonly mode: 'local' | 'forward';
  /** Per-client counters of the minute being gathered, of the previous minute, and since start. */
  private readonly minute = new ReceiverStats();
  private readonly total = new ReceiverStats();
  private publishedReceiver: ReturnType<ReceiverStats['toJSON']> = [];
  private publishedRates: Record<string, number> = {};
  private lastPublish = 0;
  private readonly traceWriter = new Window<TraceWriterField>('trace_writer', TRACE_WRITER_FIELDS);
  private readonly statsWriter = new Window<StatsWriterField>('stats_writer', STATS_WRITER_FIELDS);
  private readonly deps: ApmPipelineDeps;
  private readonly transport: TraceAgentTransport | null;
  private traceEncoder: TraceEncoder | null = null;
  private readonly statsEncoder: StatsEncoder;
  private readonly languages = new Set<string>();
  private clientStats: ClientStatsPayload[] = [];
  private timers: NodeJS.Timeout[] = [];
  private readonly startedAt = Date.now();
  private localRejected = 0;
  private dogstatsdLines = 0;
  private stopped = false;
  private readonly scratch = new Float64Array(PROCESS_COUNTERS.length + TRACES_DROPPED_COUNTERS.length + SPANS_MALFORMED_COUNTERS.length);
  /** Why the receiver is not listening, when it is not. */
  error: string | null = null;

  constructor(c: Config, deps: ApmPipelineDeps) {
    const a = resolveApmConfig(c);
    this.config = a;
    this.deps = deps;
    this.mode = deps.localIntake === null ? 'forward' : 'local';
    this.processor = new TraceProcessor({ agentEnv: a.defaultEnv, hostname: a.hostname, targetTPS: a.targetTPS, maxResourceLen: MAX_RESOURCE_LEN });
    this.concentrator = new Concentrator({
      bucketIntervalNs: BigInt(a.bucketSeconds) * 1_000_000_000n,
      computeStatsBySpanKind: a.computeStatsBySpanKind,
      peerTagsAggregation: a.peerTagsAggregation,
      peerTags: a.peerTags,
      agentEnv: a.defaultEnv,
      agentHostname: a.hostname,
      agentVersion: AGENT_VERSION,
    });
    this.statsEncoder = new StatsEncoder({ agentVersion: AGENT_VERSION, languages: () => [...this.languages] }, gzipApmCompression);
    const apiKey = c.string('api_key');
    if (this.mode === 'forward') {
      const scrub = createScrubber(apiKey);
      const inner = new HttpTransport({
        timeoutMs: c.int('forwarder_timeout') * 1000,
        maxSockets: c.int('forwarder_max_concurrent_requests'),
        scrub,
      });
      const transport = new TraceAgentTransport(inner);
      transport.onOutcome = (path, outcome, retry) => this.countOutcome(path, outcome, retry);
      this.transport = transport;
      this.forwarder = new Forwarder({
        apiKey,
        ddUrl: a.ddUrl,
        site: c.string('site'),
        timeout: c.int('forwarder_timeout'),
        maxConcurrentRequests: c.int('forwarder_max_concurrent_requests'),
        retryQueuePayloadsMaxSize: c.int('forwarder_retry_queue_payloads_max_size'),
        backoffBase: c.float('forwarder_backoff_base'),
        backoffFactor: c.float('forwarder_backoff_factor'),
        backoffMax: c.float('forwarder_backoff_max'),
        recoveryInterval: c.int('forwarder_recovery_interval'),
        // The metrics forwarder owns the disk spill folder; trace payloads stay in memory.
        storageMaxSizeInBytes: 0,
        stopTimeout: c.int('forwarder_stop_timeout'),
        transport,
        onDropped: (p) => this.countDropped(p),
        log: (line, level) => {
          if (level !== 'info') deps.log(`kennel: APM forwarder: ${line}`);
        },
      });
    } else {
      this.transport = null;
      this.forwarder = null;
    }
    this.proxy = new ApmProxy({
      apiKey,
      site: c.string('site'),
      hostname: a.hostname,
      defaultEnv: a.defaultEnv,
      traceIntakeUrl: a.ddUrl,
      profilingUrl: c.string('apm_config.profiling_dd_url'),
      telemetryUrl: c.string('apm_config.telemetry.dd_url'),
      debuggerUrl: c.string('apm_config.debugger_dd_url'),
      debuggerDiagnosticsUrl: c.string('apm_config.debugger_diagnostics_dd_url'),
      symdbUrl: c.string('apm_config.symdb_dd_url'),
      evpEnabled: c.bool('evp_proxy_config.enabled'),
      evpDomain: c.string('evp_proxy_config.dd_url'),
      timeoutSeconds: c.int('forwarder_timeout'),
      localMaxAgeMs: c.int('local_intake.max_age_seconds') * 1000,
      localMaxBytes: Math.max(1024 * 1024, Math.floor(c.int('local_intake.max_bytes') / 8)),
      log: deps.log,
    });
    const endpoints = ENDPOINTS.filter((e) => a.telemetryEnabled || e.pattern !== '/telemetry/proxy/');
    const info = buildInfo({
      agentVersion: AGENT_VERSION,
      gitCommit: TRACE_AGENT_GIT_COMMIT,
      endpoints,
      computeStatsBySpanKind: a.computeStatsBySpanKind,
      peerTags: [...new Set([...DEFAULT_PEER_TAGS, ...a.peerTags])].sort(),
      config: {
        defaultEnv: a.defaultEnv,
        targetTPS: a.targetTPS,
        maxEPS: a.maxEPS,
        receiverPort: a.receiverPort,
        receiverSocket: a.receiverSocket,
        connectionLimit: a.connectionLimit,
        receiverTimeout: a.receiverTimeout,
        maxRequestBytes: a.maxRequestBytes,
        statsdPort: a.statsdPort,
        maxMemory: 0,
        maxCPU: 0,
      },
    });
    this.receiver = new TraceReceiver({
      tcp: a.receiverPort > 0 ? { host: a.receiverHost, port: a.receiverPort } : null,
      socket: a.receiverSocket !== '' ? a.receiverSocket : null,
      socketOptional: a.receiverSocketIsDefault,
      maxRequestBytes: a.maxRequestBytes,
      evpMaxPayloadBytes: c.int('evp_proxy_config.max_payload_size'),
      timeoutMs: a.receiverTimeout > 0 ? a.receiverTimeout * 1000 : 5000,
      connectionLimit: a.connectionLimit,
      maxConnections: a.maxConnections,
      agentVersion: AGENT_VERSION,
      info,
      endpoints,
      log: (line) => deps.log(`kennel: APM: ${line}`),
      handlers: {
        onTraces: (r) => this.onTraces(r),
        rateByService: () => this.processor.rateByService(),
        onClientStats: (r) => this.onClientStats(r),
        onDogStatsD: (body) => this.onDogStatsD(body),
        onProxy: (r) => this.proxy.handle(r),
      },
    });
  }

  /**
   * Loads the trace compressor (zstd, gzip without it), opens the listeners and starts the
   * timers. Throws when a listener cannot be opened (the caller keeps the rest of kennel running).
   */
  async start(): Promise<void> {
    const compression: ApmCompression = await loadTraceCompression();
    this.traceEncoder = new TraceEncoder(
      { hostname: this.config.hostname, env: this.config.defaultEnv, agentVersion: AGENT_VERSION, targetTPS: this.config.targetTPS, errorTPS: this.config.errorTPS },
      compression,
    );
    try {
      await this.receiver.start();
    } catch (e) {
      this.error = (e as Error).message;
      throw e;
    }
    if (this.receiver.socketError !== null) {
      // The default socket's folder may not be writable (a laptop without root): TCP alone then.
      this.deps.log(`kennel: APM: ${this.receiver.socketError}; traces are received on TCP only (set DD_APM_RECEIVER_SOCKET to a writable path, or to nothing to turn the socket off)`);
    }
    const tick = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    tick(TRACE_FLUSH_MS, () => this.flushTraces());
    tick(this.config.bucketSeconds * 1000, () => this.flushStats(false));
    tick(CLIENT_STATS_FLUSH_MS, () => this.flushClientStats());
    tick(STATS_TICK_MS, () => this.statsTick());
  }

  /** The TCP address and socket path listened on. */
  get addresses(): { tcp: { address: string; port: number } | null; socket: string | null } {
    const t = this.receiver.tcpAddress;
    return { tcp: t ? { address: t.address, port: t.port } : null, socket: this.receiver.socketPath };
  }

  private onTraces(r: ReceivedTraces): void {
    const p = this.processor;
    const before = this.scratch;
    snapshotInto(before, p);
    if (r.lang !== '') this.languages.add(r.lang);
    const chunks = r.payload.chunks.length;
    const { payload, stats } = p.process(r.payload, {
      lang: r.lang,
      clientComputedTopLevel: r.clientComputedTopLevel,
      clientComputedStats: r.clientComputedStats,
      clientDroppedP0sWeight: chunks > 0 ? r.clientDroppedP0Traces / chunks : 0,
    });
    this.attribute(r.stats, before);
    if (stats.length > 0) this.concentrator.add(stats, { containerId: payload.containerId });
    if (payload.chunks.length > 0) this.write(payload);
  }

  /** Adds what processing counted for this payload to its client's counters. */
  private attribute(ts: TagStats, before: Float64Array): void {
    const p = this.processor;
    const pv = p.counters.values;
    let o = 0;
    for (let i = 0; i < PROCESS_COUNTERS.length; i++) {
      const d = pv[i]! - before[o + i]!;
      const f = PROCESS_TO_TAG[PROCESS_COUNTERS[i]!];
      if (d !== 0 && f !== undefined) ts.stats[f] += d;
    }
    o += PROCESS_COUNTERS.length;
    const dv = p.tracesDropped.values;
    for (let i = 0; i < TRACES_DROPPED_COUNTERS.length; i++) {
      const d = dv[i]! - before[o + i]!;
      const f = DROPPED_FIELD.get(TRACES_DROPPED_COUNTERS[i]!);
      if (d !== 0 && f !== undefined) ts.tracesDropped[f] += d;
    }
    o += TRACES_DROPPED_COUNTERS.length;
    const mv = p.spansMalformed.values;
    for (let i = 0; i < SPANS_MALFORMED_COUNTERS.length; i++) {
      const d = mv[i]! - before[o + i]!;
      const f = MALFORMED_FIELD.get(SPANS_MALFORMED_COUNTERS[i]!);
      if (d !== 0 && f !== undefined) ts.spansMalformed[f] += d;
    }
  }

  /** The trace writer: into the open `AgentPayload`, which is sent when full (3.2 MB) or every 5 s. */
  private write(tp: TracerPayload): void {
    const enc = this.traceEncoder;
    if (enc === null) return;
    let spans = 0;
    for (const c of tp.chunks) spans += c.spans.length;
    this.traceWriter.add('Traces', tp.chunks.length);
    this.traceWriter.add('Spans', spans);
    if (enc.add(tp) === 'flush-required') {
      this.emit(enc.finish());
      enc.add(tp);
    }
  }

  private flushTraces(): void {
    if (this.traceEncoder !== null) this.emit(this.traceEncoder.finish());
  }

  /** Concentrator buckets old enough (all with `force`) to the stats writer. */
  private flushStats(force: boolean): void {
    const now = BigInt(Date.now()) * 1_000_000n;
    const sp = this.concentrator.flush(now, force);
    if (sp.stats.length === 0) return;
    let buckets = 0;
    for (const c of sp.stats) buckets += c.stats.length;
    this.statsWriter.add('StatsBuckets', buckets);
    this.statsEncoder.add(sp);
    this.emit(this.statsEncoder.finish());
  }

  private onClientStats(r: ReceivedClientStats): void {
    if (r.lang !== '') this.languages.add(r.lang);
    this.clientStats.push(this.normalizeClientStats(r.payload, r.lang, r.tracerVersion));
    this.statsWriter.add('ClientStatsPayloads');
  }

  /**
   * `ProcessStats`: the agent's env and host where the tracer sent none, the header's language
   * and tracer version, service and name normalised, an empty resource set to the name.
   */
  private normalizeClientStats(p: DecodedClientStats, lang: string, tracerVersion: string): ClientStatsPayload {
    const a = this.config;
    return {
      hostname: p.hostname,
      env: p.env === '' ? a.defaultEnv : normalizeTag(p.env),
      version: p.version,
      stats: p.stats.map((b) => ({
        start: b.start,
        duration: Number(b.duration),
        agentTimeShift: Number(b.agentTimeShift),
        stats: b.stats.map((g): ClientGroupedStats => {
          const name = normalizeName(g.name).value;
          let resource = g.resource === '' ? name : g.resource;
          if (utf8Length(resource) > MAX_RESOURCE_LEN) resource = truncateUTF8(resource, MAX_RESOURCE_LEN);
          return {
            service: normalizeService(g.service, lang).value,
            name,
            resource,
            httpStatusCode: g.httpStatusCode,
            type: g.type,
            dbType: g.dbType,
            hits: Number(g.hits),
            errors: Number(g.errors),
            duration: Number(g.duration),
            okSummary: g.okSummary,
            errorSummary: g.errorSummary,
            synthetics: g.synthetics,
            topLevelHits: Number(g.topLevelHits),
            spanKind: g.spanKind,
            peerTags: g.peerTags,
            isTraceRoot: g.isTraceRoot as ClientGroupedStats['isTraceRoot'],
            grpcStatusCode: g.grpcStatusCode,
            httpMethod: g.httpMethod,
            httpEndpoint: g.httpEndpoint,
            serviceSource: g.serviceSource,
            spanDerivedPrimaryTags: g.spanDerivedPrimaryTags,
            additionalMetricTags: [],
          };
        }),
      })),
      lang: lang !== '' ? lang : p.lang,
      tracerVersion: tracerVersion !== '' ? tracerVersion : p.tracerVersion,
      runtimeId: p.runtimeId,
      sequence: Number(p.sequence),
      agentAggregation: p.agentAggregation,
      service: p.service,
      containerId: p.containerId,
      tags: p.tags,
      gitCommitSha: p.gitCommitSha,
      imageTag: p.imageTag,
      processTagsHash: p.processTagsHash,
      processTags: p.processTags,
    };
  }

  private flushClientStats(): void {
    if (this.clientStats.length === 0) return;
    const stats = this.clientStats;
    this.clientStats = [];
    let buckets = 0;
    for (const c of stats) buckets += c.stats.length;
    this.statsWriter.add('StatsBuckets', buckets);
    const sp: StatsPayload = {
      agentHostname: this.config.hostname,
      agentEnv: this.config.defaultEnv,
      stats,
      agentVersion: AGENT_VERSION,
      clientComputed: true,
      splitPayload: false,
    };
    this.statsEncoder.add(sp);
    this.emit(this.statsEncoder.finish());
  }

  private onDogStatsD(body: Uint8Array): boolean {
    const feed = this.deps.dogstatsd;
    if (feed === null) return false;
    // The agent sends every line as its own datagram to DogStatsD.
    let start = 0;
    for (let i = 0; i <= body.length; i++) {
      if (i === body.length || body[i] === 0x0a) {
        if (i > start) {
          feed(body, start, i);
          this.dogstatsdLines++;
        }
        start = i + 1;
      }
    }
    return true;
  }

  /** Hands encoded payloads to the intake (forward) or the local intake. */
  private emit(payloads: readonly ApmPayload[]): void {
    for (const p of payloads) {
      const w = p.kind === 'traces' ? this.traceWriter : this.statsWriter;
      if (p.kind === 'traces') {
        this.traceWriter.add('BytesUncompressed', p.uncompressedBytes);
        this.traceWriter.add('BytesEstimated', p.uncompressedBytes);
        this.traceWriter.max('SingleMaxSize', p.uncompressedBytes);
      } else {
        this.statsWriter.add('StatsEntries', p.entries);
      }
      (w as Window<'Payloads' | 'Bytes'>).add('Payloads');
      (w as Window<'Payloads' | 'Bytes'>).add('Bytes', p.body.length);
      if (this.forwarder !== null) {
        this.transport!.remember(p.body, p.headers);
        this.forwarder.send({
          kind: p.kind,
          endpoint: p.endpoint,
          contentType: p.contentType,
          contentEncoding: p.contentEncoding,
          body: p.body,
          uncompressedBytes: p.uncompressedBytes,
          items: p.items,
          points: p.entries,
        } as unknown as IntakePayload);
      } else if (this.deps.localIntake !== null) {
        const r = this.deps.localIntake.submit({ endpoint: p.endpoint, contentEncoding: p.contentEncoding, body: p.body });
        if (!r.ok) {
          this.localRejected++;
          (w as Window<'Errors'>).add('Errors');
        }
      }
    }
  }

  /** A payload the forwarder dropped: counted with what it held (`points` carries the trace chunks). */
  private countDropped(p: IntakePayload): void {
    const w = (p.kind as string) === 'traces' ? this.traceWriter : (p.kind as string) === 'stats' ? this.statsWriter : null;
    if (w === null) return;
    (w as Window<'Dropped' | 'DroppedBytes'>).add('Dropped');
    (w as Window<'Dropped' | 'DroppedBytes'>).add('DroppedBytes', p.body.length);
    if (w === this.traceWriter) this.traceWriter.add('DroppedTraces', p.points);
  }

  private countOutcome(path: string, outcome: TransportOutcome, retry: boolean): void {
    const w = path.endsWith('/stats') ? this.statsWriter : path.endsWith('/traces') ? this.traceWriter : null;
    if (w === null) return;
    if (retry) (w as Window<'Retries'>).add('Retries');
    const failed = outcome.kind === 'error' || (outcome.kind === 'response' && (outcome.status < 200 || outcome.status >= 300));
    if (failed) (w as Window<'Errors'>).add('Errors');
  }

  /** Every 10 s: the receiver's counters into the minute; every minute (and at the first tick), published for status. */
  private statsTick(now = Date.now()): void {
    const recent = this.receiver.stats;
    this.minute.accumulate(recent);
    this.total.accumulate(recent);
    recent.reset();
    if (now - this.lastPublish >= PUBLISH_MS) {
      this.publishedReceiver = this.minute.toJSON();
      this.minute.reset();
      this.publishedRates = { ...this.processor.rateByService() };
      this.traceWriter.publish();
      this.statsWriter.publish();
      this.lastPublish = now;
    }
    this.deps.onTick?.();
  }

  /** `apmStats`: the trace-agent's `/debug/vars` layout (`pid`, `uptime`, `config`, `receiver`, `trace_writer`, ...), plus kennel's totals. */
  stats(): Record<string, unknown> {
    const a = this.config;
    const addr = this.addresses;
    const totals = new ReceiverStats();
    totals.accumulate(this.total);
    totals.accumulate(this.receiver.stats);
    const rates = this.processor.rateByService();
    const conn = this.receiver.connections();
    return {
      pid: process.pid,
      uptime: Math.round((Date.now() - this.startedAt) / 1000),
      version: { Version: AGENT_VERSION, GitCommit: TRACE_AGENT_GIT_COMMIT },
      memstats: { Alloc: process.memoryUsage().heapUsed },
      config: {
        Enabled: a.enabled,
        Hostname: a.hostname,
        DefaultEnv: a.defaultEnv,
        ReceiverHost: a.receiverHost,
        ReceiverPort: addr.tcp?.port ?? a.receiverPort,
        ReceiverSocket: addr.socket ?? '',
        Endpoints: [{ Host: this.mode === 'forward' ? a.ddUrl : 'local intake' }],
        ConnectionLimit: a.connectionLimit,
        ReceiverTimeout: a.receiverTimeout,
        MaxRequestBytes: a.maxRequestBytes,
        TargetTPS: a.targetTPS,
        ErrorTPS: a.errorTPS,
        MaxEPS: a.maxEPS,
        BucketInterval: a.bucketSeconds * 1_000_000_000,
        StatsdPort: a.statsdPort,
        ProbabilisticSamplerEnabled: false,
      },
      receiver: this.publishedReceiver,
      ratebyservice: this.publishedRates,
      ratebyservice_filtered: rates,
      trace_writer: this.traceWriter.published,
      stats_writer: this.statsWriter.published,
      ...(this.error !== null ? { error: this.error } : {}),
      kennel: {
        mode: this.mode,
        receiverTotal: totals.toJSON(),
        traceWriterTotal: this.traceWriter.total.snapshot(),
        statsWriterTotal: this.statsWriter.total.snapshot(),
        receiverCounters: this.receiver.counters.snapshot(),
        decodeErrors: this.receiver.decodeErrorsByReason(),
        connections: { Active: conn.active, Pending: conn.pending },
        processor: this.processor.counters.snapshot(),
        concentrator: this.concentrator.counters.snapshot(),
        openStatsBuckets: this.concentrator.openBuckets.length,
        dogstatsdProxyLines: this.dogstatsdLines,
        proxy: this.proxy.stats(),
        ...(this.forwarder !== null ? { forwarder: this.forwarder.stats() } : { localIntakeRejected: this.localRejected }),
      },
    };
  }

  /**
   * Stops as the trace-agent does on SIGTERM: the receiver first (requests being answered may
   * finish), then every stats bucket (the open ones too), client stats and the open trace payload
   * are flushed, then the forwarder drains until `deadlineMs`.
   */
  async stop(deadlineMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.receiver.stop();
    this.flushTraces();
    this.flushStats(true);
    this.flushClientStats();
    this.statsTick(Date.now() + PUBLISH_MS);
    const start = Date.now();
    await this.proxy.drain(deadlineMs);
    if (this.forwarder !== null) {
      await this.forwarder.drain(Math.max(0, deadlineMs - (Date.now() - start)));
      await this.forwarder.close();
    }
    this.proxy.close();
  }
}

function snapshotInto(out: Float64Array, p: TraceProcessor): void {
  out.set(p.counters.values, 0);
  out.set(p.tracesDropped.values, PROCESS_COUNTERS.length);
  out.set(p.spansMalformed.values, PROCESS_COUNTERS.length + TRACES_DROPPED_COUNTERS.length);
}

/** What `startApm` needs from the rest of the agent. */
export interface StartApmOptions {
  /** The metrics sink: local mode's local intake is shared with APM. */
  readonly sink: { readonly mode: 'local' | 'forward' };
  /** One DogStatsD datagram into the DogStatsD pipeline, or null when DogStatsD is off. */
  readonly dogstatsd: ((buf: Uint8Array, start: number, end: number) => void) | null;
  readonly log: (line: string) => void;
  readonly health?: { register(name: string): void; beat(name: string): void };
}

/** The health component of a running APM pipeline. */
export const APM_HEALTH_COMPONENT = 'trace-agent';

/** `apmStats` when APM is not running, as the agent's status shows an unreachable trace-agent. */
export function apmNotRunning(why: string): Record<string, unknown> {
  return { error: why };
}

/**
 * Starts APM when `apm_config.enabled` and `apm_config.receiver_enabled` are on. A receiver
 * that cannot listen (a port in use, a socket path that cannot be created) is logged and leaves
 * APM off, as the agent's trace-agent exits while the rest of the agent runs on. Returns the
 * running pipeline, or the reason it is not running.
 */
export async function startApm(c: Config, o: StartApmOptions): Promise<{ apm: ApmPipeline | null; why: string }> {
  const off = (why: string) => {
    o.log(`kennel: APM: ${why}`);
    return { apm: null, why };
  };
  if (!c.bool('apm_config.enabled')) return off('off (DD_APM_ENABLED=false)');
  if (!c.bool('apm_config.receiver_enabled')) return off('off: the trace receiver is disabled (DD_APM_RECEIVER_ENABLED=false)');
  if (c.int('apm_config.receiver_port') === 0 && c.string('apm_config.receiver_socket') === '') {
    return off('off: the trace receiver has no listener (DD_APM_RECEIVER_PORT=0 and DD_APM_RECEIVER_SOCKET empty)');
  }
  const { LocalSink } = await import('./sinks.js');
  const localIntake = o.sink instanceof LocalSink ? o.sink.intake : null;
  const apm = new ApmPipeline(c, {
    log: o.log,
    localIntake,
    dogstatsd: o.dogstatsd,
    ...(o.health ? { onTick: () => o.health!.beat(APM_HEALTH_COMPONENT) } : {}),
  });
  try {
    await apm.start();
  } catch (e) {
    const why = (e as Error).message;
    o.log(`kennel: APM: ${why}; the trace receiver is off, the rest of kennel runs on`);
    await apm.stop(0);
    return { apm: null, why };
  }
  o.health?.register(APM_HEALTH_COMPONENT);
  const { tcp, socket } = apm.addresses;
  const where = [tcp ? `http://${tcp.address}:${tcp.port}` : null, socket ? `unix://${socket}` : null].filter((x) => x !== null).join(' and ');
  o.log(`kennel: APM: listening for traces on ${where}; sending to ${apm.mode === 'forward' ? apm.config.ddUrl : 'the local intake'}`);
  return { apm, why: '' };
}
