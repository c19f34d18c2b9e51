/**
 * `kennel health` turns unhealthy when a pipeline is stuck (no progress for 15 s while input
 * waits), as the agent's health does, and healthy again once it moves.
 *
 * The stuck condition is made with kennel's test-only hook `KENNEL_TEST_STALL_SHARD_FILE`: while
 * that file exists, the shard's first flush blocks its worker thread, as a shard stuck in a loop
 * would (kennel has no other way to stop a shard from outside). The flush is started with
 * `POST /agent/flush` while a client keeps sending; batches queue behind it. The test removes the
 * file once it saw the FAIL, so nothing here depends on how long anything takes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeIntake } from '@kennel/intake';
import { API_KEY, CounterLoad, counterTotals, duplicates, launch, pointsOf, runKennel, waitUntil } from './support.js';

test('kennel health fails while the aggregator is stuck with input waiting, and passes once it moves', { timeout: 180_000 }, async (t) => {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const stall = join(mkdtempSync(join(tmpdir(), 'kennel-stall-')), 'stuck');
  writeFileSync(stall, '');
  // A queue deep enough for the batches that wait behind the stuck shard (1,024 batches: none dropped).
  const kennel = await launch({ intake, env: { KENNEL_TEST_STALL_SHARD_FILE: stall, DD_DOGSTATSD_QUEUE_SIZE: '16384' } });
  const load = new CounterLoad(kennel.socket, 'fault.health.hits', 20, 100).start();
  const cli = { DD_CMD_PORT: String(kennel.cmdPort), DD_RUN_PATH: kennel.runPath };
  try {
    const pass = await runKennel(['health'], cli);
    assert.equal(pass.code, 0, pass.stdout + pass.stderr);
    assert.match(pass.stdout, /Agent health: PASS/);

    // The stuck flush: it does not come back while samples keep arriving.
    const stuck = kennel.flush();
    await waitUntil(async () => (await kennel.health()).Unhealthy.includes('aggregator'), 250);
    const fail = await runKennel(['health'], cli);
    assert.equal(fail.code, 1, 'kennel health exits 1');
    assert.match(fail.stdout, /Agent health: FAIL/);
    assert.match(fail.stdout, /unhealthy components ===\naggregator/);
    // Input keeps coming and waits behind the stuck shard; the aggregator stays unhealthy.
    const routed = (await kennel.status()).aggregatorStats.DogstatsdMetricSample as number;
    await waitUntil(async () => (await kennel.status()).aggregatorStats.DogstatsdMetricSample >= routed + 200, 100);
    assert.ok((await kennel.health()).Unhealthy.includes('aggregator'));
    const during = await kennel.status();
    assert.ok(!(await kennel.health()).Unhealthy.includes('forwarder'), 'the forwarder is not stuck');

    // It moves again: healthy, and nothing received meanwhile was lost.
    rmSync(stall);
    assert.equal((await stuck).status, 200);
    await waitUntil(async () => (await kennel.health()).Unhealthy.length === 0, 250);
    const again = await runKennel(['health'], cli);
    assert.equal(again.code, 0, again.stdout);
    await load.stop();
    // SIGTERM flushes every bucket, the open one too.
    assert.equal(await kennel.stop('SIGTERM'), 0, kennel.proc.stderr());
    assert.equal(kennel.stoppedLine()?.aggregatorStats.QueueDrops, 0, 'no batch was dropped behind the stuck shard');
    const points = pointsOf(intake.store.series(), 'fault.health.hits');
    assert.deepEqual(duplicates(points), []);
    const totals = counterTotals(points);
    for (let i = 0; i < load.contexts; i++) assert.equal(totals.get(String(i)), load.sent[i], `context ${i}`);
    t.diagnostic(`aggregator stuck with ${during.aggregatorStats.DogstatsdMetricSample} samples routed: kennel health FAIL (exit 1, "aggregator"), then PASS; all ${load.total} increments arrived once`);
  } finally {
    rmSync(stall, { force: true });
    await load.stopQuietly();
    await kennel.stop('SIGKILL');
    await intake.close();
  }
});
