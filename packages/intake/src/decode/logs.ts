import { decodeError, decoded, DecodeErrorReason, type DecodeResult } from './result.js';

/**
 * One log event of an `/api/v2/logs` body, with the agent's field names
 * (`pkg/logs/processor/json.go`), plus `tags`, `ddtags` split on `,` for queries.
 */
export interface IntakeLogEvent {
  readonly message: string;
  readonly status: string;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly hostname: string;
  readonly service: string;
  readonly ddsource: string;
  /** As sent: one comma-joined string. */
  readonly ddtags: string;
  /** `ddtags` split on `,` (empty for an empty `ddtags`). */
  readonly tags: readonly string[];
}

type Obj = Record<string, unknown>;

const utf8 = new TextDecoder('utf-8', { fatal: false });

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(o: Obj, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : undefined;
}

/**
 * Decodes an uncompressed `/api/v2/logs` body: a JSON array of events
 * (`[{"message","status","timestamp","hostname","service","ddsource","ddtags"}, ...]`, what the
 * agent's array serializer writes), or one event as an object, as the public intake takes it.
 * `{}` (the agent's start-up connectivity check) holds no event. A missing string field is `''`
 * and a missing `timestamp` 0; other attributes are ignored. Never throws.
 */
export function decodeLogs(body: Uint8Array): DecodeResult<IntakeLogEvent[]> {
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(body)) as unknown;
  } catch (e) {
    return decodeError(DecodeErrorReason.INVALID_JSON, e instanceof Error ? e.message : String(e));
  }
  let list: unknown[];
  if (Array.isArray(json)) list = json;
  else if (isObj(json)) list = Object.keys(json).length === 0 ? [] : [json];
  else return decodeError(DecodeErrorReason.INVALID_SHAPE, 'payload is not an array of log events');
  const events: IntakeLogEvent[] = [];
  for (let i = 0; i < list.length; i++) {
    const what = `logs[${i}]`;
    const o = list[i];
    if (!isObj(o)) return decodeError(DecodeErrorReason.INVALID_SHAPE, `${what} is not an object`);
    const values: Record<string, string> = {};
    for (const key of ['message', 'status', 'hostname', 'service', 'ddsource', 'ddtags']) {
      const v = field(o, key);
      if (v === undefined) return decodeError(DecodeErrorReason.INVALID_SHAPE, `${what}.${key} is not a string`);
      values[key] = v;
    }
    const ts = o['timestamp'] ?? 0;
    if (typeof ts !== 'number' || !Number.isFinite(ts)) return decodeError(DecodeErrorReason.INVALID_SHAPE, `${what}.timestamp is not a number`);
    const ddtags = values['ddtags']!;
    events.push({
      message: values['message']!,
      status: values['status']!,
      timestamp: ts,
      hostname: values['hostname']!,
      service: values['service']!,
      ddsource: values['ddsource']!,
      ddtags,
      tags: ddtags === '' ? [] : ddtags.split(','),
    });
  }
  return decoded(events);
}
