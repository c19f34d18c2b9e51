import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKennelError } from '@kennel/core';
import type { Series } from '@kennel/core';
import {
  AGENT_PAYLOAD_VERSION,
  AGENT_VERSION,
  createZlibCompression,
  encodeAll,
  Endpoint,
  Forwarder,
  resolveSerializerConfig,
  SeriesV2Encoder,
  ServiceCheckEncoder,
} from '../src/index.js';
import { API_KEY, captureLog, closedPort, FakeIntake, fastRetries, payload, waitFor } from './fake-intake.js';

const series: Series = {
  name: 'page.views',
  host: 'web-1',
  tags: ['env:prod'],
  type: 'count',
  interval: 10,
  points: [{ timestamp: 1700000000, value: 3 }],
};

test('posts the payload body to the endpoint with exactly the agent headers', async (t) => {
  const intake = await FakeIntake.start();
  t.after(() => intake.close());
  const { log } = captureLog();
  const forwarder = new Forwarder(fastRetries(intake.url, log));
  t.after(() => forwarder.close());

  const [p] = encodeAll(new SeriesV2Encoder(resolveSerializerConfig(), createZlibCompression()), [series]);
  forwarder.send(p!);
  const [checks] = encodeAll(new ServiceCheckEncoder(resolveSerializerConfig(), createZlibCompression()), [
    { name: 'app.ok', host: 'web-1', timestamp: 1700000000, status: 0, message: '', tags: [] },
  ]);
  forwarder.send(checks!);
  assert.deepEqual(await forwarder.drain(), { sent: 2, dropped: 0, pending: 0 });

  assert.equal(intake.requests.length, 2);
  const [v2, v1] = intake.requests;
  assert.equal(v2!.method, 'POST');
  assert.equal(v2!.path, '/api/v2/series');
  assert.deepEqual(v2!.headers, {
    'dd-api-key': API_KEY,
    'dd-agent-version': AGENT_VERSION,
    'user-agent': `datadog-agent/${AGENT_VERSION}`,
    'content-type': 'application/x-protobuf',
    'content-encoding': 'deflate',
    'dd-agent-payload': AGENT_PAYLOAD_VERSION,
    'content-length': String(p!.body.byteLength),
    host: `127.0.0.1:${intake.port}`,
    connection: 'keep-alive',
  });
  assert.deepEqual(v2!.body, Buffer.from(p!.body));
  // JSON payloads carry no DD-Agent-Payload.
  assert.equal(v1!.path, '/api/v1/check_run');
  assert.deepEqual(v1!.headers, {
    'dd-api-key': API_KEY,
    'dd-agent-version': '7.64.0',
    'user-agent': 'datadog-agent/7.64.0',
    'content-type': 'application/json',
    'content-encoding': 'deflate',
    'content-length': String(checks!.body.byteLength),
    host: `127.0.0.1:${intake.port}`,
    connection: 'keep-alive',
  });
  assert.deepEqual(v1!.body, Buffer.from(checks!.body));

  const s = forwarder.stats();
  assert.equal(s.Transactions.Success, 2);
  assert.deepEqual(s.Transactions.SuccessByEndpoint, { series_v2: 1, check_run_v1: 1 });
  assert.deepEqual(s.Transactions.SuccessBytesByEndpoint, { series_v2: p!.body.byteLength, check_run_v1: checks!.body.byteLength });
  assert.equal(s.Transactions.Errors, 0);
  assert.equal(s.Endpoint, intake.url);
  assert.equal(s.APIKey, '***************************bcdef');
  assert.equal(s.OnDiskStorage, 'On-disk storage is disabled. Configure `forwarder_storage_max_size_in_bytes` to enable it.');
});

for (const status of [400, 403, 413]) {
  test(`drops and counts a ${status} answer without retrying it`, async (t) => {
    const intake = await FakeIntake.start(() => ({ status, body: 'no' }));
    t.after(() => intake.close());
    const { lines, log } = captureLog();
    const forwarder = new Forwarder(fastRetries(intake.url, log));
    t.after(() => forwarder.close());

    forwarder.send(payload('x'.repeat(123)));
    // drain settles once nothing is pending: a retried transaction would still be.
    assert.deepEqual(await forwarder.drain(), { sent: 0, dropped: 1, pending: 0 });
    assert.equal(intake.requests.length, 1);

    const tx = forwarder.stats().Transactions;
    assert.equal(tx.Dropped, 1);
    assert.deepEqual(tx.DroppedByEndpoint, { series_v2: 1 });
    assert.equal(tx.HTTPErrors, 1);
    assert.deepEqual(tx.HTTPErrorsByCode, { [status]: 1 });
    assert.equal(tx.Errors, 0);
    assert.equal(tx.Requeued, 0);
    assert.equal(tx.Retried, 0);
    assert.equal(tx.Success, 0);
    const errors = lines.filter((l) => l.startsWith('error: '));
    assert.equal(errors.length, 1);
    const where = `${intake.url}/api/v2/series`;
    if (status === 403) {
      assert.equal(errors[0], `error: API Key invalid (403 response), dropping transaction for ${where} (123 bytes, endpoint series_v2)`);
    } else {
      const text = status === 400 ? '400 Bad Request' : '413 Payload Too Large';
      assert.equal(errors[0], `error: Error code "${text}" received while sending transaction to "${where}": "no", dropping it (123 bytes, endpoint series_v2)`);
    }
  });
}

for (const status of [404, 408, 429, 500, 503]) {
  test(`retries a ${status} answer until the intake recovers, then delivers it once`, async (t) => {
    const intake = await FakeIntake.start((r) => (r.index < 3 ? { status, body: 'later' } : { status: 202, body: '{}' }));
    t.after(() => intake.close());
    const { log } = captureLog();
    const forwarder = new Forwarder(fastRetries(intake.url, log));
    t.after(() => forwarder.close());

    forwarder.send(payload('the payload'));
    await waitFor(() => forwarder.stats().Transactions.Success === 1, 'the delivery');
    assert.deepEqual(await forwarder.drain(), { sent: 0, dropped: 0, pending: 0 });

    assert.equal(intake.requests.length, 4);
    for (const r of intake.requests) assert.equal(r.body.toString(), 'the payload');
    assert.deepEqual(
      intake.delivered.map((b) => b.toString()),
      ['the payload'],
    );
    const tx = forwarder.stats().Transactions;
    assert.equal(tx.Errors, 3);
    assert.equal(tx.HTTPErrors, 3);
    assert.deepEqual(tx.HTTPErrorsByCode, { [status]: 3 });
    assert.equal(tx.Requeued, 3);
    assert.equal(tx.Retried, 3);
    assert.equal(tx.Success, 1);
    assert.equal(tx.Dropped, 0);
    assert.deepEqual(tx.ErrorsByType, { DNSErrors: 0, TLSErrors: 0, ConnectionErrors: 0, WroteRequestErrors: 0, SentRequestErrors: 0 });
  });
}

test('retries while the connection is refused, then delivers once the intake listens', async (t) => {
  const port = await closedPort();
  const { log } = captureLog();
  const forwarder = new Forwarder(fastRetries(`http://127.0.0.1:${port}`, log));
  t.after(() => forwarder.close());

  forwarder.send(payload('refused at first'));
  await waitFor(() => forwarder.stats().Transactions.ErrorsByType.ConnectionErrors >= 2, 'two refused connections');
  const intake = await FakeIntake.start(undefined, port);
  t.after(() => intake.close());
  await waitFor(() => forwarder.stats().Transactions.Success === 1, 'the delivery');

  assert.deepEqual(
    intake.delivered.map((b) => b.toString()),
    ['refused at first'],
  );
  const tx = forwarder.stats().Transactions;
  assert.equal(tx.Errors, tx.ErrorsByType.ConnectionErrors);
  assert.equal(tx.Requeued, tx.Errors);
  assert.equal(tx.HTTPErrors, 0);
  assert.equal(tx.Dropped, 0);
});

test('retries a request whose connection is reset mid-body, and delivers the whole body once', async (t) => {
  const intake = await FakeIntake.start((r) => (r.index === 0 ? 'destroy-mid-body' : { status: 202 }));
  t.after(() => intake.close());
  const { log } = captureLog();
  const forwarder = new Forwarder(fastRetries(intake.url, log));
  t.after(() => forwarder.close());

  const body = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
  forwarder.send(payload(body));
  await waitFor(() => forwarder.stats().Transactions.Success === 1, 'the delivery');

  assert.equal(intake.requests.length, 2);
  assert.ok(intake.requests[0]!.body.length < body.length, 'the first attempt was cut');
  assert.equal(intake.delivered.length, 1);
  assert.ok(intake.delivered[0]!.equals(body));
  const tx = forwarder.stats().Transactions;
  assert.equal(tx.Errors, 1);
  assert.equal(tx.Requeued, 1);
  assert.equal(tx.Success, 1);
  assert.equal(tx.SuccessBytesByEndpoint.series_v2, body.length);
});

test('retries a request the intake never answers, once forwarder_timeout passes', async (t) => {
  const intake = await FakeIntake.start((r) => (r.index === 0 ? 'hang' : { status: 202 }));
  t.after(() => intake.close());
  const { lines, log } = captureLog();
  const forwarder = new Forwarder({ ...fastRetries(intake.url, log), timeout: 0.2 });
  t.after(() => forwarder.close());

  forwarder.send(payload('slow'));
  await waitFor(() => forwarder.stats().Transactions.Success === 1, 'the delivery');

  assert.equal(intake.requests.length, 2);
  assert.deepEqual(
    intake.delivered.map((b) => b.toString()),
    ['slow'],
  );
  const tx = forwarder.stats().Transactions;
  assert.equal(tx.Errors, 1);
  assert.deepEqual(tx.ErrorsByType, { DNSErrors: 0, TLSErrors: 0, ConnectionErrors: 0, WroteRequestErrors: 0, SentRequestErrors: 0 });
  assert.ok(lines.includes(`error: error while sending transaction to "${intake.url}/api/v2/series", rescheduling it: no response within 0.2 s (forwarder_timeout)`));
});

test('counts a name that does not resolve as a DNS error and retries it', async (t) => {
  const { log } = captureLog();
  const forwarder = new Forwarder(fastRetries('http://kennel-forwarder-test.invalid', log));
  t.after(() => forwarder.close());
  forwarder.send(payload('nowhere'));
  await waitFor(() => forwarder.stats().Transactions.ErrorsByType.DNSErrors >= 2, 'two failed lookups');
  const tx = forwarder.stats().Transactions;
  assert.equal(tx.Dropped, 0);
  assert.equal(forwarder.stats().Pending, 1);
});

test('drops the oldest transactions first when the retry queue is full, and counts them exactly', async (t) => {
  let up = false;
  const intake = await FakeIntake.start(() => (up ? { status: 202 } : { status: 503 }));
  t.after(() => intake.close());
  const { lines, log } = captureLog();
  const forwarder = new Forwarder({
    ...fastRetries(intake.url, log),
    maxConcurrentRequests: 1,
    retryQueuePayloadsMaxSize: 300,
    // One flat 0.5 s block after the first failure, so the other four are held, in order.
    backoffBase: 0.5,
    backoffMax: 0.5,
    retryInterval: 3600,
    now: () => performance.now(),
  });
  t.after(() => forwarder.close());

  for (let i = 1; i <= 5; i++) forwarder.send(payload(String(i).repeat(100)));
  await waitFor(() => forwarder.stats().Transactions.Requeued === 5, 'all five requeued');
  let tx = forwarder.stats().Transactions;
  assert.equal(intake.requests.length, 1);
  assert.equal(tx.RetryQueueSize, 3);
  assert.equal(tx.RetryQueueBytes, 300);
  assert.equal(tx.RetryQueueDropped, 2);
  assert.equal(tx.RetryQueueDroppedBytes, 200);
  assert.equal(tx.Dropped, 2);
  assert.deepEqual(tx.DroppedByEndpoint, { series_v2: 2 });

  up = true;
  assert.deepEqual(await forwarder.drain(5000), { sent: 3, dropped: 0, pending: 0 });
  // Newest first, as the agent retries; 1 and 2 were the oldest and are gone.
  assert.deepEqual(
    intake.delivered.map((b) => b.toString()[0]),
    ['5', '4', '3'],
  );
  tx = forwarder.stats().Transactions;
  assert.equal(tx.Success, 3);
  assert.equal(tx.Dropped, 2);
  assert.equal(tx.RetryQueueSize, 0);
  assert.equal(tx.RetryQueueBytes, 0);
  assert.ok(lines.includes('error: Dropped 2 transactions (200 bytes) for exceeding the retry queue payloads size limit of 300 (forwarder_retry_queue_payloads_max_size)'));
});

test('never has more requests in flight than forwarder_max_concurrent_requests', async (t) => {
  const total = 30;
  let held: Array<() => void> = [];
  let received = 0;
  const intake = await FakeIntake.start(
    () =>
      new Promise((resolve) => {
        received++;
        held.push(() => resolve({ status: 202 }));
        // Answer in batches once the limit is reached, so the limit is reached every time.
        if (held.length === 3 || received === total) {
          const batch = held;
          held = [];
          for (const release of batch) release();
        }
      }),
  );
  t.after(() => intake.close());
  const { log } = captureLog();
  const forwarder = new Forwarder({ ...fastRetries(intake.url, log), maxConcurrentRequests: 3 });
  t.after(() => forwarder.close());

  for (let i = 0; i < total; i++) forwarder.send(payload(`payload ${i}`));
  assert.equal(forwarder.stats().InFlight, 3);
  assert.deepEqual(await forwarder.drain(), { sent: total, dropped: 0, pending: 0 });
  assert.equal(intake.maxInFlight, 3);
  assert.equal(intake.requests.length, total);
  assert.deepEqual(
    intake.delivered.map((b) => b.toString()).sort(),
    Array.from({ length: total }, (_, i) => `payload ${i}`).sort(),
  );
});

test('sends new payloads to the retry queue when the input buffer is full', async (t) => {
  const intake = await FakeIntake.start();
  t.after(() => intake.close());
  const { log } = captureLog();
  const forwarder = new Forwarder({ ...fastRetries(intake.url, log), maxConcurrentRequests: 1, highPrioBufferSize: 2 });
  t.after(() => forwarder.close());

  for (let i = 0; i < 6; i++) forwarder.send(payload(`p${i}`));
  const tx = forwarder.stats().Transactions;
  // One in flight, two waiting for the slot, three in the retry queue.
  assert.equal(forwarder.stats().InFlight, 1);
  assert.equal(tx.HighPriorityQueueFull, 3);
  assert.equal(tx.RetryQueueSize, 3);
  assert.deepEqual(await forwarder.drain(), { sent: 6, dropped: 0, pending: 0 });
  assert.equal(forwarder.stats().Transactions.Retried, 3);
});

test('drain delivers everything queued, retrying through errors', async (t) => {
  const intake = await FakeIntake.start((r) => (r.index < 4 ? { status: 500 } : { status: 202 }));
  t.after(() => intake.close());
  const { log } = captureLog();
  const forwarder = new Forwarder({ ...fastRetries(intake.url, log), retryInterval: 3600 });
  t.after(() => forwarder.close());

  for (let i = 0; i < 10; i++) forwarder.send(payload(`drained ${i}`, i % 2 === 0 ? Endpoint.SERIES_V2 : Endpoint.SKETCHES));
  assert.deepEqual(await forwarder.drain(5000), { sent: 10, dropped: 0, pending: 0 });
  assert.deepEqual(
    intake.delivered.map((b) => b.toString()).sort(),
    Array.from({ length: 10 }, (_, i) => `drained ${i}`).sort(),
  );
  const tx = forwarder.stats().Transactions;
  assert.deepEqual(tx.SuccessByEndpoint, { series_v2: 5, sketches_v2: 5 });
  assert.equal(tx.Errors, 4);
});

test('drain stops at its deadline and reports what is still pending', async (t) => {
  const intake = await FakeIntake.start(() => 'hang');
  t.after(() => intake.close());
  const { log } = captureLog();
  const forwarder = new Forwarder({ ...fastRetries(intake.url, log), maxConcurrentRequests: 2 });

  for (let i = 0; i < 5; i++) forwarder.send(payload(`stuck ${i}`));
  await waitFor(() => intake.requests.length === 2, 'two requests at the intake');
  assert.deepEqual(await forwarder.drain(50), { sent: 0, dropped: 0, pending: 5 });
  await forwarder.close();
  const s = forwarder.stats();
  assert.equal(s.Pending, 0);
  assert.equal(s.InFlight, 0);
  // Lost at close: three waiting, two cancelled in flight.
  assert.equal(s.Transactions.Dropped, 5);
  assert.equal(intake.requests.length, 2);
});

test('drops and counts payloads sent after drain began', async (t) => {
  const intake = await FakeIntake.start();
  t.after(() => intake.close());
  const { lines, log } = captureLog();
  const forwarder = new Forwarder(fastRetries(intake.url, log));
  t.after(() => forwarder.close());

  assert.deepEqual(await forwarder.drain(), { sent: 0, dropped: 0, pending: 0 });
  forwarder.send(payload('late'));
  forwarder.send(payload('later'));
  assert.equal(forwarder.stats().Transactions.Dropped, 2);
  assert.equal(intake.requests.length, 0);
  assert.equal(lines.filter((l) => l.includes('after the forwarder began to stop')).length, 1);
});

test('send never throws, even for something that is not a payload', async (t) => {
  const { log } = captureLog();
  const forwarder = new Forwarder(fastRetries('http://127.0.0.1:9', log));
  t.after(() => forwarder.close());
  forwarder.send(null as never);
  forwarder.send({ endpoint: '/api/v2/series' } as never);
  const tx = forwarder.stats().Transactions;
  assert.equal(tx.Dropped, 2);
  assert.equal(tx.ErrorsByType.SentRequestErrors, 2);
});

test('never puts the API key in an error, a log line or stats', async (t) => {
  let n = 0;
  const intake = await FakeIntake.start(() => {
    n++;
    if (n === 1) return { status: 403, body: `bad key ${API_KEY}` };
    if (n === 2) return { status: 500, body: `echo ${API_KEY}` };
    if (n === 3) return 'hang';
    return { status: 202 };
  });
  t.after(() => intake.close());
  const refused = await closedPort();
  const { lines, log } = captureLog();
  const forwarder = new Forwarder({ ...fastRetries(intake.url, log), timeout: 0.2 });
  const elsewhere = new Forwarder(fastRetries(`http://127.0.0.1:${refused}`, log));
  t.after(() => forwarder.close());
  t.after(() => elsewhere.close());

  forwarder.send(payload('a'));
  forwarder.send(payload('b'));
  elsewhere.send(payload('c'));
  await waitFor(() => forwarder.stats().Transactions.Success === 1, 'the delivery');
  await waitFor(() => elsewhere.stats().Transactions.Errors >= 1, 'a refused connection');

  const errors: string[] = [];
  try {
    new Forwarder({ apiKey: API_KEY, ddUrl: 'ftp://nope', log });
  } catch (e) {
    assert.ok(isKennelError(e));
    errors.push(String(e), JSON.stringify(e), (e as Error).stack ?? '');
  }
  try {
    new Forwarder({ apiKey: 42 as never });
  } catch (e) {
    errors.push(String(e));
  }
  assert.equal(errors.length, 4);

  const everything = [JSON.stringify(forwarder.stats()), JSON.stringify(elsewhere.stats()), JSON.stringify(forwarder.config), ...lines, ...errors].join('\n');
  assert.ok(!everything.includes(API_KEY), 'the API key leaked');
  assert.ok(!everything.includes(API_KEY.slice(0, 27)), 'part of the API key leaked');
  assert.ok(everything.includes('***************************bcdef'));
  assert.ok(lines.some((l) => l.includes('echo ***************************bcdef')));
  assert.equal(forwarder.config.apiKey, API_KEY);
});
