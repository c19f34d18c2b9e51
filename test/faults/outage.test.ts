/**
 * The intake answers 503 for `SIZES.outageMs` (15 s in CI, 2 minutes with KENNEL_FAULT_SCALE=full),
 * then recovers, while a client keeps sending:
 * - with the default bounds every point sent meanwhile arrives exactly once;
 * - with a retry queue smaller than the outage, and again with a small disk spill behind it, what
 *   is missing is exactly what the forwarder's counters say it dropped.
 * Three kennels run at once, each against its own fake intake.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeIntake } from '@kennel/intake';
import {
  API_KEY,
  CounterLoad,
  OnePointGauges,
  SIZES,
  allCases,
  counterTotals,
  duplicates,
  launch,
  pointsOf,
  sleep,
  transactions,
  waitUntil,
} from './support.js';
import type { FaultKennel, Status } from './support.js';

/**
 * The intake answers 503 from now until the outage has lasted `ms` from its first refused
 * payload and `more` holds (the bounds were passed); then it recovers. Meanwhile kennel's health
 * stays PASS: an endpoint that fails is no stuck pipeline (the forwarder keeps retrying).
 */
async function outage(intake: FakeIntake, kennel: FaultKennel, ms: number, more: (s: Status) => boolean): Promise<void> {
  intake.failFor(503, 24 * 3600 * 1000);
  await waitUntil(() => (intake.counts().byStatus['503'] ?? 0) >= 1, 250);
  const start = Date.now();
  await waitUntil(async () => {
    assert.deepEqual((await kennel.health()).Unhealthy, [], 'healthy during the outage');
    return Date.now() - start >= ms && more(await kennel.status());
  }, 250);
  intake.clearFaults();
}

/** Waits for the forwarder to be empty (the load has stopped), flushes the closed buckets, stops with SIGTERM (the open bucket too). */
async function settleAndStop(kennel: FaultKennel): Promise<Status> {
  await waitUntil(async () => (await kennel.status()).forwarderStats.Pending === 0, 250);
  // The closed buckets now, then SIGTERM flushes the open one: the final flush spans at most two
  // buckets, so a one-point gauge series (sent in every other bucket) still has one point.
  assert.equal((await kennel.flush()).status, 200);
  assert.equal(await kennel.stop('SIGTERM'), 0, kennel.proc.stderr());
  const last = kennel.stoppedLine();
  assert.ok(last, kennel.proc.stderr());
  return last;
}

async function exactlyOnceWithDefaultBounds(): Promise<string> {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  // The agent's backoff (2 s doubling to 64 s) here: a forwarder waiting out its backoff through
  // the whole outage is no stuck pipeline, and `outage` checks health stays PASS meanwhile.
  const kennel = await launch({ intake, env: { DD_FORWARDER_BACKOFF_BASE: '2', DD_FORWARDER_BACKOFF_MAX: '64' } });
  const load = new CounterLoad(kennel.socket, 'fault.outage.hits', 50, 100).start();
  try {
    await outage(intake, kennel, SIZES.outageMs, (s) => (transactions(s).HTTPErrorsByCode['503'] ?? 0) >= 1);
    // A few rounds after the recovery, then the last bucket is flushed.
    await waitUntil(() => (intake.counts().byStatus['202'] ?? 0) >= 1, 250);
    await sleep(1000);
    await load.stop();
    const last = await settleAndStop(kennel);

    const points = pointsOf(intake.store.series(), 'fault.outage.hits');
    assert.deepEqual(duplicates(points), [], 'every (series, bucket) point arrives once');
    const totals = counterTotals(points);
    for (let i = 0; i < load.contexts; i++) assert.equal(totals.get(String(i)), load.sent[i], `context ${i}: every increment counted once`);
    assert.equal(last.aggregatorStats.DogstatsdMetricSample, load.total);
    const t = last.forwarderStats.Transactions;
    assert.equal(t.Dropped, 0);
    assert.ok(t.HTTPErrorsByCode['503'] >= 1 && t.Errors >= 1 && t.Retried >= 1, JSON.stringify(t));
    assert.equal(t.SuccessByEndpoint.series_v2, intake.counts().byStatus['202'], 'each payload stored once');
    return `default bounds and backoff: ${load.total} increments over ${load.contexts} contexts, ${points.size} points each arrived once; ${t.HTTPErrorsByCode['503']} × 503, ${t.Retried} retried, 0 dropped`;
  } finally {
    await load.stopQuietly();
    await kennel.stop('SIGKILL');
    await intake.close();
  }
}

/**
 * One point per payload (see OnePointGauges), so transactions count points: the retry queue (and
 * the disk) hold far fewer than the outage brings, and `sent − arrived` must equal `Dropped`.
 */
async function boundedOutage(disk: boolean): Promise<string> {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const kennel = await launch({
    intake,
    env: {
      DD_SERIALIZER_MAX_SERIES_POINTS_PER_PAYLOAD: '1',
      // About 20 one-point payloads; a retry file of half of them is about 4 KB.
      DD_FORWARDER_RETRY_QUEUE_PAYLOADS_MAX_SIZE: '1500',
      ...(disk ? { DD_FORWARDER_STORAGE_MAX_SIZE_IN_BYTES: '10000' } : {}),
    },
  });
  const name = disk ? 'fault.outage.disk' : 'fault.outage.memory';
  const load = new OnePointGauges(kennel.socket, name, 100).start();
  try {
    await outage(intake, kennel, SIZES.outageMs, (s) =>
      disk ? (s.forwarderStats.FileStorage?.FilesDropped ?? 0) >= 1 : transactions(s).RetryQueueDropped >= 1,
    );
    await waitUntil(() => (intake.counts().byStatus['202'] ?? 0) >= 1, 250);
    await load.stop();
    const last = await settleAndStop(kennel);

    const points = pointsOf(intake.store.series(), name);
    assert.deepEqual(duplicates(points), [], 'no point arrives twice');
    for (const p of points.values()) {
      assert.ok(load.expected.has(`${p.ctx}|${p.ts}`), `a point that was sent: ${p.ctx} ${p.ts}`);
      assert.deepEqual(p.values, [p.ts], 'its value is its bucket');
    }
    const t = last.forwarderStats.Transactions;
    const fs = last.forwarderStats.FileStorage as Record<string, number> | null;
    const missing = load.expected.size - points.size;
    assert.ok(missing > 0, 'the bounds were smaller than the outage');
    assert.equal(last.aggregatorStats.EncoderItemsDropped, 0, 'every series fit its payload');
    assert.equal(t.Dropped, missing, `Dropped counts exactly the ${missing} points that did not arrive`);
    assert.equal(t.DroppedByEndpoint.series_v2, missing);
    assert.equal(t.SuccessByEndpoint.series_v2, points.size);
    if (disk) {
      assert.ok(fs && fs.FilesDropped! >= 1 && fs.FilesRead! >= 1, JSON.stringify(fs));
      assert.equal(t.RetryQueueDropped + fs!.TransactionsDropped!, missing, 'queue drops + disk drops = what is missing');
      assert.equal(fs!.CurrentSizeInBytes, 0);
    } else {
      assert.equal(fs, null);
      assert.equal(t.RetryQueueDropped, missing, 'the retry queue bound dropped them');
    }
    return (
      `${disk ? 'queue 1500 B + disk 10000 B' : 'queue 1500 B'}: ${load.expected.size} points sent, ${points.size} arrived once, ` +
      `${missing} missing = Dropped ${t.Dropped} (RetryQueueDropped ${t.RetryQueueDropped}` +
      (disk ? `, disk TransactionsDropped ${fs!.TransactionsDropped} in ${fs!.FilesDropped} files dropped, ${fs!.FilesRead} files read back` : '') +
      ')'
    );
  } finally {
    await load.stop();
    await kennel.stop('SIGKILL');
    await intake.close();
  }
}

test(`the intake answers 503 for ${SIZES.outageMs / 1000} s, then recovers`, { timeout: SIZES.outageMs * 3 + 180_000 }, async (t) => {
  await allCases(t, {
    'default bounds': exactlyOnceWithDefaultBounds,
    'retry queue smaller than the outage': () => boundedOutage(false),
    'retry queue and disk smaller than the outage': () => boundedOutage(true),
  });
});
