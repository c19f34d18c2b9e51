import type { SketchPoint } from '@kennel/core';
import { ProtoReader, WireType } from '../decode/proto-reader.js';

/**
 * Quantiles for the local page: from the agent's DogStatsD sketches (distributions), from the
 * DDSketches of APM stats, and exactly from a list of values.
 *
 * The agent's sketch (`pkg/util/quantile`): γ = 1 + 2/128, key k > 0 stands for γ^(k − 1338),
 * a negative key for the negated value, key 0 for 0 and ±32767 for ±∞. The quantile follows the
 * agent's `Sketch.Quantile` (sparse.go). Display values: `Math.pow` here, where the aggregator
 * reproduces Go's bits; the difference is in the last digits.
 */
const AGENT_GAMMA = 1 + 2 / 128;
const AGENT_BIAS = 1338;
const AGENT_INF_KEY = 32767;

/** The percentiles the page shows for distributions and APM latencies. */
export const PERCENTILES = [
  ['p50', 0.5],
  ['p75', 0.75],
  ['p95', 0.95],
  ['p99', 0.99],
] as const;
export type PercentileName = (typeof PERCENTILES)[number][0];

function agentKeyValue(k: number): number {
  if (k < 0) return -agentKeyValue(-k);
  if (k === 0) return 0;
  if (k >= AGENT_INF_KEY) return Infinity;
  return Math.pow(AGENT_GAMMA, k - AGENT_BIAS);
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The agent's estimate of quantile `q` of one sketch point (0 when empty). */
export function agentSketchQuantile(p: SketchPoint, q: number): number {
  let total = 0;
  for (let i = 0; i < p.counts.length; i++) total += p.counts[i]!;
  if (total === 0) return 0;
  if (q <= 0) return p.min;
  if (q >= 1) return p.max;
  const want = roundHalfEven(q * (total - 1));
  let n = 0;
  for (let i = 0; i < p.keys.length; i++) {
    const c = p.counts[i]!;
    n += c;
    if (n <= want) continue;
    const weight = (n - want) / c;
    let low = agentKeyValue(p.keys[i]!);
    const high = low * AGENT_GAMMA;
    if (i === 0) low = p.min;
    return low * weight + high * (1 - weight);
  }
  return p.max;
}

/** The summary and percentiles of one distribution point, as the page shows it. */
export interface SketchStats {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly sum: number;
  readonly avg: number;
  readonly p50: number;
  readonly p75: number;
  readonly p95: number;
  readonly p99: number;
}

export function sketchStats(p: SketchPoint): SketchStats {
  return {
    count: p.count,
    min: p.min,
    max: p.max,
    sum: p.sum,
    avg: p.avg,
    p50: agentSketchQuantile(p, 0.5),
    p75: agentSketchQuantile(p, 0.75),
    p95: agentSketchQuantile(p, 0.95),
    p99: agentSketchQuantile(p, 0.99),
  };
}

// --- DDSketch (APM stats) ---------------------------------------------------------------------

/**
 * A decoded DDSketch (`DDSketch.proto`: `mapping{gamma, indexOffset, interpolation}`,
 * `positiveValues`, `negativeValues`, `zeroCount`), bins as index → count. The logarithmic
 * mapping is assumed (interpolation NONE, what the trace-agent and the tracers send): bin `i`
 * stands for γ^(i − indexOffset) · 2γ/(1 + γ), as sketches-go's `Value`.
 */
export interface DDSketchData {
  gamma: number;
  indexOffset: number;
  zeroCount: number;
  readonly positive: Map<number, number>;
  readonly negative: Map<number, number>;
}

function readStore(r: ProtoReader, into: Map<number, number>): void {
  const outer = r.enter();
  if (outer < 0) return;
  const contiguous: number[] = [];
  let offset = 0;
  while (r.more) {
    const key = r.key();
    if (key < 0) break;
    const field = key >>> 3;
    const wt = key & 7;
    if (field === 1 && wt === WireType.LEN) {
      // map<sint32, double> entry
      const e = r.enter();
      if (e < 0) break;
      let k = 0;
      let v = 0;
      while (r.more) {
        const ek = r.key();
        if (ek < 0) break;
        if (ek >>> 3 === 1 && (ek & 7) === WireType.VARINT) k = r.sint32();
        else if (ek >>> 3 === 2 && (ek & 7) === WireType.FIXED64) v = r.double();
        else r.skip(ek & 7);
      }
      r.leave(e);
      into.set(k, (into.get(k) ?? 0) + v);
    } else if (field === 2 && wt === WireType.LEN) {
      const e = r.enter();
      if (e < 0) break;
      while (r.more) contiguous.push(r.double());
      r.leave(e);
    } else if (field === 2 && wt === WireType.FIXED64) {
      contiguous.push(r.double());
    } else if (field === 3 && wt === WireType.VARINT) {
      offset = r.sint32();
    } else if (!r.skip(wt)) break;
  }
  r.leave(outer);
  for (let i = 0; i < contiguous.length; i++) {
    const c = contiguous[i]!;
    if (c !== 0) into.set(offset + i, (into.get(offset + i) ?? 0) + c);
  }
}

/** Decodes a DDSketch protobuf; `null` when the bytes are not one (or are empty). */
export function decodeDDSketch(buf: Uint8Array): DDSketchData | null {
  if (buf.length === 0) return null;
  const r = new ProtoReader(buf);
  const sk: DDSketchData = { gamma: 0, indexOffset: 0, zeroCount: 0, positive: new Map(), negative: new Map() };
  while (r.more) {
    const key = r.key();
    if (key < 0) break;
    const field = key >>> 3;
    const wt = key & 7;
    if (field === 1 && wt === WireType.LEN) {
      const outer = r.enter();
      if (outer < 0) break;
      while (r.more) {
        const k = r.key();
        if (k < 0) break;
        if (k >>> 3 === 1 && (k & 7) === WireType.FIXED64) sk.gamma = r.double();
        else if (k >>> 3 === 2 && (k & 7) === WireType.FIXED64) sk.indexOffset = r.double();
        else r.skip(k & 7);
      }
      r.leave(outer);
    } else if (field === 2 && wt === WireType.LEN) readStore(r, sk.positive);
    else if (field === 3 && wt === WireType.LEN) readStore(r, sk.negative);
    else if (field === 4 && wt === WireType.FIXED64) sk.zeroCount = r.double();
    else if (!r.skip(wt)) break;
  }
  if (r.failed || !(sk.gamma > 1)) return null;
  return sk;
}

/** Sketches merged bin by bin (they share the mapping when they come from the same agent or tracer). */
export class MergedDDSketch {
  private sk: DDSketchData | null = null;

  add(other: DDSketchData): void {
    if (this.sk === null) {
      this.sk = { gamma: other.gamma, indexOffset: other.indexOffset, zeroCount: 0, positive: new Map(), negative: new Map() };
    }
    const sk = this.sk;
    // A sketch with another mapping is re-binned by value (rare: tracers and agent use 1 %).
    const same = other.gamma === sk.gamma && other.indexOffset === sk.indexOffset;
    const rebin = (i: number): number => (same ? i : Math.ceil(Math.log(ddValue(other, i)) / Math.log(sk.gamma) + sk.indexOffset - 1e-9));
    sk.zeroCount += other.zeroCount;
    for (const [i, c] of other.positive) sk.positive.set(rebin(i), (sk.positive.get(rebin(i)) ?? 0) + c);
    for (const [i, c] of other.negative) sk.negative.set(rebin(i), (sk.negative.get(rebin(i)) ?? 0) + c);
  }

  /** Adds what `other` holds. */
  merge(other: MergedDDSketch): void {
    if (other.sk !== null) this.add(other.sk);
  }

  get count(): number {
    const sk = this.sk;
    if (sk === null) return 0;
    let n = sk.zeroCount;
    for (const c of sk.positive.values()) n += c;
    for (const c of sk.negative.values()) n += c;
    return n;
  }

  /** sketches-go's `GetValueAtQuantile`; `null` when empty. */
  quantile(q: number): number | null {
    const sk = this.sk;
    const count = this.count;
    if (sk === null || count <= 0) return null;
    const rank = Math.min(Math.max(q, 0), 1) * (count - 1);
    let n = 0;
    const neg = [...sk.negative.entries()].sort((a, b) => b[0] - a[0]);
    for (const [i, c] of neg) {
      n += c;
      if (n > rank) return -ddValue(sk, i);
    }
    n += sk.zeroCount;
    if (n > rank) return 0;
    const pos = [...sk.positive.entries()].sort((a, b) => a[0] - b[0]);
    for (const [i, c] of pos) {
      n += c;
      if (n > rank) return ddValue(sk, i);
    }
    return pos.length > 0 ? ddValue(sk, pos[pos.length - 1]![0]) : 0;
  }
}

function ddValue(sk: DDSketchData, index: number): number {
  return Math.pow(sk.gamma, index - sk.indexOffset) * ((2 * sk.gamma) / (1 + sk.gamma));
}

/** The nearest-rank quantile of values sorted ascending; `null` when empty. */
export function exactQuantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}
