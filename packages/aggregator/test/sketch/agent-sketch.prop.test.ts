import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AgentSketch, AGENT_SKETCH_CONFIG as C, sketchKey, sketchKeyLowerBound } from '../../src/index.js';
import { roundHalfEven } from '../../src/sketch/go-math.js';

const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 200);

/** The quantile error bound: a value of key k is read back anywhere in [γ^k, γ^(k+1)]. */
const QUANTILE_REL_ERR = C.gamma ** 1.5 - 1;
/** The key error bound (TestRelativeError): γ^k against values in [γ^(k−½), γ^(k+½)]. */
const KEY_REL_ERR = 1 - 1 / Math.sqrt(C.gamma);

/** Any sign and magnitude from below norm.min to 1e200, spread evenly in log space. */
const wideValue = fc
  .tuple(fc.double({ min: -12, max: 200, noNaN: true }), fc.boolean())
  .map(([e, neg]) => (neg ? -1 : 1) * 10 ** e);

/** Everyday values: plain doubles, small integers, zeros and the edges of key 0. */
const value = fc.oneof(
  fc.double({ min: -1e12, max: 1e12, noNaN: true }),
  fc.integer({ min: -1000, max: 1000 }),
  fc.constantFrom(0, -0, 1e-10, -1e-10, 1e-9, 1, 10, 666),
  wideValue,
);

/** DogStatsD rates, including the ones the agent treats as 1 and ones that split bins. */
const rate = fc.constantFrom(1, 1, 1, 1, 0.5, 0.25, 0.3, 0.1, 0.01, 1e-5, 0, 2, -1, NaN);

/** The agent's normalisation of a rate: outside (0, 1] (or NaN) is 1. */
function effectiveRate(r: number): number {
  return r > 0 && r <= 1 ? r : 1;
}

function flushedBins(s: AgentSketch): { keys: Int32Array; counts: Uint32Array } {
  s.flush();
  return s.peekBins();
}

function pointOf(s: AgentSketch) {
  const p = s.finish(0);
  if (p === null) return null;
  return { ...p, keys: Array.from(p.keys), counts: Array.from(p.counts) };
}

describe('AgentSketch properties', () => {
  test('every quantile is within γ^1.5 − 1 of the exact sample at the same rank', () => {
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 1500, size: 'max' }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8, size: 'max' }),
        (values, extraQs) => {
          const s = new AgentSketch();
          for (const v of values) s.insert(v);
          const sorted = Float64Array.from(values).sort();
          const qs = [0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1, ...extraQs];
          for (const q of qs) {
            const rank = q <= 0 ? 0 : q >= 1 ? sorted.length - 1 : roundHalfEven(q * (sorted.length - 1));
            const exact = sorted[rank]!;
            const est = s.quantile(q);
            // Slack: 1e-9 relative for Go's pow rounding, 2e-9 absolute for values in key 0.
            const bound = QUANTILE_REL_ERR * Math.abs(exact) * (1 + 1e-9) + 2e-9;
            assert.ok(Math.abs(est - exact) <= bound, `q=${q} exact=${exact} est=${est}`);
          }
        },
      ),
      { numRuns },
    );
  });

  test('count, sum, min and max are exact, with and without sample rates', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(value, rate), { maxLength: 1200, size: 'max' }), (samples) => {
        const s = new AgentSketch();
        let count = 0;
        let sum = 0;
        let min = Infinity;
        let max = -Infinity;
        for (const [v, r] of samples) {
          assert.equal(s.insert(v, r), true);
          const er = effectiveRate(r);
          const n = 1 / er;
          count += Math.trunc(n);
          sum += er === 1 ? v : n * v;
          if (v < min) min = v;
          if (v > max) max = v;
        }
        s.flush();
        assert.equal(s.count, count);
        assert.equal(s.binnedCount, count);
        let binTotal = 0;
        for (const c of s.peekBins().counts) binTotal += c;
        assert.equal(binTotal, count);
        if (samples.length === 0) return;
        // === so that the agent's -0 for a lone sampled -0 equals 0.
        assert.ok(s.sum === sum, `sum ${s.sum} vs ${sum}`);
        assert.ok(s.min === min && s.max === max, `min/max ${s.min}/${s.max} vs ${min}/${max}`);
      }),
      { numRuns },
    );
  });

  test('the average tracks sum/count for unit-weight values', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 1000, size: 'max' }), (values) => {
        const s = new AgentSketch();
        let absMax = 0;
        for (const v of values) {
          s.insert(v);
          absMax = Math.max(absMax, Math.abs(v));
        }
        assert.ok(Math.abs(s.avg - s.sum / s.count) <= 1e-9 * absMax + 1e-300);
      }),
      { numRuns },
    );
  });

  test('merging two sketches equals inserting both streams into one', () => {
    // A small pool makes keys collide and 1e-5 rates push bins past 65535; at most 300 samples
    // a side keep the bins under 4096, where the agent's layout depends only on the totals.
    const pooled = fc.oneof(fc.constantFrom(1, 2.5, -3, 1000, 1e-10, 0), value);
    const stream = fc.array(fc.tuple(pooled, rate), { maxLength: 300, size: 'max' });
    fc.assert(
      fc.property(stream, stream, (as, bs) => {
        const a = new AgentSketch();
        const b = new AgentSketch();
        const both = new AgentSketch();
        for (const [v, r] of as) {
          a.insert(v, r);
          both.insert(v, r);
        }
        for (const [v, r] of bs) {
          b.insert(v, r);
          both.insert(v, r);
        }
        // summary.go Merge: an empty side contributes nothing, else the sums add.
        const expectedSum = a.count === 0 ? b.sum : b.count === 0 ? a.sum : a.sum + b.sum;
        a.merge(b);
        const merged = flushedBins(a);
        const inserted = flushedBins(both);
        assert.ok(inserted.keys.length <= C.binLimit);
        assert.deepEqual(Array.from(merged.keys), Array.from(inserted.keys));
        assert.deepEqual(Array.from(merged.counts), Array.from(inserted.counts));
        assert.equal(a.count, both.count);
        assert.equal(a.binnedCount, both.binnedCount);
        assert.equal(a.isEmpty(), both.isEmpty());
        if (both.isEmpty()) return;
        assert.equal(a.min, both.min);
        assert.equal(a.max, both.max);
        assert.ok(Object.is(a.sum, expectedSum), `sum ${a.sum} vs ${expectedSum}`);
      }),
      { numRuns },
    );
  });

  test('bins stay sorted, at most 65535 each, holding every value, and collapse to 4096', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(wideValue, fc.constantFrom(1, 1, 1, 1, 1, 0.5, 0.01, 1e-5)), { maxLength: 6000, size: 'max' }),
        (samples) => {
          const s = new AgentSketch();
          let maxKey = -Infinity;
          for (const [v, r] of samples) {
            s.insert(v, r);
            maxKey = Math.max(maxKey, sketchKey(v));
          }
          const { keys, counts } = flushedBins(s);
          let total = 0;
          for (let i = 0; i < keys.length; i++) {
            if (i > 0) assert.ok(keys[i - 1]! <= keys[i]!, `keys[${i - 1}] > keys[${i}]`);
            assert.ok(counts[i]! >= 1 && counts[i]! <= 65535, `counts[${i}] = ${counts[i]}`);
            total += counts[i]!;
          }
          assert.equal(total, s.count);
          assert.equal(s.binnedCount, s.count);
          // Collapsing keeps at most 4096 bins, plus one per 65535 values it folds.
          if (s.count <= 65535) assert.ok(keys.length <= C.binLimit, `${keys.length} bins`);
          assert.ok(keys.length <= C.binLimit + Math.ceil(s.count / 65535), `${keys.length} bins`);
          // Only the lowest bins collapse: the highest key is always kept.
          if (keys.length > 0) assert.equal(keys[keys.length - 1], maxKey);
        },
      ),
      { numRuns },
    );
  });

  test('NaN and ±Inf never enter a sketch', () => {
    const maybeBad = fc.oneof(value, fc.constantFrom(NaN, Infinity, -Infinity));
    fc.assert(
      fc.property(fc.array(fc.tuple(maybeBad, rate), { maxLength: 800, size: 'max' }), (samples) => {
        const all = new AgentSketch();
        const finite = new AgentSketch();
        for (const [v, r] of samples) {
          assert.equal(all.insert(v, r), Number.isFinite(v));
          if (Number.isFinite(v)) finite.insert(v, r);
        }
        assert.deepEqual(pointOf(all), pointOf(finite));
      }),
      { numRuns },
    );
  });

  test('keys are monotone, symmetric, and read back within 1 − 1/√γ', () => {
    const representable = fc
      .double({ min: Math.log10(C.normMin), max: Math.log10(C.normMax), noNaN: true })
      .map((e) => Math.min(Math.max(10 ** e, C.normMin), C.normMax));
    fc.assert(
      fc.property(representable, representable, (x, y) => {
        const [lo, hi] = x <= y ? [x, y] : [y, x];
        assert.ok(sketchKey(lo) <= sketchKey(hi));
        assert.equal(sketchKey(-x), -sketchKey(x));
        const qv = sketchKeyLowerBound(sketchKey(x));
        assert.ok(Math.abs(qv - x) <= KEY_REL_ERR * Math.max(x, qv) * (1 + 1e-9), `x=${x} qv=${qv}`);
        assert.equal(sketchKey(qv), sketchKey(x));
      }),
      { numRuns: numRuns * 10 },
    );
  });
});
