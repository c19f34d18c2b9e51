import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKennelError } from '@kennel/core';
import { compressionKindOf, resolveSerializerConfig, SERIALIZER_CONFIG_KEYS } from '../src/index.js';

test('defaults every option to the agent default', () => {
  assert.deepEqual(resolveSerializerConfig(), {
    compressorKind: 'zstd',
    compression: 'zstd',
    zstdCompressorLevel: 1,
    maxSeriesPayloadSize: 512000,
    maxSeriesUncompressedPayloadSize: 5242880,
    maxSeriesPointsPerPayload: 10000,
    maxPayloadSize: 2621440,
    maxUncompressedPayloadSize: 4194304,
    hostname: '',
  });
  assert.ok(Object.isFrozen(resolveSerializerConfig()));
});

test('names the agent key of every option', () => {
  assert.equal(SERIALIZER_CONFIG_KEYS.maxSeriesPointsPerPayload, 'serializer_max_series_points_per_payload');
  assert.equal(SERIALIZER_CONFIG_KEYS.compressorKind, 'serializer_compressor_kind');
});

test('maps serializer_compressor_kind exactly as the agent selector does', () => {
  assert.equal(compressionKindOf('zstd'), 'zstd');
  assert.equal(compressionKindOf('zlib'), 'zlib');
  assert.equal(compressionKindOf('none'), 'identity');
  assert.equal(compressionKindOf('ZSTD'), 'identity');
  assert.equal(compressionKindOf('gzip'), 'identity');
});

test('rejects a malformed limit with an error that names the agent key', () => {
  assert.throws(
    () => resolveSerializerConfig({ maxSeriesPayloadSize: 10.5 }),
    (e: unknown) =>
      isKennelError(e) &&
      e.code === 'ERR_CONFIG_INVALID' &&
      e.message === 'serializer_max_series_payload_size (maxSeriesPayloadSize): expected a whole number of at least 64, got 10.5',
  );
  assert.throws(() => resolveSerializerConfig({ maxSeriesPointsPerPayload: 0 }), /serializer_max_series_points_per_payload/);
  assert.throws(() => resolveSerializerConfig({ zstdCompressorLevel: 23 }), /serializer_zstd_compressor_level/);
});
