import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAll, resolveSerializerConfig, SeriesV2Encoder, ServiceCheckEncoder } from '@kennel/forwarder';
import { decodeIntakeRequest, intakeKindOf } from '../src/index.js';
import { zstd } from './support.js';

test('maps every intake path to its payload kind', () => {
  assert.equal(intakeKindOf('/api/v2/series'), 'series_v2');
  assert.equal(intakeKindOf('/api/beta/sketches'), 'sketches');
  assert.equal(intakeKindOf('/api/v1/series?api_key=x'), 'series_v1');
  assert.equal(intakeKindOf('/api/v1/check_run'), 'check_runs');
  assert.equal(intakeKindOf('/intake/'), 'events');
  assert.equal(intakeKindOf('/intake'), 'events');
  assert.equal(intakeKindOf('/api/v1/validate'), undefined);
});

test('decodes a request from the forwarder by its path and Content-Encoding', () => {
  const config = resolveSerializerConfig();
  const [series] = encodeAll(new SeriesV2Encoder(config, zstd), [
    { name: 'm', host: 'h', tags: [], type: 'gauge', interval: 10, points: [{ timestamp: 1, value: 2 }] },
  ]);
  assert.deepStrictEqual(decodeIntakeRequest({ path: series!.endpoint, contentEncoding: series!.contentEncoding, body: series!.body }), {
    ok: true,
    value: {
      kind: 'series_v2',
      series: [
        { name: 'm', host: 'h', tags: [], type: 'gauge', interval: 10, points: [{ timestamp: 1, value: 2 }], origin: { product: 10, category: 10, service: 0 } },
      ],
    },
  });
  const [checks] = encodeAll(new ServiceCheckEncoder(config, zstd), [{ name: 'c', host: 'h', timestamp: 1, status: 1, message: 'm', tags: [] }]);
  const r = decodeIntakeRequest({ path: checks!.endpoint, contentEncoding: 'zstd', body: checks!.body });
  assert.deepStrictEqual(r, { ok: true, value: { kind: 'check_runs', checks: [{ name: 'c', host: 'h', timestamp: 1, status: 1, message: 'm', tags: [] }] } });
});

test('rejects a path that is not an intake endpoint', () => {
  assert.deepStrictEqual(decodeIntakeRequest({ path: '/api/v1/validate', body: new Uint8Array(0) }), {
    ok: false,
    reason: 'unknown_endpoint',
    message: '/api/v1/validate is not an intake endpoint',
  });
});

test('passes a decompression failure through', () => {
  const r = decodeIntakeRequest({ path: '/api/v2/series', contentEncoding: 'zstd', body: Uint8Array.of(1, 2, 3) });
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.reason, 'decompress_failed');
});
