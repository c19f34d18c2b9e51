import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { isKennelError } from '@kennel/core';
import {
  addAgentVersionToDomain,
  AGENT_PAYLOAD_VERSION,
  AGENT_VERSION,
  buildHeaders,
  classifyTransportError,
  createScrubber,
  endpointName,
  Forwarder,
  FORWARDER_CONFIG_KEYS,
  HttpTransport,
  redactApiKey,
  resolveForwarderConfig,
  resolveIntakeUrl,
  scrubUrl,
} from '../src/index.js';
import { API_KEY, captureLog, fastRetries, payload, waitFor } from './fake-intake.js';

test('emulates agent 7.64.0 and its agent-payload version', () => {
  assert.equal(AGENT_VERSION, '7.64.0');
  assert.equal(AGENT_PAYLOAD_VERSION, 'v5.0.145');
});

test('sends to https://app.<site> with the version-prefixed host by default', () => {
  assert.equal(resolveIntakeUrl(), 'https://7-64-0-app.agent.datadoghq.com');
  assert.equal(resolveIntakeUrl({ site: '' }), 'https://7-64-0-app.agent.datadoghq.com');
  assert.equal(resolveIntakeUrl({ site: 'datadoghq.eu' }), 'https://7-64-0-app.agent.datadoghq.eu');
  assert.equal(resolveIntakeUrl({ site: ' us3.datadoghq.com ' }), 'https://7-64-0-app.agent.us3.datadoghq.com');
  assert.equal(resolveIntakeUrl({ site: 'ap1.datadoghq.com' }), 'https://7-64-0-app.agent.ap1.datadoghq.com');
  assert.equal(resolveIntakeUrl({ site: 'ddog-gov.com' }), 'https://7-64-0-app.agent.ddog-gov.com');
  assert.equal(resolveIntakeUrl({ site: 'datad0g.com' }), 'https://7-64-0-app.agent.datad0g.com');
});

test('lets dd_url win over site, and prefixes it only when it is a Datadog host', () => {
  assert.equal(resolveIntakeUrl({ ddUrl: 'https://app.datadoghq.eu', site: 'datadoghq.com' }), 'https://7-64-0-app.agent.datadoghq.eu');
  assert.equal(resolveIntakeUrl({ ddUrl: 'https://app.mrf.datadoghq.com' }), 'https://7-64-0-app.agent.mrf.datadoghq.com');
  assert.equal(resolveIntakeUrl({ ddUrl: 'https://app.datadoghq.com.' }), 'https://7-64-0-app.agent.datadoghq.com.');
  assert.equal(resolveIntakeUrl({ ddUrl: 'http://127.0.0.1:8080' }), 'http://127.0.0.1:8080');
  assert.equal(resolveIntakeUrl({ ddUrl: 'https://proxy.example.com:3834/' }), 'https://proxy.example.com:3834');
  assert.equal(resolveIntakeUrl({ ddUrl: 'https://app.notdatadoghq.com' }), 'https://app.notdatadoghq.com');
  assert.equal(resolveIntakeUrl({ ddUrl: 'https://api.datadoghq.com' }), 'https://api.datadoghq.com');
  // A port makes the host unknown to the agent's pattern too.
  assert.equal(resolveIntakeUrl({ ddUrl: 'https://app.datadoghq.com:443' }), 'https://app.datadoghq.com:443');
  assert.equal(resolveIntakeUrl({ site: 'example.com' }), 'https://app.example.com');
  assert.equal(addAgentVersionToDomain('https://app.datadoghq.com', 'app', '7.52.1'), 'https://7-52-1-app.agent.datadoghq.com/');
  assert.equal(addAgentVersionToDomain('not a url', 'app'), 'not a url');
});

test('adds the trailing dot of convert_dd_site_fqdn only to known Datadog sites', () => {
  assert.equal(resolveIntakeUrl({ convertDdSiteFqdn: true }), 'https://7-64-0-app.agent.datadoghq.com.');
  assert.equal(resolveIntakeUrl({ site: 'datadoghq.eu.', convertDdSiteFqdn: true }), 'https://7-64-0-app.agent.datadoghq.eu.');
  assert.equal(resolveIntakeUrl({ site: 'example.com', convertDdSiteFqdn: true }), 'https://app.example.com');
});

test('names endpoints as the agent does', () => {
  assert.equal(endpointName('/api/v2/series'), 'series_v2');
  assert.equal(endpointName('/api/beta/sketches'), 'sketches_v2');
  assert.equal(endpointName('/api/v1/series'), 'series_v1');
  assert.equal(endpointName('/api/v1/check_run'), 'check_run_v1');
  assert.equal(endpointName('/intake/'), 'intake');
  assert.equal(endpointName('/api/v9/other'), '/api/v9/other');
});

test('builds the agent headers, with DD-Agent-Payload on protobuf only', () => {
  assert.deepEqual(buildHeaders({ contentType: 'application/x-protobuf', contentEncoding: 'zstd' }, 'k'), {
    'DD-Api-Key': 'k',
    'DD-Agent-Version': '7.64.0',
    'User-Agent': 'datadog-agent/7.64.0',
    'Content-Type': 'application/x-protobuf',
    'Content-Encoding': 'zstd',
    'DD-Agent-Payload': 'v5.0.145',
  });
  assert.deepEqual(buildHeaders({ contentType: 'application/json', contentEncoding: 'identity' }, 'k'), {
    'DD-Api-Key': 'k',
    'DD-Agent-Version': '7.64.0',
    'User-Agent': 'datadog-agent/7.64.0',
    'Content-Type': 'application/json',
    'Content-Encoding': 'identity',
  });
});

test('redacts an API key to 27 stars and its last 5 characters', () => {
  assert.equal(redactApiKey(API_KEY), '***************************bcdef');
  assert.equal(redactApiKey('0123456789abcdef0123456789abcdef01234567'), '***************************34567');
  assert.equal(redactApiKey('short'), '********************************');
  assert.equal(redactApiKey(''), '(none)');
  const scrub = createScrubber('my-custom-key-0001');
  assert.equal(scrub('key my-custom-key-0001 here'), 'key ***************************-0001 here');
  assert.equal(scrub(`other ${'f'.repeat(27)}12345 key`), 'other ***************************12345 key');
  assert.equal(scrubUrl('https://user:secret@proxy.example.com'), 'https://user:********@proxy.example.com');
  assert.equal(scrubUrl('https://proxy.example.com'), 'https://proxy.example.com');
});

test('fills in the agent defaults and resolves the intake URL', () => {
  const c = resolveForwarderConfig({ apiKey: API_KEY });
  assert.deepEqual(JSON.parse(JSON.stringify(c)), {
    url: 'https://7-64-0-app.agent.datadoghq.com',
    ddUrl: '',
    site: 'datadoghq.com',
    convertDdSiteFqdn: false,
    skipSslValidation: false,
    timeout: 20,
    maxConcurrentRequests: 10,
    retryQueuePayloadsMaxSize: 15728640,
    backoffBase: 2,
    backoffFactor: 2,
    backoffMax: 64,
    recoveryInterval: 2,
    recoveryReset: false,
    highPrioBufferSize: 100,
    lowPrioBufferSize: 100,
    storageMaxSizeInBytes: 0,
    storagePath: '/opt/datadog-agent/run/transactions_to_retry',
    runPath: '/opt/datadog-agent/run',
    storageMaxDiskRatio: 0.8,
    outdatedFileInDays: 10,
    flushToDiskMemRatio: 0.5,
    stopTimeout: 10,
    loggingFrequency: 500,
    retryInterval: 5,
  });
  assert.equal(c.apiKey, API_KEY);
  assert.ok(Object.isFrozen(c));
  assert.equal(FORWARDER_CONFIG_KEYS.retryQueuePayloadsMaxSize, 'forwarder_retry_queue_payloads_max_size');
});

test('corrects the values the agent corrects, with its warnings', () => {
  const warnings: string[] = [];
  const c = resolveForwarderConfig(
    { apiKey: API_KEY, backoffFactor: 1.5, backoffBase: 0, backoffMax: -1, recoveryInterval: 0, maxConcurrentRequests: 0 },
    (w) => warnings.push(w),
  );
  assert.equal(c.backoffFactor, 2);
  assert.equal(c.backoffBase, 2);
  assert.equal(c.backoffMax, 64);
  assert.equal(c.recoveryInterval, 2);
  assert.equal(c.maxConcurrentRequests, 1);
  assert.deepEqual(warnings, [
    "Invalid forwarder_max_concurrent_requests '0', setting to 1",
    'Configured forwarder_backoff_factor (1.5) is less than 2; 2 will be used',
    'Configured forwarder_backoff_base (0) is not positive; 2 will be used',
    'Configured forwarder_backoff_max (-1) is not positive; 64 seconds will be used',
    'Configured forwarder_recovery_interval (0) is not positive; 2 will be used',
  ]);
});

test('rejects malformed options naming the agent key, never echoing the API key', () => {
  const rejects = (options: object, message: string) =>
    assert.throws(
      () => resolveForwarderConfig({ apiKey: API_KEY, ...options }),
      (e: unknown) => isKennelError(e) && e.code === 'ERR_CONFIG_INVALID' && e.message === message,
    );
  rejects({ ddUrl: 'ftp://intake' }, 'dd_url (ddUrl): expected an http:// or https:// URL, got "ftp://intake"');
  rejects({ ddUrl: 'intake:80 x' }, 'dd_url (ddUrl): expected an http:// or https:// URL, got "intake:80 x"');
  rejects({ timeout: 0 }, 'forwarder_timeout (timeout): expected a number of seconds above 0, got 0');
  rejects({ retryQueuePayloadsMaxSize: -1 }, 'forwarder_retry_queue_payloads_max_size (retryQueuePayloadsMaxSize): expected a whole number of at least 0, got -1');
  rejects({ maxConcurrentRequests: 2.5 }, `forwarder_max_concurrent_requests (maxConcurrentRequests): expected a whole number of at least ${Number.MIN_SAFE_INTEGER}, got 2.5`);
  rejects({ recoveryReset: 'yes' }, 'forwarder_recovery_reset (recoveryReset): expected true or false, got "yes"');
  rejects({ backoffBase: Number.NaN }, 'forwarder_backoff_base (backoffBase): expected a finite number, got null');
  rejects({ apiKey: '' }, 'api_key (apiKey): expected a non-empty API key, got a string');
  rejects({ apiKey: '   ' }, 'api_key (apiKey): expected a non-empty API key, got a string');
});

test('classifies transport failures by code and phase', () => {
  assert.equal(classifyTransportError('ENOTFOUND', 'connecting'), 'dns');
  assert.equal(classifyTransportError('EAI_AGAIN', 'connecting'), 'dns');
  assert.equal(classifyTransportError('ECONNREFUSED', 'connecting'), 'connection');
  assert.equal(classifyTransportError('ECONNRESET', 'connecting'), 'connection');
  assert.equal(classifyTransportError('ECONNRESET', 'connecting', true), 'tls');
  assert.equal(classifyTransportError('DEPTH_ZERO_SELF_SIGNED_CERT', 'connecting'), 'tls');
  assert.equal(classifyTransportError('ERR_TLS_CERT_ALTNAME_INVALID', 'connecting'), 'tls');
  assert.equal(classifyTransportError('ERR_SSL_WRONG_VERSION_NUMBER', 'connecting'), 'tls');
  assert.equal(classifyTransportError('EPIPE', 'writing'), 'write');
  assert.equal(classifyTransportError('ECONNRESET', 'writing'), 'write');
  assert.equal(classifyTransportError('ECONNRESET', 'waiting'), 'response');
  assert.equal(classifyTransportError('ECONNRESET', 'reading'), 'response');
  assert.equal(classifyTransportError('KENNEL_TIMEOUT', 'waiting'), 'timeout');
  assert.equal(classifyTransportError('ERR_INVALID_CHAR', 'connecting'), 'invalid_request');
});

test('resolves a malformed URL or header as an invalid request, without throwing', async () => {
  const transport = new HttpTransport({ timeoutMs: 1000, maxSockets: 1 });
  try {
    const bad = await transport.post('http://127.0.0.1:9/x', { 'X-Bad': 'a\nb' }, new Uint8Array(1));
    assert.equal(bad.kind, 'error');
    assert.equal(bad.kind === 'error' && bad.error, 'invalid_request');
    const url = await transport.post('not a url', {}, new Uint8Array(1));
    assert.deepEqual(url, { kind: 'error', error: 'invalid_request', code: 'ERR_INVALID_URL', message: 'the intake URL does not parse' });
    const proto = await transport.post('ftp://127.0.0.1/', {}, new Uint8Array(1));
    assert.equal(proto.kind === 'error' && proto.code, 'ERR_INVALID_PROTOCOL');
    assert.equal(transport.inFlight, 0);
  } finally {
    transport.close();
  }
});

const cert = readFileSync(new URL('../../test/fixtures/tls-cert.pem', import.meta.url));
const key = readFileSync(new URL('../../test/fixtures/tls-key.pem', import.meta.url));

async function httpsIntake(): Promise<{ url: string; bodies: string[]; close: () => Promise<void> }> {
  const bodies: string[] = [];
  const server = https.createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString());
      res.writeHead(202).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test('sends over HTTPS to an intake whose certificate it trusts', async (t) => {
  const intake = await httpsIntake();
  t.after(() => intake.close());
  const { log } = captureLog();
  const forwarder = new Forwarder({
    ...fastRetries(intake.url, log),
    transport: new HttpTransport({ timeoutMs: 5000, maxSockets: 2, ca: cert }),
  });
  t.after(() => forwarder.close());
  forwarder.send(payload('over tls'));
  assert.deepEqual(await forwarder.drain(), { sent: 1, dropped: 0, pending: 0 });
  assert.deepEqual(intake.bodies, ['over tls']);
});

test('counts an untrusted certificate as a TLS error and retries it; skip_ssl_validation accepts it', async (t) => {
  const intake = await httpsIntake();
  t.after(() => intake.close());
  const { lines, log } = captureLog();
  const strict = new Forwarder(fastRetries(intake.url, log));
  t.after(() => strict.close());
  strict.send(payload('refused'));
  await waitFor(() => strict.stats().Transactions.ErrorsByType.TLSErrors >= 2, 'two TLS errors');
  assert.equal(strict.stats().Transactions.Errors, strict.stats().Transactions.ErrorsByType.TLSErrors);
  assert.ok(lines.includes(`error: error while sending transaction to "${intake.url}/api/v2/series", rescheduling it: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)`));

  const lax = new Forwarder({ ...fastRetries(intake.url, log), skipSslValidation: true });
  t.after(() => lax.close());
  lax.send(payload('accepted'));
  assert.deepEqual(await lax.drain(), { sent: 1, dropped: 0, pending: 0 });
  assert.deepEqual(intake.bodies, ['accepted']);
});
