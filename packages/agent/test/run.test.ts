import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { spawn } from 'node:child_process';
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

test('kennel run counts what it decodes from UDP datagrams', { timeout: 30_000 }, async () => {
  const logs: string[] = [];
  const agent = await startAgent({ DD_DOGSTATSD_PORT: '0' }, { log: (s) => logs.push(s) });
  // Port 0 turns UDP off, as the agent does.
  assert.equal(agent.udpAddress, null);
  await agent.stop();

  const live = await startAgent({ DD_DOGSTATSD_PORT: String(await freePort()) }, { log: (s) => logs.push(s) });
  assert.ok(live.udpAddress);
  assert.equal(live.udpAddress.address, '127.0.0.1');
  await send(live.udpAddress.port, ['a:1|c\nb:2:3|h', 'bad-line', '_e{1,1}:t|x\n_sc|c|0']);
  await until(() => live.stats().dogstatsdStats.UdpPackets === 3);
  const s = live.stats().dogstatsdStats;
  await live.stop();
  assert.equal(s.MetricPackets, 3);
  assert.equal(s.MetricParseErrors, 1);
  assert.equal(s.EventPackets, 1);
  assert.equal(s.ServiceCheckPackets, 1);
  assert.equal(s.UdpBytes, 13 + 8 + 19);
  assert.ok(logs.some((l) => l.includes('local mode')));
});

test('the kennel binary exits 0 on SIGTERM and prints its final counters', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [bin, 'run'], { env: { ...process.env, DD_DOGSTATSD_PORT: String(port), DD_API_KEY: '' } });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  await until(() => err.includes('listening on udp'));
  await send(port, ['x:1|g']);
  await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.equal(code, 0);
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

async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}
