import type { EventAlertType, EventPriority, MetricEvent, Series, SeriesPoint, ServiceCheck, ServiceCheckStatus } from '@kennel/core';
import { decodeError, decoded, DecodeErrorReason, type DecodeResult, type Mutable } from './result.js';

/** Events from an `/intake/` body, with the sender's `internalHostname`. */
export interface DecodedEvents {
  readonly internalHostname: string;
  readonly events: MetricEvent[];
}

/** Thrown inside this module only, to unwind a shape check; never escapes it. */
class ShapeError {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

function parse(body: Uint8Array): DecodeResult<unknown> {
  try {
    return decoded(JSON.parse(utf8.decode(body)) as unknown);
  } catch (e) {
    return decodeError(DecodeErrorReason.INVALID_JSON, e instanceof Error ? e.message : String(e));
  }
}

function shaped<T>(body: Uint8Array, read: (json: unknown) => T): DecodeResult<T> {
  const json = parse(body);
  if (!json.ok) return json;
  try {
    return decoded(read(json.value));
  } catch (e) {
    if (e instanceof ShapeError) return decodeError(DecodeErrorReason.INVALID_SHAPE, e.message);
    return decodeError(DecodeErrorReason.INVALID_SHAPE, e instanceof Error ? e.message : String(e));
  }
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, what: string): Obj {
  if (!isObj(v)) throw new ShapeError(`${what} is not an object`);
  return v;
}

function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new ShapeError(`${what} is not an array`);
  return v;
}

function str(o: Obj, key: string, what: string, fallback?: string): string {
  const v = o[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string') throw new ShapeError(`${what}.${key} is not a string`);
  return v;
}

function num(o: Obj, key: string, what: string, fallback?: number): number {
  const v = o[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number') throw new ShapeError(`${what}.${key} is not a number`);
  return v;
}

/** A list of strings; `null` or absent is an empty list (the agent writes `null` for no tags). */
function strings(o: Obj, key: string, what: string): string[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  const a = arr(v, `${what}.${key}`);
  for (let i = 0; i < a.length; i++) {
    if (typeof a[i] !== 'string') throw new ShapeError(`${what}.${key}[${i}] is not a string`);
  }
  return a as string[];
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new ShapeError(`${what} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  return value as T;
}

const SERIES_TYPES = ['gauge', 'rate', 'count'] as const;

/**
 * Decodes an uncompressed `/api/v1/series` body: `{"series":[{metric, points, tags, host,
 * device?, type, interval, source_type_name?}]}`. A missing `type` is `gauge` and a missing
 * `interval` 0, as the public v1 API reads them.
 */
export function decodeSeriesV1(body: Uint8Array): DecodeResult<Series[]> {
  return shaped(body, (json) => {
    const list = arr(obj(json, 'payload').series, 'series');
    return list.map((item, i) => {
      const what = `series[${i}]`;
      const o = obj(item, what);
      const points: SeriesPoint[] = arr(o.points, `${what}.points`).map((p, j) => {
        const pair = arr(p, `${what}.points[${j}]`);
        if (pair.length !== 2 || typeof pair[0] !== 'number' || typeof pair[1] !== 'number') {
          throw new ShapeError(`${what}.points[${j}] is not [timestamp, value]`);
        }
        return { timestamp: pair[0], value: pair[1] };
      });
      const s: Mutable<Series> = {
        name: str(o, 'metric', what),
        host: str(o, 'host', what, ''),
        tags: strings(o, 'tags', what),
        type: oneOf(str(o, 'type', what, 'gauge'), SERIES_TYPES, `${what}.type`),
        interval: num(o, 'interval', what, 0),
        points,
      };
      const device = str(o, 'device', what, '');
      if (device.length > 0) s.device = device;
      const sourceTypeName = str(o, 'source_type_name', what, '');
      if (sourceTypeName.length > 0) s.sourceTypeName = sourceTypeName;
      return s;
    });
  });
}

/** Decodes an uncompressed `/api/v1/check_run` body: `[{check, host_name, timestamp, status, message, tags}]`. */
export function decodeCheckRuns(body: Uint8Array): DecodeResult<ServiceCheck[]> {
  return shaped(body, (json) =>
    arr(json, 'payload').map((item, i): ServiceCheck => {
      const what = `check_run[${i}]`;
      const o = obj(item, what);
      const status = num(o, 'status', what);
      if (status !== 0 && status !== 1 && status !== 2 && status !== 3) {
        throw new ShapeError(`${what}.status ${status} is not 0, 1, 2 or 3`);
      }
      return {
        name: str(o, 'check', what),
        host: str(o, 'host_name', what, ''),
        timestamp: num(o, 'timestamp', what, 0),
        status: status as ServiceCheckStatus,
        message: str(o, 'message', what, ''),
        tags: strings(o, 'tags', what),
      };
    }),
  );
}

const PRIORITIES: readonly EventPriority[] = ['normal', 'low'];
const ALERT_TYPES: readonly EventAlertType[] = ['error', 'warning', 'info', 'success'];

/**
 * Decodes an uncompressed `/intake/` body: `{"apiKey":"","events":{<source type>:[...]},
 * "internalHostname":"<host>"}`. Events keep their own `source_type_name` (empty when absent,
 * whatever group they were filed under); a missing `priority` is `normal` and a missing
 * `alert_type` `info`, the agent's defaults.
 */
export function decodeEvents(body: Uint8Array): DecodeResult<DecodedEvents> {
  return shaped(body, (json) => {
    const root = obj(json, 'payload');
    const groups = obj(root.events, 'events');
    const events: MetricEvent[] = [];
    for (const [group, list] of Object.entries(groups)) {
      arr(list, `events.${group}`).forEach((item, i) => {
        const what = `events.${group}[${i}]`;
        const o = obj(item, what);
        events.push({
          title: str(o, 'msg_title', what, ''),
          text: str(o, 'msg_text', what, ''),
          timestamp: num(o, 'timestamp', what, 0),
          host: str(o, 'host', what, ''),
          aggregationKey: str(o, 'aggregation_key', what, ''),
          priority: oneOf(str(o, 'priority', what, 'normal'), PRIORITIES, `${what}.priority`),
          sourceTypeName: str(o, 'source_type_name', what, ''),
          alertType: oneOf(str(o, 'alert_type', what, 'info'), ALERT_TYPES, `${what}.alert_type`),
          tags: strings(o, 'tags', what),
        });
      });
    }
    return { internalHostname: str(root, 'internalHostname', 'payload', ''), events };
  });
}
