/**
 * The benchmark's payload: seeded traces shaped like a Node.js web service's, encoded the way
 * dd-trace-js encodes them (`packages/dd-trace/src/encode/0.4.js` and `0.5.js`): array and map
 * headers as 32-bit (0xdd, 0xdf), ids, start and duration as uint64 (0xcf), error as uint32
 * (0xce), metrics as float64, and in v0.5 every string an index into one string table.
 */

export interface GenSpan {
  service: string;
  name: string;
  resource: string;
  traceId: bigint;
  spanId: bigint;
  parentId: bigint;
  start: bigint;
  duration: number;
  error: number;
  type: string;
  meta: Record<string, string>;
  metrics: Record<string, number>;
}

export interface Corpus {
  readonly traces: GenSpan[][];
  readonly spans: number;
  readonly v04: Uint8Array;
  readonly v05: Uint8Array;
}

/** Mulberry32: a small seeded PRNG (no Math.random in benchmarks). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const APPS = ['shop-api', 'cart-api', 'users-api', 'search-api', 'payments-api'];
const ROUTES = ['/api/users/:id', '/api/orders/:id', '/api/cart', '/api/search', '/api/items/:id/reviews', '/health'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const QUERIES = [
  'SELECT id, name, email FROM users WHERE id = $1',
  'SELECT * FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT 20',
  'UPDATE carts SET updated_at = now() WHERE id = $1',
  'INSERT INTO events (kind, payload) VALUES ($1, $2)',
  'SELECT count(*) FROM items WHERE category = $1',
];
const REDIS = ['GET', 'SET', 'HGETALL', 'EXPIRE'];
const MIDDLEWARE = ['query', 'expressInit', 'jsonParser', 'authenticate', 'router'];

export function generateCorpus(seed: number, nTraces: number, spansPerTrace: number): Corpus {
  const r = rng(seed);
  const u32 = (): bigint => BigInt(Math.floor(r() * 4294967296));
  const u64 = (): bigint => (u32() << 32n) | u32();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const runtimeIds = APPS.map((_, i) => `8f1c2a${i}e-0d4b-4c3e-9a7f-1b2c3d4e5f60`);
  const traces: GenSpan[][] = [];
  let t0 = 1_733_000_000_000_000_000n;
  for (let t = 0; t < nTraces; t++) {
    const app = Math.floor(r() * APPS.length);
    const service = APPS[app]!;
    const traceId = u64();
    const tid = u64().toString(16).padStart(16, '0');
    const rootId = u64();
    const method = pick(METHODS);
    const route = pick(ROUTES);
    const status = r() < 0.03 ? '500' : r() < 0.1 ? '404' : '200';
    const userId = Math.floor(r() * 1e6);
    const common = (kind: string, component: string): Record<string, string> => ({
      env: 'prod',
      version: '1.42.0',
      language: 'javascript',
      'runtime-id': runtimeIds[app]!,
      component,
      'span.kind': kind,
    });
    t0 += BigInt(Math.floor(r() * 5e6));
    const trace: GenSpan[] = [];
    const rootMeta = common('server', 'express');
    rootMeta['_dd.p.tid'] = tid;
    rootMeta['_dd.p.dm'] = '-0';
    rootMeta['http.method'] = method;
    rootMeta['http.url'] = `https://${service}.example.com${route.replace(':id', String(userId))}?page=${Math.floor(r() * 50)}`;
    rootMeta['http.route'] = route;
    rootMeta['http.status_code'] = status;
    rootMeta['http.useragent'] = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
    trace.push({
      service,
      name: 'express.request',
      resource: `${method} ${route}`,
      traceId,
      spanId: rootId,
      parentId: 0n,
      start: t0,
      duration: 2_000_000 + Math.floor(r() * 80_000_000),
      error: status === '500' ? 1 : 0,
      type: 'web',
      meta: rootMeta,
      metrics: { '_dd.top_level': 1, _sampling_priority_v1: 1, '_dd.agent_psr': 1, process_id: 4242 + app, '_dd.measured': 1 },
    });
    for (let s = 1; s < spansPerTrace; s++) {
      const kind = s <= 3 ? 'mw' : s <= 6 ? 'db' : s <= 8 ? 'cache' : 'http';
      const start = t0 + BigInt(s * 100_000 + Math.floor(r() * 50_000));
      const duration = 50_000 + Math.floor(r() * 5_000_000);
      const parentId = s === 1 || kind !== 'mw' ? rootId : trace[s - 1]!.spanId;
      let span: GenSpan;
      if (kind === 'mw') {
        const mw = pick(MIDDLEWARE);
        const meta = common('internal', 'express');
        meta['express.middleware.name'] = mw;
        meta['http.route'] = route;
        span = { service, name: 'express.middleware', resource: mw, traceId, spanId: u64(), parentId, start, duration, error: 0, type: 'web', meta, metrics: { '_dd.measured': 1 } };
      } else if (kind === 'db') {
        const meta = common('client', 'pg');
        meta['db.type'] = 'postgres';
        meta['db.name'] = 'shop';
        meta['db.user'] = 'app';
        meta['out.host'] = 'db.internal';
        meta['peer.service'] = 'shop-db';
        meta['_dd.base_service'] = service;
        span = {
          service: `${service}-postgres`,
          name: 'pg.query',
          resource: pick(QUERIES),
          traceId,
          spanId: u64(),
          parentId,
          start,
          duration,
          error: 0,
          type: 'sql',
          meta,
          metrics: { '_dd.measured': 1, 'network.destination.port': 5432, '_dd.top_level': 1 },
        };
      } else if (kind === 'cache') {
        const cmd = pick(REDIS);
        const meta = common('client', 'redis');
        meta['db.type'] = 'redis';
        meta['redis.raw_command'] = `${cmd} user:${userId}:profile`;
        meta['out.host'] = 'cache.internal';
        meta['_dd.base_service'] = service;
        span = {
          service: `${service}-redis`,
          name: 'redis.command',
          resource: cmd,
          traceId,
          spanId: u64(),
          parentId,
          start,
          duration,
          error: 0,
          type: 'redis',
          meta,
          metrics: { '_dd.measured': 1, 'network.destination.port': 6379, '_dd.top_level': 1 },
        };
      } else {
        const meta = common('client', 'http');
        meta['http.method'] = 'POST';
        meta['http.url'] = `http://payments.internal/v1/charges/${userId}-${s}`;
        meta['http.status_code'] = '201';
        meta['out.host'] = 'payments.internal';
        span = { service, name: 'http.request', resource: 'POST', traceId, spanId: u64(), parentId, start, duration, error: 0, type: 'http', meta, metrics: { '_dd.measured': 1 } };
      }
      trace.push(span);
    }
    traces.push(trace);
  }
  return { traces, spans: nTraces * spansPerTrace, v04: encodeV04(traces), v05: encodeV05(traces) };
}

class Writer {
  buf = new Uint8Array(1 << 20);
  len = 0;
  private readonly enc = new TextEncoder();

  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(v: number): void {
    this.reserve(1);
    this.buf[this.len++] = v;
  }
  u32(v: number): void {
    this.reserve(4);
    this.buf[this.len++] = v >>> 24;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
  }
  u64(v: bigint): void {
    this.byte(0xcf);
    this.u32(Number(v >> 32n));
    this.u32(Number(v & 0xffffffffn));
  }
  uint32(v: number): void {
    this.byte(0xce);
    this.u32(v);
  }
  f64(v: number): void {
    this.reserve(9);
    this.buf[this.len++] = 0xcb;
    new DataView(this.buf.buffer).setFloat64(this.len, v);
    this.len += 8;
  }
  arrayHeader(n: number): void {
    this.byte(0xdd);
    this.u32(n);
  }
  mapHeader(n: number): void {
    this.byte(0xdf);
    this.u32(n);
  }
  str(s: string): void {
    const bytes = this.enc.encode(s);
    const n = bytes.length;
    if (n < 32) this.byte(0xa0 | n);
    else if (n < 256) {
      this.byte(0xd9);
      this.byte(n);
    } else {
      this.byte(0xda);
      this.byte(n >> 8);
      this.byte(n & 0xff);
    }
    this.reserve(n);
    this.buf.set(bytes, this.len);
    this.len += n;
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function encodeV04(traces: GenSpan[][]): Uint8Array {
  const w = new Writer();
  w.arrayHeader(traces.length);
  for (const trace of traces) {
    w.arrayHeader(trace.length);
    for (const s of trace) {
      w.byte(0x80 | 12);
      w.str('type');
      w.str(s.type);
      w.str('trace_id');
      w.u64(s.traceId);
      w.str('span_id');
      w.u64(s.spanId);
      w.str('parent_id');
      w.u64(s.parentId);
      w.str('name');
      w.str(s.name);
      w.str('resource');
      w.str(s.resource);
      w.str('service');
      w.str(s.service);
      w.str('error');
      w.uint32(s.error);
      w.str('start');
      w.u64(s.start);
      w.str('duration');
      w.u64(BigInt(s.duration));
      w.str('meta');
      const meta = Object.entries(s.meta);
      w.mapHeader(meta.length);
      for (const [k, v] of meta) {
        w.str(k);
        w.str(v);
      }
      w.str('metrics');
      const metrics = Object.entries(s.metrics);
      w.mapHeader(metrics.length);
      for (const [k, v] of metrics) {
        w.str(k);
        w.f64(v);
      }
    }
  }
  return w.done();
}

function encodeV05(traces: GenSpan[][]): Uint8Array {
  const table = new Map<string, number>([['', 0]]);
  const id = (s: string): number => {
    let i = table.get(s);
    if (i === undefined) {
      i = table.size;
      table.set(s, i);
    }
    return i;
  };
  const body = new Writer();
  body.arrayHeader(traces.length);
  for (const trace of traces) {
    body.arrayHeader(trace.length);
    for (const s of trace) {
      body.byte(0x90 | 12);
      body.uint32(id(s.service));
      body.uint32(id(s.name));
      body.uint32(id(s.resource));
      body.u64(s.traceId);
      body.u64(s.spanId);
      body.u64(s.parentId);
      body.u64(s.start);
      body.u64(BigInt(s.duration));
      body.uint32(s.error);
      const meta = Object.entries(s.meta);
      body.mapHeader(meta.length);
      for (const [k, v] of meta) {
        body.uint32(id(k));
        body.uint32(id(v));
      }
      const metrics = Object.entries(s.metrics);
      body.mapHeader(metrics.length);
      for (const [k, v] of metrics) {
        body.uint32(id(k));
        body.f64(v);
      }
      body.uint32(id(s.type));
    }
  }
  const w = new Writer();
  w.byte(0x92);
  w.arrayHeader(table.size);
  for (const s of table.keys()) w.str(s);
  const traceBytes = body.done();
  w.reserve(traceBytes.length);
  w.buf.set(traceBytes, w.len);
  w.len += traceBytes.length;
  return w.done();
}
