// Checks goParseFloat against Go's strconv.ParseFloat(s, 64): the whole 64-bit `atoftests`
// table of golang/go src/strconv/atof_test.go plus the cases of spec §3
// (test/fixtures/numbers/go-parsefloat.jsonl; see test/fixtures/dogstatsd/README.md).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { goParseFloat } from '@kennel/dogstatsd';

// The compiled file runs from test/dist/corpus/; the fixtures stay in test/fixtures/.
const FIXTURE = fileURLToPath(new URL('../../fixtures/numbers/go-parsefloat.jsonl', import.meta.url));

interface FloatCase {
  readonly in: string;
  /** The float64 bit pattern Go returns, as 0x + 16 hex digits. */
  readonly bits: string;
  readonly err: null | 'syntax' | 'range';
}

const cases: FloatCase[] = readFileSync(FIXTURE, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as FloatCase);

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

function bitsOf(x: number): bigint {
  f64[0] = x;
  return u64[0]!;
}

function isNaNBits(bits: bigint): boolean {
  return (bits & 0x7ff0000000000000n) === 0x7ff0000000000000n && (bits & 0x000fffffffffffffn) !== 0n;
}

function label(s: string): string {
  const shown = JSON.stringify(s.length > 48 ? `${s.slice(0, 48)}…` : s);
  return s.length > 48 ? `${shown} (${s.length} chars)` : shown;
}

describe('go-parsefloat.jsonl', () => {
  test('fixture is well formed', () => {
    assert.ok(cases.length > 0);
    const seen = new Set<string>();
    for (const c of cases) {
      assert.ok(!seen.has(c.in), `duplicate input ${label(c.in)}`);
      seen.add(c.in);
      assert.match(c.bits, /^0x[0-9a-f]{16}$/);
      assert.ok(c.err === null || c.err === 'syntax' || c.err === 'range');
    }
  });

  for (const c of cases) {
    test(`ParseFloat(${label(c.in)}) → ${c.err ?? c.bits}`, () => {
      const got = goParseFloat(c.in);
      assert.equal(got.error, c.err, 'error');
      if (c.err === 'syntax') return;
      const want = BigInt(c.bits);
      if (isNaNBits(want)) {
        assert.ok(Number.isNaN(got.value), `expected NaN, got ${got.value}`);
        return;
      }
      const gotBits = bitsOf(got.value);
      assert.equal(
        `0x${gotBits.toString(16).padStart(16, '0')}`,
        c.bits,
        `value ${got.value} has the wrong bits`,
      );
    });
  }
});
