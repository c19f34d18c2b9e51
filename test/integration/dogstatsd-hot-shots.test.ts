import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import StatsDClient from 'hot-shots';
import type { StatsD } from 'hot-shots';
import { FakeIntake } from '@kennel/intake';
import type { Series } from '@kennel/core';
import { freeTcpPort, freeUdpPort, runKennel, startKennel, until } from '../utils/index.js';

const API_KEY = 'abcdefabcdefabcdefabcdefab12345';

/** hot-shots drops sampled calls at random client-side; pin the draw so every call is sent. */
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

/** Waits until we are not within 2 s of a 10 s bucket boundary, so one bucket holds every sample. */
async function awayFromBucketEdge(): Promise<void> {
  for (;;) {
    const inBucket = (Date.now() / 1000) % 10;
    if (inBucket > 0.5 && inBucket < 8) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

function one(series: Series[], name: string): Series {
  const s = series.filter((x) => x.name === name);
  assert.equal(s.length, 1, `one series named ${name}, got ${s.length}: ${JSON.stringify(series.map((x) => x.name))}`);
  return s[0]!;
}

test('hot-shots metrics over UDP and the Unix socket reach the intake aggregated as the agent does', { timeout: 120_000 }, async () => {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const dir = mkdtempSync(join(tmpdir(), 'kennel-hotshots-'));
  const socket = join(dir, 'dsd.socket');
  const udpPort = await freeUdpPort();
  const cmdPort = await freeTcpPort();
  const kennel = startKennel({
    DD_API_KEY: API_KEY,
    DD_DD_URL: intake.url,
    DD_HOSTNAME: 'test-host',
    DD_DOGSTATSD_PORT: String(udpPort),
    DD_DOGSTATSD_SOCKET: socket,
    DD_CMD_PORT: String(cmdPort),
    DD_DOGSTATSD_TAGS: 'team:kennel',
  });
  try {
    await until(() => kennel.stderr().includes('forwarding to') || kennel.child.exitCode !== null);
    assert.equal(kennel.child.exitCode, null, kennel.stderr());
    assert.ok(!kennel.stderr().includes(API_KEY), 'the API key never appears in a log line');

    await awayFromBucketEdge();
    for (const [transport, client] of [
      ['udp', new StatsDClient({ host: '127.0.0.1', port: udpPort, protocol: 'udp', prefix: 'udp.' })],
      ['uds', new StatsDClient({ protocol: 'uds', path: socket, prefix: 'uds.' })],
    ] as const) {
      sendAll(() => {
        for (let i = 0; i < 3; i++) client.increment('requests', 1, 0.5, ['env:test', `transport:${transport}`]);
        client.gauge('temperature', 20, ['env:test']);
        client.gauge('temperature', 21.5, ['env:test']);
        for (const v of [1, 2, 3, 4, 5]) client.histogram('latency', v, ['env:test']);
        for (const v of [10, 30]) client.timing('query.time', v, ['env:test']);
        for (const v of [1, 2, 3, 4]) client.distribution('payload.size', v, ['env:test']);
        for (const u of ['alice', 'bob', 'alice']) client.set('users', u, ['env:test']);
      });
      client.event(`deploy over ${transport}`, 'v1.2.3 is out', { alert_type: 'success', priority: 'low' }, ['env:test']);
      client.check('can_connect', client.CHECKS.WARNING, { message: 'slow', hostname: 'db-1' }, ['env:test']);
      await closeClient(client);
    }

    // kennel status --json counts what was sent: 3 + 2 + 5 + 2 + 4 + 3 = 19 samples per transport.
    await until(async () => {
      const r = await runKennel(['status', '--json'], { DD_CMD_PORT: String(cmdPort) });
      if (r.code !== 0) return false;
      return JSON.parse(r.stdout).dogstatsdStats.MetricPackets === 38;
    });
    const r = await runKennel(['status', '--json'], { DD_CMD_PORT: String(cmdPort) });
    const st = JSON.parse(r.stdout);
    assert.equal(st.dogstatsdStats.MetricPackets, 38);
    assert.equal(st.dogstatsdStats.MetricParseErrors, 0);
    assert.equal(st.dogstatsdStats.EventPackets, 2);
    assert.equal(st.dogstatsdStats.ServiceCheckPackets, 2);
    assert.equal(st.dogstatsdStats.UdpPackets, 21);
    // hot-shots buffers UDS messages into datagrams of up to 8 KiB (Datadog's advice); UDP is one per call.
    assert.ok(st.dogstatsdStats.UdsPackets >= 1 && st.dogstatsdStats.UdsPackets <= 21, String(st.dogstatsdStats.UdsPackets));
    assert.ok(st.dogstatsdStats.UdpBytes > 0 && st.dogstatsdStats.UdsBytes > 0);
    assert.equal(st.aggregatorStats.DogstatsdMetricSample, 38);
    assert.ok(!r.stdout.includes(API_KEY), 'the API key never appears in status');
    assert.match(st.agent.apiKey, /\*+12345$/);

    const text = await runKennel(['status'], { DD_CMD_PORT: String(cmdPort) });
    assert.match(text.stdout, /={9}\nDogStatsD\n={9}/);
    assert.match(text.stdout, /Metric Packets: 38/);
    assert.match(text.stdout, /Udp Packets: 21/);
    assert.match(text.stdout, /Uds Packets: \d+/);
    const health = await runKennel(['health'], { DD_CMD_PORT: String(cmdPort) });
    assert.equal(health.code, 0, health.stdout + health.stderr);
    assert.match(health.stdout, /Agent health: PASS/);

    // SIGTERM: every bucket, the open one included, is flushed and forwarded before exit 0.
    assert.equal(await kennel.stop('SIGTERM'), 0, kennel.stderr());

    const series = intake.store.series();
    for (const t of ['udp', 'uds']) {
      const req = one(series, `${t}.requests`);
      assert.equal(req.type, 'rate');
      assert.equal(req.interval, 10);
      assert.equal(req.host, 'test-host');
      assert.deepEqual([...req.tags].sort(), ['env:test', 'team:kennel', `transport:${t}`]);
      assert.deepEqual(req.points.map((p) => p.value), [0.6]); // 3 × (1 / 0.5) / 10 s
      assert.equal(req.points[0]!.timestamp % 10, 0);
      assert.deepEqual(one(series, `${t}.temperature`).points.map((p) => p.value), [21.5]);
      const h = (suffix: string) => one(series, `${t}.latency${suffix}`).points.map((p) => p.value);
      assert.deepEqual(h('.max'), [5]);
      assert.deepEqual(h('.median'), [3]);
      assert.deepEqual(h('.avg'), [3]);
      assert.deepEqual(h('.count'), [0.5]);
      assert.deepEqual(h('.95percentile'), [5]);
      assert.equal(one(series, `${t}.latency.count`).type, 'rate');
      assert.deepEqual(one(series, `${t}.query.time.max`).points.map((p) => p.value), [30]);
      assert.deepEqual(one(series, `${t}.query.time.avg`).points.map((p) => p.value), [20]);
      assert.deepEqual(one(series, `${t}.users`).points.map((p) => p.value), [2]);
      const sk = intake.store.sketches().filter((s) => s.name === `${t}.payload.size`);
      assert.equal(sk.length, 1);
      const p = sk[0]!.points[0]!;
      assert.deepEqual([p.count, p.min, p.max, p.sum, p.avg], [4, 1, 4, 10, 2.5]);
      assert.equal(sk[0]!.host, 'test-host');
    }
    const events = intake.store.events();
    assert.deepEqual(
      events.map((e) => [e.title, e.text, e.alertType, e.priority, e.host, [...e.tags].sort()]).sort(),
      [
        // hot-shots puts its prefix on event titles too.
        ['udp.deploy over udp', 'v1.2.3 is out', 'success', 'low', 'test-host', ['env:test', 'team:kennel']],
        ['uds.deploy over uds', 'v1.2.3 is out', 'success', 'low', 'test-host', ['env:test', 'team:kennel']],
      ],
    );
    const checks = intake.store.serviceChecks();
    assert.deepEqual(
      checks.map((c) => [c.name, c.status, c.message, c.host]).sort(),
      [
        ['udp.can_connect', 1, 'slow', 'db-1'],
        ['uds.can_connect', 1, 'slow', 'db-1'],
      ],
    );
    // Every request carried the agent's headers and the key.
    for (const req of intake.requests()) {
      assert.equal(req.status, 202, JSON.stringify(req));
      assert.match(String(req.headers['dd-agent-version']), /^7\.\d+\.\d+$/);
      assert.match(String(req.headers['user-agent']), /^datadog-agent\/7\./);
    }
  } finally {
    await kennel.stop('SIGKILL');
    await intake.close();
  }
});
