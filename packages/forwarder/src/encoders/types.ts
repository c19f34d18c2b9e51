import type { CounterSet } from '@kennel/core';
import type { ContentEncoding } from '../compression/types.js';

/** The payload kinds kennel sends to the intake. */
export const PayloadKind = {
  SERIES_V2: 'series_v2',
  SKETCHES: 'sketches',
  SERIES_V1: 'series_v1',
  CHECK_RUNS: 'check_runs',
  EVENTS: 'events',
} as const;
export type PayloadKind = (typeof PayloadKind)[keyof typeof PayloadKind];

/** Intake paths (`comp/forwarder/defaultforwarder/endpoints/endpoints.go`). */
export const Endpoint = {
  SERIES_V2: '/api/v2/series',
  SKETCHES: '/api/beta/sketches',
  SERIES_V1: '/api/v1/series',
  CHECK_RUNS: '/api/v1/check_run',
  EVENTS: '/intake/',
} as const;
export type Endpoint = (typeof Endpoint)[keyof typeof Endpoint];

/** Content types (`pkg/serializer/serializer.go`: `protobufContentType`, `jsonContentType`). */
export const ContentType = {
  PROTOBUF: 'application/x-protobuf',
  JSON: 'application/json',
} as const;
export type ContentType = (typeof ContentType)[keyof typeof ContentType];

/** One compressed request body, ready for the HTTP forwarder. */
export interface IntakePayload {
  readonly kind: PayloadKind;
  readonly endpoint: Endpoint;
  readonly contentType: ContentType;
  readonly contentEncoding: ContentEncoding;
  /** The compressed body; owned by the payload (never reused by the encoder). */
  readonly body: Uint8Array;
  /** The body's size before compression. */
  readonly uncompressedBytes: number;
  /** Items (series, sketches, checks, events) in the body. */
  readonly items: number;
  /** Points in the body: series points, sketch points (one per bucket); 0 for checks and events. */
  readonly points: number;
}

/**
 * What {@link IntakeEncoder.add} says: `'ok'` (the encoder took the item, either into the
 * payload or, when it cannot fit even an empty payload, by dropping it and counting
 * `ItemTooBig` or `InvalidItem`), or `'flush-required'` (the item does not fit the open
 * payload: the caller still owns it, calls `finish()`, and adds it again).
 */
export type EncodeResult = 'ok' | 'flush-required';

/**
 * Encoder counters. `ItemTooBig`, `PayloadFull` and `UnexpectedItemDrops` are the agent's
 * serializer expvars (`pkg/serializer/internal/metrics`); `TotalPayloads`,
 * `TotalCompressCycles`, `BytesIn` and `BytesOut` are its `compressor` expvars
 * (`pkg/serializer/internal/stream/compressor.go`). `InvalidItem` counts items that cannot be
 * written at all (a non-finite number in JSON, an unknown metric type), like the agent's
 * jsonstream `WriteItemErrors`.
 */
export const ENCODER_COUNTERS = [
  'ItemsEncoded',
  'PointsEncoded',
  'ItemTooBig',
  'PayloadFull',
  'InvalidItem',
  'TotalPayloads',
  'TotalCompressCycles',
  'BytesIn',
  'BytesOut',
] as const;
export type EncoderCounterName = (typeof ENCODER_COUNTERS)[number];

/** Indices into an encoder's `counters.values` (the order of {@link ENCODER_COUNTERS}), for hot paths. */
export const EncoderCounter = {
  ITEMS_ENCODED: 0,
  POINTS_ENCODED: 1,
  ITEM_TOO_BIG: 2,
  PAYLOAD_FULL: 3,
  INVALID_ITEM: 4,
} as const;

/**
 * An incremental encoder: items go in one at a time and each is written (and compressed, in
 * segments) at once, so the payload's compressed size is always known and never passes the
 * intake's limits.
 */
export interface IntakeEncoder<T> {
  readonly kind: PayloadKind;
  readonly counters: CounterSet<EncoderCounterName>;
  /** Items in the open payload. */
  readonly pendingItems: number;
  add(item: T): EncodeResult;
  /** Closes the open payload: none if it holds no item, else one. The encoder is then empty and reusable. */
  finish(): IntakePayload[];
}

/**
 * The convenience tier: adds every item, cutting payloads where the encoder asks, and returns
 * them all (the encoder is left empty).
 */
export function encodeAll<T>(encoder: IntakeEncoder<T>, items: Iterable<T>): IntakePayload[] {
  const out: IntakePayload[] = [];
  for (const item of items) {
    if (encoder.add(item) === 'flush-required') {
      for (const p of encoder.finish()) out.push(p);
      // An empty payload never asks for a flush: the item is now written or dropped.
      encoder.add(item);
    }
  }
  for (const p of encoder.finish()) out.push(p);
  return out;
}
