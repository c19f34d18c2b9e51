/**
 * The DDSketch the trace-agent's APM stats use for duration distributions:
 * `LogCollapsingLowestDenseDDSketch(0.01, 2048)` of `DataDog/sketches-go`, serialised as the
 * `DDSketch` protobuf message the stats payload carries in `OkSummary` / `ErrorSummary`.
 *
 * @remarks
 * Facts restated from `DataDog/sketches-go` (Apache-2.0): `ddsketch/mapping/logarithmic_mapping.go`
 * (multiplier `1 / log1p(2a / (1 - a))`, index `floor(ln(v) * multiplier)` computed as Go's
 * `int(x)` for `x >= 0` and `int(x) - 1` below, value `exp(index / multiplier) * (1 + a)`,
 * `gamma = (1 + a) / (1 - a)` in the proto, the min/max indexable values),
 * `ddsketch/store/collapsing_lowest_dense_store.go` and `dense_store.go` (a window of at most
 * 2048 contiguous indexes; lower indexes fold into the lowest bin, and once folded the store
 * never extends downwards again; the proto holds the contiguous counts from the lowest to the
 * highest index), `ddsketch/ddsketch.go` (`AddWithCount`, `GetValueAtQuantile`, `ToProto`) and
 * `ddsketch/pb/ddsketch.proto` (field numbers). `pkg/trace/stats/statsraw.go` of
 * `DataDog/datadog-agent` fixes relative accuracy 0.01 and 2048 bins.
 *
 * `@datadog/sketches-js` does not fit: its mapping uses `ceil` where sketches-go uses `floor`, so
 * every index is one higher than the agent's, and the intake would read each duration about
 * 2 % too high.
 */

/** The relative accuracy of the agent's stats sketches (`relativeAccuracy`). */
export const RELATIVE_ACCURACY = 0.01;
/** The most bins a store keeps (`maxNumBins`). */
export const MAX_NUM_BINS = 2048;

const EXP_OVERFLOW = 7.094361393031e2;
const MIN_NORMAL_FLOAT64 = 2.2250738585072014e-308;
const MIN_INT32 = -2147483648;
const MAX_INT32 = 2147483647;

/** A sketches-go `LogarithmicMapping`. */
export class LogarithmicMapping {
  readonly relativeAccuracy: number;
  readonly multiplier: number;
  readonly indexOffset: number;
  readonly gamma: number;
  readonly minIndexableValue: number;
  readonly maxIndexableValue: number;

  constructor(relativeAccuracy: number, indexOffset = 0, multiplier?: number) {
    this.relativeAccuracy = relativeAccuracy;
    this.multiplier = multiplier ?? 1 / Math.log1p((2 * relativeAccuracy) / (1 - relativeAccuracy));
    this.indexOffset = indexOffset;
    this.gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
    this.minIndexableValue = Math.max(
      Math.exp((MIN_INT32 - indexOffset) / this.multiplier + 1),
      (MIN_NORMAL_FLOAT64 * (1 + relativeAccuracy)) / (1 - relativeAccuracy),
    );
    this.maxIndexableValue = Math.min(Math.exp((MAX_INT32 - indexOffset) / this.multiplier - 1), Math.exp(EXP_OVERFLOW) / (1 + relativeAccuracy));
  }

  /** The mapping a protobuf `IndexMapping{gamma, indexOffset}` describes (`NewLogarithmicMappingWithGamma`). */
  static fromGamma(gamma: number, indexOffset: number): LogarithmicMapping {
    return new LogarithmicMapping(1 - 2 / (1 + gamma), indexOffset, 1 / Math.log(gamma));
  }

  index(value: number): number {
    const x = Math.log(value) * this.multiplier + this.indexOffset;
    // Go's int(x) truncates; for negative x the agent subtracts one more (so -2.0 gives -3).
    return x >= 0 ? Math.trunc(x) : Math.trunc(x) - 1;
  }

  value(index: number): number {
    return Math.exp((index - this.indexOffset) / this.multiplier) * (1 + this.relativeAccuracy);
  }
}

/** A sketches-go `CollapsingLowestDenseStore`: counts by index over a window of at most `maxNumBins` indexes. */
export class CollapsingLowestDenseStore {
  readonly maxNumBins: number;
  /** Counts, by `index mod maxNumBins` (the window never spans more than `maxNumBins` indexes). */
  private readonly bins: Float64Array;
  count = 0;
  minIndex = 0;
  maxIndex = -1;
  collapsed = false;

  constructor(maxNumBins = MAX_NUM_BINS) {
    this.maxNumBins = maxNumBins;
    this.bins = new Float64Array(maxNumBins);
  }

  get isEmpty(): boolean {
    return this.count === 0;
  }

  private slot(index: number): number {
    const m = this.maxNumBins;
    return ((index % m) + m) % m;
  }

  /** The count at `index` (0 outside the window). */
  get(index: number): number {
    return index < this.minIndex || index > this.maxIndex || this.isEmpty ? 0 : this.bins[this.slot(index)]!;
  }

  add(index: number, count: number): void {
    if (count === 0) return;
    const m = this.maxNumBins;
    const bins = this.bins;
    if (this.isEmpty) {
      this.minIndex = index;
      this.maxIndex = index;
      bins[this.slot(index)] = 0;
    } else if (index < this.minIndex) {
      if (this.collapsed) index = this.minIndex;
      else {
        // Extend downwards, but never past a window of m indexes: below it, values fold into
        // the lowest index and the store is collapsed for good.
        const newMin = Math.max(index, this.maxIndex - m + 1);
        for (let i = newMin; i < this.minIndex; i++) bins[this.slot(i)] = 0;
        this.minIndex = newMin;
        if (newMin > index) {
          this.collapsed = true;
          index = newMin;
        }
      }
    } else if (index > this.maxIndex) {
      // Extend upwards; when the window gets wider than m, the lowest indexes fold into the new
      // lowest one (all of them when it is above the old highest).
      const newMin = Math.max(this.minIndex, index - m + 1);
      let folded = 0;
      if (newMin > this.minIndex) {
        const stop = Math.min(newMin, this.maxIndex + 1);
        for (let i = this.minIndex; i < stop; i++) folded += bins[this.slot(i)]!;
      }
      const base = newMin <= this.maxIndex ? bins[this.slot(newMin)]! : 0;
      for (let i = Math.max(this.maxIndex + 1, index - m + 1); i <= index; i++) bins[this.slot(i)] = 0;
      if (newMin > this.minIndex) {
        bins[this.slot(newMin)] = base + folded;
        this.minIndex = newMin;
        this.collapsed = true;
      }
      this.maxIndex = index;
    }
    const s = this.slot(index);
    bins[s] = bins[s]! + count;
    this.count += count;
  }

  /** The index holding the value of rank `rank` (`KeyAtRank`). */
  keyAtRank(rank: number): number {
    let n = 0;
    for (let i = this.minIndex; i <= this.maxIndex; i++) {
      n += this.bins[this.slot(i)]!;
      if (n > rank) return i;
    }
    return this.maxIndex;
  }

  /** The contiguous counts from the lowest to the highest index. */
  contiguous(): Float64Array {
    if (this.isEmpty) return new Float64Array(0);
    const out = new Float64Array(this.maxIndex - this.minIndex + 1);
    for (let i = this.minIndex; i <= this.maxIndex; i++) out[i - this.minIndex] = this.bins[this.slot(i)]!;
    return out;
  }
}

/** Writes a protobuf varint of a value in `[0, 2^32)`. */
function varint(out: number[], v: number): void {
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
}

function double(out: number[], v: number): void {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleLE(v, 0);
  for (let i = 0; i < 8; i++) out.push(b[i]!);
}

/** `Store` message: `contiguousBinCounts = 2` (packed doubles), `contiguousBinIndexOffset = 3` (sint32); zero values omitted. */
function storeMessage(store: CollapsingLowestDenseStore): number[] {
  const out: number[] = [];
  if (store.isEmpty) return out;
  const bins = store.contiguous();
  out.push(0x12);
  varint(out, bins.length * 8);
  for (let i = 0; i < bins.length; i++) double(out, bins[i]!);
  if (store.minIndex !== 0) {
    out.push(0x18);
    const z = ((store.minIndex << 1) ^ (store.minIndex >> 31)) >>> 0;
    varint(out, z);
  }
  return out;
}

/**
 * A DDSketch with a logarithmic mapping and collapsing-lowest dense stores, as
 * `ddsketch.LogCollapsingLowestDenseDDSketch(0.01, 2048)` builds it.
 *
 * @example
 * ```ts
 * const sketch = new DDSketch();
 * for (const d of durations) sketch.add(d);
 * sketch.getValueAtQuantile(0.99); // within 1 % of the true p99
 * const bytes = sketch.toProto(); // ClientGroupedStats.OkSummary
 * ```
 */
export class DDSketch {
  readonly mapping: LogarithmicMapping;
  readonly positive: CollapsingLowestDenseStore;
  readonly negative: CollapsingLowestDenseStore;
  zeroCount = 0;

  constructor(relativeAccuracy = RELATIVE_ACCURACY, maxNumBins = MAX_NUM_BINS, mapping?: LogarithmicMapping) {
    this.mapping = mapping ?? new LogarithmicMapping(relativeAccuracy);
    this.positive = new CollapsingLowestDenseStore(maxNumBins);
    this.negative = new CollapsingLowestDenseStore(maxNumBins);
  }

  /** Adds a value; false (and nothing added) when it is outside the trackable range or the count is negative, as `AddWithCount` errors. */
  add(value: number, count = 1): boolean {
    const m = this.mapping;
    if (!(value >= -m.maxIndexableValue && value <= m.maxIndexableValue) || !(count >= 0)) return false;
    if (value > m.minIndexableValue) this.positive.add(m.index(value), count);
    else if (value < -m.minIndexableValue) this.negative.add(m.index(-value), count);
    else this.zeroCount += count;
    return true;
  }

  get count(): number {
    return this.zeroCount + this.positive.count + this.negative.count;
  }

  /** `GetValueAtQuantile`: NaN for an empty sketch or a quantile outside [0, 1]. */
  getValueAtQuantile(q: number): number {
    if (!(q >= 0 && q <= 1)) return NaN;
    const count = this.count;
    if (count === 0) return NaN;
    const rank = q * (count - 1);
    const neg = this.negative.count;
    if (rank < neg) return -this.mapping.value(this.negative.keyAtRank(neg - 1 - rank));
    if (rank < this.zeroCount + neg) return 0;
    return this.mapping.value(this.positive.keyAtRank(rank - this.zeroCount - neg));
  }

  /**
   * The protobuf `DDSketch` bytes, as Go's `proto.Marshal(sketch.ToProto())` writes them:
   * `mapping = 1` {`gamma = 1`, `indexOffset = 2` and `interpolation = 3` omitted when 0},
   * `positiveValues = 2`, `negativeValues = 3` (always present, empty when no value),
   * `zeroCount = 4` (omitted when 0).
   */
  toProto(): Uint8Array {
    const out: number[] = [];
    const mapping: number[] = [0x09];
    double(mapping, this.mapping.gamma);
    if (this.mapping.indexOffset !== 0) {
      mapping.push(0x11);
      double(mapping, this.mapping.indexOffset);
    }
    out.push(0x0a);
    varint(out, mapping.length);
    for (const b of mapping) out.push(b);
    const pos = storeMessage(this.positive);
    out.push(0x12);
    varint(out, pos.length);
    for (const b of pos) out.push(b);
    const neg = storeMessage(this.negative);
    out.push(0x1a);
    varint(out, neg.length);
    for (const b of neg) out.push(b);
    if (this.zeroCount !== 0) {
      out.push(0x21);
      double(out, this.zeroCount);
    }
    return Uint8Array.from(out);
  }

  /**
   * Reads `DDSketch` protobuf bytes back (logarithmic mappings only; binCounts maps and
   * contiguous counts both read). Null when the bytes are not a DDSketch. Never throws.
   */
  static fromProto(bytes: Uint8Array, maxNumBins = MAX_NUM_BINS): DDSketch | null {
    const r = new MiniReader(bytes);
    let gamma = 0;
    let offset = 0;
    let interpolation = 0;
    const pos: [number, number][] = [];
    const neg: [number, number][] = [];
    let zero = 0;
    while (r.more()) {
      const key = r.varint();
      if (key < 0) return null;
      const f = Math.floor(key / 8);
      const wt = key % 8;
      if (f === 1 && wt === 2) {
        const end = r.enter();
        if (end < 0) return null;
        while (r.pos < end) {
          const k = r.varint();
          if (k === 0x09) gamma = r.double();
          else if (k === 0x11) offset = r.double();
          else if (k === 0x18) interpolation = r.varint();
          else if (!r.skip(k % 8)) return null;
          if (r.failed) return null;
        }
      } else if ((f === 2 || f === 3) && wt === 2) {
        if (!readStore(r, f === 2 ? pos : neg)) return null;
      } else if (f === 4 && wt === 1) zero = r.double();
      else if (!r.skip(wt)) return null;
      if (r.failed) return null;
    }
    if (!(gamma > 1) || interpolation !== 0) return null;
    const sketch = new DDSketch(RELATIVE_ACCURACY, maxNumBins, LogarithmicMapping.fromGamma(gamma, offset));
    for (const [i, c] of pos) sketch.positive.add(i, c);
    for (const [i, c] of neg) sketch.negative.add(i, c);
    sketch.zeroCount = zero;
    return sketch;
  }
}

function readStore(r: MiniReader, out: [number, number][]): boolean {
  const end = r.enter();
  if (end < 0) return false;
  const contiguous: number[] = [];
  let offset = 0;
  while (r.pos < end) {
    const k = r.varint();
    if (k === 0x0a) {
      // binCounts map entry {key = 1 sint32, value = 2 double}
      const e = r.enter();
      if (e < 0) return false;
      let idx = 0;
      let cnt = 0;
      while (r.pos < e) {
        const kk = r.varint();
        if (kk === 0x08) idx = unzigzag(r.varint());
        else if (kk === 0x11) cnt = r.double();
        else if (!r.skip(kk % 8)) return false;
        if (r.failed) return false;
      }
      out.push([idx, cnt]);
    } else if (k === 0x12) {
      const e = r.enter();
      if (e < 0) return false;
      while (r.pos < e) contiguous.push(r.double());
    } else if (k === 0x11) contiguous.push(r.double());
    else if (k === 0x18) offset = unzigzag(r.varint());
    else if (!r.skip(k % 8)) return false;
    if (r.failed) return false;
  }
  for (let i = 0; i < contiguous.length; i++) if (contiguous[i]! > 0) out.push([offset + i, contiguous[i]!]);
  return true;
}

function unzigzag(n: number): number {
  return (n >>> 1) ^ -(n & 1);
}

/** The few protobuf reads `fromProto` needs; failures set `failed` instead of throwing. */
class MiniReader {
  pos = 0;
  failed = false;
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  more(): boolean {
    return !this.failed && this.pos < this.buf.length;
  }
  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) break;
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) return i < 5 ? v % 4294967296 : v;
    }
    this.failed = true;
    return -1;
  }
  double(): number {
    if (this.pos + 8 > this.buf.length) {
      this.failed = true;
      return 0;
    }
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  enter(): number {
    const len = this.varint();
    if (len < 0 || this.pos + len > this.buf.length) {
      this.failed = true;
      return -1;
    }
    return this.pos + len;
  }
  skip(wt: number): boolean {
    if (wt === 0) return this.varint() >= 0;
    if (wt === 1) {
      this.pos += 8;
    } else if (wt === 2) {
      const e = this.enter();
      if (e < 0) return false;
      this.pos = e;
    } else if (wt === 5) this.pos += 4;
    else {
      this.failed = true;
      return false;
    }
    if (this.pos > this.buf.length) this.failed = true;
    return !this.failed;
  }
}
