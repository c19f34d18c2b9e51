import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import {
  createZlibCompression,
  encodeAll,
  EventEncoder,
  identityCompression,
  resolveSerializerConfig,
  SeriesV1Encoder,
  SeriesV2Encoder,
  ServiceCheckEncoder,
  SketchEncoder,
  type Compression,
  type IntakePayload,
} from '@kennel/forwarder';
import { FakeIntake, redactSecret } from '../src/index.js';
import {
  API_KEY,
  CHECKS,
  EVENTS,
  post,
  REDACTED_KEY,
  send,
  SERIES,
  SERIES_V1_BACK,
  SERIES_V2_BACK,
  SKETCHES,
  SKETCHES_BACK,
} from './http-support.js';
import { zstd } from './support.js';

const config = resolveSerializerConfig({ hostname: 'agent-host' });

function one(payloads: IntakePayload[]): IntakePayload {
  assert.equal(payloads.length, 1);
  return payloads[0]!;
}

function seriesPayload(c: Compression = zstd): IntakePayload {
  return one(encodeAll(new SeriesV2Encoder(config, c), SERIES));
}

/** Starts a fake intake for one test and closes it after. */
async function withIntake(t: { after: (fn: () => Promise<void>) => void }, options: ConstructorParameters<typeof FakeIntake>[0] = {}): Promise<FakeIntake> {
  const intake = await FakeIntake.start(options);
  t.after(() => intake.close());
  return intake;
}

for (const [label, c] of [
  ['zstd', zstd],
  ['zlib', createZlibCompression()],
  ['no', identityCompression],
] as const) {
  test(`every metrics payload the forwarder encodes with ${label} compression is stored as sent over HTTP`, async (t) => {
    const intake = await withIntake(t);
    const payloads = [
      one(encodeAll(new SeriesV2Encoder(config, c), SERIES)),
      one(encodeAll(new SeriesV1Encoder(config, c), SERIES)),
      one(encodeAll(new SketchEncoder(config, c), SKETCHES)),
      one(encodeAll(new ServiceCheckEncoder(config, c), CHECKS)),
      one(encodeAll(new EventEncoder(config, c), EVENTS)),
    ];
    for (const p of payloads) {
      const r = await post(intake.url, p);
      assert.equal(r.status, 202);
      assert.deepStrictEqual(r.json, {});
      assert.equal(r.headers['content-type'], 'application/json');
    }
    const store = intake.store;
    assert.deepStrictEqual(store.series({ kind: 'series_v2' }), SERIES_V2_BACK);
    assert.deepStrictEqual(store.series({ kind: 'series_v1' }), SERIES_V1_BACK);
    assert.deepStrictEqual(store.sketches(), SKETCHES_BACK);
    assert.deepStrictEqual(store.serviceChecks(), CHECKS);
    assert.deepStrictEqual(store.events(), EVENTS);
    assert.deepStrictEqual(store.payloads('events')[0]!.meta, { internalHostname: 'agent-host' });
    const counts = store.counts().kinds;
    assert.deepStrictEqual(
      [counts.series_v2, counts.series_v1, counts.sketches, counts.check_runs, counts.events].map((k) => [k.Payloads, k.Items, k.Points, k.Bytes]),
      payloads.map((p) => [1, p.items, p.points, p.uncompressedBytes]),
    );
    assert.deepStrictEqual(
      intake.requests().map((r) => [r.method, r.path, r.status, r.outcome, r.bodyBytes, r.headers['content-encoding']]),
      payloads.map((p) => ['POST', p.endpoint, 202, 'stored', p.body.length, p.contentEncoding]),
    );
  });
}

test('a flush the encoder cuts into many payloads arrives whole, series in order', async (t) => {
  const intake = await withIntake(t);
  // Two points a series, 100 points a payload: 50 series in each of 10 payloads.
  const small = resolveSerializerConfig({ maxSeriesPointsPerPayload: 100 });
  const many = Array.from({ length: 500 }, (_, i) => ({ ...SERIES[0]!, name: `app.m${i}`, tags: [`i:${i}`] }));
  const payloads = encodeAll(new SeriesV2Encoder(small, zstd), many);
  assert.deepStrictEqual(
    payloads.map((p) => p.items),
    Array(10).fill(50),
  );
  for (const p of payloads) assert.equal((await post(intake.url, p)).status, 202);
  assert.deepStrictEqual(
    intake.store.series().map((s) => s.name),
    many.map((s) => s.name),
  );
  assert.deepStrictEqual(intake.store.series({ tag: 'i:499' }), [{ ...many[499]!, origin: { product: 10, category: 10, service: 0 } }]);
  const c = intake.store.counts().kinds.series_v2;
  assert.deepStrictEqual([c.Payloads, c.Items, c.Points], [10, 500, 1000]);
});

test('a request is recorded with its headers and the API key redacted to its last 5 characters', async (t) => {
  const intake = await withIntake(t);
  const p = seriesPayload();
  await send(intake.url, {
    path: `/api/v2/series?api_key=${API_KEY}`,
    headers: { 'DD-Api-Key': API_KEY, 'Content-Type': p.contentType, 'Content-Encoding': p.contentEncoding, 'DD-Agent-Version': '7.52.0' },
    body: p.body,
  });
  const [r] = intake.requests();
  assert.deepStrictEqual(
    { ...r, receivedAt: 0 },
    {
      seq: 1,
      method: 'POST',
      path: `/api/v2/series?api_key=${REDACTED_KEY}`,
      headers: {
        'dd-api-key': REDACTED_KEY,
        'content-type': 'application/x-protobuf',
        'content-encoding': 'zstd',
        'dd-agent-version': '7.52.0',
        'content-length': String(p.body.length),
        host: new URL(intake.url).host,
        connection: 'close',
      },
      bodyBytes: p.body.length,
      status: 202,
      outcome: 'stored',
      receivedAt: 0,
    },
  );
  assert.equal(redactSecret('abcde'), '***************************');
  assert.equal(JSON.stringify(intake.requests()).includes(API_KEY), false);
});

test('a request without an API key, or with an empty one, is answered 403 and stores nothing', async (t) => {
  const intake = await withIntake(t);
  const p = seriesPayload();
  const r1 = await post(intake.url, p, null);
  const r2 = await post(intake.url, p, '');
  assert.deepStrictEqual([r1.status, r1.json], [403, { errors: ['Forbidden'] }]);
  assert.deepStrictEqual([r2.status, r2.json], [403, { errors: ['Forbidden'] }]);
  assert.equal(intake.store.counts().kinds.series_v2.Payloads, 0);
  assert.deepStrictEqual(
    intake.requests().map((r) => [r.status, r.outcome, r.reason]),
    [
      [403, 'rejected', 'missing_api_key'],
      [403, 'rejected', 'missing_api_key'],
    ],
  );
});

test('only the configured API keys are accepted when apiKeys is set', async (t) => {
  const intake = await withIntake(t, { apiKeys: [API_KEY] });
  assert.equal((await post(intake.url, seriesPayload(), 'someone-elses-key')).status, 403);
  assert.equal((await post(intake.url, seriesPayload())).status, 202);
});

test('/api/v1/validate answers {"valid":true} to a non-empty key and 403 otherwise', async (t) => {
  const intake = await withIntake(t);
  const ok = await send(intake.url, { method: 'GET', path: '/api/v1/validate', headers: { 'DD-Api-Key': API_KEY } });
  assert.deepStrictEqual([ok.status, ok.text], [200, '{"valid":true}']);
  const no = await send(intake.url, { method: 'GET', path: '/api/v1/validate' });
  assert.deepStrictEqual([no.status, no.json], [403, { errors: ['Forbidden'] }]);
  assert.deepStrictEqual(
    intake.requests().map((r) => [r.status, r.outcome]),
    [
      [200, 'answered'],
      [403, 'rejected'],
    ],
  );
});

test('a body past maxBodyBytes is answered 413, by Content-Length or as it streams', async (t) => {
  const intake = await withIntake(t, { maxBodyBytes: 1024 });
  const headers = { 'DD-Api-Key': API_KEY };
  const declared = await send(intake.url, { path: '/api/v1/series', headers, body: Buffer.alloc(1025, 0x20) });
  assert.deepStrictEqual([declared.status, declared.json], [413, { errors: ['the body (1025 bytes) is more than 1024 bytes'] }]);
  const streamed = await send(intake.url, { path: '/api/v1/series', headers, chunks: [Buffer.alloc(600, 0x20), Buffer.alloc(600, 0x20)] });
  assert.deepStrictEqual([streamed.status, streamed.json], [413, { errors: ['the body is more than 1024 bytes'] }]);
  // At the limit the body is read, and decoded.
  const atLimit = await send(intake.url, { path: '/api/v1/series', headers, body: `{"series":[]}${' '.repeat(1024 - 13)}` });
  assert.equal(atLimit.status, 202);
  assert.deepStrictEqual(
    intake.requests().map((r) => [r.status, r.reason ?? '']),
    [
      [413, 'body_too_large'],
      [413, 'body_too_large'],
      [202, ''],
    ],
  );
});

test('after a 413 mid-body the keep-alive connection serves the next request', async (t) => {
  const intake = await withIntake(t, { maxBodyBytes: 1024 });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const headers = { 'DD-Api-Key': API_KEY };
  const big = await send(intake.url, { path: '/api/v1/series', headers, agent, chunks: [Buffer.alloc(800, 0x20), Buffer.alloc(800, 0x20)] });
  assert.equal(big.status, 413);
  const p = seriesPayload();
  const next = await send(intake.url, { path: p.endpoint, headers: { ...headers, 'Content-Encoding': p.contentEncoding }, agent, body: p.body });
  assert.equal(next.status, 202);
  assert.equal(next.headers.connection, 'keep-alive');
  assert.deepStrictEqual(intake.store.series(), SERIES_V2_BACK);
});

test('a body that decompresses past maxDecompressedBytes is answered 413 too_large', async (t) => {
  const intake = await withIntake(t, { maxDecompressedBytes: 16 });
  const p = seriesPayload();
  const r = await post(intake.url, p);
  assert.deepStrictEqual([r.status, r.json], [413, { errors: ['too_large: zstd body decompresses to more than 16 bytes'], reason: 'too_large' }]);
  assert.deepStrictEqual(intake.store.counts().decodeErrors, { too_large: 1 });
});

test('a body that does not decode is answered 400 with the reason and counted', async (t) => {
  const intake = await withIntake(t);
  const headers = { 'DD-Api-Key': API_KEY };
  const shape = await send(intake.url, { path: '/api/v1/series', headers, body: '{"series":"x"}' });
  assert.deepStrictEqual([shape.status, shape.json], [400, { errors: ['invalid_shape: series is not an array'], reason: 'invalid_shape' }]);
  const proto = await send(intake.url, { path: '/api/v2/series', headers, body: Uint8Array.of(0x0a, 0x05, 0x01) });
  assert.deepStrictEqual(
    [proto.status, proto.json],
    [400, { errors: ['truncated: length-delimited value runs past the end of its message at byte 2'], reason: 'truncated' }],
  );
  const zstdGarbage = await send(intake.url, { path: '/api/beta/sketches', headers: { ...headers, 'Content-Encoding': 'zstd' }, body: Uint8Array.of(1, 2, 3) });
  assert.deepStrictEqual([zstdGarbage.status, zstdGarbage.json], [400, { errors: ['decompress_failed: zstd: unexpected EOF'], reason: 'decompress_failed' }]);
  const c = intake.store.counts();
  assert.deepStrictEqual(c.decodeErrors, { invalid_shape: 1, truncated: 1, decompress_failed: 1 });
  assert.deepStrictEqual([c.kinds.series_v1.DecodeErrors, c.kinds.series_v2.DecodeErrors, c.kinds.sketches.DecodeErrors], [1, 1, 1]);
  assert.deepStrictEqual(c.stored, { payloads: 0, items: 0, bytes: 0 });
  assert.deepStrictEqual(
    intake.requests().map((r) => r.reason),
    ['invalid_shape', 'truncated', 'decompress_failed'],
  );
});

test('an unknown path is answered 404 and a known one with the wrong method 405', async (t) => {
  const intake = await withIntake(t);
  const missing = await send(intake.url, { path: '/api/v2/unknown', headers: { 'DD-Api-Key': API_KEY }, body: 'x' });
  assert.deepStrictEqual([missing.status, missing.json], [404, { errors: ['Not Found'] }]);
  const wrong = await send(intake.url, { method: 'GET', path: '/api/v2/series', headers: { 'DD-Api-Key': API_KEY } });
  assert.deepStrictEqual([wrong.status, wrong.json, wrong.headers.allow], [405, { errors: ['Method Not Allowed'] }, 'POST']);
});

test('/intake without its trailing slash is the events endpoint', async (t) => {
  const intake = await withIntake(t);
  const p = one(encodeAll(new EventEncoder(config, zstd), EVENTS));
  const r = await send(intake.url, { path: '/intake', headers: { 'DD-Api-Key': API_KEY, 'Content-Encoding': 'zstd' }, body: p.body });
  assert.equal(r.status, 202);
  assert.deepStrictEqual(intake.store.events(), EVENTS);
});

test('the store bounds apply to what arrives over HTTP: the oldest payload is dropped and counted', async (t) => {
  const first = seriesPayload();
  const second = one(encodeAll(new SeriesV2Encoder(config, zstd), [SERIES[1]!]));
  const intake = await withIntake(t, { storeOptions: { maxBytes: first.uncompressedBytes + second.uncompressedBytes - 1 } });
  await post(intake.url, first);
  await post(intake.url, second);
  assert.deepStrictEqual(intake.store.series(), [SERIES_V2_BACK[1]]);
  const c = intake.store.counts().kinds.series_v2;
  assert.deepStrictEqual([c.Payloads, c.DroppedPayloads, c.DroppedItems, c.DroppedBytes], [2, 1, 2, first.uncompressedBytes]);
});

test('waitFor resolves when a payload posted over HTTP arrives', async (t) => {
  const intake = await withIntake(t);
  const arrived = intake.store.waitFor((s) => {
    const hits = s.series({ name: 'app.requests' });
    return hits.length > 0 && hits;
  });
  await post(intake.url, seriesPayload());
  assert.deepStrictEqual(await arrived, [SERIES_V2_BACK[0]]);
});

test('failNext answers each queued status in turn, storing nothing, then the intake recovers', async (t) => {
  const intake = await withIntake(t);
  intake.failNext(500, 2);
  intake.failNext(429);
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await post(intake.url, seriesPayload())).status);
  assert.deepStrictEqual(statuses, [500, 500, 429, 202]);
  assert.equal(intake.store.counts().kinds.series_v2.Payloads, 1);
  assert.deepStrictEqual(
    intake.requests().map((r) => [r.status, r.outcome]),
    [
      [500, 'injected'],
      [500, 'injected'],
      [429, 'injected'],
      [202, 'stored'],
    ],
  );
  assert.deepStrictEqual(intake.counts(), { requests: 4, byStatus: { 500: 2, 429: 1, 202: 1 }, byOutcome: { injected: 3, stored: 1 }, droppedRecords: 0 });
});

test('failFor answers its status until the intake clock passes the window', async (t) => {
  let now = 10_000;
  const intake = await withIntake(t, { now: () => now });
  intake.failFor(503, 5000);
  assert.equal((await post(intake.url, seriesPayload())).status, 503);
  now = 14_999;
  assert.equal((await post(intake.url, seriesPayload())).status, 503);
  now = 15_000;
  assert.equal((await post(intake.url, seriesPayload())).status, 202);
  assert.equal(intake.store.counts().kinds.series_v2.Payloads, 1);
});

test('delayResponses holds the answer while the payload is already stored, and clearFaults sends it', async (t) => {
  const intake = await withIntake(t);
  intake.delayResponses(600_000, 1);
  let answered = false;
  const reply = post(intake.url, seriesPayload()).then((r) => {
    answered = true;
    return r;
  });
  await intake.store.waitFor((s) => s.series().length > 0);
  await intake.waitForRequest((rs) => rs.length === 1);
  assert.equal(answered, false);
  assert.equal(intake.requests()[0]!.status, 202);
  intake.clearFaults();
  assert.equal((await reply).status, 202);
  // Only the next one response was to be held.
  assert.equal((await post(intake.url, seriesPayload())).status, 202);
});

test('resetNext resets the connection mid-body: the client sees ECONNRESET and nothing is stored', async (t) => {
  const intake = await withIntake(t);
  intake.resetNext(1, { afterBytes: 100 });
  const err = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
    const url = new URL('/api/v1/series', intake.url);
    const req = request(url, { method: 'POST', agent: false, headers: { 'DD-Api-Key': API_KEY, 'Content-Length': 10_000 } }, () => reject(new Error('answered')));
    req.on('error', resolve);
    req.write(Buffer.alloc(200, 0x20)); // half the body, then wait
  });
  assert.equal(err.code, 'ECONNRESET');
  await intake.waitForRequest((rs) => rs.length === 1);
  assert.deepStrictEqual(
    intake.requests().map((r) => [r.status, r.outcome, r.bodyBytes >= 100]),
    [[0, 'reset', true]],
  );
  assert.equal(intake.store.counts().stored.payloads, 0);
  assert.equal((await post(intake.url, seriesPayload())).status, 202);
});

test('stopListening refuses connections and resumeListening accepts them again on the same URL', async (t) => {
  const intake = await withIntake(t);
  const url = intake.url;
  await intake.stopListening();
  assert.equal(intake.listening, false);
  await assert.rejects(post(url, seriesPayload()), { code: 'ECONNREFUSED' });
  await intake.resumeListening();
  assert.equal(intake.url, url);
  assert.equal((await post(url, seriesPayload())).status, 202);
});

test('the request list is bounded: the oldest records are dropped and counted', async (t) => {
  const intake = await withIntake(t, { maxRecordedRequests: 2 });
  for (let i = 0; i < 3; i++) await send(intake.url, { method: 'GET', path: '/api/v1/validate', headers: { 'DD-Api-Key': API_KEY } });
  assert.deepStrictEqual(
    intake.requests().map((r) => r.seq),
    [2, 3],
  );
  assert.equal(intake.counts().droppedRecords, 1);
  assert.equal(intake.counts().requests, 3);
});

test('a route added for another payload kind gets the body after the key check', async (t) => {
  const intake = await withIntake(t);
  const bodies: string[] = [];
  intake.route('POST', '/api/v2/logs', (r) => {
    bodies.push(r.body.toString('utf8'));
    return { status: 202, body: {}, outcome: 'stored' };
  });
  assert.equal((await send(intake.url, { path: '/api/v2/logs', body: '[]' })).status, 403);
  assert.equal((await send(intake.url, { path: '/api/v2/logs', headers: { 'DD-Api-Key': API_KEY }, body: '[{"message":"hi"}]' })).status, 202);
  assert.deepStrictEqual(bodies, ['[{"message":"hi"}]']);
});

test('a fault mode with a bad argument is a KennelError', async () => {
  const intake = new FakeIntake();
  assert.throws(() => intake.failNext(99), { code: 'ERR_INVALID_ARGUMENT', message: 'FakeIntake: status must be an integer in 100..599, got 99' });
  assert.throws(() => intake.failNext(500, 0), { code: 'ERR_INVALID_ARGUMENT', message: 'FakeIntake: n must be an integer > 0 or Infinity, got 0' });
  assert.throws(() => intake.url, { code: 'ERR_INVALID_ARGUMENT', message: 'FakeIntake.url: not listening yet' });
  await intake.close();
});
