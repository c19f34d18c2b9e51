/**
 * The Datadog Agent's DDSketch for DogStatsD distributions: an insert-optimised sketch with a
 * 512-key buffer, sparse bins and an exact summary.
 *
 * Ported from the Datadog Agent, `pkg/util/quantile/agent.go` (`Agent`) and `sparse.go`
 * (`Sketch`), earlier `pkg/quantile/`, also `DataDog/opentelemetry-mapping-go`
 * `pkg/quantile`; Copyright 2016-present Datadog, Inc., Apache License 2.0. Re-implemented from
 * the agent's behaviour and its tests (`agent_test.go`, `sparse_test.go`), so that the keys,
 * bins and summary a kennel sketch flushes are the ones the agent would send for the same
 * samples.
 */

import type { SketchPoint } from '@kennel/core';
import {
  BIN_LIMIT,
  BUFFER_CAPACITY,
  GAMMA,
  MAX_COUNT,
  sketchKey,
  sketchKeyLowerBound,
} from './config.js';
import { goInt, roundHalfEven } from './go-math.js';
import { BinList, insertCounts, insertOneCount, insertSortedKeys, mergeBins, sortKeys } from './store.js';
import { SketchSummary } from './summary.js';

const EMPTY_BUFFER = new Int16Array(0);

// The agent's CountBuf. Every method that fills it flushes it before returning, so one
// module-level buffer serves every sketch of the thread and is empty between calls.
let countKeys = new Int16Array(16);
let countNs = new Float64Array(16);
let countLen = 0;

function pushCount(k: number, n: number): void {
  if (countLen === countKeys.length) {
    const keys = new Int16Array(countKeys.length * 2);
    const ns = new Float64Array(countNs.length * 2);
    keys.set(countKeys);
    ns.set(countNs);
    countKeys = keys;
    countNs = ns;
  }
  countKeys[countLen] = k;
  countNs[countLen] = n;
  countLen++;
}

/**
 * The agent's sketch for one distribution context in one bucket.
 *
 * @remarks
 * Unit-weight values are buffered as keys (512 at most, as `agentBufCap`) and sorted into the
 * bins when the buffer fills or when the sketch is read; a sampled value goes in at once with
 * its weight, flushing the buffer first, exactly in the agent's order. Past 4096 bins the
 * lowest bins are collapsed into the lowest one kept (see `BinList.trimLeft`), which costs
 * accuracy only at the low quantiles.
 *
 * Nothing is allocated per insert: the buffer is a typed array that grows to 512 keys once,
 * the bins grow by doubling, and merges go through one scratch list per thread.
 *
 * @example
 * ```ts
 * const s = new AgentSketch();
 * for (const v of [1, 2, 10, 100]) s.insert(v);
 * s.insert(0.5, 0.1); // sampled at 10 %: counts 10 times
 * s.quantile(0.5); // ≈ 0.5
 * const point = s.finish(1700000000); // { count: 14, keys: Int32Array [1293, 1338, ...], ... }
 * ```
 */
export class AgentSketch {
  private readonly summary = new SketchSummary();
  private readonly bins = new BinList();
  /** The store's count (sparse.go `count`): values already in the bins. */
  private binned = 0;
  private buf: Int16Array = EMPTY_BUFFER;
  private bufLen = 0;

  /**
   * Adds `value` with the DogStatsD sample rate `sampleRate` (agent.go `Insert`).
   *
   * @returns `false`, with the sketch unchanged, when `value` is NaN or ±Inf (the agent's
   * `sketchMap.insert` drops those; the caller counts them); `true` otherwise.
   *
   * @remarks
   * - A rate outside (0, 1], or NaN, counts as 1.
   * - At rate 1 the value goes into the summary at once and its key into the buffer.
   * - At another rate the weight is n = 1/rate: the summary gets `insertN(value, n)` (count +
   *   trunc(n), sum + n·value) and the bin gets trunc(n) (Go's `uint(n)`), then the sketch is
   *   flushed.
   * - n is capped at 268431360 (`Config.MaxCount()`, 4096 · 65535), which only rates below
   *   3.7e-9 reach. The agent has no cap and would spend ceil(n/65535) bins on such a value.
   */
  insert(value: number, sampleRate = 1): boolean {
    if (!Number.isFinite(value)) return false;
    const k = sketchKey(value);
    if (!(sampleRate > 0 && sampleRate <= 1)) sampleRate = 1;
    if (sampleRate === 1) {
      this.summary.insert(value);
      if (this.bufLen === this.buf.length) this.growBuffer();
      this.buf[this.bufLen++] = k;
      if (this.bufLen < BUFFER_CAPACITY) return true;
    } else {
      let n = 1 / sampleRate;
      if (n > MAX_COUNT) n = MAX_COUNT;
      this.summary.insertN(value, n);
      pushCount(k, Math.trunc(n));
    }
    this.flush();
    return true;
  }

  /**
   * Spreads `count` values linearly over [`lower`, `upper`] (agent.go `InsertInterpolate`, the
   * agent's path for explicit-bucket histograms).
   *
   * @returns `false`, with the sketch unchanged, when a bound is NaN or ±Inf (as the agent's
   * `sketchMap.insertInterp`), when `key(upper) < key(lower)`, or when `count` is not an
   * integer in [0, 268431360]; `true` otherwise.
   *
   * @remarks
   * Each key from key(lower) to key(upper) takes the share of `count` its width in value
   * covers, with the fractions carried forward; the summary gets each share at the key's lower
   * bound. The cap on `count` is kennel's (the agent takes any uint), for the same memory reason
   * as in {@link AgentSketch.insert}.
   */
  insertInterpolate(lower: number, upper: number, count: number): boolean {
    if (!Number.isFinite(lower) || !Number.isFinite(upper)) return false;
    if (!Number.isInteger(count) || count < 0 || count > MAX_COUNT) return false;
    const start = sketchKey(lower);
    const end = sketchKey(upper);
    const nKeys = end - start + 1;
    if (nKeys <= 0) return false;
    let whatsLeft = count;
    const distance = upper - lower;
    let startIdx = 0;
    let lowerB = sketchKeyLowerBound(start);
    let remainder = 0;
    for (let endIdx = 1; endIdx < nKeys && whatsLeft > 0; endIdx++) {
      const upperB = sketchKeyLowerBound(start + endIdx);
      // The share of the whole range that lies between the current key and this one.
      const fkn = ((upperB - lowerB) / distance) * count;
      // Fractions are carried only for shares above 1, so that near-empty keys stay empty.
      if (fkn > 1) remainder += fkn - goInt(fkn);
      let kn = goInt(fkn);
      if (remainder > 1) {
        kn++;
        remainder--;
      }
      if (kn > 0) {
        if (kn > whatsLeft) kn = whatsLeft;
        this.summary.insertN(lowerB, kn);
        pushCount(start + startIdx, kn);
        whatsLeft -= kn;
        startIdx = endIdx;
        lowerB = upperB;
      }
    }
    if (whatsLeft > 0) {
      this.summary.insertN(sketchKeyLowerBound(start + startIdx), whatsLeft);
      pushCount(start + startIdx, whatsLeft);
    }
    this.flush();
    return true;
  }

  /**
   * Sorts the buffered keys into the bins (agent.go `flush`). Reads flush by themselves; call
   * this only to control when the work happens.
   */
  flush(): void {
    if (this.bufLen !== 0) {
      const n = this.bufLen;
      sortKeys(this.buf, n);
      insertSortedKeys(this.bins, this.buf, n, BIN_LIMIT);
      this.binned += n;
      this.bufLen = 0;
    }
    if (countLen === 1) {
      // A sampled insert: one pair, merged in place with the agent's result.
      countLen = 0;
      insertOneCount(this.bins, countKeys[0]!, countNs[0]!, BIN_LIMIT);
      this.binned += countNs[0]!;
    } else if (countLen !== 0) {
      const n = countLen;
      // The agent sorts its CountBuf by key; ours holds ascending keys (an interpolation).
      countLen = 0;
      this.binned += insertCounts(this.bins, countKeys, countNs, n, BIN_LIMIT);
    }
  }

  /**
   * Merges `other` into this sketch (sparse.go `Merge`): summaries combined, bins added key by
   * key, then collapsed past 4096. `other` keeps its content (its buffer is flushed) and may be
   * this sketch.
   */
  merge(other: AgentSketch): void {
    this.flush();
    other.flush();
    this.summary.merge(other.summary);
    this.binned += other.binned;
    mergeBins(this.bins, other.bins, BIN_LIMIT);
  }

  /**
   * The agent's estimate of quantile `q` (sparse.go `Quantile`).
   *
   * @remarks
   * - 0 for an empty sketch; the exact min for q ≤ 0 and max for q ≥ 1.
   * - Otherwise the rank is roundHalfEven(q · (count − 1)) and the bin that holds it is
   *   interpolated between its key's lower bound and γ times that bound (the exact min for the
   *   first bin), weighted by where the rank falls in the bin. The result is within
   *   γ^1.5 − 1 ≈ 2.36 % of the sample at that rank while no bins were collapsed.
   * - The max, if the bins hold fewer values than the count.
   */
  quantile(q: number): number {
    this.flush();
    const total = this.binned;
    if (total === 0) return 0;
    if (q <= 0) return this.summary.min;
    if (q >= 1) return this.summary.max;
    const rWant = roundHalfEven(q * (total - 1));
    const keys = this.bins.keys;
    const counts = this.bins.counts;
    let n = 0;
    for (let i = 0; i < this.bins.length; i++) {
      const c = counts[i]!;
      n += c;
      if (n <= rWant) continue;
      const weight = (n - rWant) / c;
      let vLow = sketchKeyLowerBound(keys[i]!);
      const vHigh = vLow * GAMMA;
      if (i === 0) vLow = this.summary.min;
      return vLow * weight + vHigh * (1 - weight);
    }
    return this.summary.max;
  }

  /**
   * The sketch as the point the encoders write (agent.go `Finish`, then the serializer's
   * `Cols()` and `Basic`), or `null` when nothing was inserted.
   *
   * @param timestamp - Unix seconds; the bucket start.
   *
   * @remarks
   * The keys and counts are fresh `Int32Array`/`Uint32Array` copies, keys ascending with
   * repeats where a key's count passed 65535. The sketch itself is unchanged (its buffer is
   * flushed); `reset` it to reuse it.
   */
  finish(timestamp: number): SketchPoint | null {
    this.flush();
    if (this.isEmpty()) return null;
    const s = this.summary;
    const { keys, counts } = this.peekBins();
    return { timestamp, count: s.cnt, min: s.min, max: s.max, sum: s.sum, avg: s.avg, keys, counts };
  }

  /** Empties the sketch, keeping its arrays for reuse (agent.go `Reset`). */
  reset(): void {
    this.summary.reset();
    this.bins.length = 0;
    this.binned = 0;
    this.bufLen = 0;
  }

  /** `true` when nothing was inserted since creation or `reset` (agent.go `IsEmpty`). */
  isEmpty(): boolean {
    return this.summary.cnt === 0 && this.bufLen === 0;
  }

  /** The summary count: values inserted, with sampled values counted trunc(1/rate) times. */
  get count(): number {
    return this.summary.cnt;
  }

  get min(): number {
    return this.summary.min;
  }

  get max(): number {
    return this.summary.max;
  }

  get sum(): number {
    return this.summary.sum;
  }

  get avg(): number {
    return this.summary.avg;
  }

  /** Values already sorted into the bins (the agent's `sketch.count`); excludes the buffer. */
  get binnedCount(): number {
    return this.binned;
  }

  /** Keys waiting in the insert buffer (the agent's `len(a.Buf)`). */
  get pendingCount(): number {
    return this.bufLen;
  }

  /** Number of bins, repeated keys included; excludes the buffer. */
  get binCount(): number {
    return this.bins.length;
  }

  /** A copy of the bins as they are, without flushing the buffer. */
  peekBins(): { keys: Int32Array; counts: Uint32Array } {
    const n = this.bins.length;
    const keys = new Int32Array(n);
    const counts = new Uint32Array(n);
    const bk = this.bins.keys;
    const bc = this.bins.counts;
    for (let i = 0; i < n; i++) {
      keys[i] = bk[i]!;
      counts[i] = bc[i]!;
    }
    return { keys, counts };
  }

  private growBuffer(): void {
    const next = new Int16Array(this.buf.length === 0 ? 16 : Math.min(BUFFER_CAPACITY, this.buf.length * 2));
    next.set(this.buf);
    this.buf = next;
  }
}
