import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { decompressBody } from '@kennel/intake';
import { LogEventEncoder, loadLogsCompression, resolveLogsSenderConfig } from '../src/index.js';
import type { LogMessage } from '../src/types.js';
import { API_KEY, line, newSender, NOW, rawServer, REDACTED_KEY, startIntake, until } from './sender-support.js';

/** A message whose encoded event is exactly `bytes` long (hostname `web-1`, clock `NOW`). */
function sized(i: number, bytes: number): LogMessage {
  const base = line('file:/big.log', i, '');
  const overhead = new LogEventEncoder('web-1').encode(base, NOW).length;
  return { ...base, content: 'x'.repeat(bytes - overhead) };
}

test('a batch is cut at batch_max_size 1000 events', async (t) => {
  const intake = await startIntake(t);
  const { sender, accepted } = newSender(t, intake.url);
  for (let i = 0; i < 2500; i++) await sender.send(line('file:/a.log', i));
  await intake.store.waitFor((s) => s.payloads('logs').length === 2);
  assert.deepEqual(intake.store.payloads('logs').map((p) => p.items.length), [1000, 1000]);
  await sender.flush();
  assert.deepEqual(intake.store.payloads('logs').map((p) => p.items.length), [1000, 1000, 500]);
  assert.deepEqual(accepted.map((a) => [a.messages.length, a.outcome]), [[1000, 'sent'], [1000, 'sent'], [500, 'sent']]);
  assert.deepEqual(intake.store.logs().map((e) => e.message), Array.from({ length: 2500 }, (_, i) => `file:/a.log line ${i}`));
  assert.equal(sender.counters.counters.get('LogsSent'), 2500);
  await sender.close();
});

test('a batch is cut when the encoded events reach batch_max_content_size, and before one that would not fit', async (t) => {
  const intake = await startIntake(t);
  const { sender, accepted } = newSender(t, intake.url);
  // 4 × 1.2 MB fit in 5 MB; the fifth does not, so it opens the next batch.
  for (let i = 0; i < 5; i++) await sender.send(sized(i, 1_200_000));
  await intake.store.waitFor((s) => s.payloads('logs').length === 1);
  assert.equal(intake.store.payloads('logs')[0]!.items.length, 4);
  await sender.flush();
  // 5 × 1,000,000 bytes is exactly the limit: that batch is full and goes at once.
  for (let i = 5; i < 10; i++) await sender.send(sized(i, 1_000_000));
  await intake.store.waitFor((s) => s.payloads('logs').length === 3);
  assert.deepEqual(intake.store.payloads('logs').map((p) => p.items.length), [4, 1, 5]);
  // The intake stores before it answers: wait for the answer before looking at the acknowledgements.
  await sender.flush();
  // The uncompressed payloads: events, commas and brackets.
  assert.deepEqual(intake.store.payloads('logs').map((p) => p.bytes), [4 * 1_200_000 + 5, 1_200_000 + 2, 5_000_000 + 6]);
  assert.equal(sender.counters.counters.get('BytesSent'), 4 * 1_200_000 + 5 + 1_200_000 + 2 + 5_000_000 + 6);
  assert.deepEqual(accepted.map((a) => a.messages.map((m) => m.origin.offset)), [[100, 200, 300, 400], [500], [600, 700, 800, 900, 1000]]);
  await sender.close();
});

test('an event larger than batch_max_content_size on its own is dropped, warned about, and acknowledged in order', async (t) => {
  const intake = await startIntake(t);
  const { sender, accepted, warnings } = newSender(t, intake.url, { batchMaxContentSize: 1000 });
  await sender.send(sized(0, 400));
  await sender.send(sized(1, 1001));
  await sender.send(sized(2, 400));
  await sender.flush();
  assert.deepEqual(intake.store.payloads('logs').map((p) => p.items.length), [1, 1]);
  assert.deepEqual(
    accepted.map((a) => [a.messages.map((m) => m.origin.offset), a.outcome]),
    [[[100], 'sent'], [[200], 'dropped'], [[300], 'sent']],
  );
  assert.deepEqual(warnings, ['Dropped message in pipeline=logs reason=too-large ContentLength=1001 ContentSizeLimit=1000']);
  assert.equal(sender.counters.counters.get('LogsSent'), 2);
  await sender.close();
});

test('a batch that is not full goes on the batch_wait ticker', async (t) => {
  const intake = await startIntake(t);
  const { sender } = newSender(t, intake.url, { batchWait: 0.1 });
  for (let i = 0; i < 3; i++) await sender.send(line('tcp:10514', i));
  // No flush: only the ticker can send it.
  const [p] = await intake.store.waitFor((s) => s.payloads('logs').length > 0 && s.payloads('logs'));
  assert.deepEqual(p!.items.map((e) => e.message), ['tcp:10514 line 0', 'tcp:10514 line 1', 'tcp:10514 line 2']);
  await sender.close();
});

test('the intake receives the encoded events with the agent field values', async (t) => {
  const intake = await startIntake(t);
  const { sender } = newSender(t, intake.url);
  await sender.send({ ...line('child:stderr', 0, 'boom <failed> & retried'), status: 'error', service: 'billing', source: 'python', tags: ['env:prod', 'version:1.2'] });
  await sender.send(line('child:stdout', 1));
  await sender.flush();
  assert.deepEqual(intake.store.logs(), [
    {
      message: 'boom <failed> & retried',
      status: 'error',
      timestamp: NOW,
      hostname: 'web-1',
      service: 'billing',
      ddsource: 'python',
      ddtags: 'env:prod,version:1.2',
      tags: ['env:prod', 'version:1.2'],
    },
    {
      message: 'child:stdout line 1',
      status: 'info',
      timestamp: NOW,
      hostname: 'web-1',
      service: 'api',
      ddsource: 'nginx',
      ddtags: 'env:test,src:child:stdout',
      tags: ['env:test', 'src:child:stdout'],
    },
  ]);
  assert.deepEqual(intake.store.logs({ status: 'error', service: 'billing' }).length, 1);
  await sender.close();
});

test('use_container_timestamp sends the message timestamp instead of the encode time', async (t) => {
  const intake = await startIntake(t);
  const { sender } = newSender(t, intake.url, { useContainerTimestamp: true });
  await sender.send(line('docker:abc', 7));
  await sender.flush();
  assert.equal(intake.store.logs()[0]!.timestamp, NOW - 1000 + 7);
  await sender.close();
});

test('every request is a POST to /api/v2/logs with the agent headers', async (t) => {
  const server = await rawServer(t);
  const { sender } = newSender(t, server.url, {}, {});
  await sender.send(line('file:/a.log', 0));
  await sender.send(line('file:/a.log', 1));
  await sender.flush();
  assert.equal(server.requests.length, 1);
  const r = server.requests[0]!;
  assert.equal(r.method, 'POST');
  assert.equal(r.url, '/api/v2/logs');
  const h = r.headers;
  const sentAt = Number(h['dd-current-timestamp']);
  assert.ok(Number.isSafeInteger(sentAt) && sentAt > NOW, `dd-current-timestamp ${h['dd-current-timestamp']}`);
  assert.deepEqual(
    {
      'dd-api-key': h['dd-api-key'],
      'content-type': h['content-type'],
      'user-agent': h['user-agent'],
      'content-encoding': h['content-encoding'],
      'dd-protocol': h['dd-protocol'],
      'dd-evp-origin': h['dd-evp-origin'],
      'dd-evp-origin-version': h['dd-evp-origin-version'],
      'dd-message-timestamp': h['dd-message-timestamp'],
      'content-length': h['content-length'],
    },
    {
      'dd-api-key': API_KEY,
      'content-type': 'application/json',
      'user-agent': 'datadog-agent/7.64.0',
      'content-encoding': 'gzip',
      'dd-protocol': 'agent-json',
      'dd-evp-origin': 'agent',
      'dd-evp-origin-version': '7.64.0',
      // The last message's ingestion time.
      'dd-message-timestamp': String(NOW - 1000 + 1),
      'content-length': String(r.bodyBytes),
    },
  );
  assert.equal(JSON.parse(r.text).length, 2);
  await sender.close();
});

test('payloads are zstd-compressed by default, as the agent sends them', async (t) => {
  const intake = await startIntake(t);
  const compression = await loadLogsCompression(resolveLogsSenderConfig(), {
    warn: (l) => {
      throw new Error(`zstd did not load: ${l}`);
    },
  });
  assert.equal(compression.contentEncoding, 'zstd');
  const { sender } = newSender(t, intake.url, { compressionKind: 'zstd' }, { compression });
  await sender.send(line('file:/a.log', 0));
  await sender.flush();
  const [req] = intake.requests();
  assert.equal(req!.headers['content-encoding'], 'zstd');
  assert.equal(req!.headers['dd-api-key'], REDACTED_KEY);
  assert.equal(req!.status, 202);
  assert.equal(intake.store.logs()[0]!.message, 'file:/a.log line 0');
  assert.equal(sender.counters.counters.get('EncodedBytesSent'), req!.bodyBytes);
  await sender.close();
});

test('zstd that cannot load falls back to gzip with one warning', async (t) => {
  const warnings: string[] = [];
  const c = await loadLogsCompression(resolveLogsSenderConfig(), { loadZstd: () => Promise.reject(new Error('no wasm')), warn: (l) => warnings.push(l) });
  assert.equal(c.contentEncoding, 'gzip');
  assert.deepEqual(warnings, ['zstd is unavailable (no wasm); compressing logs with gzip (Content-Encoding: gzip) instead']);
  const body = await c.compress(Buffer.from('[{"message":"a"}]'));
  assert.equal(gunzipSync(body).toString(), '[{"message":"a"}]');
  const server = await rawServer(t);
  const { sender } = newSender(t, server.url, { compressionKind: 'zstd' }, { compression: c });
  await sender.send(line('s', 0));
  await sender.flush();
  assert.equal(server.requests[0]!.headers['content-encoding'], 'gzip');
  await sender.close();
});

test('with use_compression off the body is the plain JSON array, sent as identity', async (t) => {
  const server = await rawServer(t);
  const { sender } = newSender(t, server.url, { useCompression: false });
  await sender.send(line('s', 0, 'plain'));
  await sender.flush();
  const r = server.requests[0]!;
  assert.equal(r.headers['content-encoding'], 'identity');
  assert.equal(JSON.parse(r.text)[0].message, 'plain');
  assert.equal(r.bodyBytes, sender.counters.counters.get('BytesSent'));
  assert.equal(sender.counters.counters.get('BytesSent'), sender.counters.counters.get('EncodedBytesSent'));
  const d = decompressBody(new Uint8Array(0), 'identity');
  assert.equal(d.ok, true);
  await sender.close();
});

test('sendBatch takes messages in order, like awaiting send for each', async (t) => {
  const intake = await startIntake(t);
  const { sender } = newSender(t, intake.url, { batchMaxSize: 3 });
  await sender.sendBatch(Array.from({ length: 7 }, (_, i) => line('udp:514', i)));
  await sender.flush();
  assert.deepEqual(intake.store.payloads('logs').map((p) => p.items.length), [3, 3, 1]);
  await until(() => sender.pendingPayloads === 0, 'the queue to drain');
  assert.deepEqual(intake.store.logs().map((e) => e.message), Array.from({ length: 7 }, (_, i) => `udp:514 line ${i}`));
  await sender.close();
});
