import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openUdsDatagramSource } from '../lib/index.js';
import type { NativeThreadedDatagramReader } from '../lib/index.js';
import { Collector, makeDatagrams, native, needsNative, sendAllUnix, tempDir } from './helpers.js';

const libIndex = fileURLToPath(new URL('../lib/index.js', import.meta.url));

/**
 * Runs a child process that sends `count` datagrams of `size` bytes to the Unix socket at `path`,
 * retrying while the receiver's queue is full, and blocks this thread until the child is done:
 * this thread's event loop does not turn meanwhile, as in a long garbage collection.
 */
function sendFromChildWhileBlocked(path: string, count: number, size: number): void {
  const script = `
    import { sendUnixDatagram } from ${JSON.stringify(libIndex)};
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const d = [];
    for (let i = 0; i < ${count}; i++) d.push(Buffer.alloc(${size}, 97 + (i % 26)));
    let i = 0;
    while (i < d.length) {
      i += sendUnixDatagram(${JSON.stringify(path)}, d.slice(i, i + 64));
      if (i < d.length) Atomics.wait(pause, 0, 0, 1);
    }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
  assert.equal(r.status, 0, 'the sender finished');
}

function openThreaded(path: string, c: Collector): NativeThreadedDatagramReader {
  const b = native.binding!;
  const fd = b.openUnixDatagram(path);
  return new b.ThreadedDatagramReader(fd, 8192, 32, 1 << 20, 32, c.onBatch);
}

function closed(r: NativeThreadedDatagramReader): Promise<void> {
  return new Promise((resolve) => r.close(resolve));
}

describe('the reader thread', { skip: needsNative }, () => {
  test('keeps reading while the JavaScript thread is blocked: far more datagrams than the socket queue holds all arrive', async () => {
    const { dir, cleanup } = tempDir();
    const c = new Collector();
    const path = join(dir, 'dsd.socket');
    const src = await openUdsDatagramSource({ path, onBatch: c.onBatch });
    try {
      assert.equal(src.readerThread, true, 'the default');
      // The queue of a Unix datagram socket holds net.unix.max_dgram_qlen datagrams (10 to 512);
      // 5,000 can only get through while this thread is blocked if another thread reads them.
      sendFromChildWhileBlocked(path, 5000, 600);
      await c.waitFor(5000);
      assert.equal(c.datagrams.length, 5000);
      for (let i = 0; i < 5000; i++) {
        assert.equal(c.datagrams[i]!.length, 600);
        assert.equal(c.datagrams[i]![0], 97 + (i % 26), `datagram ${i} in order`);
      }
      // 3 MB in 1 MiB slabs: the thread packed them instead of one callback per recvmmsg call.
      assert.ok(c.batchSizes.length < 5000 / 32, `callbacks: ${c.batchSizes.length}`);
      const stats = src.stats();
      assert.equal(stats.packets, 5000);
      assert.equal(stats.bytes, 5000 * 600);
      assert.ok((stats.maxReadySlabs ?? 0) >= 2, 'slabs waited for the blocked thread');
    } finally {
      await src.close();
      cleanup();
    }
  });

  test('counts the ring filling up, and loses nothing over UDS when it does (the sender waits)', async () => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, 'dsd.socket');
    const c = new Collector();
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const b = native.binding!;
    const fd = b.openUnixDatagram(path);
    // Two slabs of 8 KiB, and a callback that takes 2 ms a slab: the ring is full most of the time.
    const r = new b.ThreadedDatagramReader(fd, 8192, 32, 8192, 2, (buf, count, spans, truncated, errors) => {
      c.onBatch(buf, count, spans, truncated, errors);
      Atomics.wait(pause, 0, 0, 2);
    });
    try {
      const sent = makeDatagrams(2000, 1000, 9);
      await sendAllUnix(path, sent, 60_000);
      await c.waitFor(sent.length, 60_000);
      assert.deepEqual(c.datagrams, sent);
      const stats = r.stats();
      assert.ok(stats.ringFullWaits >= 1, `ringFullWaits ${stats.ringFullWaits}`);
      assert.equal(stats.maxReadySlabs, 2);
      assert.equal(stats.packets, sent.length);
    } finally {
      await closed(r);
      cleanup();
    }
  });

  test('close() delivers every datagram the thread already read before the descriptor closes', async () => {
    const { dir, cleanup } = tempDir();
    const c = new Collector();
    const path = join(dir, 'dsd.socket');
    const r = openThreaded(path, c);
    try {
      const sent = makeDatagrams(300, 2000, 11);
      await sendAllUnix(path, sent);
      // Wait (without turning the event loop) until the thread has read every datagram...
      while (r.stats().readPackets < sent.length) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      const before = c.datagrams.length;
      // ...then close: what it read and JavaScript had not seen yet is delivered, not dropped.
      await closed(r);
      assert.ok(before < sent.length, 'some datagrams were still waiting when close() was called');
      assert.deepEqual(c.datagrams, sent);
      assert.equal(r.closed, true);
      assert.equal(r.fd, -1);
    } finally {
      cleanup();
    }
  });

  test('close() first reads what the socket still holds: datagrams sent just before close() are not lost', async () => {
    const { dir, cleanup } = tempDir();
    try {
      for (let round = 0; round < 20; round++) {
        const path = join(dir, `dsd-${round}.socket`);
        const c = new Collector();
        const r = openThreaded(path, c);
        const sent = makeDatagrams(8, 1000, round + 1);
        // Synchronously, so the reader thread may not have read any of them when close() begins.
        assert.equal(native.binding!.sendUnixDatagram(path, sent), sent.length);
        await closed(r);
        assert.deepEqual(c.datagrams, sent, `round ${round}`);
      }
    } finally {
      cleanup();
    }
  });

  test('pause() pushes back: the ring, then the socket queue fill and the sender is refused; resume() delivers everything in order', async () => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, 'dsd.socket');
    const c = new Collector();
    const b = native.binding!;
    const fd = b.openUnixDatagram(path);
    const r = new b.ThreadedDatagramReader(fd, 8192, 32, 8192, 2, c.onBatch);
    try {
      r.pause();
      const sent: Buffer[] = [];
      // Two slabs of 8 KiB hold 16 datagrams of 1,000 B; then the socket's queue fills.
      for (let i = 0; i < 100_000; i++) {
        const d = Buffer.alloc(1000, 97 + (i % 26));
        if (b.sendUnixDatagram(path, d) === 0) break;
        sent.push(d);
        if (i % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
      }
      assert.ok(sent.length < 100_000, 'the sender was refused while paused');
      assert.equal(c.datagrams.length, 0, 'nothing delivered while paused');
      r.resume();
      await c.waitFor(sent.length);
      assert.deepEqual(c.datagrams, sent);
      assert.equal(r.stats().pauses, 1);
    } finally {
      await closed(r);
      cleanup();
    }
  });

  test('the event-loop reader pauses and resumes too', async () => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, 'dsd.socket');
    const c = new Collector();
    const src = await openUdsDatagramSource({ path, readerThread: false, onBatch: c.onBatch });
    try {
      src.pause();
      const sent: Buffer[] = [];
      for (let i = 0; i < 100_000; i++) {
        const d = Buffer.alloc(500, 65 + (i % 26));
        if (native.binding!.sendUnixDatagram(path, d) === 0) break;
        sent.push(d);
        if (i % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
      }
      assert.ok(sent.length < 100_000, 'the sender was refused while paused');
      assert.equal(c.datagrams.length, 0);
      src.resume();
      await c.waitFor(sent.length);
      assert.deepEqual(c.datagrams, sent);
    } finally {
      await src.close();
      cleanup();
    }
  });

  test('a slab transferred away during the callback is replaced; later datagrams arrive intact', async () => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, 'dsd.socket');
    const c = new Collector();
    let transferred = 0;
    const b = native.binding!;
    const fd = b.openUnixDatagram(path);
    const r = new b.ThreadedDatagramReader(fd, 8192, 32, 8192, 2, (buf, count, spans, truncated, errors) => {
      c.onBatch(buf, count, spans, truncated, errors);
      if (transferred === 0) {
        const ab = buf.buffer as ArrayBuffer;
        structuredClone(ab, { transfer: [ab] });
        transferred++;
        assert.equal(buf.length, 0, 'detached');
      }
    });
    try {
      const first = makeDatagrams(1, 500, 3);
      await sendAllUnix(path, first);
      await c.waitFor(1);
      const rest = makeDatagrams(200, 1500, 5);
      await sendAllUnix(path, rest);
      await c.waitFor(201);
      assert.deepEqual(c.datagrams, [...first, ...rest]);
      assert.equal(r.stats().replacedSlabs, 1);
    } finally {
      await closed(r);
      cleanup();
    }
  });

  test('rejects a slab smaller than bufferSize and a ring of fewer than two slabs', () => {
    const b = native.binding!;
    assert.throws(() => new b.ThreadedDatagramReader(0, 8192, 32, 4096, 4, () => {}), RangeError);
    assert.throws(() => new b.ThreadedDatagramReader(0, 8192, 32, 8192, 1, () => {}), RangeError);
  });
});
