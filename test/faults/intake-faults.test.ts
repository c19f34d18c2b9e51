/**
 * The intake misbehaves while a client keeps sending, each fault against its own kennel and fake
 * intake, all at once:
 * - slow: every answer takes 5 s (under `forwarder_timeout`, so nothing is sent twice);
 * - refused: the intake stops listening, then comes back on the same port;
 * - reset: connections are reset mid-body;
 * - 429 storm: retried, so everything arrives exactly once;
 * - 413 storm: dropped (the agent drops 413), so what is missing is exactly `Dropped`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeIntake } from '@kennel/intake';
import {
  API_KEY,
  CounterLoad,
  OnePointGauges,
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

async function finish(kennel: FaultKennel): Promise<Status> {
  await waitUntil(async () => (await kennel.status()).forwarderStats.Pending === 0, 250);
  // The closed buckets now, then SIGTERM flushes the open one: the final flush spans at most two
  // buckets, so a one-point gauge series (sent in every other bucket) still has one point.
  assert.equal((await kennel.flush()).status, 200);
  assert.equal(await kennel.stop('SIGTERM'), 0, kennel.proc.stderr());
  const last = kennel.stoppedLine();
  assert.ok(last, kennel.proc.stderr());
  return last;
}

/**
 * A counter load runs while `fault` acts (it resolves once the fault was seen and got over);
 * afterwards every increment arrived exactly once and nothing was dropped.
 */
async function retriedFault(
  name: string,
  fault: (intake: FakeIntake, kennel: FaultKennel) => Promise<void>,
  check: (t: Status, intake: FakeIntake) => void,
): Promise<string> {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const kennel = await launch({ intake });
  const metric = `fault.intake.${name}`;
  const load = new CounterLoad(kennel.socket, metric, 50, 100).start();
  try {
    await fault(intake, kennel);
    await load.stop();
    const last = await finish(kennel);
    const points = pointsOf(intake.store.series(), metric);
    assert.deepEqual(duplicates(points), [], `${name}: every point arrives once`);
    const totals = counterTotals(points);
    for (let i = 0; i < load.contexts; i++) assert.equal(totals.get(String(i)), load.sent[i], `${name}: context ${i}`);
    const t = last.forwarderStats.Transactions;
    assert.equal(t.Dropped, 0, `${name}: nothing dropped`);
    check(t, intake);
    return `${name}: ${load.total} increments, ${points.size} points once each; Errors ${t.Errors} (ConnectionErrors ${t.ErrorsByType.ConnectionErrors}), HTTPErrorsByCode ${JSON.stringify(t.HTTPErrorsByCode)}, Retried ${t.Retried}, Dropped 0`;
  } finally {
    await load.stopQuietly();
    await kennel.stop('SIGKILL');
    await intake.close();
  }
}

const slow = () =>
  retriedFault(
    'slow',
    async (intake, kennel) => {
      intake.delayResponses(5000);
      // Two flushes' payloads answered slowly.
      await waitUntil(() => (intake.counts().byStatus['202'] ?? 0) >= 2, 250);
      await waitUntil(async () => (await kennel.status()).forwarderStats.InFlight === 0, 250);
    },
    (t, intake) => {
      assert.equal(t.Errors, 0, 'a 5 s answer is no error (forwarder_timeout is 20 s)');
      assert.equal(t.SuccessByEndpoint.series_v2, intake.counts().byStatus['202']);
    },
  );

const refused = () =>
  retriedFault(
    'refused',
    async (intake, kennel) => {
      await intake.stopListening();
      await waitUntil(async () => transactions(await kennel.status()).ErrorsByType.ConnectionErrors >= 2, 250);
      await intake.resumeListening();
      await waitUntil(() => (intake.counts().byStatus['202'] ?? 0) >= 1, 250);
      await sleep(500);
    },
    (t) => assert.ok(t.ErrorsByType.ConnectionErrors >= 2 && t.Retried >= 1, JSON.stringify(t)),
  );

const reset = () =>
  retriedFault(
    'reset',
    async (intake, kennel) => {
      intake.resetNext(3, { afterBytes: 16 });
      await waitUntil(() => (intake.counts().byOutcome.reset ?? 0) >= 3, 250);
      await waitUntil(async () => transactions(await kennel.status()).Errors >= 3, 250);
      await waitUntil(() => (intake.counts().byStatus['202'] ?? 0) >= 1, 250);
    },
    (t, intake) => {
      assert.equal(intake.counts().byOutcome.reset, 3);
      assert.ok(t.Errors >= 3 && t.Retried >= 1, JSON.stringify(t));
    },
  );

const storm429 = () =>
  retriedFault(
    '429',
    async (intake, kennel) => {
      intake.failNext(429, 4);
      await waitUntil(async () => (transactions(await kennel.status()).HTTPErrorsByCode['429'] ?? 0) >= 4, 250);
      await waitUntil(() => (intake.counts().byStatus['202'] ?? 0) >= 1, 250);
    },
    (t) => {
      assert.equal(t.HTTPErrorsByCode['429'], 4);
      assert.ok(t.Retried >= 1);
    },
  );

/** 413 is dropped, never retried: with one point per payload, `Dropped` = the 413s = the points missing. */
async function storm413(): Promise<string> {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const kennel = await launch({ intake, env: { DD_SERIALIZER_MAX_SERIES_POINTS_PER_PAYLOAD: '1' } });
  const name = 'fault.intake.413';
  const load = new OnePointGauges(kennel.socket, name, 20).start();
  try {
    intake.failNext(413, 30);
    await waitUntil(() => (intake.counts().byStatus['413'] ?? 0) >= 30 && (intake.counts().byStatus['202'] ?? 0) >= 1, 250);
    await load.stop();
    const last = await finish(kennel);
    const points = pointsOf(intake.store.series(), name);
    assert.deepEqual(duplicates(points), []);
    for (const p of points.values()) assert.ok(load.expected.has(`${p.ctx}|${p.ts}`));
    const t = last.forwarderStats.Transactions;
    const missing = load.expected.size - points.size;
    assert.equal(intake.counts().byStatus['413'], 30);
    assert.equal(t.HTTPErrorsByCode['413'], 30);
    assert.equal(t.Dropped, 30, 'each 413 drops its payload, counted');
    assert.equal(missing, 30, 'the 30 points of those payloads are what is missing');
    assert.equal(t.Retried, 0, '413 is never retried');
    return `413: ${load.expected.size} points, ${points.size} arrived once, 30 answered 413 = Dropped ${t.Dropped} = missing ${missing}, none retried`;
  } finally {
    await load.stop();
    await kennel.stop('SIGKILL');
    await intake.close();
  }
}

test('the intake is slow, refuses connections, resets mid-body, answers 429 and 413 storms', { timeout: 240_000 }, async (t) => {
  await allCases(t, { slow, refused, reset, '429': storm429, '413': storm413 });
});
