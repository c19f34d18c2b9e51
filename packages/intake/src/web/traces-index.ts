import type { IntakeStore } from '../store/intake-store.js';
import { PayloadFollower, heldPayloads, type HeldPayload } from './held.js';
import { MergedDDSketch, decodeDDSketch, exactQuantile, PERCENTILES, type DDSketchData } from './sketch.js';

/**
 * What the local page knows about traces: spans from the store's `traces` payloads grouped by
 * trace id, and per-service figures from the `stats` payloads (APM stats).
 *
 * Items are read by shape, so any of the trace-agent's forms can be stored: an `AgentPayload`
 * (`tracerPayloads`), a `TracerPayload` (`chunks`), a `TraceChunk` (`spans`), a v0.4 trace (an
 * array of spans) or a single span; field names in camelCase (`@kennel/core`'s `Span`) or
 * snake_case (the v0.4 msgpack names). Stats: a `StatsPayload`, `ClientStatsPayload` or bucket,
 * with the Go field names (`Stats`, `Hits`, `OkSummary`) or camelCase.
 */

export const TRACES_KIND = 'traces';
export const STATS_KIND = 'stats';

/** One span as the page reads it. */
export interface SpanView {
  readonly traceId: bigint;
  readonly spanId: bigint;
  readonly parentId: bigint;
  readonly service: string;
  readonly name: string;
  readonly resource: string;
  readonly type: string;
  /** Nanoseconds since the Unix epoch. */
  readonly start: bigint;
  /** Nanoseconds. */
  readonly duration: number;
  readonly error: number;
  readonly meta: Readonly<Record<string, string>>;
  readonly metrics: Readonly<Record<string, number>>;
  readonly extra: Readonly<Record<string, unknown>>;
}

interface Part {
  readonly seq: number;
  readonly receivedAt: number;
  readonly spans: SpanView[];
}

class Trace {
  readonly parts: Part[] = [];
  readonly id: string;
  spanCount = 0;
  firstReceivedAt = Infinity;
  lastReceivedAt = 0;
  summary: TraceSummary | null = null;
  constructor(id: string) {
    this.id = id;
  }
}

interface TraceRecord {
  readonly seq: number;
  readonly traces: Trace[];
}

/** The summary of a trace in lists. Ids are decimal strings of the low 64 bits. */
export interface TraceSummary {
  readonly traceId: string;
  /** The 128-bit id in hex, when the root carries `_dd.p.tid`. */
  readonly traceIdHex?: string;
  readonly service: string;
  readonly name: string;
  readonly resource: string;
  readonly type: string;
  readonly env?: string;
  /** Nanoseconds since the epoch, as a decimal string. */
  readonly start: string;
  /** Milliseconds since the epoch. */
  readonly startMs: number;
  /** From the earliest start to the latest end, nanoseconds. */
  readonly duration: number;
  readonly spanCount: number;
  /** Spans with `error` set. */
  readonly errors: number;
  readonly error: boolean;
  readonly services: readonly string[];
  /** The trace has a span without a parent (parent id 0). */
  readonly hasRoot: boolean;
  /** When its last spans arrived (ms). */
  readonly receivedAt: number;
}

/** One span in a trace's detail: `depth` in the tree and `offset` (ns) from the trace's start. */
export interface SpanJson {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentId: string;
  readonly service: string;
  readonly name: string;
  readonly resource: string;
  readonly type: string;
  readonly start: string;
  readonly duration: number;
  readonly error: number;
  readonly meta: Readonly<Record<string, string>>;
  readonly metrics: Readonly<Record<string, number>>;
  readonly depth: number;
  readonly offset: number;
  readonly [extra: string]: unknown;
}

export interface TraceDetail extends TraceSummary {
  /** Depth first from each root, children by start time. */
  readonly spans: readonly SpanJson[];
}

export interface TraceQuery {
  readonly service?: string | undefined;
  readonly resource?: string | undefined;
  readonly name?: string | undefined;
  readonly env?: string | undefined;
  /** Text (or `/re/`) matched against the root's service, name and resource. */
  readonly text?: ((s: string) => boolean) | undefined;
  readonly error?: boolean | undefined;
  /** Milliseconds. */
  readonly minDurationMs?: number | undefined;
  /** Received at or after (ms). */
  readonly since?: number | undefined;
}

export interface ServiceFigures {
  readonly hits: number;
  readonly errors: number;
  readonly topLevelHits?: number;
  /** Average duration, ns. */
  readonly avgDuration: number | null;
  readonly p50: number | null;
  readonly p75: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

export interface ServiceRow extends ServiceFigures {
  readonly service: string;
  /** `stats` when the APM stats had this service, else `spans` (figures from the held top-level spans). */
  readonly source: 'stats' | 'spans';
  readonly spans: number;
  readonly traces: number;
  readonly resources: readonly (ServiceFigures & { readonly resource: string; readonly name: string })[];
}

// --- reading by shape ---------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function pick(o: Obj, ...names: string[]): unknown {
  for (const n of names) if (o[n] !== undefined) return o[n];
  return undefined;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : 0;
  }
  return 0;
}

function big(v: unknown): bigint {
  try {
    if (typeof v === 'bigint') return BigInt.asUintN(64, v);
    if (typeof v === 'number' && Number.isFinite(v)) return BigInt.asUintN(64, BigInt(Math.trunc(v)));
    if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt.asUintN(64, BigInt(v));
  } catch {
    // fall through
  }
  return 0n;
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v instanceof Map) for (const [k, x] of v) out[String(k)] = str(x);
  else if (isObj(v)) for (const [k, x] of Object.entries(v)) out[k] = str(x);
  return out;
}

function numberMap(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (v instanceof Map) for (const [k, x] of v) out[String(k)] = num(x);
  else if (isObj(v)) for (const [k, x] of Object.entries(v)) out[k] = num(x);
  return out;
}

interface SpanContext {
  env?: string;
  hostname?: string;
  language?: string;
  tracerVersion?: string;
  appVersion?: string;
  priority?: number;
  origin?: string;
}

const SPAN_KEYS = new Set(['service', 'name', 'resource', 'traceId', 'trace_id', 'spanId', 'span_id', 'parentId', 'parent_id', 'start', 'duration', 'error', 'type', 'meta', 'metrics']);

function spanOf(o: Obj, ctx: SpanContext): SpanView {
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (SPAN_KEYS.has(k)) continue;
    if (k === 'metaStruct' || k === 'meta_struct') {
      const keys = v instanceof Map ? [...v.keys()].map(String) : isObj(v) ? Object.keys(v) : [];
      if (keys.length > 0) extra.metaStruct = keys;
      continue;
    }
    if (Array.isArray(v) && v.length === 0) continue;
    extra[k] = v;
  }
  for (const [k, v] of Object.entries(ctx)) if (v !== undefined && v !== '') extra[`_${k}`] = v;
  return {
    traceId: big(pick(o, 'traceId', 'trace_id')),
    spanId: big(pick(o, 'spanId', 'span_id')),
    parentId: big(pick(o, 'parentId', 'parent_id')),
    service: str(o.service),
    name: str(o.name),
    resource: str(o.resource),
    type: str(o.type),
    start: big(o.start),
    duration: num(o.duration),
    error: num(o.error),
    meta: stringMap(o.meta),
    metrics: numberMap(o.metrics),
    extra,
  };
}

/** Every span in one stored item, whatever its form. */
export function spansOf(item: unknown, out: SpanView[] = [], ctx: SpanContext = {}, depth = 0): SpanView[] {
  if (depth > 8) return out;
  if (Array.isArray(item)) {
    for (const x of item) spansOf(x, out, ctx, depth);
    return out;
  }
  if (!isObj(item)) return out;
  const tracerPayloads = pick(item, 'tracerPayloads', 'tracer_payloads', 'TracerPayloads');
  if (Array.isArray(tracerPayloads)) {
    const c: SpanContext = { ...ctx, env: str(pick(item, 'env')) || ctx.env, hostname: str(pick(item, 'hostName', 'hostname')) || ctx.hostname } as SpanContext;
    for (const tp of tracerPayloads) spansOf(tp, out, c, depth + 1);
    return out;
  }
  const chunks = pick(item, 'chunks', 'Chunks');
  if (Array.isArray(chunks)) {
    const c: SpanContext = {
      ...ctx,
      env: str(item.env) || ctx.env,
      hostname: str(item.hostname) || ctx.hostname,
      language: str(pick(item, 'languageName', 'language_name')) || ctx.language,
      tracerVersion: str(pick(item, 'tracerVersion', 'tracer_version')) || ctx.tracerVersion,
      appVersion: str(pick(item, 'appVersion', 'app_version')) || ctx.appVersion,
    } as SpanContext;
    for (const ch of chunks) spansOf(ch, out, c, depth + 1);
    return out;
  }
  const spans = pick(item, 'spans', 'Spans');
  if (Array.isArray(spans)) {
    const c: SpanContext = { ...ctx };
    if (item.priority !== undefined) c.priority = num(item.priority);
    if (str(item.origin) !== '') c.origin = str(item.origin);
    for (const s of spans) spansOf(s, out, c, depth + 1);
    return out;
  }
  if (pick(item, 'spanId', 'span_id') !== undefined && pick(item, 'traceId', 'trace_id') !== undefined) out.push(spanOf(item, ctx));
  return out;
}

/**
 * The low 64 bits of a trace id given as text, as a decimal string: decimal digits, `0x` hex, 32
 * hex digits (a 128-bit id, as tracers write `dd.trace_id` in logs) or 16 hex digits with a
 * letter. `undefined` when it is none of these.
 */
export function traceKey(raw: string): string | undefined {
  const s = raw.trim();
  try {
    if (/^\d{1,20}$/.test(s)) return BigInt.asUintN(64, BigInt(s)).toString();
    if (/^0x[0-9a-f]{1,32}$/i.test(s)) return BigInt.asUintN(64, BigInt(s)).toString();
    if (/^[0-9a-f]{32}$/i.test(s)) return BigInt('0x' + s.slice(16)).toString();
    if (/^[0-9a-f]{16}$/i.test(s)) return BigInt('0x' + s).toString();
  } catch {
    return undefined;
  }
  return undefined;
}

function spanJson(s: SpanView, depth: number, offset: number): SpanJson {
  return {
    ...s.extra,
    traceId: s.traceId.toString(),
    spanId: s.spanId.toString(),
    parentId: s.parentId.toString(),
    service: s.service,
    name: s.name,
    resource: s.resource,
    type: s.type,
    start: s.start.toString(),
    duration: s.duration,
    error: s.error,
    meta: s.meta,
    metrics: s.metrics,
    depth,
    offset,
  };
}

function isTopLevel(s: SpanView, byId: Map<bigint, SpanView>): boolean {
  if (s.metrics['_dd.top_level'] === 1) return true;
  if (s.parentId === 0n) return true;
  const parent = byId.get(s.parentId);
  return parent === undefined || parent.service !== s.service;
}

// --- the index ----------------------------------------------------------------------------------

interface Acc {
  hits: number;
  errors: number;
  topLevelHits: number;
  duration: number;
  ok: MergedDDSketch;
  err: MergedDDSketch;
}

function newAcc(): Acc {
  return { hits: 0, errors: 0, topLevelHits: 0, duration: 0, ok: new MergedDDSketch(), err: new MergedDDSketch() };
}

function figuresOf(a: Acc): ServiceFigures {
  // Percentiles over ok and error spans together.
  const all = new MergedDDSketch();
  all.merge(a.ok);
  all.merge(a.err);
  const f: Record<string, number | null> = {};
  for (const [name, p] of PERCENTILES) f[name] = all.quantile(p);
  return {
    hits: a.hits,
    errors: a.errors,
    topLevelHits: a.topLevelHits,
    avgDuration: a.hits > 0 ? a.duration / a.hits : null,
    p50: f.p50 ?? null,
    p75: f.p75 ?? null,
    p95: f.p95 ?? null,
    p99: f.p99 ?? null,
  };
}

function sketchOf(v: unknown): DDSketchData | null {
  if (v instanceof Uint8Array) return decodeDDSketch(v);
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number')) return decodeDDSketch(Uint8Array.from(v as number[]));
  return null;
}

export class TracesIndex {
  private readonly traces = new Map<string, Trace>();
  private readonly follower: PayloadFollower<TraceRecord>;
  private readonly store: IntakeStore;
  private version = 0;
  private servicesCache: { key: string; rows: ServiceRow[] } | null = null;

  constructor(store: IntakeStore) {
    this.store = store;
    this.follower = new PayloadFollower(store, TRACES_KIND);
  }

  sync(): void {
    const changed = this.follower.sync(
      (p) => this.take(p),
      (r) => this.drop(r),
    );
    if (changed) this.version++;
  }

  get size(): number {
    return this.traces.size;
  }

  private take(p: HeldPayload): TraceRecord {
    const spans: SpanView[] = [];
    for (const item of p.items) spansOf(item, spans);
    const byTrace = new Map<string, SpanView[]>();
    for (const s of spans) {
      const id = s.traceId.toString();
      let l = byTrace.get(id);
      if (l === undefined) byTrace.set(id, (l = []));
      l.push(s);
    }
    const rec: TraceRecord = { seq: p.seq, traces: [] };
    for (const [id, list] of byTrace) {
      let t = this.traces.get(id);
      if (t === undefined) this.traces.set(id, (t = new Trace(id)));
      t.parts.push({ seq: p.seq, receivedAt: p.receivedAt, spans: list });
      t.spanCount += list.length;
      t.firstReceivedAt = Math.min(t.firstReceivedAt, p.receivedAt);
      t.lastReceivedAt = Math.max(t.lastReceivedAt, p.receivedAt);
      t.summary = null;
      rec.traces.push(t);
    }
    return rec;
  }

  private drop(r: TraceRecord): void {
    for (const t of r.traces) {
      const i = t.parts.findIndex((p) => p.seq === r.seq);
      if (i >= 0) {
        t.spanCount -= t.parts[i]!.spans.length;
        t.parts.splice(i, 1);
      }
      t.summary = null;
      if (t.parts.length === 0) this.traces.delete(t.id);
    }
  }

  private spansOfTrace(t: Trace): SpanView[] {
    if (t.parts.length === 1) return t.parts[0]!.spans;
    const all: SpanView[] = [];
    for (const p of t.parts) for (const s of p.spans) all.push(s);
    return all;
  }

  private summaryOf(t: Trace): TraceSummary {
    if (t.summary !== null) return t.summary;
    const spans = this.spansOfTrace(t);
    const ids = new Set<bigint>();
    for (const s of spans) ids.add(s.spanId);
    let root: SpanView | undefined;
    let hasRoot = false;
    let start: bigint | undefined;
    let end: bigint | undefined;
    let errors = 0;
    const services = new Set<string>();
    for (const s of spans) {
      if (start === undefined || s.start < start) start = s.start;
      const e = s.start + BigInt(Math.max(0, Math.trunc(s.duration)));
      if (end === undefined || e > end) end = e;
      if (s.error !== 0) errors++;
      if (s.service !== '') services.add(s.service);
      const isRoot = s.parentId === 0n;
      if (isRoot) hasRoot = true;
      const orphan = isRoot || !ids.has(s.parentId);
      if (orphan && (root === undefined || (isRoot && root.parentId !== 0n) || ((root.parentId === 0n) === isRoot && s.start < root.start))) root = s;
    }
    root ??= spans[0]!;
    const tid = root.meta['_dd.p.tid'];
    const summary: TraceSummary = {
      traceId: t.id,
      ...(tid !== undefined && /^[0-9a-f]{16}$/i.test(tid) ? { traceIdHex: tid.toLowerCase() + BigInt(t.id).toString(16).padStart(16, '0') } : {}),
      service: root.service,
      name: root.name,
      resource: root.resource,
      type: root.type,
      ...(typeof root.extra._env === 'string' ? { env: root.extra._env } : root.meta.env !== undefined ? { env: root.meta.env } : {}),
      start: (start ?? 0n).toString(),
      startMs: Number((start ?? 0n) / 1_000_000n),
      duration: Number((end ?? 0n) - (start ?? 0n)),
      spanCount: spans.length,
      errors,
      error: errors > 0,
      services: [...services].sort(),
      hasRoot,
      receivedAt: t.lastReceivedAt,
    };
    t.summary = summary;
    return summary;
  }

  private matches(t: Trace, s: TraceSummary, q: TraceQuery): boolean {
    if (q.since !== undefined && t.lastReceivedAt < q.since) return false;
    if (q.error !== undefined && s.error !== q.error) return false;
    if (q.minDurationMs !== undefined && s.duration < q.minDurationMs * 1e6) return false;
    if (q.env !== undefined && s.env !== q.env) return false;
    if (q.service !== undefined && !s.services.includes(q.service)) return false;
    if (q.text !== undefined && !q.text(`${s.service} ${s.name} ${s.resource}`)) return false;
    if (q.resource !== undefined || q.name !== undefined) {
      const spans = this.spansOfTrace(t);
      if (q.resource !== undefined && !spans.some((x) => x.resource === q.resource)) return false;
      if (q.name !== undefined && !spans.some((x) => x.name === q.name)) return false;
    }
    return true;
  }

  /** Matching traces, newest start first, and how many matched in all. */
  list(q: TraceQuery, limit: number): { total: number; traces: TraceSummary[]; ids: string[] } {
    this.sync();
    const found: TraceSummary[] = [];
    for (const t of this.traces.values()) {
      const s = this.summaryOf(t);
      if (this.matches(t, s, q)) found.push(s);
    }
    found.sort((a, b) => b.startMs - a.startMs || (BigInt(b.start) > BigInt(a.start) ? 1 : -1));
    const traces = found.slice(0, limit);
    return { total: found.length, traces, ids: traces.map((t) => t.traceId) };
  }

  /** One trace by id (see {@link traceKey}), its spans in tree order. */
  get(id: string): TraceDetail | null {
    this.sync();
    const key = traceKey(id);
    if (key === undefined) return null;
    const t = this.traces.get(key);
    if (t === undefined) return null;
    const summary = this.summaryOf(t);
    const spans = [...this.spansOfTrace(t)].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const byId = new Map<bigint, SpanView>();
    for (const s of spans) byId.set(s.spanId, s);
    const children = new Map<bigint, SpanView[]>();
    const roots: SpanView[] = [];
    for (const s of spans) {
      if (s.parentId !== 0n && s.parentId !== s.spanId && byId.has(s.parentId)) {
        let l = children.get(s.parentId);
        if (l === undefined) children.set(s.parentId, (l = []));
        l.push(s);
      } else roots.push(s);
    }
    const start = BigInt(summary.start);
    const out: SpanJson[] = [];
    const seen = new Set<SpanView>();
    const stack: [SpanView, number][] = [];
    for (let i = roots.length - 1; i >= 0; i--) stack.push([roots[i]!, 0]);
    while (stack.length > 0) {
      const [s, depth] = stack.pop()!;
      if (seen.has(s)) continue;
      seen.add(s);
      out.push(spanJson(s, depth, Number(s.start - start)));
      const kids = children.get(s.spanId);
      if (kids !== undefined) for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i]!, depth + 1]);
    }
    // Spans in a parent cycle were never reached from a root.
    for (const s of spans) if (!seen.has(s)) out.push(spanJson(s, 0, Number(s.start - start)));
    return { ...summary, spans: out };
  }

  /** Every service: hits, errors and latency percentiles from the APM stats, or from the held spans. */
  services(): ServiceRow[] {
    this.sync();
    const stats = heldPayloads(this.store, STATS_KIND);
    const key = `${this.version}:${stats.length}:${stats[0]?.seq ?? 0}:${stats[stats.length - 1]?.seq ?? 0}`;
    if (this.servicesCache?.key === key) return this.servicesCache.rows;

    // From the stats.
    const fromStats = new Map<string, { acc: Acc; resources: Map<string, { name: string; acc: Acc }> }>();
    const onGroup = (g: Obj): void => {
      const service = str(pick(g, 'Service', 'service'));
      const resource = str(pick(g, 'Resource', 'resource'));
      const name = str(pick(g, 'Name', 'name'));
      let s = fromStats.get(service);
      if (s === undefined) fromStats.set(service, (s = { acc: newAcc(), resources: new Map() }));
      let r = s.resources.get(`${name}\u0000${resource}`);
      if (r === undefined) s.resources.set(`${name}\u0000${resource}`, (r = { name, acc: newAcc() }));
      for (const a of [s.acc, r.acc]) {
        a.hits += num(pick(g, 'Hits', 'hits'));
        a.errors += num(pick(g, 'Errors', 'errors'));
        a.topLevelHits += num(pick(g, 'TopLevelHits', 'topLevelHits', 'top_level_hits'));
        a.duration += num(pick(g, 'Duration', 'duration'));
        const ok = sketchOf(pick(g, 'OkSummary', 'okSummary', 'ok_summary'));
        if (ok !== null) a.ok.add(ok);
        const err = sketchOf(pick(g, 'ErrorSummary', 'errorSummary', 'error_summary'));
        if (err !== null) a.err.add(err);
      }
    };
    const walk = (v: unknown, depth: number): void => {
      if (depth > 8) return;
      if (Array.isArray(v)) {
        for (const x of v) walk(x, depth);
        return;
      }
      if (!isObj(v)) return;
      if (pick(v, 'Hits', 'hits') !== undefined && pick(v, 'Service', 'service') !== undefined) {
        onGroup(v);
        return;
      }
      const inner = pick(v, 'Stats', 'stats');
      if (Array.isArray(inner)) walk(inner, depth + 1);
    };
    for (const p of stats) walk(p.items, 0);

    // From the spans.
    const spanCounts = new Map<string, { spans: number; traces: Set<string>; top: { dur: number[]; errors: number; resources: Map<string, { name: string; dur: number[]; errors: number }> } }>();
    for (const t of this.traces.values()) {
      const spans = this.spansOfTrace(t);
      const byId = new Map<bigint, SpanView>();
      for (const s of spans) byId.set(s.spanId, s);
      for (const s of spans) {
        let c = spanCounts.get(s.service);
        if (c === undefined) spanCounts.set(s.service, (c = { spans: 0, traces: new Set(), top: { dur: [], errors: 0, resources: new Map() } }));
        c.spans++;
        c.traces.add(t.id);
        if (!isTopLevel(s, byId)) continue;
        c.top.dur.push(s.duration);
        if (s.error !== 0) c.top.errors++;
        const rk = `${s.name}\u0000${s.resource}`;
        let r = c.top.resources.get(rk);
        if (r === undefined) c.top.resources.set(rk, (r = { name: s.name, dur: [], errors: 0 }));
        r.dur.push(s.duration);
        if (s.error !== 0) r.errors++;
      }
    }
    const exact = (dur: number[], errors: number): ServiceFigures => {
      const sorted = [...dur].sort((a, b) => a - b);
      const sum = sorted.reduce((x, y) => x + y, 0);
      return {
        hits: sorted.length,
        errors,
        avgDuration: sorted.length > 0 ? sum / sorted.length : null,
        p50: exactQuantile(sorted, 0.5),
        p75: exactQuantile(sorted, 0.75),
        p95: exactQuantile(sorted, 0.95),
        p99: exactQuantile(sorted, 0.99),
      };
    };
    const rows: ServiceRow[] = [];
    const names = new Set([...fromStats.keys(), ...spanCounts.keys()]);
    for (const service of names) {
      const st = fromStats.get(service);
      const sc = spanCounts.get(service);
      const spansN = sc?.spans ?? 0;
      const tracesN = sc?.traces.size ?? 0;
      if (st !== undefined) {
        const resources = [...st.resources.entries()].map(([k, r]) => ({ resource: k.split('\u0000')[1]!, name: r.name, ...figuresOf(r.acc) }));
        resources.sort((a, b) => b.hits - a.hits);
        rows.push({ service, source: 'stats', spans: spansN, traces: tracesN, ...figuresOf(st.acc), resources });
      } else if (sc !== undefined) {
        const resources = [...sc.top.resources.entries()].map(([k, r]) => ({ resource: k.split('\u0000')[1]!, name: r.name, ...exact(r.dur, r.errors) }));
        resources.sort((a, b) => b.hits - a.hits);
        rows.push({ service, source: 'spans', spans: spansN, traces: tracesN, ...exact(sc.top.dur, sc.top.errors), resources });
      }
    }
    rows.sort((a, b) => b.hits - a.hits || (a.service < b.service ? -1 : 1));
    this.servicesCache = { key, rows };
    return rows;
  }
}
