import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeAll, identityCompression, resolveSerializerConfig, SeriesV2Encoder, SketchEncoder } from '@kennel/forwarder';
import { decodeIntakeRequest, decodeSeriesV2, decodeSketches, INTAKE_ENDPOINTS, type DecodeResult } from '../src/index.js';
import { numRuns, seriesV2, sketches } from './support.js';

const REASONS = new Set([
  'unsupported_encoding',
  'decompress_failed',
  'too_large',
  'truncated',
  'invalid_wire_type',
  'invalid_varint',
  'invalid_value',
  'invalid_json',
  'invalid_shape',
  'unknown_endpoint',
]);

function wellFormed(r: DecodeResult<unknown>): void {
  if (!r.ok) {
    assert.ok(REASONS.has(r.reason), r.reason);
    assert.equal(typeof r.message, 'string');
  }
}

test('decoding arbitrary bytes returns a result and never throws', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...Object.keys(INTAKE_ENDPOINTS), '/nope'),
      fc.constantFrom(undefined, 'identity', 'zstd', 'deflate', 'gzip', 'br'),
      fc.uint8Array({ maxLength: 300 }),
      (path, contentEncoding, body) => {
        wellFormed(decodeIntakeRequest({ path, contentEncoding, body }));
      },
    ),
    { numRuns },
  );
});

/** Valid payloads with some bytes changed and maybe cut short: reaches deeper than random bytes. */
function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(valid, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), fc.option(fc.nat()))
    .map(([bytes, edits, cut]) => {
      const b = Uint8Array.from(bytes);
      for (const [at, v] of edits) if (b.length > 0) b[at % b.length] = v;
      return cut === null || b.length === 0 ? b : b.subarray(0, cut % b.length);
    });
}

const config = resolveSerializerConfig();
const seriesBodies = fc
  .array(seriesV2, { minLength: 1, maxLength: 3 })
  .map((items) => encodeAll(new SeriesV2Encoder(config, identityCompression), items)[0]?.body ?? new Uint8Array(0));
const sketchBodies = fc
  .array(sketches, { minLength: 1, maxLength: 3 })
  .map((items) => encodeAll(new SketchEncoder(config, identityCompression), items)[0]?.body ?? new Uint8Array(0));

test('decoding damaged series and sketch payloads returns a result and never throws', () => {
  fc.assert(
    fc.property(mutated(seriesBodies), mutated(sketchBodies), (series, sketch) => {
      wellFormed(decodeSeriesV2(series));
      wellFormed(decodeSketches(sketch));
      wellFormed(decodeSeriesV2(sketch));
      wellFormed(decodeSketches(series));
    }),
    { numRuns },
  );
});
