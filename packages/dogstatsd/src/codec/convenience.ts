import { decodeString, parseErrorByCode } from '@kennel/core';
import { DogStatsDCodec } from './codec.js';
import type { DogStatsDVisitor } from './codec.js';
import type { MetricView } from './metric-view.js';
import { MetricType, MetricTypeName } from './types.js';
import type {
  DecodedError,
  DecodedEvent,
  DecodedMessage,
  DecodedMetric,
  DecodedServiceCheck,
  DogStatsDCodecOptions,
  FramingOptions,
} from './types.js';

/** Copies a metric view into an owned {@link DecodedMetric} (allocates; not for hot paths). */
export function metricViewToDecoded(v: MetricView): DecodedMetric {
  const buf = v.buf;
  const tags: string[] = [];
  for (let i = 0; i < v.tagCount; i++) tags.push(decodeString(buf, v.tagStarts[i]!, v.tagEnds[i]!));
  const values: readonly number[] | readonly [string] =
    v.type === MetricType.SET ? [decodeString(buf, v.setStart, v.setEnd)] : Array.from(v.values.subarray(0, v.valueCount));
  return {
    kind: 'metric',
    name: decodeString(buf, v.nameStart, v.nameEnd),
    type: MetricTypeName[v.type],
    values,
    sampleRate: v.sampleRate,
    tags,
    timestamp: v.timestamp > 0 ? v.timestamp : null,
    containerId: v.containerIdStart >= 0 ? decodeString(buf, v.containerIdStart, v.containerIdEnd) : null,
    externalData: v.externalDataStart >= 0 ? decodeString(buf, v.externalDataStart, v.externalDataEnd) : null,
    cardinality: v.cardinalityStart >= 0 ? decodeString(buf, v.cardinalityStart, v.cardinalityEnd) : null,
  };
}

/** A visitor that collects owned messages, in order. */
export class CollectingVisitor implements DogStatsDVisitor {
  readonly messages: DecodedMessage[] = [];
  onMetric(view: MetricView): void {
    this.messages.push(metricViewToDecoded(view));
  }
  onEvent(event: DecodedEvent): void {
    this.messages.push(event);
  }
  onServiceCheck(check: DecodedServiceCheck): void {
    this.messages.push(check);
  }
  onError(code: number): void {
    const e = parseErrorByCode(code);
    const err: DecodedError = { kind: 'error', reason: e.reason, counter: e.counter };
    this.messages.push(err);
  }
}

const encoder = new TextEncoder();

/**
 * Convenience tier: decodes one packet into owned messages (metrics, events, service checks and
 * errors, in packet order). For tests, examples and tools; the pipeline uses
 * {@link DogStatsDCodec.decode} with a visitor.
 */
export function parsePacket(
  input: Uint8Array | string,
  options: DogStatsDCodecOptions & FramingOptions = {},
): DecodedMessage[] {
  const buf = typeof input === 'string' ? encoder.encode(input) : input;
  const codec = new DogStatsDCodec(options);
  const out = new CollectingVisitor();
  codec.decode(buf, 0, buf.length, out, options.eolRequired ?? false);
  return out.messages;
}

/** A number as JSON can carry it: NaN and the infinities become "NaN", "+Inf", "-Inf". */
export function jsonNumber(n: number): number | string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return n;
}

/** A decoded message with NaN/±Inf values and sample rate spelled as strings, ready for JSON. */
export function toJsonValue(m: DecodedMessage): Record<string, unknown> {
  if (m.kind !== 'metric') return { ...m };
  return {
    ...m,
    values: m.type === 'set' ? [...m.values] : (m.values as readonly number[]).map(jsonNumber),
    sampleRate: jsonNumber(m.sampleRate),
  };
}
