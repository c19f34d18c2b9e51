import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { startAgent } from '../src/commands/run.js';
import { loadConfig } from '../src/config/load.js';

async function freeTcpPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const p = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return p;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('local_intake.max_age_seconds and max_bytes are kennel keys with the 30 min / 256 MiB defaults', () => {
  const d = loadConfig({});
  assert.equal(d.int('local_intake.max_age_seconds'), 1800);
  assert.equal(d.int('local_intake.max_bytes'), 256 * 1024 * 1024);
  const c = loadConfig({ DD_LOCAL_INTAKE_MAX_AGE_SECONDS: '60', DD_LOCAL_INTAKE_MAX_BYTES: '2097152' });
  assert.equal(c.int('local_intake.max_age_seconds'), 60);
  assert.equal(c.int('local_intake.max_bytes'), 2097152);
  assert.throws(() => loadConfig({ DD_LOCAL_INTAKE_MAX_AGE_SECONDS: '0' }), /DD_LOCAL_INTAKE_MAX_AGE_SECONDS/);
  assert.throws(() => loadConfig({ DD_LOCAL_INTAKE_MAX_BYTES: 'lots' }), /DD_LOCAL_INTAKE_MAX_BYTES/);
});

test('in local mode the status port serves the page and /api, and the start line prints its URL', { timeout: 30_000 }, async () => {
  const cmdPort = await freeTcpPort();
  const udp = await freeUdpPort();
  const logs: string[] = [];
  const agent = await startAgent(
    { DD_DOGSTATSD_PORT: String(udp), DD_DOGSTATSD_SOCKET: '', DD_CMD_PORT: String(cmdPort), DD_HOSTNAME: 'h1', DD_LOCAL_INTAKE_MAX_AGE_SECONDS: '120', DD_LOCAL_INTAKE_MAX_BYTES: '8388608' },
    { log: (s) => logs.push(s) },
  );
  let stopped = false;
  try {
    const line = logs.find((l) => l.includes('local mode'));
    assert.ok(line?.includes(`http://127.0.0.1:${cmdPort}/`), line);
    const page = await get(cmdPort, '/');
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    assert.match(page.body, /<script type="module" src="\/assets\/app\.js">/);
    const st = JSON.parse((await get(cmdPort, '/api/status')).body) as Record<string, Record<string, unknown>>;
    assert.equal(st.agent!.mode, 'local');
    assert.equal(st.localIntakeStats!.WindowSeconds, 120);
    assert.equal(st.localIntakeStats!.MaxBytes, 8388608);
    assert.deepEqual(st.health, agent.health());
    // The agent's own IPC paths still answer as before.
    assert.equal(JSON.parse((await get(cmdPort, '/agent/status')).body).agent.mode, 'local');
    // An open stream does not hold up the stop.
    const stream = new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port: cmdPort, path: '/api/stream' }, (res) => {
        res.once('data', () => resolve());
        res.on('error', () => {});
      });
      req.on('error', () => {});
      req.end();
    });
    await stream;
    const s = createSocket('udp4');
    await new Promise<void>((r, j) => s.send('web.hits:1|c|#env:t', udp, '127.0.0.1', (e) => (e ? j(e) : r())));
    s.close();
    while ((agent.stats().dogstatsdStats as Record<string, number>).MetricPackets !== 1) await new Promise((r) => setTimeout(r, 10));
    await agent.stop();
    stopped = true;
    const local = agent.stats().localIntakeStats as Record<string, number>;
    assert.equal(local.Series, 1);
  } finally {
    if (!stopped) await agent.stop();
  }
});

test('with DD_CMD_PORT=0 the start line says the page is off', { timeout: 30_000 }, async () => {
  const logs: string[] = [];
  const agent = await startAgent({ DD_DOGSTATSD_PORT: '0', DD_DOGSTATSD_SOCKET: '', DD_CMD_PORT: '0' }, { log: (s) => logs.push(s) });
  await agent.stop();
  assert.ok(logs.some((l) => l.includes('local page is off')), logs.join('\n'));
});
