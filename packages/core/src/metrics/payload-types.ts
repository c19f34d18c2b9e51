/**
 * What the aggregator flushes and the encoders serialise: the owned, string-based forms of the
 * intake's items. Field meanings follow the agent (`pkg/metrics/series.go`,
 * `pkg/metrics/sketch_series.go`, `pkg/metrics/event.go`, `pkg/metrics/service_check.go`) and
 * the `/api/v2/series` and `/api/beta/sketches` protobuf schemas in `DataDog/agent-payload`.
 */

/** The v2 series `MetricType` enum (agent-payload `MetricPayload.MetricType`; agent `SeriesAPIV2Enum`). */
export const SeriesTypeCode = { UNSPECIFIED: 0, COUNT: 1, RATE: 2, GAUGE: 3 } as const;
export type SeriesTypeCode = (typeof SeriesTypeCode)[keyof typeof SeriesTypeCode];

/** The API type of a series, as `/api/v1/series` spells it. */
export type SeriesApiType = 'gauge' | 'rate' | 'count';

export interface SeriesPoint {
  /** Unix seconds (bucket start for aggregated metrics). */
  readonly timestamp: number;
  readonly value: number;
}

export interface SeriesResource {
  readonly type: string;
  readonly name: string;
}

/** Origin metadata (agent-payload `Origin`): product 10 / category 10 / service 0 for DogStatsD. */
export interface SeriesOrigin {
  readonly product: number;
  readonly category: number;
  readonly service: number;
}

export interface Series {
  readonly name: string;
  readonly host: string;
  readonly tags: readonly string[];
  readonly type: SeriesApiType;
  /** Seconds; 10 for DogStatsD buckets, 0 when unknown. */
  readonly interval: number;
  readonly points: readonly SeriesPoint[];
  /** From a `device:` tag (moved out of the tags at serialisation by the agent). */
  readonly device?: string;
  readonly sourceTypeName?: string;
  readonly unit?: string;
  /** Extra v2 resources beyond the host (`dd.internal.resource:` tags). */
  readonly resources?: readonly SeriesResource[];
  readonly origin?: SeriesOrigin;
}

/** One sketch point: the agent's DDSketch for one bucket, with its exact summary. */
export interface SketchPoint {
  /** Unix seconds (bucket start). */
  readonly timestamp: number;
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly sum: number;
  readonly avg: number;
  /** Bin keys, ascending; a key may repeat when its count passed 65535. */
  readonly keys: readonly number[] | Int32Array;
  /** Bin counts, each at most 65535, parallel to `keys`. */
  readonly counts: readonly number[] | Uint32Array;
}

export interface SketchSeries {
  readonly name: string;
  readonly host: string;
  readonly tags: readonly string[];
  readonly interval: number;
  readonly points: readonly SketchPoint[];
  readonly origin?: SeriesOrigin;
}

export type EventPriority = 'normal' | 'low';
export type EventAlertType = 'error' | 'warning' | 'info' | 'success';

export interface MetricEvent {
  readonly title: string;
  readonly text: string;
  /** Unix seconds; 0 means "now" to the intake. */
  readonly timestamp: number;
  readonly host: string;
  readonly aggregationKey: string;
  readonly priority: EventPriority;
  readonly sourceTypeName: string;
  readonly alertType: EventAlertType;
  readonly tags: readonly string[];
}

/** 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
export type ServiceCheckStatus = 0 | 1 | 2 | 3;

export interface ServiceCheck {
  readonly name: string;
  readonly host: string;
  readonly timestamp: number;
  readonly status: ServiceCheckStatus;
  readonly message: string;
  readonly tags: readonly string[];
}
