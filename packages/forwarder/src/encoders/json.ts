import { CounterSet } from '@kennel/core';
import type { MetricEvent, Series, ServiceCheck } from '@kennel/core';
import type { Compression, CompressionStream } from '../compression/types.js';
import type { SerializerConfig } from '../config.js';
import { WriteBuffer } from '../internal/write-buffer.js';
import { Commit, PayloadStream } from './payload-stream.js';
import { deviceOf, isSpecialTag, scanSpecialTags } from './series-tags.js';
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

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const COMMA = ascii(',');
/** `writeEventsHeader`: `{"apiKey":"","events":{` (the API key field is legacy and left empty). */
const EVENTS_HEADER = ascii('{"apiKey":"","events":{');

/** Shared by the JSON encoders that stream items between a header and a footer. */
abstract class StreamJsonEncoder<T> implements IntakeEncoder<T> {
  abstract readonly kind: PayloadKind;
  readonly counters: CounterSet<EncoderCounterName>;
  protected readonly stream: PayloadStream;
  private readonly contentEncoding: Compression['contentEncoding'];
  private readonly endpoint: Endpoint;
  private points = 0;

  constructor(
    group: string,
    endpoint: Endpoint,
    config: SerializerConfig,
    compression: Compression,
    header: Uint8Array,
    footer: Uint8Array,
  ) {
    this.counters = new CounterSet<EncoderCounterName>(group, ENCODER_COUNTERS);
    this.endpoint = endpoint;
    this.contentEncoding = compression.contentEncoding;
    // The agent's JSONPayloadBuilder: serializer_max_payload_size and
    // serializer_max_uncompressed_payload_size, items separated by ','
    // (pkg/serializer/internal/stream/json_payload_builder.go).
    this.stream = new PayloadStream(
      compression,
      { maxCompressed: config.maxPayloadSize, maxUncompressed: config.maxUncompressedPayloadSize },
      { header, footer, separator: COMMA },
      this.counters,
    );
  }

  get pendingItems(): number {
    return this.stream.items;
  }

  /** Writes the item's JSON; false when it cannot be written. */
  protected abstract write(w: WriteBuffer, item: T): boolean;
  protected abstract pointsOf(item: T): number;

  add(item: T): EncodeResult {
    const v = this.counters.values;
    const stream = this.stream;
    stream.begin();
    if (!this.write(stream.w, item)) {
      stream.abort();
      v[EncoderCounter.INVALID_ITEM]!++;
      return 'ok';
    }
    switch (stream.commit()) {
      case Commit.OK: {
        const n = this.pointsOf(item);
        this.points += n;
        v[EncoderCounter.ITEMS_ENCODED]!++;
        v[EncoderCounter.POINTS_ENCODED]! += n;
        return 'ok';
      }
      case Commit.TOO_BIG:
        v[EncoderCounter.ITEM_TOO_BIG]!++;
        return 'ok';
      default:
        v[EncoderCounter.PAYLOAD_FULL]!++;
        return 'flush-required';
    }
  }

  finish(): IntakePayload[] {
    const points = this.points;
    this.points = 0;
    const closed = this.stream.close();
    if (closed === null) return [];
    return [
      {
        kind: this.kind,
        endpoint: this.endpoint,
        contentType: ContentType.JSON,
        contentEncoding: this.contentEncoding,
        body: closed.body,
        uncompressedBytes: closed.uncompressedBytes,
        items: closed.items,
        points,
      },
    ];
  }
}

/** Writes a JSON array of strings. */
function jsonStrings(w: WriteBuffer, values: readonly string[]): void {
  w.byte(0x5b);
  for (let i = 0; i < values.length; i++) {
    if (i > 0) w.byte(0x2c);
    w.jsonString(values[i]!);
  }
  w.byte(0x5d);
}

/**
 * The `/api/v1/series` encoder: `{"series":[...]}` JSON, each series written as the agent's
 * `encodeSerie` does (`pkg/serializer/internal/metrics/iterable_series.go`):
 * `metric, points [[ts, value]], tags, host, device (when set), type, interval,
 * source_type_name (when set)`.
 *
 * @remarks
 * As in the agent, a `device:` tag becomes the `device` field and `dd.internal.resource:` tags
 * are removed (v1 has no resources). A series with a value that JSON cannot hold (NaN,
 * infinities) cannot be written and is counted in `InvalidItem` (the agent's jsonstream
 * `WriteItemErrors`). There is no point limit for v1.
 */
export class SeriesV1Encoder extends StreamJsonEncoder<Series> {
  readonly kind = PayloadKind.SERIES_V1;
  private readonly scan = { lastDeviceTag: -1 };

  constructor(config: SerializerConfig, compression: Compression) {
    super('series_v1', Endpoint.SERIES_V1, config, compression, ascii('{"series":['), ascii(']}'));
  }

  protected pointsOf(s: Series): number {
    return s.points.length;
  }

  protected write(w: WriteBuffer, s: Series): boolean {
    if (s.type !== 'gauge' && s.type !== 'rate' && s.type !== 'count') return false;
    if (!Number.isFinite(s.interval)) return false;
    const flags = scanSpecialTags(s.tags, this.scan);
    w.ascii('{"metric":');
    w.jsonString(s.name);
    w.ascii(',"points":[');
    const points = s.points;
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      if (!Number.isFinite(p.value) || !Number.isFinite(p.timestamp)) return false;
      if (i > 0) w.byte(0x2c);
      w.byte(0x5b);
      w.jsonInt(p.timestamp);
      w.byte(0x2c);
      w.jsonNumber(p.value);
      w.byte(0x5d);
    }
    w.ascii('],"tags":[');
    const tags = s.tags;
    let first = true;
    for (let i = 0; i < tags.length; i++) {
      const t = tags[i]!;
      if (isSpecialTag(t, flags)) continue;
      if (!first) w.byte(0x2c);
      first = false;
      w.jsonString(t);
    }
    w.ascii('],"host":');
    w.jsonString(s.host);
    const device = deviceOf(s, flags, this.scan.lastDeviceTag);
    if (device.length > 0) {
      w.ascii(',"device":');
      w.jsonString(device);
    }
    w.ascii(',"type":"');
    w.ascii(s.type);
    w.ascii('","interval":');
    w.jsonInt(s.interval);
    if (s.sourceTypeName !== undefined && s.sourceTypeName.length > 0) {
      w.ascii(',"source_type_name":');
      w.jsonString(s.sourceTypeName);
    }
    w.byte(0x7d);
    return true;
  }
}

/**
 * The `/api/v1/check_run` encoder: a JSON array of service checks, each written as the agent's
 * `writeServiceCheck` does (`pkg/serializer/internal/metrics/service_checks.go`):
 * `check, host_name, timestamp, status, message, tags` (`null` when there are none).
 */
export class ServiceCheckEncoder extends StreamJsonEncoder<ServiceCheck> {
  readonly kind = PayloadKind.CHECK_RUNS;

  constructor(config: SerializerConfig, compression: Compression) {
    super('check_runs', Endpoint.CHECK_RUNS, config, compression, ascii('['), ascii(']'));
  }

  protected pointsOf(): number {
    return 0;
  }

  protected write(w: WriteBuffer, c: ServiceCheck): boolean {
    if (!Number.isFinite(c.timestamp) || !Number.isInteger(c.status)) return false;
    w.ascii('{"check":');
    w.jsonString(c.name);
    w.ascii(',"host_name":');
    w.jsonString(c.host);
    w.ascii(',"timestamp":');
    w.jsonInt(c.timestamp);
    w.ascii(',"status":');
    w.jsonInt(c.status);
    w.ascii(',"message":');
    w.jsonString(c.message);
    if (c.tags.length === 0) {
      w.ascii(',"tags":null}');
    } else {
      w.ascii(',"tags":');
      jsonStrings(w, c.tags);
      w.byte(0x7d);
    }
    return true;
  }
}

/** Writes one event as the agent's `writeEvent` does (`pkg/serializer/internal/metrics/events.go`). */
function writeEvent(w: WriteBuffer, e: MetricEvent): boolean {
  if (!Number.isFinite(e.timestamp)) return false;
  w.ascii('{"msg_title":');
  w.jsonString(e.title);
  w.ascii(',"msg_text":');
  w.jsonString(e.text);
  w.ascii(',"timestamp":');
  w.jsonInt(e.timestamp);
  if (e.priority.length > 0) {
    w.ascii(',"priority":');
    w.jsonString(e.priority);
  }
  w.ascii(',"host":');
  w.jsonString(e.host);
  if (e.tags.length > 0) {
    w.ascii(',"tags":');
    jsonStrings(w, e.tags);
  }
  if (e.alertType.length > 0) {
    w.ascii(',"alert_type":');
    w.jsonString(e.alertType);
  }
  if (e.aggregationKey.length > 0) {
    w.ascii(',"aggregation_key":');
    w.jsonString(e.aggregationKey);
  }
  if (e.sourceTypeName.length > 0) {
    w.ascii(',"source_type_name":');
    w.jsonString(e.sourceTypeName);
  }
  w.byte(0x7d);
  return true;
}

/** Events of one source type in the open payload: byte ranges in the encoder's item buffer. */
interface EventGroup {
  readonly key: string;
  readonly starts: number[];
  readonly ends: number[];
}

/**
 * The `/intake/` events encoder: `{"apiKey":"","events":{"<source type>":[...]},"internalHostname":"<host>"}`,
 * the agent's single-payload form (`pkg/serializer/internal/metrics/events.go`:
 * `CreateSingleMarshaler`, `writeEventsHeader`, `writeEvent`, `writeEventsFooter`). Events are
 * grouped by `source_type_name`, an empty one under `api` (`getEventsBySourceType`); each
 * event's fields are `msg_title, msg_text, timestamp, priority, host, tags, alert_type,
 * aggregation_key, source_type_name`, the optional ones omitted when empty (`pkg/metrics/event.go`).
 *
 * @remarks
 * Grouping means an event cannot be streamed into place as it arrives, so this encoder keeps
 * the events' JSON uncompressed and takes an event only while the worst-case compressed size
 * of the whole payload (`segmentBound` of its uncompressed size) fits
 * `serializer_max_payload_size`, and the uncompressed size fits
 * `serializer_max_uncompressed_payload_size`. A payload therefore holds at most about the
 * compressed limit of JSON; events are rare, so this costs payloads only in bursts.
 */
export class EventEncoder implements IntakeEncoder<MetricEvent> {
  readonly kind = PayloadKind.EVENTS;
  readonly counters = new CounterSet<EncoderCounterName>('events', ENCODER_COUNTERS);
  private readonly compression: Compression;
  private readonly stream: CompressionStream;
  private readonly items = new WriteBuffer(16 * 1024);
  private readonly out = new WriteBuffer(16 * 1024);
  private readonly groups = new Map<string, EventGroup>();
  private readonly maxCompressed: number;
  private readonly maxUncompressed: number;
  private readonly fixedBytes: number;
  private readonly footer: Uint8Array;
  private size = 0;
  private count = 0;

  constructor(config: SerializerConfig, compression: Compression) {
    this.compression = compression;
    this.stream = compression.createStream();
    this.maxCompressed = config.maxPayloadSize;
    this.maxUncompressed = config.maxUncompressedPayloadSize;
    const footer = new WriteBuffer(256);
    footer.ascii('},"internalHostname":');
    footer.jsonString(config.hostname);
    footer.byte(0x7d);
    this.footer = footer.buf.subarray(0, footer.pos);
    this.fixedBytes = EVENTS_HEADER.length + this.footer.length;
    this.size = this.fixedBytes;
  }

  get pendingItems(): number {
    return this.count;
  }

  private fits(size: number): boolean {
    const c = this.compression;
    return size <= this.maxUncompressed && c.headerBytes + c.segmentBound(size) + c.trailerBytes <= this.maxCompressed;
  }

  add(event: MetricEvent): EncodeResult {
    const v = this.counters.values;
    const w = this.items;
    const start = w.pos;
    if (!writeEvent(w, event)) {
      w.pos = start;
      v[EncoderCounter.INVALID_ITEM]!++;
      return 'ok';
    }
    const itemLength = w.pos - start;
    const key = event.sourceTypeName.length > 0 ? event.sourceTypeName : 'api';
    const group = this.groups.get(key);
    // A group costs `"key":[` and `]`, plus a comma after the first group; an event in an
    // existing group costs a comma.
    const keyBytes = Buffer.byteLength(JSON.stringify(key)) + 3;
    const groupBytes = group === undefined ? keyBytes + (this.groups.size > 0 ? 1 : 0) : 1;
    if (!this.fits(this.fixedBytes + keyBytes + itemLength)) {
      w.pos = start;
      v[EncoderCounter.ITEM_TOO_BIG]!++;
      return 'ok';
    }
    const size = this.size + groupBytes + itemLength;
    if (!this.fits(size)) {
      w.pos = start;
      v[EncoderCounter.PAYLOAD_FULL]!++;
      return 'flush-required';
    }
    if (group === undefined) {
      this.groups.set(key, { key, starts: [start], ends: [w.pos] });
    } else {
      group.starts.push(start);
      group.ends.push(w.pos);
    }
    this.size = size;
    this.count++;
    v[EncoderCounter.ITEMS_ENCODED]!++;
    return 'ok';
  }

  finish(): IntakePayload[] {
    if (this.count === 0) return [];
    const out = this.out;
    const src = this.items.buf;
    out.pos = 0;
    out.bytes(EVENTS_HEADER);
    let firstGroup = true;
    for (const g of this.groups.values()) {
      if (!firstGroup) out.byte(0x2c);
      firstGroup = false;
      out.jsonString(g.key);
      out.ascii(':[');
      for (let i = 0; i < g.starts.length; i++) {
        if (i > 0) out.byte(0x2c);
        out.bytes(src.subarray(g.starts[i]!, g.ends[i]!));
      }
      out.byte(0x5d);
    }
    out.bytes(this.footer);
    const uncompressedBytes = out.pos;
    const body = this.stream.finish(out.buf, 0, out.pos);
    const items = this.count;
    const v = this.counters.values;
    v[this.counters.index('TotalCompressCycles')]!++;
    v[this.counters.index('TotalPayloads')]!++;
    v[this.counters.index('BytesIn')]! += uncompressedBytes;
    v[this.counters.index('BytesOut')]! += body.length;
    this.groups.clear();
    this.items.pos = 0;
    this.size = this.fixedBytes;
    this.count = 0;
    return [
      {
        kind: this.kind,
        endpoint: Endpoint.EVENTS,
        contentType: ContentType.JSON,
        contentEncoding: this.compression.contentEncoding,
        body,
        uncompressedBytes,
        items,
        points: 0,
      },
    ];
  }
}
