import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, redactApiKey } from '../src/index.js';

function yamlFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kennel-config-'));
  const f = join(dir, 'datadog.yaml');
  writeFileSync(f, text);
  return f;
}

describe('configuration', () => {
  test('has the agent defaults', () => {
    const c = loadConfig({});
    assert.equal(c.int('dogstatsd_port'), 8125);
    assert.equal(c.string('dogstatsd_socket'), '/var/run/datadog/dsd.socket');
    assert.equal(c.int('dogstatsd_buffer_size'), 8192);
    assert.equal(c.int('forwarder_timeout'), 20);
    assert.equal(c.int('forwarder_retry_queue_payloads_max_size'), 15 * 1024 * 1024);
    assert.equal(c.string('serializer_compressor_kind'), 'zstd');
    assert.deepEqual(c.list('histogram_aggregates'), ['max', 'median', 'avg', 'count']);
    assert.deepEqual(c.list('histogram_percentiles'), ['0.95']);
    assert.equal(c.int('cmd_port'), 5001);
    assert.equal(c.source('dogstatsd_port'), 'default');
  });

  test('reads every key from DD_ variables, lists space-separated', () => {
    const c = loadConfig({ DD_DOGSTATSD_PORT: '9125', DD_TAGS: 'env:prod team:core', DD_HISTOGRAM_PERCENTILES: '0.5 0.99', DD_USE_V2_API_SERIES: 'false' });
    assert.equal(c.int('dogstatsd_port'), 9125);
    assert.deepEqual(c.list('tags'), ['env:prod', 'team:core']);
    assert.deepEqual(c.list('histogram_percentiles'), ['0.5', '0.99']);
    assert.equal(c.bool('use_v2_api.series'), false);
    assert.equal(c.source('tags'), 'env');
  });

  test('reads a datadog.yaml, nested keys included, and the environment wins over it', () => {
    const f = yamlFile('dogstatsd_port: 9000\ntags:\n  - a:b\nuse_v2_api:\n  series: false\nsite: datadoghq.eu\nlogs_config:\n  container_collect_all: true\n');
    const c = loadConfig({ DD_SITE: 'us5.datadoghq.com' }, f);
    assert.equal(c.int('dogstatsd_port'), 9000);
    assert.deepEqual(c.list('tags'), ['a:b']);
    assert.equal(c.bool('use_v2_api.series'), false);
    assert.equal(c.string('site'), 'us5.datadoghq.com');
    assert.equal(c.source('dogstatsd_port'), 'file');
    assert.deepEqual(c.unknownFileKeys, ['logs_config.container_collect_all']);
  });

  test('accepts the agent aliases (DD_URL for dd_url)', () => {
    assert.equal(loadConfig({ DD_URL: 'http://127.0.0.1:9' }).string('dd_url'), 'http://127.0.0.1:9');
  });

  test('stops with a message naming the variable and what was expected', () => {
    assert.throws(() => loadConfig({ DD_DOGSTATSD_PORT: '70000' }), /DD_DOGSTATSD_PORT: expected a whole number from 0 to 65535, got "70000"/);
    assert.throws(() => loadConfig({ DD_DOGSTATSD_NON_LOCAL_TRAFFIC: 'yes' }), /DD_DOGSTATSD_NON_LOCAL_TRAFFIC: expected a boolean \(true or false\), got "yes"/);
    assert.throws(() => loadConfig({ DD_DOGSTATSD_EOL_REQUIRED: 'udp tcp' }), /DD_DOGSTATSD_EOL_REQUIRED: expected a list of udp, uds, named_pipe, got "tcp"/);
  });

  test('stops with a message naming the file and key for a malformed file value', () => {
    const f = yamlFile('dogstatsd_buffer_size: lots\n');
    assert.throws(() => loadConfig({}, f), new RegExp(`${f.replaceAll('/', '\\/')}: dogstatsd_buffer_size: expected a whole number`));
  });

  test('stops with a clear message for a missing or invalid file', () => {
    assert.throws(() => loadConfig({}, '/nonexistent/datadog.yaml'), /cannot read the configuration file \/nonexistent\/datadog.yaml/);
    assert.throws(() => loadConfig({}, yamlFile('a: [1, 2\n')), /is not valid YAML/);
    assert.throws(() => loadConfig({}, yamlFile('- a\n- b\n')), /top level must be a mapping/);
  });

  test('shows only the last five characters of an API key', () => {
    assert.equal(redactApiKey('0123456789abcdef0123456789abcdef'), '***************************bcdef');
    assert.equal(redactApiKey(''), '(none)');
  });
});
