/**
 * A client explodes cardinality: `SIZES.contexts` distinct contexts (100,000 in CI, 10 million
 * with KENNEL_FAULT_SCALE=full), each sent once, past `dogstatsd_context_limit`. kennel's memory
 * (VmRSS, worker threads included) stays under the stated bound, every sample of a context past
 * the limit is dropped and counted in `ContextsDropped`, and the contexts known before keep
 * flowing to the intake.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeIntake } from '@kennel/intake';
import { API_KEY, FULL, SIZES, launch, pointsOf, progress, runKennel, sendUds, sleep, waitUntil } from './support.js';

const KNOWN = 10;
/** What a known context adds to its value after the explosion. */
const AFTER = 1000;
/**
 * The VmRSS bound asserted, worker threads included: about 85 MiB at start, ~230 B a context in
 * the shard, the shard's queue (dogstatsd_queue_size: 64 batches of 8,192 samples), and a flush
 * of every context (written flat in the worker, made into series one at a time in the main
 * thread). Measured peaks: 116-124 MiB at CI size, 766 MiB at full size.
 */
const RSS_BOUND_MIB = FULL ? 1024 : 256;

test(`${SIZES.contexts.toLocaleString('en-US')} distinct contexts past a ${SIZES.contextLimit.toLocaleString('en-US')} context limit`, { timeout: FULL ? 1_800_000 : 180_000 }, async (t) => {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const kennel = await launch({
    intake,
    env: {
      DD_DOGSTATSD_CONTEXT_LIMIT: String(SIZES.contextLimit),
      // No context expires during the test, so the count of drops is exact.
      DD_DOGSTATSD_CONTEXT_EXPIRY_SECONDS: '3600',
      DD_DOGSTATSD_STRING_INTERNER_SIZE: '4096',
    },
  });
  let rssMax = 0;
  const sampler = setInterval(() => {
    try {
      rssMax = Math.max(rssMax, kennel.rssKiB());
    } catch {
      // exited
    }
  }, 100).unref();
  let knownRunning = true;
  // Paused while the burst is sent: a flood can fill the shard's queue (QueueDrops), and the
  // counts stay exact only if every sample dropped there is a burst sample.
  let knownPaused = false;
  let knownSent = 0;
  // Context i sends i before the explosion, AFTER + i after it: what arrives says when it was sent.
  let knownOffset = 0;
  let knownParked = false;
  const known = (async () => {
    while (knownRunning) {
      knownParked = knownPaused;
      if (!knownPaused) {
        const lines = Buffer.from(Array.from({ length: KNOWN }, (_, i) => `fault.card.known:${knownOffset + i}|g|#ctx:${i}`).join('\n'));
        await sendUds(kennel.socket, [lines]);
        knownSent += KNOWN;
      }
      await sleep(200);
    }
  })();
  try {
    // The known contexts exist first (the shard applies batches in order).
    await waitUntil(() => knownSent >= KNOWN * 3, 20);
    const rssStart = kennel.rssKiB();
    knownPaused = true;
    await waitUntil(() => knownParked, 20);
    const knownBefore = knownSent;
    // The explosion: each context once, 180 lines (at most 41 bytes each: under 8 KiB) a datagram, as fast as kennel reads.
    const perDatagram = 180;
    let sent = 0;
    const started = Date.now();
    while (sent < SIZES.contexts) {
      const batch: Buffer[] = [];
      for (let d = 0; d < 64 && sent < SIZES.contexts; d++) {
        const lines: string[] = [];
        for (let j = 0; j < perDatagram && sent < SIZES.contexts; j++, sent++) lines.push(`fault.card.burst:1|g|#id:${sent},team:t${sent % 7}`);
        batch.push(Buffer.from(lines.join('\n')));
      }
      await sendUds(kennel.socket, batch);
      if (sent % 1_000_000 < 64 * perDatagram) progress(`cardinality: ${sent} contexts sent, VmRSS ${Math.round(kennel.rssKiB() / 1024)} MiB`);
    }
    const sendSeconds = (Date.now() - started) / 1000;
    // Every burst sample routed, then a flush (it runs after every batch queued before it) so that the shard counters are current.
    await waitUntil(async () => (await kennel.status()).aggregatorStats.DogstatsdMetricSample >= SIZES.contexts + knownBefore, 200);
    assert.equal((await kennel.flush()).status, 200);
    const s = await kennel.status();
    const a = s.aggregatorStats;
    const excess = SIZES.contexts - (SIZES.contextLimit - KNOWN);
    assert.equal(s.dogstatsdStats.UdsPacketsTruncated, 0);
    assert.equal(a.DogstatsdContexts, SIZES.contextLimit, 'the context table is full, not past it');
    assert.equal(a.ContextsCreated, SIZES.contextLimit);
    // Every burst sample past the limit is dropped and counted: as a context over the limit, or,
    // when the flood outran the shard, by the shard's queue bound (dogstatsd_queue_size).
    assert.equal(a.ContextsDropped + a.QueueDrops, excess, 'every sample of a context past the limit is counted');
    if (!FULL) assert.equal(a.QueueDrops, 0, 'at CI size the shard keeps up');
    knownOffset = AFTER;
    knownPaused = false;
    // The known contexts keep flowing: a few rounds sent after the explosion, all taken.
    const knownResumed = knownSent;
    await waitUntil(() => knownSent >= knownResumed + 3 * KNOWN, 20);
    const text = await runKennel(['status'], { DD_CMD_PORT: String(kennel.cmdPort) });
    assert.ok(text.stdout.includes(`Contexts Dropped: ${a.ContextsDropped.toLocaleString('en-US')}`), 'kennel status shows the drops');
    assert.ok(text.stdout.includes(`Queue Drops: ${a.QueueDrops.toLocaleString('en-US')}`));
    assert.ok(kennel.alive());
    knownRunning = false;
    await known;
    // SIGTERM flushes every bucket, the open one too: the post-explosion rounds arrive.
    assert.equal(await kennel.stop('SIGTERM'), 0, kennel.proc.stderr().slice(-2000));
    const last = kennel.stoppedLine()!;
    assert.equal(last.aggregatorStats.ContextsDropped, a.ContextsDropped, 'no known sample was dropped');
    assert.equal(last.aggregatorStats.DogstatsdMetricSample, SIZES.contexts + knownSent);
    const knownPoints = [...pointsOf(intake.store.series(), 'fault.card.known').values()];
    for (const p of knownPoints) assert.ok([Number(p.ctx), AFTER + Number(p.ctx)].includes(p.values.at(-1)!), `ctx ${p.ctx}: ${p.values}`);
    const after = new Set(knownPoints.filter((p) => p.values.includes(AFTER + Number(p.ctx))).map((p) => p.ctx));
    assert.equal(after.size, KNOWN, 'every known context sent after the explosion arrived');
    assert.equal(pointsOf(intake.store.series(), 'fault.card.burst').size, SIZES.contextLimit - KNOWN, 'the burst contexts within the limit arrived, each once');
    assert.ok(rssMax / 1024 < RSS_BOUND_MIB, `VmRSS peaked at ${Math.round(rssMax / 1024)} MiB, over the ${RSS_BOUND_MIB} MiB bound`);
    t.diagnostic(
      `${SIZES.contexts} contexts sent in ${sendSeconds.toFixed(1)} s; limit ${SIZES.contextLimit}: ContextsDropped ${a.ContextsDropped} + QueueDrops ${a.QueueDrops} = ${excess}, ` +
        `DogstatsdContexts ${a.DogstatsdContexts}; VmRSS ${Math.round(rssStart / 1024)} MiB before, peak ${Math.round(rssMax / 1024)} MiB (bound ${RSS_BOUND_MIB} MiB); ` +
        `${KNOWN} known contexts still arriving`,
    );
  } finally {
    clearInterval(sampler);
    knownRunning = false;
    await known.catch(() => undefined);
    await kennel.stop('SIGKILL');
    await intake.close();
  }
});
