import { ErrorCode, KennelError } from '@kennel/core';

/** Aggregator options, with the agent's configuration names and defaults. */
export interface AggregatorOptions {
  /**
   * Number of shards (each a single-writer aggregator in its own worker thread).
   * @defaultValue 1 (`dogstatsd_pipeline_count`)
   */
  readonly shards?: number;
  /**
   * Seconds a counter keeps reporting 0 after its last sample.
   * @defaultValue 300 (`dogstatsd_expiry_seconds`)
   */
  readonly expirySeconds?: number;
  /**
   * Seconds a context is kept without samples.
   * @defaultValue 20 (`dogstatsd_context_expiry_seconds`)
   */
  readonly contextExpirySeconds?: number;
  /**
   * Histogram and timing aggregates; unknown names are skipped, as the agent does.
   * @defaultValue ['max', 'median', 'avg', 'count'] (`histogram_aggregates`)
   */
  readonly histogramAggregates?: readonly string[];
  /**
   * Histogram percentiles as strings in 0..1, rounded with int(p*100+0.5).
   * @defaultValue ['0.95'] (`histogram_percentiles`)
   */
  readonly histogramPercentiles?: readonly string[];
  /**
   * Most contexts one shard keeps. A sample of a new context past it is dropped and counted in
   * `ContextsDropped`. The agent has no such bound; kennel keeps memory bounded.
   * @defaultValue 1,000,000 (`dogstatsd_context_limit`, kennel's)
   */
  readonly contextLimit?: number;
  /**
   * Host for samples without a `host:` tag (the agent's hostname).
   * @defaultValue ''
   */
  readonly defaultHost?: string;
  /**
   * Tags added to every metric: `dogstatsd_tags`, plus `tags` (`DD_TAGS`) where kennel runs as
   * a sidecar, as the agent adds its static tags on Fargate (`GetStaticTagsSlice`).
   * @defaultValue []
   */
  readonly extraTags?: readonly string[];
  /**
   * Most distinct strings the shard's interner keeps.
   * @defaultValue 4096 (`dogstatsd_string_interner_size`)
   */
  readonly internerSize?: number;
  /**
   * Samples per batch moved to a shard (fewer, larger moves cost the decoding thread less).
   * @defaultValue 8192
   */
  readonly batchSamples?: number;
  /**
   * Batches in flight to one shard before new ones are dropped and counted (`QueueDrops`).
   * @defaultValue 256 (the agent's `dogstatsd_queue_size` is 1024 batches of 32 packets)
   */
  readonly maxQueuedBatches?: number;
}

/** The agent's valid `histogram_aggregates` (`pkg/metrics/histogram.go`). */
export const HISTOGRAM_AGGREGATES = ['max', 'min', 'median', 'avg', 'sum', 'count'] as const;
export type HistogramAggregate = (typeof HISTOGRAM_AGGREGATES)[number];

export interface ResolvedAggregatorConfig {
  readonly shards: number;
  readonly bucketSeconds: 10;
  readonly expirySeconds: number;
  readonly contextExpirySeconds: number;
  readonly histogramAggregates: readonly HistogramAggregate[];
  /** Percentiles as integers 1..100, ascending. */
  readonly histogramPercentiles: readonly number[];
  readonly contextLimit: number;
  readonly defaultHost: string;
  readonly extraTags: readonly string[];
  readonly internerSize: number;
  readonly batchSamples: number;
  readonly maxQueuedBatches: number;
}

function wholeNumber(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new KennelError(ErrorCode.CONFIG_INVALID, `${name}: expected a whole number from ${min} to ${max}, got ${v}`);
  }
  return v;
}

/**
 * Validates options and fills the agent's defaults. Throws a `KennelError` naming the option.
 * Unknown aggregates and percentiles that do not parse or fall outside 1..100 are skipped, as the
 * agent skips them with a log line.
 */
export function resolveAggregatorConfig(o: AggregatorOptions = {}): ResolvedAggregatorConfig {
  const aggregates: HistogramAggregate[] = [];
  for (const a of o.histogramAggregates ?? ['max', 'median', 'avg', 'count']) {
    if ((HISTOGRAM_AGGREGATES as readonly string[]).includes(a)) aggregates.push(a as HistogramAggregate);
  }
  const percentiles: number[] = [];
  for (const p of o.histogramPercentiles ?? ['0.95']) {
    const f = Number(p);
    if (p.trim() === '' || !Number.isFinite(f)) continue;
    const i = Math.trunc(f * 100 + 0.5);
    if (i < 1 || i > 100) continue;
    percentiles.push(i);
  }
  percentiles.sort((a, b) => a - b);
  return Object.freeze({
    shards: wholeNumber('dogstatsd_pipeline_count', o.shards ?? 1, 1, 64),
    bucketSeconds: 10,
    expirySeconds: o.expirySeconds ?? 300,
    contextExpirySeconds: o.contextExpirySeconds ?? 20,
    histogramAggregates: Object.freeze(aggregates),
    histogramPercentiles: Object.freeze(percentiles),
    contextLimit: wholeNumber('dogstatsd_context_limit', o.contextLimit ?? 1_000_000, 1, 1 << 30),
    defaultHost: o.defaultHost ?? '',
    extraTags: Object.freeze([...(o.extraTags ?? [])]),
    internerSize: wholeNumber('dogstatsd_string_interner_size', o.internerSize ?? 4096, 0, 1 << 24),
    batchSamples: wholeNumber('batchSamples', o.batchSamples ?? 8192, 1, 1 << 20),
    maxQueuedBatches: wholeNumber('maxQueuedBatches', o.maxQueuedBatches ?? 256, 1, 1 << 20),
  });
}
