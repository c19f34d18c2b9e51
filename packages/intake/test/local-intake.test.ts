import { test } from 'node:test';
import assert from 'node:assert/strict';
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
  type IntakePayload,
} from '@kennel/forwarder';
import type { Series } from '@kennel/core';
import { FakeIntake, IntakeStore, LocalIntake } from '../src/index.js';
import { CHECKS, EVENTS, post, SERIES, SERIES_V1_BACK, SERIES_V2_BACK, SKETCHES, SKETCHES_BACK } from './http-support.js';
import { zstd } from './support.js';

const config = resolveSerializerConfig({ hostname: 'agent-host' });

function everyPayload(): IntakePayload[] {
  const out: IntakePayload[] = [];
  for (const c of [zstd, createZlibCompression(), identityCompression]) {
    out.push(
      ...encodeAll(new SeriesV2Encoder(config, c), SERIES),
      ...encodeAll(new SeriesV1Encoder(config, c), SERIES),
      ...encodeAll(new SketchEncoder(config, c), SKETCHES),
      ...encodeAll(new ServiceCheckEncoder(config, c), CHECKS),
      ...encodeAll(new EventEncoder(config, c), EVENTS),
    );
  }
  return out;
}

test('the local intake takes every forwarder payload as it is, in every compression', () => {
  const local = new LocalIntake();
  const payloads = everyPayload();
  assert.deepStrictEqual(
    payloads.map((p) => p.contentEncoding),
    ['zstd', 'zstd', 'zstd', 'zstd', 'zstd', 'deflate', 'deflate', 'deflate', 'deflate', 'deflate', 'identity', 'identity', 'identity', 'identity', 'identity'],
  );
  for (const p of payloads) {
    const r = local.submit(p);
    assert.equal(r.ok && r.status, 202);
    assert.equal(r.ok && r.payload.kind, p.kind);
    assert.equal(r.ok && r.payload.bytes, p.uncompressedBytes);
  }
  const s = local.store;
  assert.deepStrictEqual(s.series({ kind: 'series_v2' }), [...SERIES_V2_BACK, ...SERIES_V2_BACK, ...SERIES_V2_BACK]);
  assert.deepStrictEqual(s.series({ kind: 'series_v1' }), [...SERIES_V1_BACK, ...SERIES_V1_BACK, ...SERIES_V1_BACK]);
  assert.deepStrictEqual(s.sketches(), [...SKETCHES_BACK, ...SKETCHES_BACK, ...SKETCHES_BACK]);
  assert.deepStrictEqual(s.serviceChecks(), [...CHECKS, ...CHECKS, ...CHECKS]);
  assert.deepStrictEqual(s.events(), [...EVENTS, ...EVENTS, ...EVENTS]);
  assert.deepStrictEqual(s.counts().stored, { payloads: 15, items: 24, bytes: payloads.reduce((n, p) => n + p.uncompressedBytes, 0) });
});

test('the local intake stores what the fake intake stores for the same payloads', async (t) => {
  const intake = await FakeIntake.start();
  t.after(() => intake.close());
  const local = new LocalIntake();
  for (const p of everyPayload()) {
    local.submit(p);
    await post(intake.url, p);
  }
  const strip = (s: IntakeStore): unknown => s.payloads().map(({ receivedAt: _, ...rest }) => rest);
  assert.deepStrictEqual(strip(local.store), strip(intake.store));
  assert.deepStrictEqual(local.store.counts(), intake.store.counts());
});

test('the local intake answers what the HTTP intake would: 400 with the reason, 404 for an unknown endpoint, 413 too large', () => {
  const local = new LocalIntake({ maxBodyBytes: 64, maxDecompressedBytes: 32 });
  assert.deepStrictEqual(local.submit({ endpoint: '/api/v1/series', body: Buffer.from('{"series":"x"}') }), {
    ok: false,
    status: 400,
    reason: 'invalid_shape',
    message: 'series is not an array',
  });
  assert.deepStrictEqual(local.submit({ endpoint: '/api/v2/unknown', body: Buffer.from('[]') }), {
    ok: false,
    status: 404,
    reason: 'unknown_endpoint',
    message: '/api/v2/unknown is not an intake endpoint',
  });
  assert.deepStrictEqual(local.submit({ endpoint: '/api/v1/series', body: Buffer.alloc(65, 0x20) }), {
    ok: false,
    status: 413,
    reason: 'too_large',
    message: 'the body (65 bytes) is more than 64 bytes',
  });
  assert.deepStrictEqual(local.submit({ endpoint: '/api/v1/series', contentEncoding: 'identity', body: Buffer.alloc(33, 0x20) }), {
    ok: false,
    status: 413,
    reason: 'too_large',
    message: 'body is more than 32 bytes',
  });
  const c = local.store.counts();
  assert.deepStrictEqual(c.decodeErrors, { invalid_shape: 1, unknown_endpoint: 1, too_large: 2 });
  assert.equal(c.kinds.series_v1.DecodeErrors, 3);
});

test('a local intake can share a store with a waiter: waitFor resolves on submit', async () => {
  const store = new IntakeStore();
  const local = new LocalIntake({ store });
  const s: Series = { name: 'local.hits', host: '', tags: [], type: 'count', interval: 10, points: [{ timestamp: 1700000000, value: 1 }] };
  const arrived = store.waitFor((st) => st.series({ name: 'local.hits' })[0]);
  for (const p of encodeAll(new SeriesV2Encoder(config, zstd), [s])) local.submit(p);
  assert.deepStrictEqual(await arrived, { ...s, origin: { product: 10, category: 10, service: 0 } });
});
