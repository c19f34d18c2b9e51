import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BinList, insertCounts, insertOneCount, insertSortedKeys, mergeBins, sortKeys } from '../../src/sketch/store.js';
import { formatBinList } from './helpers.js';

const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 200);

const key = fc.integer({ min: -40, max: 40 });
const weight = fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 65000, max: 200000 }));
const binLimit = fc.constantFrom(0, 1, 2, 3, 7, 4096);

/** A store built the way sketches build them: sorted key batches and weighted pairs. */
const store = fc
  .array(
    fc.oneof(
      fc.array(key, { maxLength: 20 }).map((keys) => ({ keys, k: 0, n: 0 })),
      fc.tuple(key, weight).map(([k, n]) => ({ keys: null, k, n })),
    ),
    { maxLength: 12 },
  )
  .map((ops) => {
    const b = new BinList();
    for (const op of ops) {
      if (op.keys === null) {
        insertCounts(b, Int16Array.of(op.k), Float64Array.of(op.n), 1, 4096);
      } else {
        const keys = Int16Array.from(op.keys).sort();
        insertSortedKeys(b, keys, keys.length, 4096);
      }
    }
    return b;
  });

function copyOf(b: BinList): BinList {
  const c = new BinList();
  c.copyFrom(b);
  return c;
}

describe('store properties', () => {
  test('sortKeys sorts like Int16Array.prototype.sort over the whole int16 range', () => {
    const anyKey = fc.oneof(fc.integer({ min: -32767, max: 32767 }), fc.integer({ min: -3, max: 3 }));
    fc.assert(
      fc.property(fc.array(anyKey, { maxLength: 700, size: 'max' }), fc.nat(700), (keys, extra) => {
        const n = keys.length;
        // Trailing slots past n must be left alone.
        const a = new Int16Array(n + (extra % 5));
        a.set(keys);
        a.fill(12345, n);
        sortKeys(a, n);
        assert.deepEqual(Array.from(a.subarray(0, n)), Array.from(Int16Array.from(keys).sort()));
        for (let i = n; i < a.length; i++) assert.equal(a[i], 12345);
      }),
      { numRuns },
    );
  });

  test('the in-place single-pair insert gives the same bins as the general merge', () => {
    fc.assert(
      fc.property(store, key, weight, binLimit, (b, k, n, limit) => {
        const general = copyOf(b);
        const inPlace = copyOf(b);
        insertCounts(general, Int16Array.of(k), Float64Array.of(n), 1, limit);
        insertOneCount(inPlace, k, n, limit);
        assert.equal(formatBinList(inPlace), formatBinList(general));
        assert.equal(inPlace.countSum(), b.countSum() + n);
      }),
      { numRuns },
    );
  });

  test('collapsing never changes the total count, and merging adds the totals', () => {
    fc.assert(
      fc.property(store, store, binLimit, (a, b, limit) => {
        const total = a.countSum() + b.countSum();
        const merged = copyOf(a);
        mergeBins(merged, b, limit);
        assert.equal(merged.countSum(), total);
        for (let i = 1; i < merged.length; i++) assert.ok(merged.keys[i - 1]! <= merged.keys[i]!);
        for (let i = 0; i < merged.length; i++) assert.ok(merged.counts[i]! >= 1);
      }),
      { numRuns },
    );
  });
});
