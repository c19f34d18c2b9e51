/**
 * Back-pressure instead of drops: while a shard is stuck, kennel stops taking datagrams (its
 * reader thread fills its ring, then the Unix socket's queue fills and the client waits), as the
 * agent's listeners block on a full packet channel. Nothing the client sent is dropped.
 *
 * The shard is stuck with kennel's test-only hook `KENNEL_TEST_STALL_SHARD_FILE` (see
 * health.test.ts). The bounds are small (a 16-batch shard queue of 8,192 samples each, a 2 MiB
 * ring) so that the load (800,000 lines) is far more than kennel can hold while stuck (about
 * 350,000 with the socket's queue): without back-pressure, the excess would be `QueueDrops`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeIntake } from '@kennel/intake';
import { API_KEY, counterTotals, duplicates, launch, pointsOf, sendUds, waitUntil } from './support.js';

test('a stuck shard pauses the sources: the Unix socket client waits, and every line arrives once, none dropped', { timeout: 180_000 }, async (t) => {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const stall = join(mkdtempSync(join(tmpdir(), 'kennel-stall-')), 'stuck');
  writeFileSync(stall, '');
  const kennel = await launch({
    intake,
    env: { KENNEL_TEST_STALL_SHARD_FILE: stall, DD_DOGSTATSD_QUEUE_SIZE: '256', DD_DOGSTATSD_READER_RING_SIZE: String(2 * 1024 * 1024) },
  });
  const contexts = 100;
  const rounds = 8000;
  const datagram = Buffer.from(Array.from({ length: contexts }, (_, j) => `fault.bp.hits:1|c|#ctx:${j}`).join('\n'));
  try {
    // The stuck flush blocks the shard's worker; batches sent after it wait behind it.
    const stuck = kennel.flush();
    let sent = 0;
    const sending = (async () => {
      for (let r = 0; r < rounds; r += 50) {
        sent += await sendUds(kennel.socket, Array.from({ length: 50 }, () => datagram));
      }
    })();
    // The reader thread found its ring full: the sources were paused and the socket's queue is
    // what fills now, so the client is the one waiting.
    await waitUntil(async () => {
      const s = await kennel.status();
      return (s.aggregatorStats.SourcePauses as number) >= 1 && (s.dogstatsdStats.UdsReaderRingFull as number) >= 1;
    }, 50);
    const during = await kennel.status();
    assert.ok(sent < rounds, `the client is held back (${sent} of ${rounds} datagrams sent)`);
    rmSync(stall);
    assert.equal((await stuck).status, 200);
    await sending;
    assert.equal(sent, rounds);
    assert.equal(await kennel.stop('SIGTERM'), 0, kennel.proc.stderr());
    const last = kennel.stoppedLine();
    assert.ok(last, kennel.proc.stderr());
    assert.equal(last.aggregatorStats.QueueDrops, 0, 'nothing dropped at the shard queue');
    assert.equal(last.dogstatsdStats.UdsPackets, rounds);
    const points = pointsOf(intake.store.series(), 'fault.bp.hits');
    assert.deepEqual(duplicates(points), []);
    const totals = counterTotals(points);
    for (let j = 0; j < contexts; j++) assert.equal(totals.get(String(j)), rounds, `context ${j}`);
    t.diagnostic(
      `shard stuck: sources paused ${String(last.aggregatorStats.SourcePauses)} times, the reader's ring full ${String(during.dogstatsdStats.UdsReaderRingFull)} times, ` +
        `the client held at ${String(during.dogstatsdStats.UdsPackets)} datagrams read; then all ${rounds * contexts} lines arrived once, QueueDrops 0`,
    );
  } finally {
    rmSync(stall, { force: true });
    await kennel.stop('SIGKILL');
    await intake.close();
  }
});
