import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { contextKey } from '../src/index.js';

const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 200);
const tag = fc.string({ unit: 'grapheme', maxLength: 12 });

test('the key of a tag list equals the key of any permutation with duplicates added', () => {
  fc.assert(
    fc.property(fc.string(), fc.string(), fc.array(tag, { maxLength: 20 }), fc.integer(), (name, host, tags, seed) => {
      const shuffled = [...tags, ...tags.slice(0, seed % (tags.length + 1))];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.abs(seed * (i + 7)) % (i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      assert.equal(contextKey(name, host, shuffled), contextKey(name, host, tags));
    }),
    { numRuns },
  );
});

test('different tag sets give different keys', () => {
  fc.assert(
    fc.property(fc.string(), fc.uniqueArray(tag, { maxLength: 10 }), tag, (name, tags, extra) => {
      fc.pre(!tags.includes(extra));
      assert.notEqual(contextKey(name, '', [...tags, extra]), contextKey(name, '', tags));
    }),
    { numRuns },
  );
});
