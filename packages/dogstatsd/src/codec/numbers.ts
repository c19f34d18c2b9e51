/**
 * Number parsing with Go `strconv` semantics, on bytes, without allocating on the common path.
 *
 * The agent parses values and sample rates with `strconv.ParseFloat(s, 64)` and timestamps and
 * event lengths with `strconv.ParseInt(s, 10, 64)` / `strconv.Atoi`
 * (`comp/dogstatsd/server/impl/parse.go`). JavaScript's `Number()` and `parseFloat` accept other
 * things (whitespace, `0x10`, `""`, `Infinity`, prefixes), so the grammar is checked here byte by
 * byte, following Go's `readFloat`, `special` and `underscoreOK` (`src/strconv/atof.go`,
 * `atoi.go`, BSD licence). Only the final conversion of long or large decimals is left to
 * `Number()`, which is correctly rounded, as Go's is.
 */

/** Parse outcome: the value is in `numberResult[0]`. */
export const NumberStatus = { OK: 0, SYNTAX: 1, RANGE: 2 } as const;
export type NumberStatus = (typeof NumberStatus)[keyof typeof NumberStatus];

/** Where the parse functions write their value. Read it right after the call. */
export const numberResult = new Float64Array(1);

const POW10 = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22,
];

const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const UNDERSCORE = 0x5f;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * Parses `buf[start, end)` as Go's `strconv.ParseFloat(s, 64)` does. Returns a `NumberStatus`;
 * on `OK` and `RANGE` (±Inf, as Go returns it) the value is in `numberResult[0]`.
 */
export function parseFloatBytes(buf: Uint8Array, start: number, end: number): NumberStatus {
  let i = start;
  if (i >= end) return NumberStatus.SYNTAX;
  let c = buf[i]!;
  let neg = false;
  if (c === PLUS || c === MINUS) {
    neg = c === MINUS;
    i++;
    if (i >= end) return NumberStatus.SYNTAX;
    c = buf[i]!;
  }
  const lower = c | 0x20;
  if (lower === 0x69 /* i */ || lower === 0x6e /* n */) return parseSpecial(buf, i, end, neg, i > start);
  if (c === ZERO && i + 2 < end && (buf[i + 1]! | 0x20) === 0x78 /* x */) return parseHex(buf, start, i + 2, end, neg);

  // Decimal: Go's readFloat, with a 15-digit mantissa so it stays exact in a double.
  let mant = 0;
  let nd = 0;
  let ndMant = 0;
  let dp = 0;
  let sawDot = false;
  let sawDigits = false;
  let trunc = false;
  let underscores = false;
  for (; i < end; i++) {
    c = buf[i]!;
    if (c >= ZERO && c <= NINE) {
      sawDigits = true;
      if (c === ZERO && nd === 0) {
        dp--;
        continue;
      }
      nd++;
      if (ndMant < 15) {
        mant = mant * 10 + (c - ZERO);
        ndMant++;
      } else if (c !== ZERO) {
        trunc = true;
      }
      continue;
    }
    if (c === DOT) {
      if (sawDot) break;
      sawDot = true;
      dp = nd;
      continue;
    }
    if (c === UNDERSCORE) {
      underscores = true;
      continue;
    }
    break;
  }
  if (!sawDigits) return NumberStatus.SYNTAX;
  if (!sawDot) dp = nd;
  if (i < end && (buf[i]! | 0x20) === 0x65 /* e */) {
    i++;
    if (i >= end) return NumberStatus.SYNTAX;
    let esign = 1;
    c = buf[i]!;
    if (c === PLUS) i++;
    else if (c === MINUS) {
      i++;
      esign = -1;
    }
    if (i >= end || buf[i]! < ZERO || buf[i]! > NINE) return NumberStatus.SYNTAX;
    let e = 0;
    for (; i < end; i++) {
      c = buf[i]!;
      if (c >= ZERO && c <= NINE) {
        if (e < 10000) e = e * 10 + (c - ZERO);
      } else if (c === UNDERSCORE) {
        underscores = true;
      } else {
        break;
      }
    }
    dp += e * esign;
  }
  if (i !== end) return NumberStatus.SYNTAX;
  if (underscores && !underscoreOK(buf, start, end)) return NumberStatus.SYNTAX;

  if (!trunc && !underscores) {
    // Go's atof64exact: exact integer times or over an exact power of ten is correctly rounded.
    let f = neg ? -mant : mant;
    if (mant === 0) {
      numberResult[0] = f;
      return NumberStatus.OK;
    }
    let exp = dp - ndMant;
    if (exp === 0) {
      numberResult[0] = f;
      return NumberStatus.OK;
    }
    if (exp > 0 && exp <= 15 + 22) {
      if (exp > 22) {
        f *= POW10[exp - 22]!;
        exp = 22;
      }
      if (f <= 1e15 && f >= -1e15) {
        numberResult[0] = f * POW10[exp]!;
        return NumberStatus.OK;
      }
    } else if (exp < 0 && exp >= -22) {
      numberResult[0] = f / POW10[-exp]!;
      return NumberStatus.OK;
    }
  }
  return slowDecimal(buf, start, end);
}

const COLON = 0x3a;

/**
 * The common case of {@link parseFloatBytes} fused with the search for the value's end: an
 * optional `-`, then at most 15 decimal digits with at most one `.` among them, ending at a `:`
 * or at `end`. Returns where it stopped (`end`, or the index of that `:`) with the value in
 * `numberResult[0]`, or -1 for anything else, in which case the caller finds the end itself and
 * lets `parseFloatBytes` decide (it also covers every error).
 *
 * Exact: a mantissa below 10^15 is exact in a double, and dividing it by an exact power of ten
 * is correctly rounded, which is Go's own `atof64exact` path for these inputs.
 * @internal
 */
export function parseSimpleDecimal(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let neg = false;
  if (i < end && buf[i] === MINUS) {
    neg = true;
    i++;
  }
  let mant = 0;
  let digits = 0;
  let dot = -1;
  for (; i < end; i++) {
    const c = buf[i]!;
    const d = c - ZERO;
    if (d >= 0 && d <= 9) {
      mant = mant * 10 + d;
      digits++;
    } else if (c === DOT && dot < 0) {
      dot = i;
    } else if (c === COLON) {
      break;
    } else {
      return -1;
    }
  }
  if (digits === 0 || digits > 15) return -1;
  let f = mant;
  if (dot >= 0 && i - dot > 1) f = mant / POW10[i - dot - 1]!;
  numberResult[0] = neg ? -f : f;
  return i;
}

/** Long mantissas, large exponents, underscores: the grammar is already checked. */
function slowDecimal(buf: Uint8Array, start: number, end: number): NumberStatus {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c !== UNDERSCORE) s += String.fromCharCode(c);
  }
  const v = Number(s);
  numberResult[0] = v;
  return v === Infinity || v === -Infinity ? NumberStatus.RANGE : NumberStatus.OK;
}

/** Go's `special`: `inf`, `infinity` (signed or not, any case) and `nan` (unsigned, any case). */
function parseSpecial(buf: Uint8Array, i: number, end: number, neg: boolean, signed: boolean): NumberStatus {
  const n = end - i;
  if ((buf[i]! | 0x20) === 0x69) {
    if ((n === 3 && matchLower(buf, i, 'inf')) || (n === 8 && matchLower(buf, i, 'infinity'))) {
      numberResult[0] = neg ? -Infinity : Infinity;
      return NumberStatus.OK;
    }
    return NumberStatus.SYNTAX;
  }
  if (!signed && n === 3 && matchLower(buf, i, 'nan')) {
    numberResult[0] = NaN;
    return NumberStatus.OK;
  }
  return NumberStatus.SYNTAX;
}

function matchLower(buf: Uint8Array, i: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if ((buf[i + k]! | 0x20) !== word.charCodeAt(k)) return false;
  return true;
}

function hexDigit(c: number): number {
  if (c >= ZERO && c <= NINE) return c - ZERO;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/**
 * Hexadecimal floats (`0x1.8p3`): the `p` exponent is required. Rare, so exactness comes from
 * BigInt, with round-half-even to 53 bits (or fewer for subnormals) as Go's `atofHex`.
 */
function parseHex(buf: Uint8Array, start: number, from: number, end: number, neg: boolean): NumberStatus {
  let i = from;
  let mant = 0n;
  let sawDot = false;
  let sawDigits = false;
  let fracDigits = 0;
  let underscores = false;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c === UNDERSCORE) {
      underscores = true;
      continue;
    }
    if (c === DOT) {
      if (sawDot) break;
      sawDot = true;
      continue;
    }
    const d = hexDigit(c);
    if (d < 0) break;
    sawDigits = true;
    mant = (mant << 4n) | BigInt(d);
    if (sawDot) fracDigits++;
  }
  if (!sawDigits) return NumberStatus.SYNTAX;
  if (i >= end || (buf[i]! | 0x20) !== 0x70 /* p */) return NumberStatus.SYNTAX;
  i++;
  if (i >= end) return NumberStatus.SYNTAX;
  let esign = 1;
  if (buf[i] === PLUS) i++;
  else if (buf[i] === MINUS) {
    i++;
    esign = -1;
  }
  if (i >= end || buf[i]! < ZERO || buf[i]! > NINE) return NumberStatus.SYNTAX;
  let e = 0;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c >= ZERO && c <= NINE) {
      if (e < 10000) e = e * 10 + (c - ZERO);
    } else if (c === UNDERSCORE) {
      underscores = true;
    } else {
      break;
    }
  }
  if (i !== end) return NumberStatus.SYNTAX;
  if (underscores && !underscoreOK(buf, start, end)) return NumberStatus.SYNTAX;
  const v = hexToDouble(mant, e * esign - 4 * fracDigits);
  numberResult[0] = neg ? -v : v;
  return v === Infinity ? NumberStatus.RANGE : NumberStatus.OK;
}

/** mant × 2^exp2, correctly rounded (half to even) to a double; Infinity past the range. */
function hexToDouble(mant: bigint, exp2: number): number {
  if (mant === 0n) return 0;
  const len = mant.toString(2).length;
  const top = len - 1 + exp2; // exponent of the leading bit
  if (top > 1023) return Infinity;
  // Bits kept: 53 for normals, fewer below 2^-1022 (subnormals end at 2^-1074).
  const keep = top >= -1022 ? 53 : 53 - (-1022 - top);
  if (keep <= 0) {
    if (keep < 0) return 0;
    // Only the rounding bit is left: above half of 2^-1074 rounds up, exactly half to even (0).
    const half = 1n << BigInt(len - 1);
    return mant > half ? 2 ** -1074 : 0;
  }
  let q = mant;
  let shift = len - keep;
  if (shift > 0) {
    const s = BigInt(shift);
    q = mant >> s;
    const rem = mant & ((1n << s) - 1n);
    const half = 1n << (s - 1n);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  } else {
    shift = 0;
  }
  const scale = exp2 + shift;
  const a = Math.trunc(scale / 2);
  const v = Number(q) * 2 ** a * 2 ** (scale - a);
  return v;
}

/** Go's `underscoreOK`: underscores only between digits, or between a base prefix and a digit. */
function underscoreOK(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  if (i < end && (buf[i] === PLUS || buf[i] === MINUS)) i++;
  let saw = 0x5e; // '^' start, '0' digit or prefix, '_' underscore, '!' other
  let hex = false;
  if (end - i >= 2 && buf[i] === ZERO) {
    const l = buf[i + 1]! | 0x20;
    if (l === 0x62 || l === 0x6f || l === 0x78) {
      i += 2;
      saw = ZERO;
      hex = l === 0x78;
    }
  }
  for (; i < end; i++) {
    const c = buf[i]!;
    if ((c >= ZERO && c <= NINE) || (hex && hexDigit(c) >= 0)) {
      saw = ZERO;
      continue;
    }
    if (c === UNDERSCORE) {
      if (saw !== ZERO) return false;
      saw = UNDERSCORE;
      continue;
    }
    if (saw === UNDERSCORE) return false;
    saw = 0x21;
  }
  return saw !== UNDERSCORE;
}

const INT64_MAX = 9223372036854775807n;

/**
 * Parses `buf[start, end)` as Go's `strconv.ParseInt(s, 10, 64)` (and `Atoi`): an optional sign
 * and decimal digits, no underscores (base 10 is not base 0), range-checked to int64. The value
 * goes to `numberResult[0]` (exact up to 2^53).
 */
export function parseIntBytes(buf: Uint8Array, start: number, end: number): NumberStatus {
  let i = start;
  if (i >= end) return NumberStatus.SYNTAX;
  let neg = false;
  const c0 = buf[i]!;
  if (c0 === PLUS || c0 === MINUS) {
    neg = c0 === MINUS;
    i++;
    if (i >= end) return NumberStatus.SYNTAX;
  }
  const digitsStart = i;
  let v = 0;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < ZERO || c > NINE) return NumberStatus.SYNTAX;
    v = v * 10 + (c - ZERO);
  }
  // Past 15 digits a double accumulator rounds at every step; BigInt keeps it exact, and
  // Number() then rounds once, to the nearest double.
  if (end - digitsStart > 15) {
    let big = 0n;
    for (let k = digitsStart; k < end; k++) big = big * 10n + BigInt(buf[k]! - ZERO);
    if (big > INT64_MAX + (neg ? 1n : 0n)) {
      numberResult[0] = neg ? -9223372036854775808 : 9223372036854775807;
      return NumberStatus.RANGE;
    }
    v = Number(big);
  }
  // An int64 has no negative zero: "-0" is 0.
  numberResult[0] = neg && v !== 0 ? -v : v;
  return NumberStatus.OK;
}

const scratchEncoder = new TextEncoder();

/** Convenience: Go's `strconv.ParseFloat(s, 64)` on a string. */
export function goParseFloat(s: string): { value: number; error: null | 'syntax' | 'range' } {
  const bytes = scratchEncoder.encode(s);
  const st = parseFloatBytes(bytes, 0, bytes.length);
  if (st === NumberStatus.SYNTAX) return { value: 0, error: 'syntax' };
  return { value: numberResult[0]!, error: st === NumberStatus.RANGE ? 'range' : null };
}

/** Convenience: Go's `strconv.ParseInt(s, 10, 64)` on a string. */
export function goParseInt(s: string): { value: number; error: null | 'syntax' | 'range' } {
  const bytes = scratchEncoder.encode(s);
  const st = parseIntBytes(bytes, 0, bytes.length);
  if (st === NumberStatus.SYNTAX) return { value: 0, error: 'syntax' };
  return { value: numberResult[0]!, error: st === NumberStatus.RANGE ? 'range' : null };
}
