/**
 * The HTTP JSON encoding of one log event, as the agent's `jsonEncoder`
 * (`pkg/logs/processor/json.go`, Apache-2.0) writes it:
 *
 * ```json
 * {"message":"…","status":"info","timestamp":1700000000000,"hostname":"web-1","service":"api","ddsource":"nginx","ddtags":"env:prod,team:web"}
 * ```
 *
 * Field names and order are the agent's `jsonPayload` struct; `timestamp` is milliseconds taken
 * from the clock when the event is encoded (not parsed from the line); `ddtags` is one
 * comma-joined string; an empty status is `info` (`Message.GetStatus`). Strings are escaped as
 * Go's JSON encoders do by default: `<`, `>`, `&`, U+2028 and U+2029 as `\u003c`, `\u003e`,
 * `\u0026`, `\u2028`, `\u2029`, so the byte counts that cut batches match the agent's.
 */

/** What the sender reads from a log message: the fields of the encoded event, and where it came from. */
export interface SenderMessage {
  /** The log line, after processing: a string, or UTF-8 bytes (invalid sequences become U+FFFD). */
  readonly content: string | Uint8Array;
  /** `info`, `error`, ...; empty means `info`. */
  readonly status: string;
  readonly service: string;
  /** `ddsource`. */
  readonly source: string;
  /** Every tag of the event, joined with `,` into `ddtags`. */
  readonly tags: readonly string[];
  /** Ingestion time in milliseconds; the last message's is the `dd-message-timestamp` header. */
  readonly timestamp: number;
  /** The source and read position, handed back through `onAccepted` once the intake has the event. */
  readonly origin: { readonly sourceId: string; readonly offset?: unknown };
}

/** The status an empty one stands for (`message.StatusInfo`). */
export const DEFAULT_STATUS = 'info';

const GO_ESCAPE_TEST = /[<>&\u2028\u2029]/;
const GO_ESCAPE = /[<>&\u2028\u2029]/g;
const GO_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function goEscape(c: string): string {
  return GO_ESCAPES[c]!;
}

// Node 20 has both (V8 11.3); lib ES2023 does not declare them.
interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * A JSON string literal as Go's encoders write it: valid UTF-8 only (lone surrogates become
 * U+FFFD), HTML characters and the two JavaScript line terminators escaped.
 */
export function goJsonString(s: string): string {
  const w = s as unknown as WellFormed;
  let j = JSON.stringify(w.isWellFormed() ? s : w.toWellFormed());
  if (GO_ESCAPE_TEST.test(j)) j = j.replace(GO_ESCAPE, goEscape);
  return j;
}

/**
 * Bytes that can stand for themselves inside a JSON string as Go writes it: printable ASCII but
 * `"`, `\\`, `<`, `>` and `&`. A message made only of these is its own JSON text between quotes.
 */
const PLAIN = new Uint8Array(256);
for (let c = 0x20; c < 0x80; c++) PLAIN[c] = 1;
for (const c of [0x22, 0x5c, 0x3c, 0x3e, 0x26]) PLAIN[c] = 0;

/** Whether every byte of `b` stands for itself in a Go JSON string (see {@link PLAIN}). */
function isPlain(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (PLAIN[b[i]!] === 0) return false;
  return true;
}

const MESSAGE_PREFIX = Buffer.from('{"message":', 'latin1');

/**
 * Encodes events for one sender. It remembers the last service, source, tag list and status it
 * saw, so a run of events from one source builds those bytes once, and writes each event into a
 * reused buffer ({@link LogEventEncoder.encodeBytes}): a plain ASCII message given as bytes is
 * copied as it is, with no string made for it.
 */
export class LogEventEncoder {
  private readonly hostnameJson: string;
  private lastService = '';
  private lastServiceJson = '""';
  private lastSource = '';
  private lastSourceJson = '""';
  private lastTags: readonly string[] | undefined = undefined;
  private lastTagsJson = '""';
  private lastStatus = DEFAULT_STATUS;
  private statusBytes: Buffer = Buffer.from(',"status":"info","timestamp":', 'latin1');
  /** `,"hostname":…,"service":…,"ddsource":…,"ddtags":…}` in UTF-8, rebuilt when one of them changes. */
  private tail: Buffer = Buffer.alloc(0);
  private tailStale = true;
  private lastTimestamp = NaN;
  private lastTimestampBytes: Buffer = Buffer.alloc(0);
  /** The bytes of the last event {@link encodeBytes} wrote: `scratch.subarray(0, length)`; overwritten by the next. */
  scratch: Buffer = Buffer.allocUnsafe(4096);
  /** The UTF-8 length of the last event encoded. */
  lastByteLength = -1;

  constructor(hostname: string) {
    this.hostnameJson = goJsonString(hostname);
  }

  /** The event's JSON text; `timestampMs` is the encode time. */
  encode(m: SenderMessage, timestampMs: number): string {
    const n = this.encodeBytes(m, timestampMs);
    return this.scratch.toString('utf8', 0, n);
  }

  /**
   * Writes the event's JSON (UTF-8) at the start of {@link scratch} and returns its length in
   * bytes; `timestampMs` is the encode time.
   */
  encodeBytes(m: SenderMessage, timestampMs: number): number {
    if (m.service !== this.lastService) {
      this.lastService = m.service;
      this.lastServiceJson = goJsonString(m.service);
      this.tailStale = true;
    }
    if (m.source !== this.lastSource) {
      this.lastSource = m.source;
      this.lastSourceJson = goJsonString(m.source);
      this.tailStale = true;
    }
    if (m.tags !== this.lastTags) {
      this.lastTags = m.tags;
      this.lastTagsJson = goJsonString(m.tags.join(','));
      this.tailStale = true;
    }
    if (this.tailStale) {
      this.tail = Buffer.from(
        ',"hostname":' + this.hostnameJson + ',"service":' + this.lastServiceJson + ',"ddsource":' + this.lastSourceJson + ',"ddtags":' + this.lastTagsJson + '}',
        'utf8',
      );
      this.tailStale = false;
    }
    const status = m.status === '' ? DEFAULT_STATUS : m.status;
    if (status !== this.lastStatus) {
      this.lastStatus = status;
      this.statusBytes = Buffer.from(',"status":' + goJsonString(status) + ',"timestamp":', 'utf8');
    }
    const ts = Math.trunc(timestampMs);
    if (ts !== this.lastTimestamp) {
      this.lastTimestamp = ts;
      this.lastTimestampBytes = Buffer.from(String(ts), 'latin1');
    }
    const content = m.content;
    const fixed = MESSAGE_PREFIX.length + this.statusBytes.length + this.lastTimestampBytes.length + this.tail.length;
    let pos: number;
    if (typeof content !== 'string' && isPlain(content)) {
      // The common case, plain ASCII bytes: copied as they are, between quotes.
      pos = this.reserve(fixed + content.length + 2);
      const buf = this.scratch;
      buf[pos++] = 0x22;
      buf.set(content, pos);
      pos += content.length;
      buf[pos++] = 0x22;
    } else {
      const json = goJsonString(typeof content === 'string' ? content : utf8.decode(content));
      pos = this.reserve(fixed + json.length * 3);
      pos += this.scratch.write(json, pos, 'utf8');
    }
    const buf = this.scratch;
    pos += this.statusBytes.copy(buf, pos);
    pos += this.lastTimestampBytes.copy(buf, pos);
    pos += this.tail.copy(buf, pos);
    this.lastByteLength = pos;
    return pos;
  }

  /** Makes room for `n` bytes and writes the `{"message":` prefix; returns the position after it. */
  private reserve(n: number): number {
    if (this.scratch.length < n) this.scratch = Buffer.allocUnsafe(Math.max(n, this.scratch.length * 2));
    return MESSAGE_PREFIX.copy(this.scratch, 0);
  }
}
