import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Series } from '@kennel/core';
import { encodeAll, resolveSerializerConfig, SeriesV1Encoder, SeriesV2Encoder } from '@kennel/forwarder';
import { IntakeStore, STORE_KINDS, WaitTimeoutError, type KindCounts } from '../src/index.js';
import { CHECKS, EVENTS, SERIES, SERIES_V1_BACK, SERIES_V2_BACK, SKETCHES } from './http-support.js';
import { zstd } from './support.js';
import { Ring } from '../src/store/ring.js';

const zero: KindCounts = {
  Payloads: 0,
  Items: 0,
  Points: 0,
  Bytes: 0,
  DroppedPayloads: 0,
  DroppedItems: 0,
  DroppedPoints: 0,
  DroppedBytes: 0,
  DecodeErrors: 0,
  StoredPayloads: 0,
  StoredItems: 0,
  StoredBytes: 0,
};

function gauge(name: string, tags: string[] = [], host = 'h'): Series {
  return { name, host, tags, type: 'gauge', interval: 10, points: [{ timestamp: 1, value: 1 }] };
}

/** A clock the test moves by hand. */
function clock(start = 1_000_000): { now: () => number; set: (t: number) => void } {
  let t = start;
  return { now: () => t, set: (v) => (t = v) };
}

test('a new store counts zero for every payload kind', () => {
  assert.deepStrictEqual(new IntakeStore().counts(), {
    kinds: Object.fromEntries(STORE_KINDS.map((k) => [k, zero])),
    decodeErrors: {},
    stored: { payloads: 0, items: 0, bytes: 0 },
  });
});

test('ingest decodes forwarder payloads and counts payloads, items, points and decompressed bytes per kind', () => {
  const store = new IntakeStore();
  const config = resolveSerializerConfig();
  const [v2] = encodeAll(new SeriesV2Encoder(config, zstd), SERIES);
  const [v1] = encodeAll(new SeriesV1Encoder(config, zstd), SERIES);
  const r2 = store.ingest({ path: v2!.endpoint, contentEncoding: v2!.contentEncoding, body: v2!.body });
  const r1 = store.ingest({ path: v1!.endpoint, contentEncoding: v1!.contentEncoding, body: v1!.body });
  assert.equal(r2.ok && r2.value.seq, 1);
  assert.equal(r1.ok && r1.value.seq, 2);
  assert.deepStrictEqual(store.series(), [...SERIES_V2_BACK, ...SERIES_V1_BACK]);
  assert.deepStrictEqual(store.series({ kind: 'series_v1' }), SERIES_V1_BACK);
  const c = store.counts();
  assert.deepStrictEqual(c.kinds.series_v2, {
    ...zero,
    Payloads: 1,
    Items: 2,
    Points: 3,
    Bytes: v2!.uncompressedBytes,
    StoredPayloads: 1,
    StoredItems: 2,
    StoredBytes: v2!.uncompressedBytes,
  });
  assert.deepStrictEqual(c.kinds.series_v1, {
    ...zero,
    Payloads: 1,
    Items: 2,
    Points: 3,
    Bytes: v1!.uncompressedBytes,
    StoredPayloads: 1,
    StoredItems: 2,
    StoredBytes: v1!.uncompressedBytes,
  });
  assert.deepStrictEqual(c.stored, { payloads: 2, items: 4, bytes: v2!.uncompressedBytes + v1!.uncompressedBytes });
});

test('ingest counts a request that does not decode by reason and stores nothing', () => {
  const store = new IntakeStore();
  assert.deepStrictEqual(store.ingest({ path: '/api/v1/series', body: Buffer.from('{"series":"x"}') }), {
    ok: false,
    reason: 'invalid_shape',
    message: 'series is not an array',
  });
  store.ingest({ path: '/api/v2/series', contentEncoding: 'zstd', body: Uint8Array.of(1, 2, 3) });
  store.ingest({ path: '/api/v2/series', body: Uint8Array.of(0x0a, 0x05, 0x01) });
  store.ingest({ path: '/api/v2/unknown', body: Uint8Array.of() });
  const c = store.counts();
  assert.deepStrictEqual(c.decodeErrors, { invalid_shape: 1, decompress_failed: 1, truncated: 1, unknown_endpoint: 1 });
  assert.equal(c.kinds.series_v1.DecodeErrors, 1);
  assert.equal(c.kinds.series_v2.DecodeErrors, 2);
  assert.deepStrictEqual(c.stored, { payloads: 0, items: 0, bytes: 0 });
});

test('series are found by exact name, name pattern, every listed tag, host and receive time', () => {
  const t = clock(5000);
  const store = new IntakeStore({ now: t.now });
  store.add('series_v2', [gauge('a.one', ['env:prod', 'team:x']), gauge('b.two', ['env:dev'], 'other')], { bytes: 10 });
  t.set(6000);
  store.add('series_v1', [gauge('a.three', ['env:prod'])], { bytes: 10 });
  assert.deepStrictEqual(store.series({ name: 'a.one' }).map((s) => s.name), ['a.one']);
  assert.deepStrictEqual(store.series({ name: /^a\./g }).map((s) => s.name), ['a.one', 'a.three']);
  assert.deepStrictEqual(store.series({ tag: 'env:prod' }).map((s) => s.name), ['a.one', 'a.three']);
  assert.deepStrictEqual(store.series({ tag: ['env:prod', 'team:x'] }).map((s) => s.name), ['a.one']);
  assert.deepStrictEqual(store.series({ host: 'other' }).map((s) => s.name), ['b.two']);
  assert.deepStrictEqual(store.series({ since: 6000 }).map((s) => s.name), ['a.three']);
  assert.deepStrictEqual(store.series({ since: 6001 }), []);
});

test('sketches, service checks and events have their own queries', () => {
  const store = new IntakeStore();
  store.add('sketches', SKETCHES, { bytes: 1, points: 1 });
  store.add('check_runs', CHECKS, { bytes: 1 });
  store.add('events', EVENTS, { bytes: 1, meta: { internalHostname: 'web-1' } });
  assert.deepStrictEqual(store.sketches({ name: 'app.dist', tag: 'env:prod' }), SKETCHES);
  assert.deepStrictEqual(store.sketches({ name: 'app.other' }), []);
  assert.deepStrictEqual(store.serviceChecks({ name: 'app.db' }), [CHECKS[1]]);
  assert.deepStrictEqual(store.serviceChecks(), CHECKS);
  assert.deepStrictEqual(store.events({ name: 'Deploy' }), EVENTS);
  assert.deepStrictEqual(store.payloads('events')[0]!.meta, { internalHostname: 'web-1' });
  assert.deepStrictEqual(store.payloads().map((p) => [p.seq, p.kind]), [
    [1, 'sketches'],
    [2, 'check_runs'],
    [3, 'events'],
  ]);
});

test('past maxBytes the oldest payload over every kind is dropped and counted', () => {
  const store = new IntakeStore({ maxBytes: 100 });
  store.add('series_v2', [gauge('first'), gauge('second')], { bytes: 40, points: 2 });
  store.add('events', EVENTS, { bytes: 40 });
  store.add('check_runs', CHECKS, { bytes: 40 });
  const c = store.counts();
  assert.deepStrictEqual(c.kinds.series_v2, {
    ...zero,
    Payloads: 1,
    Items: 2,
    Points: 2,
    Bytes: 40,
    DroppedPayloads: 1,
    DroppedItems: 2,
    DroppedPoints: 2,
    DroppedBytes: 40,
  });
  assert.equal(c.kinds.events.StoredPayloads, 1);
  assert.equal(c.kinds.check_runs.StoredPayloads, 1);
  assert.deepStrictEqual(c.stored, { payloads: 2, items: 3, bytes: 80 });
  assert.deepStrictEqual(store.series(), []);
  assert.deepStrictEqual(store.events(), EVENTS);
});

test('a payload bigger than maxBytes on its own is dropped on arrival and counted', () => {
  const store = new IntakeStore({ maxBytes: 100 });
  store.add('series_v2', [gauge('kept')], { bytes: 60, points: 1 });
  store.add('series_v2', [gauge('huge')], { bytes: 101, points: 1 });
  const c = store.counts().kinds.series_v2;
  assert.equal(c.DroppedPayloads, 2);
  assert.equal(c.DroppedBytes, 161);
  assert.equal(c.StoredBytes, 0);
  assert.deepStrictEqual(store.series(), []);
});

test('payloads older than maxAgeMs are dropped and counted when the store is next used', () => {
  const t = clock(0);
  const store = new IntakeStore({ maxAgeMs: 1000, now: t.now });
  store.add('series_v2', [gauge('old')], { bytes: 5, points: 1 });
  t.set(500);
  store.add('series_v2', [gauge('young')], { bytes: 7, points: 1 });
  t.set(1000);
  assert.deepStrictEqual(store.series().map((s) => s.name), ['old', 'young']);
  t.set(1001);
  assert.deepStrictEqual(store.series().map((s) => s.name), ['young']);
  const c = store.counts().kinds.series_v2;
  assert.equal(c.DroppedPayloads, 1);
  assert.equal(c.DroppedBytes, 5);
  assert.equal(c.StoredBytes, 7);
});

test('clear drops what is held without counting it as dropped', () => {
  const store = new IntakeStore();
  store.add('series_v2', [gauge('x')], { bytes: 5, points: 1 });
  store.clear();
  const c = store.counts();
  assert.equal(c.kinds.series_v2.Payloads, 1);
  assert.equal(c.kinds.series_v2.DroppedPayloads, 0);
  assert.deepStrictEqual(c.stored, { payloads: 0, items: 0, bytes: 0 });
});

test('waitFor resolves with the probe answer once matching data arrives', async () => {
  const store = new IntakeStore();
  const waiting = store.waitFor((s) => {
    const hits = s.series({ name: 'wanted' });
    return hits.length > 0 && hits;
  });
  store.add('series_v2', [gauge('other')], { bytes: 1 });
  store.add('series_v2', [gauge('wanted', ['a:b'])], { bytes: 1 });
  assert.deepStrictEqual(await waiting, [gauge('wanted', ['a:b'])]);
});

test('waitFor resolves at once when the data is already there', async () => {
  const store = new IntakeStore();
  store.add('check_runs', CHECKS, { bytes: 1 });
  assert.equal(await store.waitFor((s) => s.serviceChecks().length), 2);
});

test('waitFor rejects on timeout and stops probing', async () => {
  const store = new IntakeStore();
  let probes = 0;
  await assert.rejects(
    store.waitFor(
      () => {
        probes++;
        return false;
      },
      { timeoutMs: 5 },
    ),
    (e: unknown) => {
      assert.ok(e instanceof WaitTimeoutError);
      assert.equal(e.code, 'ERR_INTAKE_WAIT_TIMEOUT');
      assert.equal(e.message, 'IntakeStore.waitFor: nothing matched within 5 ms (the store holds 0 payloads, 0 items)');
      return true;
    },
  );
  assert.equal(probes, 1);
  store.add('series_v2', [gauge('late')], { bytes: 1 });
  assert.equal(probes, 1);
});

test('waitFor rejects with the abort reason and with what the probe throws', async () => {
  const store = new IntakeStore();
  const ac = new AbortController();
  const waiting = store.waitFor(() => false, { signal: ac.signal });
  ac.abort(new Error('stop'));
  await assert.rejects(waiting, { message: 'stop' });
  const throwing = store.waitFor((s) => {
    if (s.counts().stored.payloads > 0) throw new Error('bad probe');
    return false;
  });
  store.add('events', EVENTS, { bytes: 1 });
  await assert.rejects(throwing, { message: 'bad probe' });
});

test('onPayload tells every stored payload until unsubscribed', () => {
  const store = new IntakeStore();
  const seen: number[] = [];
  const off = store.onPayload((p) => seen.push(p.seq));
  store.add('events', EVENTS, { bytes: 1 });
  off();
  store.add('events', EVENTS, { bytes: 1 });
  assert.deepStrictEqual(seen, [1]);
});

test('bad bounds are a KennelError naming the option', () => {
  assert.throws(() => new IntakeStore({ maxBytes: 0 }), { code: 'ERR_INVALID_ARGUMENT', message: 'IntakeStore: maxBytes must be a number > 0, got 0' });
  assert.throws(() => new IntakeStore({ maxAgeMs: Number.NaN }), { code: 'ERR_INVALID_ARGUMENT', message: 'IntakeStore: maxAgeMs must be a number > 0, got NaN' });
});

test('a ring keeps order and what is left after many shifts', () => {
  const ring = new Ring<number>();
  for (let i = 0; i < 1000; i++) ring.push(i);
  for (let i = 0; i < 990; i++) assert.equal(ring.shift(), i);
  assert.equal(ring.size, 10);
  assert.equal(ring.peek(), 990);
  assert.deepStrictEqual([...ring], [990, 991, 992, 993, 994, 995, 996, 997, 998, 999]);
  for (let i = 0; i < 10; i++) ring.shift();
  assert.equal(ring.shift(), undefined);
  assert.equal(ring.size, 0);
});
