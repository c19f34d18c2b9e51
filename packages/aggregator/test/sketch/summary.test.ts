import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SketchSummary } from '../../src/sketch/summary.js';
import { assertSummaryClose } from './helpers.js';

function plain(s: SketchSummary) {
  return { cnt: s.cnt, min: s.min, max: s.max, sum: s.sum, avg: s.avg };
}

// summary_test.go TestSummary: the Observe and Merge cases.
const cases = [
  { v: -1, exp: { min: -1, max: -1, sum: -1, avg: -1, cnt: 1 } },
  { v: -2, exp: { min: -2, max: -1, sum: -3, avg: -1.5, cnt: 2 } },
  { v: 0, exp: { min: -2, max: 0, sum: -3, avg: -1, cnt: 3 } },
];

describe('SketchSummary', () => {
  test('observes values one at a time (TestSummary/Observe)', () => {
    const s = new SketchSummary();
    for (const c of cases) {
      s.insert(c.v);
      assert.deepEqual(plain(s), c.exp);
    }
  });

  test('merges one-value summaries to the same result (TestSummary/Merge)', () => {
    const s = new SketchSummary();
    for (const c of cases) {
      const o = new SketchSummary();
      o.insert(c.v);
      s.merge(o);
      assert.deepEqual(plain(s), c.exp);
    }
  });

  test('is unchanged by merging an empty summary (TestSummary/Merge/Empty)', () => {
    const s = new SketchSummary();
    Object.assign(s, { min: 1, max: 2, sum: 3, avg: 4, cnt: 5 });
    s.merge(new SketchSummary());
    assert.deepEqual(plain(s), { min: 1, max: 2, sum: 3, avg: 4, cnt: 5 });
  });

  test('resets to all zeros (TestSummary/Reset)', () => {
    const s = new SketchSummary();
    Object.assign(s, { min: 1, max: 2, sum: 3, avg: 4, cnt: 5 });
    s.reset();
    assert.deepEqual(plain(s), { min: 0, max: 0, sum: 0, avg: 0, cnt: 0 });
  });

  // TestSummary/InsertN uses math/rand; this walks a fixed sequence of the same shape.
  test('inserting v n times equals insertN(v, n) within 256 ulps (TestSummary/InsertN)', () => {
    const s = new SketchSummary();
    const exp = new SketchSummary();
    let x = 12345;
    for (let i = 0; i < 1000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const v = x % 10000;
      const n = (x >>> 16) % 1000 + 1;
      s.insertN(v, n);
      for (let j = 0; j < n; j++) exp.insert(v);
    }
    assertSummaryClose(s, exp);
  });

  test('truncates a fractional weight in the count but not in the sum', () => {
    const s = new SketchSummary();
    s.insertN(3, 1 / 0.3);
    assert.equal(s.cnt, 3);
    assert.equal(s.sum, 3 * (1 / 0.3));
    assert.equal(s.avg, 3);
    s.insertN(6, 2.5);
    assert.equal(s.cnt, 5);
    assert.equal(s.sum, 3 * (1 / 0.3) + 6 * 2.5);
    assert.equal(s.avg, 3 + ((6 - 3) * 2) / 5);
  });

  // summary_test.go TestSummary/Quick: observing and merging agree with a direct computation.
  test('observing and merging match a direct computation (TestSummary/Quick)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 50, noNaN: true }), { maxLength: 300 }), (values) => {
        const os = new SketchSummary();
        const ms = new SketchSummary();
        let sum = 0;
        let min = values[0] ?? 0;
        let max = values[0] ?? 0;
        for (let i = 0; i < values.length; i++) {
          const v = values[i]!;
          os.insert(v);
          const one = new SketchSummary();
          one.insert(v);
          ms.merge(one);
          sum += v;
          if (v < min) min = v;
          if (v > max) max = v;
          const exp = { cnt: i + 1, min, max, sum, avg: sum / (i + 1) };
          assertSummaryClose(os, exp);
          assertSummaryClose(ms, exp);
        }
      }),
      { numRuns: 100 },
    );
  });
});
