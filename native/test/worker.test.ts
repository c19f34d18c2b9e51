import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { openUdpDatagramSource, sendUnixDatagram } from '../lib/index.js';
import { native, needsNative, sendAllUnix, tempDir } from './helpers.js';

const fixture = new URL('./fixtures/worker.js', import.meta.url);

describe('the addon in worker threads', { skip: needsNative }, () => {
  let dir = '';
  let cleanup = () => {};
  before(() => ({ dir, cleanup } = tempDir()));
  after(() => cleanup());

  test('loads in two workers at once, and they can be terminated while datagrams pour in', async () => {
    const udp = createSocket('udp4');
    try {
      for (let round = 0; round < 3; round++) {
        const paths = [0, 1].map((i) => join(dir, `w${round}-${i}.sock`));
        const workers = paths.map((udsPath) => new Worker(fixture, { workerData: { mode: 'receive', udsPath } }));
        const ready = (await Promise.all(workers.map((w) => once(w, 'message')))).map(([m]) => m as { udpPort: number });
        const received = workers.map((w) => once(w, 'message'));
        for (let i = 0; i < 2; i++) {
          await sendAllUnix(paths[i]!, [Buffer.from(`uds${i}:1|c`)]);
          udp.send(`udp${i}:1|c`, ready[i]!.udpPort, '127.0.0.1');
        }
        assert.deepEqual(
          (await Promise.all(received)).map(([m]) => m),
          [{ received: true }, { received: true }],
        );
        // Keep both sockets busy while the workers are torn down.
        const flood = setInterval(() => {
          for (let i = 0; i < 2; i++) {
            for (let k = 0; k < 20; k++) udp.send('flood:1|c', ready[i]!.udpPort, '127.0.0.1');
            try {
              sendUnixDatagram(paths[i]!, [Buffer.from('flood:1|c'), Buffer.from('flood:2|c')]);
            } catch {
              // ECONNREFUSED once the worker's socket is closed
            }
          }
        }, 1);
        await new Promise((r) => setTimeout(r, 20));
        const codes = await Promise.all(workers.map((w) => w.terminate()));
        clearInterval(flood);
        assert.deepEqual(codes, [1, 1]);
        // The workers' cleanup closed their descriptors: nobody receives on the sockets any more,
        // and the UDP ports are free again.
        for (let i = 0; i < 2; i++) {
          assert.equal(native.binding!.probeUnixDatagram(paths[i]!), 'ECONNREFUSED');
          const again = await openUdpDatagramSource({ port: ready[i]!.udpPort, implementation: 'native', onBatch: () => {} });
          await again.close();
        }
      }
    } finally {
      udp.close();
    }
  });

  test('a batch callback that throws is an uncaught exception (the worker errors), not a crash', async () => {
    const udsPath = join(dir, 'throw.sock');
    const w = new Worker(fixture, { workerData: { mode: 'throw', udsPath } });
    // Both listeners up front: 'exit' can follow 'error' within the same tick.
    const failed = once(w, 'error');
    const exited = new Promise<number>((resolve) => w.once('exit', resolve)); // once() would reject on 'error'
    await once(w, 'message');
    await sendAllUnix(udsPath, [Buffer.from('a:1|c')]);
    const [err] = (await failed) as [Error];
    assert.equal(err.message, 'boom from onBatch');
    assert.equal(await exited, 1);
  });

  test('unref() lets a worker with open sources exit on its own', async () => {
    const udsPath = join(dir, 'unref.sock');
    const w = new Worker(fixture, { workerData: { mode: 'unref', udsPath } });
    const [code] = (await once(w, 'exit')) as [number];
    assert.equal(code, 0);
    assert.equal(native.binding!.probeUnixDatagram(udsPath), 'ECONNREFUSED');
  });
});
