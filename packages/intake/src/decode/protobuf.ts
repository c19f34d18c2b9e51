import type { Series, SeriesApiType, SeriesOrigin, SeriesPoint, SeriesResource, SketchPoint, SketchSeries } from '@kennel/core';
import { ProtoReader, WireType } from './proto-reader.js';
import { decodeError, decoded, DecodeErrorReason, type DecodeResult, type Mutable } from './result.js';

// Field numbers: DataDog/agent-payload proto/metrics/agent_payload.proto.

/** `MetricPayload.MetricType` (UNSPECIFIED = 0 is rejected: the agent never sends it). */
const METRIC_TYPES: readonly (SeriesApiType | undefined)[] = [undefined, 'count', 'rate', 'gauge'];

function failure<T>(r: ProtoReader): DecodeResult<T> {
  return decodeError(r.reason ?? DecodeErrorReason.TRUNCATED, r.message);
}

/** `Metadata { Origin origin = 1 }`, `Origin { origin_product = 4; origin_category = 5; origin_service = 6 }`. */
function readMetadata(r: ProtoReader): SeriesOrigin {
  let product = 0;
  let category = 0;
  let service = 0;
  const outer = r.enter();
  if (outer < 0) return { product, category, service };
  while (r.more) {
    const key = r.key();
    if (key < 0) break;
    if (key >>> 3 === 1) {
      if (!r.expect(key & 7, WireType.LEN, 'Metadata', 1)) break;
      const o = r.enter();
      if (o < 0) break;
      while (r.more) {
        const k = r.key();
        if (k < 0) break;
        const f = k >>> 3;
        if (f >= 4 && f <= 6) {
          if (!r.expect(k & 7, WireType.VARINT, 'Origin', f)) break;
          const v = r.uint32();
          if (f === 4) product = v;
          else if (f === 5) category = v;
          else service = v;
        } else if (!r.skip(k & 7)) break;
      }
      r.leave(o);
    } else if (!r.skip(key & 7)) break;
  }
  r.leave(outer);
  return { product, category, service };
}

/** `Resource { string type = 1; string name = 2; }` */
function readResource(r: ProtoReader): SeriesResource {
  let type = '';
  let name = '';
  const outer = r.enter();
  if (outer < 0) return { type, name };
  while (r.more) {
    const key = r.key();
    if (key < 0) break;
    const f = key >>> 3;
    if (f === 1 || f === 2) {
      if (!r.expect(key & 7, WireType.LEN, 'Resource', f)) break;
      if (f === 1) type = r.string();
      else name = r.string();
    } else if (!r.skip(key & 7)) break;
  }
  r.leave(outer);
  return { type, name };
}

/** `MetricPoint { double value = 1; int64 timestamp = 2; }` */
function readPoint(r: ProtoReader): SeriesPoint {
  let value = 0;
  let timestamp = 0;
  const outer = r.enter();
  if (outer < 0) return { timestamp, value };
  while (r.more) {
    const key = r.key();
    if (key < 0) break;
    const f = key >>> 3;
    if (f === 1) {
      if (!r.expect(key & 7, WireType.FIXED64, 'MetricPoint', 1)) break;
      value = r.double();
    } else if (f === 2) {
      if (!r.expect(key & 7, WireType.VARINT, 'MetricPoint', 2)) break;
      timestamp = r.int64();
    } else if (!r.skip(key & 7)) break;
  }
  r.leave(outer);
  return { timestamp, value };
}

function readSeries(r: ProtoReader): Series | null {
  const outer = r.enter();
  if (outer < 0) return null;
  let name = '';
  const tags: string[] = [];
  const points: SeriesPoint[] = [];
  const resources: SeriesResource[] = [];
  let typeCode = 0;
  let unit = '';
  let sourceTypeName = '';
  let interval = 0;
  let origin: SeriesOrigin | undefined;
  while (r.more) {
    const key = r.key();
    if (key < 0) break;
    const f = key >>> 3;
    const wt = key & 7;
    switch (f) {
      case 1:
        if (r.expect(wt, WireType.LEN, 'MetricSeries', f)) resources.push(readResource(r));
        break;
      case 2:
        if (r.expect(wt, WireType.LEN, 'MetricSeries', f)) name = r.string();
        break;
      case 3:
        if (r.expect(wt, WireType.LEN, 'MetricSeries', f)) tags.push(r.string());
        break;
      case 4:
        if (r.expect(wt, WireType.LEN, 'MetricSeries', f)) points.push(readPoint(r));
        break;
      case 5:
        if (r.expect(wt, WireType.VARINT, 'MetricSeries', f)) typeCode = r.int64();
        break;
      case 6:
        if (r.expect(wt, WireType.LEN, 'MetricSeries', f)) unit = r.string();
        break;
      case 7:
        if (r.expect(wt, WireType.LEN, 'MetricSeries', f)) sourceTypeName = r.string();
        break;
      case 8:
        if (r.expect(wt, WireType.VARINT, 'MetricSeries', f)) interval = r.int64();
        break;
      case 9:
        if (r.expect(wt, WireType.LEN, 'MetricSeries', f)) origin = readMetadata(r);
        break;
      default:
        r.skip(wt);
    }
  }
  r.leave(outer);
  if (r.failed) return null;
  const type = METRIC_TYPES[typeCode];
  if (type === undefined) {
    r.fail(DecodeErrorReason.INVALID_VALUE, `series ${JSON.stringify(name)} has metric type ${typeCode}`);
    return null;
  }
  // The first `host` resource is the host and the first `device` resource the device, as the
  // agent writes them; any other resource is an extra one.
  let host = '';
  let device: string | undefined;
  let hostSeen = false;
  const extra: SeriesResource[] = [];
  for (const res of resources) {
    if (!hostSeen && res.type === 'host') {
      hostSeen = true;
      host = res.name;
    } else if (device === undefined && res.type === 'device') {
      device = res.name;
    } else {
      extra.push(res);
    }
  }
  const s: Mutable<Series> = { name, host, tags, type, interval, points };
  if (device !== undefined && device.length > 0) s.device = device;
  if (sourceTypeName.length > 0) s.sourceTypeName = sourceTypeName;
  if (unit.length > 0) s.unit = unit;
  if (extra.length > 0) s.resources = extra;
  if (origin !== undefined) s.origin = origin;
  return s;
}

/**
 * Decodes an uncompressed `/api/v2/series` body (`MetricPayload`) into series. The `host` and
 * `device` resources become `host` and `device`; other resources stay in `resources`.
 */
export function decodeSeriesV2(body: Uint8Array): DecodeResult<Series[]> {
  const r = new ProtoReader(body);
  const out: Series[] = [];
  while (r.more) {
    const key = r.key();
    if (key < 0) break;
    if (key >>> 3 === 1) {
      if (!r.expect(key & 7, WireType.LEN, 'MetricPayload', 1)) break;
      const s = readSeries(r);
      if (s !== null) out.push(s);
    } else {
      r.skip(key & 7);
    }
  }
  return r.failed ? failure(r) : decoded(out);
}

/** Reads a repeated scalar that may be packed (one LEN) or not (one value per key). */
function readRepeated(r: ProtoReader, wt: number, out: number[], read: (r: ProtoReader) => number, message: string, field: number): void {
  if (wt === WireType.LEN) {
    const outer = r.enter();
    if (outer < 0) return;
    while (r.more) out.push(read(r));
    r.leave(outer);
  } else if (r.expect(wt, WireType.VARINT, message, field)) {
    out.push(read(r));
  }
}

const readSint32 = (r: ProtoReader): number => r.sint32();
const readUint32 = (r: ProtoReader): number => r.uint32();

/** `Dogsketch { ts = 1; cnt = 2; min = 3; max = 4; avg = 5; sum = 6; repeated sint32 k = 7; repeated uint32 n = 8; }` */
function readDogsketch(r: ProtoReader): SketchPoint {
  let timestamp = 0;
  let count = 0;
  let min = 0;
  let max = 0;
  let avg = 0;
  let sum = 0;
  const keys: number[] = [];
  const counts: number[] = [];
  const outer = r.enter();
  if (outer < 0) return { timestamp, count, min, max, sum, avg, keys, counts };
  while (r.more) {
    const key = r.key();
    if (key < 0) break;
    const f = key >>> 3;
    const wt = key & 7;
    switch (f) {
      case 1:
        if (r.expect(wt, WireType.VARINT, 'Dogsketch', f)) timestamp = r.int64();
        break;
      case 2:
        if (r.expect(wt, WireType.VARINT, 'Dogsketch', f)) count = r.int64();
        break;
      case 3:
      case 4:
      case 5:
      case 6: {
        if (!r.expect(wt, WireType.FIXED64, 'Dogsketch', f)) break;
        const v = r.double();
        if (f === 3) min = v;
        else if (f === 4) max = v;
        else if (f === 5) avg = v;
        else sum = v;
        break;
      }
      case 7:
        readRepeated(r, wt, keys, readSint32, 'Dogsketch', f);
        break;
      case 8:
        readRepeated(r, wt, counts, readUint32, 'Dogsketch', f);
        break;
      default:
        r.skip(wt);
    }
  }
  r.leave(outer);
  return { timestamp, count, min, max, sum, avg, keys, counts };
}

function readSketch(r: ProtoReader): SketchSeries | null {
  const outer = r.enter();
  if (outer < 0) return null;
  let name = '';
  let host = '';
  const tags: string[] = [];
  const points: SketchPoint[] = [];
  let origin: SeriesOrigin | undefined;
  while (r.more) {
    const key = r.key();
    if (key < 0) break;
    const f = key >>> 3;
    const wt = key & 7;
    switch (f) {
      case 1:
        if (r.expect(wt, WireType.LEN, 'Sketch', f)) name = r.string();
        break;
      case 2:
        if (r.expect(wt, WireType.LEN, 'Sketch', f)) host = r.string();
        break;
      case 4:
        if (r.expect(wt, WireType.LEN, 'Sketch', f)) tags.push(r.string());
        break;
      case 7:
        if (r.expect(wt, WireType.LEN, 'Sketch', f)) points.push(readDogsketch(r));
        break;
      case 8:
        if (r.expect(wt, WireType.LEN, 'Sketch', f)) origin = readMetadata(r);
        break;
      default:
        // distributions = 3 (legacy, never sent by the agent) and unknown fields.
        r.skip(wt);
    }
  }
  r.leave(outer);
  if (r.failed) return null;
  for (const p of points) {
    if (p.keys.length !== p.counts.length) {
      r.fail(DecodeErrorReason.INVALID_VALUE, `sketch ${JSON.stringify(name)} has ${p.keys.length} keys but ${p.counts.length} counts`);
      return null;
    }
  }
  // Sketches carry no interval on the wire.
  const s: Mutable<SketchSeries> = { name, host, tags, interval: 0, points };
  if (origin !== undefined) s.origin = origin;
  return s;
}

/** Decodes an uncompressed `/api/beta/sketches` body (`SketchPayload`) into sketch series. */
export function decodeSketches(body: Uint8Array): DecodeResult<SketchSeries[]> {
  const r = new ProtoReader(body);
  const out: SketchSeries[] = [];
  while (r.more) {
    const key = r.key();
    if (key < 0) break;
    if (key >>> 3 === 1) {
      if (!r.expect(key & 7, WireType.LEN, 'SketchPayload', 1)) break;
      const s = readSketch(r);
      if (s !== null) out.push(s);
    } else {
      // metadata = 2 (CommonMetadata, empty from the agent) and unknown fields.
      r.skip(key & 7);
    }
  }
  return r.failed ? failure(r) : decoded(out);
}
