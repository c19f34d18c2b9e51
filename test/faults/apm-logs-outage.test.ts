/**
 * The intake answers 503 for `SIZES.outageMs` (15 s in CI, 2 minutes with KENNEL_FAULT_SCALE=full)
 * to traces and logs alike, then recovers, while clients keep sending traces (over TCP and the
 * Unix socket) and a file and a child process keep writing log lines:
 * - with the default bounds every span answered 200 and every line written arrives exactly once
 *   (log lines in order): the trace payloads wait in the forwarder's retry queue, the logs sender
 *   retries forever and its backpressure holds the file where it was read and the child's pipe;
 * - with a retry queue smaller than the outage, the spans that are missing are exactly the trace
 *   chunks the trace writer's `DroppedTraces` counts (and the forwarder's `Dropped` = the trace and
 *   stats writers' `Dropped`), none arrives twice, and no log line is lost (logs are never dropped
 *   for a transient error: the agent's HTTP destination retries forever).
 * - a child writing as fast as its pipe takes while the intake is down: kennel reads only what its
 *   bounds hold, the child blocks, and every line arrives once after the outage.
 * - log datagrams over UDP past the bounds: what is missing is exactly the listener's
 *   `DatagramsDropped` plus the kernel's drops of the socket.
 * Four kennels run at once, each against its own fake intake.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { FakeIntake } from '@kennel/intake';
import { API_KEY, FULL, SIZES, allCases, progress, sleep } from './support.js';
import type { Status } from './support.js';
import { FileWriter, TraceLoad, brief, launchApmLogs, linesCheck, logMessages, logsMetrics, spanArrivals, spanCheck, bindTest, waitFor } from './support-apm-logs.js';
import type { ApmLogsKennel } from './support-apm-logs.js';

/** The intake answers 503 from now until the outage has lasted `ms` from its first refused payload and `more` holds; then it recovers. */
async function outage(intake: FakeIntake, k: ApmLogsKennel, ms: number, more: (s: Status) => boolean | Promise<boolean>): Promise<void> {
  intake.failFor(503, 24 * 3600 * 1000);
  await waitFor(() => (intake.counts().byStatus['503'] ?? 0) >= 1, 100);
  const start = Date.now();
  await waitFor(async () => (await more(await k.status())) && Date.now() - start >= ms, 250);
  intake.clearFaults();
  progress(`outage over after ${Date.now() - start} ms, ${intake.counts().byStatus['503']} × 503`);
}

/** A child that prints `<prefix>-<i>` lines until SIGTERM, then the rest of its count and exits 0. */
function childScript(dir: string, prefix: string): string {
  const path = join(dir, 'child.cjs');
  writeFileSync(
    path,
    `let i = 0; let stop = false;
const line = () => '${prefix}-' + String(i++).padStart(7, '0') + ' ' + 'y'.repeat(40) + '\\n';
const tick = () => { if (stop) return; let s = ''; for (let n = 0; n < 10; n++) s += line(); process.stdout.write(s, () => setTimeout(tick, 100)); };
process.on('SIGTERM', () => { stop = true; process.stdout.write('', () => { require('fs').writeFileSync(${JSON.stringify(join(dir, 'child.count'))}, String(i)); process.exit(0); }); });
tick();
`,
  );
  return path;
}

function childLines(prefix: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${prefix}-${String(i).padStart(7, '0')} ${'y'.repeat(40)}`);
  return out;
}

/** Waits until nothing is pending in the APM forwarder and the logs sender, and `cond` holds. */
async function settled(k: ApmLogsKennel, cond: () => boolean): Promise<Status> {
  let s: Status = {};
  await waitFor(async () => {
    s = await k.status();
    return cond() && s.apmStats.kennel.forwarder.Pending === 0;
  }, 250);
  return s;
}

async function defaultBounds(): Promise<string> {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const dir = mkdtempSync(join(tmpdir(), 'kennel-fault-outage-'));
  const file = new FileWriter(join(dir, 'app.log'), 'OUT-FILE');
  const child = childScript(dir, 'OUT-CHILD');
  const k = await launchApmLogs({
    intake,
    dir,
    logs: [{ type: 'file', path: file.path, service: 'outage-file', source: 'fault', start_position: 'beginning' }],
    args: ['run', '--', process.execPath, child],
    env: { DD_LOGS_CONFIG_CHILD_ECHO: 'false', DD_SERVICE: 'outage-child' },
  });
  const tcp = new TraceLoad({ port: k.apmPort }, 'outage-tcp').start();
  const uds = new TraceLoad({ socketPath: k.apmSocket }, 'outage-uds').start();
  file.start();
  try {
    await outage(intake, k, SIZES.outageMs, (s) => (s.apmStats.kennel.forwarder.Transactions.HTTPErrorsByCode['503'] ?? 0) >= 1 && Number(s.logsStats.metrics.RetryCount) >= 1);
    // Some traffic after the recovery, then the loads stop.
    await waitFor(() => (intake.counts().byStatus['202'] ?? 0) >= 3, 100);
    await sleep(1000);
    await tcp.stop();
    await uds.stop();
    file.stop();
    const s = await settled(
      k,
      () =>
        spanCheck(tcp, spanArrivals(intake, 'outage-tcp')).missing.length === 0 &&
        spanCheck(uds, spanArrivals(intake, 'outage-uds')).missing.length === 0 &&
        logMessages(intake, 'OUT-FILE').length >= file.written.length,
    );
    // SIGTERM goes to the child too: it writes its count and exits 0, then kennel sends the rest.
    assert.equal(await k.stop('SIGTERM'), 0, k.proc.stderr());

    for (const load of [tcp, uds]) {
      const c = spanCheck(load, spanArrivals(intake, load.service));
      assert.deepEqual(brief(c), { missing: 0, duplicated: 0, unexpected: 0 }, `${load.service}: ${JSON.stringify(c).slice(0, 500)}`);
      assert.equal(load.statuses.get(200), [...load.statuses.values()].reduce((a, b) => a + b, 0), `${load.service}: every request answered 200 during the outage`);
      assert.equal(load.transportErrors, 0);
    }
    const gotFile = logMessages(intake, 'OUT-FILE');
    assert.deepEqual(brief(linesCheck(gotFile, file.written)), { missing: 0, duplicated: 0, unexpected: 0 });
    assert.deepEqual(gotFile, file.written, 'the file lines in order');
    const childCount = Number(readFileSync(join(dir, 'child.count'), 'utf8'));
    const gotChild = logMessages(intake, 'OUT-CHILD');
    assert.deepEqual(gotChild, childLines('OUT-CHILD', childCount), 'every line the child wrote, once, in order');

    const apm = s.apmStats.kennel;
    const t = apm.forwarder.Transactions;
    assert.equal(t.Dropped, 0, JSON.stringify(t));
    assert.equal(apm.traceWriterTotal.Dropped, 0);
    assert.equal(apm.traceWriterTotal.DroppedTraces, 0);
    assert.ok(t.HTTPErrorsByCode['503'] >= 1 && t.Retried >= 1, JSON.stringify(t));
    assert.equal(apm.traceWriterTotal.Traces, tcp.traces + uds.traces, 'the trace writer took every trace answered');
    const m = logsMetrics(s);
    assert.ok(m.RetryCount! >= 1, JSON.stringify(m));
    assert.ok(m.LogsSent! >= gotFile.length, JSON.stringify(m));
    return (
      `default bounds: ${tcp.answered.size + uds.answered.size} spans (TCP and UDS) and ${gotFile.length} file + ${gotChild.length} child lines each arrived once; ` +
      `${t.HTTPErrorsByCode['503']} × 503 to trace/stats payloads, ${t.Retried} retried, 0 dropped; logs RetryCount ${m.RetryCount}`
    );
  } finally {
    file.stop();
    await tcp.stop();
    await uds.stop();
    await k.stop('SIGKILL');
    await intake.close();
  }
}

async function boundedQueue(): Promise<string> {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const dir = mkdtempSync(join(tmpdir(), 'kennel-fault-outage-'));
  const file = new FileWriter(join(dir, 'app.log'), 'BND-FILE');
  const k = await launchApmLogs({
    intake,
    dir,
    logs: [{ type: 'file', path: file.path, service: 'bounded-file', source: 'fault', start_position: 'beginning' }],
    // About two trace payloads of this load (5 s of it): the outage brings more.
    env: { DD_FORWARDER_RETRY_QUEUE_PAYLOADS_MAX_SIZE: '10000' },
  });
  const tcp = new TraceLoad({ port: k.apmPort }, 'bounded-tcp').start();
  file.start();
  try {
    await outage(intake, k, SIZES.outageMs, (s) => s.apmStats.kennel.traceWriterTotal.DroppedTraces >= 1);
    await waitFor(() => (intake.counts().byStatus['202'] ?? 0) >= 3, 100);
    await tcp.stop();
    file.stop();
    // Everything the writer took is delivered or dropped, and every line is at the intake.
    const s = await settled(k, () => logMessages(intake, 'BND-FILE').length >= file.written.length);
    const s2 = await settled(k, () => true);
    assert.equal(await k.stop('SIGTERM'), 0, k.proc.stderr());

    const arrived = spanArrivals(intake, 'bounded-tcp');
    const c = spanCheck(tcp, arrived);
    assert.deepEqual(c.duplicated, [], 'no span arrives twice');
    assert.deepEqual(c.unexpected, []);
    const apm = s2.apmStats.kennel;
    const w = apm.traceWriterTotal;
    const t = apm.forwarder.Transactions;
    assert.ok(c.missing.length > 0, 'the bound was smaller than the outage');
    assert.equal(c.missing.length % tcp.spansPerTrace, 0, 'whole traces are missing');
    const missingTraces = c.missing.length / tcp.spansPerTrace;
    assert.equal(w.DroppedTraces, missingTraces, `DroppedTraces counts exactly the ${missingTraces} traces that did not arrive`);
    assert.equal(w.Traces, tcp.traces, 'the writer took every trace answered');
    assert.equal(t.Dropped, w.Dropped + apm.statsWriterTotal.Dropped, 'the forwarder drops = trace payloads + stats payloads dropped');
    assert.equal(t.RetryQueueDropped, t.Dropped, 'all of them by the retry queue bound');
    assert.equal(t.DroppedByEndpoint['/api/v0.2/traces'] ?? 0, w.Dropped, JSON.stringify(t.DroppedByEndpoint));
    const got = logMessages(intake, 'BND-FILE');
    assert.deepEqual(got, file.written, 'every line once, in order: logs wait, they are not dropped');
    assert.equal(Number(s.logsStats.metrics.LogsSent), file.written.length);
    return (
      `retry queue 10000 B: ${tcp.traces} traces answered, ${tcp.traces - missingTraces} arrived once, ${missingTraces} missing = DroppedTraces ${w.DroppedTraces} ` +
      `(${w.Dropped} trace payloads, ${w.DroppedBytes} B; forwarder Dropped ${t.Dropped} = RetryQueueDropped); ${got.length} log lines all arrived once`
    );
  } finally {
    file.stop();
    await tcp.stop();
    await k.stop('SIGKILL');
    await intake.close();
  }
}

/**
 * A child that writes `lines` lines as fast as its stdout pipe takes them, while the intake is
 * down from the start: kennel reads only what its bounds hold (the channel, the sender's payload
 * queue), the child blocks on its pipe, VmRSS stays small; after the outage every line arrives
 * once, in order, and kennel exits with the child's code.
 */
async function childFlood(): Promise<string> {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const dir = mkdtempSync(join(tmpdir(), 'kennel-fault-flood-'));
  const lines = FULL ? 1_000_000 : 150_000;
  const script = join(dir, 'flood.cjs');
  writeFileSync(
    script,
    `const N = ${lines}; let i = 0;
const line = () => 'FLOOD-' + String(i++).padStart(7, '0') + ' ' + 'f'.repeat(40) + '\\n';
function w() { while (i < N) { let s = ''; for (let n = 0; n < 100 && i < N; n++) s += line(); if (!process.stdout.write(s)) { process.stdout.once('drain', w); return; } } }
w();
`,
  );
  const width = Buffer.byteLength('FLOOD-0000000 ' + 'f'.repeat(40) + '\n');
  intake.failFor(503, 24 * 3600 * 1000);
  const k = await launchApmLogs({ intake, dir, args: ['run', '--', process.execPath, script], env: { DD_LOGS_CONFIG_CHILD_ECHO: 'false', DD_SERVICE: 'flood' } });
  const bytesRead = async (): Promise<number> => {
    const src = ((await k.status()).logsStats.integrations as Status[]).flatMap((i) => i.sources as Status[]).find((x) => x.type === 'process');
    return Number(src?.info.BytesRead[0] ?? 0);
  };
  try {
    await waitFor(() => (intake.counts().byStatus['503'] ?? 0) >= 1, 100);
    const start = Date.now();
    let peakRss = 0;
    let read = 0;
    await waitFor(async () => {
      peakRss = Math.max(peakRss, k.rssKiB());
      read = await bytesRead();
      return Date.now() - start >= SIZES.outageMs;
    }, 250);
    const readLines = read / width;
    // What kennel may hold: the channel (10,000), the batch its consumer waits with (1,000), the
    // sender's queue of payload_channel_size (10) payloads of batch_max_size (1,000), the one in
    // flight and the open batch; the pipe is read 64 KiB at a time past the mark, twice at most.
    const bound = 10_000 + 1000 + (10 + 2) * 1000 + Math.ceil((2 * 65536) / width);
    assert.equal(logMessages(intake, 'FLOOD').length, 0, 'nothing reached the intake during the outage');
    assert.ok(readLines > 10_000, `kennel read up to its bounds (${readLines} lines)`);
    assert.ok(readLines <= bound, `kennel read ${readLines} lines while the intake was down, more than it may hold (${bound})`);
    assert.ok(readLines < lines, 'the child is blocked on its pipe');
    intake.clearFaults();
    // The child ends once its lines are taken; kennel sends the rest and exits with its code.
    await waitFor(() => !k.alive(), 100);
    const code = await k.proc.stop();
    assert.equal(code, 0, k.proc.stderr());
    const got = logMessages(intake, 'FLOOD');
    assert.equal(got.length, lines, 'every line arrived');
    const expected = childLinesOf('FLOOD', lines, 'f');
    const check = linesCheck(got, expected);
    assert.deepEqual(brief(check), { missing: 0, duplicated: 0, unexpected: 0 }, JSON.stringify({ missing: check.missing.slice(0, 5), unexpected: check.unexpected.slice(0, 5) }));
    assert.ok(got.every((l, i) => l === expected[i]), 'in order');
    return `a child flooding ${lines.toLocaleString('en-US')} lines during the outage: kennel held ${Math.round(readLines).toLocaleString('en-US')} (bound ${bound.toLocaleString('en-US')}), the child blocked, peak VmRSS ${Math.round(peakRss / 1024)} MiB; after it every line once, in order, exit 0`;
  } finally {
    await k.stop('SIGKILL');
    await intake.close();
  }
}

/** The kernel's drop count of the UDP socket bound to `port` on loopback (`/proc/net/udp`, last column). */
function kernelUdpDrops(port: number): number {
  const want = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 12 && f[1]!.endsWith(want)) return Number(f[f.length - 1]);
  }
  return 0;
}

/**
 * Log datagrams over UDP while the intake is down: UDP cannot be paused, so past the pipeline's
 * bounds the listener holds at most 10,000 datagrams and drops the rest, counted
 * (`DatagramsDropped`); after the outage what arrived is exactly what was sent less those drops
 * and the kernel's own (its socket buffer, `/proc/net/udp`), each once.
 */
async function udpFlood(): Promise<string> {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const k = await launchApmLogs({ intake, logs: [{ type: 'udp', port: 0, service: 'udp-flood', source: 'fault' }] });
  const src = async (): Promise<Status> => ((await k.status()).logsStats.integrations as Status[]).flatMap((i) => i.sources as Status[]).find((x) => x.type === 'udp')!;
  const port = Number((await src()).configuration.Port);
  const client = createSocket('udp4');
  const total = FULL ? 200_000 : 40_000;
  let sent = 0;
  let sending = true;
  // 500 datagrams every 50 ms until the total is out, the outage running meanwhile.
  const sender = (async () => {
    while (sending && sent < total) {
      for (let n = 0; n < 500 && sent < total; n++) {
        const msg = `UDP-${String(sent++).padStart(7, '0')} ${'u'.repeat(40)}`;
        await new Promise<void>((r, j) => client.send(msg, port, '127.0.0.1', (e) => (e ? j(e) : r())));
      }
      await sleep(50);
    }
  })();
  try {
    intake.failFor(503, 24 * 3600 * 1000);
    await waitFor(() => (intake.counts().byStatus['503'] ?? 0) >= 1, 100);
    const start = Date.now();
    await waitFor(async () => sent >= total && Date.now() - start >= SIZES.outageMs, 250);
    await sender;
    assert.ok(Number((await src()).info.DatagramsDropped[0]) > 0, 'the bounds were smaller than the outage');
    intake.clearFaults();
    const kernel = kernelUdpDrops(port);
    await waitFor(async () => {
      const dropped = Number((await src()).info.DatagramsDropped[0]);
      return logMessages(intake, 'UDP').length >= sent - dropped - kernelUdpDrops(port);
    }, 250);
    await sleep(1000);
    const dropped = Number((await src()).info.DatagramsDropped[0]);
    const kernelAfter = kernelUdpDrops(port);
    const got = logMessages(intake, 'UDP');
    assert.equal(new Set(got).size, got.length, 'none arrives twice');
    assert.equal(got.length, sent - dropped - kernelAfter, `arrived = sent ${sent} - DatagramsDropped ${dropped} - kernel drops ${kernelAfter}`);
    assert.ok(dropped > 0, 'the outage was longer than the bounds');
    const all = new Set<string>();
    for (let i = 0; i < sent; i++) all.add(`UDP-${String(i).padStart(7, '0')} ${'u'.repeat(40)}`);
    assert.ok(got.every((m) => all.has(m)), 'only datagrams that were sent');
    assert.equal(await k.stop('SIGTERM'), 0, k.proc.stderr());
    return `UDP logs during the outage: ${sent.toLocaleString('en-US')} datagrams sent, ${got.length.toLocaleString('en-US')} arrived once = sent - DatagramsDropped ${dropped.toLocaleString('en-US')} - kernel drops ${kernelAfter} (${kernel} at the recovery)`;
  } finally {
    sending = false;
    await sender.catch(() => {});
    client.close();
    await k.stop('SIGKILL');
    await intake.close();
  }
}

function childLinesOf(prefix: string, n: number, fill: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${prefix}-${String(i).padStart(7, '0')} ${fill.repeat(40)}`);
  return out;
}

test(`APM and logs: the intake answers 503 for ${SIZES.outageMs / 1000} s, then recovers`, { timeout: SIZES.outageMs * 3 + 180_000 }, async (t) => {
  bindTest(t);
  await allCases(t, {
    'default bounds': defaultBounds,
    'retry queue smaller than the outage': boundedQueue,
    'a child flooding its output': childFlood,
    'UDP log datagrams past the bounds': udpFlood,
  });
});
