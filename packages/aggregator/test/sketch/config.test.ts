import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { AGENT_SKETCH_CONFIG as C, sketchKey, sketchKeyLowerBound } from '../../src/index.js';
import { goLog, goPowInt, roundHalfEven, goInt } from '../../src/sketch/go-math.js';
import { fromBits, nextAfter, toBits } from './helpers.js';

describe('agent sketch parameters', () => {
  test('are the agent defaults: eps 1/128 doubled, min 1e-9, 4096 bins of 65535, int16 keys', () => {
    assert.equal(C.eps, 1 / 128);
    assert.equal(C.gamma, 1.015625);
    assert.equal(C.minValue, 1e-9);
    assert.equal(C.emin, -1337);
    assert.equal(C.bias, 1338);
    assert.equal(C.binLimit, 4096);
    assert.equal(C.maxBinWidth, 65535);
    assert.equal(C.infKey, 32767);
    assert.equal(C.maxKey, 32766);
    assert.equal(C.maxCount, 4096 * 65535);
    assert.equal(C.bufferCapacity, 512);
  });

  // Bits printed by Go 1.19 linux/amd64: math.Log1p(2.0/128), math.Pow(1.015625, -1337) and
  // math.Pow(1.015625, 32766-1338).
  test('have the bits Go computes for ln γ, norm.min and norm.max', () => {
    assert.equal(toBits(C.lnGamma), 0x3f8fc0a8b0fc03e4n);
    assert.equal(toBits(C.normMin), 0x3e111479426012e9n);
    assert.equal(toBits(C.normMax), 0x6bdf76c560693f41n);
  });

  // config_test.go TestConfig "config sanity".
  test('can count more than 5e7 values and represent more than MaxUint64 (TestConfig sanity)', () => {
    assert.ok(C.maxCount > 5e7);
    assert.ok(C.normMax > 3.4028234663852886e38 && C.normMax > 18446744073709551615);
  });
});

describe('sketchKey', () => {
  // The spec's computed checks (spec/dogstatsd.md section 9).
  test('maps the spec values to the spec keys', () => {
    const pins: Array<[number, number]> = [
      [1, 1338],
      [2, 1383],
      [10, 1487],
      [100, 1635],
      [0.5, 1293],
      [666, 1757],
      [1e-9, 1],
      [1e-10, 0],
      [-10, -1487],
    ];
    for (const [v, k] of pins) assert.equal(sketchKey(v), k, `key(${v})`);
  });

  test('gives key 0 to zero, negative zero and magnitudes below norm.min', () => {
    assert.equal(sketchKey(0), 0);
    assert.equal(sketchKey(-0), 0);
    assert.equal(sketchKey(5e-324), 0);
    assert.equal(sketchKey(-1e-10), 0);
    assert.equal(sketchKey(nextAfter(C.normMin, 0)), 0);
  });

  test('negates the key of the magnitude for negative values', () => {
    for (const v of [1e-9, 0.5, 1, 3.7, 1e6, 1e200]) assert.equal(sketchKey(-v), -sketchKey(v));
  });

  test('gives the +Inf key past norm.max and the -Inf key below -norm.max', () => {
    assert.equal(sketchKey(1e212), 32767);
    assert.equal(sketchKey(Number.MAX_VALUE), 32767);
    assert.equal(sketchKey(-1e300), -32767);
    assert.equal(sketchKey(C.normMax), 32766);
  });

  // config_test.go TestConfig "norm/key".
  test('puts norm.min in key 1 and norm.min·γ in key 2 (TestConfig norm/key)', () => {
    assert.equal(sketchKey(C.normMin), 1);
    assert.equal(sketchKey(nextAfter(C.normMin, Infinity)), 1);
    assert.equal(sketchKey(C.normMin * C.gamma), 2);
    assert.equal(sketchKey(C.normMax), C.maxKey);
  });

  // Values within 8 ulps of a bin boundary where V8's Math.log and Go's math.Log round to
  // different keys; the expected keys are Go's (Go 1.19 linux/amd64, key = RoundToEven(
  // math.Log(v)/math.Log1p(2.0/128)) + 1338). 18 of 557107 such values differ.
  test("matches Go's keys where V8's Math.log would round to the neighbouring key", () => {
    const cases: Array<[bigint, number]> = [
      [0x3e889b6b456ce2acn, 338],
      [0x3ea756a2b05b39c4n, 423],
      [0x3ed539af33ac1bbfn, 551],
      [0x3f4b38f3239f5981n, 881],
      [0x3f5502a27e4f4c74n, 908],
      [0x3f55ac07bc69abcdn, 911],
      [0x3fb35ebe8d2ab92dn, 1172],
      [0x3fca8837b9024becn, 1236],
      [0x3ff9475904836775n, 1367],
      [0x3ffa13284237cae7n, 1369],
      [0x403831b2f737d31an, 1543],
      [0x40586a358a44723an, 1634],
      [0x4067c6f42ee94fe1n, 1676],
      [0x40da1d948c02cba7n, 1996],
      [0x40f536346443def1n, 2072],
      [0x41151371e600fc17n, 2160],
      [0x411cbce6acb82f90n, 2180],
      [0x414772aaadfd19ebn, 2301],
    ];
    let v8Differs = 0;
    for (const [bits, goKey] of cases) {
      const v = fromBits(bits);
      assert.equal(sketchKey(v), goKey, `key(${v})`);
      assert.equal(sketchKey(-v), -goKey);
      if (roundHalfEven(Math.log(v) / C.lnGamma) + C.bias !== goKey) v8Differs++;
    }
    // The cases are real: plain Math.log gets every one of them wrong.
    assert.equal(v8Differs, cases.length);
  });

  // config_test.go TestConfig "norm/key(f64(k)) == k".
  test('inverts sketchKeyLowerBound for every finite key except near 1 (TestConfig key(f64(k)) == k)', () => {
    const misses: number[] = [];
    for (let k = -C.maxKey; k <= C.maxKey; k++) {
      const v = sketchKeyLowerBound(k);
      if (sketchKey(v) === k) continue;
      misses.push(k);
      // The agent's allowance: log is inexact near 1, but the key must change within one ulp.
      const next = sketchKey(nextAfter(v, Infinity));
      const prev = sketchKey(nextAfter(v, -Infinity));
      assert.equal(next - prev, 1, `k=${k}`);
      assert.ok(Math.abs(v) <= 2 && Math.abs(v) >= 0.5, `k=${k} v=${v}`);
    }
    assert.deepEqual(misses, []);
  });

  // config_test.go TestRelativeError: the worst value of each key is just below γ^(k+½).
  test('reads every key back within 1 − 1/√γ of the value (TestRelativeError)', () => {
    const start = sketchKey(1e-6);
    const stop = sketchKey(Math.fround(9223372036854775807));
    const sqrtGamma = Math.sqrt(C.gamma);
    let maxErr = 0;
    for (let k = start; k <= stop; k++) {
      const v = nextAfter(sketchKeyLowerBound(k) * sqrtGamma, 0);
      const qv = sketchKeyLowerBound(sketchKey(v));
      const err = Math.abs(v - qv) / Math.max(Math.abs(v), Math.abs(qv));
      if (err > maxErr) maxErr = err;
    }
    assert.ok(maxErr <= 0.01, `max relative error ${maxErr}`);
    assert.ok(maxErr <= 1 - 1 / sqrtGamma + 1e-12, `max relative error ${maxErr}`);
    assert.ok(maxErr > 1 - 1 / sqrtGamma - 1e-6, `max relative error ${maxErr}`);
  });
});

describe('sketchKeyLowerBound', () => {
  // config_test.go TestConfig "norm/f64".
  test('gives ±Inf for the infinite keys and 0 for key 0 (TestConfig norm/f64)', () => {
    assert.equal(sketchKeyLowerBound(32767), Infinity);
    assert.equal(sketchKeyLowerBound(-32767), -Infinity);
    assert.equal(sketchKeyLowerBound(0), 0);
    assert.equal(sketchKeyLowerBound(C.bias), 1);
  });

  // Bits printed by Go 1.19 linux/amd64 for math.Pow(1.015625, k-1338); V8's Math.pow gives
  // other bits for most of them (Go multiplies repeated squares).
  test("has Go's math.Pow bits, not Math.pow's", () => {
    const cases: Array<[number, bigint]> = [
      [1293, 0x3fdfdae1fa01eca0n],
      [1337, 0x3fef81f81f81f820n],
      [1339, 0x3ff0400000000000n],
      [1340, 0x3ff0810000000000n],
      [1487, 0x402426be77170095n],
      [1635, 0x4058fd44e7abcf52n],
      [1757, 0x4084b53cfc88f438n],
      [1, 0x3e111479426012e9n],
      [32766, 0x6bdf76c560693f41n],
    ];
    for (const [k, bits] of cases) {
      assert.equal(toBits(sketchKeyLowerBound(k)), bits, `f64(${k})`);
      assert.equal(toBits(sketchKeyLowerBound(-k)), bits | (1n << 63n), `f64(-${k})`);
    }
    assert.notEqual(toBits(Math.pow(C.gamma, 1487 - C.bias)), 0x402426be77170095n);
  });
});

describe('Go float semantics', () => {
  test('roundHalfEven rounds ties to even like math.RoundToEven', () => {
    assert.deepEqual(
      [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999999999999996, 1.0000000000000002, -3.7].map(roundHalfEven),
      [0, 2, 2, 0, -2, -2, 2, 1, -4],
    );
  });

  test('goInt truncates, and gives -2^63 for NaN and out-of-range values as amd64 does', () => {
    assert.equal(goInt(2.9), 2);
    assert.equal(goInt(-2.9), -2);
    assert.equal(goInt(Infinity), -9223372036854775808);
    assert.equal(goInt(-Infinity), -9223372036854775808);
    assert.equal(goInt(NaN), -9223372036854775808);
    assert.equal(goInt(1e19), -9223372036854775808);
  });

  test('goLog agrees with Math.log to within 2 ulps', () => {
    assert.equal(goLog(1), 0);
    assert.equal(goLog(2), 0.6931471805599453);
    const values = [1e-9, 0.3, 0.7071067811865476, 1.5, 10, 666, 1e100];
    for (let e = -60; e <= 60; e++) values.push(2 ** e);
    for (const v of values) {
      const d = Number(toBits(goLog(v)) - toBits(Math.log(v)));
      assert.ok(Math.abs(d) <= 2, `log(${v}) differs by ${d} ulps`);
    }
  });

  test('goPowInt gives exact powers where they are representable', () => {
    assert.equal(goPowInt(2, 10), 1024);
    assert.equal(goPowInt(2, -3), 0.125);
    assert.equal(goPowInt(1.015625, 0), 1);
    assert.equal(goPowInt(1.015625, 1), 1.015625);
    assert.equal(goPowInt(1.015625, 2), 1.031494140625);
    assert.equal(goPowInt(3, 5), 243);
  });
});
