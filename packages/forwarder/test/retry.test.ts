import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BlockedEndpoints,
  classify,
  classifyStatus,
  errorsByTypeCounter,
  ExpBackoffPolicy,
  Priority,
  RetryQueue,
  STORAGE_DISABLED_STATUS,
} from '../src/index.js';
import type { QueuedTransaction, RetryQueueStorage } from '../src/index.js';

test('classifies statuses as the agent does: 400, 403, 413 dropped, every other error retried', () => {
  for (const s of [200, 202, 204, 301, 399]) assert.deepEqual(classifyStatus(s), { verdict: 'success', reason: 'ok' });
  assert.deepEqual(classifyStatus(400), { verdict: 'drop', reason: 'bad_request' });
  assert.deepEqual(classifyStatus(403), { verdict: 'drop', reason: 'api_key_invalid' });
  assert.deepEqual(classifyStatus(413), { verdict: 'drop', reason: 'payload_too_large' });
  for (const s of [401, 404, 408, 429, 500, 502, 503, 504]) assert.deepEqual(classifyStatus(s), { verdict: 'retry', reason: 'http_error' });
  assert.deepEqual(classify({ kind: 'error', error: 'connection', code: 'ECONNREFUSED', message: '' }), { verdict: 'retry', reason: 'transport_error' });
  assert.deepEqual(classify({ kind: 'error', error: 'timeout', code: 'KENNEL_TIMEOUT', message: '' }), { verdict: 'retry', reason: 'transport_error' });
  assert.deepEqual(classify({ kind: 'error', error: 'invalid_request', code: 'ERR_INVALID_URL', message: '' }), { verdict: 'drop', reason: 'invalid_request' });
  assert.deepEqual(classify({ kind: 'cancelled' }), { verdict: 'cancelled', reason: 'cancelled' });
  assert.deepEqual(classify({ kind: 'response', status: 503, statusText: '503 Service Unavailable', body: '' }), { verdict: 'retry', reason: 'http_error' });
});

test('maps transport failures to the agent ErrorsByType counters', () => {
  assert.equal(errorsByTypeCounter('dns'), 'DNSErrors');
  assert.equal(errorsByTypeCounter('tls'), 'TLSErrors');
  assert.equal(errorsByTypeCounter('connection'), 'ConnectionErrors');
  assert.equal(errorsByTypeCounter('write'), 'WroteRequestErrors');
  assert.equal(errorsByTypeCounter('invalid_request'), 'SentRequestErrors');
  assert.equal(errorsByTypeCounter('timeout'), null);
  assert.equal(errorsByTypeCounter('response'), null);
});

test('backs off as the agent test TestBackoff expects (factor 1, base 1, max 9, recovery 2)', () => {
  const b = new ExpBackoffPolicy({ factor: 1, base: 1, max: 9, recoveryInterval: 2, recoveryReset: false });
  const random = () => 0.5;
  assert.deepEqual([0, 1, 2, 3, 4].map((n) => b.incError(n)), [1, 2, 3, 4, 4]);
  assert.deepEqual([0, 1, 2, 3, 4].map((n) => b.decError(n)), [0, 0, 0, 1, 2]);
  assert.deepEqual([0, 1, 2, 3, 4].map((n) => b.backoffMs(n, random)), [0, 2000, 4000, 8000, 9000]);
});

test('draws the default waits from 2–4 s, 4–8, 8–16, 16–32, 32–64, then a flat 64', () => {
  const b = new ExpBackoffPolicy({ factor: 2, base: 2, max: 64, recoveryInterval: 2, recoveryReset: false });
  assert.equal(b.maxErrors, 6);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => b.backoffMs(n, () => 0)), [2000, 4000, 8000, 16000, 32000, 64000]);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => b.backoffMs(n, () => 1)), [4000, 8000, 16000, 32000, 64000, 64000]);
  assert.equal(b.incError(6), 6);
  const reset = new ExpBackoffPolicy({ factor: 2, base: 2, max: 64, recoveryInterval: 2, recoveryReset: true });
  assert.equal(reset.decError(6), 0);
});

test('blocks an endpoint after an error, lets one probe through after the wait, and recovers', () => {
  let now = 1000;
  const policy = new ExpBackoffPolicy({ factor: 2, base: 2, max: 64, recoveryInterval: 1, recoveryReset: false });
  const ep = new BlockedEndpoints(policy, () => now, () => 0);
  const url = 'https://intake/api/v2/series';
  assert.equal(ep.gateForRetry(url), 'open');
  assert.equal(ep.isBlockedForSend(url), false);

  ep.close(url);
  assert.equal(ep.state(url), 'blocked');
  assert.equal(ep.errors(url), 1);
  assert.equal(ep.blockedUntil(url), 3000);
  // Failures that arrive while blocked were sent before the block: ignored.
  ep.close(url);
  assert.equal(ep.errors(url), 1);
  assert.equal(ep.gateForRetry(url), 'closed');
  assert.equal(ep.isBlockedForSend(url), true);

  now = 3000;
  assert.equal(ep.gateForRetry(url), 'allow-one');
  assert.equal(ep.isBlockedForSend(url), false); // the probe
  assert.equal(ep.state(url), 'halfBlocked');
  assert.equal(ep.isBlockedForSend(url), true); // nothing else until its result
  assert.equal(ep.gateForRetry(url), 'closed');

  ep.close(url); // the probe failed: a longer wait
  assert.equal(ep.state(url), 'blocked');
  assert.equal(ep.errors(url), 2);
  assert.equal(ep.blockedUntil(url), 7000);

  now = 7000;
  assert.equal(ep.isBlockedForSend(url), false);
  ep.recover(url); // 2 - 1 = 1 error left: blocked again, for a shorter wait
  assert.equal(ep.state(url), 'blocked');
  assert.equal(ep.errors(url), 1);
  assert.equal(ep.blockedUntil(url), 9000);
  ep.recover(url); // a success while blocked is ignored
  assert.equal(ep.errors(url), 1);

  now = 9000;
  assert.equal(ep.isBlockedForSend(url), false);
  ep.recover(url);
  assert.equal(ep.state(url), 'unblocked');
  assert.equal(ep.errors(url), 0);
  assert.equal(ep.gateForRetry(url), 'open');
  // Endpoints are independent.
  assert.equal(ep.state('https://intake/api/beta/sketches'), 'unblocked');
});

interface Tx extends QueuedTransaction {
  readonly id: string;
}
let seq = 0;
const tx = (id: string, bytes: number, priority: Priority = Priority.NORMAL): Tx => ({ id, bytes, priority, seq: seq++ });
const ids = (list: readonly Tx[]) => list.map((t) => t.id);

test('drops the oldest transactions until the new one fits (the agent example: 9, 10, 11 then 30 in 50)', () => {
  const q = new RetryQueue<Tx>(50);
  for (const [id, n] of [['a', 9], ['b', 10], ['c', 11]] as const) assert.deepEqual(q.add(tx(id, n)), []);
  assert.deepEqual(ids(q.add(tx('d', 30))), ['a', 'b']);
  assert.equal(q.bytes, 41);
  assert.equal(q.size, 2);
  assert.equal(q.dropped, 2);
  assert.equal(q.droppedBytes, 19);
  assert.deepEqual(ids(q.takeAll()), ['d', 'c']); // newest first
  assert.equal(q.bytes, 0);
  assert.deepEqual(q.takeAll(), []);
});

test('drops normal priority before high priority, and keeps a requeued transaction at its age', () => {
  const q = new RetryQueue<Tx>(15);
  const high = tx('high', 5, Priority.HIGH);
  const old = tx('old', 5);
  const newer = tx('newer', 5);
  q.add(newer);
  q.add(high);
  q.add(old); // requeued: older than `newer`, though added after it
  assert.deepEqual(ids(q.add(tx('new', 10))), ['old', 'newer']);
  assert.deepEqual(ids(q.takeAll()), ['high', 'new']);
});

test('drops high priority, oldest first, once no normal one is left', () => {
  const q = new RetryQueue<Tx>(10);
  q.add(tx('h1', 5, Priority.HIGH));
  q.add(tx('h2', 5, Priority.HIGH));
  assert.deepEqual(ids(q.add(tx('n', 5))), ['h1']);
  assert.deepEqual(ids(q.takeAll()), ['h2', 'n']);
});

test('drops a transaction bigger than the whole bound, and keeps everything with a bound of 0 out', () => {
  const q = new RetryQueue<Tx>(10);
  q.add(tx('kept', 4));
  assert.deepEqual(ids(q.add(tx('huge', 11))), ['huge']);
  assert.deepEqual(ids(q.takeAll()), ['kept']);
  const none = new RetryQueue<Tx>(0);
  assert.deepEqual(ids(none.add(tx('x', 1))), ['x']);
  assert.deepEqual(none.add(tx('empty', 0)), []);
  assert.equal(none.dropped, 1);
  assert.equal(none.storageStatus(), STORAGE_DISABLED_STATUS);
});

test('hands what the bound pushes out to storage in shares of the bound, and reads the newest group back', () => {
  const groups: Tx[][] = [];
  const storage: RetryQueueStorage<Tx> = {
    store: (g) => (groups.push([...g]), true),
    extractLast: () => groups.pop() ?? [],
    get bytesUsed() {
      return groups.flat().reduce((n, t) => n + t.bytes, 0);
    },
    status: () => 'Enabled, not in-use.',
  };
  // The agent's TestTransactionRetryQueueAdd: 10, 20, 30, 40, 15 in 100 with a 0.6 ratio.
  const q = new RetryQueue<Tx>(100, { storage, flushToDiskMemRatio: 0.6 });
  for (const [id, n] of [['10', 10], ['20', 20], ['30', 30], ['40', 40], ['15', 15]] as const) assert.deepEqual(q.add(tx(id, n)), []);
  assert.deepEqual(groups.map(ids), [['10', '20', '30']]);
  assert.equal(q.bytes, 55);
  assert.deepEqual(ids(q.takeAll()), ['15', '40']);
  assert.deepEqual(ids(q.takeAll()), ['10', '20', '30']);
  assert.deepEqual(q.takeAll(), []);
  assert.equal(q.dropped, 0);
  assert.equal(q.storageStatus(), 'Enabled, not in-use.');
});

test('drops and counts what storage refuses', () => {
  const storage: RetryQueueStorage<Tx> = { store: () => false, extractLast: () => [], bytesUsed: 0, status: () => 'full' };
  const q = new RetryQueue<Tx>(10, { storage });
  q.add(tx('a', 6));
  assert.deepEqual(ids(q.add(tx('b', 6))), ['a']);
  assert.equal(q.dropped, 1);
  assert.equal(q.droppedBytes, 6);
  assert.deepEqual(ids(q.takeAll()), ['b']);
});
