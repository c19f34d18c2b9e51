import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { FakeIntake } from '@kennel/intake';
import type { FakeIntakeRequest } from '@kennel/intake';
import type { Span } from '@kennel/core';
import { runKennel, until } from '../utils/index.js';
import { call, msgpack, startApmKennel } from './apm-support.js';

const API_KEY = 'abcdefabcdefabcdefabcdefab67890';
const MSGPACK = { 'Content-Type': 'application/msgpack' };
const T0 = BigInt(Date.now()) * 1_000_000n;

function spans(intake: FakeIntake): Span[] {
  return intake.store.payloads('traces').flatMap((p) => p.items.flatMap((tp) => tp.chunks.flatMap((c) => c.spans)));
}

test('hand-written v0.5 and v0.7 payloads, /info, the answers (rates, 413, 400, 415, 404), client stats, the DogStatsD and profiling proxies', { timeout: 120_000 }, async () => {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const profiles: FakeIntakeRequest[] = [];
  intake.route('POST', '/api/v2/profile', (r) => {
    profiles.push(r);
    return { status: 202, body: {} };
  });
  const k = await startApmKennel({
    DD_API_KEY: API_KEY,
    DD_DD_URL: intake.url,
    DD_APM_DD_URL: intake.url,
    DD_APM_PROFILING_DD_URL: `${intake.url}/api/v2/profile`,
    DD_APM_MAX_PAYLOAD_SIZE: '100000',
    DD_ENV: 'staging',
  });
  const tcp = { port: k.apmPort };
  try {
    // /info: the agent's discovery document, its hash on every other answer.
    const info = await call(tcp, '/info', '', {}, 'GET');
    assert.equal(info.status, 200);
    const doc = JSON.parse(info.body);
    assert.equal(doc.version, '7.64.0');
    assert.ok(doc.endpoints.includes('/v0.4/traces') && doc.endpoints.includes('/v0.5/traces') && doc.endpoints.includes('/v0.7/traces'));
    assert.ok(doc.endpoints.includes('/v0.6/stats') && doc.endpoints.includes('/evp_proxy/v4/') && doc.endpoints.includes('/dogstatsd/v2/proxy'));
    assert.equal(doc.client_drop_p0s, true);
    assert.equal(doc.span_meta_structs, true);
    assert.equal(doc.config.default_env, 'staging');
    assert.equal(doc.config.receiver_port, k.apmPort);
    assert.equal(doc.config.receiver_socket, k.socket);
    assert.equal(doc.config.max_request_bytes, 100000);
    assert.ok(doc.peer_tags.includes('peer.service'));
    const state = createHash('sha256').update(info.body).digest('hex');

    // v0.5: the string table and 12-element spans.
    const table = ['', 'billing', 'charge', 'POST /charge', 'http', 'env', 'prod', 'customer', 'acme', 'db'];
    const v05span = (spanId: bigint, parent: bigint, error: number, service = 1) => [service, 2, 3, 77n, spanId, parent, T0, 1_500_000n, error, new Map([[5, 6], [7, 8]]), new Map([[5, 0.25]]), 4];
    const r05 = await call(tcp, '/v0.5/traces', msgpack([table, [[v05span(1n, 0n, 0), v05span(2n, 1n, 1, 9)]]]), { ...MSGPACK, 'Datadog-Meta-Lang': 'python', 'Datadog-Meta-Tracer-Version': '2.9.0', 'X-Datadog-Trace-Count': '1' });
    assert.equal(r05.status, 200);
    assert.equal(r05.headers['datadog-agent-state'], state);
    assert.equal(r05.headers['datadog-agent-version'], '7.64.0');
    const rates = JSON.parse(r05.body).rate_by_service;
    assert.equal(rates['service:,env:'], 1);

    // v0.7: a TracerPayload with its own metadata and a user-kept chunk.
    const v07 = {
      container_id: 'c0ffee',
      language_name: 'go',
      language_version: 'go1.22',
      tracer_version: 'v1.60.0',
      runtime_id: 'rt-1',
      env: 'prod',
      hostname: 'app-host',
      app_version: '9.9',
      tags: { team: 'payments' },
      chunks: [
        {
          priority: 2,
          origin: 'lambda',
          tags: { '_dd.p.dm': '-4' },
          spans: [
            { service: 'ledger', name: 'grpc.server', resource: '/Ledger/Post', trace_id: 88n, span_id: 10n, parent_id: 0n, start: T0, duration: 2_000_000n, error: 0, meta: { 'span.kind': 'server' }, metrics: { _sampling_priority_v1: 2 }, type: 'rpc' },
            { service: 'ledger', name: 'sql.query', resource: 'INSERT', trace_id: 88n, span_id: 11n, parent_id: 10n, start: T0 + 100n, duration: 500_000n, error: 1, meta: { 'error.message': 'duplicate key' }, metrics: {}, type: 'sql' },
          ],
        },
      ],
    };
    const r07 = await call(tcp, '/v0.7/traces', msgpack(v07), MSGPACK, 'POST');
    assert.equal(r07.status, 200);
    assert.ok(JSON.parse(r07.body).rate_by_service);

    // Refusals.
    const big = await call(tcp, '/v0.4/traces', Buffer.alloc(150_000, 0x90), { ...MSGPACK, 'X-Datadog-Trace-Count': '10' });
    assert.equal(big.status, 413);
    assert.equal(big.body, 'payload-too-large\n');
    const bad = await call(tcp, '/v0.4/traces', Buffer.from([0x91, 0x91, 0x81, 0xa7, ...Buffer.from('span_id'), 0xcb, 0, 0, 0, 0, 0, 0, 0, 0]), MSGPACK);
    assert.equal(bad.status, 400);
    assert.ok(bad.body.trim().length > 0, 'the reason');
    const mt = await call(tcp, '/v0.2/traces', msgpack([]), MSGPACK);
    assert.equal(mt.status, 415);
    const rc = await call(tcp, '/v0.7/config', '{"client":{}}', { 'Content-Type': 'application/json' }, 'POST');
    assert.equal(rc.status, 404);
    const v03 = await call({ socketPath: k.socket }, '/v0.3/traces', msgpack([]), MSGPACK);
    assert.equal(v03.body, 'OK\n');

    // Client stats, computed by the tracer (small counts are positive fixints).
    const cs = {
      Hostname: 'client-host',
      Env: 'prod',
      Version: '1.0.0',
      Lang: 'javascript',
      TracerVersion: '5.1.0',
      RuntimeID: 'rt-2',
      Sequence: 200,
      Stats: [{ Start: (T0 / 10_000_000_000n) * 10_000_000_000n, Duration: 10_000_000_000n, Stats: [{ Service: 'Front End', Name: 'web.request', Resource: '', HTTPStatusCode: 200, Type: 'web', Hits: 1000, Errors: 130, Duration: 5_000_000, TopLevelHits: 1000, SpanKind: 'server' }] }],
    };
    const rs = await call(tcp, '/v0.6/stats', msgpack(cs), { ...MSGPACK, 'Datadog-Meta-Lang': 'javascript', 'Datadog-Meta-Tracer-Version': '5.1.0' });
    assert.equal(rs.status, 200);
    assert.equal(rs.body, '');
    assert.equal((await call(tcp, '/v0.6/stats', Buffer.from([0xc1]), MSGPACK)).status, 400);

    // DogStatsD over HTTP: each line into the DogStatsD pipeline.
    const d = await call(tcp, '/dogstatsd/v2/proxy', 'runtime.node.heap:123|g|#env:prod\nruntime.node.gc:2|c\n', {}, 'POST');
    assert.equal(d.status, 200);
    // The profiling proxy: forwarded with the API key and the agent's tags; the intake's 202 becomes 200.
    const prof = await call(tcp, '/profiling/v1/input?x=1', '--b\r\nprofile\r\n--b--', { 'Content-Type': 'multipart/form-data; boundary=b', 'DD-API-KEY': 'from-the-tracer' }, 'POST');
    assert.equal(prof.status, 200);
    assert.equal(profiles.length, 1);
    assert.equal(profiles[0]!.headers['dd-api-key'], API_KEY);
    assert.equal(profiles[0]!.headers['via'], 'trace-agent 7.64.0');
    assert.match(String(profiles[0]!.headers['x-datadog-additional-tags']), /^host:test-host,default_env:staging,agent_version:7\.64\.0$/);
    assert.equal(profiles[0]!.body.toString(), '--b\r\nprofile\r\n--b--');
    assert.equal(profiles[0]!.query.get('x'), '1');

    // The spans reach the intake as sent, normalised as the agent does.
    await until(() => spans(intake).length >= 4);
    const got = new Map(spans(intake).map((s) => [`${s.traceId}/${s.spanId}`, s]));
    const a = got.get('77/1')!;
    assert.deepEqual([a.service, a.name, a.resource, a.type, a.parentId, a.start, a.duration, a.error], ['billing', 'charge', 'POST /charge', 'http', 0n, T0, 1_500_000, 0]);
    assert.equal(a.meta['env'], 'prod');
    assert.equal(a.meta['customer'], 'acme');
    assert.equal(a.metrics['env'], 0.25);
    assert.equal(a.metrics['_top_level'], 1);
    const b = got.get('77/2')!;
    assert.deepEqual([b.service, b.parentId, b.error], ['db', 1n, 1]);
    const tpV05 = intake.store.payloads('traces').flatMap((p) => p.items).find((tp) => tp.chunks.some((c) => c.spans.some((s) => s.traceId === 77n)))!;
    assert.deepEqual([tpV05.languageName, tpV05.tracerVersion], ['python', '2.9.0']);
    const tpV07 = intake.store.payloads('traces').flatMap((p) => p.items).find((tp) => tp.languageName === 'go')!;
    assert.deepEqual([tpV07.containerId, tpV07.languageVersion, tpV07.tracerVersion, tpV07.runtimeId, tpV07.env, tpV07.hostname, tpV07.appVersion], ['c0ffee', 'go1.22', 'v1.60.0', 'rt-1', 'prod', 'app-host', '9.9']);
    assert.equal(tpV07.tags['team'], 'payments');
    const chunk = tpV07.chunks[0]!;
    assert.deepEqual([chunk.priority, chunk.origin, chunk.tags['_dd.p.dm']], [2, 'lambda', '-4']);
    assert.equal(got.get('88/11')!.meta['error.message'], 'duplicate key');
    const meta = intake.store.payloads('traces')[0]!.meta!;
    assert.equal(meta.hostName, 'test-host');
    assert.equal(meta.env, 'staging');
    assert.equal(meta.agentVersion, '7.64.0');

    // status: decode errors and refusals counted, clients by language.
    const st = JSON.parse((await runKennel(['status', '--json'], { DD_CMD_PORT: String(k.cmdPort) })).stdout).apmStats;
    assert.equal(st.kennel.receiverCounters.PayloadTooLarge, 1);
    assert.equal(st.kennel.receiverCounters.UnsupportedMediaType, 1);
    assert.equal(st.kennel.receiverCounters.DecodeErrors, 1);
    assert.equal(st.kennel.receiverCounters.StatsDecodeErrors, 1);
    assert.equal(Object.values(st.kennel.decodeErrors as Record<string, number>).reduce((x, y) => x + y, 0), 2);
    const py = (st.kennel.receiverTotal as Record<string, number | string>[]).find((c) => c.Lang === 'python')!;
    assert.deepEqual([py.TracerVersion, py.EndpointVersion, py.TracesReceived, py.SpansReceived], ['2.9.0', 'v0.5', 1, 2]);
    assert.equal(st.kennel.dogstatsdProxyLines, 2);
    assert.equal(st.kennel.proxy.Forwarded.profiling, 1);

    // SIGTERM: the concentrator's buckets and the client stats are flushed and sent.
    assert.equal(await k.kennel.stop('SIGTERM'), 0, k.kennel.stderr());
    const statsPayloads = intake.store.payloads('stats');
    const client = statsPayloads.filter((p) => p.meta?.clientComputed === 'true').flatMap((p) => p.items);
    assert.equal(client.length, 1);
    assert.equal(client[0]!.hostname, 'client-host');
    assert.equal(client[0]!.lang, 'javascript');
    const g = client[0]!.stats[0]!.stats[0]!;
    assert.deepEqual([g.service, g.name, g.resource, g.hits, g.errors, g.topLevelHits, g.spanKind], ['front_end', 'web.request', 'web.request', 1000, 130, 1000, 'server']);
    const agentStats = statsPayloads.filter((p) => p.meta?.clientComputed === 'false').flatMap((p) => p.items);
    const groups = agentStats.flatMap((c) => c.stats.flatMap((bk) => bk.stats.map((x) => ({ env: c.env, ...x }))));
    const charge = groups.find((x) => x.name === 'charge')!;
    assert.deepEqual([charge.env, charge.service, charge.hits, charge.errors, charge.topLevelHits], ['prod', 'billing', 1, 0, 1]);
    const rpc = groups.find((x) => x.name === 'grpc.server')!;
    assert.deepEqual([rpc.hits, rpc.spanKind, rpc.isTraceRoot], [1, 'server', 1]);
    // DogStatsD lines from the HTTP proxy are aggregated and sent as metrics.
    const heap = intake.store.series().find((s) => s.name === 'runtime.node.heap');
    assert.ok(heap, 'the proxied gauge reaches the metrics intake');
    assert.deepEqual(heap.points.map((p) => p.value), [123]);
  } finally {
    await k.kennel.stop();
    await intake.close();
  }
});

test('APM off, or a trace port in use: kennel runs on without the receiver and says why', { timeout: 60_000 }, async () => {
  const off = await startApmKennel({ DD_APM_ENABLED: 'false' }).catch((e: Error) => e);
  assert.ok(off instanceof Error && /APM: off \(DD_APM_ENABLED=false\)/.test(off.message), String(off));
  const first = await startApmKennel({});
  try {
    const second = await startApmKennel({ DD_APM_RECEIVER_PORT: String(first.apmPort), DD_APM_RECEIVER_SOCKET: first.socket }).catch((e: Error) => e);
    assert.ok(second instanceof Error);
    assert.match(second.message, /the trace receiver is off, the rest of kennel runs on/);
    assert.equal((await call({ port: first.apmPort }, '/v0.4/services', '')).status, 200, 'the first keeps its port and socket');
    assert.equal((await call({ socketPath: first.socket }, '/v0.4/services', '')).status, 200);
  } finally {
    await first.kennel.stop();
  }
});
