// Log files tailed by `kennel run` (DD_LOGS_ENABLED, DD_LOGS): rotation by rename and by
// copytruncate while tailed, a restart in the middle of a file over the same run path, an intake
// answering 503 for a while. Each time the fake intake ends up with every line exactly once, in
// the order each file was written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeIntake } from '@kennel/intake';
import { API_KEY, exactlyOnce, kennelEnv, messages, numbered, sleep, spawnKennel, tempDir, waitFor } from './logs-support.js';

function fileSource(path: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify([{ type: 'file', path, service: 'app', source: 'app', start_position: 'beginning', ...extra }]);
}

function append(path: string, lines: readonly string[]): void {
  appendFileSync(path, lines.map((l) => l + '\n').join(''));
}

/** Lines of `got` that start with `prefix`, in arrival order. */
function withPrefix(got: readonly string[], prefix: string): string[] {
  return got.filter((m) => m.startsWith(prefix + '-'));
}

function assertExactlyOnce(got: readonly string[], expected: readonly string[], stderr: string): void {
  const r = exactlyOnce(got, expected);
  assert.deepEqual(
    { missing: r.missing.length, duplicated: r.duplicated.length, unexpected: r.unexpected.length },
    { missing: 0, duplicated: 0, unexpected: 0 },
    `missing ${JSON.stringify(r.missing.slice(0, 5))}, duplicated ${JSON.stringify(r.duplicated.slice(0, 5))}, unexpected ${JSON.stringify(r.unexpected.slice(0, 5))}\n${stderr}`,
  );
}

test('a file rotated by rename, then by copytruncate, while tailed: every line exactly once, in order per file', { timeout: 120_000 }, async (t) => {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  // Teardown that runs when the test fails or times out too (spawnKennel registers kennel's).
  t.after(() => intake.close());
  const dir = tempDir();
  const log = join(dir, 'app.log');
  writeFileSync(log, '');
  const k = spawnKennel(t, ['run'], kennelEnv(intake, tempDir(), { DD_LOGS_ENABLED: 'true', DD_LOGS: fileSource(log), DD_LOGS_CONFIG_BATCH_WAIT: '0.1' }));
  try {
    const expected: string[] = [];
    const write = (lines: string[]): void => {
      append(log, lines);
      expected.push(...lines);
    };
    const allArrived = (): Promise<void> => waitFor(() => messages(intake).length >= expected.length, `${expected.length} lines at the intake`, k);

    await waitFor(() => k.stderr().includes('logs: collecting'), 'kennel is up', k);
    // Generation A, written in several appends while kennel reads.
    for (let i = 0; i < 5; i++) {
      write(numbered('A', i * 200, (i + 1) * 200, 40));
      await sleep(5);
    }
    await allArrived();

    // logrotate's default: rename, and the application keeps its descriptor a little longer.
    renameSync(log, join(dir, 'app.log.1'));
    const old = join(dir, 'app.log.1');
    appendFileSync(old, numbered('A', 1000, 1100, 40).map((l) => l + '\n').join(''));
    expected.push(...numbered('A', 1000, 1100, 40));
    // Then it reopens app.log: a new file, read from its start, even when a scan ran while there
    // was no file at the path (under load it did, and kennel used to start the new file at the old
    // one's offset: packages/logs/test/source-file.test.ts has the regression test).
    writeFileSync(log, '');
    for (let i = 0; i < 5; i++) {
      write(numbered('B', i * 200, (i + 1) * 200, 40));
      await sleep(5);
    }
    await allArrived();

    // copytruncate: the content is copied away and the file cut to 0 in place; kennel sees the
    // size fall under what it read and reads the file again from its start.
    copyFileSync(log, join(dir, 'app.log.2'));
    truncateSync(log, 0);
    // A first small write (shorter than what was read, so the truncation stays visible).
    write(numbered('C', 0, 10));
    await allArrived();
    for (let i = 0; i < 5; i++) {
      write(numbered('C', 10 + i * 200, 10 + (i + 1) * 200, 40));
      await sleep(5);
    }
    await allArrived();

    const got = messages(intake);
    assertExactlyOnce(got, expected, k.stderr());
    for (const p of ['A', 'B', 'C']) assert.deepEqual(withPrefix(got, p), withPrefix(expected, p), `file generation ${p} in order`);
    for (const e of intake.store.logs()) {
      assert.equal(e.service, 'app');
      assert.ok(e.tags.includes('filename:app.log'), e.ddtags);
    }
  } finally {
    await k.stop();
    await intake.close();
  }
});

test('kennel stopped in the middle of a file and started again over the same run path neither loses nor repeats a line', { timeout: 120_000 }, async (t) => {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  // Teardown that runs when the test fails or times out too (spawnKennel registers kennel's).
  t.after(() => intake.close());
  const dir = tempDir();
  const runPath = tempDir();
  const log = join(dir, 'big.log');
  const expected = numbered('L', 0, 20_000, 60);
  writeFileSync(log, expected.map((l) => l + '\n').join(''));
  // A slow intake and small payloads, so kennel is stopped with most of the file still to send.
  intake.delayResponses(40);
  const env = kennelEnv(intake, runPath, { DD_LOGS_ENABLED: 'true', DD_LOGS: fileSource(log), DD_LOGS_CONFIG_BATCH_MAX_SIZE: '100', DD_LOGS_CONFIG_PAYLOAD_CHANNEL_SIZE: '1' });
  try {
    const first = spawnKennel(t, ['run'], env);
    await waitFor(() => messages(intake).length >= 1000, 'a first part of the file is sent', first);
    first.kill('SIGTERM');
    assert.equal(await first.exit, 0, first.stderr());
    const sentBefore = messages(intake).length;
    assert.ok(sentBefore < expected.length, `stopped in the middle (${sentBefore} of ${expected.length} sent)`);
    const registry = JSON.parse(readFileSync(join(runPath, 'registry.json'), 'utf8')) as { Version: number; Registry: Record<string, { Offset: string }> };
    assert.equal(registry.Version, 2);
    const entry = registry.Registry[`file:${log}`];
    assert.ok(entry, JSON.stringify(registry));
    // The stored offset is just past the last line the intake has.
    assert.equal(Number(entry.Offset), expected.slice(0, sentBefore).reduce((n, l) => n + l.length + 1, 0));

    intake.clearFaults();
    // Lines written while kennel was away are read too.
    const more = numbered('L', 20_000, 20_500, 60);
    append(log, more);
    const second = spawnKennel(t, ['run'], env);
    await waitFor(() => messages(intake).length >= expected.length + more.length, 'the rest of the file is sent', second);
    second.kill('SIGTERM');
    assert.equal(await second.exit, 0, second.stderr());
    const got = messages(intake);
    assertExactlyOnce(got, [...expected, ...more], second.stderr());
    assert.deepEqual(got, [...expected, ...more], 'in file order');
  } finally {
    await intake.close();
  }
});

test('kennel killed with SIGKILL and started again loses no line (lines sent after the last registry write are sent again, as the agent does)', { timeout: 120_000 }, async (t) => {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  // Teardown that runs when the test fails or times out too (spawnKennel registers kennel's).
  t.after(() => intake.close());
  const dir = tempDir();
  const runPath = tempDir();
  const log = join(dir, 'crash.log');
  const expected = numbered('K', 0, 10_000, 60);
  writeFileSync(log, expected.map((l) => l + '\n').join(''));
  intake.delayResponses(40);
  const env = kennelEnv(intake, runPath, { DD_LOGS_ENABLED: 'true', DD_LOGS: fileSource(log), DD_LOGS_CONFIG_BATCH_MAX_SIZE: '100', DD_LOGS_CONFIG_PAYLOAD_CHANNEL_SIZE: '1' });
  try {
    const first = spawnKennel(t, ['run'], env);
    await waitFor(() => messages(intake).length >= 1000, 'a first part of the file is sent', first);
    first.kill('SIGKILL');
    await first.exit;
    intake.clearFaults();
    const second = spawnKennel(t, ['run'], env);
    await waitFor(() => new Set(messages(intake)).size >= expected.length, 'every line is at the intake', second);
    second.kill('SIGTERM');
    assert.equal(await second.exit, 0, second.stderr());
    const got = messages(intake);
    const r = exactlyOnce(got, expected);
    assert.deepEqual(r.missing, []);
    assert.deepEqual(r.unexpected, []);
    // What was sent twice is one run of lines: the ones acknowledged after the last write of registry.json.
    const firstRepeat = got.findIndex((m, i) => got.indexOf(m) !== i);
    if (firstRepeat >= 0) {
      const resumedAt = expected.indexOf(got[firstRepeat]!);
      assert.deepEqual(got.slice(firstRepeat), expected.slice(resumedAt), 'the second run resumed at a line boundary and read on in order');
    }
  } finally {
    await intake.close();
  }
});

test('an intake answering 503 for a while: the lines wait and are all sent once it recovers, exactly once and in order', { timeout: 120_000 }, async (t) => {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  // Teardown that runs when the test fails or times out too (spawnKennel registers kennel's).
  t.after(() => intake.close());
  const dir = tempDir();
  const log = join(dir, 'outage.log');
  writeFileSync(log, '');
  const k = spawnKennel(t, ['run'], kennelEnv(intake, tempDir(), { DD_LOGS_ENABLED: 'true', DD_LOGS: fileSource(log), DD_LOGS_CONFIG_BATCH_WAIT: '0.1', DD_LOGS_CONFIG_BATCH_MAX_SIZE: '200' }));
  try {
    await waitFor(() => k.stderr().includes('logs: collecting'), 'kennel is up', k);
    const before = numbered('O', 0, 500, 20);
    append(log, before);
    await waitFor(() => messages(intake).length >= before.length, 'the first lines are sent', k);

    intake.failFor(503, 3000);
    const during = numbered('O', 500, 3000, 20);
    for (let i = 0; i < during.length; i += 250) {
      append(log, during.slice(i, i + 250));
      await sleep(10);
    }
    const expected = [...before, ...during];
    await waitFor(() => messages(intake).length >= expected.length, 'every line is sent after the outage', k);
    const got = messages(intake);
    assertExactlyOnce(got, expected, k.stderr());
    assert.deepEqual(got, expected, 'in file order');
    const refused = intake.requests().filter((r) => r.path === '/api/v2/logs' && r.status === 503).length;
    assert.ok(refused > 0, 'the intake refused payloads during the outage');
  } finally {
    await k.stop();
    await intake.close();
  }
});
