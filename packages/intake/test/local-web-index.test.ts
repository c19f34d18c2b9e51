import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  IntakeStore,
  MetricsIndex,
  TracesIndex,
  LogsIndex,
  agentSketchQuantile,
  decodeDDSketch,
  MergedDDSketch,
  histogramSuffixes,
  traceKey,
  spansOf,
} from '../src/index.js';
import { ddsketchBytes, inject, series, sketch, sketchPoint, span, tracerPayload } from './local-web-support.js';

function clock(start = 1_000_000): { now: () => number; set: (t: number) => void } {
  let t = start;
  return { now: () => t, set: (v) => (t = v) };
}

// --- metrics ------------------------------------------------------------------------------------

test('the metrics index lists every name with its type, contexts and latest value', () => {
  const store = new IntakeStore();
  const idx = new MetricsIndex(store);
  store.add('series_v2', [series('app.temp', 'gauge', ['env:a'], [[10, 20]]), series('app.temp', 'gauge', ['env:b'], [[10, 30]]), series('app.hits', 'rate', ['env:a'], [[10, 0.5]])], { bytes: 10 });
  store.add('series_v2', [series('app.temp', 'gauge', ['env:a'], [[20, 21]])], { bytes: 10 });
  const list = idx.list({});
  assert.deepEqual(
    list.map((m) => [m.name, m.type, m.contexts, m.latest?.value, m.range]),
    [
      ['app.hits', 'rate', 1, 0.5, [0.5, 0.5]],
      ['app.temp', 'gauge', 2, 21, [21, 30]],
    ],
  );
  // A tag filter keeps the contexts that carry it; a name filter is text or /regex/.
  assert.deepEqual(
    idx.list({ tags: (t) => t.includes('env:b') }).map((m) => [m.name, m.contexts]),
    [['app.temp', 1]],
  );
  const d = idx.detail('app.temp', {}, 10)!;
  assert.equal(d.contextCount, 2);
  assert.deepEqual(
    d.contexts.map((c) => [c.tags, c.latest?.value, c.points]),
    [
      [['env:b'], 30, 1],
      [['env:a'], 21, 2],
    ],
  );
  const p = idx.points('app.temp', {}, { maxContexts: 10 })!;
  assert.deepEqual(
    p.contexts.map((c) => [c.tags, c.points]),
    [
      [['env:a'], [[10, 20], [20, 21]]],
      [['env:b'], [[10, 30]]],
    ],
  );
  assert.equal(idx.detail('nope', {}, 10), null);
});

test('tag sets are contexts whatever their order or duplicates', () => {
  const store = new IntakeStore();
  const idx = new MetricsIndex(store);
  store.add('series_v2', [series('m', 'gauge', ['b:2', 'a:1'], [[10, 1]])], { bytes: 1 });
  store.add('series_v2', [series('m', 'gauge', ['a:1', 'b:2', 'a:1'], [[20, 2]])], { bytes: 1 });
  const d = idx.detail('m', {}, 10)!;
  assert.equal(d.contextCount, 1);
  assert.deepEqual(d.contexts[0]!.tags, ['a:1', 'b:2']);
});

test('histogram aggregates are grouped under their base name, and a distribution shows its percentiles', () => {
  const store = new IntakeStore();
  const idx = new MetricsIndex(store, { histogramSuffixes: histogramSuffixes(['max', 'median', 'avg', 'count'], ['0.95', '0.5']) });
  assert.deepEqual(histogramSuffixes(['max'], ['0.95', '0.99', '0.5']), ['max', '95percentile', '99percentile', '50percentile']);
  store.add(
    'series_v2',
    [
      series('lat.max', 'gauge', ['env:t'], [[10, 5]]),
      series('lat.median', 'gauge', ['env:t'], [[10, 3]]),
      series('lat.avg', 'gauge', ['env:t'], [[10, 3]]),
      series('lat.count', 'rate', ['env:t'], [[10, 0.5]]),
      series('lat.95percentile', 'gauge', ['env:t'], [[10, 5]]),
      // Only one suffix: not a histogram.
      series('queue.count', 'rate', [], [[10, 1]]),
    ],
    { bytes: 10 },
  );
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  store.add('sketches', [sketch('size', ['env:t'], [sketchPoint(10, values)])], { bytes: 10 });
  const list = idx.list({});
  assert.deepEqual(
    list.map((m) => [m.name, m.type]),
    [
      ['lat', 'histogram'],
      ['queue.count', 'rate'],
      ['size', 'distribution'],
    ],
  );
  const h = list[0]!;
  assert.deepEqual(
    h.aggregates!.map((a) => [a.stat, a.name, a.latest?.value]),
    [
      ['max', 'lat.max', 5],
      ['median', 'lat.median', 3],
      ['avg', 'lat.avg', 3],
      ['count', 'lat.count', 0.5],
      ['95percentile', 'lat.95percentile', 5],
    ],
  );
  // The flat list keeps every series as it is; a member's own name still answers.
  assert.equal(idx.list({}, { flat: true }).length, 7);
  assert.equal(idx.detail('lat.max', {}, 10)!.type, 'gauge');
  const hd = idx.detail('lat', {}, 10)!;
  assert.equal(hd.type, 'histogram');
  assert.deepEqual(hd.members, ['lat.max', 'lat.median', 'lat.avg', 'lat.count', 'lat.95percentile']);
  assert.deepEqual(Object.fromEntries(Object.entries(hd.contexts[0]!.aggregates!).map(([k, v]) => [k, v.value])), { max: 5, median: 3, avg: 3, count: 0.5, '95percentile': 5 });
  assert.equal(idx.points('lat', {}, { maxContexts: 5 })!.stat, 'avg');
  assert.deepEqual(idx.points('lat', {}, { stat: 'max', maxContexts: 5 })!.contexts[0]!.points, [[10, 5]]);

  const s = list[2]!.stats!;
  assert.deepEqual([s.count, s.min, s.max, s.sum, s.avg], [100, 1, 100, 5050, 50.5]);
  // The agent's sketch is within its 2.4 % bound of the value at the agent's rank,
  // roundHalfEven(q · (n − 1)): values[50], [74], [94], [98].
  for (const [q, want] of [
    ['p50', 51],
    ['p75', 75],
    ['p95', 95],
    ['p99', 99],
  ] as const) {
    assert.ok(Math.abs(s[q] - want) / want < 0.025, `${q} ${s[q]} vs ${want}`);
  }
  const pts = idx.points('size', {}, { stat: 'p99', maxContexts: 5 })!;
  assert.equal(pts.stat, 'p99');
  assert.ok(Math.abs(pts.contexts[0]!.points[0]![1] - 99) < 2.5);
  assert.equal(idx.points('size', {}, { maxContexts: 5 })!.stat, 'p50');
});

test('agent sketch quantiles: empty, one value, min and max, negatives', () => {
  assert.equal(agentSketchQuantile(sketchPoint(0, [7]), 0.5), 7);
  assert.equal(agentSketchQuantile(sketchPoint(0, [1, 2, 3]), 0), 1);
  assert.equal(agentSketchQuantile(sketchPoint(0, [1, 2, 3]), 1), 3);
  assert.equal(agentSketchQuantile({ timestamp: 0, count: 0, min: 0, max: 0, sum: 0, avg: 0, keys: [], counts: [] }, 0.5), 0);
  const neg = agentSketchQuantile(sketchPoint(0, [-10, -10, -10, 5]), 0.5);
  assert.ok(neg < -9.5 && neg > -10.5, String(neg));
});

test('the index lets go of contexts and metrics the store dropped', () => {
  const c = clock();
  const store = new IntakeStore({ maxAgeMs: 1000, now: c.now });
  const idx = new MetricsIndex(store);
  store.add('series_v2', [series('old', 'gauge', [], [[1, 1]]), series('both', 'gauge', ['v:1'], [[1, 1]])], { bytes: 1 });
  c.set(1_000_600);
  store.add('series_v2', [series('both', 'gauge', ['v:2'], [[2, 2]])], { bytes: 1 });
  assert.deepEqual(
    idx.list({}).map((m) => [m.name, m.contexts]),
    [
      ['both', 2],
      ['old', 1],
    ],
  );
  c.set(1_001_100); // the first payload is now older than a second
  assert.deepEqual(
    idx.list({}).map((m) => [m.name, m.contexts]),
    [['both', 1]],
  );
  assert.equal(idx.size, 1);
  store.clear();
  assert.deepEqual(idx.list({}), []);
});

test('10,000 contexts: points keep the ones with the highest latest value, details are cut at the limit', () => {
  const store = new IntakeStore();
  const idx = new MetricsIndex(store);
  const items = Array.from({ length: 10_000 }, (_, i) => series('big', 'gauge', [`ctx:${i}`], [[10, i]]));
  store.add('series_v2', items, { bytes: 100_000 });
  const p = idx.points('big', {}, { maxContexts: 50 })!;
  assert.equal(p.contextCount, 10_000);
  assert.equal(p.truncated, true);
  assert.equal(p.contexts.length, 50);
  assert.deepEqual(p.contexts[0]!.tags, ['ctx:9999']);
  const d = idx.detail('big', {}, 500)!;
  assert.equal(d.contexts.length, 500);
  assert.equal(d.truncated, true);
  assert.equal(idx.list({})[0]!.contexts, 10_000);
});

// --- traces -------------------------------------------------------------------------------------

function sampleTrace(): ReturnType<typeof span>[] {
  const t = 1_700_000_000_000_000_000n;
  return [
    span({ traceId: 42n, spanId: 1n, start: t, duration: 10_000_000, resource: 'GET /users', metrics: { '_dd.top_level': 1 }, meta: { '_dd.p.tid': '6567a1b200000000', env: 'test' } }),
    span({ traceId: 42n, spanId: 2n, parentId: 1n, start: t + 1_000_000n, duration: 3_000_000, service: 'db', name: 'pg.query', resource: 'SELECT 1', type: 'sql' }),
    span({ traceId: 42n, spanId: 3n, parentId: 1n, start: t + 5_000_000n, duration: 4_000_000, service: 'web', name: 'render', error: 1 }),
    span({ traceId: 42n, spanId: 4n, parentId: 2n, start: t + 1_500_000n, duration: 1_000_000, service: 'db', name: 'pg.connect' }),
  ];
}

test('traces group spans by trace id with root, duration, span count and errors', () => {
  const store = new IntakeStore();
  const idx = new TracesIndex(store);
  inject(store, 'traces', [tracerPayload(sampleTrace())]);
  inject(store, 'traces', [tracerPayload([span({ traceId: 7n, spanId: 70n, service: 'worker', resource: 'job', start: 1_700_000_001_000_000_000n })])]);
  const { traces, total } = idx.list({}, 10);
  assert.equal(total, 2);
  assert.deepEqual(
    traces.map((t) => [t.traceId, t.service, t.resource, t.spanCount, t.errors, t.duration]),
    [
      ['7', 'worker', 'job', 1, 0, 1_000_000],
      ['42', 'web', 'GET /users', 4, 1, 10_000_000],
    ],
  );
  const t42 = traces[1]!;
  assert.equal(t42.traceIdHex, '6567a1b200000000000000000000002a');
  assert.deepEqual(t42.services, ['db', 'web']);
  assert.equal(t42.env, 'test');
  assert.deepEqual(idx.list({ service: 'db' }, 10).ids, ['42']);
  assert.deepEqual(idx.list({ error: false }, 10).ids, ['7']);
  assert.deepEqual(idx.list({ resource: 'SELECT 1' }, 10).ids, ['42']);
  assert.deepEqual(idx.list({ minDurationMs: 5 }, 10).ids, ['42']);

  // Depth first, children by start, with depth and offset.
  const d = idx.get('42')!;
  assert.deepEqual(
    d.spans.map((s) => [s.spanId, s.depth, s.offset]),
    [
      ['1', 0, 0],
      ['2', 1, 1_000_000],
      ['4', 2, 1_500_000],
      ['3', 1, 5_000_000],
    ],
  );
  assert.equal(d.spans[0]!.meta['_dd.p.tid'], '6567a1b200000000');
  assert.equal(d.spans[0]!._language, 'nodejs');
  // The same trace by its 128-bit hex id, its low 64 bits in hex, or 0x.
  assert.equal(idx.get('6567a1b200000000000000000000002a')?.traceId, '42');
  assert.equal(idx.get('0x2a')?.traceId, '42');
  assert.equal(idx.get('nope'), null);
});

test('spans arriving in several payloads join their trace, and leave it with their payload', () => {
  const c = clock();
  const store = new IntakeStore({ maxAgeMs: 1000, now: c.now });
  const idx = new TracesIndex(store);
  const [root, ...rest] = sampleTrace();
  inject(store, 'traces', [tracerPayload(rest)]);
  c.set(1_000_600);
  inject(store, 'traces', [tracerPayload([root!])]);
  assert.equal(idx.get('42')!.spans.length, 4);
  assert.equal(idx.get('42')!.hasRoot, true);
  c.set(1_001_100);
  assert.deepEqual(
    idx.get('42')!.spans.map((s) => s.spanId),
    ['1'],
  );
});

test('spans are read from every form of trace payload', () => {
  const s = { trace_id: 5n, span_id: 6n, parent_id: 0n, service: 's', name: 'n', resource: 'r', start: 10n, duration: 5, error: 0, meta: { a: 'b' }, metrics: { m: 1 } };
  assert.equal(spansOf([[s]]).length, 1); // v0.4: a list of traces, each a list of spans
  assert.equal(spansOf({ tracerPayloads: [{ chunks: [{ spans: [s, s] }] }] }).length, 2);
  assert.equal(spansOf({ spans: [s] })[0]!.spanId, 6n);
  assert.deepEqual(spansOf(s)[0]!.meta, { a: 'b' });
  assert.deepEqual(spansOf({ nothing: 1 }), []);
  assert.deepEqual(spansOf(null), []);
});

test('trace keys read decimal, 0x, 128-bit hex and 64-bit hex ids', () => {
  assert.equal(traceKey('42'), '42');
  assert.equal(traceKey('0x2a'), '42');
  assert.equal(traceKey('6567a1b200000000000000000000002a'), '42');
  assert.equal(traceKey('000000000000002a'), '42'); // 16 digits: decimal digits read as decimal
  assert.equal(traceKey('00000000000000ff'), '255');
  assert.equal(traceKey('18446744073709551615'), '18446744073709551615');
  assert.equal(traceKey('hello'), undefined);
});

test('DDSketch protobufs decode and merge; quantiles follow the logarithmic mapping', () => {
  const gamma = 1.02 / 0.98; // relative accuracy 2 %
  // 100 values of 1 ms: index = floor(log_gamma(1e6)) (sketches-go's Index).
  const i = Math.floor(Math.log(1e6) / Math.log(gamma));
  const sk = decodeDDSketch(ddsketchBytes(gamma, new Map([[i, 100]])))!;
  assert.equal(sk.gamma, gamma);
  assert.equal(sk.positive.get(i), 100);
  const m = new MergedDDSketch();
  m.add(sk);
  m.add(decodeDDSketch(ddsketchBytes(gamma, new Map([[i + 60, 100]])))!);
  assert.equal(m.count, 200);
  assert.ok(Math.abs(m.quantile(0.25)! - 1e6) / 1e6 < 0.02, String(m.quantile(0.25)));
  assert.ok(m.quantile(0.99)! > 3e6);
  assert.equal(decodeDDSketch(new Uint8Array([0xff, 0xff])), null);
  assert.equal(new MergedDDSketch().quantile(0.5), null);
});

test('services come from the APM stats (Go field names), else from the top-level spans held', () => {
  const store = new IntakeStore();
  const idx = new TracesIndex(store);
  const gamma = 1.02 / 0.98;
  const bin = (ns: number): number => Math.floor(Math.log(ns) / Math.log(gamma));
  inject(store, 'stats', [
    {
      AgentHostname: 'h',
      AgentEnv: 'test',
      Stats: [
        {
          Hostname: 'h',
          Env: 'test',
          Stats: [
            {
              Start: 1n,
              Duration: 10_000_000_000n,
              Stats: [
                { Service: 'api', Name: 'http.request', Resource: 'GET /a', Hits: 10, Errors: 1, Duration: 50_000_000, TopLevelHits: 10, OkSummary: ddsketchBytes(gamma, new Map([[bin(5e6), 9]])), ErrorSummary: ddsketchBytes(gamma, new Map([[bin(5e6), 1]])) },
                { Service: 'api', Name: 'http.request', Resource: 'GET /b', Hits: 5n, Errors: 0n, Duration: 5_000_000n, TopLevelHits: 5n, OkSummary: ddsketchBytes(gamma, new Map([[bin(1e6), 5]])), ErrorSummary: new Uint8Array() },
              ],
            },
          ],
        },
      ],
    },
  ]);
  inject(store, 'traces', [tracerPayload(sampleTrace())]);
  const rows = idx.services();
  const api = rows.find((r) => r.service === 'api')!;
  assert.equal(api.source, 'stats');
  assert.deepEqual([api.hits, api.errors, api.topLevelHits], [15, 1, 15]);
  assert.ok(Math.abs(api.avgDuration! - 55_000_000 / 15) < 1);
  assert.ok(Math.abs(api.p99! - 5e6) / 5e6 < 0.03, String(api.p99));
  assert.ok(Math.abs(api.p50! - 5e6) / 5e6 < 0.03, String(api.p50));
  assert.deepEqual(
    api.resources.map((r) => [r.resource, r.hits]),
    [
      ['GET /a', 10],
      ['GET /b', 5],
    ],
  );
  const web = rows.find((r) => r.service === 'web')!;
  assert.equal(web.source, 'spans');
  // web's top-level spans: the root (10 ms); render's parent is web too, so it is not top level.
  assert.deepEqual([web.hits, web.errors, web.p50, web.spans, web.traces], [1, 0, 10_000_000, 2, 1]);
  const db = rows.find((r) => r.service === 'db')!;
  assert.deepEqual([db.hits, db.p50], [1, 3_000_000]);
});

test('10,000 spans in one trace come back in tree order', () => {
  const store = new IntakeStore();
  const idx = new TracesIndex(store);
  const t = 1_700_000_000_000_000_000n;
  const spans = [span({ traceId: 9n, spanId: 1n, start: t, duration: 20_000_000_000 })];
  for (let i = 2; i <= 10_000; i++) spans.push(span({ traceId: 9n, spanId: BigInt(i), parentId: BigInt(Math.floor(i / 2)), start: t + BigInt(i) * 1000n, duration: 1000 }));
  inject(store, 'traces', [tracerPayload(spans)]);
  const d = idx.get('9')!;
  assert.equal(d.spans.length, 10_000);
  assert.equal(d.spans[0]!.spanId, '1');
  const seen = new Set<string>();
  for (const s of d.spans) {
    if (s.parentId !== '0') assert.ok(seen.has(s.parentId), `${s.spanId} after its parent`);
    seen.add(s.spanId);
  }
});

// --- logs ---------------------------------------------------------------------------------------

function log(message: string, o: Record<string, unknown> = {}): Record<string, unknown> {
  return { message, status: 'info', timestamp: 1_700_000_000_000, hostname: 'h', service: 'app', ddsource: 'nodejs', ddtags: 'env:test', ...o };
}

test('logs: filters by service, status and text, newest kept, and ids to tail from', () => {
  const store = new IntakeStore();
  const idx = new LogsIndex(store);
  inject(store, 'logs', [log('hello world'), log('disk is full', { status: 'error' }), log('careful', { status: 'warning', service: 'api' })]);
  inject(store, 'logs', [log('second batch', { timestamp: 1_700_000_000 })]);
  let r = idx.query({}, 100);
  assert.deepEqual(
    r.logs.map((l) => [l.id, l.status, l.service, l.message]),
    [
      [1, 'info', 'app', 'hello world'],
      [2, 'error', 'app', 'disk is full'],
      [3, 'warn', 'api', 'careful'],
      [4, 'info', 'app', 'second batch'],
    ],
  );
  assert.equal(r.logs[3]!.timestamp, 1_700_000_000_000); // seconds read as seconds
  assert.deepEqual(idx.query({ statuses: ['warning', 'error'] }, 100).logs.map((l) => l.id), [2, 3]);
  assert.deepEqual(idx.query({ services: ['api'] }, 100).logs.map((l) => l.id), [3]);
  assert.deepEqual(idx.query({ text: (s) => s.includes('batch') }, 100).logs.map((l) => l.id), [4]);
  assert.deepEqual(idx.query({ after: 2 }, 100).logs.map((l) => l.id), [3, 4]);
  r = idx.query({}, 2);
  assert.deepEqual([r.total, r.logs.map((l) => l.id), r.lastId], [4, [3, 4], 4]);
  assert.deepEqual(idx.facets(), { services: { api: 1, app: 3 }, statuses: { error: 1, info: 2, warn: 1 } });
});

test('logs carrying dd.trace_id link to their trace: JSON messages, text, fields, 128-bit ids', () => {
  const store = new IntakeStore();
  const idx = new LogsIndex(store);
  inject(store, 'logs', [
    log(JSON.stringify({ level: 30, msg: 'pino line', dd: { trace_id: '6567a1b200000000000000000000002a', span_id: '7' } })),
    log('text line dd.trace_id=42 dd.span_id=7'),
    log('winston', { 'dd.trace_id': '43' }),
    log('{"not json'),
    log('no trace here'),
  ]);
  const r = idx.query({}, 10);
  assert.deepEqual(
    r.logs.map((l) => [l.traceId, l.spanId]),
    [
      ['42', '7'],
      ['42', '7'],
      ['43', undefined],
      [undefined, undefined],
      [undefined, undefined],
    ],
  );
  assert.equal(r.logs[0]!.traceIdRaw, '6567a1b200000000000000000000002a');
  assert.deepEqual(idx.query({ traceId: '0x2a' }, 10).logs.map((l) => l.id), [1, 2]);
  assert.deepEqual(r.logs[2]!.attributes, { 'dd.trace_id': '43' });
});

test('logs leave with the payloads the store drops', () => {
  const c = clock();
  const store = new IntakeStore({ maxAgeMs: 1000, now: c.now });
  const idx = new LogsIndex(store);
  inject(store, 'logs', [log('a'), log('b')]);
  c.set(1_000_600);
  inject(store, 'logs', [log('c')]);
  c.set(1_001_100);
  assert.deepEqual(idx.query({}, 10).logs.map((l) => l.message), ['c']);
  assert.deepEqual(idx.facets().services, { app: 1 });
});

test('services read the core ClientStatsPayload (camelCase) as the store keeps it', () => {
  const store = new IntakeStore();
  const idx = new TracesIndex(store);
  const gamma = 1.02 / 0.98;
  const bin = Math.floor(Math.log(2e6) / Math.log(gamma));
  inject(store, 'stats', [
    { hostname: 'h', env: 'e', version: '', stats: [{ start: 0, duration: 10e9, agentTimeShift: 0, stats: [{ service: 'cart', name: 'web', resource: 'GET /cart', hits: 4, errors: 2, duration: 8e6, topLevelHits: 4, okSummary: ddsketchBytes(gamma, new Map([[bin, 2]])), errorSummary: ddsketchBytes(gamma, new Map([[bin, 2]])) }] }] },
  ]);
  const [cart] = idx.services();
  assert.deepEqual([cart!.service, cart!.source, cart!.hits, cart!.errors], ['cart', 'stats', 4, 2]);
  assert.ok(Math.abs(cart!.p95! - 2e6) / 2e6 < 0.03, String(cart!.p95));
});
