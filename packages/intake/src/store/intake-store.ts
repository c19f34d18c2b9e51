import { EventEmitter } from 'node:events';
import { CounterMap, CounterSet, ErrorCode, KennelError } from '@kennel/core';
import type { AgentPayload, ClientStatsPayload, MetricEvent, Series, ServiceCheck, SketchSeries, StatsPayload, TracerPayload } from '@kennel/core';
import { decompressBody, type DecompressOptions } from '../decode/decompress.js';
import type { IntakeLogEvent } from '../decode/logs.js';
import { decodeBody, intakeKindOf, type DecodedPayload, type IntakeRequest } from '../decode/payload.js';
import { decodeError, decoded, DecodeErrorReason, type DecodeResult } from '../decode/result.js';
import { Ring } from './ring.js';
import { waitOn, type WaitOptions } from './wait.js';

/**
 * What each payload kind holds, one entry per item. A new kind (traces, logs) is one line here
 * and one in {@link STORE_KINDS}; the rings, bounds, counters and `waitFor` are generic.
 */
export interface IntakeItemTypes {
  series_v2: Series;
  series_v1: Series;
  sketches: SketchSeries;
  check_runs: ServiceCheck;
  events: MetricEvent;
  logs: IntakeLogEvent;
  /** One per `AgentPayload.tracerPayloads` entry; the agent payload's other fields are in `meta`. */
  traces: TracerPayload;
  /** One per `StatsPayload.Stats` entry; the stats payload's other fields are in `meta`. */
  stats: ClientStatsPayload;
}
export type StoreKind = keyof IntakeItemTypes;

/** Every kind the store keeps a ring for, in the order `counts()` lists them. */
export const STORE_KINDS: readonly StoreKind[] = Object.freeze(['series_v2', 'series_v1', 'sketches', 'check_runs', 'events', 'logs', 'traces', 'stats']);

/** 30 minutes. */
export const DEFAULT_STORE_MAX_AGE_MS = 30 * 60 * 1000;
/** 256 MiB. */
export const DEFAULT_STORE_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Per-kind counters. `Payloads`, `Items`, `Points` and `Bytes` count everything received
 * (whether still held or since dropped); `Dropped*` count what the bounds evicted;
 * `DecodeErrors` counts requests for this kind that did not decode. `Bytes` are decompressed
 * bytes. Points are series points and sketch points; checks and events have none, as in the
 * forwarder's payloads.
 */
export const STORE_COUNTERS = [
  'Payloads',
  'Items',
  'Points',
  'Bytes',
  'DroppedPayloads',
  'DroppedItems',
  'DroppedPoints',
  'DroppedBytes',
  'DecodeErrors',
] as const;
export type StoreCounterName = (typeof STORE_COUNTERS)[number];

/** The counters of one kind, with what it holds now. */
export type KindCounts = Readonly<Record<StoreCounterName, number>> & {
  readonly StoredPayloads: number;
  readonly StoredItems: number;
  readonly StoredBytes: number;
};

export interface IntakeCounts {
  readonly kinds: Readonly<Record<StoreKind, KindCounts>>;
  /** Requests that did not decode, by reason (`unknown_endpoint` included). */
  readonly decodeErrors: Readonly<Partial<Record<DecodeErrorReason, number>>>;
  /** What the store holds now, over every kind. */
  readonly stored: { readonly payloads: number; readonly items: number; readonly bytes: number };
}

/** One payload as the store keeps it. */
export interface StoredPayload<K extends StoreKind = StoreKind> {
  /** Arrival order over every kind, from 1. */
  readonly seq: number;
  readonly kind: K;
  /** When it arrived, in the store's clock (milliseconds; `Date.now()` by default). */
  readonly receivedAt: number;
  /** What it costs against `maxBytes`: the decompressed payload size. */
  readonly bytes: number;
  readonly points: number;
  readonly items: readonly IntakeItemTypes[K][];
  /** Payload-level fields, such as `internalHostname` for events. */
  readonly meta?: Readonly<Record<string, string>>;
}

/** A payload of any kind, narrowed by `kind`. */
export type AnyStoredPayload = { [K in StoreKind]: StoredPayload<K> }[StoreKind];

export interface IntakeStoreOptions {
  /**
   * Payloads older than this are dropped (and counted in `DroppedPayloads`).
   * @defaultValue {@link DEFAULT_STORE_MAX_AGE_MS} (30 minutes)
   */
  readonly maxAgeMs?: number;
  /**
   * When the held payloads' decompressed sizes add up to more, the oldest (over every kind) are
   * dropped until they fit. A payload bigger than this on its own is dropped on arrival.
   * @defaultValue {@link DEFAULT_STORE_MAX_BYTES} (256 MiB)
   */
  readonly maxBytes?: number;
  /** The clock, in milliseconds. @defaultValue `Date.now` */
  readonly now?: () => number;
}

/** Query for series and sketches. Every field given must match. */
export interface MetricQuery {
  /** The metric name, exactly, or a pattern it matches. */
  readonly name?: string | RegExp;
  /** A tag the item carries, or several it all carries (exact strings, such as `env:prod`). */
  readonly tag?: string | readonly string[];
  readonly host?: string;
  /** Only payloads received at or after this time (the store's clock, milliseconds). */
  readonly since?: number;
}

export interface SeriesQuery extends MetricQuery {
  /** Only v2 (`series_v2`) or only v1 (`series_v1`) payloads; both by default. */
  readonly kind?: 'series_v2' | 'series_v1';
}

/** Query for service checks (`name` is the check name) and events (`name` is the title). */
export type CheckQuery = MetricQuery;
export type EventQuery = MetricQuery;

/** Query for log events: `name` matches the message; `service`, `source` (`ddsource`) and `status` exactly. */
export interface LogQuery extends MetricQuery {
  readonly service?: string;
  readonly source?: string;
  readonly status?: string;
}

/** What `ingest` answers: the stored payload, or why the request did not decode. */
export type IngestResult = DecodeResult<AnyStoredPayload>;

interface KindState {
  readonly ring: Ring<AnyStoredPayload>;
  readonly counters: CounterSet<StoreCounterName>;
  storedItems: number;
  storedBytes: number;
}

const PAYLOAD = 'payload';

function positive(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || Number.isNaN(v) || v <= 0) {
    throw new KennelError(ErrorCode.INVALID_ARGUMENT, `IntakeStore: ${name} must be a number > 0, got ${String(v)}`);
  }
  return v;
}

function nameMatcher(name: string | RegExp | undefined): ((s: string) => boolean) | undefined {
  if (name === undefined) return undefined;
  if (typeof name === 'string') return (s) => s === name;
  return (s) => {
    name.lastIndex = 0; // a /g or /y pattern keeps state between calls
    return name.test(s);
  };
}

function tagMatcher(tag: string | readonly string[] | undefined): ((tags: readonly string[]) => boolean) | undefined {
  if (tag === undefined) return undefined;
  const wanted = typeof tag === 'string' ? [tag] : tag;
  return (tags) => wanted.every((t) => tags.includes(t));
}

function pointsOf(items: readonly { readonly points: readonly unknown[] }[]): number {
  let n = 0;
  for (const i of items) n += i.points.length;
  return n;
}

/**
 * The in-process, bounded store of what an intake received, decoded: one ring per payload kind
 * (v2 and v1 series, sketches, service checks, events), oldest first.
 *
 * @remarks
 * Bounds: payloads older than `maxAgeMs` are dropped, and while the held payloads' decompressed
 * sizes add up to more than `maxBytes` the oldest payload over every kind is dropped. Each drop
 * is counted per kind (`DroppedPayloads`, `DroppedItems`, `DroppedPoints`, `DroppedBytes`).
 * Age is checked on every write and every read, so no timer runs.
 *
 * `waitFor` is driven by arrivals (an `EventEmitter`), never by polling.
 *
 * @example
 * ```ts
 * const store = new IntakeStore({ maxBytes: 64 * 1024 * 1024 });
 * store.ingest({ path: '/api/v2/series', contentEncoding: 'zstd', body });
 * const hits = await store.waitFor((s) => s.series({ name: 'app.requests' }).length >= 2 && s.series({ name: 'app.requests' }));
 * ```
 */
export class IntakeStore {
  readonly maxAgeMs: number;
  readonly maxBytes: number;
  private readonly now: () => number;
  private readonly kinds = new Map<StoreKind, KindState>();
  private readonly decodeErrorCounts = new CounterMap();
  private readonly emitter = new EventEmitter();
  private seq = 0;
  private bytes = 0;

  constructor(options: IntakeStoreOptions = {}) {
    this.maxAgeMs = positive('maxAgeMs', options.maxAgeMs, DEFAULT_STORE_MAX_AGE_MS);
    this.maxBytes = positive('maxBytes', options.maxBytes, DEFAULT_STORE_MAX_BYTES);
    this.now = options.now ?? Date.now;
    // Any number of waiters may listen; each removes itself when it settles.
    this.emitter.setMaxListeners(0);
    for (const k of STORE_KINDS) this.state(k);
  }

  // --- writing ---------------------------------------------------------------------------------

  /**
   * Decodes one intake request (path, `Content-Encoding`, body) and stores what it holds; a
   * request that does not decode is counted by reason and stored nowhere. Never throws.
   */
  ingest(request: IntakeRequest, options: DecompressOptions = {}): IngestResult {
    const kind = intakeKindOf(request.path);
    if (kind === undefined) {
      this.decodeErrorCounts.add(DecodeErrorReason.UNKNOWN_ENDPOINT);
      return decodeError(DecodeErrorReason.UNKNOWN_ENDPOINT, `${request.path} is not an intake endpoint`);
    }
    const body = decompressBody(request.body, request.contentEncoding, options);
    if (!body.ok) {
      this.recordDecodeError(body.reason, kind);
      return body;
    }
    const payload = decodeBody(kind, body.value);
    if (!payload.ok) {
      this.recordDecodeError(payload.reason, kind);
      return payload;
    }
    return decoded(this.addDecoded(payload.value, body.value.length));
  }

  /** Stores a decoded payload; `bytes` is its decompressed size. */
  addDecoded(payload: DecodedPayload, bytes: number): AnyStoredPayload {
    switch (payload.kind) {
      case 'series_v2':
      case 'series_v1':
        return this.add(payload.kind, payload.series, { bytes, points: pointsOf(payload.series) });
      case 'sketches':
        return this.add('sketches', payload.sketches, { bytes, points: pointsOf(payload.sketches) });
      case 'check_runs':
        return this.add('check_runs', payload.checks, { bytes });
      case 'events':
        return this.add('events', payload.events, { bytes, meta: { internalHostname: payload.internalHostname } });
      case 'logs':
        return this.add('logs', payload.logs, { bytes });
      case 'traces':
        return this.addTraces(payload.payload, bytes);
      case 'stats':
        return this.addStats(payload.payload, bytes);
    }
  }

  /** Stores an `AgentPayload`: its tracer payloads as items, spans as points. */
  private addTraces(p: AgentPayload, bytes: number): StoredPayload<'traces'> {
    let spans = 0;
    for (const tp of p.tracerPayloads) for (const c of tp.chunks) spans += c.spans.length;
    const meta = {
      hostName: p.hostName,
      env: p.env,
      agentVersion: p.agentVersion,
      targetTPS: String(p.targetTPS),
      errorTPS: String(p.errorTPS),
      rareSamplerEnabled: String(p.rareSamplerEnabled),
    };
    return this.add('traces', p.tracerPayloads, { bytes, points: spans, meta });
  }

  /** Stores a `StatsPayload`: its client stats payloads as items, grouped stats as points. */
  private addStats(p: StatsPayload, bytes: number): StoredPayload<'stats'> {
    let groups = 0;
    for (const c of p.stats) for (const b of c.stats) groups += b.stats.length;
    const meta = {
      agentHostname: p.agentHostname,
      agentEnv: p.agentEnv,
      agentVersion: p.agentVersion,
      clientComputed: String(p.clientComputed),
      splitPayload: String(p.splitPayload),
    };
    return this.add('stats', p.stats, { bytes, points: groups, meta });
  }

  /**
   * Stores one payload's items under `kind`, then drops what the bounds no longer allow and
   * tells every waiter. `bytes` is what the payload costs against `maxBytes` (its decompressed
   * size); `points` defaults to 0.
   */
  add<K extends StoreKind>(
    kind: K,
    items: readonly IntakeItemTypes[K][],
    info: { readonly bytes: number; readonly points?: number; readonly meta?: Readonly<Record<string, string>> },
  ): StoredPayload<K> {
    // The store keeps `items` as given (no copy): callers hand over the arrays.
    if (!Number.isFinite(info.bytes) || info.bytes < 0) {
      throw new KennelError(ErrorCode.INVALID_ARGUMENT, `IntakeStore.add: bytes must be a finite number >= 0, got ${String(info.bytes)}`);
    }
    const st = this.state(kind);
    const points = info.points ?? 0;
    const entry: StoredPayload<K> = {
      seq: ++this.seq,
      kind,
      receivedAt: this.now(),
      bytes: info.bytes,
      points,
      items,
      ...(info.meta !== undefined ? { meta: info.meta } : {}),
    };
    st.counters.add('Payloads');
    st.counters.add('Items', items.length);
    st.counters.add('Points', points);
    st.counters.add('Bytes', info.bytes);
    st.ring.push(entry as unknown as AnyStoredPayload);
    st.storedItems += items.length;
    st.storedBytes += info.bytes;
    this.bytes += info.bytes;
    this.expire();
    while (this.bytes > this.maxBytes) this.dropOldest();
    this.emitter.emit(PAYLOAD, entry);
    return entry;
  }

  /** Counts a request that did not decode (`kind` when its endpoint was known). */
  recordDecodeError(reason: DecodeErrorReason, kind?: StoreKind): void {
    this.decodeErrorCounts.add(reason);
    if (kind !== undefined) this.state(kind).counters.add('DecodeErrors');
  }

  /** Drops every held payload. Counters stay (a cleared payload is not counted as dropped). */
  clear(): void {
    for (const st of this.kinds.values()) {
      st.ring.clear();
      st.storedItems = 0;
      st.storedBytes = 0;
    }
    this.bytes = 0;
  }

  // --- reading ---------------------------------------------------------------------------------

  /** v2 and v1 series, in arrival order. */
  series(query: SeriesQuery = {}): Series[] {
    const kinds: StoreKind[] = query.kind !== undefined ? [query.kind] : ['series_v2', 'series_v1'];
    return this.select(kinds, query, (s: Series) => s.name);
  }

  sketches(query: MetricQuery = {}): SketchSeries[] {
    return this.select(['sketches'], query, (s: SketchSeries) => s.name);
  }

  serviceChecks(query: CheckQuery = {}): ServiceCheck[] {
    return this.select(['check_runs'], query, (c: ServiceCheck) => c.name);
  }

  /** Events; `name` matches the title. */
  events(query: EventQuery = {}): MetricEvent[] {
    return this.select(['events'], query, (e: MetricEvent) => e.title);
  }

  /** Log events, in arrival order; `name` matches the message, `host` the hostname. */
  logs(query: LogQuery = {}): IntakeLogEvent[] {
    this.expire();
    const byMessage = nameMatcher(query.name);
    const byTags = tagMatcher(query.tag);
    const out: IntakeLogEvent[] = [];
    for (const p of this.payloadsOf(['logs'], query.since)) {
      for (const e of p.items as readonly IntakeLogEvent[]) {
        if (byMessage !== undefined && !byMessage(e.message)) continue;
        if (query.host !== undefined && e.hostname !== query.host) continue;
        if (query.service !== undefined && e.service !== query.service) continue;
        if (query.source !== undefined && e.ddsource !== query.source) continue;
        if (query.status !== undefined && e.status !== query.status) continue;
        if (byTags !== undefined && !byTags(e.tags)) continue;
        out.push(e);
      }
    }
    return out;
  }

  /** The held payloads of one kind (or of every kind, in arrival order), received at or after `since`. */
  payloads<K extends StoreKind>(kind: K, options?: { readonly since?: number }): StoredPayload<K>[];
  payloads(kind?: undefined, options?: { readonly since?: number }): AnyStoredPayload[];
  payloads(kind?: StoreKind, options: { readonly since?: number } = {}): AnyStoredPayload[] {
    this.expire();
    return this.payloadsOf(kind !== undefined ? [kind] : [...this.kinds.keys()], options.since);
  }

  counts(): IntakeCounts {
    this.expire();
    const kinds = {} as Record<StoreKind, KindCounts>;
    let payloads = 0;
    let items = 0;
    for (const [k, st] of this.kinds) {
      kinds[k] = { ...st.counters.snapshot(), StoredPayloads: st.ring.size, StoredItems: st.storedItems, StoredBytes: st.storedBytes };
      payloads += st.ring.size;
      items += st.storedItems;
    }
    return { kinds, decodeErrors: this.decodeErrorCounts.snapshot(), stored: { payloads, items, bytes: this.bytes } };
  }

  // --- waiting ---------------------------------------------------------------------------------

  /**
   * Calls `probe` now and after every payload that arrives, and resolves with the first answer
   * that is not `false`, `null` or `undefined`. Rejects with {@link WaitTimeoutError} after
   * `timeoutMs`, with the signal's reason on abort, or with what `probe` throws.
   *
   * @example
   * ```ts
   * await store.waitFor((s) => s.serviceChecks({ name: 'app.up' }).length > 0);
   * const [e] = await store.waitFor((s) => { const e = s.events({ tag: 'deploy' }); return e.length > 0 && e; });
   * ```
   */
  waitFor<T>(probe: (store: IntakeStore) => T | false | null | undefined, options: WaitOptions = {}): Promise<T> {
    return waitOn(this.emitter, PAYLOAD, () => probe(this), options, (ms) => {
      const c = this.counts().stored;
      return `IntakeStore.waitFor: nothing matched within ${ms} ms (the store holds ${c.payloads} payloads, ${c.items} items)`;
    });
  }

  /** Calls `listener` after every payload stored (after the bounds were applied). Returns the unsubscribe function. */
  onPayload(listener: (payload: AnyStoredPayload) => void): () => void {
    this.emitter.on(PAYLOAD, listener);
    return () => this.emitter.off(PAYLOAD, listener);
  }

  // --- internals -------------------------------------------------------------------------------

  private state(kind: StoreKind): KindState {
    let st = this.kinds.get(kind);
    if (st === undefined) {
      st = { ring: new Ring(), counters: new CounterSet(`intake.store.${kind}`, STORE_COUNTERS), storedItems: 0, storedBytes: 0 };
      this.kinds.set(kind, st);
    }
    return st;
  }

  /** Drops, kind by kind, every payload older than `maxAgeMs`. */
  private expire(): void {
    if (this.maxAgeMs === Infinity) return;
    const cutoff = this.now() - this.maxAgeMs;
    for (const st of this.kinds.values()) {
      for (let p = st.ring.peek(); p !== undefined && p.receivedAt < cutoff; p = st.ring.peek()) this.drop(st);
    }
  }

  /** Drops the oldest payload over every kind. */
  private dropOldest(): void {
    let oldest: KindState | undefined;
    let seq = Infinity;
    for (const st of this.kinds.values()) {
      const p = st.ring.peek();
      if (p !== undefined && p.seq < seq) {
        seq = p.seq;
        oldest = st;
      }
    }
    if (oldest === undefined) {
      this.bytes = 0; // nothing held: nothing can be over the bound
      return;
    }
    this.drop(oldest);
  }

  private drop(st: KindState): void {
    const p = st.ring.shift()!;
    st.counters.add('DroppedPayloads');
    st.counters.add('DroppedItems', p.items.length);
    st.counters.add('DroppedPoints', p.points);
    st.counters.add('DroppedBytes', p.bytes);
    st.storedItems -= p.items.length;
    st.storedBytes -= p.bytes;
    this.bytes -= p.bytes;
  }

  private payloadsOf(kinds: readonly StoreKind[], since: number | undefined): AnyStoredPayload[] {
    const out: AnyStoredPayload[] = [];
    for (const k of kinds) {
      const st = this.kinds.get(k);
      if (st === undefined) continue;
      for (const p of st.ring) if (since === undefined || p.receivedAt >= since) out.push(p);
    }
    if (kinds.length > 1) out.sort((a, b) => a.seq - b.seq);
    return out;
  }

  private select<T extends { readonly host: string; readonly tags: readonly string[] }>(
    kinds: readonly StoreKind[],
    query: MetricQuery,
    nameOf: (item: T) => string,
  ): T[] {
    this.expire();
    const byName = nameMatcher(query.name);
    const byTags = tagMatcher(query.tag);
    const host = query.host;
    const out: T[] = [];
    for (const p of this.payloadsOf(kinds, query.since)) {
      for (const item of p.items as readonly unknown[] as readonly T[]) {
        if (byName !== undefined && !byName(nameOf(item))) continue;
        if (host !== undefined && item.host !== host) continue;
        if (byTags !== undefined && !byTags(item.tags)) continue;
        out.push(item);
      }
    }
    return out;
  }
}
