/**
 * The agent sketch's sparse store: sorted (key, count) bins, how values are merged into them,
 * how a count too large for one bin is split, and how the lowest bins are collapsed past the
 * bin limit.
 *
 * Ported from the Datadog Agent, `pkg/util/quantile/store.go` and `bin.go` (earlier
 * `pkg/quantile/`), Copyright 2016-present Datadog, Inc., Apache License 2.0. Re-implemented
 * from the agent's behaviour and tests (`store_test.go`, `bin_test.go`); the bin layouts that
 * come out are the agent's, including where repeated keys appear.
 *
 * @remarks
 * Bins live in two parallel typed arrays (int16 keys, uint16 counts, as the agent's `bin`
 * struct). Every operation merges into one module-level scratch list and copies back, the way
 * the agent merges into a pooled `tmp` list: a sketch's own arrays stay as small as its bins,
 * and nothing is allocated once the scratch has grown. The scratch is safe to share because
 * every operation runs to completion synchronously on one thread (each worker has its own
 * module instance).
 */

import { MAX_BIN_WIDTH } from './config.js';

const EMPTY_KEYS = new Int16Array(0);
const EMPTY_COUNTS = new Uint16Array(0);

function capacityFor(n: number): number {
  let c = 8;
  while (c < n) c *= 2;
  return c;
}

/**
 * A growable list of bins: `keys[i]`, `counts[i]` for `i < length`, sorted by key, each
 * count in 1..65535 (a key repeats when its count passed 65535).
 */
export class BinList {
  keys: Int16Array;
  counts: Uint16Array;
  length = 0;

  constructor(capacity = 0) {
    this.keys = capacity > 0 ? new Int16Array(capacity) : EMPTY_KEYS;
    this.counts = capacity > 0 ? new Uint16Array(capacity) : EMPTY_COUNTS;
  }

  /** Makes room for `n` bins, keeping the current ones. Allocates only when it grows. */
  reserve(n: number): void {
    if (n <= this.keys.length) return;
    const cap = capacityFor(n);
    const keys = new Int16Array(cap);
    const counts = new Uint16Array(cap);
    keys.set(this.keys);
    counts.set(this.counts);
    this.keys = keys;
    this.counts = counts;
  }

  /** Appends one bin; `n` must be 1..65535. */
  push(k: number, n: number): void {
    if (this.length === this.keys.length) this.reserve(this.length + 1);
    this.keys[this.length] = k;
    this.counts[this.length] = n;
    this.length++;
  }

  /**
   * bin.go `appendSafe`: appends `n` ≥ 1 at key `k`, over several bins when `n` > 65535. The
   * remainder bin comes first and the full bins after it, as in the agent: 65536 becomes
   * `k:1 k:65535`, 131070 becomes `k:65535 k:65535`.
   */
  appendSafe(k: number, n: number): void {
    if (n <= MAX_BIN_WIDTH) {
      this.push(k, n);
      return;
    }
    const full = Math.floor(n / MAX_BIN_WIDTH);
    const r = n - full * MAX_BIN_WIDTH;
    this.reserve(this.length + full + 1);
    if (r !== 0) this.push(k, r);
    for (let i = 0; i < full; i++) this.push(k, MAX_BIN_WIDTH);
  }

  /**
   * bin.go `incrSafe`: adds `by` to bin `i` up to 65535 and returns what did not fit.
   */
  incrSafe(i: number, by: number): number {
    const next = this.counts[i]! + by;
    if (next > MAX_BIN_WIDTH) {
      this.counts[i] = MAX_BIN_WIDTH;
      return next - MAX_BIN_WIDTH;
    }
    this.counts[i] = next;
    return 0;
  }

  /**
   * store.go `trimLeft`: keeps at most `maxBins` bins by folding the lowest ones into the
   * first bin that stays. `maxBins` 0 means no limit.
   *
   * @remarks
   * The folded counts are added to bin `length − maxBins`. Whenever the running total of
   * folded counts passes 65535, a full bin is kept at the key where that happened, and a
   * remainder that does not fit the receiving bin goes in one more bin at its key. So the result
   * can hold more than `maxBins` bins (at most one more per 65535 values folded), and the sum of
   * the counts never changes. Writes never overtake reads (the k-th kept bin is written only
   * after bin k has been read), so this works in place.
   */
  trimLeft(maxBins: number): void {
    const len = this.length;
    if (maxBins === 0 || len <= maxBins) return;
    const keys = this.keys;
    const counts = this.counts;
    const nRemove = len - maxBins;
    let missing = 0;
    let out = 0;
    for (let i = 0; i < nRemove; i++) {
      missing += counts[i]!;
      if (missing > MAX_BIN_WIDTH) {
        keys[out] = keys[i]!;
        counts[out] = MAX_BIN_WIDTH;
        out++;
        missing -= MAX_BIN_WIDTH;
      }
    }
    missing = this.incrSafe(nRemove, missing);
    if (missing > 0) {
      // missing ≤ 65535 here, so this is one bin, at an index below nRemove.
      keys[out] = keys[nRemove]!;
      counts[out] = missing;
      out++;
    }
    keys.copyWithin(out, nRemove, len);
    counts.copyWithin(out, nRemove, len);
    this.length = out + (len - nRemove);
  }

  /** Replaces the bins with a copy of `o`'s. */
  copyFrom(o: BinList): void {
    const n = o.length;
    this.length = 0;
    this.reserve(n);
    const keys = this.keys;
    const counts = this.counts;
    const ok = o.keys;
    const oc = o.counts;
    for (let i = 0; i < n; i++) {
      keys[i] = ok[i]!;
      counts[i] = oc[i]!;
    }
    this.length = n;
  }

  /** Sum of the counts (bin.go `nSum`). */
  countSum(): number {
    let s = 0;
    for (let i = 0; i < this.length; i++) s += this.counts[i]!;
    return s;
  }
}

// Radix sort scratch for sortKeys: two byte histograms and one buffer of keys.
const radixCounts = new Uint32Array(512);
let radixBuf = new Int16Array(512);

/**
 * Sorts `keys[0, n)` ascending in place.
 *
 * @remarks
 * The agent sorts its key buffer with `slices.Sort`; only the grouping of equal keys matters
 * to the bins, so any correct sort gives the agent's result. Two byte-wise counting passes over
 * the keys (offset to unsigned 16 bits) cost a few nanoseconds a key, where
 * `Int16Array.prototype.sort` costs about 30 on a 512-key buffer.
 */
export function sortKeys(keys: Int16Array, n: number): void {
  if (n < 2) return;
  if (radixBuf.length < n) radixBuf = new Int16Array(n);
  const buf = radixBuf;
  const counts = radixCounts;
  counts.fill(0);
  for (let i = 0; i < n; i++) {
    const u = keys[i]! + 32768;
    counts[u & 0xff]!++;
    counts[256 + (u >>> 8)]!++;
  }
  // Prefix sums turn the histograms into start offsets.
  let lo = 0;
  let hi = 0;
  for (let b = 0; b < 256; b++) {
    const cl = counts[b]!;
    counts[b] = lo;
    lo += cl;
    const ch = counts[256 + b]!;
    counts[256 + b] = hi;
    hi += ch;
  }
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    buf[counts[(k + 32768) & 0xff]!++] = k;
  }
  for (let i = 0; i < n; i++) {
    const k = buf[i]!;
    keys[counts[256 + ((k + 32768) >>> 8)]!++] = k;
  }
}

/** The shared merge target; see the module comment. */
const scratch = new BinList(64);

/** Copies the bins of `s` from index `from` while their key is below `untilKey`; returns the next index. */
function copyBelow(s: BinList, from: number, untilKey: number): number {
  let i = from;
  const n = s.length;
  const keys = s.keys;
  while (i < n && keys[i]! < untilKey) {
    scratch.push(keys[i]!, s.counts[i]!);
    i++;
  }
  return i;
}

function copyRest(s: BinList, from: number): void {
  const n = s.length;
  scratch.reserve(scratch.length + (n - from));
  for (let i = from; i < n; i++) scratch.push(s.keys[i]!, s.counts[i]!);
}

function finishInto(bins: BinList, binLimit: number): void {
  scratch.trimLeft(binLimit);
  bins.copyFrom(scratch);
}

/**
 * store.go `insert`: merges `n` keys, sorted ascending, into `bins`, then trims to `binLimit`.
 *
 * @remarks
 * A run of equal keys is added to the first bin with that key (splitting it if it passes
 * 65535); the caller adds `n` to the sketch's count.
 */
export function insertSortedKeys(bins: BinList, keys: Int16Array, n: number, binLimit: number): void {
  scratch.length = 0;
  scratch.reserve(bins.length + n);
  let si = 0;
  let ki = 0;
  const bl = bins.length;
  const bk = bins.keys;
  const bc = bins.counts;
  while (si < bl && ki < n) {
    const b = bk[si]!;
    const vk = keys[ki]!;
    if (b < vk) {
      scratch.push(b, bc[si]!);
      si++;
      continue;
    }
    // bufCountLeadingEqual: equal keys go into the same bin.
    let run = ki + 1;
    while (run < n && keys[run] === vk) run++;
    const kn = run - ki;
    if (b > vk) {
      scratch.appendSafe(vk, kn);
    } else {
      scratch.appendSafe(b, bc[si]! + kn);
      si++;
    }
    ki = run;
  }
  copyRest(bins, si);
  while (ki < n) {
    const vk = keys[ki]!;
    let run = ki + 1;
    while (run < n && keys[run] === vk) run++;
    scratch.appendSafe(vk, run - ki);
    ki = run;
  }
  finishInto(bins, binLimit);
}

/**
 * store.go `insertCounts`: merges `n` (key, count) pairs, sorted ascending by key, into
 * `bins`, then trims to `binLimit`. Returns the total count added.
 *
 * @remarks
 * Unlike {@link insertSortedKeys}, pairs with the same key are not combined: the first one
 * is added to the first bin of that key and the next ones become new bins, as in the agent.
 * The agent's callers never pass repeated keys (a sampled insert flushes one pair, an
 * interpolation passes distinct keys).
 */
export function insertCounts(
  bins: BinList,
  keys: Int16Array,
  counts: Float64Array,
  n: number,
  binLimit: number,
): number {
  let added = 0;
  scratch.length = 0;
  scratch.reserve(bins.length + n);
  let si = 0;
  let ki = 0;
  const bl = bins.length;
  const bk = bins.keys;
  const bc = bins.counts;
  while (si < bl && ki < n) {
    const b = bk[si]!;
    const vk = keys[ki]!;
    const kn = counts[ki]!;
    if (b < vk) {
      scratch.push(b, bc[si]!);
      si++;
    } else if (b > vk) {
      scratch.appendSafe(vk, kn);
      added += kn;
      ki++;
    } else {
      scratch.appendSafe(b, bc[si]! + kn);
      added += kn;
      si++;
      ki++;
    }
  }
  copyRest(bins, si);
  for (; ki < n; ki++) {
    const kn = counts[ki]!;
    scratch.appendSafe(keys[ki]!, kn);
    added += kn;
  }
  finishInto(bins, binLimit);
  return added;
}

/**
 * {@link insertCounts} for one pair, in place: the same bins as the agent's merge, found by
 * binary search and shifted with `copyWithin` instead of rebuilt.
 *
 * @remarks
 * A sampled insert flushes exactly one pair, so without this every sampled value would cost
 * a pass over all the bins (up to 4096), as it does in the agent.
 */
export function insertOneCount(bins: BinList, k: number, kn: number, binLimit: number): void {
  const len = bins.length;
  let lo = 0;
  let hi = len;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bins.keys[mid]! < k) lo = mid + 1;
    else hi = mid;
  }
  const at = lo;
  // The agent adds the pair to the first bin with its key, if there is one.
  const replaced = at < len && bins.keys[at] === k ? 1 : 0;
  const n = replaced === 1 ? bins.counts[at]! + kn : kn;
  if (n <= MAX_BIN_WIDTH && replaced === 1) {
    bins.counts[at] = n;
  } else {
    // appendSafe's layout: the remainder bin first, then the full bins.
    const full = n <= MAX_BIN_WIDTH ? 0 : Math.floor(n / MAX_BIN_WIDTH);
    const r = n - full * MAX_BIN_WIDTH;
    const added = full + (r !== 0 ? 1 : 0);
    const newLen = len - replaced + added;
    bins.reserve(newLen);
    const keys = bins.keys;
    const counts = bins.counts;
    keys.copyWithin(at + added, at + replaced, len);
    counts.copyWithin(at + added, at + replaced, len);
    let w = at;
    if (r !== 0) {
      keys[w] = k;
      counts[w] = r;
      w++;
    }
    for (let j = 0; j < full; j++, w++) {
      keys[w] = k;
      counts[w] = MAX_BIN_WIDTH;
    }
    bins.length = newLen;
  }
  bins.trimLeft(binLimit);
}

/**
 * store.go `merge`: merges the bins of `o` into `bins`, then trims to `binLimit`. `o` is not
 * changed and may be `bins` itself.
 *
 * @remarks
 * Bins are paired in order: the first bin of a key in `o` is added to the first bin of that key
 * in `bins`, the second to the second, and so on; unpaired bins are copied.
 */
export function mergeBins(bins: BinList, o: BinList, binLimit: number): void {
  scratch.length = 0;
  scratch.reserve(bins.length + o.length);
  let si = 0;
  const bl = bins.length;
  const ol = o.length;
  const ok = o.keys;
  const oc = o.counts;
  for (let oi = 0; oi < ol; oi++) {
    const k = ok[oi]!;
    si = copyBelow(bins, si, k);
    if (si >= bl || bins.keys[si]! > k) {
      scratch.push(k, oc[oi]!);
    } else {
      scratch.appendSafe(k, oc[oi]! + bins.counts[si]!);
      si++;
    }
  }
  copyRest(bins, si);
  finishInto(bins, binLimit);
}
