import { ErrorCode, KennelError } from '@kennel/core';
import type { LogMessage, LogSink } from '../types.js';

/** Options of a {@link LogChannel}. */
export interface LogChannelOptions {
  /**
   * Messages the channel holds before `push` returns `false` and producers pause.
   * @defaultValue `10000`
   */
  readonly highWaterMark?: number;
}

/**
 * The bounded FIFO between the sources and the sender.
 *
 * @remarks
 * One consumer (the sender) takes messages with {@link LogChannel.receive} or
 * {@link LogChannel.receiveBatch}, or iterates with `for await`. Producers push; past the
 * high-water mark `push` still takes the message but returns `false`, and `writable()` resolves
 * once the consumer took the queue below the mark. Closing lets the consumer drain what is left,
 * then its reads end (`undefined`, `[]`, end of iteration): shutdown loses nothing.
 *
 * @example
 * ```ts
 * const channel = new LogChannel({ highWaterMark: 1000 });
 * for await (const msg of channel) send(msg);
 * ```
 */
export class LogChannel implements LogSink, AsyncIterable<LogMessage> {
  readonly highWaterMark: number;
  private queue: LogMessage[] = [];
  private head = 0;
  private closedFlag = false;
  private readers: Array<() => void> = [];
  private writers: Array<() => void> = [];

  constructor(options: LogChannelOptions = {}) {
    const hwm = options.highWaterMark ?? 10_000;
    if (!Number.isInteger(hwm) || hwm < 1) {
      throw new KennelError(ErrorCode.INVALID_ARGUMENT, `LogChannel highWaterMark must be an integer >= 1, got ${String(hwm)}`);
    }
    this.highWaterMark = hwm;
  }

  /** Messages waiting. */
  get length(): number {
    return this.queue.length - this.head;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  get isWritable(): boolean {
    return this.closedFlag || this.length < this.highWaterMark;
  }

  /**
   * Appends a message; `false` means the channel is at its high-water mark and the producer should
   * wait for `writable()`.
   * @throws KennelError `ERR_INVALID_ARGUMENT` after `close()`: sources are stopped before the channel closes.
   */
  push(msg: LogMessage): boolean {
    if (this.closedFlag) throw new KennelError(ErrorCode.INVALID_ARGUMENT, 'push on a closed LogChannel: stop the sources before closing it');
    this.queue.push(msg);
    if (this.readers.length > 0) {
      const r = this.readers;
      this.readers = [];
      for (const wake of r) wake();
    }
    return this.length < this.highWaterMark;
  }

  writable(): Promise<void> {
    if (this.isWritable) return Promise.resolve();
    return new Promise((resolve) => this.writers.push(resolve));
  }

  /** Takes the oldest message, or `undefined` when none is waiting. */
  tryReceive(): LogMessage | undefined {
    if (this.head >= this.queue.length) return undefined;
    const msg = this.queue[this.head]!;
    this.queue[this.head] = undefined as unknown as LogMessage;
    this.head++;
    this.compact();
    this.wakeWriters();
    return msg;
  }

  /** Waits for a message; `undefined` once the channel is closed and drained. */
  async receive(): Promise<LogMessage | undefined> {
    for (;;) {
      const msg = this.tryReceive();
      if (msg !== undefined) return msg;
      if (this.closedFlag) return undefined;
      await new Promise<void>((resolve) => this.readers.push(resolve));
    }
  }

  /** Waits for at least one message and takes up to `max`; `[]` once closed and drained. */
  async receiveBatch(max: number): Promise<LogMessage[]> {
    for (;;) {
      const n = Math.min(max, this.length);
      if (n > 0) {
        const out = this.queue.slice(this.head, this.head + n);
        for (let i = 0; i < n; i++) this.queue[this.head + i] = undefined as unknown as LogMessage;
        this.head += n;
        this.compact();
        this.wakeWriters();
        return out;
      }
      if (this.closedFlag) return [];
      await new Promise<void>((resolve) => this.readers.push(resolve));
    }
  }

  /** Resolves when a message is waiting or the channel closed. */
  whenReadable(): Promise<void> {
    if (this.length > 0 || this.closedFlag) return Promise.resolve();
    return new Promise((resolve) => this.readers.push(resolve));
  }

  /** No more pushes; the consumer drains what is queued, then its reads end. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    const r = this.readers;
    this.readers = [];
    for (const wake of r) wake();
    const w = this.writers;
    this.writers = [];
    for (const wake of w) wake();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LogMessage> {
    for (;;) {
      const msg = await this.receive();
      if (msg === undefined) return;
      yield msg;
    }
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private wakeWriters(): void {
    if (this.writers.length > 0 && this.length < this.highWaterMark) {
      const w = this.writers;
      this.writers = [];
      for (const wake of w) wake();
    }
  }
}
