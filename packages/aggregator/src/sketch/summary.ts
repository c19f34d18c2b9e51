/**
 * The exact count/min/max/sum/avg the agent keeps beside a sketch's bins.
 *
 * Ported from the Datadog Agent, `pkg/util/quantile/summary/summary.go` (earlier
 * `pkg/quantile/summary/`), Copyright 2016-present Datadog, Inc., Apache License 2.0.
 * Re-implemented from its behaviour and tests (`summary_test.go`); the operation order is the
 * agent's so the floating-point results are too.
 */
export class SketchSummary {
  /** Number of values (int64 in the agent). A weighted insert adds the truncated weight. */
  cnt = 0;
  min = 0;
  max = 0;
  sum = 0;
  /** Kept incrementally, as the agent does, not as sum/cnt. */
  avg = 0;

  reset(): void {
    this.cnt = 0;
    this.min = 0;
    this.max = 0;
    this.sum = 0;
    this.avg = 0;
  }

  /** summary.go `Insert`: one value. */
  insert(v: number): void {
    if (v > this.max || this.cnt === 0) this.max = v;
    if (v < this.min || this.cnt === 0) this.min = v;
    this.cnt++;
    this.sum += v;
    // The agent's incremental mean, to keep its rounding.
    this.avg += (v - this.avg) / this.cnt;
  }

  /**
   * summary.go `InsertN`: `v` with weight `n` ≥ 1. The count grows by `trunc(n)` (Go's
   * `int64(n)`), the sum by `n · v` untruncated, as the agent does for sampled distributions.
   */
  insertN(v: number, n: number): void {
    this.mergeParts(Math.trunc(n), n * v, v, v, v);
  }

  /** summary.go `Merge`. `o` may be this summary. */
  merge(o: SketchSummary): void {
    this.mergeParts(o.cnt, o.sum, o.min, o.max, o.avg);
  }

  copyFrom(o: SketchSummary): void {
    this.cnt = o.cnt;
    this.min = o.min;
    this.max = o.max;
    this.sum = o.sum;
    this.avg = o.avg;
  }

  // Merge takes the parts as arguments so insertN allocates no temporary summary.
  private mergeParts(cnt: number, sum: number, min: number, max: number, avg: number): void {
    if (this.cnt === 0) {
      this.cnt = cnt;
      this.sum = sum;
      this.min = min;
      this.max = max;
      this.avg = avg;
      return;
    }
    if (cnt === 0) return;
    if (max > this.max) this.max = max;
    if (min < this.min) this.min = min;
    this.cnt += cnt;
    this.sum += sum;
    this.avg = this.avg + ((avg - this.avg) * cnt) / this.cnt;
  }
}
