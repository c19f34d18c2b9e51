import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogChannel } from '../src/source/channel.js';
import type { LogMessage } from '../src/types.js';

const m = (i: number): LogMessage => ({ content: `m${i}`, status: 'info', service: '', source: '', tags: [], timestamp: 0, origin: { sourceId: 's', offset: i } });

test('push reports the high-water mark and writable resolves once the consumer caught up', async () => {
  const ch = new LogChannel({ highWaterMark: 3 });
  assert.equal(ch.push(m(0)), true);
  assert.equal(ch.push(m(1)), true);
  assert.equal(ch.push(m(2)), false);
  assert.equal(ch.push(m(3)), false, 'past the mark a message is still taken');
  let woke = false;
  const w = ch.writable().then(() => (woke = true));
  assert.equal((await ch.receive())!.origin.offset, 0);
  await Promise.resolve();
  assert.equal(woke, false, 'still at the mark with 3 queued');
  assert.deepEqual((await ch.receiveBatch(2)).map((x) => x.origin.offset), [1, 2]);
  await w;
  assert.equal(woke, true);
  assert.equal(ch.length, 1);
});

test('closing lets the consumer drain, then reads end', async () => {
  const ch = new LogChannel();
  ch.push(m(0));
  ch.push(m(1));
  ch.close();
  const got: number[] = [];
  for await (const x of ch) got.push(x.origin.offset!);
  assert.deepEqual(got, [0, 1]);
  assert.equal(await ch.receive(), undefined);
  assert.deepEqual(await ch.receiveBatch(10), []);
  assert.throws(() => ch.push(m(2)), /push on a closed LogChannel/);
});

test('a waiting consumer wakes on push', async () => {
  const ch = new LogChannel();
  const r = ch.receive();
  ch.push(m(7));
  assert.equal((await r)!.origin.offset, 7);
});
