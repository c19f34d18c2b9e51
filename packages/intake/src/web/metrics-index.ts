import type { Series, SketchPoint, SketchSeries } from '@kennel/core';
import type { IntakeStore, StoredPayload } from '../store/intake-store.js';
import { Ring } from '../store/ring.js';
import { sketchStats, agentSketchQuantile, type SketchStats } from './sketch.js';

/**
 * What the local page knows about metrics: every name held in the store with its contexts (host,
 * device and tag set) and, per context, the payload items that carry its points. Built
 * incrementally from the store's payloads and trimmed as the store drops them, so it holds
 * references into the store, never copies of points.
 */

type MetricKind = 'series_v2' | 'series_v1' | 'sketches';
const METRIC_KINDS: readonly MetricKind[] = ['series_v2', 'series_v1', 'sketches'];

/** The metric types the page shows: the series types, `distribution` for sketches, `histogram` for a group of aggregates. */
export type MetricTypeName = 'gauge' | 'rate' | 'count' | 'distribution' | 'histogram';

/** The stats a distribution point offers to charts. */
export const DISTRIBUTION_STATS = ['p50', 'p75', 'p95', 'p99', 'avg', 'min', 'max', 'sum', 'count'] as const;
export type DistributionStat = (typeof DISTRIBUTION_STATS)[number];

/** The histogram aggregate suffixes of the agent's defaults (`histogram_aggregates`, `histogram_percentiles`). */
export const DEFAULT_HISTOGRAM_SUFFIXES: readonly string[] = ['max', 'median', 'avg', 'count', '95percentile'];

/**
 * The series suffixes a histogram or timing produces for the given `histogram_aggregates` and
 * `histogram_percentiles` (`0.95` → `95percentile`, as the agent names them).
 */
export function histogramSuffixes(aggregates: readonly string[], percentiles: readonly string[]): string[] {
  const out = [...aggregates];
  for (const p of percentiles) {
    const n = Number(p);
    if (Number.isFinite(n) && n > 0 && n < 1) out.push(`${Math.floor(Math.round(n * 1e6) / 1e4)}percentile`);
  }
  return out;
}

interface Ref {
  readonly seq: number;
  readonly receivedAt: number;
  readonly item: Series | SketchSeries;
}

class Context {
  readonly refs = new Ring<Ref>();
  last: Ref;
  readonly key: string;
  readonly host: string;
  readonly device: string;
  readonly tags: readonly string[];
  constructor(key: string, host: string, device: string, tags: readonly string[], first: Ref) {
    this.key = key;
    this.host = host;
    this.device = device;
    this.tags = tags;
    this.last = first;
  }
}

class Metric {
  readonly contexts = new Map<string, Context>();
  readonly name: string;
  type: MetricTypeName;
  lastReceivedAt = 0;
  constructor(name: string, type: MetricTypeName) {
    this.name = name;
    this.type = type;
  }
}

interface PayloadRecord {
  readonly seq: number;
  readonly contexts: Context[];
}

/** Which contexts a query keeps. */
export interface MetricFilter {
  readonly name?: ((name: string) => boolean) | undefined;
  readonly tags?: ((tags: readonly string[]) => boolean) | undefined;
  readonly host?: string | undefined;
}

export interface LatestPoint {
  /** Unix seconds. */
  readonly timestamp: number;
  readonly value: number;
}

export interface MetricSummary {
  readonly name: string;
  readonly type: MetricTypeName;
  /** Contexts that match the query. */
  readonly contexts: number;
  /** When its last payload arrived (ms). */
  readonly lastReceivedAt: number;
  /** The newest point over the matching contexts (series). */
  readonly latest?: LatestPoint;
  /** The lowest and highest latest value over the matching contexts (series). */
  readonly range?: readonly [number, number];
  /** The newest distribution point's summary and percentiles (sketches). */
  readonly stats?: SketchStats & { readonly timestamp: number };
  /** A histogram's aggregates, one series each (`latency.max`, `latency.95percentile`, ...). */
  readonly aggregates?: readonly (Omit<MetricSummary, 'aggregates'> & { readonly stat: string })[];
}

export interface ContextDetail {
  readonly host: string;
  readonly device?: string;
  readonly tags: readonly string[];
  /** Points held for this context (for a histogram: of its first aggregate). */
  readonly points: number;
  readonly lastReceivedAt: number;
  readonly latest?: LatestPoint;
  readonly stats?: SketchStats & { readonly timestamp: number };
  /** A histogram context: the latest value of each aggregate. */
  readonly aggregates?: Readonly<Record<string, LatestPoint>>;
}

export interface MetricDetail {
  readonly name: string;
  readonly type: MetricTypeName;
  /** A histogram's aggregate suffixes, or a distribution's stats: what `stat` can be. */
  readonly stats?: readonly string[];
  /** For a histogram: the series names of its aggregates. */
  readonly members?: readonly string[];
  readonly contextCount: number;
  readonly truncated: boolean;
  readonly contexts: readonly ContextDetail[];
}

export interface MetricPoints {
  readonly name: string;
  readonly type: MetricTypeName;
  readonly stat?: string;
  readonly stats?: readonly string[];
  readonly contextCount: number;
  /** More contexts matched than `maxContexts`: the ones with the highest latest value are given. */
  readonly truncated: boolean;
  readonly contexts: readonly {
    readonly host: string;
    readonly device?: string;
    readonly tags: readonly string[];
    /** `[unix seconds, value]`, oldest first, one per timestamp. */
    readonly points: readonly (readonly [number, number])[];
  }[];
}

function isSketch(item: Series | SketchSeries): item is SketchSeries {
  return !('type' in item);
}

function lastPointOf(item: Series): LatestPoint | undefined {
  let best: LatestPoint | undefined;
  for (const p of item.points) if (best === undefined || p.timestamp >= best.timestamp) best = p;
  return best;
}

function lastSketchPointOf(item: SketchSeries): SketchPoint | undefined {
  let best: SketchPoint | undefined;
  for (const p of item.points) if (best === undefined || p.timestamp >= best.timestamp) best = p;
  return best;
}

function sketchStat(p: SketchPoint, stat: string): number {
  switch (stat) {
    case 'p50':
      return agentSketchQuantile(p, 0.5);
    case 'p75':
      return agentSketchQuantile(p, 0.75);
    case 'p95':
      return agentSketchQuantile(p, 0.95);
    case 'p99':
      return agentSketchQuantile(p, 0.99);
    case 'min':
      return p.min;
    case 'max':
      return p.max;
    case 'sum':
      return p.sum;
    case 'count':
      return p.count;
    default:
      return p.avg;
  }
}

function contextMatches(c: Context, f: MetricFilter): boolean {
  if (f.host !== undefined && c.host !== f.host) return false;
  if (f.tags !== undefined && !f.tags(c.tags)) return false;
  return true;
}

/** A context's identity without its payload kind, to line up a histogram's aggregates. */
function identity(c: Context): string {
  return `${c.host}\u0000${c.device}\u0000${c.tags.join('\u0000')}`;
}

export class MetricsIndex {
  private readonly metrics = new Map<string, Metric>();
  private readonly records = new Map<MetricKind, Ring<PayloadRecord>>();
  private readonly lastSeq = new Map<MetricKind, number>();
  private readonly suffixes: ReadonlySet<string>;
  private readonly store: IntakeStore;

  constructor(store: IntakeStore, options: { readonly histogramSuffixes?: readonly string[] } = {}) {
    this.store = store;
    this.suffixes = new Set(options.histogramSuffixes ?? DEFAULT_HISTOGRAM_SUFFIXES);
    for (const k of METRIC_KINDS) {
      this.records.set(k, new Ring());
      this.lastSeq.set(k, 0);
    }
  }

  /** Takes in what arrived and lets go of what the store dropped. */
  sync(): void {
    for (const kind of METRIC_KINDS) {
      const held = this.store.payloads(kind) as StoredPayload<MetricKind>[];
      const oldest = held.length > 0 ? held[0]!.seq : Infinity;
      const recs = this.records.get(kind)!;
      for (let r = recs.peek(); r !== undefined && r.seq < oldest; r = recs.peek()) this.trim(recs.shift()!);
      let last = this.lastSeq.get(kind)!;
      for (const p of held) {
        if (p.seq <= last) continue;
        recs.push(this.take(kind, p));
        last = p.seq;
      }
      this.lastSeq.set(kind, last);
    }
  }

  /** Metric names held. */
  get size(): number {
    return this.metrics.size;
  }

  private take(kind: MetricKind, p: StoredPayload<MetricKind>): PayloadRecord {
    const rec: PayloadRecord = { seq: p.seq, contexts: [] };
    for (const item of p.items as readonly (Series | SketchSeries)[]) {
      const type: MetricTypeName = isSketch(item) ? 'distribution' : item.type;
      let m = this.metrics.get(item.name);
      if (m === undefined) {
        m = new Metric(item.name, type);
        this.metrics.set(item.name, m);
      }
      m.type = type;
      m.lastReceivedAt = p.receivedAt;
      const device = isSketch(item) ? '' : (item.device ?? '');
      const tags = [...new Set(item.tags)].sort();
      const key = `${kind}\u0000${item.host}\u0000${device}\u0000${tags.join('\u0000')}`;
      const ref: Ref = { seq: p.seq, receivedAt: p.receivedAt, item };
      let c = m.contexts.get(key);
      if (c === undefined) {
        c = new Context(key, item.host, device, tags, ref);
        m.contexts.set(key, c);
      }
      c.refs.push(ref);
      c.last = ref;
      rec.contexts.push(c);
    }
    return rec;
  }

  private trim(rec: PayloadRecord): void {
    for (const c of rec.contexts) {
      c.refs.shift();
      if (c.refs.size > 0) continue;
      const name = c.last.item.name;
      const m = this.metrics.get(name);
      if (m === undefined) continue;
      m.contexts.delete(c.key);
      if (m.contexts.size === 0) this.metrics.delete(name);
    }
  }

  /** Histogram groups: base name → suffix → series metric, for bases with two aggregates or more. */
  private histograms(): Map<string, Map<string, Metric>> {
    const groups = new Map<string, Map<string, Metric>>();
    for (const m of this.metrics.values()) {
      if (m.type === 'distribution') continue;
      const dot = m.name.lastIndexOf('.');
      if (dot <= 0) continue;
      const suffix = m.name.slice(dot + 1);
      if (!this.suffixes.has(suffix)) continue;
      const base = m.name.slice(0, dot);
      if (this.metrics.has(base)) continue;
      let g = groups.get(base);
      if (g === undefined) groups.set(base, (g = new Map()));
      g.set(suffix, m);
    }
    for (const [base, g] of groups) if (g.size < 2) groups.delete(base);
    return groups;
  }

  private orderedSuffixes(g: Map<string, Metric>): string[] {
    const order = [...this.suffixes];
    return [...g.keys()].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  }

  private summarize(m: Metric, f: MetricFilter): MetricSummary | null {
    let n = 0;
    let latest: LatestPoint | undefined;
    let lo = Infinity;
    let hi = -Infinity;
    let newest: (SketchPoint & { readonly at: number }) | undefined;
    for (const c of m.contexts.values()) {
      if (!contextMatches(c, f)) continue;
      n++;
      const item = c.last.item;
      if (isSketch(item)) {
        const p = lastSketchPointOf(item);
        if (p !== undefined && (newest === undefined || p.timestamp > newest.timestamp)) newest = { ...p, at: c.last.receivedAt };
      } else {
        const p = lastPointOf(item);
        if (p === undefined) continue;
        if (latest === undefined || p.timestamp > latest.timestamp) latest = p;
        if (p.value < lo) lo = p.value;
        if (p.value > hi) hi = p.value;
      }
    }
    if (n === 0) return null;
    return {
      name: m.name,
      type: m.type,
      contexts: n,
      lastReceivedAt: m.lastReceivedAt,
      ...(latest !== undefined ? { latest: { timestamp: latest.timestamp, value: latest.value }, range: [lo, hi] as const } : {}),
      ...(newest !== undefined ? { stats: { timestamp: newest.timestamp, ...sketchStats(newest) } } : {}),
    };
  }

  /**
   * Every metric with a context that matches, by name; histogram aggregates grouped under their
   * base name unless `flat`.
   */
  list(f: MetricFilter, options: { readonly flat?: boolean } = {}): MetricSummary[] {
    this.sync();
    const out: MetricSummary[] = [];
    const grouped = new Set<Metric>();
    if (options.flat !== true) {
      for (const [base, g] of this.histograms()) {
        const members = this.orderedSuffixes(g);
        const nameOk = f.name === undefined || f.name(base) || members.some((s) => f.name!(g.get(s)!.name));
        for (const s of members) grouped.add(g.get(s)!);
        if (!nameOk) continue;
        const aggs: (Omit<MetricSummary, 'aggregates'> & { stat: string })[] = [];
        for (const s of members) {
          const sm = this.summarize(g.get(s)!, { ...f, name: undefined });
          if (sm !== null) aggs.push({ ...sm, stat: s });
        }
        if (aggs.length === 0) continue;
        out.push({
          name: base,
          type: 'histogram',
          contexts: Math.max(...aggs.map((a) => a.contexts)),
          lastReceivedAt: Math.max(...aggs.map((a) => a.lastReceivedAt)),
          aggregates: aggs,
        });
      }
    }
    for (const m of this.metrics.values()) {
      if (grouped.has(m)) continue;
      if (f.name !== undefined && !f.name(m.name)) continue;
      const s = this.summarize(m, f);
      if (s !== null) out.push(s);
    }
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return out;
  }

  /** Names and types only, for a quick "is it there" check. */
  names(): { name: string; type: MetricTypeName }[] {
    this.sync();
    return [...this.metrics.values()].map((m) => ({ name: m.name, type: m.type }));
  }

  /** One metric (or histogram base name) with its matching contexts and their latest values. */
  detail(name: string, f: MetricFilter, limit: number): MetricDetail | null {
    this.sync();
    const m = this.metrics.get(name);
    if (m !== undefined) {
      const ctxs = [...m.contexts.values()].filter((c) => contextMatches(c, f));
      if (ctxs.length === 0 && (f.tags !== undefined || f.host !== undefined)) return { name, type: m.type, contextCount: 0, truncated: false, contexts: [] };
      // Rank every context by its latest value (p50 for sketches), then describe the first `limit`.
      const ranked = ctxs.map((c) => [latestRank(c), c] as const);
      ranked.sort((a, b) => b[0] - a[0]);
      return {
        name,
        type: m.type,
        ...(m.type === 'distribution' ? { stats: DISTRIBUTION_STATS } : {}),
        contextCount: ctxs.length,
        truncated: ctxs.length > limit,
        contexts: ranked.slice(0, limit).map((r) => this.contextDetail(r[1])),
      };
    }
    const g = this.histograms().get(name);
    if (g === undefined) return null;
    const suffixes = this.orderedSuffixes(g);
    const byId = new Map<string, { host: string; device: string; tags: readonly string[]; points: number; lastReceivedAt: number; aggregates: Record<string, LatestPoint> }>();
    for (const s of suffixes) {
      for (const c of g.get(s)!.contexts.values()) {
        if (!contextMatches(c, f)) continue;
        const id = identity(c);
        let row = byId.get(id);
        if (row === undefined) byId.set(id, (row = { host: c.host, device: c.device, tags: c.tags, points: 0, lastReceivedAt: 0, aggregates: {} }));
        const p = lastPointOf(c.last.item as Series);
        if (p !== undefined) row.aggregates[s] = { timestamp: p.timestamp, value: p.value };
        row.points = Math.max(row.points, pointsHeld(c));
        row.lastReceivedAt = Math.max(row.lastReceivedAt, c.last.receivedAt);
      }
    }
    const rank = suffixes.includes('max') ? 'max' : suffixes[0]!;
    const rows: ContextDetail[] = [...byId.values()].map((r) => ({
      host: r.host,
      ...(r.device !== '' ? { device: r.device } : {}),
      tags: r.tags,
      points: r.points,
      lastReceivedAt: r.lastReceivedAt,
      aggregates: r.aggregates,
    }));
    rows.sort((a, b) => (b.aggregates?.[rank]?.value ?? -Infinity) - (a.aggregates?.[rank]?.value ?? -Infinity));
    return {
      name,
      type: 'histogram',
      stats: suffixes,
      members: suffixes.map((s) => g.get(s)!.name),
      contextCount: rows.length,
      truncated: rows.length > limit,
      contexts: rows.slice(0, limit),
    };
  }

  private contextDetail(c: Context): ContextDetail {
    const item = c.last.item;
    const base = { host: c.host, ...(c.device !== '' ? { device: c.device } : {}), tags: c.tags, points: pointsHeld(c), lastReceivedAt: c.last.receivedAt };
    if (isSketch(item)) {
      const p = lastSketchPointOf(item);
      return p === undefined ? base : { ...base, stats: { timestamp: p.timestamp, ...sketchStats(p) } };
    }
    const p = lastPointOf(item);
    return p === undefined ? base : { ...base, latest: { timestamp: p.timestamp, value: p.value } };
  }

  /**
   * The points of a metric's matching contexts, one line per context. A distribution gives the
   * `stat` asked for (`p50` by default), a histogram base name its aggregate `stat` (`avg` when
   * it has one). Past `maxContexts`, the contexts with the highest latest value are kept.
   */
  points(name: string, f: MetricFilter, options: { readonly stat?: string | undefined; readonly since?: number | undefined; readonly maxContexts: number }): MetricPoints | null {
    this.sync();
    let m = this.metrics.get(name);
    let type: MetricTypeName | undefined = m?.type;
    let stat: string | undefined;
    let stats: readonly string[] | undefined;
    if (m === undefined) {
      const g = this.histograms().get(name);
      if (g === undefined) return null;
      stats = this.orderedSuffixes(g);
      stat = options.stat !== undefined && g.has(options.stat) ? options.stat : g.has('avg') ? 'avg' : stats[0]!;
      m = g.get(stat)!;
      type = 'histogram';
    } else if (m.type === 'distribution') {
      stats = DISTRIBUTION_STATS;
      stat = options.stat !== undefined && (DISTRIBUTION_STATS as readonly string[]).includes(options.stat) ? options.stat : 'p50';
    }
    const ctxs = [...m.contexts.values()].filter((c) => contextMatches(c, f));
    const latestOf = (c: Context): number => {
      const item = c.last.item;
      if (isSketch(item)) {
        const p = lastSketchPointOf(item);
        return p === undefined ? -Infinity : sketchStat(p, stat ?? 'p50');
      }
      return lastPointOf(item)?.value ?? -Infinity;
    };
    let chosen = ctxs;
    if (ctxs.length > options.maxContexts) {
      const ranked = ctxs.map((c) => [latestOf(c), c] as const);
      ranked.sort((a, b) => b[0] - a[0]);
      chosen = ranked.slice(0, options.maxContexts).map((r) => r[1]);
    }
    const since = options.since;
    const lines = chosen.map((c) => {
      const byTs = new Map<number, number>();
      for (const ref of c.refs) {
        const item = ref.item;
        if (isSketch(item)) {
          for (const p of item.points) if (since === undefined || p.timestamp >= since) byTs.set(p.timestamp, sketchStat(p, stat ?? 'p50'));
        } else {
          for (const p of item.points) if (since === undefined || p.timestamp >= since) byTs.set(p.timestamp, p.value);
        }
      }
      const points = [...byTs.entries()].sort((a, b) => a[0] - b[0]) as [number, number][];
      return { host: c.host, ...(c.device !== '' ? { device: c.device } : {}), tags: c.tags, points };
    });
    return {
      name,
      type: type!,
      ...(stat !== undefined ? { stat } : {}),
      ...(stats !== undefined ? { stats } : {}),
      contextCount: ctxs.length,
      truncated: ctxs.length > chosen.length,
      contexts: lines,
    };
  }
}

function pointsHeld(c: Context): number {
  let n = 0;
  for (const r of c.refs) n += r.item.points.length;
  return n;
}

function latestRank(c: Context): number {
  const item = c.last.item;
  if (isSketch(item)) {
    const p = lastSketchPointOf(item);
    return p === undefined ? -Infinity : agentSketchQuantile(p, 0.5);
  }
  return lastPointOf(item)?.value ?? -Infinity;
}
