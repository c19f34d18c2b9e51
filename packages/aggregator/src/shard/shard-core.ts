import { CounterSet, MetricType, StringInterner } from '@kennel/core';
import type { Series, SeriesPoint, SketchPoint, SketchSeries } from '@kennel/core';
import type { ResolvedAggregatorConfig } from '../config.js';
import { AgentSketch } from '../sketch/agent-sketch.js';
import {
  F64_PER_SAMPLE,
  F_ARRIVAL,
  F_RATE,
  F_TIMESTAMP,
  F_VALUE,
  INTS_PER_SAMPLE,
  I_BYTES,
  I_KEY_HI,
  I_KEY_LO,
  I_NAME_LEN,
  I_TAGS_LEN,
  I_TYPE,
} from '../wire/sample-batch.js';
import { KEY_IN_SHARD, batchViews } from '../wire/sample-batch.js';
import { nativeKeyBatch } from '@kennel/native/context-key';
import type { KeyBatch } from '@kennel/native/context-key';
import { ContextKeyer } from '../context-keyer.js';
import type { SampleBatchData } from '../wire/sample-batch.js';
import { ContextTable } from './context-table.js';
import { SeriesWireWriter, TYPE_CODE } from '../wire/series-wire.js';
import type { SeriesWire } from '../wire/series-wire.js';
import { HistogramOut, HistogramState, flushHistogram, histogramSuffixes } from './histogram.js';

/** A shard's counters; the aggregator sums them over shards for `kennel status`. */
export const SHARD_COUNTERS = [
  'DogstatsdMetricSample',
  'DogstatsdContexts',
  'ContextsCreated',
  'ContextsExpired',
  'ContextsDropped',
  'NonFiniteSamplesDropped',
  'SeriesFlushed',
  'SketchesFlushed',
  'NumberOfFlush',
  'NoAggregationProcessedOk',
  'NoAggregationProcessedUnsupportedType',
] as const;
export type ShardCounterName = (typeof SHARD_COUNTERS)[number];

/** What one flush of a shard produces. */
export interface FlushResult {
  readonly series: Series[];
  readonly sketches: SketchSeries[];
  readonly counters: Record<ShardCounterName, number>;
}

/** What {@link ShardCore.flushWire} produces: the series flat (see `SeriesWire`). */
export interface WireFlush {
  readonly wire: SeriesWire;
  readonly sketches: SketchSeries[];
  readonly counters: Record<ShardCounterName, number>;
}

/**
 * A flush's series before they are written flat: one slot per (context, suffix, type), in the
 * order first met (the order `flush` makes its objects in), points chained in arrival order.
 */
class FlatSeries {
  private readonly slotOf = new Map<number, number>();
  n = 0;
  ctx = new Int32Array(1024);
  suffix = new Int8Array(1024);
  rate = new Uint8Array(1024);
  first = new Int32Array(1024);
  last = new Int32Array(1024);
  points = new Int32Array(1024);
  np = 0;
  ts = new Float64Array(1024);
  val = new Float64Array(1024);
  next = new Int32Array(1024);

  reset(): void {
    this.slotOf.clear();
    this.n = 0;
    this.np = 0;
  }

  add(key: number, id: number, suffix: number, rate: boolean, ts: number, value: number): void {
    let slot = this.slotOf.get(key);
    if (slot === undefined) {
      slot = this.n++;
      if (slot === this.ctx.length) this.growSlots();
      this.slotOf.set(key, slot);
      this.ctx[slot] = id;
      this.suffix[slot] = suffix;
      this.rate[slot] = rate ? 1 : 0;
      this.first[slot] = -1;
      this.points[slot] = 0;
    }
    const p = this.np++;
    if (p === this.ts.length) this.growPoints();
    this.ts[p] = ts;
    this.val[p] = value;
    this.next[p] = -1;
    if (this.first[slot] === -1) this.first[slot] = p;
    else this.next[this.last[slot]!] = p;
    this.last[slot] = p;
    this.points[slot]!++;
  }

  private growSlots(): void {
    const n = this.ctx.length * 2;
    const grow = <T extends Int32Array | Int8Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.ctx = grow(this.ctx, (k) => new Int32Array(k));
    this.suffix = grow(this.suffix, (k) => new Int8Array(k));
    this.rate = grow(this.rate, (k) => new Uint8Array(k));
    this.first = grow(this.first, (k) => new Int32Array(k));
    this.last = grow(this.last, (k) => new Int32Array(k));
    this.points = grow(this.points, (k) => new Int32Array(k));
  }

  private growPoints(): void {
    const n = this.ts.length * 2;
    const ts = new Float64Array(n);
    ts.set(this.ts);
    this.ts = ts;
    const val = new Float64Array(n);
    val.set(this.val);
    this.val = val;
    const next = new Int32Array(n);
    next.set(this.next);
    this.next = next;
  }
}

const KIND_GAUGE = 0;
const KIND_COUNTER = 1;
const KIND_HISTOGRAM = 2;
const KIND_SET = 4;

const COMMA = 0x2c;
const EMPTY: readonly string[] = Object.freeze([]);
const ORIGIN = Object.freeze({ product: 10, category: 10, service: 0 });

/** A series being built by a flush: its points grow as buckets are emitted. */
interface MutableSeries extends Series {
  readonly points: SeriesPoint[];
}

/**
 * One bucket's per-context state, struct-of-arrays: `slotOf[ctx]` is the context's slot, and a
 * slot holds the metric kind the first sample created (the agent's `ContextMetrics`: the type
 * is not part of the key, so later samples of another type join the first one's metric).
 */
class Bucket {
  readonly start: number;
  slotOf: Int32Array;
  n = 0;
  ctxOfSlot = new Int32Array(64);
  kind = new Uint8Array(64);
  value = new Float64Array(64);
  aux: (HistogramState | Set<number> | null)[] = [];
  sketches: Map<number, AgentSketch> | null = null;

  constructor(start: number, contextCapacity: number) {
    this.start = start;
    this.slotOf = new Int32Array(contextCapacity).fill(-1);
  }

  slot(ctx: number, kind: number): number {
    let s = this.slotOf[ctx]!;
    if (s >= 0) return s;
    s = this.n++;
    if (s === this.ctxOfSlot.length) {
      const c = new Int32Array(s * 2);
      c.set(this.ctxOfSlot);
      this.ctxOfSlot = c;
      const k = new Uint8Array(s * 2);
      k.set(this.kind);
      this.kind = k;
      const v = new Float64Array(s * 2);
      v.set(this.value);
      this.value = v;
    }
    this.slotOf[ctx] = s;
    this.ctxOfSlot[s] = ctx;
    this.kind[s] = kind;
    this.value[s] = 0;
    this.aux[s] = kind === KIND_HISTOGRAM ? new HistogramState() : kind === KIND_SET ? new Set<number>() : null;
    return s;
  }

  /** Forgets the metrics (kept sketches wait for their own flush). */
  clearMetrics(): void {
    this.slotOf.fill(-1);
    this.n = 0;
    this.aux = [];
  }

  growContexts(capacity: number): void {
    const s = new Int32Array(capacity).fill(-1);
    s.set(this.slotOf);
    this.slotOf = s;
  }
}

function kindOf(type: number): number {
  switch (type) {
    case MetricType.GAUGE:
      return KIND_GAUGE;
    case MetricType.COUNTER:
      return KIND_COUNTER;
    case MetricType.SET:
      return KIND_SET;
    default:
      return KIND_HISTOGRAM; // histogram and timing
  }
}

/** How a shard keys the samples the router left to it. */
export interface ShardCoreOptions {
  /**
   * The batch keyer: `@kennel/native`'s `keyBatch` (the default, when the addon is loaded), or
   * `null` to key each sample with the JavaScript `ContextKeyer`. Both give the same keys.
   */
  readonly keyBatch?: KeyBatch | null;
}

/**
 * The single-writer state of one shard: contexts, 10 s buckets by arrival time, and flushing as
 * the agent's time sampler does (`pkg/aggregator/time_sampler.go`, Apache-2.0, Datadog).
 *
 * @remarks
 * Runs in its shard's worker thread (see `shard/worker.ts`), or in the caller's thread for tests
 * and single-threaded use. Nothing here is shared: batches are moved in, results moved out.
 */
export class ShardCore {
  readonly counters = new CounterSet<ShardCounterName>('aggregator', SHARD_COUNTERS);
  private readonly cfg: ResolvedAggregatorConfig;
  private readonly table = new ContextTable(1024);
  private readonly interner: StringInterner;
  private capacity = 1024;
  private keyLo = new Uint32Array(1024);
  private keyHi = new Uint32Array(1024);
  private lastSeen = new Float64Array(1024);
  /** Arrival time of the last counter sample, or NaN when the context is not a tracked counter. */
  private counterLast = new Float64Array(1024).fill(NaN);
  private live = new Uint8Array(1024);
  private names: string[] = [];
  private hosts: string[] = [];
  private tags: (readonly string[])[] = [];
  private readonly freeIds: number[] = [];
  private nextId = 0;
  private readonly buckets = new Map<number, Bucket>();
  /** The bucket the last sample went to (samples arrive in time order). */
  private current: Bucket | null = null;
  private lastCutoff = 0;
  /** The cutoff of the flush in progress, kept as `lastCutoff` once it ends. */
  private pendingCutoff = 0;
  /** Where a flush's points go: series objects (`flush`), or, when null, `flat` (`flushWire`). */
  private objectOut: Map<number, MutableSeries> | null = null;
  private readonly flat = new FlatSeries();
  private timestamped: Series[] = [];
  private readonly c: Float64Array;
  private readonly extraTags: readonly string[];
  private readonly hist = new HistogramOut();
  private readonly keyer: ContextKeyer;
  /** The native batch keyer and the batch layout it reads, or null: key in JavaScript. */
  private readonly keyBatch: KeyBatch | null;
  private readonly keyLayout: Uint32Array;
  private readonly suffixes: readonly string[];

  constructor(cfg: ResolvedAggregatorConfig, options: ShardCoreOptions = {}) {
    this.cfg = cfg;
    this.interner = new StringInterner({ maxEntries: cfg.internerSize, maxBytes: Math.max(1 << 20, cfg.internerSize * 64) });
    this.c = this.counters.values;
    this.extraTags = cfg.extraTags;
    this.suffixes = histogramSuffixes(cfg.histogramAggregates, cfg.histogramPercentiles);
    this.keyer = new ContextKeyer(cfg.defaultHost);
    this.keyBatch = options.keyBatch !== undefined ? options.keyBatch : nativeKeyBatch();
    const host = this.keyer.defaultHostKey;
    this.keyLayout = Uint32Array.of(INTS_PER_SAMPLE, I_KEY_LO, I_KEY_HI, I_TYPE, I_BYTES, I_NAME_LEN, I_TAGS_LEN, KEY_IN_SHARD, host.lo, host.hi);
    if (this.suffixes.length >= 63) throw new RangeError('at most 62 histogram aggregates and percentiles');
  }

  /** Number of live contexts. */
  get contextCount(): number {
    return this.table.size;
  }

  /** Whether this shard keys batches natively (`@kennel/native`'s `keyBatch`). */
  get nativeKeys(): boolean {
    return this.keyBatch !== null;
  }

  /** Applies a batch of samples (see `wire/sample-batch.ts`). */
  ingest(batch: SampleBatchData): void {
    const { ints, f64, bytes } = batchViews(batch);
    // The samples the router left unkeyed, keyed in one native call: the flag is cleared on each,
    // so the loop below keys nothing in JavaScript (measured in shard-ingest: keying was two thirds of
    // the shard's time).
    if (this.keyBatch !== null) this.keyBatch(bytes, ints, batch.count, this.keyLayout);
    const keyer = this.keyer;
    let keyedOff = -1;
    for (let k = 0; k < batch.count; k++) {
      const i = k * INTS_PER_SAMPLE;
      const f = k * F64_PER_SAMPLE;
      const off = ints[i + I_BYTES]!;
      const nameLen = ints[i + I_NAME_LEN]!;
      let type = ints[i + I_TYPE]!;
      let lo = ints[i + I_KEY_LO]!;
      let hi = ints[i + I_KEY_HI]!;
      if ((type & KEY_IN_SHARD) !== 0) {
        type &= ~KEY_IN_SHARD;
        // The values of a multi-value line share their bytes, and so their key.
        if (off !== keyedOff) {
          keyer.fromRawTags(bytes, off, nameLen, off + nameLen, ints[i + I_TAGS_LEN]!);
          keyedOff = off;
        }
        lo = keyer.lo;
        hi = keyer.hi;
      }
      this.addSample(
        lo,
        hi,
        type,
        f64[f + F_VALUE]!,
        f64[f + F_RATE]!,
        f64[f + F_TIMESTAMP]!,
        f64[f + F_ARRIVAL]!,
        bytes,
        off,
        nameLen,
        off + nameLen,
        ints[i + I_TAGS_LEN]!,
      );
    }
  }

  /**
   * Applies one sample. `bytes[nameOff, +nameLen)` is the name and `bytes[tagsOff, +tagsLen)` the
   * raw tag list; they are read only when the context is new. For sets, `value` is the member's
   * hash.
   */
  addSample(
    lo: number,
    hi: number,
    type: number,
    value: number,
    rate: number,
    ts: number,
    arrival: number,
    bytes: Uint8Array,
    nameOff: number,
    nameLen: number,
    tagsOff: number,
    tagsLen: number,
  ): void {
    const c = this.c;
    c[0]!++; // DogstatsdMetricSample
    // The agent refuses NaN and ±Inf samples (context_metrics.go AddSample, sketch_map.go insert).
    if (value !== value || value === Infinity || value === -Infinity) {
      c[5]!++;
      return;
    }
    if (ts > 0) {
      this.noAggregation(type, value, ts, bytes, nameOff, nameLen, tagsOff, tagsLen);
      return;
    }
    let id = this.table.get(lo, hi);
    if (id < 0) {
      if (this.table.size >= this.cfg.contextLimit) {
        c[4]!++; // ContextsDropped
        return;
      }
      id = this.createContext(lo, hi, bytes, nameOff, nameLen, tagsOff, tagsLen);
    }
    this.lastSeen[id] = arrival;
    const at = Math.trunc(arrival);
    const start = at - (at % this.cfg.bucketSeconds);
    let bucket = this.current;
    if (bucket === null || bucket.start !== start) bucket = this.current = this.bucketAt(start);
    if (type === MetricType.DISTRIBUTION) {
      let m = bucket.sketches;
      if (m === null) m = bucket.sketches = new Map();
      let sk = m.get(id);
      if (sk === undefined) {
        sk = new AgentSketch();
        m.set(id, sk);
      }
      sk.insert(value, rate);
      return;
    }
    if (type === MetricType.COUNTER) this.counterLast[id] = arrival;
    const s = bucket.slot(id, kindOf(type));
    this.addToSlot(bucket, s, type, value, rate);
  }

  private addToSlot(bucket: Bucket, s: number, type: number, value: number, rate: number): void {
    switch (bucket.kind[s]) {
      case KIND_COUNTER:
        // A set sample carries a member hash, not a number: it adds 0 to another kind's metric.
        bucket.value[s]! += (type === MetricType.SET ? 0 : value) * (1 / rate);
        break;
      case KIND_GAUGE:
        bucket.value[s] = type === MetricType.SET ? 0 : value;
        break;
      case KIND_HISTOGRAM:
        (bucket.aux[s] as HistogramState).add(type === MetricType.SET ? 0 : value, rate);
        break;
      case KIND_SET:
        (bucket.aux[s] as Set<number>).add(value);
        break;
    }
  }

  private deleteBucket(start: number): void {
    if (this.current !== null && this.current.start === start) this.current = null;
    this.buckets.delete(start);
  }

  private bucketAt(start: number): Bucket {
    let b = this.buckets.get(start);
    if (b === undefined) {
      b = new Bucket(start, this.capacity);
      this.buckets.set(start, b);
    }
    return b;
  }

  private createContext(lo: number, hi: number, bytes: Uint8Array, off: number, nameLen: number, tagsOff: number, tagsLen: number): number {
    let id = this.freeIds.pop();
    if (id === undefined) {
      id = this.nextId++;
      if (id >= this.capacity) this.grow();
    }
    this.table.set(lo, hi, id);
    this.keyLo[id] = lo;
    this.keyHi[id] = hi;
    this.counterLast[id] = NaN;
    this.live[id] = 1;
    const name = this.interner.intern(bytes, off, off + nameLen);
    const { host, tags } = this.contextTags(bytes, tagsOff, tagsOff + tagsLen);
    this.names[id] = name;
    this.hosts[id] = host;
    this.tags[id] = tags;
    this.c[2]!++; // ContextsCreated
    this.c[1] = this.table.size;
    return id;
  }

  /**
   * The context's host and tags from the raw tag list: the last `host:` tag sets the host and is
   * removed (`enrich.go extractTagsMetadata`), `dd.internal.entity_id:`, `dd.internal.card:` and
   * `dd.internal.jmx_check_name:` are removed, the extra tags are appended, and duplicates go
   * (the agent de-duplicates a context's tags when it builds the key).
   */
  private contextTags(bytes: Uint8Array, s: number, e: number): { host: string; tags: readonly string[] } {
    let host = this.cfg.defaultHost;
    const out: string[] = [];
    if (e > s) {
      let ts = s;
      for (let j = s; j <= e; j++) {
        if (j < e && bytes[j] !== COMMA) continue;
        const t = this.interner.intern(bytes, ts, j);
        ts = j + 1;
        if (t.startsWith('host:')) {
          host = t.slice(5);
          continue;
        }
        if (
          t.startsWith('dd.internal.entity_id:') ||
          t.startsWith('dd.internal.card:') ||
          t.startsWith('dd.internal.jmx_check_name:')
        ) {
          continue;
        }
        out.push(t);
      }
    }
    for (const t of this.extraTags) out.push(t);
    if (out.length === 0) return { host, tags: EMPTY };
    return { host, tags: Object.freeze(out.length > 1 ? [...new Set(out)] : out) };
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const grow32 = (a: Uint32Array) => {
      const n = new Uint32Array(cap);
      n.set(a);
      return n;
    };
    this.keyLo = grow32(this.keyLo);
    this.keyHi = grow32(this.keyHi);
    const ls = new Float64Array(cap);
    ls.set(this.lastSeen);
    this.lastSeen = ls;
    const cl = new Float64Array(cap).fill(NaN);
    cl.set(this.counterLast);
    this.counterLast = cl;
    const lv = new Uint8Array(cap);
    lv.set(this.live);
    this.live = lv;
    for (const b of this.buckets.values()) b.growContexts(cap);
    this.capacity = cap;
  }

  /** Timestamped gauge/count samples skip the buckets (`no_aggregation_stream_worker.go`). */
  private noAggregation(type: number, value: number, ts: number, bytes: Uint8Array, off: number, nameLen: number, tagsOff: number, tagsLen: number): void {
    if (type !== MetricType.GAUGE && type !== MetricType.COUNTER) {
      this.c[10]!++; // NoAggregationProcessedUnsupportedType
      return;
    }
    this.c[9]!++;
    const name = this.interner.intern(bytes, off, off + nameLen);
    const { host, tags } = this.contextTags(bytes, tagsOff, tagsOff + tagsLen);
    const counter = type === MetricType.COUNTER;
    this.timestamped.push({
      name,
      host,
      tags,
      type: counter ? 'rate' : 'gauge',
      interval: 10,
      points: [{ timestamp: ts, value: counter ? value / 10 : value }],
      origin: ORIGIN,
    });
  }

  /** The cutoff of a flush at `now`: the current bucket boundary, or past every bucket when final. */
  cutoffAt(now: number, final: boolean): number {
    const nowInt = Math.trunc(now);
    return final ? Infinity : nowInt - (nowInt % this.cfg.bucketSeconds);
  }

  /**
   * Phase one of a flush: the starts of this shard's closed metric buckets (not distributions:
   * the agent keeps sketches in a separate map) and whether it holds any metric bucket at all.
   * The aggregator unions these over shards so that every shard zero-fills counters into the
   * same buckets a single time sampler would.
   */
  pendingBuckets(now: number, final: boolean): { closed: number[]; any: boolean } {
    const cutoff = this.cutoffAt(now, final);
    const closed: number[] = [];
    let any = false;
    for (const [start, b] of this.buckets) {
      if (b.n === 0) continue;
      any = true;
      if (start + this.cfg.bucketSeconds <= cutoff) closed.push(start);
    }
    return { closed, any };
  }

  /**
   * Flushes as the agent's `TimeSampler.flush` does: every closed metric bucket (start + 10 ≤ the
   * current bucket boundary, or every bucket with `final`), counters zero-filled into each; when
   * there is no metric bucket at all, one zero-filled bucket for the last closed interval; then
   * the closed sketches, then context expiry. `now` is Unix seconds. `pending` is the union of
   * every shard's `pendingBuckets` (this shard's own when omitted).
   */
  flush(now: number, final = false, pending?: { closed: readonly number[]; any: boolean }): FlushResult {
    const seriesByKey = new Map<number, MutableSeries>();
    this.objectOut = seriesByKey;
    let sketches: SketchSeries[];
    try {
      sketches = this.flushBuckets(now, final, pending);
    } finally {
      this.objectOut = null;
    }
    const series: Series[] = this.timestamped;
    this.timestamped = [];
    for (const s of seriesByKey.values()) series.push(s);
    this.endFlush(now, final, series.length, sketches.length);
    return { series, sketches, counters: this.counters.snapshot() };
  }

  /**
   * {@link ShardCore.flush}, the series written straight into their flat form (the same series
   * in the same order, see `SeriesWire`), without making an object for any of them: what a
   * worker shard posts to the main thread.
   */
  flushWire(now: number, final = false, pending?: { closed: readonly number[]; any: boolean }): WireFlush {
    const flat = this.flat;
    flat.reset();
    const sketches = this.flushBuckets(now, final, pending);
    const w = new SeriesWireWriter();
    w.reserve(flat.n * 7 + flat.np * 2);
    for (const s of this.timestamped) w.add(s);
    const count = this.timestamped.length + flat.n;
    this.timestamped = [];
    const interval = this.cfg.bucketSeconds;
    // Each context's name, host and tag list go in once, whatever its number of series (histograms have several).
    const known = new Int32Array(this.nextId * 3).fill(-1);
    for (let i = 0; i < flat.n; i++) {
      const id = flat.ctx[i]!;
      const suffix = flat.suffix[i]!;
      const base = this.names[id]!;
      if (known[3 * id] === -1) {
        known[3 * id] = w.shared(base);
        known[3 * id + 1] = w.shared(this.hosts[id]!);
        known[3 * id + 2] = w.newTagList(this.tags[id]!);
      }
      const nameIdx = known[3 * id]!;
      w.head(
        suffix < 0 ? nameIdx : w.suffixed(nameIdx, base, suffix, this.suffixes[suffix]!),
        known[3 * id + 1]!,
        known[3 * id + 2]!,
        flat.rate[i]! === 1 ? TYPE_CODE.rate : TYPE_CODE.gauge,
        interval,
        ORIGIN,
        flat.points[i]!,
      );
      for (let p = flat.first[i]!; p >= 0; p = flat.next[p]!) w.point(flat.ts[p]!, flat.val[p]!);
    }
    flat.reset();
    const wire = w.finish();
    this.endFlush(now, final, count, sketches.length);
    return { wire, sketches, counters: this.counters.snapshot() };
  }

  /** Emits the closed buckets into the current output (see `addPoint`) and returns the closed sketches. */
  private flushBuckets(now: number, final: boolean, pending?: { closed: readonly number[]; any: boolean }): SketchSeries[] {
    const bucketSeconds = this.cfg.bucketSeconds;
    const cutoff = this.cutoffAt(now, final);
    const { closed, any } = pending ?? this.pendingBuckets(now, final);
    const order = [...closed].sort((a, b) => a - b);
    const sketchesByCtx = new Map<number, SketchPoint[]>();
    const untrack: number[] = [];
    if (any) {
      for (const start of order) {
        const b = this.buckets.get(start) ?? new Bucket(start, this.capacity);
        this.zeroFillCounters(b, untrack);
        this.emitBucket(b);
        if (b.sketches === null) this.deleteBucket(start);
        else b.clearMetrics();
      }
    } else if (!final && this.lastCutoff + bucketSeconds <= cutoff) {
      // No metric bucket at all: counters still report zeros for the last closed interval.
      const b = new Bucket(cutoff - bucketSeconds, this.capacity);
      this.zeroFillCounters(b, untrack);
      this.emitBucket(b);
    }
    for (const id of untrack) this.counterLast[id] = NaN;
    // Sketches: every closed bucket, in time order (sketch_map.go flushBefore).
    const sketchStarts: number[] = [];
    for (const [start, b] of this.buckets) if (b.sketches !== null && start + bucketSeconds <= cutoff) sketchStarts.push(start);
    sketchStarts.sort((a, b) => a - b);
    for (const start of sketchStarts) {
      const b = this.buckets.get(start)!;
      this.emitSketches(b, sketchesByCtx);
      b.sketches = null;
      if (b.n === 0) this.deleteBucket(start);
    }
    const sketches: SketchSeries[] = [];
    for (const [id, points] of sketchesByCtx) {
      sketches.push({ name: this.names[id]!, host: this.hosts[id]!, tags: this.tags[id]!, interval: bucketSeconds, points, origin: ORIGIN });
    }
    if (!final) this.pendingCutoff = cutoff;
    return sketches;
  }

  /** After the series are out: context expiry (which forgets names and tags) and the counters. */
  private endFlush(now: number, final: boolean, series: number, sketches: number): void {
    this.expireContexts(now - this.cfg.contextExpirySeconds);
    if (!final) this.lastCutoff = this.pendingCutoff;
    const c = this.c;
    c[6]! += series;
    c[7]! += sketches;
    c[8]!++;
    c[1] = this.table.size;
  }

  /**
   * Adds 0 to every counter sampled within `dogstatsd_expiry_seconds` of the bucket, so a
   * counter keeps reporting a rate of 0 (`countersSampleZeroValue`); older ones stop being
   * tracked. The zero keeps the context alive while it reports.
   */
  private zeroFillCounters(b: Bucket, untrack: number[]): void {
    const expiry = this.cfg.expirySeconds;
    const n = this.nextId;
    for (let id = 0; id < n; id++) {
      const last = this.counterLast[id]!;
      if (last !== last || this.live[id] === 0) continue;
      if (expiry + last > b.start) {
        const s = b.slot(id, KIND_COUNTER);
        this.addToSlot(b, s, MetricType.COUNTER, 0, 1);
        // The agent's updateTrackedContext sets lastSeen to the bucket's time.
        this.lastSeen[id] = b.start;
      } else {
        untrack.push(id);
      }
    }
  }

  private emitBucket(b: Bucket): void {
    const interval = this.cfg.bucketSeconds;
    const hist = this.hist;
    for (let s = 0; s < b.n; s++) {
      const id = b.ctxOfSlot[s]!;
      const kind = b.kind[s]!;
      if (kind === KIND_HISTOGRAM) {
        flushHistogram(b.aux[s] as HistogramState, this.cfg.histogramAggregates, this.cfg.histogramPercentiles, interval, hist);
        for (let i = 0; i < hist.n; i++) this.addPoint(id, hist.suffix[i]!, hist.rate[i] === 1, b.start, hist.value[i]!);
      } else if (kind === KIND_COUNTER) {
        this.addPoint(id, -1, true, b.start, b.value[s]! / interval);
      } else if (kind === KIND_GAUGE) {
        this.addPoint(id, -1, false, b.start, b.value[s]!);
      } else if (kind === KIND_SET) {
        this.addPoint(id, -1, false, b.start, (b.aux[s] as Set<number>).size);
      }
    }
  }

  private emitSketches(b: Bucket, sketchesByCtx: Map<number, SketchPoint[]>): void {
    for (const [id, sk] of b.sketches!) {
      const p = sk.finish(b.start);
      if (p === null) continue;
      let pts = sketchesByCtx.get(id);
      if (pts === undefined) sketchesByCtx.set(id, (pts = []));
      pts.push(p);
    }
  }

  private addPoint(id: number, suffix: number, rate: boolean, ts: number, value: number): void {
    // Series of one context, suffix and type from several buckets merge (dedupSerieBySignature).
    const key = (id * 64 + suffix + 1) * 2 + (rate ? 1 : 0);
    const m = this.objectOut;
    if (m === null) {
      this.flat.add(key, id, suffix, rate, ts, value);
      return;
    }
    let e = m.get(key);
    if (e === undefined) {
      e = {
        name: suffix < 0 ? this.names[id]! : this.names[id]! + this.suffixes[suffix]!,
        host: this.hosts[id]!,
        tags: this.tags[id]!,
        type: rate ? 'rate' : 'gauge',
        interval: this.cfg.bucketSeconds,
        points: [],
        origin: ORIGIN,
      };
      m.set(key, e);
    }
    e.points.push({ timestamp: ts, value });
  }

  /** Drops contexts not seen since `before`, unless a counter is still reporting zeros. */
  private expireContexts(before: number): void {
    const n = this.nextId;
    let expired = 0;
    for (let id = 0; id < n; id++) {
      if (this.live[id] === 0) continue;
      if (this.lastSeen[id]! >= before) continue;
      const last = this.counterLast[id]!;
      if (last === last) continue;
      if (this.referencedByOpenBucket(id)) continue;
      this.table.delete(this.keyLo[id]!, this.keyHi[id]!);
      this.live[id] = 0;
      this.names[id] = '';
      this.hosts[id] = '';
      this.tags[id] = EMPTY;
      this.freeIds.push(id);
      expired++;
    }
    this.c[3]! += expired;
  }

  private referencedByOpenBucket(id: number): boolean {
    for (const b of this.buckets.values()) {
      if (b.slotOf[id]! >= 0) return true;
      if (b.sketches !== null && b.sketches.has(id)) return true;
    }
    return false;
  }

  /** Heap-independent size estimate of the shard's typed arrays (bytes). */
  get tableBytes(): number {
    return this.table.byteSize + this.capacity * (4 + 4 + 8 + 8 + 1);
  }
}
