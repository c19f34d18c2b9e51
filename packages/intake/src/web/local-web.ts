import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MetricEvent, ServiceCheck } from '@kennel/core';
import type { IntakeStore } from '../store/intake-store.js';
import { WaitTimeoutError } from '../store/wait.js';
import { WebAssets } from './assets.js';
import { boolParam, intParam, numParam, tagFilter, textMatcher, toJson } from './json.js';
import { LogsIndex, type LogsQuery } from './logs-index.js';
import { MetricsIndex, type MetricFilter } from './metrics-index.js';
import { TracesIndex, type TraceQuery } from './traces-index.js';

/**
 * kennel's local page and its JSON API, served on the status port (loopback only) in local
 * mode: `/` is the page, `/assets/*` its files, `/api/*` the data as JSON, `/api/stream` the live
 * updates (Server-Sent Events). See the package README for every endpoint.
 */

export interface LocalWebOptions {
  readonly store: IntakeStore;
  /** The agent's status document (what `kennel status --json` prints). */
  readonly status?: () => Record<string, unknown>;
  /** Component health, `{ Healthy: [...], Unhealthy: [...] }`. */
  readonly health?: () => unknown;
  /** Series suffixes that make up a histogram (from `histogram_aggregates` and `histogram_percentiles`). */
  readonly histogramSuffixes?: readonly string[];
  /** The longest `?wait=` honoured, ms. @defaultValue 120000 */
  readonly maxWaitMs?: number;
  /** How often the stream tells what changed and sends new log lines, ms. @defaultValue 500 */
  readonly liveIntervalMs?: number;
  /** How often the stream sends the status, ms. @defaultValue 2000 */
  readonly statusIntervalMs?: number;
  readonly assets?: WebAssets;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** Security headers of every answer: nothing but kennel's own origin, no framing. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

interface Answer {
  readonly status?: number;
  readonly body: Record<string, unknown>;
  /** Whether a `?wait=` is satisfied. */
  readonly ready: boolean;
}

interface StreamClient {
  readonly res: ServerResponse;
  readonly logs: boolean;
  readonly status: boolean;
  readonly logQuery: LogsQuery;
  lastLogId: number;
}

const ENDPOINTS = [
  'GET /api/status',
  'GET /api/metrics?name=&tag=&host=&flat=&wait=&count=',
  'GET /api/metrics/:name?tag=&host=&limit=&wait=&count=',
  'GET /api/metrics/:name/points?tag=&host=&stat=&since=&max_contexts=&wait=&count=',
  'GET /api/events?q=&tag=&host=&alert_type=&since=&limit=&wait=&count=',
  'GET /api/service_checks?name=&tag=&host=&status=&latest=&since=&limit=&wait=&count=',
  'GET /api/traces?service=&resource=&name=&env=&q=&error=&min_duration_ms=&since=&limit=&full=&wait=&count=',
  'GET /api/traces/:id?wait=&min_spans=',
  'GET /api/services?wait=&count=',
  'GET /api/logs?service=&status=&q=&host=&source=&trace_id=&after=&since=&limit=&wait=&count=',
  'GET /api/stream?logs=&status=&after= (text/event-stream)',
  'POST /api/clear',
];

function hostOf(header: string | undefined): string {
  if (header === undefined) return '';
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1);
  const colon = header.lastIndexOf(':');
  return colon >= 0 && header.indexOf(':') === colon ? header.slice(0, colon) : header;
}

function list(url: URL, name: string): string[] | undefined {
  const all = url.searchParams.getAll(name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  return all.length > 0 ? all : undefined;
}

const CHECK_STATUS: Record<string, number> = { ok: 0, warning: 1, warn: 1, critical: 2, crit: 2, unknown: 3 };

export class LocalWeb {
  readonly store: IntakeStore;
  readonly metrics: MetricsIndex;
  readonly traces: TracesIndex;
  readonly logs: LogsIndex;
  readonly assets: WebAssets;
  private readonly options: LocalWebOptions;
  private readonly maxWaitMs: number;
  private readonly clients = new Set<StreamClient>();
  private readonly dirty = new Set<string>();
  private readonly waits = new Set<AbortController>();
  private readonly unsubscribe: () => void;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;
  private syncScheduled = false;

  constructor(options: LocalWebOptions) {
    this.options = options;
    this.store = options.store;
    this.metrics = new MetricsIndex(this.store, options.histogramSuffixes !== undefined ? { histogramSuffixes: options.histogramSuffixes } : {});
    this.traces = new TracesIndex(this.store);
    this.logs = new LogsIndex(this.store);
    this.assets = options.assets ?? new WebAssets();
    this.maxWaitMs = options.maxWaitMs ?? 120_000;
    // The indexes follow the store as payloads arrive (soon after, not inside the sender's
    // call), so a page opened after 30 minutes of traffic answers at once.
    this.unsubscribe = this.store.onPayload((p) => {
      this.dirty.add(p.kind);
      if (this.syncScheduled || this.closed) return;
      this.syncScheduled = true;
      setImmediate(() => {
        this.syncScheduled = false;
        if (this.closed) return;
        this.metrics.sync();
        this.traces.sync();
        this.logs.sync();
      });
    });
  }

  /**
   * Answers a request of the page or its API and returns true, or returns false for a path that
   * is not its own (the status server answers those).
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const mine = path === '/' || path === '/index.html' || path === '/favicon.ico' || path.startsWith('/assets/') || path === '/api' || path.startsWith('/api/');
    if (!mine) return false;
    // A page elsewhere must not read this through DNS rebinding: answer loopback names only.
    if (!LOOPBACK_HOSTS.has(hostOf(req.headers.host).toLowerCase())) {
      this.json(res, 403, { error: 'the local page answers requests for localhost, 127.0.0.1 or [::1] only' });
      return true;
    }
    try {
      if (req.method === 'POST' && path === '/api/clear') return this.clear(req, res);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' });
        res.end(toJson({ error: `${req.method} is not allowed here` }));
        return true;
      }
      if (!path.startsWith('/api')) return this.serveAsset(req, res, path);
      this.api(req, res, url);
    } catch (e) {
      if (!res.headersSent) this.json(res, 500, { error: (e as Error).message });
      else res.destroy();
    }
    return true;
  }

  /** Ends every stream and wait, and stops the timers. */
  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const c of this.clients) c.res.end();
    this.clients.clear();
    for (const w of this.waits) w.abort(new Error('closing'));
  }

  // --- assets ------------------------------------------------------------------------------------

  private serveAsset(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (path === '/favicon.ico') {
      res.writeHead(204, { 'cache-control': 'max-age=86400' });
      res.end();
      return true;
    }
    const a = this.assets.get(path);
    if (a === undefined) {
      if (path === '/' || path === '/index.html') {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('kennel: the local page is not built (run `pnpm build`); the JSON API is at /api\n');
        return true;
      }
      this.json(res, 404, { error: `no such file ${path}` });
      return true;
    }
    const headers: Record<string, string | number> = { ...PAGE_HEADERS, 'content-type': a.type, etag: a.etag, 'cache-control': 'no-cache', vary: 'accept-encoding' };
    if (req.headers['if-none-match'] === a.etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gz ? a.gzip : a.body;
    if (gz) headers['content-encoding'] = 'gzip';
    headers['content-length'] = body.length;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }

  // --- the API -----------------------------------------------------------------------------------

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = toJson(body);
    res.writeHead(status, {
      ...PAGE_HEADERS,
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
    });
    res.end(text);
  }

  private clear(req: IncomingMessage, res: ServerResponse): boolean {
    // A form on another site could post here: only same-origin (or non-browser) requests clear.
    const origin = req.headers.origin;
    if (origin !== undefined && !LOOPBACK_HOSTS.has(hostOf(origin.replace(/^https?:\/\//, '')).toLowerCase())) {
      this.json(res, 403, { error: 'cross-origin request refused' });
      return true;
    }
    req.resume();
    this.store.clear();
    this.json(res, 200, { cleared: true });
    return true;
  }

  private api(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const path = url.pathname.replace(/\/+$/, '');
    const m = /^\/api\/(metrics|traces)\/(.+?)(\/points)?$/.exec(path);
    if (m) {
      const id = decodeURIComponent(m[2]!);
      if (m[1] === 'metrics') {
        if (m[3] !== undefined) return this.answer(req, res, url, () => this.metricPoints(id, url));
        return this.answer(req, res, url, () => this.metricDetail(id, url));
      }
      if (m[3] === undefined) return this.answer(req, res, url, () => this.trace(id, url));
    }
    switch (path) {
      case '/api':
        return this.json(res, 200, { endpoints: ENDPOINTS });
      case '/api/status':
        return this.json(res, 200, this.statusDoc());
      case '/api/metrics':
        return this.answer(req, res, url, () => this.metricList(url));
      case '/api/events':
        return this.answer(req, res, url, () => this.events(url));
      case '/api/service_checks':
        return this.answer(req, res, url, () => this.serviceChecks(url));
      case '/api/traces':
        return this.answer(req, res, url, () => this.traceList(url));
      case '/api/services':
        return this.answer(req, res, url, () => this.services(url));
      case '/api/logs':
        return this.answer(req, res, url, () => this.logList(url));
      case '/api/stream':
        return this.stream(req, res, url);
      default:
        return this.json(res, 404, { error: `no such endpoint ${url.pathname}`, endpoints: ENDPOINTS });
    }
  }

  /**
   * Answers `compute()` now, or, with `?wait=<ms>` and an answer not ready yet, once it is
   * (checked after every payload stored) or when the wait runs out (then `timedOut: true`).
   */
  private answer(req: IncomingMessage, res: ServerResponse, url: URL, compute: () => Answer): void {
    const first = compute();
    const waitMs = numParam(url.searchParams.get('wait'));
    if (first.ready || waitMs === undefined || waitMs <= 0 || this.closed) {
      return this.json(res, first.status ?? 200, waitMs !== undefined ? { ...first.body, timedOut: false } : first.body);
    }
    const ac = new AbortController();
    this.waits.add(ac);
    res.on('close', () => {
      if (!res.writableEnded) ac.abort(new Error('the client went away'));
    });
    void req;
    this.store
      .waitFor(
        () => {
          const a = compute();
          return a.ready ? a : null;
        },
        { timeoutMs: Math.min(waitMs, this.maxWaitMs), signal: ac.signal },
      )
      .then(
        (a) => this.json(res, a.status ?? 200, { ...a.body, timedOut: false }),
        (e: unknown) => {
          if (res.writableEnded || res.destroyed) return;
          if (e instanceof WaitTimeoutError) {
            const a = compute();
            return this.json(res, a.status ?? 200, { ...a.body, timedOut: true });
          }
          this.json(res, 503, { error: (e as Error).message });
        },
      )
      .finally(() => this.waits.delete(ac));
  }

  private count(url: URL): number {
    return intParam(url.searchParams.get('count'), 1, 1_000_000);
  }

  statusDoc(): Record<string, unknown> {
    this.metrics.sync();
    this.traces.sync();
    this.logs.sync();
    return {
      ...(this.options.status?.() ?? {}),
      ...(this.options.health !== undefined ? { health: this.options.health() } : {}),
      localWebStats: { Metrics: this.metrics.size, Traces: this.traces.size, Logs: this.logs.size, StreamClients: this.clients.size },
      intake: this.store.counts(),
    };
  }

  private metricFilter(url: URL, withName: boolean): MetricFilter {
    const tags = list(url, 'tag');
    return {
      name: withName ? textMatcher(url.searchParams.get('name')) : undefined,
      tags: tags !== undefined ? tagFilter(tags) : undefined,
      host: url.searchParams.get('host') ?? undefined,
    };
  }

  private metricList(url: URL): Answer {
    const metrics = this.metrics.list(this.metricFilter(url, true), { flat: boolParam(url.searchParams.get('flat')) === true });
    const limit = intParam(url.searchParams.get('limit'), 100_000, 100_000);
    return { body: { total: metrics.length, metrics: metrics.slice(0, limit) }, ready: metrics.length >= this.count(url) };
  }

  private metricDetail(name: string, url: URL): Answer {
    const d = this.metrics.detail(name, this.metricFilter(url, false), intParam(url.searchParams.get('limit'), 1000, 100_000));
    if (d === null) return { status: 404, body: { error: `no metric named ${name}` }, ready: false };
    return { body: { ...d }, ready: d.contextCount >= this.count(url) };
  }

  private metricPoints(name: string, url: URL): Answer {
    const p = this.metrics.points(name, this.metricFilter(url, false), {
      stat: url.searchParams.get('stat') ?? undefined,
      since: numParam(url.searchParams.get('since')),
      maxContexts: intParam(url.searchParams.get('max_contexts'), 100, 100_000),
    });
    if (p === null) return { status: 404, body: { error: `no metric named ${name}` }, ready: false };
    const points = p.contexts.reduce((n, c) => n + c.points.length, 0);
    return { body: { ...p }, ready: points >= this.count(url) };
  }

  private events(url: URL): Answer {
    const text = textMatcher(url.searchParams.get('q'));
    const tags = list(url, 'tag');
    const tf = tags !== undefined ? tagFilter(tags) : undefined;
    const host = url.searchParams.get('host') ?? undefined;
    const alert = list(url, 'alert_type');
    const since = numParam(url.searchParams.get('since'));
    const out: (MetricEvent & { receivedAt: number })[] = [];
    for (const p of this.store.payloads('events', since !== undefined ? { since } : {})) {
      for (const e of p.items) {
        if (text !== undefined && !text(`${e.title}\n${e.text}`)) continue;
        if (tf !== undefined && !tf(e.tags)) continue;
        if (host !== undefined && e.host !== host) continue;
        if (alert !== undefined && !alert.includes(e.alertType)) continue;
        out.push({ ...e, receivedAt: p.receivedAt });
      }
    }
    out.reverse();
    const limit = intParam(url.searchParams.get('limit'), 500, 100_000);
    return { body: { total: out.length, events: out.slice(0, limit) }, ready: out.length >= this.count(url) };
  }

  private serviceChecks(url: URL): Answer {
    const name = textMatcher(url.searchParams.get('name'));
    const tags = list(url, 'tag');
    const tf = tags !== undefined ? tagFilter(tags) : undefined;
    const host = url.searchParams.get('host') ?? undefined;
    const statuses = list(url, 'status')?.map((s) => CHECK_STATUS[s.toLowerCase()] ?? Number(s));
    const since = numParam(url.searchParams.get('since'));
    let out: (ServiceCheck & { receivedAt: number })[] = [];
    for (const p of this.store.payloads('check_runs', since !== undefined ? { since } : {})) {
      for (const c of p.items) {
        if (name !== undefined && !name(c.name)) continue;
        if (tf !== undefined && !tf(c.tags)) continue;
        if (host !== undefined && c.host !== host) continue;
        out.push({ ...c, receivedAt: p.receivedAt });
      }
    }
    if (boolParam(url.searchParams.get('latest')) === true) {
      const latest = new Map<string, ServiceCheck & { receivedAt: number }>();
      for (const c of out) latest.set(`${c.name}\u0000${c.host}\u0000${[...c.tags].sort().join(',')}`, c);
      out = [...latest.values()];
    }
    if (statuses !== undefined) out = out.filter((c) => statuses.includes(c.status));
    out.reverse();
    const limit = intParam(url.searchParams.get('limit'), 500, 100_000);
    return { body: { total: out.length, serviceChecks: out.slice(0, limit) }, ready: out.length >= this.count(url) };
  }

  private traceQuery(url: URL): TraceQuery {
    const g = (k: string): string | undefined => url.searchParams.get(k) ?? undefined;
    return {
      service: g('service'),
      resource: g('resource'),
      name: g('name'),
      env: g('env'),
      text: textMatcher(g('q')),
      error: boolParam(url.searchParams.get('error')),
      minDurationMs: numParam(url.searchParams.get('min_duration_ms')),
      since: numParam(url.searchParams.get('since')),
    };
  }

  private traceList(url: URL): Answer {
    const limit = intParam(url.searchParams.get('limit'), 100, 100_000);
    const r = this.traces.list(this.traceQuery(url), limit);
    const full = boolParam(url.searchParams.get('full')) === true;
    const traces = full ? r.traces.map((t) => this.traces.get(t.traceId) ?? t) : r.traces;
    return { body: { total: r.total, traces }, ready: r.total >= this.count(url) };
  }

  private trace(id: string, url: URL): Answer {
    const t = this.traces.get(id);
    if (t === null) return { status: 404, body: { error: `no trace ${id} is held` }, ready: false };
    const minSpans = intParam(url.searchParams.get('min_spans'), 1, 1_000_000);
    return { body: { ...t }, ready: t.spans.length >= minSpans };
  }

  private services(url: URL): Answer {
    const rows = this.traces.services();
    return { body: { services: rows }, ready: rows.length >= this.count(url) };
  }

  private logQuery(url: URL): LogsQuery {
    return {
      services: list(url, 'service'),
      statuses: list(url, 'status'),
      text: textMatcher(url.searchParams.get('q')),
      host: url.searchParams.get('host') ?? undefined,
      source: url.searchParams.get('source') ?? undefined,
      traceId: url.searchParams.get('trace_id') ?? undefined,
      after: numParam(url.searchParams.get('after')),
      since: numParam(url.searchParams.get('since')),
    };
  }

  private logList(url: URL): Answer {
    const r = this.logs.query(this.logQuery(url), intParam(url.searchParams.get('limit'), 500, 100_000));
    return { body: { total: r.total, lastId: r.lastId, logs: r.logs, facets: this.logs.facets() }, ready: r.total >= this.count(url) };
  }

  // --- the stream --------------------------------------------------------------------------------

  private stream(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (this.closed) return this.json(res, 503, { error: 'closing' });
    res.writeHead(200, {
      ...PAGE_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    req.socket.setNoDelay(true);
    this.logs.sync();
    const after = numParam(url.searchParams.get('after'));
    const client: StreamClient = {
      res,
      logs: boolParam(url.searchParams.get('logs')) !== false,
      status: boolParam(url.searchParams.get('status')) !== false,
      logQuery: { ...this.logQuery(url), after: undefined },
      lastLogId: after ?? this.logs.next - 1,
    };
    this.clients.add(client);
    res.write(`retry: 2000\n\n`);
    this.send(client, 'hello', { now: Date.now(), lastLogId: client.lastLogId, endpoints: ENDPOINTS.length });
    if (client.status) this.send(client, 'status', this.statusDoc());
    res.on('close', () => {
      this.clients.delete(client);
      if (this.clients.size === 0) this.stopTimers();
    });
    this.startTimers();
  }

  private send(c: StreamClient, event: string, data: unknown): void {
    c.res.write(`event: ${event}\ndata: ${toJson(data)}\n\n`);
  }

  private startTimers(): void {
    if (this.timers.length > 0) return;
    const live = setInterval(() => this.tick(), this.options.liveIntervalMs ?? 500);
    const status = setInterval(() => {
      if (![...this.clients].some((c) => c.status)) return;
      const doc = this.statusDoc();
      for (const c of this.clients) if (c.status) this.send(c, 'status', doc);
    }, this.options.statusIntervalMs ?? 2000);
    const ping = setInterval(() => {
      for (const c of this.clients) c.res.write(': ping\n\n');
    }, 15_000);
    for (const t of [live, status, ping]) t.unref();
    this.timers = [live, status, ping];
  }

  private stopTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  private tick(): void {
    if (this.dirty.size === 0) return;
    const kinds = [...this.dirty];
    this.dirty.clear();
    const changed = { kinds, now: Date.now() };
    for (const c of this.clients) this.send(c, 'changed', changed);
    if (!kinds.includes('logs')) return;
    for (const c of this.clients) {
      if (!c.logs) continue;
      const r = this.logs.query({ ...c.logQuery, after: c.lastLogId }, 1000);
      c.lastLogId = r.lastId;
      if (r.logs.length > 0) this.send(c, 'logs', { logs: r.logs, skipped: r.total - r.logs.length, lastId: r.lastId });
    }
  }
}
