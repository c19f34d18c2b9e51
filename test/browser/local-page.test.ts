/// <reference lib="dom" />
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import StatsDClient from 'hot-shots';
import type { StatsD } from 'hot-shots';
import { freeTcpPort, freeUdpPort, startKennel, until, type KennelProcess } from '../utils/index.js';
import { canvasColourCounts, getJson, NO_CHROMIUM, openBrowser, type Browser } from './support.js';

/**
 * kennel's local page in a real browser (Debian's Chromium through playwright-core), against a
 * running `kennel run` in local mode that received hot-shots metrics over UDP and, when those
 * parts of kennel are there, dd-trace spans on its APM port and the logs of the child process it
 * started (`kennel run -- node traced-app.js`).
 */

const APP = fileURLToPath(new URL('./traced-app.js', import.meta.url));
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f'];

function sendAll(fn: () => void): void {
  const random = Math.random;
  Math.random = () => 0;
  try {
    fn();
  } finally {
    Math.random = random;
  }
}

function closeClient(c: StatsD): Promise<void> {
  return new Promise((r) => c.close(() => r()));
}

async function reachable(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

describe('the local page in Chromium', { skip: NO_CHROMIUM, timeout: 300_000 }, () => {
  let kennel: KennelProcess;
  let browser: Browser;
  let base = '';
  let udpPort = 0;
  let apmPort = 0;
  let marker = '';
  /** Why the traces part cannot run here, or null when kennel's APM receiver answers. */
  let noTraces: string | null = null;
  /** Why the logs part cannot run here, or null when `kennel run -- CMD` started the app. */
  let noLogs: string | null = null;
  let client: StatsD;

  function round(n: number): void {
    sendAll(() => {
      for (const room of ['a', 'b', 'c']) client.gauge('shop.temperature', 20 + n + (room === 'b' ? 5 : room === 'c' ? 10 : 0), [`room:${room}`, 'env:browser']);
      for (let i = 0; i < 4; i++) client.increment('shop.orders', 1, ['env:browser']);
      for (const v of [5, 10, 15, 20, 25]) client.histogram('shop.latency', v * n, ['env:browser']);
      for (let v = 1; v <= 100; v++) client.distribution('shop.payload', v, ['env:browser']);
    });
  }

  before(async () => {
    udpPort = await freeUdpPort();
    apmPort = await freeTcpPort();
    const cmdPort = await freeTcpPort();
    marker = join(mkdtempSync(join(tmpdir(), 'kennel-browser-')), 'app-started');
    kennel = startKennel(
      {
        DD_API_KEY: '',
        DD_HOSTNAME: 'browser-host',
        DD_DOGSTATSD_PORT: String(udpPort),
        DD_DOGSTATSD_SOCKET: '',
        DD_CMD_PORT: String(cmdPort),
        DD_APM_ENABLED: 'true',
        DD_APM_RECEIVER_PORT: String(apmPort),
        DD_APM_RECEIVER_SOCKET: '',
        DD_LOGS_ENABLED: 'true',
        // for the app kennel starts: dd-trace sends to kennel, and nothing else
        DD_TRACE_AGENT_PORT: String(apmPort),
        DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
        DD_REMOTE_CONFIGURATION_ENABLED: 'false',
        DD_TRACE_STARTUP_LOGS: 'false',
        KENNEL_TEST_MARKER: marker,
      },
      ['run', '--', process.execPath, APP],
    );
    await until(() => kennel.stderr().includes('local mode') || kennel.child.exitCode !== null);
    assert.equal(kennel.child.exitCode, null, kennel.stderr());
    const m = /see your metrics, traces and logs at (http:\/\/\S+\/)/.exec(kennel.stderr());
    assert.ok(m, `the start line prints the page's URL: ${kennel.stderr()}`);
    base = m[1]!;
    assert.equal(base, `http://127.0.0.1:${cmdPort}/`);
    client = new StatsDClient({ host: '127.0.0.1', port: udpPort, protocol: 'udp', prefix: '' });
    browser = await openBrowser();

    // Which of kennel's sources are here: the APM receiver, and the child process of `run -- CMD`.
    const started = Date.now();
    await until(() => existsSync(marker) || Date.now() - started > 8000);
    if (!existsSync(marker)) noLogs = '`kennel run -- CMD` did not start the command (child-process logs are not wired into kennel run yet)';
    if (!(await reachable(`http://127.0.0.1:${apmPort}/info`))) noTraces = `nothing answers on the APM port ${apmPort} (the APM receiver is not wired into kennel run yet)`;
  });

  after(async () => {
    await browser?.close();
    if (client) await closeClient(client);
    await kennel?.stop('SIGTERM');
  });

  test('metrics: the chart draws one line per context, live, zoomable; filters; histograms and distributions as such', async () => {
    const { page } = browser;
    round(1);
    client.event('deploy shop', 'v1.2.3 is out', { alert_type: 'success' }, ['env:browser']);
    client.check('shop.can_connect', client.CHECKS.WARNING, { message: 'db slow' }, ['env:browser']);
    // The first flush (every 15 s) brings one point per context.
    const first = await getJson<{ contexts: { points: number[][] }[]; timedOut: boolean }>(`${base}api/metrics/shop.temperature/points?count=3&wait=40000`);
    assert.equal(first.timedOut, false);
    assert.equal(first.contexts.length, 3);

    await page.goto(`${base}#/metrics/shop.temperature`);
    const chart = page.locator('#metric-chart');
    await chart.locator('canvas').waitFor();
    await page.waitForFunction(() => document.querySelector('#metric-chart')?.getAttribute('data-series') === '3');
    // The traced app's dd-trace also sends its own metrics over DogStatsD: count the shop's only.
    assert.equal(await page.locator('#metric-list tr[data-metric^="shop."]').count(), 4, 'shop.latency grouped as one histogram');
    await assert.doesNotReject(page.locator('#metric-list tr[data-metric="shop.latency"] .badge', { hasText: 'histogram' }).waitFor());

    // A second round lands in a later bucket: the chart grows without a reload (the stream).
    round(2);
    await page.waitForFunction(() => Number(document.querySelector('#metric-chart')?.getAttribute('data-points')) >= 6, null, { timeout: 60_000 });
    const api = await getJson<{ contexts: { points: number[][] }[] }>(`${base}api/metrics/shop.temperature/points`);
    assert.deepEqual(
      api.contexts.map((c) => c.points.map((p) => p[1])).sort(),
      [
        [21, 22],
        [26, 27],
        [31, 32],
      ],
    );
    const counts = await canvasColourCounts(page, '#metric-chart', PALETTE);
    for (const [i, n] of counts.entries()) assert.ok(n > 10, `line ${i} (${PALETTE[i]}) is drawn: ${n} pixels`);
    await browser.shot('metrics-chart');

    // Drag across the plot to zoom; double-click to zoom out.
    const over = await page.locator('#metric-chart .u-over').boundingBox();
    assert.ok(over);
    await page.mouse.move(over.x + over.width * 0.2, over.y + over.height / 2);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.6, over.y + over.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction(() => document.querySelector('#metric-chart')?.getAttribute('data-zoomed') === 'true');
    await page.mouse.dblclick(over.x + over.width / 2, over.y + over.height / 2);
    await page.waitForFunction(() => document.querySelector('#metric-chart')?.getAttribute('data-zoomed') === 'false');

    // The tag filter narrows the list and the chart to the matching contexts.
    await page.fill('input[aria-label="tag filter"]', 'room:b');
    await page.waitForFunction(() => document.querySelector('#metric-chart')?.getAttribute('data-series') === '1');
    assert.equal(await page.locator('#metric-list tr[data-metric]').count(), 1);
    await page.fill('input[aria-label="tag filter"]', '');
    await page.fill('input[aria-label="metric name filter"]', 'orders');
    await page.waitForFunction(() => document.querySelectorAll('#metric-list tr[data-metric]').length === 1);

    // A histogram: its aggregates as stats, their latest values per context.
    await page.goto(`${base}#/metrics/shop.latency?stat=max`);
    await page.locator('.stats-pick button.on', { hasText: 'max' }).waitFor();
    const hist = await getJson<{ contexts: { aggregates: Record<string, { value: number }> }[] }>(`${base}api/metrics/shop.latency`);
    assert.equal(hist.contexts[0]!.aggregates.max!.value, 50);
    await page.locator('#metric-detail td', { hasText: '50' }).first().waitFor();
    await page.waitForFunction(() => Number(document.querySelector('#metric-chart')?.getAttribute('data-points')) >= 2);
    await browser.shot('metrics-histogram');

    // A distribution: p50/p75/p95/p99 from the sketch.
    await page.goto(`${base}#/metrics/shop.payload`);
    await page.locator('#metric-detail th', { hasText: 'p99' }).waitFor();
    const dist = await getJson<{ contexts: { stats: Record<string, number> }[] }>(`${base}api/metrics/shop.payload`);
    const st = dist.contexts[0]!.stats;
    assert.equal(st.count, 100);
    for (const [q, want] of [
      ['p50', 51],
      ['p95', 95],
      ['p99', 99],
    ] as const) {
      assert.ok(Math.abs(st[q]! - want) / want < 0.025, `${q} = ${st[q]}`);
    }
    const shown = await page.locator('#metric-detail .contexts tbody tr').first().innerText();
    assert.ok(shown.includes(String(Number(st.p99!.toPrecision(4)))), `the p99 ${st.p99} is on the page: ${shown}`);
    await browser.shot('metrics-distribution');
  });

  test('events and service checks are listed', async () => {
    const { page } = browser;
    await page.goto(`${base}#/events`);
    await page.locator('#events td', { hasText: 'deploy shop' }).waitFor();
    await page.locator('#checks td', { hasText: 'shop.can_connect' }).waitFor();
    await page.locator('#checks .badge', { hasText: 'WARNING' }).waitFor();
    await browser.shot('events-checks');
  });

  test('status: the counters of kennel status, live', async () => {
    const { page } = browser;
    await page.goto(`${base}#/status`);
    const cell = page.locator('[data-block="DogStatsD"] tr[data-key="MetricPackets"] td');
    await cell.waitFor();
    const before = Number((await cell.innerText()).replace(/,/g, ''));
    const st = await getJson<{ dogstatsdStats: { MetricPackets: number } }>(`${base}agent/status`);
    // The traced app's dd-trace keeps sending its own metrics, so status may be ahead of what the page showed a moment ago.
    assert.ok(before > 0 && before <= st.dogstatsdStats.MetricPackets, `page ${before}, status ${st.dogstatsdStats.MetricPackets}`);
    sendAll(() => {
      for (let i = 0; i < 7; i++) client.increment('shop.clicks', 1);
    });
    await page.waitForFunction((n) => Number(document.querySelector('[data-block="DogStatsD"] tr[data-key="MetricPackets"] td')?.textContent?.replace(/,/g, '')) >= n + 7, before);
    await page.locator('[data-block="Local Intake"]').waitFor();
    await browser.shot('status');
  });

  test('traces: the recent traces, a waterfall of one with its spans, per-service figures', async (t) => {
    if (noTraces !== null) return t.skip(noTraces);
    const { page } = browser;
    if (noLogs !== null) {
      // kennel did not start the app: start it here, so its spans still reach kennel.
      const { spawn } = await import('node:child_process');
      const app = spawn(process.execPath, [APP], { env: { ...process.env, DD_TRACE_AGENT_PORT: String(apmPort), DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false', DD_REMOTE_CONFIGURATION_ENABLED: 'false' }, stdio: 'ignore' });
      t.after(() => void app.kill('SIGTERM'));
    }
    const list = await getJson<{ traces: { traceId: string; spanCount: number; error: boolean }[]; timedOut: boolean }>(`${base}api/traces?service=shop&count=3&wait=30000`);
    assert.equal(list.timedOut, false, 'three traces of service shop arrive');
    assert.deepEqual(list.traces.map((x) => x.spanCount), [3, 3, 3]);
    await page.goto(`${base}#/traces`);
    await page.waitForFunction(() => document.querySelectorAll('#trace-list tr[data-trace]').length >= 3);
    await browser.shot('traces-list');
    const errored = list.traces.find((x) => x.error)!;
    await page.locator(`#trace-list tr[data-trace="${errored.traceId}"]`).click();
    await page.waitForFunction(() => document.querySelectorAll('#waterfall .wf-row').length === 3);
    const labels = await page.locator('#waterfall .wf-label').allInnerTexts();
    assert.ok(labels.some((l) => l.includes('web.request')) && labels.some((l) => l.includes('pg.query')), labels.join(' | '));
    await page.locator('#waterfall .wf-row', { hasText: 'pg.query' }).click();
    await page.locator('#span-panel', { hasText: 'SELECT * FROM orders' }).waitFor();
    await page.locator('#waterfall .wf-row', { hasText: 'web.request' }).click();
    await page.locator('#span-panel', { hasText: 'payment declined' }).waitFor();
    await browser.shot('traces-waterfall');
    await page.goto(`${base}#/services`);
    await page.locator('#services-table tr[data-service="shop"]').waitFor();
    await browser.shot('services');
  });

  test('logs: the live tail with status colours and filters; a log with dd.trace_id links to its trace', async (t) => {
    if (noLogs !== null) return t.skip(noLogs);
    const { page } = browser;
    const logs = await getJson<{ logs: { message: string; traceId?: string; status: string }[]; timedOut: boolean }>(`${base}api/logs?q=served&count=3&wait=30000`);
    assert.equal(logs.timedOut, false, 'the app\u2019s log lines arrive');
    await page.goto(`${base}#/logs`);
    await page.locator('#log-list .log-row', { hasText: 'order 0 served' }).waitFor();
    await page.locator('#log-list .log-row', { hasText: 'stock is low' }).waitFor();
    assert.ok((await page.locator('#log-list .log-row').count()) >= 4);
    await browser.shot('logs-tail');
    // Filters: by text, then by status.
    await page.fill('input[aria-label="text filter"]', 'order 1');
    await page.waitForFunction(() => document.querySelectorAll('#log-list .log-row').length === 1);
    await page.fill('input[aria-label="text filter"]', '');
    await page.waitForFunction(() => document.querySelectorAll('#log-list .log-row').length >= 4);
    if (noTraces !== null) return;
    const withTrace = logs.logs.find((l) => l.message.includes('order 1 served'))!;
    assert.ok(withTrace.traceId, 'the log carries dd.trace_id');
    await page.locator('#log-list .log-row', { hasText: 'order 1 served' }).locator('a.trace-link').click();
    await page.waitForFunction((id) => document.querySelector('#trace-id')?.textContent === id, withTrace.traceId);
    await page.waitForFunction(() => document.querySelectorAll('#waterfall .wf-row').length === 3);
    await browser.shot('logs-trace-link');
  });

  test('the page works offline: every request goes to kennel, nothing breaks in the console', () => {
    const origin = base.replace(/\/$/, '');
    const foreign = browser.requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'));
    assert.deepEqual(foreign, []);
    assert.ok(browser.requests.some((u) => u.endsWith('/assets/vendor/uplot.js')));
    assert.deepEqual(browser.errors, []);
  });
});
