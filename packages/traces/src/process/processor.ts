import { CounterSet, ErrorCode, KennelError, PRIORITY_NONE } from '@kennel/core';
import type { Span, TraceChunk, TracerPayload } from '@kennel/core';
import {
  MAX_META_KEY_LEN,
  MAX_META_VAL_LEN,
  MAX_METRICS_KEY_LEN,
  MAX_RESOURCE_LEN,
  MAX_TYPE_LEN,
  NormalizeError,
  YEAR_2000_NS,
  isValidStatusCode,
  normalizeName,
  normalizePeerService,
  normalizeService,
  normalizeTag,
  normalizeTagValue,
  truncateUTF8,
  utf8Length,
} from './normalize.js';
import { PrioritySampler, type PrioritySamplerOptions } from './sampler.js';
import {
  HOSTNAME_KEY,
  computeTopLevel,
  getMetaFromTrace,
  getRoot,
  setChunkAttributes,
  updateTracerTopLevel,
} from './trace-util.js';

/**
 * `TracesDropped` reasons (`pkg/trace/info/stats.go`, the `reason:` tag of
 * `datadog.trace_agent.normalizer.traces_dropped`) that processing can produce.
 */
export const TRACES_DROPPED_COUNTERS = ['empty_trace', 'trace_id_zero', 'span_id_zero', 'foreign_span'] as const;
export type TracesDroppedReason = (typeof TRACES_DROPPED_COUNTERS)[number];

/**
 * `SpansMalformed` reasons (the `reason:` tag of `datadog.trace_agent.normalizer.spans_malformed`):
 * every fix normalisation makes, with the agent's names.
 */
export const SPANS_MALFORMED_COUNTERS = [
  'duplicate_span_id',
  'service_empty',
  'service_truncate',
  'service_invalid',
  'peer_service_truncate',
  'peer_service_invalid',
  'base_service_truncate',
  'base_service_invalid',
  'span_name_empty',
  'span_name_truncate',
  'span_name_invalid',
  'resource_empty',
  'type_truncate',
  'invalid_start_date',
  'invalid_duration',
  'invalid_http_status_code',
] as const;
export type SpansMalformedReason = (typeof SPANS_MALFORMED_COUNTERS)[number];

/**
 * Pipeline counters. `TracesReceived`, `SpansReceived`, `SpansDropped`, `TracesFiltered`,
 * `SpansFiltered` and `TracesPriority*` are the agent's `TagStats` names; `TracesKept`,
 * `TracesSampledOut`, `SpansKept`, `SingleSpanKept` and the `*Truncated` counters are kennel's
 * (the agent's truncator only logs).
 */
export const PROCESS_COUNTERS = [
  'TracesReceived',
  'SpansReceived',
  'SpansDropped',
  'TracesFiltered',
  'SpansFiltered',
  'TracesPriorityNone',
  'TracesPriorityNeg',
  'TracesPriority0',
  'TracesPriority1',
  'TracesPriority2',
  'TracesKept',
  'SpansKept',
  'TracesSampledOut',
  'SingleSpanKept',
  'ResourceTruncated',
  'MetaKeyTruncated',
  'MetaValueTruncated',
  'MetricsKeyTruncated',
] as const;
export type ProcessCounterName = (typeof PROCESS_COUNTERS)[number];

/** The single-span sampling mark (`KeySpanSamplingMechanism`). */
export const SPAN_SAMPLING_MECHANISM_KEY = '_dd.span_sampling.mechanism';
/** Where the agent records the tracer's sample rate on the root (`KeySamplingRateClient`). */
export const CLIENT_RATE_KEY = '_dd1.sr.rcusr';

const MAX_INT64 = (1n << 63n) - 1n;

export interface ProcessorOptions extends PrioritySamplerOptions {
  /**
   * `apm_config.max_resource_len`: resources are truncated to this many bytes.
   * @defaultValue `5000`
   */
  readonly maxResourceLen?: number;
  /**
   * `apm_config.ignore_resources`: chunks whose root resource matches one of these patterns are
   * dropped and counted in `TracesFiltered`.
   * @defaultValue `[]`
   */
  readonly ignoreResources?: readonly (string | RegExp)[];
  /** The agent's host name, used for stats when the payload has none. @defaultValue `''` */
  readonly hostname?: string;
  /** The clock, nanoseconds since the epoch (for broken start times and the sampler buckets). @defaultValue `Date.now()` in nanoseconds */
  readonly now?: () => bigint;
}

/** What the receiver knows about the request that carried a tracer payload. */
export interface PayloadContext {
  /** `Datadog-Meta-Lang`: picks the `unnamed-<lang>-service` fallback. @defaultValue `payload.languageName` */
  readonly lang?: string;
  /** `Datadog-Client-Computed-Top-Level` was set: copy `_dd.top_level` instead of computing. */
  readonly clientComputedTopLevel?: boolean;
  /** `Datadog-Client-Computed-Stats` was set: the agent computes no stats for this payload. */
  readonly clientComputedStats?: boolean;
  /** `Datadog-Client-Dropped-P0-Traces` divided by the number of chunks (the weight each chunk adds to the sampler). */
  readonly clientDroppedP0sWeight?: number;
}

/** One chunk after processing, before sampling: what the concentrator computes stats from. */
export interface ProcessedTrace {
  readonly chunk: TraceChunk;
  readonly root: Span;
  /** The payload's env, after it was filled from the root (`''` means the agent env). */
  readonly tracerEnv: string;
  readonly tracerHostname: string;
  readonly appVersion: string;
  readonly lang: string;
  readonly containerId: string;
  readonly gitCommitSha: string;
  readonly imageTag: string;
}

/** What {@link TraceProcessor.process} returns. */
export interface ProcessResult {
  /** The payload, now holding only the chunks to send (each kept or single-span sampled). */
  readonly payload: TracerPayload;
  /** Every chunk that passed normalisation and filters, for the stats concentrator (empty with client-computed stats). */
  readonly stats: ProcessedTrace[];
}

function resolveOptions(o: ProcessorOptions): { maxResourceLen: number; ignore: RegExp[] } {
  const maxResourceLen = o.maxResourceLen ?? MAX_RESOURCE_LEN;
  if (!Number.isSafeInteger(maxResourceLen) || maxResourceLen < 1) {
    throw new KennelError(ErrorCode.CONFIG_INVALID, `apm_config.max_resource_len (maxResourceLen): expected a whole number of at least 1, got ${String(maxResourceLen)}`);
  }
  const ignore = (o.ignoreResources ?? []).map((p) => (typeof p === 'string' ? new RegExp(p) : p));
  return { maxResourceLen, ignore };
}

function isStructuredMetaKey(k: string): boolean {
  return k.startsWith('_dd.') && (k.endsWith('.json') || k.endsWith('.msgpack') || k.endsWith('.protobuf'));
}

/**
 * The trace-agent's per-payload processing, in its order (`pkg/trace/agent/agent.go` `Process`):
 * payload env normalised; per chunk: empty chunks dropped, `normalizeTrace` (foreign spans and
 * zero ids drop the chunk, every span normalised), root found, chunk priority/origin/decision
 * maker filled from it, `ignore_resources` applied to the root, every span truncated (and
 * `_dd.top_level` copied when the client computed top-level), the client rate recorded on the
 * root, top-level computed (unless the client did), payload host/env/version filled from the
 * root, the chunk handed to stats, then sampled by priority.
 *
 * @remarks
 * Sampling: priority < 0 drops; priority > 0 keeps (through the {@link PrioritySampler}, which
 * also computes `rate_by_service`); priority 0 keeps a chunk with an error (the agent's
 * ErrorsSampler, here without its TPS cap) and drops the rest (the RareSampler is off by
 * default); no priority keeps (the NoPrioritySampler keeps everything under its TPS). A dropped
 * chunk whose spans carry `_dd.span_sampling.mechanism` is sent with those spans only, priority
 * 2 (single-span sampling). Obfuscation, `require_tags`/`reject_tags`, tag replacement, global
 * tags and APM events are not done.
 *
 * @example
 * ```ts
 * const processor = new TraceProcessor({ agentEnv: 'prod' });
 * const { payload, stats } = processor.process(tracerPayload, { lang: 'nodejs' });
 * concentrator.add(stats); // then encode `payload`
 * processor.rateByService(); // the receiver's answer
 * ```
 */
export class TraceProcessor {
  readonly counters = new CounterSet<ProcessCounterName>('trace_processor', PROCESS_COUNTERS);
  readonly tracesDropped = new CounterSet<TracesDroppedReason>('traces_dropped', TRACES_DROPPED_COUNTERS);
  readonly spansMalformed = new CounterSet<SpansMalformedReason>('spans_malformed', SPANS_MALFORMED_COUNTERS);
  readonly sampler: PrioritySampler;
  readonly agentEnv: string;
  readonly hostname: string;
  private readonly maxResourceLen: number;
  private readonly ignore: RegExp[];
  private readonly now: () => bigint;

  constructor(options: ProcessorOptions = {}) {
    const r = resolveOptions(options);
    this.maxResourceLen = r.maxResourceLen;
    this.ignore = r.ignore;
    this.sampler = new PrioritySampler(options);
    this.agentEnv = this.sampler.agentEnv;
    this.hostname = options.hostname ?? '';
    this.now = options.now ?? ((): bigint => BigInt(Date.now()) * 1_000_000n);
  }

  /** The `rate_by_service` map the receiver answers tracers with. */
  rateByService(): Record<string, number> {
    return this.sampler.rateByService();
  }

  /** Processes one tracer payload in place. Never throws on data. */
  process(payload: TracerPayload, context: PayloadContext = {}): ProcessResult {
    const lang = context.lang ?? payload.languageName;
    const topLevelByClient = context.clientComputedTopLevel === true;
    const droppedWeight = context.clientDroppedP0sWeight ?? 0;
    const c = this.counters;
    payload.env = normalizeTag(payload.env);
    const kept: TraceChunk[] = [];
    const stats: ProcessedTrace[] = [];
    const nowNs = this.now();
    const nowSeconds = Number(nowNs / 1_000_000_000n);
    for (const chunk of payload.chunks) {
      const n = chunk.spans.length;
      c.add('TracesReceived');
      c.add('SpansReceived', n);
      if (n === 0) {
        this.tracesDropped.add('empty_trace');
        continue;
      }
      if (!this.normalizeTrace(chunk.spans, lang, nowNs)) {
        c.add('SpansDropped', n);
        continue;
      }
      const root = getRoot(chunk.spans)!;
      setChunkAttributes(chunk, root);
      if (this.ignored(root.resource)) {
        c.add('TracesFiltered');
        c.add('SpansFiltered', n);
        continue;
      }
      for (const span of chunk.spans) {
        this.truncate(span);
        if (topLevelByClient) updateTracerTopLevel(span);
      }
      // setRootSpanTags: the tracer's sample rate, kept only when below 1.
      const clientRate = root.metrics['_sample_rate'] ?? 1;
      if (clientRate < 1) root.metrics[CLIENT_RATE_KEY] = clientRate;
      else if (root.metrics[CLIENT_RATE_KEY] !== undefined) delete root.metrics[CLIENT_RATE_KEY];
      if (!topLevelByClient) computeTopLevel(chunk.spans);
      // setPayloadAttributes: older tracers carry host, env and version on the root.
      if (payload.hostname === '') payload.hostname = root.meta[HOSTNAME_KEY] ?? '';
      if (payload.env === '') payload.env = getMetaFromTrace(root, chunk.spans, 'env');
      if (payload.appVersion === '') payload.appVersion = getMetaFromTrace(root, chunk.spans, 'version');
      if (context.clientComputedStats !== true) {
        stats.push({
          chunk: { ...chunk, spans: chunk.spans },
          root,
          tracerEnv: payload.env,
          tracerHostname: payload.hostname,
          appVersion: payload.appVersion,
          lang: payload.languageName,
          containerId: payload.containerId,
          gitCommitSha: root.meta['_dd.git.commit.sha'] ?? payload.tags['_dd.git.commit.sha'] ?? '',
          imageTag: '',
        });
      }
      if (this.sample(nowSeconds, chunk, root, payload.env, droppedWeight)) {
        kept.push(chunk);
        c.add('TracesKept');
        c.add('SpansKept', chunk.spans.length);
      }
    }
    payload.chunks = kept;
    return { payload, stats };
  }

  private ignored(resource: string): boolean {
    for (const re of this.ignore) {
      re.lastIndex = 0;
      if (re.test(resource)) return true;
    }
    return false;
  }

  /** Decides on one chunk; false when it is dropped whole. */
  private sample(nowSeconds: number, chunk: TraceChunk, root: Span, tracerEnv: string, droppedWeight: number): boolean {
    const c = this.counters;
    const p = chunk.priority;
    const hasPriority = p !== PRIORITY_NONE;
    if (!hasPriority) c.add('TracesPriorityNone');
    else if (p < 0) c.add('TracesPriorityNeg');
    else if (p === 0) c.add('TracesPriority0');
    else if (p === 1) c.add('TracesPriority1');
    else c.add('TracesPriority2');
    let keep: boolean;
    if (hasPriority && p < 0) keep = false;
    else if (hasPriority) {
      keep = this.sampler.sample(nowSeconds, chunk, root, tracerEnv, droppedWeight) || containsError(chunk.spans);
      chunk.droppedTrace = !keep;
    } else {
      keep = true;
      chunk.droppedTrace = false;
    }
    if (keep) return true;
    c.add('TracesSampledOut');
    // Single-span sampling: the spans a sampling rule kept travel on, in a chunk of priority 2.
    const single = chunk.spans.filter((s) => s.metrics[SPAN_SAMPLING_MECHANISM_KEY] !== undefined);
    if (single.length === 0) return false;
    chunk.spans = single;
    chunk.priority = 2;
    chunk.droppedTrace = false;
    c.add('SingleSpanKept', single.length);
    return true;
  }

  /** `normalizeTrace`: false when the chunk is dropped (the reason is counted). */
  private normalizeTrace(spans: Span[], lang: string, nowNs: bigint): boolean {
    const first = spans[0]!.traceId;
    const ids = new Set<bigint>();
    for (const span of spans) {
      if (span.traceId !== first) {
        this.tracesDropped.add('foreign_span');
        return false;
      }
      if (!this.normalizeSpan(span, lang, nowNs)) return false;
      if (ids.has(span.spanId)) this.spansMalformed.add('duplicate_span_id');
      ids.add(span.spanId);
    }
    return true;
  }

  /** `normalize`: fixes one span in place; false (and counted) when it cannot be fixed. */
  normalizeSpan(s: Span, lang: string, nowNs: bigint = this.now()): boolean {
    const m = this.spansMalformed;
    if (s.traceId === 0n) {
      this.tracesDropped.add('trace_id_zero');
      return false;
    }
    if (s.spanId === 0n) {
      this.tracesDropped.add('span_id_zero');
      return false;
    }
    const svc = normalizeService(s.service, lang);
    if (svc.error === NormalizeError.EMPTY) m.add('service_empty');
    else if (svc.error === NormalizeError.TOO_LONG) m.add('service_truncate');
    else if (svc.error === NormalizeError.INVALID) m.add('service_invalid');
    s.service = svc.value;

    const peer = s.meta['peer.service'];
    if (peer !== undefined && peer !== '') {
      const ps = normalizePeerService(peer);
      if (ps.error === NormalizeError.TOO_LONG) m.add('peer_service_truncate');
      else if (ps.error === NormalizeError.INVALID) m.add('peer_service_invalid');
      s.meta['peer.service'] = ps.value;
    }
    const base = s.meta['_dd.base_service'];
    if (base !== undefined && base !== '') {
      const bs = normalizePeerService(base);
      if (bs.error === NormalizeError.TOO_LONG) m.add('base_service_truncate');
      else if (bs.error === NormalizeError.INVALID) m.add('base_service_invalid');
      s.meta['_dd.base_service'] = bs.value;
    }

    const name = normalizeName(s.name);
    if (name.error === NormalizeError.EMPTY) m.add('span_name_empty');
    else if (name.error === NormalizeError.TOO_LONG) m.add('span_name_truncate');
    else if (name.error === NormalizeError.INVALID) m.add('span_name_invalid');
    s.name = name.value;

    if (s.resource === '') {
      m.add('resource_empty');
      s.resource = s.name;
    }
    // Zipkin-style roots carry parent == trace == span id.
    if (s.parentId === s.traceId && s.parentId === s.spanId) s.parentId = 0n;

    // Durations: negative, non-finite or overflowing start + duration become 0.
    let d = s.duration;
    if (!Number.isFinite(d) || d < 0 || BigInt(Math.trunc(d)) > MAX_INT64 - s.start) {
      m.add('invalid_duration');
      d = 0;
      s.duration = 0;
    }
    if (s.start < YEAR_2000_NS) {
      m.add('invalid_start_date');
      const start = nowNs - BigInt(Math.trunc(d));
      s.start = start < 0n ? nowNs : start;
    }

    if (utf8Length(s.type) > MAX_TYPE_LEN) {
      m.add('type_truncate');
      s.type = truncateUTF8(s.type, MAX_TYPE_LEN);
    }
    const env = s.meta['env'];
    if (env !== undefined && env !== '') s.meta['env'] = normalizeTagValue(env);
    const sc = s.meta['http.status_code'];
    if (sc !== undefined && !isValidStatusCode(sc)) {
      m.add('invalid_http_status_code');
      delete s.meta['http.status_code'];
    }
    const links = s.spanLinks;
    for (let i = 0; i < links.length; i++) {
      const link = links[i]!;
      const ln = link.attributes['link.name'];
      if (ln !== undefined) {
        const v = normalizeName(ln).value;
        if (v !== ln) links[i] = { ...link, attributes: { ...link.attributes, 'link.name': v } };
      }
    }
    return true;
  }

  /**
   * `Truncate`: the resource to `max_resource_len` bytes; meta keys over 200 bytes and values over
   * 25000 bytes, and metric keys over 200 bytes, truncated with `...` appended. Structured meta
   * (`_dd.*.json`, `.msgpack`, `.protobuf`) is left whole.
   */
  truncate(s: Span): void {
    const c = this.counters;
    if (s.resource.length * 3 > this.maxResourceLen && utf8Length(s.resource) > this.maxResourceLen) {
      s.resource = truncateUTF8(s.resource, this.maxResourceLen);
      c.add('ResourceTruncated');
    }
    let rebuild = false;
    for (const k in s.meta) {
      if (isStructuredMetaKey(k)) continue;
      if (utf8Length(k) > MAX_META_KEY_LEN) rebuild = true;
      const v = s.meta[k]!;
      if (v.length * 3 > MAX_META_VAL_LEN && utf8Length(v) > MAX_META_VAL_LEN) {
        s.meta[k] = truncateUTF8(v, MAX_META_VAL_LEN) + '...';
        c.add('MetaValueTruncated');
      }
    }
    if (rebuild) {
      const meta: Record<string, string> = {};
      for (const k in s.meta) {
        if (!isStructuredMetaKey(k) && utf8Length(k) > MAX_META_KEY_LEN) {
          meta[truncateUTF8(k, MAX_META_KEY_LEN) + '...'] = s.meta[k]!;
          c.add('MetaKeyTruncated');
        } else meta[k] = s.meta[k]!;
      }
      s.meta = meta;
    }
    let rebuildMetrics = false;
    for (const k in s.metrics) if (utf8Length(k) > MAX_METRICS_KEY_LEN) rebuildMetrics = true;
    if (rebuildMetrics) {
      const metrics: Record<string, number> = {};
      for (const k in s.metrics) {
        if (utf8Length(k) > MAX_METRICS_KEY_LEN) {
          metrics[truncateUTF8(k, MAX_METRICS_KEY_LEN) + '...'] = s.metrics[k]!;
          c.add('MetricsKeyTruncated');
        } else metrics[k] = s.metrics[k]!;
      }
      s.metrics = metrics;
    }
  }
}

function containsError(spans: readonly Span[]): boolean {
  for (let i = 0; i < spans.length; i++) if (spans[i]!.error !== 0) return true;
  return false;
}
