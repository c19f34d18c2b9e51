import type { Series, SeriesApiType, SeriesOrigin, SeriesPoint } from '@kennel/core';

/**
 * A shard's flushed series, flattened for the trip from its worker thread to the main thread:
 * every string once in a few long texts, numbers in typed arrays.
 *
 * @remarks Posting `Series[]` itself costs 7 to 20 µs a series (the structured clone writes and
 * reads every object's keys, one by one): 20 s for a flush of 1,000,000 contexts, longer than
 * the 15 s flush interval, and about 1 GB more RSS. This form posts in about 80 ms for the same
 * flush and is turned back into objects in about 1 s.
 */
export interface SeriesWire {
  /** Every string in order of first use, concatenated; a new chunk starts past {@link CHUNK_CHARS}. */
  readonly text: readonly string[];
  /** Strings in each chunk of `text`. */
  readonly chunkStrings: Uint32Array;
  /** Length of each string (UTF-16 code units). */
  readonly lens: Uint32Array;
  /** Tag lists in order of first use: the count, then that many string indexes. */
  readonly tagLists: Uint32Array;
  /**
   * Per series: name, host, tag list (indexes), type (0 gauge, 1 rate, 2 count), interval,
   * origin (index into `origins`, or -1 for none), point count, then timestamp and value of
   * each point. A record starting with -1 - i is `rest[i]`.
   */
  readonly records: Float64Array;
  readonly origins: readonly SeriesOrigin[];
  /** Series with fields the flat form does not carry (device, unit, resources, ...), posted as they are. */
  readonly rest: readonly Series[];
  readonly count: number;
}

/** Longest text chunk (V8 strings stop at 2^29 - 24 characters). */
const CHUNK_CHARS = 1 << 26;
const TYPES: readonly SeriesApiType[] = ['gauge', 'rate', 'count'];
/** `type` of {@link SeriesWireWriter.head}. */
export const TYPE_CODE: Readonly<Record<SeriesApiType, number>> = { gauge: 0, rate: 1, count: 2 };
const HEAD = 7;

/** True when the flat form carries every field of `s`. */
function flat(s: Series): boolean {
  return s.device === undefined && s.sourceTypeName === undefined && s.unit === undefined && s.resources === undefined && TYPE_CODE[s.type] !== undefined;
}

/**
 * Builds a {@link SeriesWire} one series at a time: whole `Series` objects ({@link add}), or a
 * shard's own parts ({@link head} then {@link point} per point) so that a flush of a million
 * contexts never makes a million objects in the worker either.
 */
export class SeriesWireWriter {
  private records = new Float64Array(1024);
  private o = 0;
  private count = 0;
  private lens = new Uint32Array(1024);
  private nStrings = 0;
  private readonly text: string[] = [];
  private readonly chunkStrings: number[] = [];
  private parts: string[] = [];
  private used = 0;
  private readonly chunkChars: number;
  private readonly stringIndex = new Map<string, number>();
  private readonly suffixedIndex = new Map<number, number>();
  private readonly tagListIndex = new Map<readonly string[], number>();
  private tagLists = new Uint32Array(1024);
  private nTagWords = 0;
  private readonly origins: SeriesOrigin[] = [];
  private readonly originIndex = new Map<SeriesOrigin, number>();
  private readonly rest: Series[] = [];

  constructor(chunkChars = CHUNK_CHARS) {
    this.chunkChars = chunkChars;
  }

  private room(n: number): void {
    if (this.o + n <= this.records.length) return;
    let size = this.records.length * 2;
    while (size < this.o + n) size *= 2;
    const r = new Float64Array(size);
    r.set(this.records.subarray(0, this.o));
    this.records = r;
  }

  /** Makes room for `records` more record numbers (a series takes 7 + 2 a point) at once. */
  reserve(records: number): void {
    this.room(records);
  }

  private static grow(a: Uint32Array<ArrayBuffer>, need: number): Uint32Array<ArrayBuffer> {
    if (need <= a.length) return a;
    let size = a.length * 2;
    while (size < need) size *= 2;
    const b = new Uint32Array(size);
    b.set(a);
    return b;
  }

  private addString(v: string): number {
    if (this.used + v.length > this.chunkChars && this.parts.length > 0) {
      this.text.push(this.parts.join(''));
      this.chunkStrings.push(this.parts.length);
      this.parts = [];
      this.used = 0;
    }
    this.parts.push(v);
    this.used += v.length;
    if (this.nStrings === this.lens.length) this.lens = SeriesWireWriter.grow(this.lens, this.nStrings + 1);
    this.lens[this.nStrings] = v.length;
    return this.nStrings++;
  }

  /** A name or host: each distinct one is sent once. */
  shared(v: string): number {
    let i = this.stringIndex.get(v);
    if (i === undefined) this.stringIndex.set(v, (i = this.addString(v)));
    return i;
  }

  /** `shared(base + suffix)`, without building the string again for every context (`suffixId` < 63). */
  suffixed(baseIndex: number, base: string, suffixId: number, suffix: string): number {
    const key = baseIndex * 64 + suffixId;
    let i = this.suffixedIndex.get(key);
    if (i === undefined) this.suffixedIndex.set(key, (i = this.shared(base + suffix)));
    return i;
  }

  /** A tag list: the lists of a context's series are one array, sent once. */
  tagList(tags: readonly string[]): number {
    let tl = this.tagListIndex.get(tags);
    if (tl === undefined) this.tagListIndex.set(tags, (tl = this.newTagList(tags)));
    return tl;
  }

  /** A tag list the caller knows is new (a shard keeps its own index per context). */
  newTagList(tags: readonly string[]): number {
    const tl = this.nTagWords;
    this.tagLists = SeriesWireWriter.grow(this.tagLists, tl + 1 + tags.length);
    this.tagLists[tl] = tags.length;
    for (let i = 0; i < tags.length; i++) this.tagLists[tl + 1 + i] = this.addString(tags[i]!);
    this.nTagWords = tl + 1 + tags.length;
    return tl;
  }

  private origin(o: SeriesOrigin | undefined): number {
    if (o === undefined) return -1;
    let i = this.originIndex.get(o);
    if (i === undefined) {
      i = this.origins.length;
      this.origins.push(o);
      this.originIndex.set(o, i);
    }
    return i;
  }

  /** Starts a series from its parts (indexes from {@link shared}, {@link suffixed}, {@link tagList}); `points` calls to {@link point} follow. */
  head(name: number, host: number, tagList: number, type: number, interval: number, origin: SeriesOrigin | undefined, points: number): void {
    this.room(HEAD + 2 * points);
    const r = this.records;
    const o = this.o;
    r[o] = name;
    r[o + 1] = host;
    r[o + 2] = tagList;
    r[o + 3] = type;
    r[o + 4] = interval;
    r[o + 5] = this.origin(origin);
    r[o + 6] = points;
    this.o = o + HEAD;
    this.count++;
  }

  point(timestamp: number, value: number): void {
    this.records[this.o++] = timestamp;
    this.records[this.o++] = value;
  }

  /** A whole series. */
  add(s: Series): void {
    if (!flat(s)) {
      this.room(1);
      this.records[this.o++] = -1 - this.rest.length;
      this.rest.push(s);
      this.count++;
      return;
    }
    this.head(this.shared(s.name), this.shared(s.host), this.tagList(s.tags), TYPE_CODE[s.type], s.interval, s.origin, s.points.length);
    for (const p of s.points) this.point(p.timestamp, p.value);
  }

  finish(): SeriesWire {
    if (this.parts.length > 0) {
      this.text.push(this.parts.join(''));
      this.chunkStrings.push(this.parts.length);
      this.parts = [];
    }
    return {
      text: this.text,
      chunkStrings: Uint32Array.from(this.chunkStrings),
      lens: this.lens.slice(0, this.nStrings),
      tagLists: this.tagLists.slice(0, this.nTagWords),
      records: this.records.slice(0, this.o),
      origins: this.origins,
      rest: this.rest,
      count: this.count,
    };
  }
}

/** Flattens series for `postMessage` (see {@link SeriesWire}); {@link seriesOfWire} gives them back. */
export function encodeSeriesWire(series: readonly Series[], chunkChars = CHUNK_CHARS): SeriesWire {
  const w = new SeriesWireWriter(chunkChars);
  for (const s of series) w.add(s);
  return w.finish();
}

/**
 * The series {@link encodeSeriesWire} flattened, in the same order, made one at a time as the
 * iteration reaches them: a consumer that encodes and drops each (the flush) never holds them
 * all, so they die young and the main thread's heap does not grow with the flush.
 */
export function* seriesOfWire(w: SeriesWire): Generator<Series, void, undefined> {
  // Where each string starts, and in which chunk: strings are cut from the texts on demand.
  const n = w.lens.length;
  const at = new Float64Array(n);
  const chunkOf = new Uint32Array(n);
  let si = 0;
  for (let c = 0; c < w.chunkStrings.length; c++) {
    const end = si + w.chunkStrings[c]!;
    let pos = 0;
    for (; si < end; si++) {
      at[si] = pos;
      chunkOf[si] = c;
      pos += w.lens[si]!;
    }
  }
  const str = (i: number): string => w.text[chunkOf[i]!]!.slice(at[i]!, at[i]! + w.lens[i]!);
  const r = w.records;
  let o = 0;
  for (let k = 0; k < w.count; k++) {
    const head = r[o]!;
    if (head < 0) {
      o++;
      yield w.rest[-1 - head]!;
      continue;
    }
    const np = r[o + 6]!;
    const points = new Array<SeriesPoint>(np);
    let p = o + HEAD;
    for (let j = 0; j < np; j++, p += 2) points[j] = { timestamp: r[p]!, value: r[p + 1]! };
    const tl = r[o + 2]!;
    const nt = w.tagLists[tl]!;
    const tags = new Array<string>(nt);
    for (let j = 0; j < nt; j++) tags[j] = str(w.tagLists[tl + 1 + j]!);
    const oi = r[o + 5]!;
    const s: { -readonly [K in keyof Series]: Series[K] } = {
      name: str(head),
      host: str(r[o + 1]!),
      tags,
      type: TYPES[r[o + 3]!]!,
      interval: r[o + 4]!,
      points,
    };
    if (oi >= 0) s.origin = w.origins[oi]!;
    o = p;
    yield s;
  }
}

/** Every series of the flat form, as an array (see {@link seriesOfWire}). */
export function decodeSeriesWire(w: SeriesWire): Series[] {
  return Array.from(seriesOfWire(w));
}
