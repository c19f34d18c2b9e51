import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FakeIntake } from '@kennel/intake';
import type { ClientStatsPayload, Span, TracerPayload } from '@kennel/core';
import { runKennel, until } from '../utils/index.js';
import { call, startApmKennel } from './apm-support.js';

const API_KEY = 'abcdefabcdefabcdefabcdefab54321';
const APP = fileURLToPath(new URL('./apm-traced-app.js', import.meta.url));

interface Made {
  name: string;
  service: string;
  resource: string;
  traceId: string;
  spanId: string;
  parent: string | null;
  error: boolean;
}

/** Runs the dd-trace application against `url`; resolves with the spans it made. */
function runApp(url: string, service: string, orders: number): Promise<Made[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [APP], {
      env: {
        ...process.env,
        DD_TRACE_AGENT_URL: url,
        DD_SERVICE: service,
        DD_ENV: 'it',
        DD_VERSION: '1.2.3',
        ORDERS: String(orders),
        DD_TRACE_STARTUP_LOGS: 'false',
        DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
        DD_REMOTE_CONFIGURATION_ENABLED: 'false',
        DD_TRACE_STATS_COMPUTATION_ENABLED: 'false',
        DD_PROFILING_ENABLED: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`the traced app exited ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as Made[]);
    });
  });
}

function spansOf(intake: FakeIntake): { span: Span; tp: TracerPayload }[] {
  const out: { span: Span; tp: TracerPayload }[] = [];
  for (const p of intake.store.payloads('traces')) for (const tp of p.items) for (const c of tp.chunks) for (const span of c.spans) out.push({ span, tp });
  return out;
}

test('dd-trace 5 over TCP and the Unix socket: the intake gets every span with its ids and fields, and stats with the right hits and errors', { timeout: 120_000 }, async () => {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const k = await startApmKennel({ DD_API_KEY: API_KEY, DD_DD_URL: intake.url, DD_APM_DD_URL: intake.url });
  try {
    assert.ok(!k.kennel.stderr().includes(API_KEY), 'the API key never appears in a log line');
    const overTcp = await runApp(`http://127.0.0.1:${k.apmPort}`, 'shop-tcp', 4);
    const overUds = await runApp(`unix://${k.socket}`, 'shop-uds', 3);
    const made = [...overTcp, ...overUds];
    assert.equal(made.length, 7 * 4);

    // Every span arrives (the writer flushes every 5 s).
    await until(() => spansOf(intake).length >= made.length);
    const got = spansOf(intake);
    assert.equal(got.length, made.length, 'no span twice');
    const byId = new Map(got.map((g) => [String(g.span.spanId), g]));
    for (const m of made) {
      const g = byId.get(m.spanId);
      assert.ok(g, `span ${m.name} ${m.spanId} arrived`);
      const s = g.span;
      assert.equal(String(s.traceId), m.traceId, 'same trace id (low 64 bits)');
      assert.equal(s.parentId === 0n ? null : String(s.parentId), m.parent, `${m.name}: same parent`);
      assert.equal(s.name, m.name);
      assert.equal(s.service, m.service);
      assert.equal(s.resource, m.resource);
      assert.equal(s.error, m.error ? 1 : 0, `${m.name} ${m.spanId}: error flag`);
      assert.ok(s.duration > 0 && s.start > 1_600_000_000_000_000_000n);
      assert.equal(s.meta['env'], 'it');
      assert.equal(g.tp.languageName, 'nodejs');
      assert.match(g.tp.tracerVersion, /^5\./);
      if (m.name === 'web.request') {
        assert.equal(s.type, 'web');
        assert.equal(s.meta['http.method'], 'GET');
        assert.equal(s.meta['order.id'] !== undefined, true);
        assert.equal(typeof s.metrics['order.total'], 'number');
        assert.equal(s.metrics['_top_level'], 1, 'the agent marks the root top-level');
        assert.match(s.meta['_dd.p.tid'] ?? '', /^[0-9a-f]{16}$/, '128-bit trace id, high bits in _dd.p.tid');
      }
      if (m.name === 'pg.query') {
        assert.equal(s.type, 'sql');
        assert.equal(s.metrics['_top_level'], 1, 'a span of another service is top-level');
      }
      if (m.name === 'pg.parse' || m.name === 'template.render') assert.equal(s.metrics['_top_level'], undefined, `${m.name} is not top-level`);
      if (m.error) {
        assert.match(s.meta['error.message'] ?? '', m.name === 'web.request' ? /payment declined/ : /deadlock detected/);
        assert.equal(s.meta['error.type'], 'Error');
      }
    }
    // Chunks carry the tracer's priority (dd-trace keeps everything at this rate: 1).
    for (const p of intake.store.payloads('traces')) for (const tp of p.items) for (const c of tp.chunks) assert.equal(c.priority, 1);

    // The trace writer's request: the trace-agent's headers.
    const tr = intake.requests().find((r) => r.path === '/api/v0.2/traces')!;
    assert.equal(tr.status, 202);
    assert.equal(tr.headers['content-type'], 'application/x-protobuf');
    assert.match(tr.headers['content-encoding'] ?? '', /^(zstd|gzip)$/);
    assert.equal(tr.headers['x-datadog-reported-languages'], 'nodejs');
    assert.equal(tr.headers['user-agent'], 'Datadog Trace Agent/7.64.0/kennel');
    assert.match(tr.headers['dd-api-key'] ?? '', /\*+54321$/);
    assert.equal(tr.headers['dd-agent-payload'], undefined);

    // kennel status --json: apmStats, with the clients as the agent's receiver stats name them.
    const st = JSON.parse((await runKennel(['status', '--json'], { DD_CMD_PORT: String(k.cmdPort) })).stdout);
    const apm = st.apmStats;
    assert.equal(apm.config.ReceiverPort, k.apmPort);
    assert.equal(apm.config.ReceiverSocket, k.socket);
    const clients = apm.kennel.receiverTotal as Record<string, unknown>[];
    const node = clients.filter((c) => c.Lang === 'nodejs' && c.EndpointVersion === 'v0.4');
    assert.equal(node.length, 1, JSON.stringify(clients));
    assert.equal(node[0]!.Interpreter, 'v8');
    assert.match(String(node[0]!.TracerVersion), /^5\./);
    assert.equal(node[0]!.TracesReceived, 7);
    assert.equal(node[0]!.SpansReceived, 28);
    assert.ok((node[0]!.TracesBytes as number) > 0);
    assert.equal(node[0]!.TracesPriority1, 7);
    assert.equal(apm.kennel.traceWriterTotal.Spans, 28);
    const text = (await runKennel(['status'], { DD_CMD_PORT: String(k.cmdPort) })).stdout;
    assert.match(text, /=========\nAPM Agent\n=========/);
    assert.match(text, /Receiver: 127\.0\.0\.1:\d+/);
    assert.match(text, /UDS receiver: .*apm\.socket/);
    assert.match(text, /From nodejs v\d+\.\d+\.\d+ \(v8\), client 5\.\d+\.\d+/);
    assert.match(text, /Traces written: \d+ payloads, 7 traces, 28 spans/);

    // SIGTERM flushes every stats bucket, the open ones too.
    assert.equal(await k.kennel.stop('SIGTERM'), 0, k.kennel.stderr());
    const groups = new Map<string, { hits: number; errors: number; topLevelHits: number }>();
    let stats: ClientStatsPayload[] = [];
    for (const p of intake.store.payloads('stats')) {
      assert.equal(p.meta?.clientComputed, 'false');
      stats = stats.concat(p.items);
    }
    for (const c of stats) {
      assert.equal(c.env, 'it');
      assert.equal(c.version, '1.2.3');
      assert.equal(c.lang, 'nodejs');
      for (const b of c.stats) {
        for (const g of b.stats) {
          const key = `${g.service}|${g.name}|${g.resource}`;
          const acc = groups.get(key) ?? { hits: 0, errors: 0, topLevelHits: 0 };
          acc.hits += g.hits;
          acc.errors += g.errors;
          acc.topLevelHits += g.topLevelHits;
          groups.set(key, acc);
        }
      }
    }
    assert.deepEqual(groups.get('shop-tcp|web.request|GET /orders/:id'), { hits: 4, errors: 1, topLevelHits: 4 });
    assert.deepEqual(groups.get('shop-tcp-db|pg.query|SELECT * FROM orders WHERE id = $1'), { hits: 4, errors: 1, topLevelHits: 4 });
    assert.deepEqual(groups.get('shop-uds|web.request|GET /orders/:id'), { hits: 3, errors: 1, topLevelHits: 3 });
    assert.deepEqual(groups.get('shop-uds-db|pg.query|SELECT * FROM orders WHERE id = $1'), { hits: 3, errors: 1, topLevelHits: 3 });
    // Every other group is what the agent computes from the spans: top-level or measured ones only.
    const expected = new Map<string, { hits: number; errors: number; topLevelHits: number }>();
    for (const { span: sp } of got) {
      const top = sp.metrics['_top_level'] === 1;
      if (!top && sp.metrics['_dd.measured'] !== 1) continue;
      const key = `${sp.service}|${sp.name}|${sp.resource}`;
      const e = expected.get(key) ?? { hits: 0, errors: 0, topLevelHits: 0 };
      e.hits++;
      e.errors += sp.error;
      e.topLevelHits += top ? 1 : 0;
      expected.set(key, e);
    }
    assert.deepEqual(Object.fromEntries([...groups].sort()), Object.fromEntries([...expected].sort()));
    // dd-trace marks its manual spans measured: children get stats too, without top-level hits.
    assert.deepEqual(groups.get('shop-tcp-db|pg.parse|parse'), { hits: 4, errors: 0, topLevelHits: 0 });
    const sr = intake.requests().find((r) => r.path === '/api/v0.2/stats')!;
    assert.equal(sr.headers['content-type'], 'application/msgpack');
    assert.equal(sr.headers['content-encoding'], 'gzip');
  } finally {
    await k.kennel.stop();
    await intake.close();
  }
});

test('dd-trace in local mode: the traces are in the local intake and the page API (/api/traces)', { timeout: 60_000 }, async () => {
  const k = await startApmKennel({});
  try {
    const made = await runApp(`unix://${k.socket}`, 'local-shop', 2);
    const root = made.find((m) => m.name === 'web.request')!;
    // The page API waits for the trace (?wait=), then shows its spans.
    let trace: { spans?: { spanId: string; name: string }[] } = {};
    await until(async () => {
      const r = await call({ port: k.cmdPort }, `/api/traces/${root.traceId}?wait=1000`, '', {}, 'GET').catch(() => null);
      if (r === null || r.status !== 200) return false;
      trace = JSON.parse(r.body);
      return true;
    });
    const body = JSON.stringify(trace);
    for (const m of made.filter((x) => x.traceId === root.traceId)) assert.ok(body.includes(m.spanId), `span ${m.name} is on the page`);
    const st = JSON.parse((await runKennel(['status', '--json'], { DD_CMD_PORT: String(k.cmdPort) })).stdout);
    assert.equal(st.apmStats.kennel.mode, 'local');
    assert.equal(st.apmStats.config.Endpoints[0].Host, 'local intake');
    assert.ok(st.localIntakeStats.ByKind.traces.StoredItems >= 1);
  } finally {
    await k.kennel.stop();
  }
});
