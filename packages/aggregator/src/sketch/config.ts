/**
 * The parameters of the Datadog Agent's DDSketch variant and its value ↔ key mapping.
 *
 * Ported from the Datadog Agent, `pkg/util/quantile/config.go` and `key.go` (earlier
 * `pkg/quantile/`; the same code is in `DataDog/opentelemetry-mapping-go` `pkg/quantile`),
 * Copyright 2016-present Datadog, Inc., Apache License 2.0. This is a re-implementation from
 * the agent's documented behaviour and tests, not a copy of its code.
 *
 * @remarks
 * The agent uses one default configuration for every DogStatsD distribution
 * (`agent.go`: `agentConfig = Default()`), so these are constants here, not options: a sketch
 * with other parameters would not be the agent's sketch, and the intake reads the keys with
 * these parameters.
 */

import { goLog, goPowInt, roundHalfEven } from './go-math.js';

/** `defaultEps` (config.go). The agent doubles it when it builds γ. */
const EPS = 1 / 128;
/** γ = 1 + 2·eps = 1.015625 (config.go `refresh`). */
const GAMMA = 1 + 2 * EPS;
/** ln γ, as the agent computes it: `math.Log1p(2·eps)`. V8's log1p gives the same bits. */
const LN_GAMMA = Math.log1p(2 * EPS);
/** `defaultMin` (config.go): the smallest magnitude with a non-zero key. */
const MIN_VALUE = 1e-9;
/** emin = floor(log_γ(min)) = -1337, and bias = 1 - emin = 1338, so that key(min) = 1. */
const EMIN = Math.floor(goLog(MIN_VALUE) / LN_GAMMA);
const BIAS = 1 - EMIN;
/** `defaultBinLimit` (config.go): bins kept before the lowest ones are collapsed. */
const BIN_LIMIT = 4096;
/**
 * The largest count one bin holds (bin.go `maxBinWidth = math.MaxUint16`). A larger count is
 * spread over several bins with the same key.
 */
const MAX_BIN_WIDTH = 65535;
/** Keys are int16 (key.go): ±32767 stand for ±Inf, so finite keys stop at ±32766. */
const INF_KEY = 32767;
const MAX_KEY = INF_KEY - 1;
/** `Config.MaxCount()`: binLimit · maxBinWidth. */
const MAX_COUNT = BIN_LIMIT * MAX_BIN_WIDTH;
/** Pending unit-weight keys an agent sketch buffers before it sorts them in (agent.go `agentBufCap`). */
const BUFFER_CAPACITY = 512;

/** γ^(k - bias) for a finite key k ≥ 1, with Go's `math.Pow` bits. */
function positiveLowerBound(k: number): number {
  return goPowInt(GAMMA, k - BIAS);
}

/** `norm.min` = γ^(1 - bias) ≈ 9.94e-10: the lower bound of key 1. Smaller magnitudes get key 0. */
const NORM_MIN = positiveLowerBound(1);
/** `norm.max` = γ^(maxKey - bias) ≈ 4.14e211: the lower bound of the largest finite key. */
const NORM_MAX = positiveLowerBound(MAX_KEY);

// Within this distance of a half-integer, V8's log might round to another key than Go's; there
// the key is recomputed with Go's algorithm. The two logs differ by at most a few ulps, which is
// below 1e-11 on log_γ(v) over the whole key range, so 1e-9 leaves a wide margin.
const NEAR_HALF = 1e-9;

/**
 * The agent's sketch parameters.
 *
 * @remarks
 * `eps` is the agent's `defaultEps`; the relative accuracy of the key mapping is
 * 1 − 1/√γ ≈ 0.77 % (see {@link sketchKey}), and of {@link AgentSketch.quantile} γ^1.5 − 1 ≈
 * 2.36 % (its interpolation can land anywhere in [γ^k, γ^(k+1)] for a value of key k).
 */
export const AGENT_SKETCH_CONFIG = Object.freeze({
  eps: EPS,
  gamma: GAMMA,
  lnGamma: LN_GAMMA,
  minValue: MIN_VALUE,
  emin: EMIN,
  bias: BIAS,
  binLimit: BIN_LIMIT,
  maxBinWidth: MAX_BIN_WIDTH,
  infKey: INF_KEY,
  maxKey: MAX_KEY,
  normMin: NORM_MIN,
  normMax: NORM_MAX,
  maxCount: MAX_COUNT,
  bufferCapacity: BUFFER_CAPACITY,
});

export type AgentSketchConfig = typeof AGENT_SKETCH_CONFIG;

export {
  GAMMA,
  LN_GAMMA,
  BIAS,
  BIN_LIMIT,
  MAX_BIN_WIDTH,
  INF_KEY,
  MAX_KEY,
  MAX_COUNT,
  BUFFER_CAPACITY,
  NORM_MIN,
  NORM_MAX,
};

function clampKey(i: number): number {
  if (i > MAX_KEY) return INF_KEY;
  // config.go: "this should not happen, but better be safe than sorry".
  if (i < 1) return 1;
  return i;
}

/** The key of a value ≥ 0 (config.go `key`, positive branch). */
function nonNegativeKey(v: number): number {
  // 0, magnitudes below norm.min and NaN all land here; the agent never maps NaN (it rejects
  // it first), so 0 is as good a key for it as any.
  if (!(v >= NORM_MIN)) return 0;
  const x = Math.log(v) / LN_GAMMA;
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5 - NEAR_HALF && d < 0.5 + NEAR_HALF) {
    // Close to a rounding boundary: use Go's log so the key is the agent's, bit for bit.
    return clampKey(roundHalfEven(goLog(v) / LN_GAMMA) + BIAS);
  }
  // Round half to even is plain rounding away from the exact half, checked above. +Inf gives
  // d = NaN and so f + 1 = +Inf, which clamps to the +Inf key.
  return clampKey((d < 0.5 ? f : f + 1) + BIAS);
}

/**
 * The agent's key for `v` (config.go `key`): `roundHalfEven(log_γ |v|) + bias`, negated for a
 * negative `v`.
 *
 * @remarks
 * - 0, -0 and magnitudes below `normMin` (≈ 9.94e-10) give key 0.
 * - A magnitude whose key would pass `maxKey` (32766), i.e. above ≈ 4.2e211, gives ±32767.
 * - NaN gives 0 and ±Inf give ±32767; the agent never maps them (its amd64 build would give 1
 *   and ±1 through an undefined float-to-int conversion), and {@link AgentSketch.insert}
 *   rejects them.
 *
 * Round half to even makes `sketchKey(sketchKeyLowerBound(k)) === k`, so every value of key k
 * lies in [γ^(k−bias−½), γ^(k−bias+½)] and `sketchKeyLowerBound(k)` is within 1 − 1/√γ ≈
 * 0.77 % of it (agent test `TestRelativeError`).
 *
 * Keys are the agent's bit for bit: V8's `Math.log` is used, and Go's algorithm takes over
 * where the two could round differently.
 */
export function sketchKey(v: number): number {
  // 0 - k, not -k: a negative value below norm.min gets key 0, not -0.
  if (v < 0) return 0 - nonNegativeKey(-v);
  return nonNegativeKey(v);
}

/**
 * The value the agent reads back for key `k` (config.go `f64` / `binLow`): γ^(k − bias), with
 * the sign of `k`; 0 for key 0 and ±Inf for ±32767.
 *
 * @remarks
 * The agent calls it the lower bound of the key. With round-half-even keys it is the bin's
 * centre in log space; the quantile interpolation still treats it as the low edge.
 */
export function sketchKeyLowerBound(k: number): number {
  if (k < 0) return -sketchKeyLowerBound(-k);
  if (k >= INF_KEY) return Infinity;
  if (k === 0) return 0;
  return positiveLowerBound(k);
}
