import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { CounterMap } from '@kennel/core';
import { AGENT_VERSION } from '@kennel/forwarder';
import { EVP_PROXY_ALLOWED_HEADERS } from '@kennel/traces/source';
import type { ProxyAnswer, ProxyProduct, ProxyRequest } from '@kennel/traces/source';

/**
 * The trace-agent's proxies (`shared/spec/traces.md` d.5): profiles, telemetry, EVP, the
 * debugger, the symbol database, tracer flares, Data Streams pipeline stats and OpenLineage
 * events arrive on the trace receiver and go to their own intakes with the API key added. In
 * local mode nothing leaves the machine: each request is answered as its intake would and kept,
 * opaque, in a bounded in-memory store.
 */

/** What the proxies need from the configuration. */
export interface ApmProxyOptions {
  /** `api_key`; empty is local mode. */
  readonly apiKey: string;
  readonly site: string;
  readonly hostname: string;
  readonly defaultEnv: string;
  /** The trace intake base URL (`apm_config.apm_dd_url`, else `https://trace.agent.<site>`): pipeline stats go there. */
  readonly traceIntakeUrl: string;
  /** `apm_config.profiling_dd_url`. */
  readonly profilingUrl: string;
  /** `apm_config.telemetry.dd_url`. */
  readonly telemetryUrl: string;
  /** `apm_config.debugger_dd_url`. */
  readonly debuggerUrl: string;
  /** `apm_config.debugger_diagnostics_dd_url`. */
  readonly debuggerDiagnosticsUrl: string;
  /** `apm_config.symdb_dd_url`. */
  readonly symdbUrl: string;
  /** `evp_proxy_config.enabled`. */
  readonly evpEnabled: boolean;
  /** `evp_proxy_config.dd_url`: the domain EVP subdomains are prefixed to (the site when empty). */
  readonly evpDomain: string;
  /** Seconds per forwarded request (`forwarder_timeout`). */
  readonly timeoutSeconds: number;
  /** Local mode: how long and how many bytes of proxied payloads are kept. */
  readonly localMaxAgeMs: number;
  readonly localMaxBytes: number;
  readonly log: (line: string) => void;
}

/** One proxied request kept in local mode. */
export interface KeptProxyPayload {
  readonly seq: number;
  readonly product: ProxyProduct;
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly contentType: string;
  readonly contentEncoding: string;
  /** Request headers, lower case, secrets left out. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  readonly receivedAt: number;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
]);
const SECRET = new Set(['dd-api-key', 'dd-application-key', 'authorization', 'x-datadog-api-key']);
/** In-flight telemetry bytes before the proxy answers 429 (the agent caps what it buffers). */
const MAX_TELEMETRY_INFLIGHT_BYTES = 16 * 1024 * 1024;
const VALID_SUBDOMAIN = /^[A-Za-z0-9_.-]+$/;
const VALID_PATH = /^[A-Za-z0-9/_+-]*$/;
const VALID_QUERY = /^[A-Za-z0-9/_+\-@?&=.:"]*$/;

/** How each product answers when it is accepted locally (as its intake would, after the agent's rewrites). */
const LOCAL_ANSWER: Readonly<Record<ProxyProduct, ProxyAnswer>> = {
  // The profiling proxy rewrites the intake's 202 to 200 for old clients.
  profiling: { status: 200, headers: { 'Content-Type': 'application/json' }, body: '{}' },
  // The telemetry forwarder answers at once with `{}`.
  telemetry: { status: 200, headers: { 'Content-Type': 'application/json' }, body: '{}' },
  pipeline_stats: { status: 202, headers: { 'Content-Type': 'application/json' }, body: '{}' },
  openlineage: { status: 202, headers: { 'Content-Type': 'application/json' }, body: '{}' },
  evp_proxy: { status: 202, headers: { 'Content-Type': 'application/json' }, body: '{}' },
  debugger_logs: { status: 202, headers: { 'Content-Type': 'application/json' }, body: '{}' },
  debugger_diagnostics: { status: 202, headers: { 'Content-Type': 'application/json' }, body: '{}' },
  debugger_v2: { status: 202, headers: { 'Content-Type': 'application/json' }, body: '{}' },
  symdb: { status: 202, headers: { 'Content-Type': 'application/json' }, body: '{}' },
  tracer_flare: { status: 200, headers: { 'Content-Type': 'application/json' }, body: '{}' },
};

function first(v: string | string[] | undefined): string {
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

function trimSlash(u: string): string {
  return u.replace(/\/+$/, '');
}

/** `https://7-64-0-flare.<site>`: the tracer flare host carries the agent version. */
function flareUrl(site: string): string {
  const [maj = '7', min = '0', patch = '0'] = AGENT_VERSION.split('.');
  return `https://${maj}-${min}-${patch}-flare.${site}/api/ui/support/serverless/flare`;
}

export class ApmProxy {
  readonly requests = new CounterMap();
  readonly forwarded = new CounterMap();
  readonly errors = new CounterMap();
  readonly kept = new CounterMap();
  readonly keptBytes = new CounterMap();
  private readonly o: ApmProxyOptions;
  private readonly store: KeptProxyPayload[] = [];
  private storeBytes = 0;
  private seq = 0;
  private droppedPayloads = 0;
  private droppedBytes = 0;
  private telemetryInflight = 0;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly agents = { http: new http.Agent({ keepAlive: true, maxSockets: 8 }), https: new https.Agent({ keepAlive: true, maxSockets: 8 }) };
  readonly mode: 'local' | 'forward';

  constructor(options: ApmProxyOptions) {
    this.o = options;
    this.mode = options.apiKey === '' ? 'local' : 'forward';
  }

  /** The receiver's `onProxy`. Never rejects. */
  async handle(r: ProxyRequest): Promise<ProxyAnswer> {
    this.requests.add(r.product);
    if (r.product === 'evp_proxy') {
      if (!this.o.evpEnabled) return plain(405, 'EVPProxy is disabled: Has been disabled in config');
      // The agent's transport refuses these before any request: the reverse proxy answers 502.
      const sub = first(r.headers['x-datadog-evp-subdomain']);
      if (sub === '' || !VALID_SUBDOMAIN.test(sub) || !VALID_PATH.test(r.path) || !VALID_QUERY.test(r.query)) {
        this.errors.add(r.product);
        return { status: 502 };
      }
    }
    if (this.mode === 'local') return this.keep(r);
    if (r.product === 'telemetry') {
      // Answered at once; sent in the background (what the agent's telemetry forwarder does).
      if (this.telemetryInflight + r.body.length > MAX_TELEMETRY_INFLIGHT_BYTES) {
        this.errors.add(r.product);
        return { status: 429, headers: { 'Content-Type': 'application/json' }, body: '{}' };
      }
      this.telemetryInflight += r.body.length;
      const p = this.forward(r).finally(() => {
        this.telemetryInflight -= r.body.length;
      });
      this.track(p);
      return { status: 200, headers: { 'Content-Type': 'application/json' }, body: '{}' };
    }
    const p = this.forward(r);
    this.track(p);
    return p;
  }

  private track(p: Promise<unknown>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private keep(r: ProxyRequest): ProxyAnswer {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers)) if (!SECRET.has(k) && v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const now = Date.now();
    const item: KeptProxyPayload = {
      seq: ++this.seq,
      product: r.product,
      method: r.method,
      path: r.path,
      query: r.query,
      contentType: first(r.headers['content-type']),
      contentEncoding: first(r.headers['content-encoding']),
      headers,
      body: r.body,
      receivedAt: now,
    };
    this.store.push(item);
    this.storeBytes += r.body.length;
    this.kept.add(r.product);
    this.keptBytes.add(r.product, r.body.length);
    while (this.store.length > 0 && (this.storeBytes > this.o.localMaxBytes || now - this.store[0]!.receivedAt > this.o.localMaxAgeMs)) {
      const old = this.store.shift()!;
      this.storeBytes -= old.body.length;
      this.droppedPayloads++;
      this.droppedBytes += old.body.length;
    }
    return LOCAL_ANSWER[r.product];
  }

  /** Local mode: what is kept, oldest first (optionally one product). */
  payloads(product?: ProxyProduct): readonly KeptProxyPayload[] {
    return product === undefined ? [...this.store] : this.store.filter((p) => p.product === product);
  }

  /** Where a request goes, or null when it cannot be forwarded. */
  target(r: ProxyRequest): string | null {
    const o = this.o;
    const site = o.site || 'datadoghq.com';
    const q = r.query !== '' ? `?${r.query}` : '';
    switch (r.product) {
      case 'profiling':
        return (o.profilingUrl || `https://intake.profile.${site}/api/v2/profile`) + q;
      case 'telemetry':
        return trimSlash(o.telemetryUrl || `https://instrumentation-telemetry-intake.${site}`) + r.path + q;
      case 'pipeline_stats':
        return trimSlash(o.traceIntakeUrl) + '/api/v0.1/pipeline_stats' + q;
      case 'openlineage':
        return `https://data-obs-intake.${site}/api/v1/lineage` + q;
      case 'evp_proxy': {
        const sub = first(r.headers['x-datadog-evp-subdomain']);
        return `https://${sub}.${o.evpDomain || site}${r.path}${q}`;
      }
      case 'debugger_logs':
        return withTags(o.debuggerUrl || `https://http-intake.logs.${site}/api/v2/logs`, r, this.hostTags());
      case 'debugger_diagnostics':
      case 'debugger_v2':
        return withTags(o.debuggerDiagnosticsUrl || `https://debugger-intake.${site}/api/v2/debugger`, r, this.hostTags());
      case 'symdb':
        return withTags(o.symdbUrl || `https://debugger-intake.${site}/api/v2/debugger`, r, this.hostTags());
      case 'tracer_flare':
        return flareUrl(site);
    }
  }

  private hostTags(): string {
    return `host:${this.o.hostname},default_env:${this.o.defaultEnv},agent_version:${AGENT_VERSION}`;
  }

  /** The headers sent with a forwarded request. */
  headers(r: ProxyRequest): Record<string, string> {
    const out: Record<string, string> = {};
    const via = `trace-agent ${AGENT_VERSION}`;
    if (r.product === 'evp_proxy') {
      // Only the allowed headers cross the EVP proxy, then the agent's own.
      for (const name of EVP_PROXY_ALLOWED_HEADERS) {
        const v = first(r.headers[name.toLowerCase()]);
        if (v !== '') out[name] = v;
      }
      out['Via'] = via;
      out['X-Datadog-Hostname'] = this.o.hostname;
      out['X-Datadog-AgentDefaultEnv'] = this.o.defaultEnv;
      const cid = first(r.headers['datadog-container-id']);
      if (cid !== '') out['Datadog-Container-ID'] = cid;
      out['DD-API-KEY'] = this.o.apiKey;
      return out;
    }
    for (const [k, v] of Object.entries(r.headers as IncomingHttpHeaders)) {
      if (v === undefined || HOP_BY_HOP.has(k) || SECRET.has(k) || k === 'x-forwarded-for') continue;
      out[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    out['Via'] = via;
    out['DD-API-KEY'] = this.o.apiKey;
    if (r.product === 'profiling') {
      const extra = first(r.headers['x-datadog-additional-tags']);
      out['X-Datadog-Additional-Tags'] = extra !== '' ? `${extra},${this.hostTags()}` : this.hostTags();
    }
    if (r.product === 'debugger_logs' || r.product === 'debugger_diagnostics' || r.product === 'debugger_v2' || r.product === 'symdb') {
      out['DD-REQUEST-ID'] = randomUUID();
      out['DD-EVP-ORIGIN'] = 'agent-debugger';
    }
    if (r.product === 'pipeline_stats') out['user-agent'] = '';
    return out;
  }

  /** Sends a request to its intake and answers with the intake's answer (profiling: up to 3 attempts). */
  private async forward(r: ProxyRequest): Promise<ProxyAnswer> {
    const url = this.target(r);
    if (url === null) {
      this.errors.add(r.product);
      return { status: 502 };
    }
    const headers = this.headers(r);
    const attempts = r.product === 'profiling' ? 3 : 1;
    let last: ProxyAnswer = { status: 502 };
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await new Promise((res) => setTimeout(res, Math.min(2000, 100 * 2 ** (i - 1))));
      const a = await this.send(url, r.method, headers, r.body);
      last = a ?? { status: 502 };
      const retry = a === null || a.status === 502 || a.status === 503 || a.status === 504;
      if (!retry) break;
    }
    if (last.status >= 400) this.errors.add(r.product);
    else this.forwarded.add(r.product);
    if (r.product === 'profiling' && last.status === 202) return { ...last, status: 200 };
    return last;
  }

  /** One request; null on a network failure or timeout. */
  private send(url: string, method: string, headers: Record<string, string>, body: Uint8Array): Promise<ProxyAnswer | null> {
    return new Promise((resolve) => {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        resolve(null);
        return;
      }
      const mod = u.protocol === 'http:' ? http : https;
      const req = mod.request(
        u,
        {
          method,
          headers: { ...headers, 'Content-Length': String(body.length) },
          agent: u.protocol === 'http:' ? this.agents.http : this.agents.https,
          timeout: this.o.timeoutSeconds * 1000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const out: Record<string, string> = {};
            const ct = res.headers['content-type'];
            if (ct !== undefined) out['Content-Type'] = ct;
            resolve({ status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
          });
          res.on('error', () => resolve(null));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => {
        this.o.log(`kennel: APM proxy: ${u.host}: ${e.message}`);
        resolve(null);
      });
      req.end(body);
    });
  }

  /** Counters for `apmStats`. */
  stats(): Record<string, unknown> {
    return {
      Mode: this.mode,
      Requests: this.requests.snapshot(),
      ...(this.mode === 'forward'
        ? { Forwarded: this.forwarded.snapshot() }
        : {
            Kept: this.kept.snapshot(),
            KeptBytes: this.keptBytes.snapshot(),
            StoredPayloads: this.store.length,
            StoredBytes: this.storeBytes,
            DroppedPayloads: this.droppedPayloads,
            DroppedBytes: this.droppedBytes,
          }),
      Errors: this.errors.snapshot(),
    };
  }

  /** Waits for forwarded requests still in flight (telemetry is sent in the background), up to `deadlineMs`. */
  async drain(deadlineMs: number): Promise<void> {
    if (this.inflight.size === 0) return;
    await Promise.race([Promise.allSettled([...this.inflight]), new Promise((r) => setTimeout(r, Math.max(0, deadlineMs)).unref())]);
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

function plain(status: number, text: string): ProxyAnswer {
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }, body: text + '\n' };
}

/** The debugger proxies set `ddtags` to the agent's host tags, then the request's own (at most 4001 characters). */
function withTags(base: string, r: ProxyRequest, hostTags: string): string {
  const u = new URL(base);
  const q = new URLSearchParams(r.query);
  let tags = hostTags;
  const extra = first(r.headers['x-datadog-additional-tags']);
  if (extra !== '') tags += `,${extra}`;
  const own = q.get('ddtags');
  if (own !== null && own !== '') tags += `,${own}`;
  q.set('ddtags', tags.slice(0, 4001));
  for (const [k, v] of q) u.searchParams.set(k, v);
  return u.toString();
}
