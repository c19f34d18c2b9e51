import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AGENT_SOCKET_MODE, openUdsDatagramSource } from '../lib/index.js';
import { Collector, makeDatagrams, native, needsNative, sendAllUnix, tempDir } from './helpers.js';

describe('Unix datagram source', { skip: needsNative }, () => {
  let dir = '';
  let cleanup = () => {};
  before(() => ({ dir, cleanup } = tempDir()));
  after(() => cleanup());

  test('delivers every datagram with its exact bytes, several per batch', async () => {
    const path = join(dir, 'exact.sock');
    const c = new Collector();
    const src = await openUdsDatagramSource({ path, onBatch: c.onBatch });
    try {
      assert.equal(src.transport, 'uds');
      assert.equal(src.implementation, 'native');
      const sent = makeDatagrams(300, 1200);
      await sendAllUnix(path, sent);
      await c.waitFor(sent.length);
      assert.deepEqual(c.datagrams, sent);
      assert.ok(Math.max(...c.batchSizes) > 1, `batches: ${c.batchSizes.join(',')}`);
      const stats = src.stats();
      assert.equal(stats.packets, sent.length);
      assert.equal(stats.bytes, sent.reduce((n, b) => n + b.length, 0));
      assert.equal(stats.batches, c.batchSizes.length);
      assert.equal(stats.truncated, 0);
      assert.equal(stats.readErrors, 0);
    } finally {
      await src.close();
    }
  });

  test('keeps the first bufferSize bytes of a longer datagram and counts it as truncated', async () => {
    const path = join(dir, 'trunc.sock');
    const c = new Collector();
    const src = await openUdsDatagramSource({ path, bufferSize: 16, onBatch: c.onBatch });
    try {
      const long = Buffer.from('a.long.metric.name:1|c|#tag:value');
      const exact = Buffer.from('exactly16bytes:1');
      const short = Buffer.from('s:1|c');
      await sendAllUnix(path, [long, exact, short, Buffer.from('x'.repeat(17))]);
      await c.waitFor(4);
      assert.deepEqual(c.datagrams, [long.subarray(0, 16), exact, short, Buffer.from('x'.repeat(16))]);
      assert.equal(c.truncated, 2);
      assert.equal(src.stats().truncated, 2);
    } finally {
      await src.close();
    }
  });

  test('makes the socket writable by other users, as the agent does (0722)', async () => {
    const path = join(dir, 'mode.sock');
    const src = await openUdsDatagramSource({ path, onBatch: () => {} });
    try {
      const st = statSync(path);
      assert.ok(st.isSocket());
      assert.equal(st.mode & 0o777, 0o722);
      assert.equal(AGENT_SOCKET_MODE, 0o722);
    } finally {
      await src.close();
    }
  });

  test('creates a missing directory', async () => {
    const path = join(dir, 'run', 'datadog', 'dsd.socket');
    const c = new Collector();
    const src = await openUdsDatagramSource({ path, onBatch: c.onBatch });
    try {
      assert.ok(statSync(join(dir, 'run', 'datadog')).isDirectory());
      await sendAllUnix(path, [Buffer.from('a:1|c')]);
      await c.waitFor(1);
    } finally {
      await src.close();
    }
  });

  test('replaces a stale socket file', async () => {
    const path = join(dir, 'stale.sock');
    closeSync(native.binding!.openUnixDatagram(path)); // bound once, nobody receiving now
    assert.ok(statSync(path).isSocket());
    assert.equal(native.binding!.probeUnixDatagram(path), 'ECONNREFUSED');
    const c = new Collector();
    const src = await openUdsDatagramSource({ path, onBatch: c.onBatch });
    try {
      await sendAllUnix(path, [Buffer.from('after:1|c')]);
      await c.waitFor(1);
      assert.equal(c.datagrams[0]!.toString(), 'after:1|c');
    } finally {
      await src.close();
    }
  });

  test('refuses a socket another process is still receiving on', async () => {
    const path = join(dir, 'live.sock');
    const first = await openUdsDatagramSource({ path, onBatch: () => {} });
    try {
      await assert.rejects(openUdsDatagramSource({ path, onBatch: () => {} }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'EADDRINUSE');
        assert.ok(err.message.includes(path), err.message);
        assert.match(err.message, /another process is already receiving/);
        return true;
      });
    } finally {
      await first.close();
    }
  });

  test('fails, naming the path, when a file that is not a socket is in the way', async () => {
    const path = join(dir, 'regular-file');
    writeFileSync(path, 'keep me');
    await assert.rejects(openUdsDatagramSource({ path, onBatch: () => {} }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ENOTSOCK');
      assert.ok(err.message.includes(path), err.message);
      assert.match(err.message, /not a Unix socket/);
      return true;
    });
    assert.ok(statSync(path).isFile(), 'the file is left alone');
  });

  test('fails, naming the path and the cause, when the directory cannot be created', async () => {
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, '');
    const path = join(blocker, 'sub', 'dsd.socket');
    await assert.rejects(openUdsDatagramSource({ path, onBatch: () => {} }), (err: Error & { code?: string }) => {
      assert.ok(err.message.includes(path), err.message);
      assert.ok(err.message.includes('cannot create its directory'), err.message);
      assert.match(err.code ?? '', /^(ENOTDIR|EEXIST)$/);
      assert.ok(err.message.includes(err.code!), err.message);
      return true;
    });
  });

  test('fails, naming the path, when the path is too long for a socket address', async () => {
    const sub = join(dir, 'x'.repeat(60));
    mkdirSync(sub, { recursive: true });
    const path = join(sub, 'y'.repeat(60) + '.sock');
    await assert.rejects(openUdsDatagramSource({ path, onBatch: () => {} }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ENAMETOOLONG');
      assert.ok(err.message.includes(path), err.message);
      return true;
    });
  });

  test('honours rcvbuf (SO_RCVBUF)', async () => {
    const path = join(dir, 'rcvbuf.sock');
    const src = await openUdsDatagramSource({ path, rcvbuf: 256 * 1024, onBatch: () => {} });
    try {
      assert.ok(src.receiveBufferSize() >= 256 * 1024, String(src.receiveBufferSize()));
    } finally {
      await src.close();
    }
  });

  test('removes its socket file on close unless asked to keep it', async () => {
    const a = join(dir, 'unlink.sock');
    const src = await openUdsDatagramSource({ path: a, onBatch: () => {} });
    await src.close();
    await src.close(); // idempotent
    assert.equal(existsSync(a), false);
    const b = join(dir, 'keep.sock');
    const kept = await openUdsDatagramSource({ path: b, unlinkOnClose: false, onBatch: () => {} });
    await kept.close();
    assert.ok(statSync(b).isSocket());
    const again = await openUdsDatagramSource({ path: b, onBatch: () => {} }); // stale now: replaced
    await again.close();
  });

  test('rejects bad options before touching the filesystem', async () => {
    const path = join(dir, 'never', 'opts.sock');
    await assert.rejects(openUdsDatagramSource({ path, bufferSize: 0, onBatch: () => {} }), RangeError);
    await assert.rejects(openUdsDatagramSource({ path, batchSize: 5000, onBatch: () => {} }), RangeError);
    assert.equal(existsSync(join(dir, 'never')), false);
  });
});

describe('Unix datagram source without the addon', () => {
  test('fails with a message that says it needs the native addon', async () => {
    const saved = process.env['KENNEL_DISABLE_NATIVE'];
    process.env['KENNEL_DISABLE_NATIVE'] = '1';
    try {
      await assert.rejects(
        openUdsDatagramSource({ path: '/tmp/kn-never.sock', onBatch: () => {} }),
        (err: Error & { code?: string }) => {
          assert.ok(err.message.includes('/tmp/kn-never.sock'), err.message);
          assert.ok(err.message.includes("the Unix datagram socket needs kennel's native addon: disabled by KENNEL_DISABLE_NATIVE=1"), err.message);
          assert.equal(err.code, 'ERR_KENNEL_NATIVE_UNAVAILABLE');
          return true;
        },
      );
    } finally {
      if (saved === undefined) delete process.env['KENNEL_DISABLE_NATIVE'];
      else process.env['KENNEL_DISABLE_NATIVE'] = saved;
    }
  });
});
