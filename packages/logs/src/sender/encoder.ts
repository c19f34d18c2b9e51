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
 * Encodes events for one sender. It remembers the last service, source and tag list it saw, so a
 * run of events from one source builds those strings once.
 */
export class LogEventEncoder {
  private readonly hostnameJson: string;
  private lastService = '';
  private lastServiceJson = '""';
  private lastSource = '';
  private lastSourceJson = '""';
  private lastTags: readonly string[] | undefined = undefined;
  private lastTagsJson = '""';

  constructor(hostname: string) {
    this.hostnameJson = goJsonString(hostname);
  }

  /** The event's JSON text; `timestampMs` is the encode time. */
  encode(m: SenderMessage, timestampMs: number): string {
    const content = typeof m.content === 'string' ? m.content : utf8.decode(m.content);
    if (m.service !== this.lastService) {
      this.lastService = m.service;
      this.lastServiceJson = goJsonString(m.service);
    }
    if (m.source !== this.lastSource) {
      this.lastSource = m.source;
      this.lastSourceJson = goJsonString(m.source);
    }
    if (m.tags !== this.lastTags) {
      this.lastTags = m.tags;
      this.lastTagsJson = goJsonString(m.tags.join(','));
    }
    const status = m.status === '' ? DEFAULT_STATUS : m.status;
    return (
      '{"message":' +
      goJsonString(content) +
      ',"status":' +
      goJsonString(status) +
      ',"timestamp":' +
      Math.trunc(timestampMs) +
      ',"hostname":' +
      this.hostnameJson +
      ',"service":' +
      this.lastServiceJson +
      ',"ddsource":' +
      this.lastSourceJson +
      ',"ddtags":' +
      this.lastTagsJson +
      '}'
    );
  }
}
