/**
 * What every parse pass in the benchmarks accumulates, so that each parser touches every metric
 * (every value, every tag count, the sample rate) and the passes can be checked against each
 * other before timing.
 */
export class Tally {
  lines = 0;
  values = 0;
  valueSum = 0;
  setLines = 0;
  tags = 0;
  sampledLines = 0;
  rateSum = 0;
  /** XOR of context keys (kennel) or sum of key lengths (naive); only read to defeat dead-code elimination. */
  keySink = 0;
  errors = 0;

  reset(): void {
    this.lines = 0;
    this.values = 0;
    this.valueSum = 0;
    this.setLines = 0;
    this.tags = 0;
    this.sampledLines = 0;
    this.rateSum = 0;
    this.keySink = 0;
    this.errors = 0;
  }

  /** The fields every correct parser must agree on (keySink and errors are excluded). */
  summary(): TallySummary {
    return {
      lines: this.lines,
      values: this.values,
      valueSum: this.valueSum,
      setLines: this.setLines,
      tags: this.tags,
      sampledLines: this.sampledLines,
      rateSum: this.rateSum,
    };
  }
}

export interface TallySummary {
  readonly lines: number;
  readonly values: number;
  readonly valueSum: number;
  readonly setLines: number;
  readonly tags: number;
  readonly sampledLines: number;
  readonly rateSum: number;
}
