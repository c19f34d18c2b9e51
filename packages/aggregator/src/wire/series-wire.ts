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
const TYPE_CODE: Readonly<Record<SeriesApiType, number>> = { gauge: 0, rate: 1, count: 2 };
const HEAD = 7;

/** True when the flat form carries every field of `s`. */
function flat(s: Series): boolean {
  return s.device === undefined && s.sourceTypeName === undefined && s.unit === undefined && s.resources === undefined && TYPE_CODE[s.type] !== undefined;
}

/** Flattens series for `postMessage` (see {@link SeriesWire}); {@link decodeSeriesWire} gives them back. */
export function encodeSeriesWire(series: readonly Series[], chunkChars = CHUNK_CHARS): SeriesWire {
  let size = 0;
  for (const s of series) size += flat(s) ? HEAD + 2 * s.points.length : 1;
  const records = new Float64Array(size);
  const lens: number[] = [];
  const text: string[] = [];
  const chunkStrings: number[] = [];
  let parts: string[] = [];
  let used = 0;
  const stringIndex = new Map<string, number>();
  const addString = (v: string): number => {
    if (used + v.length > chunkChars && parts.length > 0) {
      text.push(parts.join(''));
      chunkStrings.push(parts.length);
      parts = [];
      used = 0;
    }
    parts.push(v);
    used += v.length;
    lens.push(v.length);
    return lens.length - 1;
  };
  // Names and hosts repeat across contexts: each is sent once. Tags repeat as whole lists (a
  // context's series share one array), so lists are deduplicated by identity.
  const shared = (v: string): number => {
    let i = stringIndex.get(v);
    if (i === undefined) stringIndex.set(v, (i = addString(v)));
    return i;
  };
  const tagListIndex = new Map<readonly string[], number>();
  const tagLists: number[] = [];
  const origins: SeriesOrigin[] = [];
  const originIndex = new Map<SeriesOrigin, number>();
  const rest: Series[] = [];
  let o = 0;
  for (const s of series) {
    if (!flat(s)) {
      records[o++] = -1 - rest.length;
      rest.push(s);
      continue;
    }
    let tl = tagListIndex.get(s.tags);
    if (tl === undefined) {
      tl = tagLists.length;
      tagLists.push(s.tags.length);
      for (const t of s.tags) tagLists.push(addString(t));
      tagListIndex.set(s.tags, tl);
    }
    let oi = -1;
    if (s.origin !== undefined) {
      const known = originIndex.get(s.origin);
      if (known !== undefined) oi = known;
      else {
        oi = origins.length;
        origins.push(s.origin);
        originIndex.set(s.origin, oi);
      }
    }
    records[o] = shared(s.name);
    records[o + 1] = shared(s.host);
    records[o + 2] = tl;
    records[o + 3] = TYPE_CODE[s.type];
    records[o + 4] = s.interval;
    records[o + 5] = oi;
    records[o + 6] = s.points.length;
    o += HEAD;
    for (const p of s.points) {
      records[o++] = p.timestamp;
      records[o++] = p.value;
    }
  }
  if (parts.length > 0) {
    text.push(parts.join(''));
    chunkStrings.push(parts.length);
  }
  return {
    text,
    chunkStrings: Uint32Array.from(chunkStrings),
    lens: Uint32Array.from(lens),
    tagLists: Uint32Array.from(tagLists),
    records,
    origins,
    rest,
    count: series.length,
  };
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
