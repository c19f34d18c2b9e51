import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { TcpSource, UdpSource } from '../src/source/network.js';
import { resolveLogsSourceConfig, type NetworkSourceConfig } from '../src/source/config.js';
import { Collector, until } from './source-support.js';

function cfg(type: 'tcp' | 'udp', extra: Record<string, unknown> = {}): NetworkSourceConfig {
  return resolveLogsSourceConfig({ type, port: 0, service: 'edge', source: 'syslog', tags: 'env:test, team:net', ...extra }, 'logs[0]') as NetworkSourceConfig;
}

test('TCP: one message per line, lines split across writes joined, the last line sent on close', async () => {
  const c = new Collector();
  const src = new TcpSource(c.ctx, cfg('tcp'));
  await src.start();
  const sock = connect(src.port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write('first li');
  sock.write('ne\nsecond line\nthird');
  await c.waitFor(2);
  sock.end(' and last');
  const msgs = await c.waitFor(3);
  assert.deepEqual(c.texts(), ['first line', 'second line', 'third and last']);
  assert.deepEqual([msgs[0]!.service, msgs[0]!.source, msgs[0]!.status, msgs[0]!.tags], ['edge', 'syslog', 'info', ['source_host:127.0.0.1', 'env:test', 'team:net']]);
  assert.deepEqual(msgs[0]!.origin, { sourceId: `tcp:${src.port}`, offset: undefined });
  await src.stop();
  c.close();
});

test('TCP: the processing rules of the source apply', async () => {
  const c = new Collector();
  const src = new TcpSource(c.ctx, cfg('tcp', { log_processing_rules: [{ type: 'exclude_at_match', name: 'no_debug', pattern: 'DEBUG' }] }), { useSourceHostTag: false });
  await src.start();
  const sock = connect(src.port, '127.0.0.1');
  sock.end('DEBUG noise\nINFO kept\n');
  await c.waitFor(1);
  await until(() => c.counters.rules.get('exclude_at_match:no_debug') === 1, 'the exclusion to be counted');
  assert.deepEqual(c.texts(), ['INFO kept']);
  assert.deepEqual(c.messages[0]!.tags, ['env:test', 'team:net']);
  await src.stop();
  c.close();
});

test('TCP: idle_timeout closes a connection that sends nothing for that long (its partial line sent, counted); a busy one stays open', async () => {
  const c = new Collector();
  const src = new TcpSource(c.ctx, cfg('tcp', { idle_timeout: '300ms' }));
  await src.start();
  const idle = connect(src.port, '127.0.0.1');
  const closed = new Promise<void>((r) => idle.once('close', () => r()));
  idle.write('partial');
  const busy = connect(src.port, '127.0.0.1');
  // Busy: a line every 100 ms for 900 ms, three times the timeout.
  for (let i = 0; i < 9; i++) {
    busy.write(`busy ${i}\n`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await closed;
  assert.equal(src.stats.idleTimeouts, 1);
  assert.equal(busy.destroyed, false, 'the busy connection is still open');
  busy.end();
  await c.waitFor(10);
  assert.deepEqual(c.texts().sort(), ['busy 0', 'busy 1', 'busy 2', 'busy 3', 'busy 4', 'busy 5', 'busy 6', 'busy 7', 'busy 8', 'partial']);
  await src.stop();
  c.close();
});

test('idle_timeout takes a Go duration, on tcp sources only', async () => {
  const { parseGoDuration } = await import('../src/source/config.js');
  assert.deepEqual(['0', '30s', '1m30s', '500ms', '1h', '1.5s', '250us'].map(parseGoDuration), [0, 30_000, 90_000, 500, 3_600_000, 1500, 0.25]);
  assert.deepEqual(['', '30', 's', '-1s', '1d', '1s '].map(parseGoDuration), [null, null, null, null, null, null]);
  assert.equal(cfg('tcp').idleTimeoutMs, 0);
  assert.equal(cfg('tcp', { idle_timeout: '2m' }).idleTimeoutMs, 120_000);
  assert.throws(() => cfg('tcp', { idle_timeout: 'soon' }), /logs\[0\]\.idle_timeout must be a duration such as 30s, 1m or 500ms, got soon/);
  assert.throws(() => cfg('udp', { idle_timeout: '30s' }), /logs\[0\]\.idle_timeout applies to tcp sources only/);
});

test('TCP listens on loopback by default', async () => {
  const c = new Collector();
  const src = new TcpSource(c.ctx, cfg('tcp'));
  await src.start();
  assert.equal((src as unknown as { server: { address(): { address: string } } }).server.address().address, '127.0.0.1');
  await src.stop();
  c.close();
});

test('UDP: one message per datagram, tagged with the sender', async () => {
  const c = new Collector();
  const src = new UdpSource(c.ctx, cfg('udp'));
  await src.start();
  const client = createSocket('udp4');
  for (const d of ['<14>first datagram', 'second datagram\n', 'two\nlines']) {
    await new Promise<void>((r, j) => client.send(d, src.port, '127.0.0.1', (e) => (e ? j(e) : r())));
  }
  await c.waitFor(4);
  assert.deepEqual(c.texts(), ['<14>first datagram', 'second datagram', 'two', 'lines']);
  assert.deepEqual(c.messages[0]!.tags, ['source_host:127.0.0.1', 'env:test', 'team:net']);
  assert.equal(c.messages[0]!.origin.sourceId, `udp:${src.port}`);
  client.close();
  await src.stop();
  c.close();
});

test('UDP: a datagram longer than frame_size is cut to it', async () => {
  const c = new Collector();
  const src = new UdpSource(c.ctx, cfg('udp'), { frameSize: 10 });
  await src.start();
  const client = createSocket('udp4');
  await new Promise<void>((r, j) => client.send('0123456789abcdef', src.port, '127.0.0.1', (e) => (e ? j(e) : r())));
  await c.waitFor(1);
  assert.deepEqual(c.texts(), ['0123456789']);
  assert.equal(src.stats.datagramsTruncated, 1);
  client.close();
  await src.stop();
  c.close();
});

test('UDP: datagrams arriving while the sink is full wait, up to the bound, then are counted as dropped', async () => {
  const c = new Collector({ highWaterMark: 2, paused: true });
  const src = new UdpSource(c.ctx, cfg('udp'), { maxPendingDatagrams: 3 });
  await src.start();
  const client = createSocket('udp4');
  for (let i = 0; i < 8; i++) await new Promise<void>((r, j) => client.send(`d${i}`, src.port, '127.0.0.1', (e) => (e ? j(e) : r())));
  await until(() => src.stats.bytesRead === 16, 'every datagram to arrive');
  c.resume();
  await c.waitFor(5);
  assert.deepEqual(c.texts(), ['d0', 'd1', 'd2', 'd3', 'd4']);
  assert.equal(src.stats.datagramsDropped, 3);
  client.close();
  await src.stop();
  c.close();
});

test('a port already in use is a clear listen error', async () => {
  const c = new Collector();
  const a = new TcpSource(c.ctx, cfg('tcp'));
  await a.start();
  const b = new TcpSource(c.ctx, { ...cfg('tcp'), port: a.port });
  await assert.rejects(b.start(), (e: Error) => e.message.startsWith(`cannot listen for TCP logs on 127.0.0.1:${a.port}: listen EADDRINUSE`));
  await a.stop();
  c.close();
});

test('LogsSources starts a listener per network entry and one file source for the file entries', async () => {
  const { LogsSources } = await import('../src/source/sources.js');
  const { Registry } = await import('../src/registry/registry.js');
  const { tempDir } = await import('./source-support.js');
  const { writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const dir = await tempDir();
  await writeFile(join(dir, 'a.log'), 'from file\n');
  const c = new Collector();
  const configs = [
    resolveLogsSourceConfig({ type: 'tcp', port: 0 }, 'logs[0]'),
    resolveLogsSourceConfig({ type: 'udp', port: 0 }, 'logs[1]'),
    resolveLogsSourceConfig({ type: 'file', path: join(dir, '*.log'), start_position: 'beginning' }, 'logs[2]'),
  ];
  const sources = new LogsSources(c.ctx, configs, { registry: await Registry.open({ runPath: join(dir, 'run') }), file: { pollIntervalMs: 10 } });
  await sources.start();
  const sock = connect(sources.tcp[0]!.port, '127.0.0.1');
  sock.end('from tcp\n');
  const client = createSocket('udp4');
  await new Promise<void>((r, j) => client.send('from udp', sources.udp[0]!.port, '127.0.0.1', (e) => (e ? j(e) : r())));
  await c.waitFor(3);
  assert.deepEqual(c.texts().sort(), ['from file', 'from tcp', 'from udp']);
  client.close();
  await sources.stop();
  c.close();
});
