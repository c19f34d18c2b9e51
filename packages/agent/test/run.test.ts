import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAgent } from '../src/commands/run.js';

const bin = fileURLToPath(new URL('../../bin/kennel.js', import.meta.url));

async function send(port: number, datagrams: string[]): Promise<void> {
  const s = createSocket('udp4');
  for (const d of datagrams) await new Promise<void>((r, j) => s.send(d, port, '127.0.0.1', (e) => (e ? j(e) : r())));
  s.close();
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}

async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

function dsd(o: Record<string, unknown>): Record<string, number> {
  return (o as { dogstatsdStats: Record<string, number> }).dogstatsdStats;
}

test('kennel run counts what it decodes from UDP datagrams and says it runs in local mode', { timeout: 30_000 }, async () => {
  const logs: string[] = [];
  const off = await startAgent({ DD_DOGSTATSD_PORT: '0', DD_DOGSTATSD_SOCKET: '', DD_CMD_PORT: '0' }, { log: (s) => logs.push(s) });
  // Port 0 turns UDP off, as the agent does.
  assert.equal(off.udpAddress, null);
  await off.stop();

  const port = await freePort();
  const live = await startAgent({ DD_DOGSTATSD_PORT: String(port), DD_DOGSTATSD_SOCKET: '', DD_CMD_PORT: '0' }, { log: (s) => logs.push(s) });
  assert.ok(live.udpAddress);
  assert.equal(live.udpAddress.address, '127.0.0.1');
  await send(port, ['a:1|c\nb:2:3|h', 'bad-line', '_e{1,1}:t|x\n_sc|c|0']);
  await until(() => dsd(live.stats()).UdpPackets === 3);
  const s = dsd(live.stats());
  await live.stop();
  assert.equal(s.MetricPackets, 3);
  assert.equal(s.MetricParseErrors, 1);
  assert.equal(s.EventPackets, 1);
  assert.equal(s.ServiceCheckPackets, 1);
  assert.equal(s.UdpBytes, 13 + 8 + 19);
  assert.ok(logs.some((l) => l.includes('local mode')), logs.join('\n'));
});

test('a stopping agent flushes the open bucket into the local intake', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const agent = await startAgent({ DD_DOGSTATSD_PORT: String(port), DD_DOGSTATSD_SOCKET: '', DD_CMD_PORT: '0', DD_HOSTNAME: 'h1' }, { log: () => {} });
  await send(port, ['page.views:2|c|#env:prod\ntemp:21.5|g']);
  await until(() => dsd(agent.stats()).MetricPackets === 2);
  await agent.stop();
  const local = agent.stats().localIntakeStats as Record<string, number>;
  assert.equal(local.Series, 2);
});

test('the kennel binary exits 0 on SIGTERM and prints its final counters', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kennel-run-'));
  const child = spawn(process.execPath, [bin, 'run'], {
    env: { ...process.env, DD_DOGSTATSD_PORT: String(port), DD_API_KEY: '', DD_DOGSTATSD_SOCKET: join(dir, 'dsd.socket'), DD_CMD_PORT: '0' },
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  await until(() => err.includes('local mode'));
  await send(port, ['x:1|g']);
  await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.equal(code, 0, err);
  const m = /stopped; (.*)$/m.exec(err);
  assert.ok(m, err);
  assert.equal(JSON.parse(m[1]!).dogstatsdStats.UdpPackets, 1);
});

test('kennel run stops at start with a clear message for a malformed DD_ value', { timeout: 30_000 }, async () => {
  const child = spawn(process.execPath, [bin, 'run'], { env: { ...process.env, DD_DOGSTATSD_PORT: 'eighty' } });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.equal(code, 1);
  assert.match(err, /DD_DOGSTATSD_PORT: expected a whole number from 0 to 65535, got "eighty"/);
});
