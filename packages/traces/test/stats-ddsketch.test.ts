import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DDSketch, LogarithmicMapping, MAX_NUM_BINS, RELATIVE_ACCURACY } from '../src/index.js';

// Facts from DataDog/sketches-go ddsketch/mapping/logarithmic_mapping.go, store/collapsing_lowest_dense_store.go
// and ddsketch.go; the agent's parameters from pkg/trace/stats/statsraw.go (0.01, 2048 bins).

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
function varint(n: number): string {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out).toString('hex');
}
function le(v: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return b.toString('hex');
}

test('the mapping indexes by floor(ln(v) x multiplier) and maps back within the relative accuracy', () => {
  const m = new LogarithmicMapping(RELATIVE_ACCURACY);
  assert.equal(m.gamma, 1.01 / 0.99);
  assert.equal(m.multiplier, 1 / Math.log1p(0.02 / 0.99));
  assert.equal(m.index(1), 0);
  for (const v of [1e-9, 0.5, 1.5, 7, 1000, 123456789, 3.6e12, 1e300]) {
    const i = m.index(v);
    // The bucket [gamma^i, gamma^(i+1)) holds v (floor, not ceil as sketches-js).
    assert.ok(Math.exp(i / m.multiplier) <= v * (1 + 1e-12) && v < Math.exp((i + 1) / m.multiplier) * (1 + 1e-12), String(v));
    assert.ok(Math.abs(m.value(i) - v) / v <= RELATIVE_ACCURACY + 1e-12, String(v));
  }
  // Go's int(x) - 1 below zero: an exact negative integer index moves one lower.
  assert.equal(m.index(Math.exp(-2 / m.multiplier)) <= -2, true);
});

test('a sketch of one value serialises as sketches-go ToProto does', () => {
  const s = new DDSketch();
  s.add(1);
  // mapping {gamma}, positiveValues {contiguousBinCounts [1]} (offset 0 omitted), negativeValues {}, no zeroCount.
  assert.equal(hex(s.toProto()), '0a09' + '09' + le(1.01 / 0.99) + '120a' + '1208' + le(1) + '1a00');
  const z = new DDSketch();
  z.add(0);
  assert.equal(hex(z.toProto()), '0a09' + '09' + le(1.01 / 0.99) + '1200' + '1a00' + '21' + le(1));
});

test('bins between the lowest and highest index are written as zeros, with the zig-zag offset', () => {
  const s = new DDSketch();
  s.add(1000);
  s.add(1000);
  s.add(1100);
  const m = s.mapping;
  const lo = m.index(1000);
  const hi = m.index(1100);
  const bins = Array.from({ length: hi - lo + 1 }, (_, i) => (i === 0 ? 2 : i === hi - lo ? 1 : 0));
  assert.equal(lo, 345); // floor(ln(1000) x 49.998...)
  const store = '12' + varint(bins.length * 8) + bins.map(le).join('') + '18' + varint(lo * 2);
  assert.equal(hex(s.toProto()), '0a09' + '09' + le(1.01 / 0.99) + '12' + varint(store.length / 2) + store + '1a00');
  const back = DDSketch.fromProto(s.toProto())!;
  assert.equal(back.count, 3);
  assert.equal(back.positive.minIndex, lo);
  assert.equal(back.positive.maxIndex, hi);
});

test('quantiles are within 1 % of the exact ones', () => {
  const s = new DDSketch();
  const values: number[] = [];
  for (let i = 1; i <= 10000; i++) {
    const v = i * 1037;
    values.push(v);
    s.add(v);
  }
  for (const q of [0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1]) {
    const exact = values[Math.floor(q * (values.length - 1))]!;
    const got = s.getValueAtQuantile(q);
    assert.ok(Math.abs(got - exact) / exact <= 0.01, `q=${q}: ${got} vs ${exact}`);
  }
  assert.ok(Number.isNaN(new DDSketch().getValueAtQuantile(0.5)));
  assert.ok(Number.isNaN(s.getValueAtQuantile(1.5)));
});

test('past 2048 bins the lowest indexes collapse into one, and stay collapsed', () => {
  const s = new DDSketch();
  s.add(1e-300);
  s.add(1e9);
  const top = s.mapping.index(1e9);
  assert.equal(s.positive.maxIndex, top);
  assert.equal(s.positive.minIndex, top - MAX_NUM_BINS + 1);
  assert.equal(s.positive.get(top - MAX_NUM_BINS + 1), 1);
  assert.equal(s.positive.contiguous().length, MAX_NUM_BINS);
  // Once collapsed, lower values fold into the lowest bin instead of extending it.
  s.add(1e-200);
  assert.equal(s.positive.minIndex, top - MAX_NUM_BINS + 1);
  assert.equal(s.positive.get(top - MAX_NUM_BINS + 1), 2);
  assert.equal(s.count, 3);
  // Growing upwards past the window folds the old lowest bins too.
  s.add(1e30);
  const top2 = s.mapping.index(1e30);
  assert.equal(s.positive.minIndex, top2 - MAX_NUM_BINS + 1);
  assert.equal(s.positive.get(top2 - MAX_NUM_BINS + 1), 3);
  assert.ok(Math.abs(s.getValueAtQuantile(1) - 1e30) / 1e30 <= 0.01);
});

test('negative values go to the negative store and zero to the zero count; out-of-range values are refused', () => {
  const s = new DDSketch();
  assert.equal(s.add(-5), true);
  assert.equal(s.add(0), true);
  assert.equal(s.add(5), true);
  assert.equal(s.add(Infinity), false);
  assert.equal(s.add(NaN), false);
  assert.equal(s.count, 3);
  assert.ok(Math.abs(s.getValueAtQuantile(0) + 5) / 5 <= 0.01);
  assert.equal(s.getValueAtQuantile(0.5), 0);
  const back = DDSketch.fromProto(s.toProto())!;
  assert.equal(back.count, 3);
  assert.equal(back.zeroCount, 1);
  assert.equal(DDSketch.fromProto(Uint8Array.of(0x0a, 0x05)), null);
});
