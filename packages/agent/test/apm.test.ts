import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalIntake } from '@kennel/intake';
import { loadConfig } from '../src/config/load.js';
import { ApmPipeline, resolveApmConfig } from '../src/topology/apm-pipeline.js';
import { formatApmStatus } from '../src/topology/apm-status.js';
import { formatStatus } from '../src/topology/status-format.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** The v0.4 msgpack body of one trace: a root span of `shop` and a child of `shop-db` with an error. */
function v04Body(): Buffer {
  const str = (s: string) => Buffer.concat([Buffer.from([0xa0 | s.length]), Buffer.from(s)]);
  const u64 = (v: bigint) => {
    const b = Buffer.alloc(9);
    b[0] = 0xcf;
    b.writeBigUInt64BE(v, 1);
    return b;
  };
  const now = BigInt(Date.now()) * 1_000_000n;
  const span = (id: bigint, parent: bigint, service: string, error: number) =>
    Buffer.concat([
      Buffer.from([0x8b]),
      str('service'), str(service),
      str('name'), str('web.request'),
      str('resource'), str('GET /'),
      str('trace_id'), u64(42n),
      str('span_id'), u64(id),
      str('parent_id'), u64(parent),
      str('start'), u64(now),
      str('duration'), u64(5_000_000n),
      str('error'), Buffer.from([error]),
      str('meta'), Buffer.from([0x81]), str('env'), str('prod'),
      str('metrics'), Buffer.from([0x81]), str('_sampling_priority_v1'), Buffer.from([0x01]),
    ]);
  return Buffer.concat([Buffer.from([0x91, 0x92]), span(1n, 0n, 'shop', 0), span(2n, 1n, 'shop-db', 1)]);
}

function put(port: number, path: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'PUT', agent: false, headers: { 'Content-Length': String(body.length), ...headers } }, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('the APM configuration: the agent names, env aliases and defaults', () => {
  const d = resolveApmConfig(loadConfig({}));
  assert.equal(d.enabled, true);
  assert.equal(d.receiverPort, 8126);
  assert.equal(d.receiverHost, '127.0.0.1');
  assert.equal(d.receiverSocket, '/var/run/datadog/apm.socket');
  assert.equal(d.receiverSocketIsDefault, true);
  assert.equal(d.maxRequestBytes, 26214400);
  assert.equal(d.ddUrl, 'https://trace.agent.datadoghq.com');
  assert.equal(d.defaultEnv, 'none');
  assert.equal(d.targetTPS, 10);
  assert.equal(d.connectionLimit, 0);
  assert.equal(d.maxConnections, 1000);
  const e = resolveApmConfig(
    loadConfig({
      DD_APM_ENABLED: 'false',
      DD_RECEIVER_PORT: '9126',
      DD_APM_RECEIVER_SOCKET: '/tmp/x.socket',
      DD_APM_NON_LOCAL_TRAFFIC: 'true',
      DD_APM_MAX_PAYLOAD_SIZE: '1000',
      DD_SITE: 'datadoghq.eu',
      DD_ENV: 'Staging',
      DD_CONNECTION_LIMIT: '50',
      DD_APM_TARGET_TPS: '5',
    }),
  );
  assert.deepEqual(
    [e.enabled, e.receiverPort, e.receiverSocket, e.receiverSocketIsDefault, e.receiverHost, e.maxRequestBytes, e.ddUrl, e.defaultEnv, e.connectionLimit, e.targetTPS],
    [false, 9126, '/tmp/x.socket', false, '0.0.0.0', 1000, 'https://trace.agent.datadoghq.eu', 'staging', 50, 5],
  );
  assert.equal(resolveApmConfig(loadConfig({ DD_APM_DD_URL: 'http://127.0.0.1:1', DD_APM_ENV: 'qa', DD_ENV: 'prod' })).ddUrl, 'http://127.0.0.1:1');
  assert.equal(resolveApmConfig(loadConfig({ DD_APM_ENV: 'qa', DD_ENV: 'prod' })).defaultEnv, 'qa');
  assert.throws(() => loadConfig({ DD_APM_RECEIVER_PORT: '70000' }), /DD_APM_RECEIVER_PORT/);
});

test('the pipeline in local mode: traces and stats in the local intake, apmStats in the agent layout, the APM status section', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kennel-apm-unit-'));
  const port = await freePort();
  const intake = new LocalIntake();
  const packets: string[] = [];
  const apm = new ApmPipeline(loadConfig({ DD_APM_RECEIVER_PORT: String(port), DD_APM_RECEIVER_SOCKET: join(dir, 'apm.socket'), DD_HOSTNAME: 'unit-host' }), {
    log: () => {},
    localIntake: intake,
    dogstatsd: (b, s, e) => packets.push(Buffer.from(b.subarray(s, e)).toString()),
  });
  await apm.start();
  try {
    const r = await put(port, '/v0.4/traces', v04Body(), { 'Content-Type': 'application/msgpack', 'Datadog-Meta-Lang': 'nodejs', 'Datadog-Meta-Tracer-Version': '5.0.0', 'X-Datadog-Trace-Count': '1' });
    assert.equal(r.status, 200);
    assert.ok(JSON.parse(r.body).rate_by_service);
    assert.equal((await put(port, '/dogstatsd/v2/proxy', Buffer.from('a:1|c\n\nb:2|g'), {})).status, 200);
    assert.deepEqual(packets, ['a:1|c', 'b:2|g']);
    const local = await put(port, '/debugger/v1/input', Buffer.from('[{"message":"x"}]'), { 'Content-Type': 'application/json' });
    assert.equal(local.status, 202);
    assert.equal(apm.proxy.payloads('debugger_logs').length, 1);
  } finally {
    await apm.stop(1000);
  }
  const traces = intake.store.payloads('traces');
  assert.equal(traces.length, 1);
  const spans = traces[0]!.items[0]!.chunks[0]!.spans;
  assert.deepEqual(spans.map((s) => [s.service, s.spanId, s.error, s.metrics['_top_level']]), [
    ['shop', 1n, 0, 1],
    ['shop-db', 2n, 1, 1],
  ]);
  const stats = intake.store.payloads('stats').flatMap((p) => p.items);
  const groups = stats.flatMap((c) => c.stats.flatMap((b) => b.stats));
  assert.deepEqual(groups.map((g) => [g.service, g.hits, g.errors, g.topLevelHits]).sort(), [
    ['shop', 1, 0, 1],
    ['shop-db', 1, 1, 1],
  ]);
  const s = apm.stats();
  for (const k of ['pid', 'uptime', 'version', 'memstats', 'config', 'receiver', 'ratebyservice', 'ratebyservice_filtered', 'trace_writer', 'stats_writer', 'kennel']) assert.ok(k in s, k);
  // Stopping publishes the last minute, as the status of a stopped trace-agent would show it.
  const receiver = s.receiver as Record<string, unknown>[];
  assert.equal(receiver.length, 1);
  assert.deepEqual([receiver[0]!.Lang, receiver[0]!.TracerVersion, receiver[0]!.EndpointVersion, receiver[0]!.TracesReceived, receiver[0]!.SpansReceived], ['nodejs', '5.0.0', 'v0.4', 1, 2]);
  assert.equal((s.trace_writer as Record<string, number>).Traces, 1);
  assert.equal((s.trace_writer as Record<string, number>).Payloads, 1);
  assert.ok((s.stats_writer as Record<string, number>).StatsBuckets >= 1);
  const lines = formatApmStatus(s).join('\n');
  assert.match(lines, /Status: Running/);
  assert.match(lines, /Hostname: unit-host/);
  assert.match(lines, /From nodejs {2}\(\), client 5\.0\.0 \(v0\.4\)\n {6}Traces received: 1 \(\d+ bytes\)\n {6}Spans received: 2/);
  assert.match(lines, /Default priority sampling rate: 100\.0%/);
  assert.match(lines, /Traces: 1 payloads, 1 traces, 0 events, [\d,]+ bytes/);
  assert.match(formatStatus({ apmStats: s }), /=========\nAPM Agent\n=========\n\n {2}Status: Running/);
  assert.deepEqual(formatApmStatus({ error: 'APM: off (DD_APM_ENABLED=false)' }), ['', '  Status: Unavailable', '  Error: APM: off (DD_APM_ENABLED=false)']);
});
