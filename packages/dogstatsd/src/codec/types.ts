import type { ParseError, ParseErrorCounter, ParseErrorReasonLabel } from '@kennel/core';

import { MetricType, MetricTypeName } from '@kennel/core';

export { MetricType, MetricTypeName };

/** The wire letters, by `MetricType` code. */
export const MetricTypeSymbol = ['g', 'c', 'h', 'd', 's', 'ms'] as const;

/** A decoded metric line, in owned (string) form: the convenience tier and `kennel decode`. */
export interface DecodedMetric {
  readonly kind: 'metric';
  readonly name: string;
  readonly type: MetricTypeName;
  /** Numbers for every type but `set`; for `set`, the one member string. */
  readonly values: readonly number[] | readonly [string];
  readonly sampleRate: number;
  readonly tags: readonly string[];
  /** Unix seconds from `|T`, or null when absent (or not read: `dogstatsd_no_aggregation_pipeline: false`). */
  readonly timestamp: number | null;
  /** Raw `|c:` local data, or null when absent or not read (`dogstatsd_origin_detection_client: false`). */
  readonly containerId: string | null;
  /** Raw `|e:` external data, or null. */
  readonly externalData: string | null;
  /** Raw `|card:` cardinality, or null. */
  readonly cardinality: string | null;
}

export interface DecodedEvent {
  readonly kind: 'event';
  readonly title: string;
  readonly text: string;
  /** Unix seconds from `d:`; 0 when absent (the agent's default, meaning "now"). */
  readonly timestamp: number;
  readonly hostname: string;
  readonly aggregationKey: string;
  readonly priority: 'normal' | 'low';
  readonly sourceType: string;
  readonly alertType: 'error' | 'warning' | 'info' | 'success';
  readonly tags: readonly string[];
}

export interface DecodedServiceCheck {
  readonly kind: 'service_check';
  readonly name: string;
  /** 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
  readonly status: 0 | 1 | 2 | 3;
  /** Unix seconds from `d:`; 0 when absent. */
  readonly timestamp: number;
  readonly hostname: string;
  readonly message: string;
  readonly tags: readonly string[];
}

export interface DecodedError {
  readonly kind: 'error';
  /** A `ParseErrorReason` label, such as `metric_invalid_type`. */
  readonly reason: ParseErrorReasonLabel;
  /** The agent's expvar counter it incremented, such as `MetricParseErrors`. */
  readonly counter: ParseErrorCounter;
}

export type DecodedMessage = DecodedMetric | DecodedEvent | DecodedServiceCheck | DecodedError;

/** Codec options, with the agent's configuration names and defaults. */
export interface DogStatsDCodecOptions {
  /**
   * Read `|T<seconds>` timestamps (the agent reads them only when its no-aggregation pipeline is
   * on). When off, a `T` field is skipped unparsed, so a malformed one is not an error.
   * @defaultValue true (`dogstatsd_no_aggregation_pipeline`)
   */
  readonly noAggregationPipeline?: boolean;
  /**
   * Read the origin fields `|c:`, `|e:` and `|card:`. When off they are ignored.
   * @defaultValue false (`dogstatsd_origin_detection_client`)
   */
  readonly originDetectionClient?: boolean;
  /**
   * Tokenize each packet with the native tokenizer (`@kennel/native/tokenize`, SIMD) and walk its
   * delimiter stream instead of searching with `Buffer.indexOf`. Same output either way; it is
   * used only when the addon is loaded and not switched off (`KENNEL_DISABLE_NATIVE=1`), and only
   * for packets long enough to pay for the call. `false` keeps every packet on the JavaScript path
   * (benchmarks, tests).
   * @defaultValue true
   */
  readonly nativeTokenizer?: boolean;
}

/** Per-packet framing options. */
export interface FramingOptions {
  /**
   * Drop a last line that has no `\n` and count it in `UnterminatedMetricErrors`, as the agent
   * does for the transports listed in `dogstatsd_eol_required`.
   * @defaultValue false
   */
  readonly eolRequired?: boolean;
}

export type { ParseError };
