import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { ENDPOINTS, TraceReceiver, buildInfo, matchEndpoint, mediaTypeOf } from '../src/source/index.js';
import type { ProxyRequest, ReceivedClientStats, ReceivedTraces, TraceReceiverOptions } from '../src/source/index.js';

const packr = new Packr({ useRecords: false, int64AsType: 'bigint' });
const pack = (v: unknown): Buffer => packr.pack(v);

function info() {
  return buildInfo({
    agentVersion: '7.64.0',
    gitCommit: 'kennel',
    endpoints: ENDPOINTS,
    computeStatsBySpanKind: true,
    peerTags: ['db.name', 'peer.service'],
    config: {
      defaultEnv: 'none',
      targetTPS: 10,
      maxEPS: 200,
      receiverPort: 8126,
      receiverSocket: '/var/run/datadog/apm.socket',
      connectionLimit: 0,
      receiverTimeout: 0,
      maxRequestBytes: 26214400,
      statsdPort: 8125,
      maxMemory: 0,
      maxCPU: 0,
    },
  });
}

interface Harness {
  receiver: TraceReceiver;
  traces: ReceivedTraces[];
  stats: ReceivedClientStats[];
  proxied: ProxyRequest[];
  dogstatsd: Buffer[];
  port: number;
  close(): Promise<void>;
}

async function start(over: Partial<TraceReceiverOptions> = {}, dogstatsdOn = true): Promise<Harness> {
  const traces: ReceivedTraces[] = [];
  const stats: ReceivedClientStats[] = [];
  const proxied: ProxyRequest[] = [];
  const dogstatsd: Buffer[] = [];
  const receiver = new TraceReceiver({
    tcp: { host: '127.0.0.1', port: 0 },
    socket: null,
    agentVersion: '7.64.0',
    info: info(),
    maxRequestBytes: 64 * 1024,
    handlers: {
      onTraces: (r) => traces.push(r),
      rateByService: () => ({ 'service:,env:': 1, 'service:shop,env:prod': 0.5 }),
      onClientStats: (r) => stats.push(r),
      onDogStatsD: (b) => {
        if (!dogstatsdOn) return false;
        dogstatsd.push(Buffer.from(b));
        return true;
      },
      onProxy: async (r) => {
        proxied.push(r);
        return { status: 202, headers: { 'Content-Type': 'application/json' }, body: '{}' };
      },
    },
    ...over,
  });
  await receiver.start();
  return { receiver, traces, stats, proxied, dogstatsd, port: receiver.tcpAddress?.port ?? 0, close: () => receiver.stop() };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function send(
  target: { port?: number; socketPath?: string },
  path: string,
  body: string | Buffer = '',
  headers: Record<string, string> = {},
  method = 'PUT',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', ...target, path, method, headers: { 'Content-Length': String(Buffer.byteLength(body)), ...headers }, agent: false }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (b += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const span = (o: Record<string, unknown> = {}) => ({
  service: 'shop',
  name: 'web.request',
  resource: 'GET /',
  trace_id: 11n,
  span_id: 12n,
  parent_id: 0n,
  start: 1_700_000_000_000_000_000n,
  duration: 1000,
  error: 0,
  meta: { env: 'prod' },
  metrics: { _sampling_priority_v1: 1 },
  type: 'web',
  ...o,
});

test('endpoint matching is the agent mux: exact patterns, prefixes under a trailing slash, 404 otherwise', () => {
  assert.equal(matchEndpoint('/v0.4/traces')?.pattern, '/v0.4/traces');
  assert.equal(matchEndpoint('/v0.4/traces/x'), null);
  assert.equal(matchEndpoint('/telemetry/proxy/api/v2/apmtelemetry')?.pattern, '/telemetry/proxy/');
  assert.equal(matchEndpoint('/evp_proxy/v4/api/v2/llmobs')?.pattern, '/evp_proxy/v4/');
  assert.equal(matchEndpoint('/v0.7/config'), null);
  assert.equal(matchEndpoint('/v1.0/traces'), null);
  assert.equal(mediaTypeOf('application/msgpack; charset=x'), 'application/msgpack');
  assert.equal(mediaTypeOf(undefined), 'application/json');
  assert.equal(mediaTypeOf('not a type'), 'application/json');
});

test('/info: the agent fields, tab-indented, no version headers; every other answer carries the version and the state hash', async () => {
  const h = await start();
  try {
    const r = await send({ port: h.port }, '/info', '', {}, 'GET');
    assert.equal(r.status, 200);
    assert.equal(r.headers['datadog-agent-version'], undefined);
    assert.equal(r.headers['datadog-agent-state'], undefined);
    assert.match(r.body, /^\{\n\t"version": "7\.64\.0",\n\t"git_commit": "kennel",/);
    const doc = JSON.parse(r.body);
    assert.deepEqual(Object.keys(doc), [
      'version',
      'git_commit',
      'endpoints',
      'client_drop_p0s',
      'span_meta_structs',
      'long_running_spans',
      'span_events',
      'evp_proxy_allowed_headers',
      'config',
      'peer_tags',
      'span_kinds_stats_computed',
      'obfuscation_version',
      'filter_tags',
      'filter_tags_regex',
    ]);
    assert.ok(doc.endpoints.includes('/v0.4/traces') && doc.endpoints.includes('/v0.6/stats') && doc.endpoints.includes('/telemetry/proxy/'));
    assert.ok(!doc.endpoints.includes('/spans') && !doc.endpoints.includes('/v0.2/traces'), 'hidden endpoints are not listed');
    assert.ok(!doc.endpoints.includes('/v0.7/config'), 'no remote configuration');
    assert.equal(doc.client_drop_p0s, true);
    assert.equal(doc.span_events, true);
    assert.deepEqual(doc.peer_tags, ['db.name', 'peer.service']);
    assert.equal(doc.config.max_request_bytes, 26214400);
    assert.equal(doc.config.receiver_port, 8126);
    const state = createHash('sha256').update(r.body).digest('hex');
    const t = await send({ port: h.port }, '/v0.4/services', '{}');
    assert.equal(t.status, 200);
    assert.equal(t.body, 'OK\n');
    assert.equal(t.headers['datadog-agent-version'], '7.64.0');
    assert.equal(t.headers['datadog-agent-state'], state);
  } finally {
    await h.close();
  }
});

test('v0.4, v0.5 and v0.7 answer rate_by_service; v0.3 answers OK; any method', async () => {
  const h = await start();
  try {
    const v04 = await send({ port: h.port }, '/v0.4/traces', pack([[span()]]), { 'Content-Type': 'application/msgpack', 'Datadog-Meta-Lang': 'nodejs', 'X-Datadog-Trace-Count': '1' });
    assert.equal(v04.status, 200);
    assert.equal(v04.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(v04.body), { rate_by_service: { 'service:,env:': 1, 'service:shop,env:prod': 0.5 } });
    assert.ok(v04.body.endsWith('\n'));
    const v05 = await send({ port: h.port }, '/v0.5/traces', pack([['shop', 'web.request', 'GET /', ''], [[[0, 1, 2, 11n, 13n, 0n, 1_700_000_000_000_000_000n, 5n, 0, {}, {}, 3]]]]), { 'Content-Type': 'application/msgpack' }, 'POST');
    assert.equal(v05.status, 200);
    assert.ok(JSON.parse(v05.body).rate_by_service);
    const v07 = await send({ port: h.port }, '/v0.7/traces', pack({ language_name: 'go', chunks: [{ priority: 2, spans: [span({ span_id: 14n })] }] }), { 'Content-Type': 'application/msgpack' });
    assert.equal(v07.status, 200);
    assert.ok(JSON.parse(v07.body).rate_by_service);
    const v03 = await send({ port: h.port }, '/v0.3/traces', JSON.stringify([[{ trace_id: 5, span_id: 6, name: 'n', service: 's', start: 1, duration: 1 }]]), { 'Content-Type': 'application/json' });
    assert.equal(v03.status, 200);
    assert.equal(v03.body, 'OK\n');
    assert.deepEqual(h.traces.map((t) => [t.version, t.payload.chunks.length, t.spans]), [
      ['v0.4', 1, 1],
      ['v0.5', 1, 1],
      ['v0.7', 1, 1],
      ['v0.3', 1, 1],
    ]);
    assert.equal(h.traces[0]!.payload.languageName, 'nodejs');
    assert.equal(h.traces[1]!.payload.chunks[0]!.spans[0]!.type, '');
    assert.equal(h.traces[2]!.payload.languageName, 'go');
    assert.equal(h.traces[2]!.payload.chunks[0]!.priority, 2);
    const ts = h.receiver.stats.list().find((s) => s.tags.EndpointVersion === 'v0.4')!;
    assert.equal(ts.tags.Lang, 'nodejs');
    assert.equal(ts.stats.TracesReceived, 1);
    assert.equal(ts.stats.PayloadAccepted, 1);
    assert.ok(ts.stats.TracesBytes > 0);
  } finally {
    await h.close();
  }
});

test('Datadog-Rates-Payload-Version: the current version echoed, and {} when the tracer has it', async () => {
  const h = await start();
  try {
    const first = await send({ port: h.port }, '/v0.4/traces', pack([]), { 'Content-Type': 'application/msgpack', 'Datadog-Rates-Payload-Version': 'x' });
    const version = first.headers['datadog-rates-payload-version'] as string;
    assert.ok(version);
    assert.ok(JSON.parse(first.body).rate_by_service);
    const again = await send({ port: h.port }, '/v0.4/traces', pack([]), { 'Content-Type': 'application/msgpack', 'Datadog-Rates-Payload-Version': version });
    assert.equal(again.body, '{}');
    assert.equal(again.headers['datadog-rates-payload-version'], version);
  } finally {
    await h.close();
  }
});

test('413 past max_request_bytes, 400 with the reason on a bad body (counted), 415 for msgpack on v0.2, 403 cross-site, 404 for /v0.7/config', async () => {
  const h = await start();
  try {
    const big = await send({ port: h.port }, '/v0.4/traces', Buffer.alloc(70 * 1024), { 'Content-Type': 'application/msgpack', 'X-Datadog-Trace-Count': '3' });
    assert.equal(big.status, 413);
    assert.equal(big.body, 'payload-too-large\n');
    assert.equal(big.headers['datadog-agent-version'], '7.64.0');
    const bad = await send({ port: h.port }, '/v0.4/traces', Buffer.from([0x91, 0x91, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0]), { 'Content-Type': 'application/msgpack', 'X-Datadog-Trace-Count': '1' });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers['content-type'], 'text/plain; charset=utf-8');
    assert.ok(bad.body.length > 1 && bad.body.endsWith('\n'), bad.body);
    const short = await send({ port: h.port }, '/v0.4/traces', Buffer.from([0x92, 0x91]), { 'Content-Type': 'application/msgpack', 'X-Datadog-Trace-Count': '2' });
    assert.equal(short.status, 400);
    const v05 = await send({ port: h.port }, '/v0.5/traces', pack([['a'], [[[0, 0, 0, 1n, 2n, 0n, 1n, 1n, 0, {}, {}]]]]), { 'Content-Type': 'application/msgpack' });
    assert.equal(v05.status, 400);
    assert.match(v05.body, /12/);
    const mt = await send({ port: h.port }, '/v0.2/traces', pack([]), { 'Content-Type': 'application/msgpack' });
    assert.equal(mt.status, 415);
    assert.equal(mt.body, 'unsupported media type: "application/msgpack"\n');
    const cross = await send({ port: h.port }, '/v0.4/traces', pack([]), { 'Content-Type': 'application/msgpack', 'Sec-Fetch-Site': 'cross-site' });
    assert.equal(cross.status, 403);
    const rc = await send({ port: h.port }, '/v0.7/config', '{}', {}, 'POST');
    assert.equal(rc.status, 404);
    assert.equal(rc.body, '404 page not found\n');
    assert.equal(rc.headers['datadog-agent-version'], undefined);
    const c = h.receiver.counters.snapshot();
    assert.equal(c.PayloadTooLarge, 1);
    assert.equal(c.DecodeErrors, 3);
    assert.equal(c.UnsupportedMediaType, 1);
    assert.equal(c.CrossSiteRejected, 1);
    assert.equal(c.NotFound, 1);
    const reasons = h.receiver.decodeErrorsByReason();
    assert.equal(Object.values(reasons).reduce((a, b) => a + b, 0), 3);
    assert.equal(reasons.truncated, 1);
    assert.equal(reasons.v05_span_length, 1);
    const ts = h.receiver.stats.list().find((s) => s.tags.EndpointVersion === 'v0.4')!;
    assert.equal(ts.tracesDropped.PayloadTooLarge, 3);
    assert.equal(ts.tracesDropped.MSGPShortBytes, 2);
    assert.equal(ts.tracesDropped.DecodingError, 1);
    assert.equal(h.traces.length, 0);
  } finally {
    await h.close();
  }
});

test('/v0.6/stats: 200 with an empty body, the payload handed on; 400 when it does not decode', async () => {
  const h = await start();
  try {
    const payload = {
      Hostname: 'h',
      Env: 'prod',
      Version: '1.0',
      Lang: 'javascript',
      TracerVersion: '5.0.0',
      RuntimeID: 'r',
      Sequence: 200,
      Stats: [{ Start: 1_700_000_000_000_000_000n, Duration: 10_000_000_000n, Stats: [{ Service: 'shop', Name: 'web.request', Resource: 'GET /', HTTPStatusCode: 200, Type: 'web', Hits: 300, Errors: 150, Duration: 3000, TopLevelHits: 300 }] }],
    };
    const ok = await send({ port: h.port }, '/v0.6/stats', pack(payload), { 'Content-Type': 'application/msgpack', 'Datadog-Meta-Lang': 'javascript', 'Datadog-Meta-Tracer-Version': '5.0.0' });
    assert.equal(ok.status, 200);
    assert.equal(ok.body, '');
    assert.equal(ok.headers['datadog-agent-version'], '7.64.0');
    assert.equal(h.stats.length, 1);
    assert.equal(h.stats[0]!.payload.stats[0]!.stats[0]!.hits, 300n);
    assert.equal(h.stats[0]!.lang, 'javascript');
    const bad = await send({ port: h.port }, '/v0.6/stats', Buffer.from([0xc1]), { 'Content-Type': 'application/msgpack' });
    assert.equal(bad.status, 400);
    assert.equal(h.receiver.counters.get('StatsDecodeErrors'), 1);
  } finally {
    await h.close();
  }
});

test('/dogstatsd/v2/proxy hands the body to DogStatsD, 503 when DogStatsD is off; proxies get the path, query, headers and body', async () => {
  const h = await start();
  const off = await start({}, false);
  try {
    const d = await send({ port: h.port }, '/dogstatsd/v2/proxy', 'a:1|c\nb:2|g\n', {}, 'POST');
    assert.equal(d.status, 200);
    assert.equal(h.dogstatsd[0]!.toString(), 'a:1|c\nb:2|g\n');
    assert.equal((await send({ port: off.port }, '/dogstatsd/v2/proxy', 'a:1|c', {}, 'POST')).status, 503);
    const t = await send({ port: h.port }, '/telemetry/proxy/api/v2/apmtelemetry?x=1', '{"a":1}', { 'Content-Type': 'application/json', 'DD-Telemetry-Request-Type': 'app-started' }, 'POST');
    assert.equal(t.status, 202);
    assert.equal(t.headers['datadog-agent-version'], '7.64.0');
    const e = await send({ port: h.port }, '/evp_proxy/v2/api/v2/llmobs', '{}', { 'X-Datadog-EVP-Subdomain': 'llmobs-intake' }, 'POST');
    assert.equal(e.status, 202);
    const p = await send({ port: h.port }, '/profiling/v1/input', 'multipart', { 'Content-Type': 'multipart/form-data; boundary=x' }, 'POST');
    assert.equal(p.status, 202);
    assert.deepEqual(
      h.proxied.map((r) => [r.product, r.path, r.query, r.body.length]),
      [
        ['telemetry', '/api/v2/apmtelemetry', 'x=1', 7],
        ['evp_proxy', '/api/v2/llmobs', '', 2],
        ['profiling', '/profiling/v1/input', '', 9],
      ],
    );
    assert.equal(h.proxied[0]!.headers['dd-telemetry-request-type'], 'app-started');
  } finally {
    await h.close();
    await off.close();
  }
});

test('the Unix socket: directory created, mode 0722, a stale socket replaced, a live one left alone, removed at stop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kennel-apm-'));
  const path = join(dir, 'sub', 'apm.socket');
  const h = await start({ tcp: null, socket: path });
  try {
    assert.equal(statSync(path).mode & 0o777, 0o722);
    const r = await send({ socketPath: path }, '/v0.4/traces', pack([[span()]]), { 'Content-Type': 'application/msgpack' });
    assert.equal(r.status, 200);
    assert.equal(h.traces[0]!.transport, 'uds');
    // A second receiver on the same live path refuses it.
    await assert.rejects(start({ tcp: null, socket: path }), /another process is serving on it/);
  } finally {
    await h.close();
  }
  assert.equal(statSync(path, { throwIfNoEntry: false }), undefined, 'the socket file is removed at stop');
  // A stale socket file (its process was killed, nobody listens) is replaced.
  const leftover = join(dir, 'left.socket');
  spawnSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(leftover)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  assert.ok(statSync(leftover).isSocket(), 'a stale socket file is left');
  const h2 = await start({ tcp: null, socket: leftover });
  try {
    assert.equal((await send({ socketPath: leftover }, '/v0.3/services', '')).status, 200);
  } finally {
    await h2.close();
  }
  writeFileSync(join(dir, 'file'), 'x');
  await assert.rejects(start({ tcp: null, socket: join(dir, 'file') }), /not a Unix socket/);
});

test('a client that sends its request too slowly is answered 408 and disconnected; one that sends nothing is disconnected', async () => {
  const h = await start({ timeoutMs: 300 });
  try {
    const answer = await new Promise<string>((resolve) => {
      const s = connect(h.port, '127.0.0.1');
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('close', () => resolve(got));
      s.write('PUT /v0.4/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/msgpack\r\nContent-Length: 100\r\n\r\n\x90');
    });
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.match(answer, /timeout\n$/);
    const idle = await new Promise<number>((resolve) => {
      const t0 = Date.now();
      const s = connect(h.port, '127.0.0.1');
      s.on('close', () => resolve(Date.now() - t0));
      s.on('error', () => {});
      s.write('PUT /v0.4/tra');
    });
    assert.ok(idle >= 250 && idle < 3000, String(idle));
    assert.ok(h.receiver.counters.get('ConnectionsTimedOut') >= 1);
    assert.equal(h.receiver.counters.get('RequestTimeouts'), 1);
  } finally {
    await h.close();
  }
});

test('max_connections: connections past the limit wait unread and are served when a slot frees', async () => {
  const h = await start({ maxConnections: 1, timeoutMs: 400 });
  try {
    const hog = connect(h.port, '127.0.0.1');
    hog.on('error', () => {});
    await new Promise((r) => hog.once('connect', r));
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    // Waits until the idle hog is closed by its deadline, then is served.
    const r = await send({ port: h.port }, '/v0.4/services', '');
    assert.equal(r.status, 200);
    assert.ok(Date.now() - t0 >= 250, 'it waited for the slot');
    assert.equal(h.receiver.counters.get('ConnectionsQueued'), 1);
  } finally {
    await h.close();
  }
});

test('connection_limit: past the lease, new TCP connections wait for the next lease', async () => {
  const h = await start({ connectionLimit: 1 });
  try {
    assert.equal((await send({ port: h.port }, '/v0.4/services', '')).status, 200);
    let served = false;
    const waiting = send({ port: h.port }, '/v0.4/services', '').then((r) => {
      served = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(served, false, 'the second connection waits for the 30 s lease');
    assert.equal(h.receiver.counters.get('ConnectionsRateLimited'), 1);
    // Stopping closes waiting connections.
    await h.close();
    await assert.rejects(waiting);
  } finally {
    await h.close();
  }
});

test('connection_limit: a Unix socket connection is served at once while TCP connections wait for the lease (regression: it waited behind them)', async () => {
  const socketPath = join(mkdtempSync(join(tmpdir(), 'kennel-apm-')), 'apm.socket');
  const h = await start({ connectionLimit: 1, socket: socketPath });
  try {
    assert.equal((await send({ port: h.port }, '/v0.4/services', '')).status, 200);
    let served = false;
    const waiting = send({ port: h.port }, '/v0.4/services', '').then((r) => {
      served = true;
      return r;
    });
    while (h.receiver.connections().pending === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal((await send({ socketPath }, '/v0.4/services', '')).status, 200);
    assert.equal(served, false, 'the TCP connection still waits for its lease');
    assert.deepEqual(h.receiver.connections(), { active: 0, pending: 1 });
    await h.close();
    await assert.rejects(waiting);
  } finally {
    await h.close();
  }
});

test(
  '/v0.6/stats with small counts as positive fixints, as dd-trace-js encodes them (regression: the uint64 reader refused fixints)',
  async () => {
    const h = await start();
    try {
      const body = pack({ Hostname: 'h', Env: 'prod', Sequence: 1, Stats: [{ Start: 1_700_000_000_000_000_000n, Duration: 10_000_000_000n, Stats: [{ Service: 's', Name: 'n', Hits: 3, Errors: 1, Duration: 30, TopLevelHits: 3 }] }] });
      const r = await send({ port: h.port }, '/v0.6/stats', body, { 'Content-Type': 'application/msgpack' });
      assert.equal(r.status, 200, r.body);
    } finally {
      await h.close();
    }
  },
);
