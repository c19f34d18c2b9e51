import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { AGENT_SKETCH_CONFIG as C } from '../../src/index.js';
import { BinList, insertCounts, insertSortedKeys, mergeBins } from '../../src/sketch/store.js';
import { buildBins, formatBinList } from './helpers.js';

const MAX = C.maxBinWidth;

function insertKeys(b: BinList, keys: number[]): void {
  const sorted = Int16Array.from(keys).sort();
  insertSortedKeys(b, sorted, sorted.length, C.binLimit);
}

describe('BinList.incrSafe', () => {
  // bin_test.go TestBin_incrSafe.
  test('fills a bin up to 65535 and returns the overflow (TestBin_incrSafe)', () => {
    const cases: Array<[n: number, by: number, wantN: number, wantOverflow: number]> = [
      [0, 1, 1, 0],
      [1, 1, 2, 0],
      [MAX, 1, MAX, 1],
      [0, MAX, MAX, 0],
      [1, MAX, MAX, 1],
      [100, 3 * MAX, MAX, 2 * MAX + 100],
    ];
    for (const [n, by, wantN, wantOverflow] of cases) {
      const b = new BinList();
      b.push(0, n);
      assert.equal(b.incrSafe(0, by), wantOverflow, `n=${n} by=${by}`);
      assert.equal(b.counts[0], wantN);
    }
  });
});

describe('BinList.appendSafe', () => {
  test('splits a count over 65535 into a remainder bin first, then full bins', () => {
    const cases: Array<[number, string]> = [
      [1, '7:1'],
      [MAX, '7:65535'],
      [MAX + 1, '7:1 7:65535'],
      [2 * MAX, '7:65535 7:65535'],
      [2 * MAX + 5, '7:5 7:65535 7:65535'],
    ];
    for (const [n, exp] of cases) {
      const b = new BinList();
      b.appendSafe(7, n);
      assert.equal(formatBinList(b), exp, `n=${n}`);
    }
  });

  // bin_test.go TestAppendSafeCountValueDrivesBinCount.
  test('spends ceil(n/65535) bins on one large count (TestAppendSafeCountValueDrivesBinCount)', () => {
    const b = new BinList();
    b.appendSafe(42, 2 ** 30);
    assert.equal(b.length, 16385);
    assert.equal(b.countSum(), 2 ** 30);
    assert.equal(b.counts[0], 16384);
  });
});

describe('BinList.trimLeft', () => {
  // store_test.go TestStore/trimLeft.
  test('collapses the lowest bins as the agent does (TestStore/trimLeft)', () => {
    const cases: Array<[s: string, e: string, b: number]> = [
      ['', '', 0],
      ['1:1', '1:1', 0],
      ['1:1', '1:1', 1],
      ['1:max 2:max 3:max', '2:max 2:max 3:max', 2],
      ['1:max 1:max 1:1 2:max 3:1 4:1', '1:65535 1:65535 2:1 2:65535 3:1 4:1', 3],
      ['1:max-1 2:max-1 3:1', '1:max-1 2:max-1 3:1', 3],
    ];
    for (const [s, e, b] of cases) {
      const bins = buildBins(s);
      const before = bins.countSum();
      bins.trimLeft(b);
      assert.equal(formatBinList(bins), formatBinList(buildBins(e)), `trimLeft(${s}, ${b})`);
      assert.equal(bins.countSum(), before);
    }
  });

  test('folds small bins into the lowest bin kept', () => {
    const bins = buildBins('0:1 1:1 2:1 3:1 4:1 5:1');
    bins.trimLeft(2);
    assert.equal(formatBinList(bins), '4:5 5:1');
  });
});

describe('insertSortedKeys', () => {
  // store_test.go TestStore/insert.
  test('merges keys into bins as the agent does (TestStore/insert)', () => {
    const cases: Array<[start: string, exp: string, keys: number[]]> = [
      ['', '0:3 1:1 2:1 5:1 9:1', [0, 0, 0, 1, 2, 5, 9]],
      ['0:2', '-3:1 -2:1 -1:1 0:2', [-1, -2, -3]],
      ['0:2', '0:4', [0, 0]],
      ['0:max', '0:1 0:max', [0]],
      ['0:max 0:max', '0:1 0:max 0:max', [0]],
      ['0:1 0:max 0:max', '0:3 0:max 0:max', [0, 0]],
      ['1:1 3:1 4:1 5:1 6:1 7:1', '1:1 2:1 3:2 4:1 5:1 6:1 7:1', [2, 3]],
      ['1:1 3:1', '1:1 2:3 3:1', [2, 2, 2]],
      ['0:max-3', '0:2 0:max', [0, 0, 0, 0, 0]],
    ];
    for (const [start, exp, keys] of cases) {
      const bins = buildBins(start);
      insertKeys(bins, keys);
      assert.equal(formatBinList(bins), formatBinList(buildBins(exp)), `insert(${start}, ${keys})`);
    }
  });

  test('collapses to the bin limit after inserting', () => {
    const bins = new BinList();
    const keys: number[] = [];
    for (let k = 1; k <= C.binLimit + 10; k++) keys.push(k);
    insertKeys(bins, keys);
    assert.equal(bins.length, C.binLimit);
    assert.equal(bins.keys[0], 11);
    assert.equal(bins.counts[0], 11);
    assert.equal(bins.keys[C.binLimit - 1], C.binLimit + 10);
  });
});

describe('mergeBins', () => {
  // store_test.go TestStore/merge.
  test('adds bins key by key and collapses past the bin limit (TestStore/merge)', () => {
    const cases: Array<[s: string, o: string, exp: string, binLimit: number]> = [
      ['1:1', '', '1:1', 0],
      ['', '1:1', '1:1', 0],
      ['1:3', '1:2', '1:5', 0],
      ['1:max-1', '1:max-2', '1:max-3 1:max', 0],
      ['1:1 2:1 3:1', '5:1 6:1 10:1', '1:1 2:1 3:1 5:1 6:1 10:1', 0],
      ['0:1 1:1 2:1 3:1 4:1 5:1 6:1 7:1 8:1 9:1 10:1', '0:1 1:1 2:1 3:1 4:1 5:1 6:1 7:1 8:1 9:1', '8:18 9:2 10:1', 3],
    ];
    for (const [s, o, exp, binLimit] of cases) {
      const bins = buildBins(s);
      const other = buildBins(o);
      const otherBefore = formatBinList(other);
      mergeBins(bins, other, binLimit === 0 ? C.binLimit : binLimit);
      assert.equal(formatBinList(bins), formatBinList(buildBins(exp)), `merge(${s}, ${o})`);
      assert.equal(formatBinList(other), otherBefore, 'the other store is not changed');
    }
  });

  test('pairs repeated keys in order', () => {
    const bins = buildBins('4:1 4:max');
    mergeBins(bins, buildBins('4:2 4:max 4:max'), C.binLimit);
    assert.equal(formatBinList(bins), '4:3 4:65535 4:65535 4:65535');
  });

  test('can merge a store into itself', () => {
    const bins = buildBins('1:2 3:max');
    mergeBins(bins, bins, C.binLimit);
    assert.equal(formatBinList(bins), '1:4 3:65535 3:65535');
  });
});

describe('insertCounts', () => {
  test('adds weighted keys, splitting large weights', () => {
    const bins = buildBins('1:1 5:1');
    const added = insertCounts(bins, Int16Array.of(1, 3), Float64Array.of(10, 70000), 2, C.binLimit);
    assert.equal(added, 70010);
    assert.equal(formatBinList(bins), '1:11 3:4465 3:65535 5:1');
  });

  // store_test.go TestInsertCountsAboveMaxCount.
  test('keeps a count above MaxCount but outgrows the bin limit (TestInsertCountsAboveMaxCount)', () => {
    const n = C.maxCount + 1;
    const bins = new BinList();
    const added = insertCounts(bins, Int16Array.of(42), Float64Array.of(n), 1, C.binLimit);
    assert.equal(added, n);
    assert.equal(bins.countSum(), n);
    assert.ok(bins.length > C.binLimit);
  });
});

// store_test.go TestCols: the columns are the bins as they are, repeats included.
describe('bin columns', () => {
  test('list keys and counts in bin order (TestCols)', () => {
    const b = buildBins('0:1 1:1 2:2 3:1 4:1 5:1 8:1 9:1 10:max');
    assert.deepEqual(Array.from(b.keys.subarray(0, b.length)), [0, 1, 2, 3, 4, 5, 8, 9, 10]);
    assert.deepEqual(Array.from(b.counts.subarray(0, b.length)), [1, 1, 2, 1, 1, 1, 1, 1, 65535]);
    const r = buildBins('0:1 0:max');
    assert.deepEqual(Array.from(r.keys.subarray(0, r.length)), [0, 0]);
    assert.deepEqual(Array.from(r.counts.subarray(0, r.length)), [1, 65535]);
  });
});
