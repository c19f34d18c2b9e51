import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { IntakeStore, LocalWeb } from '../src/index.js';
import { httpGet, inject, readEvents, serve, series, sketch, sketchPoint, span, tracerPayload } from './local-web-support.js';

async function withWeb(fn: (ctx: { store: IntakeStore; web: LocalWeb; url: string }) => Promise<void>, status?: () => Record<string, unknown>): Promise<void> {
  const store = new IntakeStore();
  const web = new LocalWeb({ store, liveIntervalMs: 50, statusIntervalMs: 100, ...(status ? { status, health: () => ({ Healthy: ['a'], Unhealthy: [] }) } : {}) });
  const srv = await serve((req, res) => web.handle(req, res));
  try {
    await fn({ store, web, url: srv.url });
  } finally {
    web.close();
    await srv.close();
  }
}

test('the page and its assets are served by kennel itself, gzip and ETag included', async () => {
  await withWeb(async ({ url }) => {
    const page = await httpGet(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    const html = page.body.toString();
    // Every asset the page names is local (no CDN) and served.
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((r) => !r.startsWith('#') && !r.startsWith('data:'));
    assert.ok(refs.length >= 3, refs.join(' '));
    for (const r of refs) {
      assert.ok(r.startsWith('/'), `${r} is served by kennel`);
      assert.equal((await httpGet(`${url}${r}`)).status, 200, r);
    }
    const app = await httpGet(`${url}/assets/app.js`, { 'accept-encoding': 'gzip' });
    assert.equal(app.headers['content-encoding'], 'gzip');
    const js = gunzipSync(app.body).toString();
    // Every module the page imports is served too.
    for (const m of js.matchAll(/from '\.\/([^']+)'/g)) assert.equal((await httpGet(`${url}/assets/${m[1]}`)).status, 200, m[1]);
    const uplot = await httpGet(`${url}/assets/vendor/uplot.js`);
    assert.equal(uplot.status, 200);
    assert.match(uplot.body.toString(), /export default uPlot;\s*$/);
    assert.equal((await httpGet(`${url}/assets/app.js`, { 'if-none-match': String(app.headers.etag) })).status, 304);
    assert.equal((await httpGet(`${url}/assets/../src/index.js`)).status, 404);
    assert.equal((await httpGet(`${url}/elsewhere`)).body.toString(), 'not mine');
  });
});

test('only loopback Host names are answered (no DNS rebinding), and only GET, HEAD and POST /api/clear', async () => {
  await withWeb(async ({ url, store }) => {
    assert.equal((await httpGet(`${url}/api/status`, { host: 'attacker.example:5001' })).status, 403);
    assert.equal((await httpGet(`${url}/api/status`, { host: 'localhost:5001' })).status, 200);
    assert.equal((await httpGet(`${url}/api/status`, { host: '[::1]:5001' })).status, 200);
    assert.equal((await httpGet(`${url}/api/metrics`, {}, 'DELETE')).status, 405);
    store.add('series_v2', [series('m', 'gauge', [], [[1, 1]])], { bytes: 1 });
    assert.equal((await httpGet(`${url}/api/clear`, { origin: 'https://attacker.example' }, 'POST')).status, 403);
    assert.equal(store.series().length, 1);
    assert.equal((await httpGet(`${url}/api/clear`, {}, 'POST')).status, 200);
    assert.equal(store.series().length, 0);
  });
});

test('metrics, points, events and service checks as JSON', async () => {
  await withWeb(async ({ url, store }) => {
    store.add('series_v2', [series('app.temp', 'gauge', ['env:a'], [[10, 20]]), series('app.temp', 'gauge', ['env:b'], [[10, 30]])], { bytes: 1 });
    store.add('sketches', [sketch('app.size', ['env:a'], [sketchPoint(10, [1, 2, 3, 4])])], { bytes: 1 });
    store.add('events', [{ title: 'deploy', text: 'v2', timestamp: 5, host: 'h', aggregationKey: '', priority: 'low', sourceTypeName: '', alertType: 'success', tags: ['env:a'] }], { bytes: 1 });
    store.add('check_runs', [{ name: 'db.up', host: 'h', timestamp: 5, status: 1, message: 'slow', tags: [] }], { bytes: 1 });
    store.add('check_runs', [{ name: 'db.up', host: 'h', timestamp: 6, status: 0, message: '', tags: [] }], { bytes: 1 });
    const list = (await httpGet(`${url}/api/metrics?tag=env:b`)).json<{ metrics: { name: string; contexts: number }[] }>();
    assert.deepEqual(list.metrics.map((m) => [m.name, m.contexts]), [['app.temp', 1]]);
    const byName = (await httpGet(`${url}/api/metrics?name=/^app\\.s/`)).json<{ metrics: { name: string; stats: { count: number } }[] }>();
    assert.deepEqual(byName.metrics.map((m) => [m.name, m.stats.count]), [['app.size', 4]]);
    const d = (await httpGet(`${url}/api/metrics/app.temp`)).json<{ contextCount: number }>();
    assert.equal(d.contextCount, 2);
    const p = (await httpGet(`${url}/api/metrics/app.temp/points?tag=env:a`)).json<{ contexts: { points: number[][] }[] }>();
    assert.deepEqual(p.contexts[0]!.points, [[10, 20]]);
    assert.equal((await httpGet(`${url}/api/metrics/app.size/points?stat=max`)).json<{ contexts: { points: number[][] }[] }>().contexts[0]!.points[0]![1], 4);
    assert.equal((await httpGet(`${url}/api/metrics/nope`)).status, 404);
    const ev = (await httpGet(`${url}/api/events?q=deploy`)).json<{ events: { title: string; receivedAt: number }[] }>();
    assert.equal(ev.events[0]!.title, 'deploy');
    assert.ok(ev.events[0]!.receivedAt > 0);
    assert.equal((await httpGet(`${url}/api/events?alert_type=error`)).json<{ total: number }>().total, 0);
    const all = (await httpGet(`${url}/api/service_checks`)).json<{ serviceChecks: { status: number }[] }>();
    assert.deepEqual(all.serviceChecks.map((c) => c.status), [0, 1]);
    const latest = (await httpGet(`${url}/api/service_checks?latest=1`)).json<{ serviceChecks: { status: number }[] }>();
    assert.deepEqual(latest.serviceChecks.map((c) => c.status), [0]);
    assert.equal((await httpGet(`${url}/api/service_checks?status=warning`)).json<{ total: number }>().total, 1);
    const api = (await httpGet(`${url}/api`)).json<{ endpoints: string[] }>();
    assert.ok(api.endpoints.some((e) => e.startsWith('GET /api/traces/:id')));
    assert.equal((await httpGet(`${url}/api/nope`)).status, 404);
  });
});

test('?wait= answers when matching data arrives, or when the wait runs out with timedOut', async () => {
  await withWeb(async ({ url, store }) => {
    const pending = httpGet(`${url}/api/traces?service=checkout&wait=5000`);
    const trace = httpGet(`${url}/api/traces/77?wait=5000&min_spans=2`);
    const logs = httpGet(`${url}/api/logs?q=ready&count=2&wait=5000`);
    await new Promise((r) => setTimeout(r, 100));
    inject(store, 'traces', [tracerPayload([span({ traceId: 5n, spanId: 1n, service: 'other' })])]);
    inject(store, 'traces', [tracerPayload([span({ traceId: 77n, spanId: 1n, service: 'checkout' })])]);
    inject(store, 'logs', [{ message: 'ready 1', status: 'info', service: 'app' }]);
    inject(store, 'traces', [tracerPayload([span({ traceId: 77n, spanId: 2n, parentId: 1n, service: 'checkout' })])]);
    inject(store, 'logs', [{ message: 'ready 2', status: 'info', service: 'app' }]);
    const r = await pending;
    assert.equal(r.status, 200);
    const body = r.json<{ timedOut: boolean; traces: { traceId: string }[] }>();
    assert.equal(body.timedOut, false);
    assert.deepEqual(body.traces.map((t) => t.traceId), ['77']);
    const t = (await trace).json<{ spans: { spanId: string }[] }>();
    assert.deepEqual(t.spans.map((s) => s.spanId), ['1', '2']);
    assert.deepEqual((await logs).json<{ logs: { message: string }[] }>().logs.map((l) => l.message), ['ready 1', 'ready 2']);

    const late = await httpGet(`${url}/api/metrics?name=never&wait=150`);
    assert.equal(late.status, 200);
    assert.deepEqual(late.json(), { total: 0, metrics: [], timedOut: true });
    assert.equal((await httpGet(`${url}/api/traces/999?wait=100`)).status, 404);
    // Full traces in the list, for test suites that check spans.
    const full = (await httpGet(`${url}/api/traces?service=checkout&full=1`)).json<{ traces: { spans: unknown[] }[] }>();
    assert.equal(full.traces[0]!.spans.length, 2);
    const services = (await httpGet(`${url}/api/services`)).json<{ services: { service: string }[] }>();
    assert.deepEqual(services.services.map((s) => s.service).sort(), ['checkout', 'other']);
  });
});

test('the stream tells what changed, sends new log lines and the status', async () => {
  let n = 0;
  await withWeb(
    async ({ url, store }) => {
      const events = readEvents(`${url}/api/stream`, (ev) => ev.some((e) => e.event === 'logs') && ev.some((e) => e.event === 'changed') && ev.filter((e) => e.event === 'status').length >= 2);
      await new Promise((r) => setTimeout(r, 100));
      store.add('series_v2', [series('m', 'gauge', [], [[1, 1]])], { bytes: 1 });
      inject(store, 'logs', [{ message: 'hello', status: 'error', service: 'app' }]);
      const got = await events;
      assert.equal(got[0]!.event, 'hello');
      const changed = got.filter((e) => e.event === 'changed').flatMap((e) => (e.data as { kinds: string[] }).kinds);
      assert.ok(changed.includes('series_v2') && changed.includes('logs'), JSON.stringify(changed));
      const logs = got.filter((e) => e.event === 'logs').flatMap((e) => (e.data as { logs: { message: string; status: string }[] }).logs);
      assert.deepEqual(logs.map((l) => [l.message, l.status]), [['hello', 'error']]);
      const status = got.filter((e) => e.event === 'status').map((e) => e.data as { calls: number; health: unknown; intake: unknown });
      assert.ok(status[1]!.calls > status[0]!.calls, 'the status is live');
      assert.deepEqual(status[0]!.health, { Healthy: ['a'], Unhealthy: [] });
      assert.ok(status[0]!.intake !== undefined);
    },
    () => ({ calls: ++n }),
  );
});

test('closing ends open streams and waits', async () => {
  const store = new IntakeStore();
  const web = new LocalWeb({ store });
  const srv = await serve((req, res) => web.handle(req, res));
  const wait = httpGet(`${srv.url}/api/logs?wait=60000`);
  const stream = readEvents(`${srv.url}/api/stream`, (ev) => ev.length > 0);
  await stream;
  await new Promise((r) => setTimeout(r, 50));
  web.close();
  const r = await wait;
  assert.equal(r.status, 503);
  await srv.close();
});
