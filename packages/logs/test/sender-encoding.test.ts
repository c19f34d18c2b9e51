import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKennelError } from '@kennel/core';
import {
  formatEndpointStatus,
  formatGoDuration,
  goJsonString,
  LogEventEncoder,
  LogsBackoffPolicy,
  resolveLogsEndpoint,
  resolveLogsSenderConfig,
  classifyLogsOutcome,
  buildLogsHeaders,
  HttpLogsSink,
} from '../src/index.js';
import { API_KEY, line, NOW } from './sender-support.js';

test('an event is encoded with the agent field names in the agent order', () => {
  const e = new LogEventEncoder('web-1');
  assert.equal(
    e.encode(line('file:/var/log/app.log', 0, 'GET /health 200'), NOW),
    '{"message":"GET /health 200","status":"info","timestamp":1700000000000,"hostname":"web-1","service":"api","ddsource":"nginx","ddtags":"env:test,src:file:/var/log/app.log"}',
  );
});

test('ddtags is one comma-joined string and an empty tag list is an empty string', () => {
  const e = new LogEventEncoder('h');
  const m = { ...line('s', 0, 'x'), tags: [] };
  assert.equal(JSON.parse(e.encode(m, NOW)).ddtags, '');
  assert.equal(JSON.parse(e.encode({ ...m, tags: ['a:1', 'b:2', 'c'] }, NOW)).ddtags, 'a:1,b:2,c');
});

test('an empty status is encoded as info', () => {
  const e = new LogEventEncoder('h');
  assert.equal(JSON.parse(e.encode({ ...line('s', 0), status: '' }, NOW)).status, 'info');
  assert.equal(JSON.parse(e.encode({ ...line('s', 0), status: 'error' }, NOW)).status, 'error');
});

test('strings are escaped as Go encoders escape them: HTML characters and U+2028/U+2029', () => {
  assert.equal(goJsonString('<p>a & b</p>'), '"\\u003cp\\u003ea \\u0026 b\\u003c/p\\u003e"');
  assert.equal(goJsonString('a\u2028b\u2029c'), '"a\\u2028b\\u2029c"');
  assert.equal(goJsonString('tab\there "q" \\ \n'), '"tab\\there \\"q\\" \\\\ \\n"');
  assert.equal(goJsonString('🌔 Îńfø'), '"🌔 Îńfø"');
});

test('invalid UTF-8 bytes and lone surrogates become U+FFFD', () => {
  const e = new LogEventEncoder('h');
  const bytes = new Uint8Array([0x61, 0xff, 0x62, 0xc3, 0xa9]);
  assert.equal(JSON.parse(e.encode({ ...line('s', 0), content: bytes }, NOW)).message, 'a\ufffdbé');
  assert.equal(JSON.parse(e.encode({ ...line('s', 0), content: 'x\ud800y' }, NOW)).message, 'x\ufffdy');
});

test('the timestamp is the encode time in whole milliseconds', () => {
  const e = new LogEventEncoder('h');
  assert.equal(JSON.parse(e.encode(line('s', 0), 1_700_000_000_123.9)).timestamp, 1_700_000_000_123);
});

test('durations print as Go prints them', () => {
  assert.equal(formatGoDuration(0), '0s');
  assert.equal(formatGoDuration(750), '750ns');
  assert.equal(formatGoDuration(1500), '1.5µs');
  assert.equal(formatGoDuration(12_345_000), '12.345ms');
  assert.equal(formatGoDuration(1_500_000_000), '1.5s');
  assert.equal(formatGoDuration(90e9), '1m30s');
  assert.equal(formatGoDuration(7.2e12), '2h0m0s');
  assert.equal(formatGoDuration(3_723_500_000_000), '1h2m3.5s');
});

test('the default endpoint is agent-http-intake.logs.datadoghq.com over HTTPS on /api/v2/logs', () => {
  const e = resolveLogsEndpoint({ apiKey: ` ${API_KEY} ` });
  assert.deepEqual({ ...e }, {
    host: 'agent-http-intake.logs.datadoghq.com',
    port: 0,
    useSSL: true,
    url: 'https://agent-http-intake.logs.datadoghq.com/api/v2/logs',
    apiKey: API_KEY,
  });
  assert.equal(formatEndpointStatus(e, true), 'Reliable: Sending compressed logs in HTTPS to agent-http-intake.logs.datadoghq.com on port 443');
  assert.equal(new HttpLogsSink(e).statusLine(false), 'Reliable: Sending uncompressed logs in HTTPS to agent-http-intake.logs.datadoghq.com on port 443');
});

test('the site picks the intake host', () => {
  assert.equal(resolveLogsEndpoint({ apiKey: 'k', site: 'datadoghq.eu' }).url, 'https://agent-http-intake.logs.datadoghq.eu/api/v2/logs');
  assert.equal(resolveLogsEndpoint({ apiKey: 'k', site: 'us5.datadoghq.com' }).host, 'agent-http-intake.logs.us5.datadoghq.com');
});

test('logs_dd_url as host:port uses TLS unless logs_no_ssl', () => {
  const tls = resolveLogsEndpoint({ apiKey: 'k', logsDdUrl: 'relay.internal:10514' });
  assert.equal(tls.url, 'https://relay.internal:10514/api/v2/logs');
  assert.equal(formatEndpointStatus(tls, true), 'Reliable: Sending compressed logs in HTTPS to relay.internal on port 10514');
  const plain = resolveLogsEndpoint({ apiKey: 'k', logsDdUrl: 'relay.internal:10514', logsNoSsl: true });
  assert.equal(plain.url, 'http://relay.internal:10514/api/v2/logs');
  assert.equal(resolveLogsEndpoint({ apiKey: 'k', logsDdUrl: '[::1]:8080', logsNoSsl: true }).url, 'http://[::1]:8080/api/v2/logs');
});

test('logs_dd_url with a scheme takes TLS and port from the URL and ignores logs_no_ssl', () => {
  const e = resolveLogsEndpoint({ apiKey: 'k', logsDdUrl: 'http://127.0.0.1:8080', logsNoSsl: false });
  assert.deepEqual([e.host, e.port, e.useSSL, e.url], ['127.0.0.1', 8080, false, 'http://127.0.0.1:8080/api/v2/logs']);
  const s = resolveLogsEndpoint({ apiKey: 'k', logsDdUrl: 'https://proxy.example' });
  assert.deepEqual([s.port, s.url], [0, 'https://proxy.example/api/v2/logs']);
  assert.equal(formatEndpointStatus(e, true), 'Reliable: Sending compressed logs in HTTP to 127.0.0.1 on port 8080');
});

test('logs_config.dd_url replaces the site-derived host', () => {
  assert.equal(resolveLogsEndpoint({ apiKey: 'k', ddUrl: 'logs.example.com', site: 'datadoghq.eu' }).url, 'https://logs.example.com/api/v2/logs');
  assert.equal(resolveLogsEndpoint({ apiKey: 'k', ddUrl: 'http://10.0.0.1:9000' }).url, 'http://10.0.0.1:9000/api/v2/logs');
});

test('a logs_dd_url without a port is a configuration error naming the key', () => {
  assert.throws(
    () => resolveLogsEndpoint({ apiKey: 'k', logsDdUrl: 'relay.internal' }),
    (e: unknown) => isKennelError(e) && e.code === 'ERR_CONFIG_INVALID' && e.message === 'logs_config.logs_dd_url: could not parse "relay.internal": missing port in address',
  );
});

test('the request carries the agent headers', () => {
  assert.deepEqual(buildLogsHeaders({ contentEncoding: 'zstd', messageTimestampMs: 1_699_999_999_000 }, API_KEY, NOW), {
    'DD-API-KEY': API_KEY,
    'Content-Type': 'application/json',
    'User-Agent': 'datadog-agent/7.64.0',
    'Content-Encoding': 'zstd',
    'DD-PROTOCOL': 'agent-json',
    'DD-EVP-ORIGIN': 'agent',
    'DD-EVP-ORIGIN-VERSION': '7.64.0',
    'dd-message-timestamp': '1699999999000',
    'dd-current-timestamp': '1700000000000',
  });
});

test('only 400, 401, 403 and 413 drop; every other error status and transport failures retry', () => {
  const verdict = (status: number): string => classifyLogsOutcome({ kind: 'response', status, body: '' });
  assert.deepEqual([200, 202, 204, 301, 399].map(verdict), ['success', 'success', 'success', 'success', 'success']);
  assert.deepEqual([400, 401, 403, 413].map(verdict), ['drop', 'drop', 'drop', 'drop']);
  assert.deepEqual([402, 404, 408, 429, 500, 502, 503, 504].map(verdict), ['retry', 'retry', 'retry', 'retry', 'retry', 'retry', 'retry', 'retry']);
  assert.equal(classifyLogsOutcome({ kind: 'error', code: 'ECONNREFUSED', message: '' }), 'retry');
  assert.equal(classifyLogsOutcome({ kind: 'cancelled' }), 'cancelled');
});

test('the backoff with the logs defaults waits 1-2 s, 2-4 s, ... 32-64 s, then 120 s flat', () => {
  const p = new LogsBackoffPolicy({ base: 1, factor: 2, max: 120, recoveryInterval: 2, recoveryReset: false });
  assert.equal(p.maxErrors, 7);
  const low = (n: number): number => p.backoffNs(n, () => 0);
  const high = (n: number): number => p.backoffNs(n, () => 1);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map(low), [0, 1e9, 2e9, 4e9, 8e9, 16e9, 32e9, 120e9]);
  assert.deepEqual([1, 2, 6, 7].map(high), [2e9, 4e9, 64e9, 120e9]);
  assert.equal(p.incError(7), 7);
  assert.equal(p.decError(3), 1);
  assert.equal(p.decError(1), 0);
  assert.equal(new LogsBackoffPolicy({ base: 1, factor: 2, max: 120, recoveryInterval: 2, recoveryReset: true }).decError(7), 0);
});

test('the configuration has the agent defaults', () => {
  const c = resolveLogsSenderConfig();
  assert.deepEqual(
    { ...c, backoff: { ...c.backoff } },
    {
      batchWaitMs: 5000,
      batchMaxSize: 1000,
      batchMaxContentSize: 5_000_000,
      payloadChannelSize: 10,
      useCompression: true,
      compressionKind: 'zstd',
      compressionLevel: 1,
      httpTimeoutMs: 10_000,
      backoff: { base: 1, factor: 2, max: 120, recoveryInterval: 2, recoveryReset: false },
      stopGracePeriodMs: 30_000,
      useContainerTimestamp: false,
    },
  );
  assert.equal(resolveLogsSenderConfig({ compressionKind: 'gzip' }).compressionLevel, 6);
});

test('an unknown compression kind falls back to zstd with the agent warning', () => {
  const warnings: string[] = [];
  assert.equal(resolveLogsSenderConfig({ compressionKind: 'lz4' }, { warn: (l) => warnings.push(l) }).compressionKind, 'zstd');
  assert.deepEqual(warnings, ["Invalid compression kind: 'lz4', falling back to default compression: 'zstd' "]);
});

test('an out-of-range option is an error naming its agent key', () => {
  assert.throws(
    () => resolveLogsSenderConfig({ batchWait: 30 }),
    (e: unknown) => isKennelError(e) && e.message === 'logs_config.batch_wait (batchWait): expected seconds from 0.1 to 10, got 30',
  );
  assert.throws(
    () => resolveLogsSenderConfig({ batchMaxSize: 0 }),
    (e: unknown) => isKennelError(e) && e.message === 'logs_config.batch_max_size (batchMaxSize): expected a whole number of at least 1, got 0',
  );
});
