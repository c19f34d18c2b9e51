/**
 * kennel stops during trace and log load:
 * - `kill -9` while a log file is being written and sent to a slow intake, then a restart over the
 *   same run path: the second kennel resumes at the offset `registry.json` held when the first
 *   died. The agent's semantics are at-least-once (the auditor writes the registry every second,
 *   `pkg/logs/auditor/auditor.go`), so what arrives twice is exactly the lines the intake accepted
 *   after the last registry write: the first kennel's lines are a prefix of the file, the second's
 *   the file from the stored offset on, and nothing else. Trace payloads are not spilled to disk
 *   (the trace-agent's sender keeps its queue in memory, `pkg/trace/writer/sender.go`; kennel's
 *   APM forwarder runs with `storageMaxSizeInBytes: 0`): the restarted kennel takes traces again.
 * - SIGTERM while traces (TCP and the Unix socket) and log lines keep coming and the intake is
 *   slow: kennel exits 0 once everything it took is sent; every span answered 200 arrives exactly
 *   once, and the intake holds exactly the file's lines up to the offset in `registry.json`, in
 *   order (what was read was sent, and the next start reads on from there).
 * - SIGTERM while the intake answers 503: kennel exits 0 after `logs_config.stop_grace_period`,
 *   the registry holds exactly what the intake accepted, and the next start sends the rest once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeIntake } from '@kennel/intake';
import { API_KEY, allCases, progress, sleep } from './support.js';
import { FileWriter, TraceLoad, brief, launchApmLogs, logMessages, registryOffset, spanArrivals, spanCheck, bindTest, waitFor } from './support-apm-logs.js';

const LOGS_ENV = {
  // Small payloads and a short payload queue, so a kill finds many lines read and not yet sent.
  DD_LOGS_CONFIG_BATCH_MAX_SIZE: '100',
  DD_LOGS_CONFIG_PAYLOAD_CHANNEL_SIZE: '2',
};

async function killDashNine(): Promise<string> {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const dir = mkdtempSync(join(tmpdir(), 'kennel-fault-kill-'));
  const file = new FileWriter(join(dir, 'app.log'), 'KILL', 50, 25);
  const logs = [{ type: 'file', path: file.path, service: 'kill-file', source: 'fault', start_position: 'beginning' }];
  // Every answer waits 30 ms: the sender is one payload behind the other.
  intake.delayResponses(30);
  const first = await launchApmLogs({ intake, dir, logs, env: LOGS_ENV });
  const traces = new TraceLoad({ port: first.apmPort }, 'kill-tcp').start();
  file.start();
  let second: Awaited<ReturnType<typeof launchApmLogs>> | null = null;
  try {
    await waitFor(() => logMessages(intake, 'KILL').length >= 3000 && registryOffset(first.runPath, file.path) !== null, 50);
    first.proc.child.kill('SIGKILL');
    await first.proc.stop();
    await traces.stop();
    // The application writes on while its agent is away.
    const offset = registryOffset(first.runPath, file.path)!;
    const resumeAt = file.linesAt(offset);
    const got1 = logMessages(intake, 'KILL');
    progress(`kill -9: ${got1.length} lines at the intake, registry at line ${resumeAt}, ${file.written.length} written`);
    assert.deepEqual(got1, file.written.slice(0, got1.length), 'the first kennel sent a prefix of the file, each line once, in order');
    assert.ok(resumeAt <= got1.length, `the registry (line ${resumeAt}) is never ahead of the intake (${got1.length})`);
    assert.ok(got1.length < file.written.length, 'kennel died with lines still to send');

    second = await launchApmLogs({ intake, dir, logs, env: LOGS_ENV });
    const after = new TraceLoad({ socketPath: second.apmSocket }, 'kill-after');
    assert.equal(await after.round(), 200, 'the restarted kennel takes traces');
    await sleep(500);
    file.stop();
    const total = got1.length + (file.written.length - resumeAt);
    await waitFor(() => logMessages(intake, 'KILL').length >= total && spanCheck(after, spanArrivals(intake, 'kill-after')).missing.length === 0, 100);
    await sleep(500);
    assert.equal(await second.stop('SIGTERM'), 0, second.proc.stderr());

    const got = logMessages(intake, 'KILL');
    assert.equal(got.length, total, 'nothing beyond the resent run');
    assert.deepEqual(got.slice(0, got1.length), got1);
    assert.deepEqual(got.slice(got1.length), file.written.slice(resumeAt), 'the second kennel read the file from the stored offset to its end, once, in order');
    assert.equal(registryOffset(first.runPath, file.path), Buffer.byteLength(file.written.join('\n') + '\n'), 'the registry ends at the end of the file');
    const c = spanCheck(after, spanArrivals(intake, 'kill-after'));
    assert.deepEqual(brief(c), { missing: 0, duplicated: 0, unexpected: 0 });
    return (
      `kill -9 after ${got1.length} of ${file.written.length} lines sent: restart resumed at line ${resumeAt} (registry), ` +
      `${got1.length - resumeAt} lines sent twice (accepted after the last registry write), none lost; a trace after the restart arrived`
    );
  } finally {
    file.stop();
    await traces.stop();
    await first.stop('SIGKILL');
    await second?.stop('SIGKILL');
    await intake.close();
  }
}

async function sigtermUnderLoad(): Promise<string> {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const dir = mkdtempSync(join(tmpdir(), 'kennel-fault-term-'));
  const file = new FileWriter(join(dir, 'app.log'), 'TERM', 50, 25);
  const logs = [{ type: 'file', path: file.path, service: 'term-file', source: 'fault', start_position: 'beginning' }];
  intake.delayResponses(30);
  const k = await launchApmLogs({ intake, dir, logs, env: LOGS_ENV });
  const tcp = new TraceLoad({ port: k.apmPort }, 'term-tcp', { everyMs: 20 }).start();
  const uds = new TraceLoad({ socketPath: k.apmSocket }, 'term-uds', { everyMs: 20 }).start();
  file.start();
  try {
    await waitFor(() => logMessages(intake, 'TERM').length >= 2000 && (intake.counts().byStatus['202'] ?? 0) >= 25, 50);
    const status = await k.status();
    const pending = status.apmStats.kennel.forwarder.Pending as number;
    // The loads keep going until kennel has closed its listeners.
    assert.equal(await k.stop('SIGTERM'), 0, k.proc.stderr());
    file.stop();
    await tcp.stop();
    await uds.stop();

    for (const load of [tcp, uds]) {
      const c = spanCheck(load, spanArrivals(intake, load.service));
      assert.deepEqual(brief(c), { missing: 0, duplicated: 0, unexpected: 0 }, `${load.service}: ${JSON.stringify(c).slice(0, 400)}`);
    }
    const offset = registryOffset(k.runPath, file.path);
    assert.ok(offset !== null, 'the registry was written at stop');
    const sent = file.linesAt(offset);
    const got = logMessages(intake, 'TERM');
    assert.deepEqual(got, file.written.slice(0, sent), 'the intake has exactly the lines up to the stored offset, once, in order');
    assert.ok(/kennel: stopped; /.test(k.proc.stderr()), k.proc.stderr());
    return (
      `SIGTERM under load: exit 0; ${tcp.answered.size + uds.answered.size} spans answered 200 (TCP and UDS) all arrived once ` +
      `(${pending} APM payloads pending at the status before it); ${got.length} of ${file.written.length} lines sent = the registry offset (line ${sent})`
    );
  } finally {
    file.stop();
    await tcp.stop();
    await uds.stop();
    await k.stop('SIGKILL');
    await intake.close();
  }
}

/**
 * SIGTERM while the intake is down: the logs sender gives up after `stop_grace_period`, kennel
 * exits 0, and `registry.json` holds exactly the lines the intake accepted; the next start sends
 * the rest, each once (a graceful stop resends nothing).
 */
async function sigtermDuringOutage(): Promise<string> {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const dir = mkdtempSync(join(tmpdir(), 'kennel-fault-term-outage-'));
  const file = new FileWriter(join(dir, 'app.log'), 'TOUT', 50, 25);
  const logs = [{ type: 'file', path: file.path, service: 'term-outage', source: 'fault', start_position: 'beginning' }];
  const env = { ...LOGS_ENV, DD_LOGS_CONFIG_STOP_GRACE_PERIOD: '2' };
  const first = await launchApmLogs({ intake, dir, logs, env });
  let second: Awaited<ReturnType<typeof launchApmLogs>> | null = null;
  file.start();
  try {
    await waitFor(() => logMessages(intake, 'TOUT').length >= 1000, 50);
    intake.failFor(503, 24 * 3600 * 1000);
    await waitFor(async () => Number((await first.status()).logsStats.metrics.RetryCount) >= 3, 100);
    assert.equal(await first.stop('SIGTERM'), 0, first.proc.stderr());
    const got1 = logMessages(intake, 'TOUT');
    const offset = registryOffset(first.runPath, file.path)!;
    const acked = file.linesAt(offset);
    assert.deepEqual(got1, file.written.slice(0, got1.length), 'a prefix of the file, once, in order');
    assert.equal(acked, got1.length, 'the registry holds exactly what the intake accepted');
    assert.ok(/stop_grace_period elapsed; \d+ logs were not sent/.test(first.proc.stderr()), 'the sender said what it left');
    file.stop();
    intake.clearFaults();
    second = await launchApmLogs({ intake, dir, logs, env });
    await waitFor(() => logMessages(intake, 'TOUT').length >= file.written.length, 100);
    await sleep(500);
    assert.equal(await second.stop('SIGTERM'), 0, second.proc.stderr());
    assert.deepEqual(logMessages(intake, 'TOUT'), file.written, 'every line once, in order, over both runs');
    return `SIGTERM during an outage: exit 0 after stop_grace_period 2 s, the registry at line ${acked} = the ${got1.length} lines the intake had; the next start sent the other ${file.written.length - acked}, none twice`;
  } finally {
    file.stop();
    await first.stop('SIGKILL');
    await second?.stop('SIGKILL');
    await intake.close();
  }
}

test('APM and logs: kill -9 during log load and a restart; SIGTERM during trace and log load', { timeout: 180_000 }, async (t) => {
  bindTest(t);
  await allCases(t, {
    'kill -9, restart': killDashNine,
    'SIGTERM under load': sigtermUnderLoad,
    'SIGTERM during an outage': sigtermDuringOutage,
  });
});
