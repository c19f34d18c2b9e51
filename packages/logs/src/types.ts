/**
 * The log message every source emits and the sender consumes.
 *
 * @remarks
 * Sources decode bytes into lines (framing, container formats, truncation, multi-line
 * aggregation), the processing rules run on each line, and what survives is pushed into a
 * {@link LogSink}. The sender encodes the fields below into the agent's JSON event and, once the
 * intake accepted the payload, hands every `origin` back to the registry's `ack`, in send order.
 */
export interface LogMessage {
  /**
   * The log line after processing. Bytes (UTF-8, possibly invalid: the encoder replaces invalid
   * sequences) when no rule had to read it, a string once a rule or the JSON status detection did.
   */
  content: Uint8Array | string;
  /** The agent's status: `info` (stdout, files, sockets), `error` (stderr), or a detected one. Never empty. */
  status: string;
  /** The source's `service`, or `''`. */
  service: string;
  /** The source's `source` (the event's `ddsource`), or `''`. */
  source: string;
  /** Every tag of the event: the source's own (`filename:`, `source_host:`, ...), its `tags`, then the global tags. */
  tags: readonly string[];
  /** Milliseconds since the epoch: ingestion time, or the container's when `use_container_timestamp` is on. */
  timestamp: number;
  /** Where the message came from, for the registry. */
  origin: LogOrigin;
}

/**
 * Where a message came from.
 *
 * @remarks
 * `sourceId` names the source instance (`file:/var/log/app.log`, `tcp:10514`, `child:stdout`).
 * `offset` is set only by file tailers: the byte offset just past the last byte this message was
 * decoded from; handing it to `Registry.ack` makes a restart resume exactly after it. Messages
 * without an offset (sockets, the child's pipes, a rotated-away file being drained) are not
 * tracked.
 */
export interface LogOrigin {
  sourceId: string;
  offset?: number | undefined;
}

/** The agent's status values (`pkg/logs/message/status.go`). */
export const LogStatus = {
  EMERGENCY: 'emergency',
  ALERT: 'alert',
  CRITICAL: 'critical',
  ERROR: 'error',
  WARNING: 'warn',
  NOTICE: 'notice',
  INFO: 'info',
  DEBUG: 'debug',
} as const;
export type LogStatus = (typeof LogStatus)[keyof typeof LogStatus];

/**
 * Where sources push messages: a bounded queue with backpressure.
 *
 * @remarks
 * `push` always takes the message and returns `false` once the sink is at its high-water mark:
 * the producer then stops reading (pauses its socket or pipe, stops reading its file) until
 * `writable()` resolves. A producer overruns the mark by at most the messages of one read.
 */
export interface LogSink {
  push(msg: LogMessage): boolean;
  /** True while below the high-water mark (or closed: pushing to a closed sink drops nothing silently, it throws). */
  readonly isWritable: boolean;
  /** Resolves when the sink is below its high-water mark again, or closed. */
  writable(): Promise<void>;
}
