import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { describe, test } from 'node:test';
import { openUdpDatagramSource } from '../lib/index.js';
import type { UdpDatagramSource } from '../lib/index.js';
import { Collector, makeDatagrams, needsNative } from './helpers.js';

/** Sends in small groups and waits for each, so a full receive buffer never drops datagrams. */
async function sendPaced(sock: Socket, port: number, host: string, datagrams: readonly Buffer[], c: Collector, group = 16) {
  for (let i = 0; i < datagrams.length; i += group) {
    for (const d of datagrams.slice(i, i + group)) sock.send(d, port, host);
    await c.waitFor(Math.min(i + group, datagrams.length));
  }
}

// The same suite against every reader (bufferutil's pattern): the addon reading on its own
// thread (the default), the addon reading on the event loop, and node:dgram.
const READERS = [
  { name: 'native, reader thread', implementation: 'native', readerThread: true },
  { name: 'native, event loop', implementation: 'native', readerThread: false },
  { name: 'dgram', implementation: 'dgram', readerThread: false },
] as const;
for (const { name, implementation, readerThread } of READERS) {
  const skip = implementation === 'native' ? needsNative : false;
  describe(`UDP source (${name})`, { skip }, () => {
    const open = (o: Partial<Parameters<typeof openUdpDatagramSource>[0]> & { onBatch: Collector['onBatch'] }) =>
      openUdpDatagramSource({ host: '127.0.0.1', port: 0, implementation, readerThread, ...o });

    test('delivers every datagram with its exact bytes', async () => {
      const c = new Collector();
      const src = await open({ onBatch: c.onBatch });
      const sock = createSocket('udp4');
      try {
        assert.equal(src.implementation, implementation);
        assert.equal(src.readerThread, readerThread);
        assert.equal(src.transport, 'udp');
        assert.equal(src.address, '127.0.0.1');
        assert.ok(src.port > 0);
        const sent = makeDatagrams(300, 1400, 7);
        await sendPaced(sock, src.port, '127.0.0.1', sent, c);
        assert.deepEqual(c.datagrams, sent);
        const stats = src.stats();
        assert.equal(stats.packets, sent.length);
        assert.equal(stats.bytes, sent.reduce((n, b) => n + b.length, 0));
        assert.equal(stats.batches, c.batchSizes.length);
        assert.equal(stats.readErrors, 0);
      } finally {
        sock.close();
        await src.close();
      }
    });

    test('keeps the first bufferSize bytes of a longer datagram and counts it as truncated', async () => {
      const c = new Collector();
      const src = await open({ bufferSize: 16, onBatch: c.onBatch });
      const sock = createSocket('udp4');
      try {
        const sent = [Buffer.from('a.long.metric.name:1|c|#tag:value'), Buffer.from('exactly16bytes:1'), Buffer.from('s:1|c')];
        await sendPaced(sock, src.port, '127.0.0.1', sent, c, 1);
        assert.deepEqual(c.datagrams, [sent[0]!.subarray(0, 16), sent[1], sent[2]]);
        assert.equal(c.truncated, 1);
        assert.equal(src.stats().truncated, 1);
        assert.equal(src.stats().bytes, 16 + 16 + 5);
      } finally {
        sock.close();
        await src.close();
      }
    });

    test('receives on IPv6 loopback', async (t) => {
      const c = new Collector();
      let src: UdpDatagramSource;
      try {
        src = await open({ host: '::1', onBatch: c.onBatch });
      } catch (err) {
        t.skip(`no IPv6 loopback here: ${(err as Error).message}`);
        return;
      }
      const sock = createSocket('udp6');
      try {
        await sendPaced(sock, src.port, '::1', [Buffer.from('v6:1|c')], c, 1);
        assert.equal(c.datagrams[0]!.toString(), 'v6:1|c');
      } finally {
        sock.close();
        await src.close();
      }
    });

    test('resolves a host name', async () => {
      const src = await open({ host: 'localhost', onBatch: () => {} });
      try {
        assert.match(src.address, /^(127\.0\.0\.1|::1)$/);
      } finally {
        await src.close();
      }
    });

    test('fails, naming the address and the cause, when the port is taken', async () => {
      const first = await open({ onBatch: () => {} });
      try {
        await assert.rejects(open({ port: first.port, onBatch: () => {} }), (err: Error & { code?: string }) => {
          assert.equal(err.code, 'EADDRINUSE');
          assert.ok(err.message.includes(`udp 127.0.0.1:${first.port}`), err.message);
          return true;
        });
      } finally {
        await first.close();
      }
    });

    test('frees the port on close', async () => {
      const first = await open({ onBatch: () => {} });
      const port = first.port;
      await first.close();
      await first.close(); // idempotent
      const again = await open({ port, onBatch: () => {} });
      assert.equal(again.port, port);
      await again.close();
    });

    test('honours rcvbuf (SO_RCVBUF)', async () => {
      const src = await open({ rcvbuf: 256 * 1024, onBatch: () => {} });
      try {
        assert.ok(src.receiveBufferSize() >= 256 * 1024, String(src.receiveBufferSize()));
      } finally {
        await src.close();
      }
    });

    test('rejects bad options', async () => {
      await assert.rejects(open({ bufferSize: -1, onBatch: () => {} }), RangeError);
      await assert.rejects(open({ rcvbuf: 1.5, onBatch: () => {} }), RangeError);
    });
  });
}

describe('UDP source (native only)', { skip: needsNative }, () => {
  test('reads a queue of datagrams in batches of up to batchSize (event-loop reader)', async () => {
    const c = new Collector();
    const src = await openUdpDatagramSource({ port: 0, implementation: 'native', readerThread: false, batchSize: 8, onBatch: c.onBatch });
    try {
      const sent = makeDatagrams(40, 100, 3);
      // A child process sends while spawnSync blocks this thread's loop, so all 40 are queued in
      // the kernel before the reader gets its first turn.
      const script = `const s = require('node:dgram').createSocket('udp4'); const d = ${JSON.stringify(sent.map((b) => b.toString('base64')))};
        let n = 0; for (const x of d) s.send(Buffer.from(x, 'base64'), ${src.port}, '127.0.0.1', () => { if (++n === d.length) s.close(); });`;
      const r = spawnSync(process.execPath, ['-e', script], { stdio: 'inherit' });
      assert.equal(r.status, 0);
      await c.waitFor(sent.length);
      assert.deepEqual(c.datagrams, sent);
      assert.ok(Math.max(...c.batchSizes) > 1, `batches: ${c.batchSizes.join(',')}`);
      assert.ok(Math.max(...c.batchSizes) <= 8, `batches: ${c.batchSizes.join(',')}`);
    } finally {
      await src.close();
    }
  });

  test('shares a port between sockets with reusePort', async () => {
    const a = await openUdpDatagramSource({ port: 0, implementation: 'native', reusePort: true, onBatch: () => {} });
    const b = await openUdpDatagramSource({ port: a.port, implementation: 'native', reusePort: true, onBatch: () => {} });
    assert.equal(a.port, b.port);
    await a.close();
    await b.close();
  });
});

describe('UDP source selection', () => {
  test("'auto' falls back to node:dgram with one warning line when the addon is switched off", async () => {
    const saved = process.env['KENNEL_DISABLE_NATIVE'];
    process.env['KENNEL_DISABLE_NATIVE'] = '1';
    const lines: string[] = [];
    try {
      const a = await openUdpDatagramSource({ port: 0, onBatch: () => {}, onWarning: (l) => lines.push(l) });
      const b = await openUdpDatagramSource({ port: 0, onBatch: () => {}, onWarning: (l) => lines.push(l) });
      assert.equal(a.implementation, 'dgram');
      assert.equal(b.implementation, 'dgram');
      assert.equal(lines.length, 1, 'warned once');
      assert.ok(!lines[0]!.includes('\n'));
      assert.match(lines[0]!, /KENNEL_DISABLE_NATIVE=1.*node:dgram/);
      await a.close();
      await b.close();
      await assert.rejects(
        openUdpDatagramSource({ port: 0, implementation: 'native', onBatch: () => {} }),
        /needs kennel's native addon: disabled by KENNEL_DISABLE_NATIVE=1/,
      );
    } finally {
      if (saved === undefined) delete process.env['KENNEL_DISABLE_NATIVE'];
      else process.env['KENNEL_DISABLE_NATIVE'] = saved;
    }
  });

  test("'auto' uses the addon where it loads", { skip: needsNative }, async () => {
    const src = await openUdpDatagramSource({ port: 0, onBatch: () => {} });
    assert.equal(src.implementation, 'native');
    await src.close();
  });
});
