import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { compressOnce } from '@kennel/forwarder';
import { decompressBody } from '../src/index.js';
import { zstd } from './support.js';

const data = Buffer.from('{"series":[]}'.repeat(100));

test('undoes every Content-Encoding the agent sends, and gzip', () => {
  const cases: [string | undefined, Uint8Array][] = [
    ['zstd', compressOnce(zstd, data)],
    ['deflate', deflateSync(data)],
    ['deflate', deflateRawSync(data)],
    ['gzip', gzipSync(data)],
    ['identity', data],
    ['', data],
    [undefined, data],
    [' ZSTD ', compressOnce(zstd, data)],
  ];
  for (const [encoding, body] of cases) {
    const r = decompressBody(body, encoding);
    assert.ok(r.ok, `${encoding}: ${r.ok ? '' : r.message}`);
    assert.deepEqual(Buffer.from(r.value), data);
  }
});

test('reads zstd bodies made of several frames', () => {
  const a = compressOnce(zstd, data.subarray(0, 500));
  const b = compressOnce(zstd, data.subarray(500));
  const r = decompressBody(Buffer.concat([a, b]), 'zstd');
  assert.ok(r.ok);
  assert.deepEqual(Buffer.from(r.value), data);
});

test('says which encoding is not supported', () => {
  assert.deepEqual(decompressBody(data, 'br'), {
    ok: false,
    reason: 'unsupported_encoding',
    message: 'Content-Encoding "br" is not supported',
  });
});

test('reports a corrupt body instead of throwing', () => {
  for (const encoding of ['zstd', 'deflate', 'gzip']) {
    const r = decompressBody(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), encoding);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'decompress_failed');
  }
  const truncated = compressOnce(zstd, data).subarray(0, 10);
  assert.equal(decompressBody(truncated, 'zstd').ok, false);
  assert.equal(decompressBody(new Uint8Array(0), 'zstd').ok, false);
});

test('stops at the decompressed size cap', () => {
  const bomb = Buffer.alloc(1 << 20);
  for (const [encoding, body] of [
    ['zstd', compressOnce(zstd, bomb)],
    ['deflate', deflateSync(bomb)],
    ['gzip', gzipSync(bomb)],
    ['identity', bomb],
  ] as const) {
    const r = decompressBody(body, encoding, { maxDecompressedBytes: 1000 });
    assert.equal(r.ok, false, encoding);
    assert.equal(!r.ok && r.reason, 'too_large', encoding);
  }
});
