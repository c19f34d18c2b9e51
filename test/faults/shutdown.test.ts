/**
 * kennel is stopped during load:
 * - SIGTERM: the sources stop, every bucket (the open one too) is flushed and the forwarder
 *   drains: everything kennel received reaches the intake, once, before it exits 0, a burst
 *   still queued to the shard at the signal included;
 * - kill -9 with disk spill on (`DD_FORWARDER_STORAGE_MAX_SIZE_IN_BYTES` > 0, a temporary
 *   `DD_RUN_PATH`) while the intake is down: the retry files left on disk are read by the next
 *   start and every point in them arrives, once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FakeIntake, decodeIntakeRequest } from '@kennel/intake';
import { decodeRetryFile } from '@kennel/forwarder';
import { API_KEY, CounterLoad, OnePointGauges, UdpClient, allCases, counterSum, duplicates, launch, pointsOf, sendUds, sleep, waitUntil } from './support.js';
import type { FaultKennel } from './support.js';

async function sigtermDuringLoad(): Promise<string> {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const kennel = await launch({ intake });
  // About 20,000 lines a second over the Unix socket, and UDP beside it.
  const load = new CounterLoad(kennel.socket, 'fault.sigterm.uds', 200, 10).start();
  const udp = new UdpClient(kennel.udpPort);
  let udpSent = 0;
  let udpRunning = true;
  const udpLoop = (async () => {
    while (udpRunning) {
      try {
        await udp.send('fault.sigterm.udp:1|c|#t:udp');
        udpSent++;
      } catch {
        break;
      }
      if (udpSent % 50 === 0) await sleep(5);
    }
  })();
  try {
    await waitUntil(async () => (await kennel.status()).aggregatorStats.DogstatsdMetricSample >= 30_000, 100);
    // A burst right before the signal, so batches are still queued to the shard when it comes.
    const burst: Buffer[] = [];
    for (let d = 0; d < 1000; d++) burst.push(Buffer.from(Array.from({ length: 200 }, (_, j) => `fault.sigterm.burst:1|c|#b:${j}`).join('\n')));
    const burstSent = await sendUds(kennel.socket, burst);
    assert.equal(await kennel.stop('SIGTERM'), 0, kennel.proc.stderr());
    udpRunning = false;
    await udpLoop;
    await load.stopQuietly();
    const last = kennel.stoppedLine();
    assert.ok(last, kennel.proc.stderr());
    const a = last.aggregatorStats;
    const received = a.DogstatsdMetricSample as number;
    assert.equal(a.QueueDrops, 0);
    assert.equal(a.ContextsDropped, 0);
    const series = intake.store.series();
    const uds = pointsOf(series, 'fault.sigterm.uds');
    const udpPoints = pointsOf(series, 'fault.sigterm.udp');
    const burstPoints = pointsOf(series, 'fault.sigterm.burst');
    assert.deepEqual([...duplicates(uds), ...duplicates(udpPoints), ...duplicates(burstPoints)], []);
    const arrived = counterSum(uds);
    const arrivedUdp = counterSum(udpPoints);
    const arrivedBurst = counterSum(burstPoints);
    assert.equal(arrivedBurst, burstSent * 200, 'the burst queued at the signal was flushed too');
    assert.equal(arrived + arrivedUdp + arrivedBurst, received, 'every sample kennel received was flushed and forwarded before exit');
    assert.equal(last.dogstatsdStats.MetricPackets, received);
    // Nothing arrives that was not sent (at most the partial round in progress at the signal), and
    // nothing the client counted as sent is lost: at close, kennel's reader thread shuts the Unix
    // socket for reading (later sends fail with EPIPE) and reads what its queue still holds.
    const unread = load.total - arrived;
    assert.ok(arrived <= load.total + load.contexts, `${arrived} arrived, ${load.total} sent`);
    assert.ok(unread <= 0, `${unread} lines the client sent (whole rounds) never arrived: left in the socket's queue at the close`);
    assert.ok(arrivedUdp <= udpSent);
    assert.equal(last.forwarderStats.Transactions.Dropped, 0);
    assert.equal(last.forwarderStats.Pending, 0);
    return (
      `SIGTERM under load: ${received} samples received (${arrived} over UDS, ${arrivedUdp} over UDP, a burst of ${arrivedBurst} just before the signal), all forwarded once before exit 0; ` +
      `none left in the socket's queue at the close (${-unread} lines of the round in progress arrived too)`
    );
  } finally {
    udpRunning = false;
    await udpLoop;
    udp.close();
    await load.stopQuietly();
    await kennel.stop('SIGKILL');
    await intake.close();
  }
}

/** The `.retry` files under `dir` (none when it does not exist yet). */
function retryFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.retry')) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

async function kill9ThenRestart(): Promise<string> {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const env = {
    DD_SERIALIZER_MAX_SERIES_POINTS_PER_PAYLOAD: '1',
    DD_FORWARDER_RETRY_QUEUE_PAYLOADS_MAX_SIZE: '2000',
    DD_FORWARDER_STORAGE_MAX_SIZE_IN_BYTES: String(10 * 1024 * 1024),
  };
  intake.failFor(503, 24 * 3600 * 1000);
  const first = await launch({ intake, env });
  const name = 'fault.kill9';
  const load = new OnePointGauges(first.socket, name, 60).start();
  let second: FaultKennel | null = null;
  try {
    // Payloads spill to disk while the intake is down (files renamed into place, not only queued
    // for writing: FilesCount counts those too); then kill -9, the load still running.
    const storage = join(first.runPath, 'transactions_to_retry');
    await waitUntil(() => retryFiles(storage).length >= 2, 100);
    first.proc.child.kill('SIGKILL');
    assert.equal(await first.stop(), null);
    await load.stop();

    const files = retryFiles(storage);
    assert.ok(files.length >= 1, 'retry files survive kill -9');
    const onDisk = new Set<string>();
    let records = 0;
    for (const f of files) {
      const decoded = decodeRetryFile(readFileSync(f));
      if (typeof decoded === 'string') assert.fail(`${f}: ${decoded}`);
      for (const r of decoded.records) {
        if (r === null) assert.fail(`${f}: a record that does not decode`);
        records++;
        const p = decodeIntakeRequest({ path: r.route, contentEncoding: r.contentEncoding, body: r.body });
        if (!p.ok || p.value.kind !== 'series_v2') assert.fail(`${f}: a record that is not a v2 series payload`);
        for (const s of p.value.series) for (const pt of s.points) onDisk.add(`${s.tags.find((x) => x.startsWith('ctx:'))}|${pt.timestamp}`);
      }
    }
    assert.equal(onDisk.size, records, 'one point per payload');
    assert.equal(intake.counts().byStatus['202'] ?? 0, 0, 'nothing was delivered before the kill');

    // The intake recovers; the next start, on the same run path, reads the files and sends them.
    intake.clearFaults();
    second = await launch({ intake, env, dir: first.dir });
    const arrived = () => new Set([...pointsOf(intake.store.series(), name).values()].map((p) => `ctx:${p.ctx}|${p.ts}`));
    await waitUntil(() => {
      const got = arrived();
      for (const k of onDisk) if (!got.has(k)) return false;
      return true;
    }, 250);
    await waitUntil(async () => {
      const s = await second!.status();
      return s.forwarderStats.Pending === 0 && s.forwarderStats.FileStorage.FilesCount === 0;
    }, 250);
    const s = await second.status();
    const fs = s.forwarderStats.FileStorage;
    assert.ok(fs.FilesRead >= files.length, JSON.stringify(fs));
    assert.equal(fs.DeserializationErrors, 0);
    const points = pointsOf(intake.store.series(), name);
    assert.deepEqual(duplicates(points), [], 'no point is sent twice across the crash');
    for (const p of points.values()) assert.deepEqual(p.values, [p.ts]);
    assert.equal(s.forwarderStats.Transactions.SuccessByEndpoint.series_v2, points.size);
    return (
      `kill -9 during load: ${files.length} retry files (${records} payloads) on disk, all ${onDisk.size} of their points sent once after the restart ` +
      `(FilesRead ${fs.FilesRead}, PartialFilesRemoved ${fs.PartialFilesRemoved}); ${load.expected.size - points.size} points not on disk at the kill ` +
      `(the retry queue's memory, open buckets) were lost, as memory is`
    );
  } finally {
    await load.stop();
    await first.stop('SIGKILL');
    if (second) await second.stop('SIGKILL');
    await intake.close();
  }
}

test('SIGTERM during load flushes everything; kill -9 during load leaves retry files the restart sends', { timeout: 180_000 }, async (t) => {
  await allCases(t, { SIGTERM: sigtermDuringLoad, 'kill -9': kill9ThenRestart });
});
