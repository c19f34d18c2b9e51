import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcessSource } from '../src/source/child-process.js';
import { Collector, until } from './source-support.js';

const node = process.execPath;

test('stdout lines are info and stderr lines error, partial writes joined across chunks', async () => {
  const c = new Collector();
  const script = `
    const w = (s, d) => new Promise((r) => s.write(d, r));
    (async () => {
      await w(process.stdout, 'hel');
      await new Promise((r) => setTimeout(r, 30));
      await w(process.stdout, 'lo\\nwor');
      await new Promise((r) => setTimeout(r, 30));
      await w(process.stdout, 'ld\\n');
      await w(process.stderr, 'oops: it broke\\n');
      await w(process.stdout, 'last line without newline');
    })();`;
  const src = new ChildProcessSource(c.ctx, { command: node, args: ['-e', script], service: 'app', source: 'nodejs', tags: ['team:web'], forwardSignals: false, stdin: 'ignore' });
  src.start();
  const exit = await src.exited;
  assert.deepEqual(exit, { code: 0, signal: null, exitCode: 0 });
  await c.waitFor(4);
  const byStream = (id: string): string[] => c.messages.filter((m) => m.origin.sourceId === id).map((m) => Buffer.from(m.content as Uint8Array).toString());
  assert.deepEqual(byStream('child:stdout'), ['hello', 'world', 'last line without newline']);
  assert.deepEqual(byStream('child:stderr'), ['oops: it broke']);
  const err = c.messages.find((m) => m.origin.sourceId === 'child:stderr')!;
  assert.deepEqual([err.status, err.service, err.source, err.tags], ['error', 'app', 'nodejs', ['team:web']]);
  assert.equal(c.messages.find((m) => m.origin.sourceId === 'child:stdout')!.status, 'info');
  assert.equal(c.counters.counters.get('LogsProcessed'), 4);
  c.close();
});

test('a line over max_message_size_bytes is cut into TRUNCATED chunks', async () => {
  const c = new Collector();
  // 2,000,001 bytes: two full 900,000-byte chunks and a remainder, as the agent cuts them.
  const script = `process.stdout.write('a'.repeat(2000001) + '\\nafter\\n')`;
  const src = new ChildProcessSource(c.ctx, { command: node, args: ['-e', script], forwardSignals: false, stdin: 'ignore' });
  src.start();
  await src.exited;
  const msgs = await c.waitFor(4);
  const t = msgs.map((m) => Buffer.from(m.content as Uint8Array).toString());
  const F = '...TRUNCATED...';
  assert.equal(t[0], 'a'.repeat(900000) + F);
  assert.equal(t[1], F + 'a'.repeat(900000) + F);
  assert.equal(t[2], F + 'a'.repeat(200001));
  assert.equal(t[3], 'after');
  assert.equal(c.counters.counters.get('LogsTruncated'), 2);
  c.close();
});

test('the exit code and the killing signal are passed on', async () => {
  const c = new Collector();
  const failing = new ChildProcessSource(c.ctx, { command: node, args: ['-e', 'process.exit(3)'], forwardSignals: false, stdin: 'ignore' });
  failing.start();
  assert.deepEqual(await failing.exited, { code: 3, signal: null, exitCode: 3 });
  const killed = new ChildProcessSource(c.ctx, { command: node, args: ['-e', 'setInterval(() => {}, 1000)'], forwardSignals: false, stdin: 'ignore' });
  killed.start();
  killed.kill('SIGKILL');
  assert.deepEqual(await killed.exited, { code: null, signal: 'SIGKILL', exitCode: 137 });
  c.close();
});

test('SIGTERM sent to kennel is forwarded to the child, which can shut down cleanly', async () => {
  const c = new Collector();
  const script = `
    process.on('SIGTERM', () => { process.stdout.write('got SIGTERM, draining\\n', () => process.exit(0)); });
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);`;
  const src = new ChildProcessSource(c.ctx, { command: node, args: ['-e', script], stdin: 'ignore' });
  src.start();
  await c.waitFor(1);
  assert.equal(process.listenerCount('SIGTERM') > 0, true);
  process.kill(process.pid, 'SIGTERM');
  assert.deepEqual(await src.exited, { code: 0, signal: null, exitCode: 0 });
  await c.waitFor(2);
  assert.deepEqual(c.texts(), ['ready', 'got SIGTERM, draining']);
  await until(() => process.listenerCount('SIGTERM') === 0, 'the forwarding handler to be removed');
  c.close();
});

test('a child that keeps writing while the sink is full is paused, and loses nothing', async () => {
  const c = new Collector({ highWaterMark: 10, paused: true });
  const script = `for (let i = 0; i < 5000; i++) process.stdout.write('line ' + i + '\\n');`;
  const src = new ChildProcessSource(c.ctx, { command: node, args: ['-e', script], forwardSignals: false, stdin: 'ignore' });
  src.start();
  await until(() => c.channel.length >= 10, 'the channel to fill');
  assert.equal(c.channel.isWritable, false);
  c.resume();
  await src.exited;
  const msgs = await c.waitFor(5000);
  assert.deepEqual(msgs.map((m) => Buffer.from(m.content as Uint8Array).toString()), Array.from({ length: 5000 }, (_, i) => `line ${i}`));
  c.close();
});

test('a command that cannot start rejects exited with the cause', async () => {
  const c = new Collector();
  const src = new ChildProcessSource(c.ctx, { command: '/nonexistent/kennel-test-binary', forwardSignals: false, stdin: 'ignore' });
  src.start();
  await assert.rejects(src.exited, /cannot start \/nonexistent\/kennel-test-binary: spawn \/nonexistent\/kennel-test-binary ENOENT/);
  c.close();
});
