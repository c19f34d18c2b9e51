/** DogStatsD metric types, as numeric codes for the hot path (the agent's `parse_metrics.go` metricType). */
export const MetricType = {
  GAUGE: 0,
  COUNTER: 1,
  HISTOGRAM: 2,
  DISTRIBUTION: 3,
  SET: 4,
  TIMING: 5,
} as const;
export type MetricType = (typeof MetricType)[keyof typeof MetricType];

/** The names `kennel decode` prints and telemetry uses (`dogstatsd.metric_type_count{metric_type}`). */
export const MetricTypeName = ['gauge', 'counter', 'histogram', 'distribution', 'set', 'timing'] as const;
export type MetricTypeName = (typeof MetricTypeName)[number];

/**
 * A decoded metric line as offsets into its packet: what a codec hands to a transform. The
 * DogStatsD codec's `MetricView` has this shape; the aggregator reads only these fields, so it
 * does not depend on the codec package.
 */
export interface MetricSampleView {
  readonly buf: Uint8Array;
  readonly nameStart: number;
  readonly nameEnd: number;
  readonly type: MetricType;
  /** Values in `values[0, valueCount)`; 0 for sets. */
  readonly valueCount: number;
  readonly values: Float64Array;
  /** The set member `buf[setStart, setEnd)`, for sets. */
  readonly setStart: number;
  readonly setEnd: number;
  readonly sampleRate: number;
  readonly tagCount: number;
  readonly tagStarts: Uint32Array;
  readonly tagEnds: Uint32Array;
  /** `|T` Unix seconds; 0 when absent. */
  readonly timestamp: number;
}
