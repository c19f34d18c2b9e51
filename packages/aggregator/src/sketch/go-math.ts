/**
 * Go's float64 behaviour where the agent's sketch depends on it, reproduced bit for bit.
 *
 * The agent maps a value to a key with Go's `math.Log` and a key back to a value with Go's
 * `math.Pow` (`pkg/util/quantile/config.go`). V8's `Math.log` and `Math.pow` are other
 * implementations and disagree with Go in the last bits:
 *
 * - `Math.pow(γ, k)` differs from Go's `math.Pow(γ, k)` for 65486 of the 65533 keys, by up to a
 *   few thousand ulps at the ends of the key range, because Go's `Pow` multiplies repeated
 *   squares while V8's is fdlibm's `pow`.
 * - `Math.log(v)` differs from Go's `math.Log(v)` by one ulp for about 0.09 % of inputs. That
 *   moves a key only when `log(v)/ln γ` sits within a few ulps of a half-integer: 18 of 557107
 *   values within 8 ulps of every bin boundary got another key.
 *
 * Both were measured against Go 1.19 on linux/amd64 (the comparison is described in the
 * package README). `goLog` and `goPowInt` below agree with Go on every one of those inputs.
 *
 * Sources and licences:
 * - `goLog` follows the algorithm of Go's `math.Log` as the amd64 build runs it
 *   (`src/math/log_amd64.s`, the same steps as `src/math/log.go`): Copyright The Go Authors,
 *   BSD-3-Clause. Go took the reduction and the coefficients from FreeBSD's
 *   `/usr/src/lib/msun/src/e_log.c`, Copyright (C) 1993 Sun Microsystems, freely redistributable
 *   with its notice.
 * - `goPowInt` follows Go's `math.Pow` (`src/math/pow.go`, same copyright and licence) for the
 *   only case the sketch uses: a finite, positive base and an integral exponent.
 */

// One 8-byte scratch, viewed as a double and as two 32-bit words, for frexp and ldexp without
// allocating. `HI` is the index of the word that holds the sign and exponent bits.
const scratchF64 = new Float64Array(1);
const scratchU32 = new Uint32Array(scratchF64.buffer);
const HI = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

const LN2_HI = 6.93147180369123816490e-1; // 0x3fe62e42fee00000
const LN2_LO = 1.90821492927058770002e-10; // 0x3dea39ef35793c76
const L1 = 6.666666666666735130e-1; // 0x3fe5555555555593
const L2 = 3.999999999940941908e-1; // 0x3fd999999997fa04
const L3 = 2.857142874366239149e-1; // 0x3fd2492494229359
const L4 = 2.222219843214978396e-1; // 0x3fcc71c51d8e78af
const L5 = 1.818357216161805012e-1; // 0x3fc7466496cb03de
const L6 = 1.531383769920937332e-1; // 0x3fc39a09d078c69f
const L7 = 1.479819860511658591e-1; // 0x3fc2f112df3e5244
const HALF_SQRT2 = 7.07106781186547524401e-1; // 0x3fe6a09e667f3bcd

/**
 * Go's `math.Log(x)` on amd64, for a positive, finite, normal `x`.
 *
 * @remarks
 * Callers guarantee the domain: the sketch only takes logarithms of values at least
 * 9.94e-10. Subnormals are out of it on purpose: the amd64 assembly takes their exponent from
 * the raw bits, as this function does, where the portable Go code would renormalise first.
 */
export function goLog(x: number): number {
  // frexp: x = f1 · 2^k with f1 in [0.5, 1).
  scratchF64[0] = x;
  const hi = scratchU32[HI]!;
  let k = ((hi >>> 20) & 0x7ff) - 1022;
  scratchU32[HI] = (hi & 0x800fffff) | 0x3fe00000;
  let f1 = scratchF64[0]!;
  // The assembly's comparison is "not less than", so f1 equal to √2/2 is doubled too.
  if (!(HALF_SQRT2 < f1)) {
    f1 *= 2;
    k--;
  }
  const f = f1 - 1;
  const s = f / (2 + f);
  const s2 = s * s;
  const s4 = s2 * s2;
  const t1 = s2 * (L1 + s4 * (L3 + s4 * (L5 + s4 * L7)));
  const t2 = s4 * (L2 + s4 * (L4 + s4 * L6));
  const r = t1 + t2;
  const hfsq = 0.5 * f * f;
  return k * LN2_HI - (hfsq - (s * (hfsq + r) + k * LN2_LO) - f);
}

/** 2^e, exact, for an integer e in [-1022, 1023]. */
function pow2(e: number): number {
  scratchU32[LO] = 0;
  scratchU32[HI] = (e + 1023) << 20;
  return scratchF64[0]!;
}

/** `m · 2^e`, exact while the result is a normal double (Go's `math.Ldexp` on that range). */
function ldexp(m: number, e: number): number {
  // Two steps keep each power of two representable; the sketch never leaves the normal range.
  if (e > 1023) return m * pow2(1023) * pow2(e - 1023);
  if (e < -1022) return m * pow2(-1022) * pow2(e + 1022);
  return m * pow2(e);
}

/**
 * Go's `math.Pow(x, y)` for a finite `x > 0` and an integral `y` with |y| < 2^31.
 *
 * @remarks
 * Go keeps the running square as a mantissa in [0.5, 1) plus a separate binary exponent,
 * multiplies in the squares that the bits of |y| select, and applies the exponent at the end
 * (taking the reciprocal first for a negative `y`). Rescaling by powers of two is exact, so the
 * result depends only on the order of the multiplications, which this follows.
 */
export function goPowInt(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (y === 1) return x;
  scratchF64[0] = x;
  const hi = scratchU32[HI]!;
  let xe = ((hi >>> 20) & 0x7ff) - 1022;
  scratchU32[HI] = (hi & 0x800fffff) | 0x3fe00000;
  let x1 = scratchF64[0]!;
  let a1 = 1;
  let ae = 0;
  for (let i = y < 0 ? -y : y; i !== 0; i >>>= 1) {
    // Go stops here before the exponent overflows its shift; Ldexp then gives 0 or +Inf.
    if (xe < -4096 || xe > 4096) {
      ae += xe;
      break;
    }
    if ((i & 1) === 1) {
      a1 *= x1;
      ae += xe;
    }
    x1 *= x1;
    xe *= 2;
    if (x1 < 0.5) {
      x1 += x1;
      xe--;
    }
  }
  if (y < 0) {
    a1 = 1 / a1;
    ae = -ae;
  }
  return ldexp(a1, ae);
}

/**
 * Go's `math.RoundToEven`: nearest integer, ties to even. Unlike Go, a negative input that
 * rounds to zero gives +0, not -0; the sketch only adds the result to the bias or uses it as a
 * rank, where the sign of zero does not show.
 */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f; // exact: f and x share their leading bits
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

const MIN_INT64 = -9223372036854775808;

/**
 * Go's `int(x)` for a float64 on amd64: truncation, and the "integer indefinite" value
 * -2^63 for NaN and anything outside the int64 range (CVTTSD2SQ).
 *
 * @remarks
 * The agent's interpolation relies on this when a bound maps to the +Inf key: `int(+Inf)` is
 * negative there, so that step inserts nothing.
 */
export function goInt(x: number): number {
  if (x >= -9223372036854775808 && x < 9223372036854775808) return Math.trunc(x);
  return MIN_INT64;
}
