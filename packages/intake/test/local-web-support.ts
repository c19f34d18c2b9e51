import { request } from 'node:http';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Series, SketchPoint, SketchSeries, Span, TracerPayload } from '@kennel/core';
import type { IntakeStore, StoreKind } from '../src/index.js';

/** The agent's sketch key of a value (γ = 1 + 2/128, bias 1338), for building sketch points by hand. */
export function agentKey(v: number): number {
  if (v === 0) return 0;
  const k = Math.round(Math.log(Math.abs(v)) / Math.log(1 + 2 / 128)) + 1338;
  return v < 0 ? -k : k;
}

/** A sketch point holding `values` exactly as the agent would bin them. */
export function sketchPoint(timestamp: number, values: readonly number[]): SketchPoint {
  const bins = new Map<number, number>();
  for (const v of values) bins.set(agentKey(v), (bins.get(agentKey(v)) ?? 0) + 1);
  const keys = [...bins.keys()].sort((a, b) => a - b);
  const sum = values.reduce((a, b) => a + b, 0);
  return { timestamp, count: values.length, min: Math.min(...values), max: Math.max(...values), sum, avg: sum / values.length, keys, counts: keys.map((k) => bins.get(k)!) };
}

export function series(name: string, type: Series['type'], tags: string[], points: [number, number][], host = 'h'): Series {
  return { name, host, tags, type, interval: 10, points: points.map(([timestamp, value]) => ({ timestamp, value })) };
}

export function sketch(name: string, tags: string[], points: SketchPoint[], host = 'h'): SketchSeries {
  return { name, host, tags, interval: 10, points };
}

export function span(o: Partial<Span> & { traceId: bigint; spanId: bigint }): Span {
  return {
    service: 'web',
    name: 'http.request',
    resource: 'GET /',
    parentId: 0n,
    start: 1_700_000_000_000_000_000n,
    duration: 1_000_000,
    error: 0,
    type: 'web',
    meta: {},
    metrics: {},
    metaStruct: {},
    spanLinks: [],
    spanEvents: [],
    ...o,
  };
}

export function tracerPayload(spans: Span[], env = 'test'): TracerPayload {
  return {
    containerId: '',
    languageName: 'nodejs',
    languageVersion: 'v20',
    tracerVersion: '5.0.0',
    runtimeId: 'r',
    chunks: [{ priority: 1, origin: '', spans, tags: {}, droppedTrace: false }],
    tags: {},
    env,
    hostname: 'h',
    appVersion: '1.0',
  };
}

/** Adds items of a kind the store may not declare yet (traces, stats, logs). */
export function inject(store: IntakeStore, kind: string, items: unknown[], bytes = 100): void {
  (store.add as (k: StoreKind, items: readonly unknown[], info: { bytes: number }) => unknown).call(store, kind as StoreKind, items, { bytes });
}

/** A protobuf DDSketch (DDSketch.proto) with the given bins, for stats payloads. */
export function ddsketchBytes(gamma: number, bins: Map<number, number>, zeroCount = 0): Uint8Array {
  const out: number[] = [];
  const varint = (n: number): void => {
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
  };
  const dbl = (v: number): number[] => [...new Uint8Array(new Float64Array([v]).buffer)];
  const zz = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);
  // mapping (1): gamma (1, fixed64), indexOffset (2, fixed64)
  const mapping = [0x09, ...dbl(gamma), 0x11, ...dbl(0)];
  out.push(0x0a);
  varint(mapping.length);
  out.push(...mapping);
  // positiveValues (2): binCounts map entries (1)
  const store: number[] = [];
  for (const [k, c] of bins) {
    const entry: number[] = [0x08];
    let z = zz(k);
    while (z > 0x7f) {
      entry.push((z & 0x7f) | 0x80);
      z = Math.floor(z / 128);
    }
    entry.push(z, 0x11, ...dbl(c));
    store.push(0x0a, entry.length, ...entry);
  }
  out.push(0x12);
  varint(store.length);
  out.push(...store);
  if (zeroCount > 0) out.push(0x21, ...dbl(zeroCount));
  return Uint8Array.from(out);
}

/** A real HTTP server around a handler, on 127.0.0.1 and a free port. */
export async function serve(handle: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => boolean): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (!handle(req, res)) {
      res.writeHead(404);
      res.end('not mine');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}

export interface Got {
  status: number;
  headers: import('node:http').IncomingHttpHeaders;
  body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

export function httpGet(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body.toString('utf8')) as T });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Reads Server-Sent Events from `url` until `until` says stop (or the timeout). */
export function readEvents(url: string, until: (events: { event: string; data: unknown }[]) => boolean, timeoutMs = 10_000): Promise<{ event: string; data: unknown }[]> {
  return new Promise((resolve, reject) => {
    const events: { event: string; data: unknown }[] = [];
    const req = request(url, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data !== '') events.push({ event, data: JSON.parse(data) });
        }
        if (until(events)) {
          clearTimeout(timer);
          req.destroy();
          resolve(events);
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no matching events within ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => e.event))}`));
    }, timeoutMs);
    req.on('error', (e) => {
      if (!req.destroyed) reject(e);
    });
    req.end();
  });
}
