import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isKennelError } from '@kennel/core';
import { HttpLogsSink, resolveLogsEndpoint } from '../src/index.js';
import type { LogMessage } from '../src/types.js';
import { API_KEY, line, newSender, rawServer, startIntake, until } from './sender-support.js';

for (const status of [400, 401, 403, 413]) {
  test(`a payload answered ${status} is dropped, counted, acknowledged, and not retried`, async (t) => {
    const intake = await startIntake(t);
    const { sender, accepted, warnings } = newSender(t, intake.url);
    intake.failNext(status);
    await sender.sendBatch([line('file:/a.log', 0), line('file:/a.log', 1), line('file:/a.log', 2)]);
    await sender.flush();
    await sender.send(line('file:/a.log', 3));
    await sender.flush();
    assert.deepEqual(intake.requests().map((r) => r.status), [status, 202]);
    assert.deepEqual(accepted.map((a) => [a.messages.map((m) => m.origin.offset), a.outcome]), [[[100, 200, 300], 'dropped'], [[400], 'sent']]);
    assert.deepEqual(sender.counters.destinationLogsDropped.snapshot(), { '127.0.0.1': 3 });
    const c = sender.counters.counters;
    assert.deepEqual([c.get('DestinationErrors'), c.get('LogsSent'), c.get('RetryCount')], [1, 1, 0]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`^failed to post http payload, dropped: code=${status} host=127\\.0\\.0\\.1 response=.*, 3 logs, \\d+ bytes \\(\\d+ compressed\\)$`));
    await sender.close();
  });
}

for (const status of [404, 408, 429, 500, 503]) {
  test(`a payload answered ${status} is retried until the intake takes it`, async (t) => {
    const intake = await startIntake(t);
    const { sender, accepted } = newSender(t, intake.url);
    intake.failNext(status, 2);
    await sender.send(line('file:/a.log', 0));
    await sender.flush();
    assert.deepEqual(intake.requests().map((r) => r.status), [status, status, 202]);
    assert.deepEqual(accepted.map((a) => a.outcome), ['sent']);
    assert.equal(sender.counters.counters.get('RetryCount'), 2);
    assert.equal(sender.counters.counters.get('DestinationErrors'), 2);
    assert.deepEqual(sender.counters.destinationLogsDropped.snapshot(), {});
    await sender.close();
  });
}

test('a reset connection and a refused one are retried', async (t) => {
  const intake = await startIntake(t);
  const { sender, accepted, warnings } = newSender(t, intake.url);
  intake.resetNext(1);
  await sender.send(line('s', 0));
  await sender.flush();
  assert.deepEqual(intake.requests().map((r) => r.outcome), ['reset', 'stored']);
  await intake.stopListening();
  const done = sender.send(line('s', 1)).then(() => sender.flush());
  await until(() => sender.counters.counters.get('DestinationErrors') >= 3, 'three refused attempts');
  await intake.resumeListening();
  await done;
  assert.deepEqual(intake.store.logs().map((e) => e.message), ['s line 0', 's line 1']);
  assert.deepEqual(accepted.map((a) => a.outcome), ['sent', 'sent']);
  assert.match(warnings[0]!, /^Could not send payload: ECONNRESET .* host=127\.0\.0\.1; retrying with backoff, the pipeline waits$/);
  await sender.close();
});

test('after 503s every line is delivered exactly once, in order per source, and acknowledged in order', async (t) => {
  const intake = await startIntake(t);
  const acks: [string, number][] = [];
  const { sender, accepted } = newSender(t, intake.url, { batchMaxSize: 50 }, {
    onAccepted: (messages: readonly LogMessage[]) => {
      for (const m of messages) acks.push([m.origin.sourceId, m.origin.offset!]);
    },
  });
  assert.equal(accepted.length, 0);
  intake.failNext(503, 5);
  const sources = ['file:/a.log', 'file:/b.log'];
  for (let i = 0; i < 300; i++) for (const s of sources) await sender.send(line(s, i));
  await sender.flush();
  for (const s of sources) {
    const got = intake.store.logs({ tag: `src:${s}` }).map((e) => e.message);
    assert.deepEqual(got, Array.from({ length: 300 }, (_, i) => `${s} line ${i}`));
  }
  assert.equal(intake.store.logs().length, 600);
  // Acknowledged in the order sent: per source, every offset once, ascending.
  for (const s of sources) {
    assert.deepEqual(acks.filter(([id]) => id === s).map(([, o]) => o), Array.from({ length: 300 }, (_, i) => (i + 1) * 100));
  }
  assert.deepEqual(acks.map(([id]) => id), Array.from({ length: 600 }, (_, i) => sources[i % 2]));
  // Five failures of the first payload raise the error count to 5, each attempt after one waits;
  // the success lowers it by 2 (to 3), so the next payload waits once more, and the one after
  // (at 1) too: 7 waits. With a jitter of 0 the wait after n errors is base · 2^(n-1), base 1/1024 s.
  const c = sender.counters.counters;
  assert.equal(c.get('RetryCount'), 7);
  assert.equal(c.get('RetryTimeSpent'), 976562 + 1953125 + 3906250 + 7812500 + 15625000 + 3906250 + 976562);
  assert.equal(c.get('DestinationErrors'), 5);
  assert.equal(c.get('LogsSent'), 600);
  assert.equal(sender.errorCount, 0);
  assert.deepEqual(intake.requests().map((r) => r.status).slice(0, 7), [503, 503, 503, 503, 503, 202, 202]);
  await sender.close();
});

test('send waits while the destination retries and the queue is full, then resumes in order', async (t) => {
  let failing = true;
  const server = await rawServer(t, () => (failing ? 503 : 202));
  const order: number[] = [];
  const { sender } = newSender(t, server.url, { batchMaxSize: 1, payloadChannelSize: 1 }, {
    onAccepted: (messages: readonly LogMessage[]) => order.push(...messages.map((m) => m.origin.offset!)),
  });
  // The first payload goes in flight, the second fills the queue.
  await sender.send(line('s', 0));
  await sender.send(line('s', 1));
  assert.equal(sender.blocked, true);
  let third = false;
  const waiting = sender.send(line('s', 2)).then(() => (third = true));
  await until(() => server.requests.length >= 3, 'three failed attempts');
  assert.equal(third, false);
  assert.equal(sender.pendingPayloads, 2);
  failing = false;
  await waiting;
  await sender.flush();
  assert.deepEqual(order, [100, 200, 300]);
  assert.deepEqual(
    server.requests.filter((r) => r.text.startsWith('[')).map((r) => JSON.parse(r.text)[0].message).filter((m, i, a) => a.indexOf(m) === i),
    ['s line 0', 's line 1', 's line 2'],
  );
  assert.equal(sender.blocked, false);
  await sender.close();
});

test('close waits for queued payloads and then refuses new messages', async (t) => {
  const intake = await startIntake(t);
  const { sender, accepted } = newSender(t, intake.url);
  intake.failNext(503, 2);
  await sender.sendBatch([line('s', 0), line('s', 1)]);
  await sender.close();
  assert.deepEqual(accepted.map((a) => [a.messages.length, a.outcome]), [[2, 'sent']]);
  assert.equal(intake.store.logs().length, 2);
  await assert.rejects(sender.send(line('s', 2)), (e: unknown) => isKennelError(e) && e.code === 'ERR_INVALID_ARGUMENT');
  assert.equal(sender.logsStats().is_running, false);
});

test('after stop_grace_period close abandons what the intake never took, unacknowledged', async (t) => {
  const server = await rawServer(t, () => 503);
  const { sender, accepted, warnings } = newSender(t, server.url, { stopGracePeriod: 0.05, batchMaxSize: 1, payloadChannelSize: 1 });
  await sender.send(line('s', 0));
  await sender.send(line('s', 1));
  const blocked = sender.send(line('s', 2));
  await sender.close();
  await assert.rejects(blocked, (e: unknown) => isKennelError(e) && e.code === 'ERR_INVALID_ARGUMENT');
  assert.deepEqual(accepted, []);
  assert.equal(warnings.at(-1), 'LogsSender: stop_grace_period elapsed; 2 logs were not sent and will be read again after a restart');
});

test('a request without an answer within http_timeout is retried', async (t) => {
  const held: ServerResponse[] = [];
  let seen = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (seen++ === 0) return void held.push(res);
      res.writeHead(202).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { sender, accepted, warnings } = newSender(t, url, { httpTimeout: 0.05 });
  await sender.send(line('s', 0));
  await sender.flush();
  assert.equal(seen, 2);
  assert.deepEqual(accepted.map((a) => a.outcome), ['sent']);
  assert.equal(sender.counters.counters.get('DestinationErrors'), 1);
  assert.match(warnings[0]!, /^Could not send payload: KENNEL_TIMEOUT no answer within 50 ms \(logs_config\.http_timeout\) host=127\.0\.0\.1; retrying/);
  await sender.close();
});

test('the connectivity check posts {} and reports whether the intake took it', async (t) => {
  const intake = await startIntake(t);
  const sink = new HttpLogsSink(resolveLogsEndpoint({ apiKey: API_KEY, logsDdUrl: intake.url }));
  t.after(() => sink.close());
  assert.equal(await sink.checkConnectivity(), true);
  const [r] = intake.requests();
  assert.deepEqual([r!.path, r!.status, r!.bodyBytes, r!.headers['dd-protocol']], ['/api/v2/logs', 202, 2, 'agent-json']);
  intake.failNext(403);
  assert.equal(await sink.checkConnectivity(), false);
});
