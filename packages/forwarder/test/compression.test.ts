import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, inflateSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import {
  adler32,
  compressionCounters,
  compressOnce,
  identityCompression,
  loadCompression,
  resolveSerializerConfig,
  zlibCompressBound,
  zstdCompressBound,
} from '../src/index.js';
import { zlib, zstd } from './helpers.js';

const corpus = Buffer.from(
  Array.from({ length: 3000 }, (_, i) => `metric.name.${i % 37}|env:prod|service:web-${i % 7}|${i}\n`).join(''),
);

test('computes Adler-32 as RFC 1950 does', () => {
  assert.equal(adler32(1, Buffer.from('Wikipedia'), 0, 9), 0x11e60398);
  assert.equal(adler32(1, new Uint8Array(0), 0, 0), 1);
  // Across the 5552-byte reduction boundary, against zlib's own trailer.
  const z = deflateSync(corpus);
  assert.equal(adler32(1, corpus, 0, corpus.length), z.readUInt32BE(z.length - 4));
});

test('uses the agent bounds: zlib compressBound and ZSTD_compressBound', () => {
  assert.equal(zlibCompressBound(0), 13);
  assert.equal(zlibCompressBound(100000), 100000 + 24 + 6 + 0 + 13);
  assert.equal(zstdCompressBound(0), 64);
  assert.equal(zstdCompressBound(1000), 1000 + 3 + 63);
  assert.equal(zstdCompressBound(1 << 20), (1 << 20) + 4096);
  assert.equal(zlib.segmentBound(100), zlibCompressBound(100) + 5);
  assert.equal(identityCompression.segmentBound(100), 100);
});

test('a zlib body cut into segments is one zlib stream of the whole input', () => {
  const stream = zlib.createStream();
  const cuts = [0, 10, 4000, 4001, 50000, 120000, corpus.length];
  for (let i = 0; i + 2 < cuts.length; i++) {
    const n = stream.segment(corpus, cuts[i]!, cuts[i + 1]!);
    assert.ok(n <= zlib.segmentBound(cuts[i + 1]! - cuts[i]!));
  }
  const body = stream.finish(corpus, cuts[cuts.length - 2]!, corpus.length);
  assert.deepEqual(Buffer.from(inflateSync(body)), corpus);
  assert.equal(body[0], 0x78);
  assert.equal(body[1], 0x9c);
  // Each segment sees the previous 32 KiB, so cutting costs little.
  const whole = compressOnce(zlib, corpus).length;
  assert.ok(body.length < whole * 1.05, `${body.length} vs ${whole}`);
});

test('a zstd body cut into segments is a sequence of frames that decodes to the whole input', () => {
  const stream = zstd.createStream();
  stream.segment(corpus, 0, 70000);
  stream.segment(corpus, 70000, 70001);
  const body = stream.finish(corpus, 70001, corpus.length);
  assert.deepEqual(Buffer.from(zstdDecompress(body)), corpus);
  assert.equal(stream.length, 0);
});

test('every kind round-trips an empty body', () => {
  assert.deepEqual(inflateSync(compressOnce(zlib, new Uint8Array(0))).length, 0);
  assert.equal(zstdDecompress(compressOnce(zstd, new Uint8Array(0))).length, 0);
  assert.equal(compressOnce(identityCompression, new Uint8Array(0)).length, 0);
});

test('segments never pass their bound, even for incompressible input', () => {
  let x = 1;
  const noise = new Uint8Array(300000).map(() => ((x = (x * 1103515245 + 12345) >>> 0), x >>> 24));
  for (const c of [zlib, zstd, identityCompression]) {
    for (const n of [0, 1, 100, 65536, 300000]) {
      const s = c.createStream();
      const before = s.length;
      const got = s.segment(noise, 0, n);
      assert.ok(got <= c.segmentBound(n), `${c.kind} ${n}: ${got} > ${c.segmentBound(n)}`);
      assert.equal(s.length - before, got);
    }
  }
});

test('loads zstd by default and takes its level from serializer_zstd_compressor_level', async () => {
  const levels: number[] = [];
  const c = await loadCompression(resolveSerializerConfig({ zstdCompressorLevel: 5 }), {
    loadZstd: async () => ({
      compress: (src, level) => {
        levels.push(level);
        return zstd.createStream().finish(src, 0, src.length);
      },
    }),
  });
  assert.equal(c.contentEncoding, 'zstd');
  compressOnce(c, corpus);
  assert.deepEqual(levels, [5]);
});

test('falls back to zlib with one warning and a counter when zstd cannot load', async () => {
  const warnings: string[] = [];
  const before = compressionCounters.get('ZstdFallbacks');
  const c = await loadCompression(resolveSerializerConfig(), {
    loadZstd: () => Promise.reject(new Error('no wasm here')),
    warn: (line) => warnings.push(line),
  });
  assert.equal(c.kind, 'zlib');
  assert.equal(c.contentEncoding, 'deflate');
  assert.deepEqual(warnings, ['zstd is unavailable (no wasm here); compressing payloads with zlib (Content-Encoding: deflate) instead']);
  assert.equal(compressionCounters.get('ZstdFallbacks'), before + 1);
});

test('KENNEL_DISABLE_ZSTD=1 makes the default loader fail, and so fall back', async () => {
  const warnings: string[] = [];
  process.env['KENNEL_DISABLE_ZSTD'] = '1';
  try {
    const c = await loadCompression(resolveSerializerConfig(), { warn: (line) => warnings.push(line) });
    assert.equal(c.kind, 'zlib');
    assert.match(warnings[0]!, /KENNEL_DISABLE_ZSTD=1/);
  } finally {
    delete process.env['KENNEL_DISABLE_ZSTD'];
  }
});

test('sends no compression for any other kind, warning as the agent does', async () => {
  const warnings: string[] = [];
  const warn = (line: string): void => {
    warnings.push(line);
  };
  assert.equal((await loadCompression(resolveSerializerConfig({ compressorKind: 'none' }), { warn })).contentEncoding, 'identity');
  assert.equal((await loadCompression(resolveSerializerConfig({ compressorKind: 'lz4' }), { warn })).contentEncoding, 'identity');
  assert.equal((await loadCompression(resolveSerializerConfig({ compressorKind: 'zlib' }), { warn })).contentEncoding, 'deflate');
  assert.deepEqual(warnings, [
    'no serializer_compressor_kind set. use zlib or zstd',
    "invalid serializer_compressor_kind detected. use one of 'zlib', 'zstd'",
  ]);
});
