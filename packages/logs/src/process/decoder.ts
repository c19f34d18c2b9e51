import { NewlineFramer } from './framer.js';
import { LogFormat, parseCriLine, parseDockerJsonLine, type ParsedLine } from './container-formats.js';
import type { GoRegexp } from './go-regexp.js';
import { MultiLineHandler, SingleLineHandler, type DecodedLine, type LineHandler, type LineOutput } from './line-handlers.js';

/** How the input ends frames besides newlines. */
export const Framing = {
  /** A file: a partial last line waits for its newline, however long (a restart re-reads it). */
  FILE: 'file',
  /** A pipe or TCP stream: a partial line is sent after `aggregationTimeoutMs` of silence, and at the end. */
  STREAM: 'stream',
  /** A datagram: each one ends with its last frame. */
  DATAGRAM: 'datagram',
} as const;
export type Framing = (typeof Framing)[keyof typeof Framing];

/** Options of a {@link LineDecoder}. */
export interface LineDecoderOptions {
  /** @defaultValue `'raw'` */
  readonly format?: LogFormat;
  /** `logs_config.max_message_size_bytes`. @defaultValue `900000` */
  readonly maxMessageSize?: number;
  /** The source's `multi_line` pattern (with its leading `^`), if any. */
  readonly multiLine?: GoRegexp | undefined;
  /** `logs_config.aggregation_timeout` in milliseconds. @defaultValue `1000` */
  readonly aggregationTimeoutMs?: number;
  /** `logs_config.tag_truncated_logs`. @defaultValue `false` */
  readonly tagTruncatedLogs?: boolean;
  /** `logs_config.tag_multi_line_logs`. @defaultValue `false` */
  readonly tagMultiLineLogs?: boolean;
  /** @defaultValue `'file'` */
  readonly framing?: Framing;
  /** Arm the aggregation timer; off, the owner calls `flush()` itself. @defaultValue `true` */
  readonly timers?: boolean;
  /** Called once per message cut at the size limit. */
  readonly onTruncated?: () => void;
  /** Called once per container line that did not parse (the line is still sent, raw). */
  readonly onParseError?: (reason: string) => void;
}

/** The agent's default `logs_config.max_message_size_bytes`. */
export const DEFAULT_MAX_MESSAGE_SIZE = 900_000;
/** The agent's default `logs_config.aggregation_timeout`, in milliseconds. */
export const DEFAULT_AGGREGATION_TIMEOUT_MS = 1000;

/**
 * Bytes to messages for one input (a file, a pipe, a connection): framing, the container format,
 * re-joining the runtime's partial lines, truncation at `max_message_size_bytes`, multi-line
 * aggregation.
 *
 * @remarks
 * The agent's decoder chain (`pkg/logs/internal/decoder`: framer, line parser, line handler) in
 * one synchronous object. Every message carries `rawLen`, the input bytes it consumed, so a file
 * tailer knows the offset just past it. Output order is input order; chunk boundaries never
 * change the messages.
 */
export class LineDecoder {
  private readonly framer: NewlineFramer;
  private readonly format: LogFormat;
  private readonly framing: Framing;
  private readonly lineLimit: number;
  private readonly handler: LineHandler;
  private readonly timeoutMs: number;
  private readonly timers: boolean;
  private readonly onParseError: ((reason: string) => void) | undefined;
  private timer: NodeJS.Timeout | undefined = undefined;
  /** The owner paused its input for backpressure (see `hold`). */
  private held = false;
  // Partial-line joining (the agent's MultiLineParser), docker and cri only.
  private joinParts: Buffer[] = [];
  private joinLen = 0;
  private joinRaw = 0;
  private joinLast: ParsedLine | undefined = undefined;
  private joinTruncated = false;
  private readonly onFrameBound: (content: Buffer, rawLen: number, truncated: boolean) => void;

  constructor(options: LineDecoderOptions, output: LineOutput) {
    this.format = options.format ?? 'raw';
    this.framing = options.framing ?? 'file';
    this.lineLimit = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.timeoutMs = options.aggregationTimeoutMs ?? DEFAULT_AGGREGATION_TIMEOUT_MS;
    this.timers = options.timers ?? true;
    this.onParseError = options.onParseError;
    this.framer = new NewlineFramer(this.lineLimit);
    const handlerOptions = {
      lineLimit: this.lineLimit,
      tagTruncatedLogs: options.tagTruncatedLogs ?? false,
      tagMultiLineLogs: options.tagMultiLineLogs ?? false,
      onTruncated: options.onTruncated ?? ((): void => {}),
    };
    this.handler = options.multiLine !== undefined ? new MultiLineHandler(handlerOptions, options.multiLine, output) : new SingleLineHandler(handlerOptions, output);
    this.onFrameBound = (content, rawLen, truncated) => this.onFrame(content, rawLen, truncated);
  }

  /** Input bytes taken but not sent as a message yet. */
  get pendingRawLen(): number {
    return this.framer.pending + this.joinRaw + this.handler.pendingRawLen;
  }

  /** Decodes a chunk; messages it completes are output before this returns. */
  write(chunk: Uint8Array): void {
    this.framer.write(chunk, this.onFrameBound);
    if (this.framing === 'datagram') this.framer.flushRemainder(this.onFrameBound);
    this.arm();
  }

  /** Sends what the joiner and the multi-line handler hold (the aggregation timeout, or a stop). */
  flush(): void {
    this.flushJoin(false);
    this.handler.flush();
    this.arm();
  }

  /** The input ended: a stream's partial line is sent, then everything held. A file's partial line is kept. */
  end(): void {
    if (this.framing !== 'file') this.framer.flushRemainder(this.onFrameBound);
    this.flush();
    this.close();
  }

  /**
   * The file was truncated: what was decoded is sent, the partial line is dropped. Returns the
   * bytes dropped.
   */
  restart(): number {
    this.flush();
    return this.framer.reset();
  }

  /**
   * The owner stopped reading its input because the pipeline is full (backpressure): until
   * `release`, the aggregation timer does not run. A writer paused by kennel has not gone
   * silent, so its partial line (or open multi-line group) must not be cut for it: an outage of
   * the intake would otherwise split lines where the pipe happened to pause.
   */
  hold(): void {
    this.held = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Reading goes on: the aggregation timer runs again, from a full `aggregation_timeout`. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    this.arm();
  }

  /** Stops the timer. */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private onFrame(content: Buffer, rawLen: number, truncated: boolean): void {
    if (this.format === 'raw') {
      this.handler.process({ content, rawLen, status: '', timestamp: '', truncated, tags: [] });
      return;
    }
    const parsed = this.format === 'docker' ? parseDockerJsonLine(content) : parseCriLine(content);
    if (parsed.error !== '') this.onParseError?.(parsed.error);
    this.joinRaw += rawLen;
    if (truncated) this.joinTruncated = true;
    if (parsed.content.length > 0) {
      this.joinParts.push(parsed.content);
      this.joinLen += parsed.content.length;
    }
    this.joinLast = parsed;
    if (!parsed.partial) this.flushJoin(false);
    else if (this.joinLen >= this.lineLimit) this.flushJoin(true);
  }

  private flushJoin(capped: boolean): void {
    const last = this.joinLast;
    if (last === undefined) return;
    const content = this.joinParts.length === 1 ? this.joinParts[0]! : Buffer.concat(this.joinParts, this.joinLen);
    const rawLen = this.joinRaw;
    const truncated = capped || this.joinTruncated;
    this.joinTruncated = false;
    this.joinParts = [];
    this.joinLen = 0;
    this.joinRaw = 0;
    this.joinLast = undefined;
    this.handler.process({ content, rawLen, status: last.status, timestamp: last.timestamp, truncated, tags: [] } satisfies DecodedLine);
  }

  private arm(): void {
    if (!this.timers || this.held) return;
    const pending = this.joinLast !== undefined || this.handler.hasPending || (this.framing === 'stream' && this.framer.pending > 0);
    if (!pending) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      return;
    }
    if (this.timer !== undefined) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.framing === 'stream') this.framer.flushRemainder(this.onFrameBound);
      this.flush();
    }, this.timeoutMs);
    this.timer.unref();
  }
}
