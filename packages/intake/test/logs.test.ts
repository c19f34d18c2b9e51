import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync, deflateSync } from 'node:zlib';
import { decodeIntakeRequest, decodeLogs, FakeIntake, LocalIntake } from '../src/index.js';
import { API_KEY, send } from './http-support.js';
import { zstd } from './support.js';

const EVENT =
  '{"message":"GET /health 200","status":"info","timestamp":1700000000000,"hostname":"web-1","service":"api","ddsource":"nginx","ddtags":"env:prod,team:web"}';
const DECODED = {
  message: 'GET /health 200',
  status: 'info',
  timestamp: 1700000000000,
  hostname: 'web-1',
  service: 'api',
  ddsource: 'nginx',
  ddtags: 'env:prod,team:web',
  tags: ['env:prod', 'team:web'],
};

function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

test('a logs body is the JSON array of the agent events', () => {
  const r = decodeLogs(bytes(`[${EVENT},${EVENT.replace('GET', 'POST')}]`));
  assert.deepEqual(r, { ok: true, value: [DECODED, { ...DECODED, message: 'POST /health 200' }] });
});

test('one event as an object is one event, and {} (the connectivity check) none', () => {
  assert.deepEqual(decodeLogs(bytes(EVENT)), { ok: true, value: [DECODED] });
  assert.deepEqual(decodeLogs(bytes('{}')), { ok: true, value: [] });
  assert.deepEqual(decodeLogs(bytes('[]')), { ok: true, value: [] });
});

test('missing fields are empty and an empty ddtags has no tags', () => {
  assert.deepEqual(decodeLogs(bytes('[{"message":"m"}]')), {
    ok: true,
    value: [{ message: 'm', status: '', timestamp: 0, hostname: '', service: '', ddsource: '', ddtags: '', tags: [] }],
  });
});

test('a body of the wrong shape is refused with the reason', () => {
  assert.deepEqual(decodeLogs(bytes('[{"message":1}]')), { ok: false, reason: 'invalid_shape', message: 'logs[0].message is not a string' });
  assert.deepEqual(decodeLogs(bytes('[{"timestamp":"x"}]')), { ok: false, reason: 'invalid_shape', message: 'logs[0].timestamp is not a number' });
  assert.deepEqual(decodeLogs(bytes('["x"]')), { ok: false, reason: 'invalid_shape', message: 'logs[0] is not an object' });
  assert.deepEqual(decodeLogs(bytes('3')), { ok: false, reason: 'invalid_shape', message: 'payload is not an array of log events' });
  assert.equal(decodeLogs(bytes('[')).ok, false);
});

test('/api/v2/logs decodes under gzip, deflate and zstd', () => {
  const raw = bytes(`[${EVENT}]`);
  for (const [encoding, body] of [
    ['gzip', gzipSync(raw)],
    ['deflate', deflateSync(raw)],
    ['zstd', zstd.createStream().finish(raw, 0, raw.length)],
    ['identity', raw],
  ] as const) {
    const r = decodeIntakeRequest({ path: '/api/v2/logs', contentEncoding: encoding, body });
    assert.deepEqual(r, { ok: true, value: { kind: 'logs', logs: [DECODED] } }, encoding);
  }
});

test('the fake intake takes POST /api/v2/logs and stores the events', async (t) => {
  const intake = await FakeIntake.start();
  t.after(() => intake.close());
  const reply = await send(intake.url, {
    path: '/api/v2/logs',
    headers: { 'DD-API-KEY': API_KEY, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
    body: gzipSync(bytes(`[${EVENT}]`)),
  });
  assert.equal(reply.status, 202);
  assert.deepEqual(intake.store.logs(), [DECODED]);
  assert.deepEqual(intake.store.logs({ service: 'api', tag: 'team:web', name: /health/ }), [DECODED]);
  assert.deepEqual(intake.store.logs({ source: 'python' }), []);
  const counts = intake.store.counts().kinds.logs;
  assert.deepEqual([counts.Payloads, counts.Items, counts.StoredItems], [1, 1, 1]);
  const bad = await send(intake.url, { path: '/api/v2/logs', headers: { 'DD-API-KEY': API_KEY }, body: '[{"message":2}]' });
  assert.equal(bad.status, 400);
});

test('the local intake takes logs payloads', () => {
  const local = new LocalIntake();
  const r = local.submit({ endpoint: '/api/v2/logs', contentEncoding: 'gzip', body: gzipSync(bytes(`[${EVENT}]`)) });
  assert.equal(r.status, 202);
  assert.deepEqual(local.store.logs({ host: 'web-1' }), [DECODED]);
});
