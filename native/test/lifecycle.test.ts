import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { needsNative } from './helpers.js';

const index = JSON.stringify(new URL('../lib/index.js', import.meta.url).href);

/** Runs an ES module snippet in a fresh Node process; returns its status, signal and output. */
function run(source: string, flags: string[] = []) {
  return spawnSync(process.execPath, [...flags, '--input-type=module', '-e', source], { encoding: 'utf8', timeout: 20_000 });
}

describe('reader lifecycle in a whole process', { skip: needsNative }, () => {
  test('process.exit() inside a batch callback, with sources still open, exits cleanly', () => {
    const r = run(`
      import { openUdsDatagramSource, openUdpDatagramSource, sendUnixDatagram } from ${index};
      import { createSocket } from 'node:dgram';
      const path = '/tmp/kn-exit-' + process.pid + '.sock';
      const udp = await openUdpDatagramSource({ port: 0, implementation: 'native', onBatch: () => {} });
      await openUdsDatagramSource({ path, onBatch: (buf, n) => { if (n > 0) process.exit(0); } });
      const s = createSocket('udp4');
      setInterval(() => s.send('x:1|c', udp.port, '127.0.0.1'), 1);
      setTimeout(() => sendUnixDatagram(path, Buffer.from('bye:1|c')), 20);
    `);
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.status, 0, r.stderr);
  });

  test('open/close cycles with garbage collection between them do not crash, and an open reader survives GC', () => {
    const r = run(
      `
      import { openUdpDatagramSource } from ${index};
      import { createSocket } from 'node:dgram';
      for (let round = 0; round < 20; round++) {
        const sources = [];
        for (let i = 0; i < 20; i++) sources.push(await openUdpDatagramSource({ port: 0, implementation: 'native', onBatch: () => {} }));
        await Promise.all(sources.map((s) => s.close()));
        globalThis.gc();
      }
      // An open source that JavaScript no longer references keeps reading.
      let got = 0;
      const port = (await openUdpDatagramSource({ port: 0, implementation: 'native', onBatch: (b, n) => { got += n; } })).port;
      for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 5)); }
      const s = createSocket('udp4');
      s.send('still:1|c', port, '127.0.0.1');
      const t0 = Date.now();
      while (got === 0 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 5));
      console.log(got);
      process.exit(got === 1 ? 0 : 3);
    `,
      ['--expose-gc'],
    );
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});
