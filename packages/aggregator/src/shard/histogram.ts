import type { HistogramAggregate } from '../config.js';

/**
 * One bucket of a histogram or timing context: weighted samples, exactly as the agent's
 * `pkg/metrics/histogram.go` keeps them (Apache-2.0, Datadog): weight = int(1/rate) with a rate
 * of 0 read as 1, count += weight, sum += value/rate (not truncated, so avg is slightly off for
 * rates like 0.3, as in the agent).
 */
export class HistogramState {
  values: number[] = [];
  weights: number[] = [];
  sum = 0;
  count = 0;

  add(value: number, rate: number): void {
    if (rate === 0) rate = 1;
    let w = Math.trunc(1 / rate);
    // Go's int64(1/rate) is undefined for NaN and infinite rates; kennel reads them as 1.
    if (!Number.isFinite(w)) w = 1;
    this.values.push(value);
    this.weights.push(w);
    this.sum += value * (1 / rate);
    this.count += w;
  }
}

/**
 * Where `flushHistogram` writes: per output point, the index of its suffix (aggregates in
 * config order, then percentiles), its value and whether it is a rate. Reused across flushes.
 */
export class HistogramOut {
  n = 0;
  suffix = new Int32Array(32);
  value = new Float64Array(32);
  rate = new Uint8Array(32);
  push(suffix: number, value: number, rate: boolean): void {
    const i = this.n++;
    this.suffix[i] = suffix;
    this.value[i] = value;
    this.rate[i] = rate ? 1 : 0;
  }
}

/** Suffixes in `flushHistogram`'s index order: `.max`, `.median`, ..., then `.95percentile`, .... */
export function histogramSuffixes(aggregates: readonly HistogramAggregate[], percentiles: readonly number[]): string[] {
  return [...aggregates.map((a) => '.' + a), ...percentiles.map((p) => `.${p}percentile`)];
}

let order = new Int32Array(64);

/**
 * The agent's flush: sort by value; median is the first value whose cumulative weight exceeds
 * (count-1)/2, percentile p the first whose cumulative weight exceeds (p*count-1)/100 (integer
 * divisions truncating toward zero, as Go's); `.count` is a rate over the 10 s interval.
 */
export function flushHistogram(
  h: HistogramState,
  aggregates: readonly HistogramAggregate[],
  percentiles: readonly number[],
  interval: number,
  out: HistogramOut,
): void {
  out.n = 0;
  const n = h.values.length;
  if (n === 0) return;
  if (order.length < n) order = new Int32Array(Math.max(n, order.length * 2));
  for (let i = 0; i < n; i++) order[i] = i;
  const vals = h.values;
  const sorted = order.subarray(0, n);
  if (n > 1) sorted.sort((a, b) => vals[a]! - vals[b]!);
  for (let a = 0; a < aggregates.length; a++) {
    let value = 0;
    let rate = false;
    switch (aggregates[a]) {
      case 'max':
        value = vals[sorted[n - 1]!]!;
        break;
      case 'min':
        value = vals[sorted[0]!]!;
        break;
      case 'median': {
        const target = Math.trunc((h.count - 1) / 2);
        let weight = 0;
        for (let i = 0; i < n; i++) {
          weight += h.weights[sorted[i]!]!;
          if (weight > target) {
            value = vals[sorted[i]!]!;
            break;
          }
        }
        break;
      }
      case 'avg':
        value = h.sum / h.count;
        break;
      case 'sum':
        value = h.sum;
        break;
      case 'count':
        value = h.count / interval;
        rate = true;
        break;
    }
    out.push(a, value, rate);
  }
  if (percentiles.length > 0) {
    let weight = 0;
    let idx = 0;
    for (let i = 0; i < n && idx < percentiles.length; i++) {
      weight += h.weights[sorted[i]!]!;
      while (idx < percentiles.length && weight > Math.trunc((percentiles[idx]! * h.count - 1) / 100)) {
        out.push(aggregates.length + idx, vals[sorted[i]!]!, false);
        idx++;
      }
    }
  }
}
