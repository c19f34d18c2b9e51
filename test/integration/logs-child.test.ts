// `kennel run -- CMD ARGS`: a real child process, its stdout and stderr collected as logs and sent
// to a fake intake over HTTP (zstd, the agent's headers), its exit code passed on as kennel's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeIntake } from '@kennel/intake';
import { freeTcpPort, runKennel } from '../utils/index.js';
import { API_KEY, kennelEnv, messages, spawnKennel, tempDir, waitFor } from './logs-support.js';

/** A node -e program: `node -e <script>`. */
function nodeChild(script: string): string[] {
  return ['--', process.execPath, '-e', script];
}

test('kennel run -- node -e: stdout lines are info, stderr lines error, partial writes joined, the exit code passed on', { timeout: 60_000 }, async (t) => {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  try {
    const script = `
      const out = (s) => process.stdout.write(s);
      const err = (s) => process.stderr.write(s);
      out('out-1\\n');
      err('err-1\\n');
      // One line written in three pieces, across event loop turns, then two lines in one write.
      out('out-2 first half');
      setTimeout(() => {
        out(', second half');
        setTimeout(() => {
          out(', end\\nout-3\\nout-4\\n');
          err('err-2 partial');
          setTimeout(() => { err(' joined\\n'); out('out-5 no newline at exit'); process.exitCode = 7; }, 30);
        }, 30);
      }, 30);
    `;
    const k = spawnKennel(t, ['run', ...nodeChild(script)], kennelEnv(intake, tempDir(), { DD_SERVICE: 'checkout', DD_LOGS_CONFIG_CHILD_SOURCE: 'nodejs', DD_TAGS: 'team:logs' }));
    const code = await k.exit;
    assert.equal(code, 7, k.stderr());

    const all = intake.store.logs();
    const out = all.filter((e) => e.status === 'info').map((e) => e.message);
    const err = all.filter((e) => e.status === 'error').map((e) => e.message);
    assert.deepEqual(out, ['out-1', 'out-2 first half, second half, end', 'out-3', 'out-4', 'out-5 no newline at exit'], k.stderr());
    assert.deepEqual(err, ['err-1', 'err-2 partial joined']);
    assert.equal(all.length, 7);
    for (const e of all) {
      assert.equal(e.service, 'checkout');
      assert.equal(e.ddsource, 'nodejs');
      assert.equal(e.hostname, 'logs-host');
      assert.ok(e.tags.includes('team:logs'), e.ddtags);
    }
    // The agent's request: zstd, the agent-json protocol, the API key.
    const req = intake.requests().find((r) => r.path === '/api/v2/logs');
    assert.ok(req, JSON.stringify(intake.requests().map((r) => r.path)));
    assert.equal(req.headers['content-encoding'], 'zstd');
    assert.equal(req.headers['dd-protocol'], 'agent-json');
    assert.equal(req.headers['dd-evp-origin'], 'agent');
    // The child's output is still kennel's (the container log keeps the application's lines).
    assert.ok(k.stdout().includes('out-1\n') && k.stderr().includes('err-1\n'), k.stdout());
    assert.ok(!k.stderr().includes(API_KEY), 'the API key never appears in a log line');
  } finally {
    await intake.close();
  }
});

test('JSON logs keep dd.trace_id and dd.span_id as the application wrote them', { timeout: 60_000 }, async (t) => {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  try {
    const lines = [
      { message: 'charged card', level: 'info', 'dd.trace_id': '1234567890123456789', 'dd.span_id': '987654321' },
      // What dd-trace-js writes with DD_LOGS_INJECTION: a nested dd object, 128-bit trace id in hex as well.
      { msg: 'refund', dd: { trace_id: '5678901234567890123', span_id: '123456789', service: 'checkout', env: 'prod', version: '1.2.3' } },
    ];
    const script = `for (const l of ${JSON.stringify(lines)}) console.log(JSON.stringify(l));`;
    const k = spawnKennel(t, ['run', ...nodeChild(script)], kennelEnv(intake, tempDir()));
    assert.equal(await k.exit, 0, k.stderr());
    const got = messages(intake).map((m) => JSON.parse(m) as Record<string, unknown>);
    assert.deepEqual(got, lines);
    assert.equal(intake.store.logs()[0]!.service, 'node', 'the service defaults to the command name');
  } finally {
    await intake.close();
  }
});

test('SIGTERM sent to kennel is passed on to the child; kennel waits for it, sends its last lines and exits with its code', { timeout: 60_000 }, async (t) => {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  try {
    const script = `
      process.on('SIGTERM', () => {
        console.log('got SIGTERM, draining');
        setTimeout(() => { console.error('bye'); process.exit(42); }, 50);
      });
      console.log('ready');
      setInterval(() => {}, 1000);
    `;
    const k = spawnKennel(t, ['run', ...nodeChild(script)], kennelEnv(intake, tempDir()));
    await waitFor(() => k.stdout().includes('ready\n'), 'the child is ready', k);
    k.kill('SIGTERM');
    assert.equal(await k.exit, 42, k.stderr());
    assert.deepEqual(messages(intake), ['ready', 'got SIGTERM, draining', 'bye']);
    assert.ok(k.stderr().includes('exited with 42'), k.stderr());
  } finally {
    await intake.close();
  }
});

test('a child killed by a signal gives 128 + the signal number; a command that cannot start gives 127', { timeout: 60_000 }, async (t) => {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  try {
    const killed = spawnKennel(t, ['run', ...nodeChild("console.log('going'); process.kill(process.pid, 'SIGKILL')")], kennelEnv(intake, tempDir()));
    assert.equal(await killed.exit, 137, killed.stderr());
    assert.deepEqual(messages(intake), ['going']);

    const missing = spawnKennel(t, ['run', '--', '/nonexistent/kennel-test-app'], kennelEnv(intake, tempDir()));
    assert.equal(await missing.exit, 127, missing.stderr());
    assert.match(missing.stderr(), /cannot start \/nonexistent\/kennel-test-app/);

    const noCommand = await runKennel(['run', '--'], kennelEnv(intake, tempDir()));
    assert.equal(noCommand.code, 2);
    assert.match(noCommand.stderr, /give the command to run after --/);
  } finally {
    await intake.close();
  }
});

test('kennel status shows the Logs Agent section (and --json its logsStats) while the child runs; local mode keeps the lines', { timeout: 60_000 }, async (t) => {
  const cmdPort = await freeTcpPort();
  const env = { DD_CMD_PORT: String(cmdPort), DD_DOGSTATSD_PORT: '0', DD_DOGSTATSD_SOCKET: '', DD_APM_ENABLED: 'false', DD_RUN_PATH: tempDir(), DD_LOGS_CONFIG_BATCH_WAIT: '0.1' };
  const script = `for (let i = 0; i < 5; i++) console.log('line ' + i); console.error('warned'); setInterval(() => {}, 1000);`;
  const k = spawnKennel(t, ['run', ...nodeChild(script)], env);
  try {
    type LogsStats = { is_running: boolean; endpoints: string[]; metrics: Record<string, string>; integrations: { name: string; sources: { type: string; status: string }[] }[] };
    let stats: LogsStats | undefined;
    await waitFor(
      async () => {
        const r = await runKennel(['status', '--json'], { DD_CMD_PORT: String(cmdPort) });
        if (r.code !== 0) return false;
        stats = (JSON.parse(r.stdout) as { logsStats: LogsStats }).logsStats;
        return stats.metrics.LogsSent === '6';
      },
      'the six lines are sent',
      k,
    );
    assert.equal(stats!.is_running, true);
    assert.equal(stats!.metrics.LogsProcessed, '6');
    assert.match(stats!.endpoints[0]!, /^Local: /);
    assert.equal(stats!.integrations[0]!.sources[0]!.type, 'process');

    const text = await runKennel(['status'], { DD_CMD_PORT: String(cmdPort) });
    assert.match(text.stdout, /==========\nLogs Agent\n==========\n\n/);
    assert.match(text.stdout, /\n {4}LogsProcessed: 6\n/);
    assert.match(text.stdout, /\n {4}LogsSent: 6\n/);
    assert.match(text.stdout, /\n {4}RetryTimeSpent: 0s\n/);
  } finally {
    k.kill('SIGTERM');
  }
  // The child had no SIGTERM handler: it died of the signal, which kennel passes on.
  assert.equal(await k.exit, 143, k.stderr());
});

test('without logs_enabled and without a command, status says the Logs Agent is not running', { timeout: 60_000 }, async (t) => {
  const cmdPort = await freeTcpPort();
  const k = spawnKennel(t, ['run'], { DD_CMD_PORT: String(cmdPort), DD_DOGSTATSD_PORT: '0', DD_DOGSTATSD_SOCKET: '', DD_APM_ENABLED: 'false', DD_RUN_PATH: tempDir() });
  try {
    await waitFor(() => k.stderr().includes('local mode'), 'kennel is up', k);
    const json = await runKennel(['status', '--json'], { DD_CMD_PORT: String(cmdPort) });
    assert.equal((JSON.parse(json.stdout) as { logsStats: { is_running: boolean } }).logsStats.is_running, false);
    const text = await runKennel(['status'], { DD_CMD_PORT: String(cmdPort) });
    assert.match(text.stdout, /Logs Agent\n==========\n\n {2}Logs Agent is not running\n/);
  } finally {
    k.kill('SIGTERM');
  }
  assert.equal(await k.exit, 0);
});
