import { Buffer } from 'node:buffer';
import { CounterSet, ParseError, parseErrorByCode, decodeString } from '@kennel/core';
import { nativeTokenizer, TOKENIZE_MAX_END, type Tokenize } from '@kennel/native/tokenize';
import { MetricView } from './metric-view.js';
import { parseFloatBytes, parseIntBytes, parseSimpleDecimal, numberResult, NumberStatus } from './numbers.js';
import { MetricType } from './types.js';
import type { DecodedEvent, DecodedServiceCheck, DogStatsDCodecOptions } from './types.js';

/** The agent's `dogstatsd` expvar map (`comp/dogstatsd/server/impl/server.go`). */
export const DOGSTATSD_COUNTERS = [
  'MetricPackets',
  'MetricParseErrors',
  'EventPackets',
  'EventParseErrors',
  'ServiceCheckPackets',
  'ServiceCheckParseErrors',
  'UnterminatedMetricErrors',
] as const;
export type DogStatsDCounterName = (typeof DOGSTATSD_COUNTERS)[number];

const C_METRIC_PACKETS = 0;
const C_METRIC_ERRORS = 1;
const C_EVENT_PACKETS = 2;
const C_EVENT_ERRORS = 3;
const C_SC_PACKETS = 4;
const C_SC_ERRORS = 5;
const C_UNTERMINATED = 6;

/**
 * What the codec calls for each message of a packet. Calls are synchronous and in packet order.
 * The `MetricView` is reused: it is valid only during `onMetric`.
 */
export interface DogStatsDVisitor {
  onMetric(view: MetricView): void;
  onEvent(event: DecodedEvent): void;
  onServiceCheck(check: DecodedServiceCheck): void;
  /** `code` is a `ParseError`; `buf[lineStart, lineEnd)` is the rejected line. */
  onError(code: number, buf: Uint8Array, lineStart: number, lineEnd: number): void;
}

const NL = 0x0a;
const CR = 0x0d;
const PIPE = 0x7c;
const COLON = 0x3a;
const COMMA = 0x2c;
const HASH = 0x23;
const AT = 0x40;
const UPPER_T = 0x54;
const LOWER_C = 0x63;
const LOWER_E = 0x65;
const UNDERSCORE = 0x5f;
const LOWER_S = 0x73;
const LBRACE = 0x7b;
const BACKSLASH = 0x5c;
const LOWER_N = 0x6e;

const EMPTY_TAGS: readonly string[] = Object.freeze([]);
/** A cursor value past any index: no more of that delimiter in the buffer. */
const NONE = 0x7fffffff;
/** Bytes after a packet's range that a search may run through before the range gets its own view. */
const SLACK = 256;
const EMPTY_BUFFER = Buffer.alloc(0);
// Token kinds (`@kennel/native/tokenize`): entry = position << 2 | kind.
const T_NL = 0;
const T_PIPE = 1;
const T_COMMA = 2;
const T_COLON = 3;
/**
 * Packets shorter than this take the search path even with the native tokenizer: the call costs
 * about 84 ns (N-API argument checks and typed-array look-ups), which a short line's
 * Buffer.indexOf calls undercut. Measured on one-line packets: the search path is as fast or
 * faster up to about 67 bytes, even near 96, slower from 130 on (benchmarks/RESULTS.md).
 */
const TOKENIZE_MIN_BYTES = 128;
/** The token array grows to fit a packet's worst case (one entry a byte) up to this many entries. */
const TOKENS_MAX = 1 << 16;
/** One-letter types by wire byte (`ms` is checked apart); -1 for any other byte. */
const TYPE_BY_LETTER = new Int8Array(256).fill(-1);
TYPE_BY_LETTER[0x67] = MetricType.GAUGE;
TYPE_BY_LETTER[0x63] = MetricType.COUNTER;
TYPE_BY_LETTER[0x68] = MetricType.HISTOGRAM;
TYPE_BY_LETTER[0x64] = MetricType.DISTRIBUTION;
TYPE_BY_LETTER[0x73] = MetricType.SET;

/**
 * @internal Test hooks of {@link DogStatsDCodec} (not exported from the package): they let the
 * property tests run the token walk on every packet, with the JavaScript twin where the addon is
 * not loaded.
 */
export interface CodecInternalOptions {
  /** The tokenizer to walk, overriding `nativeTokenizer` (`null`: always the search path). */
  readonly tokenizer?: Tokenize | null;
  /** Packets shorter than this take the search path (default 128 bytes). */
  readonly tokenizeMinBytes?: number;
}

/**
 * The DogStatsD codec: packets in, one visitor call per message out. It never throws on input:
 * a malformed message becomes an `onError` call with a named reason and bumps the agent's
 * counter for it, and the other messages of the packet still decode.
 *
 * @remarks
 * Metrics are decoded in one forward scan of their bytes into a reused {@link MetricView}; no
 * string is built. Events and service checks are rare, so they are handed out as owned objects.
 * The checks and their order follow `comp/dogstatsd/server/impl/parse*.go` and `server.go`.
 *
 * Delimiters are found one of two ways, with the same output (same visitor calls, views, errors
 * and counters; property-tested): with the native tokenizer (`@kennel/native/tokenize`, SIMD),
 * one call a packet writes every delimiter's position and the codec walks them; without it (the
 * addon missing, `KENNEL_DISABLE_NATIVE=1`, `nativeTokenizer: false`, or packets under 128 bytes,
 * where the call costs more than it saves), `Buffer.indexOf` searches with cursors.
 *
 * @example
 * ```ts
 * const codec = new DogStatsDCodec();
 * const packet = new TextEncoder().encode('page.views:1|c|#env:prod\n');
 * codec.decode(packet, 0, packet.length, {
 *   onMetric: (m) => console.log(m.values[0], m.tagCount),
 *   onEvent: () => {}, onServiceCheck: () => {}, onError: () => {},
 * });
 * ```
 */
export class DogStatsDCodec {
  /** The agent's `dogstatsd` counters: `MetricPackets`, `MetricParseErrors`, ... */
  readonly counters = new CounterSet<DogStatsDCounterName>('dogstatsd', DOGSTATSD_COUNTERS);
  /** Rejections by `ParseError` code (index = code). */
  readonly errorsByCode = new Float64Array(64);
  readonly readTimestamps: boolean;
  readonly originDetectionClient: boolean;
  private readonly view = new MetricView();
  private readonly c: Float64Array;
  // Search cursors, valid during one decode/decodeLine call: the first `|`, `:` or `,` at or
  // after the last search's start (NONE: no more in the buffer). Searches only move forward, so
  // a cursor still ahead of a new search's start is its answer, and every delimiter of a packet
  // is found by one Buffer.indexOf call at most. That is cheaper (the last tag's comma search
  // finds the next line's first comma, the tags' pipe search the next line's value pipe) and
  // keeps a packet linear even when a delimiter is missing from every line (`x:1|c|#a` lines
  // have no comma: without the cursor each line's search would run to the end of the packet).
  private pipeAt = -1;
  private colonAt = -1;
  private commaAt = -1;
  // What the searches run on: the packet's buffer, or (when the packet is a range of a larger
  // buffer) a view of just that range, at `searchBase` in the buffer (see `bound`).
  private search: Buffer = EMPTY_BUFFER;
  private searchBase = 0;
  // The native tokenizer (null: not loaded, switched off, or `nativeTokenizer: false`) and the
  // delimiter stream it writes for the packet being decoded.
  private readonly tokenize: Tokenize | null;
  private readonly tokenizeMinBytes: number;
  private tokens = new Uint32Array(2048);
  // During decodeTokens: the packet's end, and the index of the '\n' entry of the line the last
  // parseMetricTokens call walked.
  private tokensEnd = 0;
  private lineNl = 0;

  /** @param internal test hooks ({@link CodecInternalOptions}); not for production use */
  constructor(options: DogStatsDCodecOptions = {}, internal: CodecInternalOptions = {}) {
    this.readTimestamps = options.noAggregationPipeline ?? true;
    this.originDetectionClient = options.originDetectionClient ?? false;
    this.c = this.counters.values;
    this.tokenize =
      internal.tokenizer !== undefined
        ? internal.tokenizer
        : (options.nativeTokenizer ?? true)
          ? nativeTokenizer()
          : null;
    this.tokenizeMinBytes = internal.tokenizeMinBytes ?? TOKENIZE_MIN_BYTES;
  }

  /** Whether `decode` tokenizes packets natively (else every packet takes the search path). */
  get usesNativeTokenizer(): boolean {
    return this.tokenize !== null;
  }

  /** Counts of rejected messages by reason label, for status and `kennel decode --count`. */
  errorsByReason(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.errorsByCode.length; i++) {
      const n = this.errorsByCode[i]!;
      if (n > 0) out[parseErrorByCode(i).reason] = n;
    }
    return out;
  }

  /**
   * Decodes the packet `buf[start, end)`: messages split on `\n`, one `\r` before it dropped,
   * empty lines skipped. With `eolRequired`, a last line without `\n` is rejected and counted in
   * `UnterminatedMetricErrors` (the agent's `dogstatsd_eol_required`).
   */
  decode(buf: Uint8Array, start: number, end: number, visitor: DogStatsDVisitor, eolRequired = false): void {
    // Buffer.indexOf is a memchr: past ~13 bytes it beats a JavaScript byte loop, and lines are
    // longer than that. A plain Uint8Array is wrapped once per packet (same memory, same offsets).
    const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    const tokenize = this.tokenize;
    const len = end - start;
    // The tokenizer throws on a range outside the buffer or not of integers; the search path
    // never throws, so such ranges stay on it.
    if (
      tokenize !== null &&
      len >= this.tokenizeMinBytes &&
      start >= 0 &&
      end <= b.length &&
      end <= TOKENIZE_MAX_END &&
      (start | 0) === start &&
      (end | 0) === end
    ) {
      // One spare entry for the sentinel (below).
      if (this.tokens.length <= len && this.tokens.length < TOKENS_MAX) this.growTokens(len + 1);
      const t = this.tokens;
      const n = tokenize(b, start, end, t);
      // -1 (or no room for the sentinel): a packet too dense for the token array (TOKENS_MAX
      // delimiters or more); search it.
      if (n >= 0 && n < t.length) {
        // A '\n' at `end` closes the last line, so every line ends with a '\n' entry and the walk
        // needs no bounds checks; a line that ends at `end` is the unterminated one.
        t[n] = (end << 2) | T_NL;
        this.tokensEnd = end;
        this.decodeTokens(b, start, end, visitor, eolRequired);
        return;
      }
    }
    this.bound(b, start, end);
    const sb = this.search;
    const base = this.searchBase;
    let ls = start;
    while (ls < end) {
      let le = sb.indexOf(NL, ls - base);
      le = le < 0 ? end : le + base;
      if (le > end) le = end;
      let ce = le;
      if (ce > ls && b[ce - 1] === CR) ce--;
      if (le === end && eolRequired) {
        this.c[C_UNTERMINATED]!++;
        this.errorsByCode[ParseError.UNTERMINATED_LINE]!++;
        visitor.onError(ParseError.UNTERMINATED_LINE, b, ls, ce);
        return;
      }
      if (ce > ls) {
        // decodeMessage, written out for the common case: a metric line.
        if (b[ls] !== UNDERSCORE) {
          const code = this.parseMetric(b, ls, ce);
          if (code === 0) {
            const v = this.view;
            this.c[C_METRIC_PACKETS]! += v.type === MetricType.SET ? 1 : v.valueCount;
            visitor.onMetric(v);
          } else {
            this.c[C_METRIC_ERRORS]!++;
            this.errorsByCode[code]!++;
            visitor.onError(code, b, ls, ce);
          }
        } else {
          this.decodeMessage(b, ls, ce, visitor);
        }
      }
      ls = le + 1;
    }
  }

  private growTokens(len: number): void {
    let size = this.tokens.length;
    while (size < len && size < TOKENS_MAX) size *= 2;
    this.tokens = new Uint32Array(size);
  }

  /**
   * `decode` over the packet's delimiter stream (`this.tokens`, from the native tokenizer, closed
   * by a sentinel `\n` at `end`) instead of Buffer.indexOf searches: the same lines, checks,
   * errors and counters in the same order. The stream's layout (`@kennel/native/tokenize`):
   * every `\n` and `|`, each `:` before its line's first `|`, each `,` after it, in order, as
   * `position << 2 | kind`.
   */
  private decodeTokens(b: Buffer, start: number, end: number, visitor: DogStatsDVisitor, eolRequired: boolean): void {
    const t = this.tokens;
    // t[k] is the first entry at or after the line's start.
    let k = 0;
    let ls = start;
    while (ls < end) {
      const c = b[ls]!;
      if (c === NL) {
        // An empty line; t[k] is its '\n'.
        k++;
        ls++;
        continue;
      }
      let code: number;
      if (c !== UNDERSCORE && c !== CR) {
        // A metric line (the common case): the walk finds the line's end on its way.
        code = this.parseMetricTokens(b, ls, k);
      } else {
        // Events, service checks, lines that start with a CR (maybe nothing else): the end first.
        let j = k;
        while ((t[j]! & 3) !== T_NL) j++;
        const le = t[j]! >>> 2;
        let ce = le;
        if (b[ce - 1] === CR) ce--;
        if (le === end && eolRequired) {
          this.unterminated(b, ls, ce, visitor);
          return;
        }
        if (
          ce - ls >= 3 &&
          c === UNDERSCORE &&
          ((b[ls + 1] === LOWER_E && b[ls + 2] === LBRACE) || (b[ls + 1] === LOWER_S && b[ls + 2] === LOWER_C))
        ) {
          // Rare; they keep their byte loops.
          this.decodeMessage(b, ls, ce, visitor);
          code = -1;
        } else if (ce > ls) {
          code = this.parseMetricTokens(b, ls, k);
        } else {
          code = -1; // only a CR
        }
        if (code < 0) {
          k = j + 1;
          ls = le + 1;
          continue;
        }
      }
      // parseMetricTokens left the index of the line's '\n' in lineNl.
      const j = this.lineNl;
      const le = t[j]! >>> 2;
      let ce = le;
      if (b[ce - 1] === CR) ce--;
      if (le === end && eolRequired) {
        // Decoded for nothing: an unterminated last line is rejected whatever it holds.
        this.unterminated(b, ls, ce, visitor);
        return;
      }
      if (code === 0) {
        const v = this.view;
        this.c[C_METRIC_PACKETS]! += v.type === MetricType.SET ? 1 : v.valueCount;
        visitor.onMetric(v);
      } else {
        this.c[C_METRIC_ERRORS]!++;
        this.errorsByCode[code]!++;
        visitor.onError(code, b, ls, ce);
      }
      k = j + 1;
      ls = le + 1;
    }
  }

  private unterminated(b: Buffer, ls: number, ce: number, visitor: DogStatsDVisitor): void {
    this.c[C_UNTERMINATED]!++;
    this.errorsByCode[ParseError.UNTERMINATED_LINE]!++;
    visitor.onError(ParseError.UNTERMINATED_LINE, b, ls, ce);
  }

  /** Decodes one message (no newline inside). */
  decodeLine(buf: Uint8Array, s: number, e: number, visitor: DogStatsDVisitor): void {
    const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.bound(b, s, e);
    this.decodeMessage(b, s, e, visitor);
  }

  /**
   * Starts the searches of one decode call over `b[start, end)`: resets the cursors and picks
   * what they search. Buffer.indexOf has no end bound: it runs to the end of the buffer. The
   * native sources hand over a batch buffer of 8 KB slots and decode each datagram as a range of
   * it, so a search for something the datagram's last line lacks (the `\n` of a one-line
   * datagram, always) would run through the stale rest of the slot and every later slot: 2.5 us a
   * datagram on a 256 KB batch, every datagram, measured. With more than SLACK bytes after the
   * range, one view of just the range (one allocation per datagram, about 0.1 us) keeps every
   * search inside it.
   */
  private bound(b: Buffer, start: number, end: number): void {
    this.pipeAt = this.colonAt = this.commaAt = -1;
    if (b.length - end > SLACK) {
      this.search = b.subarray(start, end);
      this.searchBase = start;
    } else {
      this.search = b;
      this.searchBase = 0;
    }
  }

  private decodeMessage(buf: Buffer, s: number, e: number, visitor: DogStatsDVisitor): void {
    // parse.go findMessageType: "_e{" is an event, "_sc" a service check, anything else a metric.
    if (e - s >= 3 && buf[s] === UNDERSCORE) {
      if (buf[s + 1] === LOWER_E && buf[s + 2] === LBRACE) {
        this.decodeEvent(buf, s, e, visitor);
        return;
      }
      if (buf[s + 1] === LOWER_S && buf[s + 2] === LOWER_C) {
        this.decodeServiceCheck(buf, s, e, visitor);
        return;
      }
    }
    const code = this.parseMetric(buf, s, e);
    if (code === 0) {
      const v = this.view;
      this.c[C_METRIC_PACKETS]! += v.type === MetricType.SET ? 1 : v.valueCount;
      visitor.onMetric(v);
    } else {
      this.c[C_METRIC_ERRORS]!++;
      this.errorsByCode[code]!++;
      visitor.onError(code, buf, s, e);
    }
  }

  /** Fills the view from a metric line; returns 0 or a `ParseError` code. The search path. */
  private parseMetric(buf: Buffer, s: number, e: number): number {
    const v = this.view;
    // First field: name ":" value, up to the first "|" (parse_metrics.go parseMetricSampleNameAndRawValue).
    // A line with no "|" at all is rejected first (hasMetricSampleFormat).
    const sb = this.search;
    const base = this.searchBase;
    let p = this.pipeAt;
    if (p < s) {
      p = sb.indexOf(PIPE, s - base);
      this.pipeAt = p = p < 0 ? NONE : p + base;
    }
    if (p >= e) return ParseError.METRIC_NO_PIPE;
    let colon = this.colonAt;
    if (colon < s) {
      colon = sb.indexOf(COLON, s - base);
      this.colonAt = colon = colon < 0 ? NONE : colon + base;
    }
    if (colon > p) return ParseError.METRIC_NO_COLON;
    let q = this.parseHead(buf, s, e, colon, p);
    if (q < 0) return -q;

    // Optional fields, any order, last one wins, unknown and empty ones skipped.
    while (q < e) {
      const fs = q + 1;
      const c0 = fs < e ? buf[fs]! : PIPE;
      let fe = fs;
      if (c0 === HASH) {
        // Tags: split on "," only; "#" alone gives none; empty items are kept (parse.go parseTags).
        fe = this.pipeAt;
        if (fe < fs) {
          fe = sb.indexOf(PIPE, fs - base);
          this.pipeAt = fe = fe < 0 ? NONE : fe + base;
        }
        if (fe > e) fe = e;
        let n = 0;
        let tagStart = fs + 1;
        if (tagStart < fe) {
          let starts = v.tagStarts;
          let ends = v.tagEnds;
          let comma = this.commaAt;
          for (;;) {
            if (comma < tagStart) {
              comma = sb.indexOf(COMMA, tagStart - base);
              comma = comma < 0 ? NONE : comma + base;
            }
            const te = comma < fe ? comma : fe;
            if (n === starts.length) {
              v.growTags();
              starts = v.tagStarts;
              ends = v.tagEnds;
            }
            starts[n] = tagStart;
            ends[n++] = te;
            if (te === fe) break;
            tagStart = te + 1;
          }
          this.commaAt = comma;
        }
        v.tagCount = n;
      } else {
        while (fe < e && buf[fe] !== PIPE) fe++;
        const code = this.parseField(buf, c0, fs, fe);
        if (code !== 0) return code;
      }
      q = fe;
    }
    return 0;
  }

  /**
   * `parseMetric` over the delimiter stream, for the non-empty line that starts at `s`, whose
   * first entry is `tokens[k]`. Its colons come first (only those before the first `|` are in
   * the stream), then the first `|`, then pipes and commas, then its `\n` (the sentinel for the
   * last line); so a walk that looks for one kind stops at the `\n` by itself. The line's end is
   * not known in advance: the walk meets it, and leaves the index of the `\n` entry in
   * `lineNl`. Same checks in the same order as the search path; returns 0 or a `ParseError`.
   */
  private parseMetricTokens(buf: Buffer, s: number, k: number): number {
    const t = this.tokens;
    let w = t[k]!;
    if ((w & 3) !== T_COLON) {
      // The line's '\n': no "|". Else the first "|" (a "," comes only after one): no colon
      // before it.
      if ((w & 3) === T_NL) {
        this.lineNl = k;
        return ParseError.METRIC_NO_PIPE;
      }
      return this.fail(k, ParseError.METRIC_NO_COLON);
    }
    const colon = w >>> 2;
    while (((w = t[++k]!) & 3) === T_COLON);
    if ((w & 3) === T_NL) {
      this.lineNl = k;
      return ParseError.METRIC_NO_PIPE;
    }
    // w is the first "|". From here on, parseHead written out (V8 does not inline it).
    const p = w >>> 2;
    if (colon === s) return this.fail(k, ParseError.METRIC_EMPTY_NAME);
    const valueStart = colon + 1;
    const valueEnd = p;
    if (valueEnd === valueStart) return this.fail(k, ParseError.METRIC_EMPTY_VALUE);

    // Type. The next entry says where it ends: a "|" one or two bytes on ("c|", "ms|"), or the
    // line's '\n'. Anything else is an invalid type; the search path's checks, with the line's
    // end, handle that case and the '\n' one alike.
    const ts = p + 1;
    w = t[++k]!;
    let type: MetricType;
    const next = w >>> 2;
    if ((w & 3) === T_PIPE && next === ts + 1) {
      // A table, not a switch: the type mix is random line to line, so a chain of compares
      // mispredicts.
      const letter = TYPE_BY_LETTER[buf[ts]!]!;
      if (letter < 0) return this.fail(k, ParseError.METRIC_INVALID_TYPE);
      type = letter as MetricType;
    } else if ((w & 3) === T_PIPE && next === ts + 2 && buf[ts] === 0x6d && buf[ts + 1] === 0x73) {
      type = MetricType.TIMING;
    } else {
      while ((w & 3) !== T_NL) w = t[++k]!;
      this.lineNl = k;
      const e = contentEnd(buf, w >>> 2);
      if (ts + 1 >= e || buf[ts + 1] === PIPE) {
        const letter = ts < e ? TYPE_BY_LETTER[buf[ts]!]! : -1;
        if (letter < 0) return ParseError.METRIC_INVALID_TYPE;
        type = letter as MetricType;
      } else if (buf[ts] === 0x6d && buf[ts + 1] === 0x73 && (ts + 2 >= e || buf[ts + 2] === PIPE)) {
        type = MetricType.TIMING;
      } else {
        return ParseError.METRIC_INVALID_TYPE;
      }
      // Valid: the line ends with its type (the type's end and the '\n' have no "|" between).
    }

    const v = this.view;
    if (v.buf !== buf) v.buf = buf;
    v.lineStart = s;
    v.nameStart = s;
    v.nameEnd = colon;
    v.type = type;

    // Values: a set keeps the raw value (colons included); other types are one float or a
    // ":"-separated list with empty entries skipped (parse.go parseFloat64List).
    if (type === MetricType.SET) {
      v.setStart = valueStart;
      v.setEnd = valueEnd;
      v.valueCount = 0;
    } else {
      v.setStart = -1;
      v.setEnd = -1;
      let count = 0;
      let vs = valueStart;
      while (vs < valueEnd) {
        // Plain decimals are parsed and delimited in one pass; anything else (and every error)
        // goes the general way.
        let ve = parseSimpleDecimal(buf, vs, valueEnd);
        if (ve < 0) {
          ve = vs;
          while (ve < valueEnd && buf[ve] !== COLON) ve++;
          if (ve > vs && parseFloatBytes(buf, vs, ve) !== NumberStatus.OK) {
            return this.fail(k, ParseError.METRIC_INVALID_VALUE);
          }
        }
        if (ve > vs) {
          if (count === v.values.length) v.growValues();
          v.values[count++] = numberResult[0]!;
        }
        vs = ve + 1;
      }
      if (count === 0) return this.fail(k, ParseError.METRIC_NO_VALUES);
      v.valueCount = count;
    }

    // Optional fields, any order, last one wins, unknown and empty ones skipped.
    v.sampleRate = 1;
    v.tagCount = 0;
    v.timestamp = 0;
    if (this.originDetectionClient) {
      // Only ever set with originDetectionClient; otherwise they stay -1 from the constructor.
      v.containerIdStart = v.containerIdEnd = -1;
      v.externalDataStart = v.externalDataEnd = -1;
      v.cardinalityStart = v.cardinalityEnd = -1;
    }

    // w = t[k] is the "|" after the type, then after each field; or the line's '\n'.
    const end = this.tokensEnd;
    while ((w & 3) === T_PIPE) {
      const fs = (w >>> 2) + 1;
      // Only "#", "@", "T", "c", "e" lead anywhere, and none of them is the "\r" or "\n" that
      // follows a "|" that ends the line; past the packet (the last line's "|" ends it), no field.
      const c0 = fs < end ? buf[fs]! : PIPE;
      w = t[++k]!;
      let fe: number;
      if (c0 === HASH) {
        // Tags: one per "," entry up to the field's "|", then the last one. "#" alone gives none;
        // empty items are kept.
        let starts = v.tagStarts;
        let ends = v.tagEnds;
        let n = 0;
        let tagStart = fs + 1;
        while ((w & 3) === T_COMMA) {
          const te = w >>> 2;
          if (n === starts.length) {
            v.growTags();
            starts = v.tagStarts;
            ends = v.tagEnds;
          }
          starts[n] = tagStart;
          ends[n++] = te;
          tagStart = te + 1;
          w = t[++k]!;
        }
        fe = (w & 3) === T_PIPE ? w >>> 2 : contentEnd(buf, w >>> 2);
        if (n > 0 || tagStart < fe) {
          if (n === starts.length) {
            v.growTags();
            starts = v.tagStarts;
            ends = v.tagEnds;
          }
          starts[n] = tagStart;
          ends[n++] = fe;
        }
        v.tagCount = n;
      } else {
        while ((w & 3) === T_COMMA) w = t[++k]!;
        fe = (w & 3) === T_PIPE ? w >>> 2 : contentEnd(buf, w >>> 2);
        const code = this.parseField(buf, c0, fs, fe);
        if (code !== 0) return this.fail(k, code);
      }
    }
    this.lineNl = k;
    v.lineEnd = contentEnd(buf, w >>> 2);
    return 0;
  }

  /** A rejected line whose walk stopped at `tokens[k]`: finds its '\n' entry for the caller. */
  private fail(k: number, code: number): number {
    const t = this.tokens;
    while ((t[k]! & 3) !== T_NL) k++;
    this.lineNl = k;
    return code;
  }

  /**
   * The part of a metric line both paths share, once its first `|` (`p`) and the first `:`
   * before it (`colon`) are known: name, value(s) and type into the view, optional fields reset.
   * Returns where the optional fields start (the `|` after the type, or `e`), or minus a
   * `ParseError` code.
   */
  private parseHead(buf: Buffer, s: number, e: number, colon: number, p: number): number {
    if (colon === s) return -ParseError.METRIC_EMPTY_NAME;
    const valueStart = colon + 1;
    const valueEnd = p;
    if (valueEnd === valueStart) return -ParseError.METRIC_EMPTY_VALUE;

    // Type: exactly one of g c h d s ms, so look at three bytes instead of scanning.
    const ts = p + 1;
    let type: MetricType;
    let q: number;
    if (ts + 1 >= e || buf[ts + 1] === PIPE) {
      q = ts + 1;
      // A table, not a switch: the type mix is random line to line, so a chain of compares
      // mispredicts.
      const t = ts < e ? TYPE_BY_LETTER[buf[ts]!]! : -1;
      if (t < 0) return -ParseError.METRIC_INVALID_TYPE;
      type = t as MetricType;
    } else if (buf[ts] === 0x6d && buf[ts + 1] === 0x73 && (ts + 2 >= e || buf[ts + 2] === PIPE)) {
      type = MetricType.TIMING;
      q = ts + 2;
    } else {
      return -ParseError.METRIC_INVALID_TYPE;
    }
    if (q > e) q = e;

    const v = this.view;
    if (v.buf !== buf) v.buf = buf;
    v.lineStart = s;
    v.lineEnd = e;
    v.nameStart = s;
    v.nameEnd = colon;
    v.type = type;

    // Values: a set keeps the raw value (colons included); other types are one float or a
    // ":"-separated list with empty entries skipped (parse.go parseFloat64List).
    if (type === MetricType.SET) {
      v.setStart = valueStart;
      v.setEnd = valueEnd;
      v.valueCount = 0;
    } else {
      v.setStart = -1;
      v.setEnd = -1;
      let count = 0;
      let vs = valueStart;
      while (vs < valueEnd) {
        // Plain decimals are parsed and delimited in one pass; anything else (and every error)
        // goes the general way.
        let ve = parseSimpleDecimal(buf, vs, valueEnd);
        if (ve < 0) {
          ve = vs;
          while (ve < valueEnd && buf[ve] !== COLON) ve++;
          if (ve > vs && parseFloatBytes(buf, vs, ve) !== NumberStatus.OK) return -ParseError.METRIC_INVALID_VALUE;
        }
        if (ve > vs) {
          if (count === v.values.length) v.growValues();
          v.values[count++] = numberResult[0]!;
        }
        vs = ve + 1;
      }
      if (count === 0) return -ParseError.METRIC_NO_VALUES;
      v.valueCount = count;
    }

    // Optional fields, any order, last one wins, unknown and empty ones skipped.
    v.sampleRate = 1;
    v.tagCount = 0;
    v.timestamp = 0;
    if (this.originDetectionClient) {
      // Only ever set with originDetectionClient; otherwise they stay -1 from the constructor.
      v.containerIdStart = v.containerIdEnd = -1;
      v.externalDataStart = v.externalDataEnd = -1;
      v.cardinalityStart = v.cardinalityEnd = -1;
    }
    return q;
  }

  /**
   * An optional field other than tags, `buf[fs, fe)` with first byte `c0` (`|` when empty):
   * sample rate, timestamp, origin fields; anything else is skipped. Returns 0 or a `ParseError`.
   */
  private parseField(buf: Buffer, c0: number, fs: number, fe: number): number {
    const v = this.view;
    if (c0 === AT) {
      // Not range-checked: @0, negative and >1 rates are accepted, as the agent does.
      if (parseSimpleDecimal(buf, fs + 1, fe) !== fe && parseFloatBytes(buf, fs + 1, fe) !== NumberStatus.OK) {
        return ParseError.METRIC_INVALID_SAMPLE_RATE;
      }
      v.sampleRate = numberResult[0]!;
    } else if (c0 === UPPER_T) {
      // Read only when the no-aggregation pipeline is on; otherwise skipped unparsed.
      if (this.readTimestamps) {
        if (parseIntBytes(buf, fs + 1, fe) !== NumberStatus.OK) return ParseError.METRIC_INVALID_TIMESTAMP;
        const t = numberResult[0]!;
        if (t < 1) return ParseError.METRIC_TIMESTAMP_NOT_POSITIVE;
        v.timestamp = t;
      }
    } else if (this.originDetectionClient && fe - fs >= 2) {
      if (c0 === LOWER_C && buf[fs + 1] === COLON) {
        v.containerIdStart = fs + 2;
        v.containerIdEnd = fe;
      } else if (c0 === LOWER_E && buf[fs + 1] === COLON) {
        v.externalDataStart = fs + 2;
        v.externalDataEnd = fe;
      } else if (
        c0 === LOWER_C &&
        fe - fs >= 5 &&
        buf[fs + 1] === 0x61 &&
        buf[fs + 2] === 0x72 &&
        buf[fs + 3] === 0x64 &&
        buf[fs + 4] === COLON
      ) {
        v.cardinalityStart = fs + 5;
        v.cardinalityEnd = fe;
      }
    }
    return 0;
  }

  private decodeEvent(buf: Uint8Array, s: number, e: number, visitor: DogStatsDVisitor): void {
    const code = this.parseEvent(buf, s, e);
    if (typeof code === 'number') {
      this.c[C_EVENT_ERRORS]!++;
      this.errorsByCode[code]!++;
      visitor.onError(code, buf, s, e);
      return;
    }
    this.c[C_EVENT_PACKETS]!++;
    visitor.onEvent(code);
  }

  /** parse_events.go parseEvent: `_e{<title_len>,<text_len>}:<title>|<text>|<fields>`. */
  private parseEvent(buf: Uint8Array, s: number, e: number): DecodedEvent | number {
    let colon = s;
    while (colon < e && buf[colon] !== COLON) colon++;
    if (colon >= e) return ParseError.EVENT_NO_COLON;
    if (colon - s < 7) return ParseError.EVENT_INVALID_HEADER;
    // The lengths sit between "_e{" and the header's last byte, which is not checked to be "}".
    const ls = s + 3;
    const le = colon - 1;
    let comma = ls;
    while (comma < le && buf[comma] !== COMMA) comma++;
    if (comma >= le) return ParseError.EVENT_INVALID_HEADER;
    if (parseIntBytes(buf, ls, comma) !== NumberStatus.OK) return ParseError.EVENT_INVALID_HEADER;
    const titleLength = numberResult[0]!;
    if (titleLength < 0) return ParseError.EVENT_INVALID_HEADER;
    if (titleLength === 0) return ParseError.EVENT_EMPTY_TITLE;
    if (parseIntBytes(buf, comma + 1, le) !== NumberStatus.OK) return ParseError.EVENT_INVALID_HEADER;
    const textLength = numberResult[0]!;
    if (textLength < 0) return ParseError.EVENT_INVALID_HEADER;
    // Lengths are UTF-8 byte counts; the byte at titleLength is not checked to be "|".
    const body = colon + 1;
    const contentLength = titleLength + 1 + textLength;
    if (e - body < contentLength) return ParseError.EVENT_TOO_SHORT;
    const title = cleanEventText(buf, body, body + titleLength);
    const text = cleanEventText(buf, body + titleLength + 1, body + contentLength);
    let timestamp = 0;
    let hostname = '';
    let aggregationKey = '';
    let priority: DecodedEvent['priority'] = 'normal';
    let sourceType = '';
    let alertType: DecodedEvent['alertType'] = 'info';
    let tags: readonly string[] = EMPTY_TAGS;
    const rest = body + contentLength;
    if (rest < e) {
      let fs = rest;
      for (;;) {
        let fe = fs;
        while (fe < e && buf[fe] !== PIPE) fe++;
        const n = fe - fs;
        const c0 = n > 0 ? buf[fs] : 0;
        if (c0 === HASH) {
          tags = parseTagStrings(buf, fs + 1, fe);
        } else if (n >= 2 && buf[fs + 1] === COLON) {
          // An invalid value is logged by the agent and ignored: the event keeps its previous value.
          switch (c0) {
            case 0x64: // d:
              if (parseIntBytes(buf, fs + 2, fe) === NumberStatus.OK) timestamp = numberResult[0]!;
              break;
            case 0x68: // h:
              hostname = decodeString(buf, fs + 2, fe);
              break;
            case 0x6b: // k:
              aggregationKey = decodeString(buf, fs + 2, fe);
              break;
            case 0x70: {
              // p:
              const p = decodeString(buf, fs + 2, fe);
              if (p === 'normal' || p === 'low') priority = p;
              break;
            }
            case 0x73: // s:
              sourceType = decodeString(buf, fs + 2, fe);
              break;
            case 0x74: {
              // t:
              const t = decodeString(buf, fs + 2, fe);
              if (t === 'error' || t === 'warning' || t === 'info' || t === 'success') alertType = t;
              break;
            }
          }
        }
        if (fe >= e) break;
        fs = fe + 1;
      }
    }
    return {
      kind: 'event',
      title,
      text,
      timestamp,
      hostname,
      aggregationKey,
      priority,
      sourceType,
      alertType,
      tags,
    };
  }

  private decodeServiceCheck(buf: Uint8Array, s: number, e: number, visitor: DogStatsDVisitor): void {
    const r = this.parseServiceCheck(buf, s, e);
    if (typeof r === 'number') {
      this.c[C_SC_ERRORS]!++;
      this.errorsByCode[r]!++;
      visitor.onError(r, buf, s, e);
      return;
    }
    this.c[C_SC_PACKETS]!++;
    visitor.onServiceCheck(r);
  }

  /** parse_service_checks.go parseServiceCheck: `_sc|<name>|<status>|<fields>`. */
  private parseServiceCheck(buf: Uint8Array, s: number, e: number): DecodedServiceCheck | number {
    let pipes = 0;
    for (let i = s; i < e && pipes < 2; i++) if (buf[i] === PIPE) pipes++;
    if (pipes < 2 || e - s < 4) return ParseError.SERVICE_CHECK_INVALID_FORMAT;
    // The first 4 bytes ("_sc|") are dropped without checking the 4th.
    const ns = s + 4;
    let ne = ns;
    while (ne < e && buf[ne] !== PIPE) ne++;
    if (ne === ns) return ParseError.SERVICE_CHECK_EMPTY_NAME;
    const ss = ne < e ? ne + 1 : e;
    let se = ss;
    while (se < e && buf[se] !== PIPE) se++;
    if (se - ss !== 1) return ParseError.SERVICE_CHECK_INVALID_STATUS;
    const sc = buf[ss]! - 0x30;
    if (sc < 0 || sc > 3) return ParseError.SERVICE_CHECK_INVALID_STATUS;
    const status = sc as 0 | 1 | 2 | 3;
    const name = decodeString(buf, ns, ne);
    let timestamp = 0;
    let hostname = '';
    let message = '';
    let tags: readonly string[] = EMPTY_TAGS;
    if (se < e) {
      let fs = se + 1;
      for (;;) {
        let fe = fs;
        while (fe < e && buf[fe] !== PIPE) fe++;
        const n = fe - fs;
        const c0 = n > 0 ? buf[fs] : 0;
        if (c0 === HASH) {
          tags = parseTagStrings(buf, fs + 1, fe);
        } else if (n >= 2 && buf[fs + 1] === COLON) {
          switch (c0) {
            case 0x64: // d: (invalid values are ignored)
              if (parseIntBytes(buf, fs + 2, fe) === NumberStatus.OK) timestamp = numberResult[0]!;
              break;
            case 0x68: // h:
              hostname = decodeString(buf, fs + 2, fe);
              break;
            case 0x6d: // m: (accepted anywhere, though the docs say last)
              message = decodeString(buf, fs + 2, fe);
              break;
          }
        }
        if (fe >= e) break;
        fs = fe + 1;
      }
    }
    return { kind: 'service_check', name, status, timestamp, hostname, message, tags };
  }
}

/**
 * Where a line's content ends, given its non-empty line's '\n' position (or the packet's end):
 * one '\r' before it is dropped. `le` is past the line's first byte, so `buf[le - 1]` is in it.
 */
function contentEnd(buf: Uint8Array, le: number): number {
  return buf[le - 1] === CR ? le - 1 : le;
}

/** Tags as strings, split on "," with empty items kept; an empty field gives no tags. */
export function parseTagStrings(buf: Uint8Array, s: number, e: number): string[] {
  const tags: string[] = [];
  if (e <= s) return tags;
  let ts = s;
  for (let j = s; j <= e; j++) {
    if (j === e || buf[j] === COMMA) {
      tags.push(decodeString(buf, ts, j));
      ts = j + 1;
    }
  }
  return tags;
}

/** Decodes event text, turning the two bytes `\` `n` into a newline (parse_events.go cleanEventText). */
function cleanEventText(buf: Uint8Array, s: number, e: number): string {
  let has = false;
  for (let i = s; i + 1 < e; i++) {
    if (buf[i] === BACKSLASH && buf[i + 1] === LOWER_N) {
      has = true;
      break;
    }
  }
  const raw = decodeString(buf, s, e);
  return has ? raw.replaceAll('\\n', '\n') : raw;
}
