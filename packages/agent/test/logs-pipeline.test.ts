import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKennelError } from '@kennel/core';
import { startAgent } from '../src/commands/run.js';
import { loadConfig } from '../src/config/load.js';
import { ackLastPerSource, resolveLogsEntries } from '../src/topology/logs-pipeline.js';
import { LocalSink } from '../src/topology/sinks.js';
import { formatStatus } from '../src/topology/status-format.js';

const OFF = { DD_DOGSTATSD_PORT: '0', DD_DOGSTATSD_SOCKET: '', DD_CMD_PORT: '0', DD_APM_ENABLED: 'false' };

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'kennel-agent-logs-'));
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}

function sendTcp(port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(text));
    s.on('close', () => resolve());
    s.on('error', reject);
  });
}

async function configError(env: Record<string, string>, file?: string): Promise<string> {
  try {
    const a = await startAgent({ ...OFF, DD_RUN_PATH: tempDir(), ...env }, { log: () => {} }, file);
    await a.stop();
  } catch (e) {
    assert.ok(isKennelError(e), String(e));
    return (e as Error).message;
  }
  assert.fail('expected a configuration error');
}

test('logs are off by default: no pipeline, and status says the Logs Agent is not running', async () => {
  const a = await startAgent({ ...OFF, DD_RUN_PATH: tempDir() }, { log: () => {} });
  try {
    assert.equal(a.logs, null);
    const s = a.stats();
    assert.deepEqual((s.logsStats as { is_running: boolean }).is_running, false);
    assert.match(formatStatus(s), /==========\nLogs Agent\n==========\n\n {2}Logs Agent is not running\n/);
  } finally {
    await a.stop();
  }
});

test('malformed logs settings stop the start with a message naming the variable', async () => {
  assert.match(await configError({ DD_LOGS_ENABLED: 'true', DD_LOGS: '[{"type":"file"' }), /DD_LOGS: expected a JSON value/);
  assert.match(await configError({ DD_LOGS_ENABLED: 'true', DD_LOGS: '{"type":"file"}' }), /DD_LOGS: expected a list of log sources/);
  assert.match(await configError({ DD_LOGS_ENABLED: 'true', DD_LOGS: '[{"type":"file"}]' }), /DD_LOGS\[0\]\.path is required/);
  assert.match(await configError({ DD_LOGS_ENABLED: 'true', DD_LOGS: '[{"type":"journald"}]' }), /DD_LOGS\[0\]\.type must be file, tcp or udp/);
  assert.match(
    await configError({ DD_LOGS_ENABLED: 'true', DD_LOGS_CONFIG_PROCESSING_RULES: '[{"type":"exclude_at_match","name":"x","pattern":"(?<=a)b"}]' }),
    /DD_LOGS_CONFIG_PROCESSING_RULES\[0\]/,
  );
  assert.match(await configError({ DD_LOGS_ENABLED: 'true', DD_LOGS_CONFIG_BATCH_WAIT: '30' }), /DD_LOGS_CONFIG_BATCH_WAIT/);
  assert.match(await configError({ DD_LOGS_ENABLED: 'true', DD_API_KEY: 'k', DD_LOGS_CONFIG_LOGS_DD_URL: 'no-port' }), /logs_config\.logs_dd_url/);
});

test('a tcp entry of logs: and the global processing rules, in local mode: the local intake keeps the lines', { timeout: 30_000 }, async () => {
  const logs: string[] = [];
  const a = await startAgent(
    {
      ...OFF,
      DD_RUN_PATH: tempDir(),
      DD_HOSTNAME: 'h1',
      DD_TAGS: 'env:test',
      DD_LOGS_ENABLED: 'true',
      DD_LOGS: JSON.stringify([{ type: 'tcp', port: 0, service: 'pay', source: 'java', tags: ['team:a'] }]),
      DD_LOGS_CONFIG_PROCESSING_RULES: JSON.stringify([
        { type: 'exclude_at_match', name: 'no_health', pattern: 'GET /health' },
        { type: 'mask_sequences', name: 'cards', pattern: '\\d{4}-\\d{4}-\\d{4}-\\d{4}', replace_placeholder: '[card]' },
      ]),
      DD_LOGS_CONFIG_BATCH_WAIT: '0.1',
    },
    { log: (s) => logs.push(s) },
  );
  try {
    assert.ok(a.logs);
    const [listener] = a.logs.listenerPorts();
    assert.equal(listener!.type, 'tcp');
    await sendTcp(listener!.port, 'GET /health 200\npaid with 1234-5678-9012-3456\nerror: declined\n');
    const store = (a.sink as LocalSink).intake.store;
    await until(() => store.logs().length >= 2);
    const got = store.logs();
    assert.deepEqual(
      got.map((e) => e.message),
      ['paid with [card]', 'error: declined'],
    );
    for (const e of got) {
      assert.equal(e.service, 'pay');
      assert.equal(e.ddsource, 'java');
      assert.equal(e.hostname, 'h1');
      assert.ok(e.tags.includes('team:a') && e.tags.includes('env:test'), e.ddtags);
    }
    const s = a.logs.logsStats();
    assert.equal(s.metrics.LogsSent, '2');
    assert.equal(s.metrics.LogsProcessed, '2');
    assert.equal(s.integrations[0]!.sources[0]!.type, 'tcp');
    assert.ok(logs.some((l) => l.includes('logs: collecting tcp port 0')), logs.join('\n'));
    assert.match(formatStatus(a.stats()), /\n {4}LogsSent: 2\n/);
  } finally {
    await a.stop();
  }
});

test('the top-level logs: list and logs_config.processing_rules of datadog.yaml', () => {
  const dir = tempDir();
  const file = join(dir, 'datadog.yaml');
  writeFileSync(
    file,
    [
      'logs_enabled: true',
      'logs_config:',
      '  run_path: /var/lib/kennel',
      '  processing_rules:',
      '    - type: exclude_at_match',
      '      name: drop_debug',
      '      pattern: DEBUG',
      'logs:',
      '  - type: file',
      '    path: /var/log/app/*.log',
      '    service: app',
      '    source: python',
      '    start_position: beginning',
      '    log_processing_rules:',
      '      - type: multi_line',
      '        name: new_record',
      '        pattern: \\d{4}-\\d{2}-\\d{2}',
      '',
    ].join('\n'),
  );
  const c = loadConfig({}, file);
  assert.deepEqual(c.unknownFileKeys, []);
  assert.equal(c.bool('logs_enabled'), true);
  assert.equal(c.string('logs_config.run_path'), '/var/lib/kennel');
  const [entry] = resolveLogsEntries(c);
  assert.equal(entry!.type, 'file');
  assert.equal(entry!.type === 'file' && entry!.path, '/var/log/app/*.log');
  assert.equal(entry!.rules[0]!.type, 'multi_line');
  assert.equal((c.json('logs_config.processing_rules') as unknown[]).length, 1);
});

test('a payload acknowledges the last offset of each source, in the order of their last message', () => {
  const acks: [string, number | undefined][] = [];
  const msg = (sourceId: string, offset?: number) => ({ content: '', status: 'info', service: '', source: '', tags: [], timestamp: 0, origin: { sourceId, offset } });
  ackLastPerSource({ ack: (id, off) => acks.push([id as string, off]) }, [msg('a', 10), msg('child:stdout'), msg('a', 20), msg('b', 5), msg('a', 30), msg('b', 9)]);
  assert.deepEqual(acks, [['a', 30], ['b', 9]]);
  acks.length = 0;
  ackLastPerSource({ ack: (id, off) => acks.push([id as string, off]) }, [msg('a', 1), msg('a', 2)]);
  assert.deepEqual(acks, [['a', 2]]);
  acks.length = 0;
  ackLastPerSource({ ack: (id, off) => acks.push([id as string, off]) }, [msg('child:stdout')]);
  assert.deepEqual(acks, []);
});
