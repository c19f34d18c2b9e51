import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '../src/commands/run.js';
import { HealthRegistry } from '../src/topology/health.js';
import { RuntimeStats } from '../src/topology/runtime-stats.js';
import { trimMemory } from '@kennel/native';
import { formatStatus } from '../src/topology/status-format.js';

async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

function call(port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the status port guards flush and stop with the auth token kennel writes 0600 into the run path', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kennel-ipc-'));
  const port = await freeTcpPort();
  const agent = await startAgent({ DD_DOGSTATSD_PORT: '0', DD_DOGSTATSD_SOCKET: '', DD_CMD_PORT: String(port), DD_RUN_PATH: join(dir, 'run') }, { log: () => {} });
  try {
    const path = join(dir, 'run', 'auth_token');
    assert.equal(agent.authTokenPath, path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const token = readFileSync(path, 'utf8');
    assert.match(token, /^[0-9a-f]{64}$/);
    // Read-only status needs no token; what changes something does.
    assert.equal((await call(port, 'GET', '/agent/status')).status, 200);
    assert.equal((await call(port, 'POST', '/agent/flush')).status, 401);
    assert.equal((await call(port, 'POST', '/agent/flush', { authorization: `Bearer ${'0'.repeat(64)}` })).status, 403);
    assert.equal((await call(port, 'POST', '/agent/flush', { authorization: `Basic ${token}` })).status, 401);
    const ok = await call(port, 'POST', '/agent/flush', { authorization: `Bearer ${token}` });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { flushed: { series: 0, sketches: 0 } });
    assert.equal((await call(port, 'GET', '/agent/flush', { authorization: `Bearer ${token}` })).status, 405);
    const s = (await call(port, 'GET', '/agent/status')).body;
    assert.equal(s.statusServerStats.Unauthorized, 3);
  } finally {
    await agent.stop();
  }
});

test('status carries runtimeStats with the soak benchmark keys, and the text status a Runtime block', { timeout: 30_000 }, async () => {
  const agent = await startAgent({ DD_DOGSTATSD_PORT: '0', DD_DOGSTATSD_SOCKET: '', DD_CMD_PORT: '0' }, { log: () => {} });
  try {
    await new Promise((r) => setTimeout(r, 100));
    const rt = agent.stats().runtimeStats as Record<string, number>;
    assert.deepEqual(Object.keys(rt).sort(), [
      'EventLoopDelayMaxMs',
      'EventLoopDelayP50Ms',
      'EventLoopDelayP99Ms',
      'EventLoopDelayWindowSeconds',
      'HeapUsed',
      'MemoryTrimMaxMs',
      'MemoryTrimmedBytes',
      'MemoryTrims',
      'MemoryTrimsReleased',
      'Rss',
      'UptimeSeconds',
      'WorkerHeapUsed',
    ]);
    assert.ok(rt.Rss! > rt.HeapUsed! && rt.HeapUsed! > 0);
    // No flush yet, so the shard worker has not reported its heap.
    assert.equal(rt.WorkerHeapUsed, 0);
    assert.ok(rt.EventLoopDelayP50Ms! >= 0 && rt.EventLoopDelayP50Ms! <= rt.EventLoopDelayP99Ms! && rt.EventLoopDelayP99Ms! <= rt.EventLoopDelayMaxMs!);
    const text = formatStatus(agent.stats());
    assert.match(text, /=======\nRuntime\n=======\n  RSS: [\d,.]+ MiB\n  Heap Used: [\d,.]+ MiB \(main thread\)\n  Worker Heap Used: [\d,.]+ MiB \(shard workers, at their last flush\)\n  Event Loop Delay: p50 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms \(the last [\d.]+ s\)\n  Uptime: \d+ seconds\n/);
    // Drop counters show at 0 too, unlike the agent's other aggregator lines.
    assert.match(text, /  Contexts Dropped: 0\n/);
    assert.match(text, /  Queue Drops: 0\n/);
    assert.doesNotMatch(text, /  Event: 0\n/);
  } finally {
    await agent.stop();
  }
});

test('freed malloc memory is trimmed on the configured interval, and each trim is counted', async () => {
  // With the addon and glibc, trimMemory says whether pages went back; null where it cannot trim.
  const native = trimMemory();
  assert.ok(native === null || typeof native === 'boolean');
  let calls = 0;
  let released = 0;
  const rt = new RuntimeStats(Date.now(), Date.now, {
    intervalMs: 20,
    trim: () => {
      calls++;
      const r = trimMemory() ?? calls % 2 === 0;
      if (r) released++;
      return r;
    },
  });
  try {
    await new Promise((r) => setTimeout(r, 200));
    const r = rt.read();
    assert.ok(calls >= 3, `${calls} trims in 200 ms at a 20 ms interval`);
    assert.equal(r.MemoryTrims, calls);
    assert.equal(r.MemoryTrimsReleased, released);
    assert.ok(r.MemoryTrimmedBytes >= 0 && r.MemoryTrimMaxMs >= 0);
    const text = formatStatus({ runtimeStats: { ...r, MemoryTrims: 3, MemoryTrimsReleased: 2, MemoryTrimmedBytes: 3 * 1048576, MemoryTrimMaxMs: 1.5 } });
    assert.match(text, /\n {2}Memory Trims: 3 \(2 gave back memory, 3 MiB in all; longest 1\.5 ms\)\n/);
  } finally {
    rt.close();
  }
  const off = new RuntimeStats(Date.now(), Date.now, { intervalMs: 0, trim: () => assert.fail('trimmed with the interval at 0') });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(off.read().MemoryTrims, 0);
  off.close();
  // A trimmer that cannot trim here (null) is not counted.
  const none = new RuntimeStats(Date.now(), Date.now, { intervalMs: 0, trim: () => null });
  none.trimMemory(() => null);
  assert.equal(none.read().MemoryTrims, 0);
  none.close();
});

test('the event-loop delay window is the older of two monitors, so a slow loop shows in p99 and max', () => {
  let now = 1_000_000;
  const rt = new RuntimeStats(now, () => now);
  const start = Date.now();
  // Block the loop for 60 ms three times; the monitor sees each as one long interval.
  return new Promise<void>((resolve) => {
    let n = 0;
    const tick = () => {
      const until = Date.now() + 60;
      while (Date.now() < until);
      if (++n < 3) setTimeout(tick, 30);
      else
        setTimeout(() => {
          now += 5000;
          const r = rt.read();
          rt.close();
          assert.ok(r.EventLoopDelayMaxMs >= 40, `max ${r.EventLoopDelayMaxMs} ms after ${Date.now() - start} ms`);
          assert.equal(r.EventLoopDelayWindowSeconds, 5);
          assert.equal(r.UptimeSeconds, 5);
          resolve();
        }, 50);
    };
    setTimeout(tick, 30);
  });
});

test('a watched component is unhealthy after stallMs with work waiting and no progress, healthy once it moves', () => {
  let now = 0;
  const h = new HealthRegistry(30_000, () => now);
  let waiting = false;
  let done = 0;
  h.register('aggregator');
  h.watch('aggregator', { waiting: () => waiting, progress: () => done }, 15_000);
  h.close();
  // Idle for a long time with nothing waiting is not stuck.
  now += 20_000;
  h.beat('aggregator');
  assert.deepEqual(h.report().Unhealthy, []);
  waiting = true;
  now += 14_000;
  assert.deepEqual(h.report().Unhealthy, []);
  now += 2_000;
  assert.deepEqual(h.report(), { Healthy: [], Unhealthy: ['aggregator'] });
  done++;
  assert.deepEqual(h.report(), { Healthy: ['aggregator'], Unhealthy: [] });
});
