import { ErrorCode, KennelError } from '@kennel/core';
import type { LogMessage, LogSink } from '../types.js';
import { DEFAULT_AGGREGATION_TIMEOUT_MS, DEFAULT_MAX_MESSAGE_SIZE, LineDecoder, type Framing } from '../process/decoder.js';
import type { DecodedLine } from '../process/line-handlers.js';
import { createLogsPipelineCounters, Processor, type LogsPipelineCounters } from '../process/processor.js';
import { multiLineRule, type ProcessingRule } from '../process/rules.js';
import type { LogFormat } from '../process/container-formats.js';
import { parseRfc3339Ms } from '../process/container-formats.js';

/** What every source shares: where messages go, the global rules and tags, the limits. */
export interface LogsContextOptions {
  /** Where processed messages go (a `LogChannel` the sender reads). */
  readonly output: LogSink;
  /** @defaultValue a fresh set from `createLogsPipelineCounters()` */
  readonly counters?: LogsPipelineCounters;
  /** `logs_config.processing_rules`, compiled. @defaultValue `[]` */
  readonly globalRules?: readonly ProcessingRule[];
  /** `DD_TAGS`, added to every message. @defaultValue `[]` */
  readonly globalTags?: readonly string[];
  /** `logs_config.max_message_size_bytes`. @defaultValue `900000` */
  readonly maxMessageSize?: number;
  /** `logs_config.aggregation_timeout` in milliseconds. @defaultValue `1000` */
  readonly aggregationTimeoutMs?: number;
  /** `logs_config.tag_truncated_logs`. @defaultValue `false` */
  readonly tagTruncatedLogs?: boolean;
  /** `logs_config.tag_multi_line_logs`. @defaultValue `false` */
  readonly tagMultiLineLogs?: boolean;
  /** `logs_config.use_container_timestamp`: a container line's own time becomes the message timestamp. @defaultValue `false` */
  readonly useContainerTimestamp?: boolean;
  /** Status from JSON `status`/`level` attributes (not agent behaviour; see `ProcessorOptions`). @defaultValue `false` */
  readonly detectJsonStatus?: boolean;
  /** Clock in milliseconds. @defaultValue `Date.now` */
  readonly now?: () => number;
}

/** The resolved, frozen form of {@link LogsContextOptions}. */
export interface LogsContext {
  readonly output: LogSink;
  readonly counters: LogsPipelineCounters;
  readonly globalRules: readonly ProcessingRule[];
  readonly globalTags: readonly string[];
  readonly maxMessageSize: number;
  readonly aggregationTimeoutMs: number;
  readonly tagTruncatedLogs: boolean;
  readonly tagMultiLineLogs: boolean;
  readonly useContainerTimestamp: boolean;
  readonly detectJsonStatus: boolean;
  readonly now: () => number;
}

/**
 * Validates the shared options and fills in the defaults.
 * @throws KennelError `ERR_CONFIG_INVALID` naming the key of a bad limit.
 */
export function createLogsContext(options: LogsContextOptions): LogsContext {
  const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  if (!Number.isInteger(maxMessageSize) || maxMessageSize < 1) {
    throw new KennelError(ErrorCode.CONFIG_INVALID, `logs_config.max_message_size_bytes must be a positive integer, got ${String(maxMessageSize)}`);
  }
  const aggregationTimeoutMs = options.aggregationTimeoutMs ?? DEFAULT_AGGREGATION_TIMEOUT_MS;
  if (!Number.isFinite(aggregationTimeoutMs) || aggregationTimeoutMs <= 0) {
    throw new KennelError(ErrorCode.CONFIG_INVALID, `logs_config.aggregation_timeout must be a positive number of milliseconds, got ${String(aggregationTimeoutMs)}`);
  }
  return Object.freeze({
    output: options.output,
    counters: options.counters ?? createLogsPipelineCounters(),
    globalRules: Object.freeze([...(options.globalRules ?? [])]),
    globalTags: Object.freeze([...(options.globalTags ?? [])]),
    maxMessageSize,
    aggregationTimeoutMs,
    tagTruncatedLogs: options.tagTruncatedLogs ?? false,
    tagMultiLineLogs: options.tagMultiLineLogs ?? false,
    useContainerTimestamp: options.useContainerTimestamp ?? false,
    detectJsonStatus: options.detectJsonStatus ?? false,
    now: options.now ?? Date.now,
  });
}

/** What a source stamps on its messages. */
export interface SourceIdentity {
  readonly service: string;
  readonly source: string;
}

/**
 * One input's decoding and processing, ending in the sink: a decoder, the processor of its
 * source, and the message fields it stamps. Used by every source.
 */
export class InputPipeline {
  readonly decoder: LineDecoder;
  readonly processor: Processor;
  private readonly ctx: LogsContext;
  private readonly identity: SourceIdentity;
  private tags: readonly string[];
  /** The source id messages carry. */
  sourceId: string;
  /** Offset of the next byte to decode, or `undefined` when not tracked. */
  offset: number | undefined;
  /** Offset of the last tracked message pushed, or `undefined`. */
  lastPushedOffset: number | undefined = undefined;
  /** False once the sink reported its high-water mark; the owner waits for `writable()`. */
  writable = true;
  /** Overrides the status of every line (`error` for stderr), or `''`. */
  private readonly status: string;

  constructor(
    ctx: LogsContext,
    options: {
      readonly rules: readonly ProcessingRule[];
      readonly identity: SourceIdentity;
      readonly tags: readonly string[];
      readonly sourceId: string;
      readonly offset: number | undefined;
      readonly format: LogFormat;
      readonly framing: Framing;
      readonly status?: string;
      readonly onParseError?: (reason: string) => void;
    },
  ) {
    this.ctx = ctx;
    this.identity = options.identity;
    this.tags = Object.freeze([...options.tags]);
    this.sourceId = options.sourceId;
    this.offset = options.offset;
    this.status = options.status ?? '';
    this.processor = new Processor({ globalRules: ctx.globalRules, sourceRules: options.rules, globalTags: ctx.globalTags, counters: ctx.counters, detectJsonStatus: ctx.detectJsonStatus });
    const counters = ctx.counters.counters;
    this.decoder = new LineDecoder(
      {
        format: options.format,
        maxMessageSize: ctx.maxMessageSize,
        multiLine: multiLineRule(options.rules)?.regex,
        aggregationTimeoutMs: ctx.aggregationTimeoutMs,
        tagTruncatedLogs: ctx.tagTruncatedLogs,
        tagMultiLineLogs: ctx.tagMultiLineLogs,
        framing: options.framing,
        onTruncated: () => counters.add('LogsTruncated'),
        ...(options.onParseError !== undefined ? { onParseError: options.onParseError } : {}),
      },
      (line) => this.emit(line),
    );
  }

  /** Replaces the tags stamped on later messages. */
  setTags(tags: readonly string[]): void {
    this.tags = Object.freeze([...tags]);
  }

  private emit(line: DecodedLine): void {
    let offset: number | undefined;
    if (this.offset !== undefined) {
      this.offset += line.rawLen;
      offset = this.offset;
    }
    // Empty lines move the offset and are not sent (the agent's tailer does the same).
    if (line.content.length === 0) return;
    const ctx = this.ctx;
    let timestamp = ctx.now();
    if (ctx.useContainerTimestamp && line.timestamp !== '') {
      const t = parseRfc3339Ms(line.timestamp);
      if (!Number.isNaN(t)) timestamp = t;
    }
    const status = this.status !== '' ? this.status : line.status !== '' ? line.status : 'info';
    const tags = line.tags.length === 0 ? this.tags : [...this.tags, ...line.tags];
    const msg: LogMessage = {
      content: line.content,
      status,
      service: this.identity.service,
      source: this.identity.source,
      tags,
      timestamp,
      origin: { sourceId: this.sourceId, offset },
    };
    if (this.processor.process(msg, line.truncated) === null) return;
    if (offset !== undefined) this.lastPushedOffset = offset;
    if (!ctx.output.push(msg)) this.writable = false;
  }

  /** Waits until the sink takes messages again. */
  async waitWritable(): Promise<void> {
    if (this.writable) return;
    // The source stops reading until then: its partial line waits with it (LineDecoder.hold).
    this.decoder.hold();
    try {
      await this.ctx.output.writable();
    } finally {
      this.decoder.release();
    }
    this.writable = true;
  }
}
