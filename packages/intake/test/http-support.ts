import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import type { MetricEvent, Series, ServiceCheck, SketchSeries } from '@kennel/core';
import type { IntakePayload } from '@kennel/forwarder';

/** A 32-character key, as Datadog's; the fake intake records it as 27 `*` and `89abc`. */
export const API_KEY = '0123456789abcdef0123456789a89abc';
export const REDACTED_KEY = '***************************89abc';

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly json: unknown;
}

export interface SendOptions {
  readonly method?: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string;
  /** Send the body in these chunks with `Transfer-Encoding: chunked` (no `Content-Length`). */
  readonly chunks?: readonly (Uint8Array | string)[];
  /** A keep-alive agent to reuse connections; by default each request has its own. */
  readonly agent?: Agent;
}

/** One request with node:http, over a fresh connection unless given an agent. */
export function send(baseUrl: string, o: SendOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const url = new URL(o.path, baseUrl);
    const headers: Record<string, string | number> = { ...o.headers };
    if (o.chunks === undefined && o.body !== undefined) headers['Content-Length'] = Buffer.byteLength(o.body);
    const req = request(url, { method: o.method ?? 'POST', headers, agent: o.agent ?? false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (o.chunks !== undefined) {
      for (const c of o.chunks) req.write(c);
      req.end();
    } else req.end(o.body);
  });
}

/** POSTs a forwarder payload the way the agent's forwarder does. */
/** `apiKey: null` sends no `DD-Api-Key` header. */
export function post(baseUrl: string, p: IntakePayload, apiKey: string | null = API_KEY): Promise<Reply> {
  const headers: Record<string, string> = {
    'Content-Type': p.contentType,
    'Content-Encoding': p.contentEncoding,
    'DD-Agent-Version': '7.52.0',
    'User-Agent': 'datadog-agent/7.52.0',
  };
  if (apiKey !== null) headers['DD-Api-Key'] = apiKey;
  return send(baseUrl, { path: p.endpoint, headers, body: p.body });
}

// --- fixed items and what the intake reads back --------------------------------------------------

export const DOGSTATSD = { product: 10, category: 10, service: 0 };

export const SERIES: Series[] = [
  {
    name: 'app.requests',
    host: 'web-1',
    tags: ['env:prod', 'service:api'],
    type: 'count',
    interval: 10,
    points: [
      { timestamp: 1700000000, value: 3 },
      { timestamp: 1700000010, value: 5 },
    ],
  },
  { name: 'app.latency', host: 'web-1', tags: ['env:prod', 'device:sda1'], type: 'gauge', interval: 10, points: [{ timestamp: 1700000000, value: 0.25 }] },
];

export const SERIES_V2_BACK: Series[] = [
  { ...SERIES[0]!, origin: DOGSTATSD },
  { name: 'app.latency', host: 'web-1', tags: ['env:prod'], device: 'sda1', type: 'gauge', interval: 10, points: [{ timestamp: 1700000000, value: 0.25 }], origin: DOGSTATSD },
];

export const SERIES_V1_BACK: Series[] = [
  SERIES[0]!,
  { name: 'app.latency', host: 'web-1', tags: ['env:prod'], device: 'sda1', type: 'gauge', interval: 10, points: [{ timestamp: 1700000000, value: 0.25 }] },
];

export const SKETCHES: SketchSeries[] = [
  {
    name: 'app.dist',
    host: 'web-1',
    tags: ['env:prod'],
    interval: 10,
    points: [{ timestamp: 1700000000, count: 3, min: 1, max: 4, sum: 7, avg: 2.5, keys: [1338, 1345], counts: [1, 2] }],
  },
];

/** Sketches carry no interval on the wire. */
export const SKETCHES_BACK: SketchSeries[] = [{ ...SKETCHES[0]!, interval: 0, origin: DOGSTATSD }];

export const CHECKS: ServiceCheck[] = [
  { name: 'app.up', host: 'web-1', timestamp: 1700000000, status: 0, message: '', tags: ['env:prod'] },
  { name: 'app.db', host: 'web-1', timestamp: 1700000001, status: 2, message: 'connection refused', tags: [] },
];

export const EVENTS: MetricEvent[] = [
  {
    title: 'Deploy',
    text: 'v1.2.3 is out',
    timestamp: 1700000000,
    host: 'web-1',
    aggregationKey: 'deploy',
    priority: 'normal',
    sourceTypeName: '',
    alertType: 'info',
    tags: ['env:prod'],
  },
];
