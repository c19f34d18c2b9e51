import { CounterSet } from '@kennel/core';
import type { SketchSeries } from '@kennel/core';
import type { Compression } from '../compression/types.js';
import type { SerializerConfig } from '../config.js';
import { zigzag32, type WriteBuffer } from '../internal/write-buffer.js';
import { Commit, PayloadStream } from './payload-stream.js';
import { DOGSTATSD_ORIGIN, writeOriginMetadata } from './series-v2.js';
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

// Field keys from agent-payload proto/metrics/agent_payload.proto (SketchPayload), as
// sketch_series_list.go writes them.
const K_PAYLOAD_SKETCHES = 0x0a; // SketchPayload.sketches = 1
const K_SKETCH_METRIC = 0x0a; // Sketch.metric = 1
const K_SKETCH_HOST = 0x12; // host = 2
const K_SKETCH_TAGS = 0x22; // tags = 4
const K_SKETCH_DOGSKETCHES = 0x3a; // dogsketches = 7
const K_SKETCH_METADATA = 0x42; // metadata = 8
const K_DS_TS = 0x08; // Dogsketch.ts = 1, varint
const K_DS_CNT = 0x10; // cnt = 2, varint
const K_DS_MIN = 0x19; // min = 3, fixed64
const K_DS_MAX = 0x21; // max = 4
const K_DS_AVG = 0x29; // avg = 5
const K_DS_SUM = 0x31; // sum = 6
const K_DS_K = 0x3a; // k = 7, packed sint32
const K_DS_N = 0x42; // n = 8, packed uint32

/**
 * The payload's footer: an empty `metadata = 2` (`12 00`), which the agent appends because
 * gogoproto's generated code writes it too (`sketch_series_list.go`).
 */
const SKETCH_FOOTER = Uint8Array.of(0x12, 0x00);

const MAX_INT = Number.MAX_SAFE_INTEGER;

function double(w: WriteBuffer, key: number, v: number): void {
  if (v !== 0) {
    w.byte(key);
    w.double(v);
  }
}

/**
 * The `/api/beta/sketches` encoder: protobuf `SketchPayload`, one `Sketch` per item, written as
 * `SketchSeriesList.MarshalSplitCompress` does (`pkg/serializer/internal/metrics/sketch_series_list.go`).
 *
 * @remarks
 * Per sketch: metric, host, tags (empty ones skipped), one `Dogsketch` per point (`ts`, `cnt`,
 * `min`, `max`, `avg`, `sum`, then `k` as packed zig-zag `sint32` and `n` as packed `uint32`;
 * zero scalars omitted) and `metadata.origin`. The legacy `distributions` field is never
 * written, as in the agent. Payloads are cut at `serializer_max_payload_size` compressed and
 * `serializer_max_uncompressed_payload_size` uncompressed bytes; there is no point limit.
 * Sketches carry no interval on the wire.
 */
export class SketchEncoder implements IntakeEncoder<SketchSeries> {
  readonly kind = PayloadKind.SKETCHES;
  readonly counters = new CounterSet<EncoderCounterName>('sketches', ENCODER_COUNTERS);
  private readonly stream: PayloadStream;
  private readonly contentEncoding: Compression['contentEncoding'];
  private points = 0;

  constructor(config: SerializerConfig, compression: Compression) {
    this.contentEncoding = compression.contentEncoding;
    const empty = new Uint8Array(0);
    this.stream = new PayloadStream(
      compression,
      { maxCompressed: config.maxPayloadSize, maxUncompressed: config.maxUncompressedPayloadSize },
      { header: empty, footer: SKETCH_FOOTER, separator: empty },
      this.counters,
    );
  }

  get pendingItems(): number {
    return this.stream.items;
  }

  add(sketch: SketchSeries): EncodeResult {
    const v = this.counters.values;
    const stream = this.stream;
    stream.begin();
    if (!this.write(stream.w, sketch)) {
      stream.abort();
      v[EncoderCounter.INVALID_ITEM]!++;
      return 'ok';
    }
    switch (stream.commit()) {
      case Commit.OK:
        this.points += sketch.points.length;
        v[EncoderCounter.ITEMS_ENCODED]!++;
        v[EncoderCounter.POINTS_ENCODED]! += sketch.points.length;
        return 'ok';
      case Commit.TOO_BIG:
        v[EncoderCounter.ITEM_TOO_BIG]!++;
        return 'ok';
      default:
        v[EncoderCounter.PAYLOAD_FULL]!++;
        return 'flush-required';
    }
  }

  /** Writes one `SketchPayload.sketches` entry; false when a point cannot be written. */
  private write(w: WriteBuffer, s: SketchSeries): boolean {
    w.byte(K_PAYLOAD_SKETCHES);
    const outer = w.fork();
    w.stringField(K_SKETCH_METRIC, s.name);
    w.stringField(K_SKETCH_HOST, s.host);
    const tags = s.tags;
    for (let i = 0; i < tags.length; i++) w.stringField(K_SKETCH_TAGS, tags[i]!);
    const points = s.points;
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      const ts = Math.trunc(p.timestamp);
      const cnt = Math.trunc(p.count);
      const keys = p.keys;
      const counts = p.counts;
      if (!(ts >= -MAX_INT && ts <= MAX_INT) || !(cnt >= -MAX_INT && cnt <= MAX_INT) || keys.length !== counts.length) {
        return false;
      }
      w.byte(K_SKETCH_DOGSKETCHES);
      const d = w.fork();
      if (ts !== 0) {
        w.byte(K_DS_TS);
        w.varint64(ts);
      }
      if (cnt !== 0) {
        w.byte(K_DS_CNT);
        w.varint64(cnt);
      }
      double(w, K_DS_MIN, p.min);
      double(w, K_DS_MAX, p.max);
      double(w, K_DS_AVG, p.avg);
      double(w, K_DS_SUM, p.sum);
      if (keys.length > 0) {
        w.byte(K_DS_K);
        const k = w.fork();
        for (let j = 0; j < keys.length; j++) w.varint32(zigzag32(keys[j]! | 0));
        w.ldelim(k);
        w.byte(K_DS_N);
        const n = w.fork();
        for (let j = 0; j < counts.length; j++) w.varint32(counts[j]! >>> 0);
        w.ldelim(n);
      }
      w.ldelim(d);
    }
    writeOriginMetadata(w, K_SKETCH_METADATA, s.origin ?? DOGSTATSD_ORIGIN);
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
        endpoint: Endpoint.SKETCHES,
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
