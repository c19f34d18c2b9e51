import { MetricType } from './types.js';

const EMPTY = new Uint8Array(0);

/**
 * One decoded metric line, as offsets into the packet. The codec reuses a single view for every
 * line: it is valid only during the visitor call that receives it. Copy what you keep.
 *
 * @remarks
 * Every field is initialised in the constructor so the object keeps one shape (V8 hidden class)
 * for its whole life. Offsets are absolute indices into `buf`; an absent optional range has
 * start = end = -1.
 */
export class MetricView {
  /** The packet the offsets point into. */
  buf: Uint8Array = EMPTY;
  lineStart = 0;
  lineEnd = 0;
  nameStart = 0;
  nameEnd = 0;
  type: MetricType = MetricType.GAUGE;
  /** Number of values in `values` (1 unless the line packs several, protocol v1.1). 0 for sets. */
  valueCount = 0;
  /** Values, valid in `[0, valueCount)`. Grows when a line packs many values. */
  values = new Float64Array(16);
  /** The raw set member, for `type === SET`. */
  setStart = -1;
  setEnd = -1;
  /** `|@rate`; 1 when absent. Not range-checked, as the agent. */
  sampleRate = 1;
  /** Number of tags in `tagStarts`/`tagEnds`. */
  tagCount = 0;
  tagStarts = new Uint32Array(32);
  tagEnds = new Uint32Array(32);
  /** `|T` Unix seconds (protocol v1.3); 0 when absent or not read. */
  timestamp = 0;
  /** `|c:` local data (protocol v1.2), read only with `originDetectionClient`. */
  containerIdStart = -1;
  containerIdEnd = -1;
  /** `|e:` external data. */
  externalDataStart = -1;
  externalDataEnd = -1;
  /** `|card:` cardinality. */
  cardinalityStart = -1;
  cardinalityEnd = -1;

  /** Number of samples this line counts for in `MetricPackets` (1 for a set). */
  get sampleCount(): number {
    return this.type === MetricType.SET ? 1 : this.valueCount;
  }

  /** @internal */
  pushTag(start: number, end: number): void {
    const n = this.tagCount;
    if (n === this.tagStarts.length) this.growTags();
    this.tagStarts[n] = start;
    this.tagEnds[n] = end;
    this.tagCount = n + 1;
  }

  /** @internal Doubles the tag arrays, keeping their contents. */
  growTags(): void {
    const n = this.tagStarts.length;
    const s = new Uint32Array(n * 2);
    s.set(this.tagStarts);
    this.tagStarts = s;
    const e = new Uint32Array(n * 2);
    e.set(this.tagEnds);
    this.tagEnds = e;
  }

  /** @internal */
  growValues(): void {
    const v = new Float64Array(this.values.length * 2);
    v.set(this.values);
    this.values = v;
  }
}
