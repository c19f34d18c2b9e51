import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Series, SeriesOrigin } from '@kennel/core';
import { decodeSeriesWire, encodeSeriesWire } from '../src/wire/series-wire.js';
import { Aggregator } from '../src/index.js';

// Replay a failure with the seed and path fast-check prints: fc.assert(prop, { seed, path }).
const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 200);

const ORIGIN: SeriesOrigin = Object.freeze({ product: 10, category: 10, service: 0 });
const text = fc.string({ unit: fc.oneof(fc.constantFrom('a', ':', ',', '\n', '\0', 'é', '😀'), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' })), maxLength: 12 });
const point = fc.record({ timestamp: fc.integer({ min: 0, max: 2 ** 40 }), value: fc.oneof(fc.double(), fc.constantFrom(0, -0, NaN, Infinity)) }).map((p) => ({ timestamp: p.timestamp, value: p.value }));

/** Series as a shard makes them: contexts whose series share one tags array, some with fields the flat form does not carry. */
const flush = fc
  .array(fc.tuple(text, text, fc.array(text, { maxLength: 5 })), { minLength: 1, maxLength: 6 })
  .chain((contexts) =>
    fc.array(
      fc.record(
        {
          ctx: fc.nat(contexts.length - 1),
          suffix: fc.constantFrom('', '.max', '.avg'),
          type: fc.constantFrom('gauge', 'rate', 'count') as fc.Arbitrary<Series['type']>,
          interval: fc.constantFrom(10, 0, 15),
          points: fc.array(point, { maxLength: 4 }),
          origin: fc.constantFrom(ORIGIN, undefined, { product: 1, category: 2, service: 3 }),
          unit: fc.option(text, { nil: undefined }),
          device: fc.option(text, { nil: undefined }),
        },
        { requiredKeys: ['ctx', 'suffix', 'type', 'interval', 'points'] },
      ),
      { maxLength: 40 },
    ).map((rows) => {
      const tags = contexts.map((c) => c[2]);
      return rows.map((r): Series => {
        const [name, host] = contexts[r.ctx]!;
        const s: Record<string, unknown> = { name: name + r.suffix, host, tags: tags[r.ctx], type: r.type, interval: r.interval, points: r.points };
        if (r.origin !== undefined) s.origin = r.origin;
        if (r.unit !== undefined) s.unit = r.unit;
        if (r.device !== undefined) s.device = r.device;
        return s as unknown as Series;
      });
    }),
  );

test('series survive the flat form whole, in order, across chunk boundaries', () => {
  fc.assert(
    fc.property(flush, fc.integer({ min: 1, max: 64 }), (series, chunk) => {
      const w = structuredClone(encodeSeriesWire(series, chunk));
      const back = decodeSeriesWire(w);
      assert.deepStrictEqual(back, series);
    }),
    { numRuns },
  );
});

test('an empty flush is an empty flat form', () => {
  assert.deepStrictEqual(decodeSeriesWire(structuredClone(encodeSeriesWire([]))), []);
});

test('worker shards flush the same series as inline shards', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) lines.push(`wire.c:${i}|c|#i:${i % 50},env:prod`, `wire.g:${i}|g|#i:${i % 7}`, `wire.h:${i}|h|#k:${i % 3}`);
  const flushOf = async (threads: boolean) => {
    const { DogStatsDCodec } = await import('@kennel/dogstatsd');
    const agg = new Aggregator({ threads, shards: 2 });
    const codec = new DogStatsDCodec();
    const b = Buffer.from(lines.join('\n'));
    agg.now = 1_700_000_003;
    codec.decode(b, 0, b.length, { onMetric: (m) => agg.addMetric(m), onEvent() {}, onServiceCheck() {}, onError() {} });
    const f = await agg.flush(1_700_000_100);
    await agg.stop(1_700_000_100);
    return f.series.map((s) => JSON.stringify([s.name, s.host, [...s.tags], s.type, s.interval, s.points, s.origin])).sort();
  };
  const inline = await flushOf(false);
  assert.equal(inline.length, 50 + 7 + 3 * 5);
  assert.deepStrictEqual(await flushOf(true), inline);
});

test('a shard writing its flush flat gives the series its objects flush gives, in order, with the same counters', async () => {
  const { DogStatsDCodec } = await import('@kennel/dogstatsd');
  const { InlineShard, Router, resolveAggregatorConfig } = await import('../src/index.js');
  const line = fc
    .record({
      name: fc.constantFrom('w.a', 'w.b', 'w.c'),
      tags: fc.array(fc.constantFrom('env:prod', 'env:dev', 'host:h1', 'x', 'team:y'), { maxLength: 3 }),
      type: fc.constantFrom('c', 'g', 'h', 'ms', 's', 'd'),
      value: fc.integer({ min: -50, max: 50 }),
      rate: fc.constantFrom('', '|@0.5'),
      ts: fc.constantFrom('', '|T1700000000'),
    })
    .map((l) => `${l.name}:${l.type === 's' ? `u${l.value}` : l.value}|${l.type}${l.rate}${l.tags.length ? `|#${l.tags.join(',')}` : ''}${l.ts}`);
  const step = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.integer({ min: 0, max: 12 }), line).map(([dt, l]) => ({ dt, l })) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 30 }).map((dt) => ({ dt, l: null as string | null })) },
  );
  await fc.assert(
    fc.asyncProperty(fc.array(step, { maxLength: 80 }), fc.constantFrom(1, 300), async (steps, expiry) => {
      const cfg = resolveAggregatorConfig({ defaultHost: 'dflt', contextExpirySeconds: expiry, extraTags: ['k:v'] });
      const objects = new InlineShard(cfg);
      const flat = new InlineShard(cfg);
      const routers = [new Router([objects], 'dflt'), new Router([flat], 'dflt')];
      const codec = new DogStatsDCodec();
      let t = 1_700_000_000;
      const compare = (final: boolean) => {
        for (const r of routers) r.dispatchAll();
        const a = objects.core.flush(t, final);
        const b = flat.core.flushWire(t, final);
        assert.deepStrictEqual(decodeSeriesWire(structuredClone(b.wire)), a.series);
        assert.deepStrictEqual(b.sketches, a.sketches);
        assert.deepStrictEqual(b.counters, a.counters);
      };
      for (const s of steps) {
        t += s.dt;
        if (s.l === null) {
          compare(false);
          continue;
        }
        const bytes = Buffer.from(s.l);
        for (const r of routers) {
          r.now = t;
          codec.decode(bytes, 0, bytes.length, { onMetric: (m) => r.addMetric(m), onEvent() {}, onServiceCheck() {}, onError() {} });
        }
      }
      compare(true);
    }),
    { numRuns },
  );
});
