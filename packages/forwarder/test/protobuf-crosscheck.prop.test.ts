import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Series, SketchSeries } from '@kennel/core';
import { encodeAll, SeriesV2Encoder, SketchEncoder } from '../src/index.js';
import { config, decompress, identity, MetricPayload, SketchPayload, toObjectOptions, zstd } from './helpers.js';

const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 200);

// What protobufjs gives back for a string: UTF-8 cannot hold a lone surrogate, so it becomes U+FFFD.
const wf = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');
// Go's int64(float64): truncation; + 0 turns -0 into 0.
const int = (v: number): number => Math.trunc(v) + 0;

const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 6 }), fc.constant(''));
const tag = fc.oneof(
  { weight: 6, arbitrary: text },
  { weight: 1, arbitrary: text.map((s) => `device:${s}`) },
  { weight: 1, arbitrary: fc.tuple(text, text).map(([a, b]) => `dd.internal.resource:${a}:${b}`) },
  { weight: 1, arbitrary: text.map((s) => `dd.internal.resource:${s}`) },
);
const timestamp = fc.oneof(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.double({ min: -1e12, max: 1e12, noNaN: true }));
const origin = fc.record({ product: fc.nat(1000), category: fc.nat(1000), service: fc.nat(1000) });

const series: fc.Arbitrary<Series> = fc.record(
  {
    name: text,
    host: text,
    tags: fc.array(tag, { maxLength: 6 }),
    type: fc.constantFrom('gauge', 'rate', 'count'),
    interval: fc.integer({ min: -100, max: 100000 }),
    points: fc.array(fc.record({ timestamp, value: fc.double() }), { maxLength: 5 }),
    device: text,
    unit: text,
    sourceTypeName: text,
    resources: fc.array(fc.record({ type: text, name: text }), { maxLength: 2 }),
    origin,
  },
  { requiredKeys: ['name', 'host', 'tags', 'type', 'interval', 'points'] },
);

/** The agent's MetricSeries for a kennel series, written out independently of the encoder. */
function expectedSeries(s: Series): unknown {
  const isDevice = (t: string): boolean => t.startsWith('device:');
  const isResource = (t: string): boolean => t.startsWith('dd.internal.resource:');
  let device = s.device ?? '';
  for (const t of s.tags) if (isDevice(t)) device = t.slice('device:'.length);
  const resources = [{ type: 'host', name: wf(s.host) }];
  if (device !== '') resources.push({ type: 'device', name: wf(device) });
  for (const r of s.resources ?? []) resources.push({ type: wf(r.type), name: wf(r.name) });
  for (const t of s.tags) {
    if (!isResource(t)) continue;
    const v = t.slice('dd.internal.resource:'.length);
    const i = v.indexOf(':');
    if (i > 0 && i < v.length - 1) resources.push({ type: wf(v.slice(0, i)), name: wf(v.slice(i + 1)) });
  }
  const o = s.origin ?? { product: 10, category: 10, service: 0 };
  return {
    resources,
    metric: wf(s.name),
    tags: s.tags.filter((t) => !isDevice(t) && !isResource(t) && t !== '').map(wf),
    points: s.points.map((p) => ({ value: p.value === 0 ? 0 : p.value, timestamp: int(p.timestamp) })),
    type: { count: 1, rate: 2, gauge: 3 }[s.type],
    unit: wf(s.unit ?? ''),
    sourceTypeName: wf(s.sourceTypeName ?? ''),
    interval: s.interval,
    metadata: { origin: { originProduct: o.product, originCategory: o.category, originService: o.service } },
  };
}

test('protobufjs reads every v2 series back as the agent would have written it', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(series, { maxLength: 8 }), fc.constantFrom(identity, zstd), async (items, compression) => {
      const payloads = encodeAll(new SeriesV2Encoder(config(), compression), items);
      const decoded = payloads.flatMap(
        (p) => (MetricPayload.toObject(MetricPayload.decode(decompress(p)), toObjectOptions) as { series: unknown[] }).series,
      );
      assert.deepStrictEqual(decoded, items.map(expectedSeries));
    }),
    { numRuns },
  );
});

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

const sketch: fc.Arbitrary<SketchSeries> = fc.record(
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

const z = (v: number): number => (v === 0 ? 0 : v);

function expectedSketch(s: SketchSeries): unknown {
  const o = s.origin ?? { product: 10, category: 10, service: 0 };
  return {
    metric: wf(s.name),
    host: wf(s.host),
    distributions: [],
    tags: s.tags.filter((t) => t !== '').map(wf),
    dogsketches: s.points.map((p) => ({
      ts: int(p.timestamp),
      cnt: p.count,
      min: z(p.min),
      max: z(p.max),
      avg: z(p.avg),
      sum: z(p.sum),
      k: Array.from(p.keys),
      n: Array.from(p.counts),
    })),
    metadata: { origin: { originProduct: o.product, originCategory: o.category, originService: o.service } },
  };
}

test('protobufjs reads every sketch back as the agent would have written it', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(sketch, { maxLength: 6 }), fc.constantFrom(identity, zstd), async (items, compression) => {
      const payloads = encodeAll(new SketchEncoder(config(), compression), items);
      const decoded = payloads.flatMap((p) => {
        const obj = SketchPayload.toObject(SketchPayload.decode(decompress(p)), toObjectOptions) as { sketches: unknown[]; metadata: unknown };
        // The footer: an empty CommonMetadata.
        assert.deepStrictEqual(obj.metadata, { agentVersion: '', timezone: '', currentEpoch: 0, internalIp: '', publicIp: '', apiKey: '' });
        return obj.sketches;
      });
      assert.deepStrictEqual(decoded, items.map(expectedSketch));
    }),
    { numRuns },
  );
});
