/// <reference lib="dom" />
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Series, Span, TracerPayload } from '@kennel/core';
import { IntakeStore, LocalWeb, type StoreKind } from '@kennel/intake';
import { NO_CHROMIUM, openBrowser, type Browser } from './support.js';

/**
 * The page at scale, in Chromium: 10,000 contexts of one metric, a trace of 10,000 spans and
 * 10,000 log lines, served by the local page's handler over a store filled directly. What is
 * checked is that the page draws a bounded amount (the chart's busiest lines, the rows in view)
 * and stays usable; the times are reported, never asserted.
 */

const T0 = 1_700_000_000_000_000_000n;

function span(i: number): Span {
  return {
    service: i % 3 === 0 ? 'db' : 'web',
    name: i % 3 === 0 ? 'pg.query' : 'handler',
    resource: `op ${i}`,
    traceId: 4242n,
    spanId: BigInt(i),
    parentId: i === 1 ? 0n : BigInt(Math.max(1, Math.floor(i / 4))),
    start: T0 + BigInt(i) * 100_000n,
    duration: i === 1 ? 2_000_000_000 : 50_000,
    error: i % 997 === 0 ? 1 : 0,
    type: 'web',
    meta: { 'span.kind': 'internal', i: String(i) },
    metrics: { '_dd.measured': 1 },
    metaStruct: {},
    spanLinks: [],
    spanEvents: [],
  };
}

describe('the local page at scale in Chromium', { skip: NO_CHROMIUM, timeout: 180_000 }, () => {
  let server: Server;
  let web: LocalWeb;
  let browser: Browser;
  let base = '';

  before(async () => {
    const store = new IntakeStore();
    const now = Math.floor(Date.now() / 1000 / 10) * 10;
    for (let b = 0; b < 6; b++) {
      const items: Series[] = [];
      for (let i = 0; i < 10_000; i++) items.push({ name: 'big.metric', host: 'h', tags: [`ctx:${i}`, `shard:${i % 16}`], type: 'gauge', interval: 10, points: [{ timestamp: now - (5 - b) * 10, value: i + b }] });
      store.add('series_v2', items, { bytes: 500_000 });
    }
    const spans: Span[] = [];
    for (let i = 1; i <= 10_000; i++) spans.push(span(i));
    const tp: TracerPayload = { containerId: '', languageName: 'nodejs', languageVersion: '', tracerVersion: '', runtimeId: '', chunks: [{ priority: 1, origin: '', spans, tags: {}, droppedTrace: false }], tags: {}, env: 'scale', hostname: 'h', appVersion: '' };
    const add = store.add as (k: StoreKind, items: readonly unknown[], info: { bytes: number }) => unknown;
    add.call(store, 'traces' as StoreKind, [tp], { bytes: 2_000_000 });
    // A small trace, logs that carry its id as dd-trace's log injection writes it, and APM stats.
    const small = (id: number, parent: number, service: string, name: string, resource: string, offsetMs: number, ms: number, extra: Partial<Span> = {}): Span => ({
      ...span(1),
      traceId: 77n,
      spanId: BigInt(id),
      parentId: BigInt(parent),
      service,
      name,
      resource,
      start: T0 + BigInt(offsetMs) * 1_000_000n,
      duration: ms * 1_000_000,
      error: 0,
      meta: { env: 'scale' },
      metrics: {},
      ...extra,
    });
    add.call(store, 'traces' as StoreKind, [{ ...tp, chunks: [{ ...tp.chunks[0]!, spans: [
      small(1, 0, 'checkout', 'web.request', 'POST /checkout', 0, 120, { error: 1, meta: { 'error.message': 'card declined', 'http.status_code': '402', '_dd.p.tid': '65a1b2c300000000' }, metrics: { '_dd.top_level': 1 } }),
      small(2, 1, 'payments', 'grpc.client', 'Charge', 10, 80, { error: 1, meta: { 'rpc.service': 'payments' } }),
      small(3, 1, 'checkout-db', 'pg.query', 'INSERT INTO orders', 95, 20),
    ] }] }], { bytes: 10_000 });
    add.call(store, 'logs' as StoreKind, [
      { message: JSON.stringify({ level: 'info', msg: 'checkout started', dd: { trace_id: '65a1b2c3000000000000000000000077'.replace(/77$/, '4d'), span_id: '1' } }), status: 'info', timestamp: Date.now(), hostname: 'h', service: 'checkout', ddsource: 'nodejs', ddtags: '', tags: [] },
      { message: 'checkout failed: card declined dd.trace_id=77 dd.span_id=2', status: 'error', timestamp: Date.now(), hostname: 'h', service: 'checkout', ddsource: 'nodejs', ddtags: '', tags: [] },
    ], { bytes: 1_000 });
    add.call(store, 'stats' as StoreKind, [{ AgentHostname: 'h', AgentEnv: 'scale', Stats: [{ Env: 'scale', Stats: [{ Start: 0, Duration: 10e9, Stats: [{ Service: 'checkout', Name: 'web.request', Resource: 'POST /checkout', Hits: 40, Errors: 3, Duration: 40 * 120e6, TopLevelHits: 40, OkSummary: new Uint8Array(), ErrorSummary: new Uint8Array() }] }] }] }], { bytes: 1_000 });
    const logs = Array.from({ length: 10_000 }, (_, i) => ({ message: `line ${i}`, status: i % 10 === 0 ? 'error' : 'info', timestamp: Date.now(), hostname: 'h', service: 'app', ddsource: 'app', ddtags: '', tags: [] }));
    add.call(store, 'logs' as StoreKind, logs, { bytes: 500_000 });
    web = new LocalWeb({ store });
    server = createServer((req, res) => {
      if (!web.handle(req, res)) {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await openBrowser();
  });

  after(async () => {
    await browser?.close();
    web?.close();
    server?.closeAllConnections();
    await new Promise<void>((r) => server?.close(() => r()));
  });

  test('10,000 contexts: the chart draws the 50 busiest, the table 500, the page answers', async (t) => {
    const { page } = browser;
    const t0 = Date.now();
    await page.goto(`${base}#/metrics/big.metric`);
    await page.waitForFunction(() => document.querySelector('#metric-chart')?.getAttribute('data-series') === '50', null, { timeout: 60_000 });
    t.diagnostic(`10,000 contexts: chart and table drawn ${Date.now() - t0} ms after navigation`);
    assert.equal(await page.locator('#metric-detail .contexts tbody tr').count(), 500);
    await page.locator('.chart-note', { hasText: 'of 10000' }).waitFor();
    // Still usable: a tag filter narrows it at once.
    const t1 = Date.now();
    await page.fill('input[aria-label="tag filter"]', 'ctx:42');
    await page.waitForFunction(() => document.querySelector('#metric-chart')?.getAttribute('data-series') === '1');
    t.diagnostic(`tag filter over 10,000 contexts applied in ${Date.now() - t1} ms`);
    assert.equal(await page.locator('#metric-chart').getAttribute('data-points'), '6');
    await browser.shot('scale-10k-contexts');
  });

  test('10,000 spans: the waterfall draws the rows in view and scrolls to the last', async (t) => {
    const { page } = browser;
    const t0 = Date.now();
    await page.goto(`${base}#/traces/4242`);
    await page.locator('#waterfall .wf-row').first().waitFor({ timeout: 60_000 });
    t.diagnostic(`10,000-span waterfall drawn ${Date.now() - t0} ms after navigation`);
    const rows = await page.locator('#waterfall .wf-row').count();
    assert.ok(rows > 10 && rows < 200, `${rows} rows in the DOM for 10,000 spans`);
    await page.locator('#waterfall').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#waterfall .wf-row')).some((r) => (r as HTMLElement).dataset.span !== undefined && Number((r as HTMLElement).style.top.replace('px', '')) >= 9_990 * 24));
    assert.ok((await page.locator('#waterfall .wf-row').count()) < 200);
    await page.locator('#waterfall .wf-row').last().click();
    await page.locator('#span-panel h3').waitFor();
    await browser.shot('scale-10k-spans');
  });

  test('10,000 log lines: the tail shows the newest 1,000', async () => {
    const { page } = browser;
    await page.goto(`${base}#/logs`);
    await page.locator('#log-list .log-row', { hasText: 'line 9999' }).waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('#log-list .log-row').count(), 1000);
    await page.selectOption('select[aria-label="status"]', 'error');
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#log-list .log-row')).every((r) => (r as HTMLElement).dataset.status === 'error'));
    assert.deepEqual(browser.errors, []);
  });

  test('injected traces and logs: a log carrying dd.trace_id links to its trace; the waterfall shows meta; services', async () => {
    const { page } = browser;
    await page.goto(`${base}#/logs?service=checkout`);
    await page.waitForFunction(() => document.querySelectorAll('#log-list .log-row').length === 2);
    assert.equal(await page.locator('#log-list .log-row.lvl-error').count(), 1);
    await browser.shot('injected-logs');
    // 0x…4d is 77: the 128-bit hex id of the JSON line and the decimal of the text line both link to trace 77.
    for (const row of [0, 1]) {
      await page.goto(`${base}#/logs?service=checkout`);
      await page.waitForFunction(() => document.querySelectorAll('#log-list .log-row a.trace-link').length === 2);
      await page.locator('#log-list .log-row a.trace-link').nth(row).click();
      await page.waitForFunction(() => document.querySelector('#trace-id')?.textContent === '77');
      await page.waitForFunction(() => document.querySelectorAll('#waterfall .wf-row').length === 3);
    }
    await page.locator('#waterfall .wf-row', { hasText: 'grpc.client' }).click();
    await page.locator('#span-panel', { hasText: 'rpc.service' }).waitFor();
    await page.locator('#waterfall .wf-row', { hasText: 'web.request' }).click();
    await page.locator('#span-panel', { hasText: 'card declined' }).waitFor();
    assert.equal(await page.locator('#waterfall .wf-row.err').count(), 2);
    await browser.shot('injected-waterfall');
    await page.locator('a', { hasText: 'logs of this trace' }).click();
    await page.waitForFunction(() => document.querySelectorAll('#log-list .log-row').length === 2);
    await page.goto(`${base}#/services`);
    await page.locator('#services-table tr[data-service="checkout"] .badge', { hasText: 'stats' }).waitFor();
    await page.locator('#services-table tr[data-service="checkout"]').click();
    await page.locator('#services-table tr.resource-row', { hasText: 'POST /checkout' }).waitFor();
    await browser.shot('injected-services');
    await page.goto(`${base}#/traces`);
    await page.locator('#trace-list tr[data-trace="77"]').waitFor();
    await browser.shot('injected-traces');
    assert.deepEqual(browser.errors, []);
  });
});
