import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { AgentSketch, AGENT_SKETCH_CONFIG as C, sketchKey, sketchKeyLowerBound } from '../../src/index.js';
import { roundHalfEven } from '../../src/sketch/go-math.js';
import { formatBins, summaryOf } from './helpers.js';
import { doubleInterpolationCase, interpolationCases, type InterpolationCase } from './fixtures/agent-interpolation.js';

function binSum(s: AgentSketch): number {
  const { counts } = s.peekBins();
  let n = 0;
  for (const c of counts) n += c;
  return n;
}

function binsOf(s: AgentSketch): string {
  const { keys, counts } = s.peekBins();
  return formatBins(keys, counts);
}

describe('AgentSketch.insert', () => {
  // agent_test.go TestAgent: one sketch through the whole table, each row after the previous.
  test('buffers 512 keys, flushes sampled values at once, and resets (TestAgent)', () => {
    const a = new AgentSketch();
    const rows: Array<{ binsum: number; buf: number; ninsert?: number; flush?: boolean; reset?: boolean; rate: number }> = [
      { binsum: 0, buf: 511, ninsert: 511, rate: 1 },
      { binsum: 512, buf: 0, ninsert: 1, rate: 1 },
      { binsum: 512, buf: 1, ninsert: 1, rate: 1 },
      { binsum: 1024, buf: 1, ninsert: 512, rate: 1 },
      { binsum: 1025, buf: 0, flush: true, rate: 1 },
      { binsum: 0, buf: 0, reset: true, rate: 1 },
      { binsum: 0, buf: 0, flush: true, rate: 1 },
      { binsum: 20, buf: 0, ninsert: 2, flush: true, rate: 0.1 },
      { binsum: 22, buf: 0, ninsert: 2, flush: true, rate: 1 },
    ];
    for (const [i, row] of rows.entries()) {
      for (let v = 0; v < (row.ninsert ?? 0); v++) assert.equal(a.insert(v, row.rate), true);
      if (row.reset === true) a.reset();
      if (row.flush === true) a.flush();
      assert.equal(a.pendingCount, row.buf, `row ${i}: len(a.Buf)`);
      assert.equal(binSum(a), row.binsum, `row ${i}: sum(b.n)`);
      assert.equal(a.binnedCount, row.binsum, `row ${i}: s.count`);
      assert.equal(a.count, row.binsum + row.buf, `row ${i}: Summary.Cnt`);
    }
  });

  test('rejects NaN and ±Inf without changing the sketch', () => {
    const a = new AgentSketch();
    a.insert(3);
    for (const v of [NaN, Infinity, -Infinity]) {
      assert.equal(a.insert(v), false);
      assert.equal(a.insert(v, 0.5), false);
    }
    assert.equal(a.count, 1);
    assert.equal(a.sum, 3);
    assert.equal(a.pendingCount, 1);
    const p = a.finish(0)!;
    assert.deepEqual(Array.from(p.keys), [sketchKey(3)]);
  });

  // spec/dogstatsd.md section 6, distribution row (agent.go Insert).
  test('treats rates outside (0, 1] and NaN as 1', () => {
    for (const rate of [0, -0.5, 1.5, NaN, Infinity, -Infinity]) {
      const a = new AgentSketch();
      a.insert(7, rate);
      assert.equal(a.pendingCount, 1, `rate ${rate} buffers like rate 1`);
      assert.equal(a.count, 1);
      assert.equal(a.sum, 7);
    }
  });

  test('weights a sampled value by trunc(1/rate) in the bins and count, and by 1/rate in the sum', () => {
    const a = new AgentSketch();
    a.insert(3, 0.3);
    assert.equal(a.pendingCount, 0);
    assert.equal(a.count, 3);
    assert.equal(a.binnedCount, 3);
    assert.equal(a.sum, 3 * (1 / 0.3));
    assert.equal(a.avg, 3);
    assert.equal(binsOf(a), `${sketchKey(3)}:3`);
  });

  test('flushes pending unit keys before a sampled value', () => {
    const a = new AgentSketch();
    a.insert(1);
    a.insert(2);
    assert.equal(a.pendingCount, 2);
    a.insert(2, 0.5);
    assert.equal(a.pendingCount, 0);
    assert.equal(binsOf(a), '1338:1 1383:3');
  });

  test('splits a weight above 65535 over repeated keys, truncating 1/rate', () => {
    const a = new AgentSketch();
    // 1 / (1/100000) is 99999.99999999999 in float64, so the bins count 99999.
    a.insert(10, 1 / 100000);
    assert.equal(binsOf(a), '1487:34464 1487:65535');
    assert.equal(a.count, 99999);
    assert.equal(a.sum, 10 * (1 / (1 / 100000)));
  });

  test('caps the weight of a tiny rate at 4096 full bins', () => {
    const a = new AgentSketch();
    a.insert(10, 1e-12);
    assert.equal(a.count, C.maxCount);
    assert.equal(a.binnedCount, C.maxCount);
    assert.equal(a.binCount, 4096);
    assert.equal(a.sum, 10 * C.maxCount);
  });

  // sparse_test.go TestReset.
  test('holds one value per bin for ten powers of γ, and resets to empty (TestReset)', () => {
    const a = new AgentSketch();
    for (let i = 0; i < 10; i++) a.insert(C.gamma ** i);
    a.flush();
    assert.equal(a.binCount, 10);
    assert.equal(a.binnedCount, 10);
    assert.equal(a.count, 10);
    a.reset();
    assert.equal(a.binCount, 0);
    assert.equal(a.binnedCount, 0);
    assert.deepEqual([a.count, a.min, a.max, a.sum, a.avg], [0, 0, 0, 0, 0]);
    assert.equal(a.isEmpty(), true);
  });

  test('collapses the lowest bins past 4096 distinct keys', () => {
    const a = new AgentSketch();
    for (let k = 1; k <= 5000; k++) a.insert(sketchKeyLowerBound(k));
    a.flush();
    assert.equal(a.binCount, 4096);
    assert.equal(binSum(a), 5000);
    const { keys, counts } = a.peekBins();
    assert.equal(keys[0], 905);
    assert.equal(counts[0], 905);
    assert.equal(keys[4095], 5000);
  });
});

describe('AgentSketch.finish', () => {
  test('returns the SketchPoint the encoders write', () => {
    const a = new AgentSketch();
    for (const v of [1, 2, 10, 100]) a.insert(v);
    a.insert(0.5, 0.1);
    const p = a.finish(1700000000)!;
    assert.equal(p.timestamp, 1700000000);
    assert.equal(p.count, 14);
    assert.equal(p.min, 0.5);
    assert.equal(p.max, 100);
    assert.equal(p.sum, 118);
    assert.equal(p.avg, a.avg);
    assert.ok(p.keys instanceof Int32Array);
    assert.ok(p.counts instanceof Uint32Array);
    assert.deepEqual(Array.from(p.keys), [1293, 1338, 1383, 1487, 1635]);
    assert.deepEqual(Array.from(p.counts), [10, 1, 1, 1, 1]);
  });

  // agent_test.go TestAgentFinish/DeepCopy.
  test('returns a copy that does not share the sketch arrays (TestAgentFinish/DeepCopy)', () => {
    const a = new AgentSketch();
    a.insert(1, 1);
    const p = a.finish(5)!;
    a.insert(1, 1);
    a.flush();
    assert.deepEqual(Array.from(p.counts), [1]);
    assert.equal(binsOf(a), '1338:2');
    const q = a.finish(5)!;
    assert.notEqual(q.keys, p.keys);
  });

  // agent_test.go TestAgentFinish/Empty.
  test('returns null for an empty sketch (TestAgentFinish/Empty)', () => {
    assert.equal(new AgentSketch().finish(0), null);
  });

  test('lists keys ascending with repeats', () => {
    const a = new AgentSketch();
    a.insert(-2, 1 / 70000);
    a.insert(0);
    a.insert(5);
    const p = a.finish(0)!;
    assert.deepEqual(Array.from(p.keys), [-1383, -1383, 0, sketchKey(5)]);
    assert.deepEqual(Array.from(p.counts), [4465, 65535, 1, 1]);
  });
});

describe('AgentSketch.insertInterpolate', () => {
  function check(a: AgentSketch, tt: InterpolationCase, count: number): void {
    const exp = summaryOf(tt.exp);
    assert.equal(exp.cnt, count, 'the expected sketch has the count');
    assert.equal(a.count, count, 'summary count');
    assert.equal(binsOf(a), tt.exp);
    assert.equal(binSum(a), count);
    assert.equal(a.binnedCount, count);
    // sparse.go ApproxEquals: sum and avg within e, the rest exact.
    assert.ok(Math.abs(a.sum - exp.sum) <= tt.e, `sum ${a.sum} vs ${exp.sum}`);
    assert.ok(Math.abs(a.avg - exp.avg) <= tt.e, `avg ${a.avg} vs ${exp.avg}`);
    assert.equal(a.min, exp.min);
    assert.equal(a.max, exp.max);
  }

  // agent_test.go TestAgentInterpolation.
  test('spreads counts over the keys between the bounds (TestAgentInterpolation)', () => {
    const a = new AgentSketch();
    for (const tt of interpolationCases) {
      a.reset();
      assert.equal(a.insertInterpolate(tt.lower, tt.upper, tt.count), true);
      check(a, tt, tt.count);
    }
  });

  // agent_test.go TestAgentInterpolation, "test double insert for adding overflows".
  test('adds a second interpolation into full bins (TestAgentInterpolation double insert)', () => {
    const a = new AgentSketch();
    const tt = doubleInterpolationCase;
    a.insertInterpolate(tt.lower, tt.upper, tt.count);
    a.insertInterpolate(tt.lower, tt.upper, tt.count);
    check(a, tt, tt.count * 2);
  });

  // agent_test.go TestAgentInterpolationBoundedKeys.
  test('terminates when the upper bound saturates at the +Inf key (TestAgentInterpolationBoundedKeys)', () => {
    const a = new AgentSketch();
    assert.equal(a.insertInterpolate(1, 1e300, 10), true);
    assert.equal(a.count, 10);
    assert.equal(binsOf(a), '1338:10');
  });

  test('rejects non-monotonic bounds (TestAgentInterpolationBoundedKeys)', () => {
    const a = new AgentSketch();
    assert.equal(a.insertInterpolate(100, 1, 5), false);
    assert.equal(a.isEmpty(), true);
  });

  test('puts equal bounds in a single key (TestAgentInterpolationBoundedKeys)', () => {
    const a = new AgentSketch();
    assert.equal(a.insertInterpolate(42, 42, 7), true);
    assert.equal(a.count, 7);
    assert.equal(binsOf(a), `${sketchKey(42)}:7`);
  });

  test('rejects non-finite bounds and counts that are not integers in range', () => {
    const a = new AgentSketch();
    assert.equal(a.insertInterpolate(NaN, 1, 5), false);
    assert.equal(a.insertInterpolate(0, Infinity, 5), false);
    assert.equal(a.insertInterpolate(0, 1, 2.5), false);
    assert.equal(a.insertInterpolate(0, 1, -1), false);
    assert.equal(a.insertInterpolate(0, 1, C.maxCount + 1), false);
    assert.equal(a.isEmpty(), true);
  });
});

describe('AgentSketch.merge', () => {
  // sparse_test.go TestMerge.
  test('gives the same bins and symmetric quantiles as inserting everything (TestMerge)', () => {
    const s1 = new AgentSketch();
    const s2 = new AgentSketch();
    const sInsert = new AgentSketch();
    const sInsertMany = new AgentSketch();
    for (let i = -50; i <= 50; i++) {
      sInsert.insert(i);
      sInsert.flush();
      sInsertMany.insert(i);
      if ((i & 1) === 0) s1.insert(i);
      else s2.insert(i);
    }
    s1.merge(s2);
    assert.equal(sInsert.binCount, 101);
    for (const s of [s1, sInsertMany, sInsert]) {
      assert.equal(s.quantile(0.5), 0);
      assert.equal(sInsert.quantile(0.99), -sInsert.quantile(0.01));
      for (let p = 0; p < 50; p++) {
        const q = p / 100;
        const pos = s.quantile(0.5 + q);
        const neg = -s.quantile(0.5 - q);
        assert.ok(Math.abs(pos - neg) <= 1e-6, `Quantile(${0.5 + q}) = ${pos}, Quantile(${0.5 - q}) = ${neg}`);
      }
      assert.equal(binsOf(s), binsOf(sInsert));
    }
    assert.equal(s1.count, 101);
    assert.equal(s1.min, -50);
    assert.equal(s1.max, 50);
  });

  test('leaves the other sketch with the same content', () => {
    const a = new AgentSketch();
    const b = new AgentSketch();
    a.insert(1);
    b.insert(2);
    b.insert(3, 0.5);
    a.merge(b);
    assert.equal(binsOf(b), `${sketchKey(2)}:1 ${sketchKey(3)}:2`);
    assert.equal(b.count, 3);
    assert.equal(binsOf(a), `1338:1 ${sketchKey(2)}:1 ${sketchKey(3)}:2`);
    assert.equal(a.count, 4);
    assert.equal(a.sum, 1 + 2 + 6);
  });

  test('doubles a sketch merged into itself', () => {
    const a = new AgentSketch();
    a.insert(1);
    a.insert(2);
    a.merge(a);
    assert.equal(binsOf(a), '1338:2 1383:2');
    assert.equal(a.count, 4);
    assert.equal(a.sum, 6);
  });
});

describe('AgentSketch.quantile', () => {
  function arange(n: number): AgentSketch {
    const s = new AgentSketch();
    for (let i = 0; i < n; i++) s.insert(i);
    return s;
  }

  // sparse_test.go TestQuantile.
  test("reads the agent's values from bins (TestQuantile)", () => {
    const sIncr101 = arange(101);
    const sBin101 = new AgentSketch();
    const k1 = sketchKey(1);
    for (let i = 0; i < 101; i++) sBin101.insert(sketchKeyLowerBound(k1 + i));
    sBin101.flush();
    const { keys, counts } = sBin101.peekBins();
    assert.ok(counts.every((c) => c === 1));
    assert.equal(keys.length, 101);
    assert.equal(sBin101.quantile(0.99), sketchKeyLowerBound(keys[99]!));
    assert.equal(sIncr101.quantile(0), 0);
    assert.equal(sIncr101.quantile(0.01), sketchKeyLowerBound(sketchKey(1)));
    assert.equal(sIncr101.quantile(0.98), sketchKeyLowerBound(sketchKey(98)));
  });

  // sparse_test.go TestQuantileDDGo.
  test('returns the max when the count is above the bin total (TestQuantileDDGo)', () => {
    const s = new AgentSketch();
    for (let i = 1; i < 101; i++) s.insert(i);
    assert.notEqual(s.quantile(0.99), s.max);
    (s as unknown as { binned: number }).binned = 200;
    assert.equal(s.quantile(0.99), s.max);
  });

  // sparse_test.go TestRank.
  test('ranks q·(count−1) rounded half to even (TestRank)', () => {
    for (let p = 0; p <= 100; p++) assert.equal(roundHalfEven((p / 100) * (101 - 1)), p);
  });

  test('returns 0 when empty, and the exact min and max at the ends', () => {
    const s = new AgentSketch();
    assert.equal(s.quantile(0.5), 0);
    s.insert(3.3);
    s.insert(-7.1);
    assert.equal(s.quantile(0), -7.1);
    assert.equal(s.quantile(-1), -7.1);
    assert.equal(s.quantile(1), 3.3);
    assert.equal(s.quantile(2), 3.3);
  });

  test('interpolates inside a bin with the min as the low edge of the first bin', () => {
    const s = new AgentSketch();
    for (const v of [1, 2, 10, 100]) s.insert(v);
    s.insert(0.5, 0.1);
    // rank roundHalfEven(0.5·13) = 6 falls in the first bin (10 values): weight 0.4.
    const vHigh = sketchKeyLowerBound(1293) * C.gamma;
    assert.equal(s.quantile(0.5), 0.5 * 0.4 + vHigh * (1 - 0.4));
    // rank 12 falls in bin 1487 (the 13th value): weight 1, its lower bound.
    assert.equal(s.quantile(0.95), sketchKeyLowerBound(1487));
  });
});
