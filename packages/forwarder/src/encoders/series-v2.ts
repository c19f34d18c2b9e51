import { CounterSet, SeriesTypeCode } from '@kennel/core';
import type { Series, SeriesApiType, SeriesOrigin } from '@kennel/core';
import type { Compression } from '../compression/types.js';
import type { SerializerConfig } from '../config.js';
import type { WriteBuffer } from '../internal/write-buffer.js';
import { Commit, PayloadStream } from './payload-stream.js';
import { deviceOf, isSpecialTag, resourceSplit, scanSpecialTags, HAS_RESOURCE_TAG, RESOURCE_TAG_PREFIX } from './series-tags.js';
import {
  ContentType,
  ENCODER_COUNTERS,
  EncoderCounter,
  Endpoint,
  PayloadKind,
  type EncodeResult,
  type EncoderCounterName,
  type IntakeEncoder,
  type IntakePayload,
} from './types.js';

/**
 * The origin the agent writes for DogStatsD metrics: product 10 (Agent), category 10
 * (DogStatsD), service 0 (`pkg/serializer/internal/metrics/origin_mapping.go`:
 * `metricSourceToOriginProduct`, `metricSourceToOriginCategory`, `metricSourceToOriginService`
 * for `MetricSourceDogstatsd`).
 */
export const DOGSTATSD_ORIGIN: SeriesOrigin = Object.freeze({ product: 10, category: 10, service: 0 });

/** `MetricType` in `/api/v2/series` (agent `APIMetricType.SeriesAPIV2Enum`). */
export const SERIES_TYPE_CODE: Readonly<Record<SeriesApiType, SeriesTypeCode>> = Object.freeze({
  count: SeriesTypeCode.COUNT,
  rate: SeriesTypeCode.RATE,
  gauge: SeriesTypeCode.GAUGE,
});

// Field keys ((number << 3) | wire type) from agent-payload proto/metrics/agent_payload.proto,
// as iterable_series.go writes them.
const K_PAYLOAD_SERIES = 0x0a; // MetricPayload.series = 1, bytes
const K_SERIES_RESOURCES = 0x0a; // MetricSeries.resources = 1
const K_SERIES_METRIC = 0x12; // metric = 2
const K_SERIES_TAGS = 0x1a; // tags = 3
const K_SERIES_POINTS = 0x22; // points = 4
const K_SERIES_TYPE = 0x28; // type = 5, varint
const K_SERIES_UNIT = 0x32; // unit = 6
const K_SERIES_SOURCE_TYPE = 0x3a; // source_type_name = 7
const K_SERIES_INTERVAL = 0x40; // interval = 8, varint
const K_SERIES_METADATA = 0x4a; // metadata = 9
const K_RESOURCE_TYPE = 0x0a; // Resource.type = 1
const K_RESOURCE_NAME = 0x12; // Resource.name = 2
const K_POINT_VALUE = 0x09; // MetricPoint.value = 1, fixed64
const K_POINT_TIMESTAMP = 0x10; // MetricPoint.timestamp = 2, varint
const K_METADATA_ORIGIN = 0x0a; // Metadata.origin = 1
const K_ORIGIN_PRODUCT = 0x20; // Origin.origin_product = 4
const K_ORIGIN_CATEGORY = 0x28; // Origin.origin_category = 5
const K_ORIGIN_SERVICE = 0x30; // Origin.origin_service = 6

/** Writes `Metadata{origin}` as the agent does: always present, zero fields omitted. */
export function writeOriginMetadata(w: WriteBuffer, key: number, origin: SeriesOrigin): void {
  w.byte(key);
  const m = w.fork();
  w.byte(K_METADATA_ORIGIN);
  const o = w.fork();
  if (origin.product !== 0) {
    w.byte(K_ORIGIN_PRODUCT);
    w.varint64(origin.product);
  }
  if (origin.category !== 0) {
    w.byte(K_ORIGIN_CATEGORY);
    w.varint64(origin.category);
  }
  if (origin.service !== 0) {
    w.byte(K_ORIGIN_SERVICE);
    w.varint64(origin.service);
  }
  w.ldelim(o);
  w.ldelim(m);
}

function writeResource(w: WriteBuffer, type: string, name: string): void {
  w.byte(K_SERIES_RESOURCES);
  const r = w.fork();
  w.stringField(K_RESOURCE_TYPE, type);
  w.stringField(K_RESOURCE_NAME, name);
  w.ldelim(r);
}

const MAX_TS = Number.MAX_SAFE_INTEGER;

/**
 * The `/api/v2/series` encoder: protobuf `MetricPayload`, one `MetricSeries` per item, written
 * field for field as the agent's `PayloadsBuilder.writeSerie`
 * (`pkg/serializer/internal/metrics/iterable_series.go`).
 *
 * @remarks
 * What is written, in order: a `host` resource (always, with the name omitted when empty), a
 * `device` resource when the series has a device (from a `device:` tag or `series.device`),
 * the extra resources (`series.resources`, then `dd.internal.resource:` tags), the name, the
 * other tags, the type, the unit (kennel only: the agent never sets it), the source type name,
 * the interval, the points (timestamp then value) and `metadata.origin`. As in the agent's
 * molecule writer, zero scalars, empty strings and empty tags are omitted.
 *
 * A payload is cut at `serializer_max_series_payload_size` compressed bytes,
 * `serializer_max_series_uncompressed_payload_size` uncompressed bytes or
 * `serializer_max_series_points_per_payload` points. A series with more points than that, or
 * too big for an empty payload, is dropped and counted in `ItemTooBig`. A timestamp that is
 * not a finite number is an `InvalidItem`.
 *
 * @example
 * ```ts
 * const config = resolveSerializerConfig();
 * const encoder = new SeriesV2Encoder(config, await loadCompression(config));
 * encoder.add({ name: 'page.views', host: 'web-1', tags: ['env:prod'], type: 'count',
 *   interval: 10, points: [{ timestamp: 1700000000, value: 3 }] });
 * const [payload] = encoder.finish(); // POST payload.body to payload.endpoint
 * ```
 */
export class SeriesV2Encoder implements IntakeEncoder<Series> {
  readonly kind = PayloadKind.SERIES_V2;
  readonly counters = new CounterSet<EncoderCounterName>('series_v2', ENCODER_COUNTERS);
  private readonly stream: PayloadStream;
  private readonly contentEncoding: Compression['contentEncoding'];
  private readonly maxPoints: number;
  private points = 0;
  private readonly scan = { lastDeviceTag: -1 };

  constructor(config: SerializerConfig, compression: Compression) {
    this.contentEncoding = compression.contentEncoding;
    this.maxPoints = config.maxSeriesPointsPerPayload;
    const empty = new Uint8Array(0);
    this.stream = new PayloadStream(
      compression,
      { maxCompressed: config.maxSeriesPayloadSize, maxUncompressed: config.maxSeriesUncompressedPayloadSize },
      { header: empty, footer: empty, separator: empty },
      this.counters,
    );
  }

  get pendingItems(): number {
    return this.stream.items;
  }

  add(series: Series): EncodeResult {
    const v = this.counters.values;
    const n = series.points.length;
    // The points checks come first, as in writeSerie.
    if (n > this.maxPoints) {
      v[EncoderCounter.ITEM_TOO_BIG]!++;
      return 'ok';
    }
    if (this.points + n > this.maxPoints) {
      v[EncoderCounter.PAYLOAD_FULL]!++;
      return 'flush-required';
    }
    const typeCode = SERIES_TYPE_CODE[series.type];
    if (typeCode === undefined) {
      v[EncoderCounter.INVALID_ITEM]!++;
      return 'ok';
    }
    const stream = this.stream;
    stream.begin();
    if (!this.write(stream.w, series, typeCode)) {
      stream.abort();
      v[EncoderCounter.INVALID_ITEM]!++;
      return 'ok';
    }
    switch (stream.commit()) {
      case Commit.OK:
        this.points += n;
        v[EncoderCounter.ITEMS_ENCODED]!++;
        v[EncoderCounter.POINTS_ENCODED]! += n;
        return 'ok';
      case Commit.TOO_BIG:
        v[EncoderCounter.ITEM_TOO_BIG]!++;
        return 'ok';
      default:
        v[EncoderCounter.PAYLOAD_FULL]!++;
        return 'flush-required';
    }
  }

  /** Writes one `MetricPayload.series` entry; false when a timestamp cannot be written. */
  private write(w: WriteBuffer, s: Series, typeCode: number): boolean {
    const tags = s.tags;
    const flags = scanSpecialTags(tags, this.scan);
    w.byte(K_PAYLOAD_SERIES);
    const outer = w.fork();

    // The host resource is always written, even for an empty host.
    w.byte(K_SERIES_RESOURCES);
    const r = w.fork();
    w.byte(K_RESOURCE_TYPE);
    w.byte(4);
    w.ascii('host');
    w.stringField(K_RESOURCE_NAME, s.host);
    w.ldelim(r);

    const device = deviceOf(s, flags, this.scan.lastDeviceTag);
    if (device.length > 0) writeResource(w, 'device', device);
    const resources = s.resources;
    if (resources !== undefined) {
      for (let i = 0; i < resources.length; i++) writeResource(w, resources[i]!.type, resources[i]!.name);
    }
    if ((flags & HAS_RESOURCE_TAG) !== 0) {
      for (let i = 0; i < tags.length; i++) {
        const t = tags[i]!;
        if (!t.startsWith(RESOURCE_TAG_PREFIX)) continue;
        const colon = resourceSplit(t);
        if (colon >= 0) writeResource(w, t.slice(RESOURCE_TAG_PREFIX.length, colon), t.slice(colon + 1));
      }
    }

    w.stringField(K_SERIES_METRIC, s.name);
    for (let i = 0; i < tags.length; i++) {
      const t = tags[i]!;
      if (!isSpecialTag(t, flags)) w.stringField(K_SERIES_TAGS, t);
    }
    w.byte(K_SERIES_TYPE);
    w.varint32(typeCode);
    if (s.unit !== undefined) w.stringField(K_SERIES_UNIT, s.unit);
    if (s.sourceTypeName !== undefined) w.stringField(K_SERIES_SOURCE_TYPE, s.sourceTypeName);
    const interval = Math.trunc(s.interval);
    if (interval !== 0 && interval >= -MAX_TS && interval <= MAX_TS) {
      w.byte(K_SERIES_INTERVAL);
      w.varint64(interval);
    }

    const points = s.points;
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      const ts = Math.trunc(p.timestamp);
      if (!(ts >= -MAX_TS && ts <= MAX_TS)) return false;
      w.byte(K_SERIES_POINTS);
      const pt = w.fork();
      if (ts !== 0) {
        w.byte(K_POINT_TIMESTAMP);
        w.varint64(ts);
      }
      const value = p.value;
      // molecule's Double skips 0 (and -0, which equals it); NaN is written.
      if (value !== 0) {
        w.byte(K_POINT_VALUE);
        w.double(value);
      }
      w.ldelim(pt);
    }

    writeOriginMetadata(w, K_SERIES_METADATA, s.origin ?? DOGSTATSD_ORIGIN);
    w.ldelim(outer);
    return true;
  }

  finish(): IntakePayload[] {
    const points = this.points;
    this.points = 0;
    const closed = this.stream.close();
    if (closed === null) return [];
    return [
      {
        kind: this.kind,
        endpoint: Endpoint.SERIES_V2,
        contentType: ContentType.PROTOBUF,
        contentEncoding: this.contentEncoding,
        body: closed.body,
        uncompressedBytes: closed.uncompressedBytes,
        items: closed.items,
        points,
      },
    ];
  }
}
