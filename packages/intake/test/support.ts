import fc from 'fast-check';
import type { MetricEvent, Series, SeriesOrigin, ServiceCheck, SketchSeries } from '@kennel/core';
import {
  createZlibCompression,
  identityCompression,
  loadCompression,
  resolveSerializerConfig,
  type Compression,
  type IntakeEncoder,
  type IntakePayload,
} from '@kennel/forwarder';

export const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 200);

export const zstd: Compression = await loadCompression(resolveSerializerConfig(), {
  warn: (line) => {
    throw new Error(`zstd did not load: ${line}`);
  },
});
export const compression = fc.constantFrom<Compression>(zstd, createZlibCompression(), identityCompression);

/** Small limits, so that payloads are cut often and items are sometimes too big. */
export const limits = fc.record({
  maxCompressed: fc.integer({ min: 120, max: 3000 }),
  maxUncompressed: fc.integer({ min: 120, max: 6000 }),
  maxPoints: fc.integer({ min: 1, max: 12 }),
});
export type Limits = { maxCompressed: number; maxUncompressed: number; maxPoints: number };

export function configFor(l: Limits, hostname = ''): ReturnType<typeof resolveSerializerConfig> {
  return resolveSerializerConfig({
    maxSeriesPayloadSize: l.maxCompressed,
    maxSeriesUncompressedPayloadSize: l.maxUncompressed,
    maxSeriesPointsPerPayload: l.maxPoints,
    maxPayloadSize: l.maxCompressed,
    maxUncompressedPayloadSize: l.maxUncompressed,
    hostname,
  });
}

// --- arbitraries -------------------------------------------------------------------------------

const text = fc.oneof(fc.string({ maxLength: 10 }), fc.string({ unit: 'binary', maxLength: 5 }), fc.constant(''));
/** Resource types the decoder would not read back as the host or the device. */
const resourceType = text.filter((t) => t !== 'host' && t !== 'device' && Buffer.from(t).toString() !== 'device' && Buffer.from(t).toString() !== 'host');
const tag = fc.oneof(
  { weight: 8, arbitrary: text },
  { weight: 1, arbitrary: text.map((s) => `device:${s}`) },
  { weight: 1, arbitrary: fc.tuple(resourceType, text).map(([a, b]) => `dd.internal.resource:${a}:${b}`) },
  { weight: 1, arbitrary: text.map((s) => `dd.internal.resource:${s}`) },
);
const timestamp = fc.oneof(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.double({ min: -1e12, max: 1e12, noNaN: true }));
const origin: fc.Arbitrary<SeriesOrigin> = fc.record({ product: fc.nat(1000), category: fc.nat(1000), service: fc.nat(1000) });

function seriesOf(value: fc.Arbitrary<number>): fc.Arbitrary<Series> {
  return fc.record(
    {
      name: text,
      host: text,
      tags: fc.array(tag, { maxLength: 5 }),
      type: fc.constantFrom('gauge', 'rate', 'count'),
      interval: fc.integer({ min: -100, max: 100000 }),
      points: fc.array(fc.record({ timestamp, value }), { maxLength: 6 }),
      device: text,
      unit: text,
      sourceTypeName: text,
      resources: fc.array(fc.record({ type: resourceType, name: text }), { maxLength: 2 }),
      origin,
    },
    { requiredKeys: ['name', 'host', 'tags', 'type', 'interval', 'points'] },
  );
}

/** v2 carries any double. */
export const seriesV2 = seriesOf(fc.double());
/** v1 is JSON: mostly finite values, sometimes one JSON cannot hold (dropped as InvalidItem). */
export const seriesV1 = seriesOf(
  fc.oneof({ weight: 20, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) }, { weight: 1, arbitrary: fc.constant(Number.NaN) }),
);

const sketchPoint = fc
  .array(fc.tuple(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.nat({ max: 2 ** 32 - 1 })), { maxLength: 6 })
  .chain((bins) =>
    fc.record({
      timestamp,
      count: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
      min: fc.double(),
      max: fc.double(),
      sum: fc.double(),
      avg: fc.double(),
      keys: fc.constant(bins.map((b) => b[0])),
      counts: fc.constant(bins.map((b) => b[1])),
    }),
  );

export const sketches: fc.Arbitrary<SketchSeries> = fc.record(
  {
    name: text,
    host: text,
    tags: fc.array(text, { maxLength: 5 }),
    interval: fc.constant(10),
    points: fc.array(sketchPoint, { maxLength: 3 }),
    origin,
  },
  { requiredKeys: ['name', 'host', 'tags', 'interval', 'points'] },
);

export const serviceChecks: fc.Arbitrary<ServiceCheck> = fc.record({
  name: text,
  host: text,
  timestamp,
  status: fc.constantFrom(0, 1, 2, 3),
  message: fc.string({ maxLength: 40 }),
  tags: fc.array(text, { maxLength: 4 }),
});

export const events: fc.Arbitrary<MetricEvent> = fc.record({
  title: text,
  text: fc.string({ maxLength: 60 }),
  timestamp,
  host: text,
  aggregationKey: text,
  priority: fc.constantFrom('normal', 'low'),
  sourceTypeName: fc.oneof(fc.constant(''), fc.constant('api'), fc.constantFrom('docker', 'kubernetes'), text),
  alertType: fc.constantFrom('error', 'warning', 'info', 'success'),
  tags: fc.array(text, { maxLength: 4 }),
});

// --- what the intake should read back -----------------------------------------------------------

/** UTF-8 cannot hold a lone surrogate: protobuf strings come back with U+FFFD in its place. */
export const wf = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');
/** Go's `int64(float64)`; `+ 0` turns -0 into 0. */
export const int = (v: number): number => Math.trunc(v) + 0;
/** Zero scalars are omitted on the wire, so -0 comes back as 0. */
const z = (v: number): number => (v === 0 ? 0 : v);

/** The origin written for an item: its own, or DogStatsD's (product 10, category 10, service 0). */
function originOf(o: SeriesOrigin | undefined): SeriesOrigin {
  return o === undefined ? { product: 10, category: 10, service: 0 } : { product: o.product, category: o.category, service: o.service };
}

const DEVICE = 'device:';
const RESOURCE = 'dd.internal.resource:';

function special(s: Series): { device: string; fromTags: { type: string; name: string }[]; plain: string[] } {
  let device = s.device ?? '';
  const fromTags: { type: string; name: string }[] = [];
  const plain: string[] = [];
  for (const t of s.tags) {
    if (t.startsWith(DEVICE)) device = t.slice(DEVICE.length);
    else if (t.startsWith(RESOURCE)) {
      const v = t.slice(RESOURCE.length);
      const i = v.indexOf(':');
      if (i > 0 && i < v.length - 1) fromTags.push({ type: v.slice(0, i), name: v.slice(i + 1) });
    } else plain.push(t);
  }
  return { device, fromTags, plain };
}

export function expectedSeriesV2(s: Series): Series {
  const { device, fromTags, plain } = special(s);
  const resources = [...(s.resources ?? []), ...fromTags].map((r) => ({ type: wf(r.type), name: wf(r.name) }));
  const out: Record<string, unknown> = {
    name: wf(s.name),
    host: wf(s.host),
    tags: plain.filter((t) => t !== '').map(wf),
    type: s.type,
    interval: int(s.interval),
    points: s.points.map((p) => ({ timestamp: int(p.timestamp), value: z(p.value) })),
  };
  if (device !== '') out.device = wf(device);
  if ((s.sourceTypeName ?? '') !== '') out.sourceTypeName = wf(s.sourceTypeName!);
  if ((s.unit ?? '') !== '') out.unit = wf(s.unit!);
  if (resources.length > 0) out.resources = resources;
  out.origin = originOf(s.origin);
  return out as unknown as Series;
}

export function expectedSeriesV1(s: Series): Series {
  const { device, plain } = special(s);
  const out: Record<string, unknown> = {
    name: s.name,
    host: s.host,
    tags: plain,
    type: s.type,
    interval: int(s.interval),
    points: s.points.map((p) => ({ timestamp: int(p.timestamp), value: z(p.value) })),
  };
  if (device !== '') out.device = device;
  if ((s.sourceTypeName ?? '') !== '') out.sourceTypeName = s.sourceTypeName;
  return out as unknown as Series;
}

export function expectedSketch(s: SketchSeries): SketchSeries {
  return {
    name: wf(s.name),
    host: wf(s.host),
    tags: s.tags.filter((t) => t !== '').map(wf),
    interval: 0,
    points: s.points.map((p) => ({
      timestamp: int(p.timestamp),
      count: int(p.count),
      min: z(p.min),
      max: z(p.max),
      sum: z(p.sum),
      avg: z(p.avg),
      keys: Array.from(p.keys, (k) => k | 0),
      counts: Array.from(p.counts, (c) => c >>> 0),
    })),
    origin: originOf(s.origin),
  };
}

export function expectedCheck(c: ServiceCheck): ServiceCheck {
  return { ...c, timestamp: int(c.timestamp), tags: [...c.tags] };
}

/**
 * Events come back grouped by source type (empty under `api`), groups in the order JavaScript
 * keeps an object's keys: integer-like keys first, then the others as they first appear.
 */
export function expectedEvents(list: readonly MetricEvent[]): MetricEvent[] {
  // A null prototype, so that a source type named __proto__ is an ordinary key.
  const groups = Object.create(null) as Record<string, MetricEvent[]>;
  for (const e of list) {
    const key = e.sourceTypeName === '' ? 'api' : e.sourceTypeName;
    const g = (groups[key] ??= []);
    g.push({
      title: e.title,
      text: e.text,
      timestamp: int(e.timestamp),
      host: e.host,
      aggregationKey: e.aggregationKey,
      priority: e.priority,
      sourceTypeName: e.sourceTypeName,
      alertType: e.alertType,
      tags: [...e.tags],
    });
  }
  return Object.values(groups).flat();
}

// --- driving an encoder --------------------------------------------------------------------------

export interface Encoded<T> {
  readonly payloads: { readonly payload: IntakePayload; readonly items: T[] }[];
  readonly dropped: T[];
}

/**
 * Adds every item, cutting payloads where the encoder asks, and records which items went into
 * which payload (an item the encoder dropped bumps `ItemTooBig` or `InvalidItem`).
 */
export function drive<T>(encoder: IntakeEncoder<T>, items: readonly T[]): Encoded<T> {
  const payloads: { payload: IntakePayload; items: T[] }[] = [];
  const dropped: T[] = [];
  let current: T[] = [];
  const drops = (): number => encoder.counters.get('ItemTooBig') + encoder.counters.get('InvalidItem');
  const flush = (): void => {
    const out = encoder.finish();
    if (current.length === 0) {
      if (out.length !== 0) throw new Error('an empty payload was produced');
      return;
    }
    if (out.length !== 1) throw new Error(`expected one payload, got ${out.length}`);
    payloads.push({ payload: out[0]!, items: current });
    current = [];
  };
  for (const item of items) {
    const before = drops();
    if (encoder.add(item) === 'flush-required') {
      if (current.length === 0) throw new Error('an empty payload asked for a flush');
      flush();
      if (encoder.add(item) !== 'ok') throw new Error('an empty payload asked for a flush');
    }
    if (drops() > before) dropped.push(item);
    else current.push(item);
  }
  flush();
  return { payloads, dropped };
}
