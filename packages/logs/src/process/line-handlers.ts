import type { GoRegexp } from './go-regexp.js';
import { trimSpace } from './framer.js';

/** The marker the agent puts where it cut a message (`message.TruncatedFlag`). */
export const TRUNCATED_FLAG = Buffer.from('...TRUNCATED...', 'latin1');
/** What joins the lines of a multi-line message (`message.EscapedLineFeed`): a backslash and an `n`. */
export const ESCAPED_LINE_FEED = Buffer.from('\\n', 'latin1');

/** A line on its way through the decoder. */
export interface DecodedLine {
  content: Buffer;
  /** Raw bytes of input this line (or group of lines) was decoded from. */
  rawLen: number;
  status: string;
  /** The container's timestamp, or `''`. */
  timestamp: string;
  /** Cut at `max_message_size_bytes` (carries a `...TRUNCATED...` marker). */
  truncated: boolean;
  /** Tags the decoder adds: `truncated:<reason>`, `multiline:<source>`. */
  tags: string[];
}

export type LineOutput = (line: DecodedLine) => void;

/** Options shared by the line handlers. */
export interface LineHandlerOptions {
  readonly lineLimit: number;
  readonly tagTruncatedLogs: boolean;
  readonly tagMultiLineLogs: boolean;
  /** Called once per message that gets a trailing `...TRUNCATED...` (the `LogsTruncated` counter). */
  readonly onTruncated: () => void;
}

export interface LineHandler {
  process(line: DecodedLine): void;
  flush(): void;
  /** Buffered raw bytes not emitted yet. */
  readonly pendingRawLen: number;
  readonly hasPending: boolean;
}

/**
 * One message per line, trimmed, with truncation markers (the agent's `SingleLineHandler` /
 * `PassThroughCombiner`): a line the framer cut gets `...TRUNCATED...` at its end, and the line
 * after it gets one at its start.
 */
export class SingleLineHandler implements LineHandler {
  private shouldTruncate = false;
  readonly pendingRawLen = 0;
  readonly hasPending = false;
  private readonly options: LineHandlerOptions;
  private readonly output: LineOutput;

  constructor(options: LineHandlerOptions, output: LineOutput) {
    this.options = options;
    this.output = output;
  }

  process(line: DecodedLine): void {
    const lastWasTruncated = this.shouldTruncate;
    this.shouldTruncate = line.content.length > this.options.lineLimit || line.truncated;
    let content = trimSpace(line.content);
    if (lastWasTruncated || this.shouldTruncate) {
      content = Buffer.concat([lastWasTruncated ? TRUNCATED_FLAG : EMPTY, content, this.shouldTruncate ? TRUNCATED_FLAG : EMPTY]);
      if (this.shouldTruncate) this.options.onTruncated();
      line.truncated = true;
      if (this.options.tagTruncatedLogs) line.tags.push('truncated:single_line');
    }
    line.content = content;
    this.output(line);
  }

  flush(): void {}
}

const EMPTY = Buffer.alloc(0);

/**
 * Lines joined into one message until a line matches the `multi_line` pattern (the agent's
 * `MultiLineHandler` / `RegexAggregator`).
 *
 * @remarks
 * Lines are joined with `\n` as two characters (a backslash and `n`), the group is trimmed when it
 * is sent, and it is sent when the next group starts, when it reaches the line limit (then with
 * `...TRUNCATED...`, and the next part starts with one), or on `flush()` (the aggregation
 * timeout, or the source stopping). Until the pattern has matched once, every line is sent on its
 * own, so a pattern that never matches does not glue a whole file together.
 */
export class MultiLineHandler implements LineHandler {
  private parts: Buffer[] = [];
  private bufferLen = 0;
  private linesLen = 0;
  private linesCombined = 0;
  private shouldTruncate = false;
  private isBufferTruncated = false;
  private patternMatchedOnce = false;
  private lastStatus = '';
  private lastTimestamp = '';
  private readonly options: LineHandlerOptions;
  private readonly pattern: GoRegexp;
  private readonly output: LineOutput;

  constructor(options: LineHandlerOptions, pattern: GoRegexp, output: LineOutput) {
    this.options = options;
    this.pattern = pattern;
    this.output = output;
  }

  get pendingRawLen(): number {
    return this.linesLen;
  }

  get hasPending(): boolean {
    return this.bufferLen > 0 || this.linesLen > 0;
  }

  process(line: DecodedLine): void {
    const matched = this.pattern.test(line.content.toString('utf8'));
    if (matched) this.patternMatchedOnce = true;
    if (matched || !this.patternMatchedOnce) this.sendBuffer();
    const isTruncated = this.shouldTruncate;
    this.shouldTruncate = false;
    this.linesLen += line.rawLen;
    this.lastStatus = line.status;
    this.lastTimestamp = line.timestamp;
    this.linesCombined++;
    if (this.bufferLen > 0) this.write(ESCAPED_LINE_FEED);
    if (isTruncated) {
      this.write(TRUNCATED_FLAG);
      this.isBufferTruncated = true;
    }
    this.write(line.content);
    if (this.bufferLen >= this.options.lineLimit) {
      this.write(TRUNCATED_FLAG);
      this.isBufferTruncated = true;
      this.options.onTruncated();
      this.sendBuffer();
      this.shouldTruncate = true;
    }
  }

  flush(): void {
    this.sendBuffer();
  }

  private write(b: Buffer): void {
    this.parts.push(b);
    this.bufferLen += b.length;
  }

  private sendBuffer(): void {
    const content = trimSpace(this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.bufferLen));
    const linesLen = this.linesLen;
    const combined = this.linesCombined;
    const truncated = this.isBufferTruncated;
    this.parts = [];
    this.bufferLen = 0;
    this.linesLen = 0;
    this.linesCombined = 0;
    this.shouldTruncate = false;
    this.isBufferTruncated = false;
    if (content.length === 0 && linesLen === 0) return;
    const tags: string[] = [];
    if (truncated && this.options.tagTruncatedLogs) tags.push('truncated:multiline_regex');
    if (combined > 1 && this.options.tagMultiLineLogs) tags.push('multiline:multi_line');
    this.output({ content, rawLen: linesLen, status: this.lastStatus, timestamp: this.lastTimestamp, truncated, tags });
  }
}
