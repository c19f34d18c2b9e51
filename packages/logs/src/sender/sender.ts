import { performance } from 'node:perf_hooks';
import { ErrorCode, KennelError } from '@kennel/core';
import { LogsBackoffPolicy } from './backoff.js';
import { loadLogsCompression, type LogsCompression } from './compression.js';
import { resolveLogsSenderConfig, type LogsSenderConfig, type LogsSenderOptions } from './config.js';
import { createLogsAgentCounters, type LogsAgentCounterName, type LogsAgentCounters } from './counters.js';
import { LogEventEncoder, type SenderMessage } from './encoder.js';
import type { LogsRequest, LogsSink, LogsSinkOutcome } from './sink.js';
import {
  formatLogsAgentStatus,
  logsAgentExpvars,
  logsStatusMetrics,
  type LogsAgentStatus,
  type LogsIntegrationStatus,
} from './status.js';

/**
 * What became of a payload's messages when `onAccepted` is called: `sent` (the intake answered
 * below 400) or `dropped` (it answered 400, 401, 403 or 413, or the message alone was larger than
 * `batch_max_content_size`). Either way the messages are done with: the agent's auditor
 * advances past dropped payloads too, since sending them again would be refused again.
 */
export type AcceptedOutcome = 'sent' | 'dropped';

/** What one attempt's answer means (the agent's `unconditionalSend` classification). */
export const SendVerdict = {
  /** Below 400: accepted. */
  SUCCESS: 'success',
  /** 400, 401, 403, 413: refused for good; dropped and counted. */
  DROP: 'drop',
  /** Any other status from 401 up (404, 408, 429, 5xx) and every transport failure: retried forever. */
  RETRY: 'retry',
  /** Abandoned at shutdown. */
  CANCELLED: 'cancelled',
} as const;
export type SendVerdict = (typeof SendVerdict)[keyof typeof SendVerdict];

/** Classifies one attempt as `unconditionalSend` does. */
export function classifyLogsOutcome(outcome: LogsSinkOutcome): SendVerdict {
  switch (outcome.kind) {
    case 'cancelled':
      return SendVerdict.CANCELLED;
    case 'error':
      return SendVerdict.RETRY;
    case 'response': {
      const s = outcome.status;
      if (s === 400 || s === 401 || s === 403 || s === 413) return SendVerdict.DROP;
      return s > 400 ? SendVerdict.RETRY : SendVerdict.SUCCESS;
    }
  }
}

export interface LogsSenderInit<M extends SenderMessage = SenderMessage> {
  /** Where payloads go: {@link HttpLogsSink} or, in local mode, {@link createSubmitLogsSink}. */
  readonly sink: LogsSink;
  /** `hostname` of every event. */
  readonly hostname: string;
  /** The options, or a configuration already resolved. @defaultValue the agent's defaults */
  readonly config?: LogsSenderOptions | LogsSenderConfig;
  /**
   * Called once per payload, in the order the payloads were cut, after the intake accepted it
   * (`sent`) or refused it for good (`dropped`); never for a payload abandoned at shutdown. The
   * registry acknowledges offsets here (see {@link ackEach}). It must not throw.
   */
  readonly onAccepted?: (messages: readonly M[], outcome: AcceptedOutcome) => void;
  /**
   * The pipeline's shared counters. The sender bumps `LogsSent`, `BytesSent`, `EncodedBytesSent`,
   * `RetryCount`, `RetryTimeSpent`, `DestinationErrors`, `SenderLatency` and
   * `DestinationLogsDropped`; give the same `counters.counters` set to the processing stage, which
   * bumps `LogsDecoded`, `LogsProcessed`, `LogsTruncated` and `BytesMissed` (the agent counts
   * those in its processor and tailers), so status shows one set.
   * @defaultValue a new {@link createLogsAgentCounters}
   */
  readonly counters?: LogsAgentCounters;
  /** The compression to use. @defaultValue what the configuration asks for, loaded on first use ({@link loadLogsCompression}) */
  readonly compression?: LogsCompression | Promise<LogsCompression>;
  /** The wall clock for events' `timestamp`, in milliseconds. @defaultValue `Date.now` */
  readonly now?: () => number;
  /** Backoff jitter, in `[0, 1)`. @defaultValue `Math.random` */
  readonly random?: () => number;
  /** Where the one-line warnings go. @defaultValue `process.emitWarning` */
  readonly warn?: (line: string) => void;
}

interface Payload<M> {
  readonly messages: M[];
  /** Messages dropped for being too large after this payload was cut, acknowledged after it. */
  trailing: M[] | undefined;
  /** `onAccepted` has been called for it. */
  finished: boolean;
  readonly eventCount: number;
  /** Serialized bytes before compression (`UnencodedSize`): brackets and commas included. */
  readonly unencodedSize: number;
  readonly messageTimestampMs: number;
  readonly body: Promise<{ readonly body: Uint8Array; readonly contentEncoding: string } | Error>;
  readonly done: Deferred;
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

interface Waiter<M> {
  readonly messages: readonly M[];
  next: number;
  resolve(): void;
  reject(e: Error): void;
}

const RESOLVED: Promise<void> = Promise.resolve();

/** The first size of a batch's buffer; later ones start at the size of the one before. */
const BATCH_BUFFER_START = 64 * 1024;

const State = { OPEN: 0, CLOSING: 1, CLOSED: 2 } as const;
type State = (typeof State)[keyof typeof State];

/** Sleeps `ms`, or less when `signal` aborts; answers whether the whole wait elapsed. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(t);
      resolve(false);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Adapts a registry's `ack(sourceId, offset)` to `onAccepted`: every message of an accepted
 * payload that carries an offset is acknowledged, in order.
 *
 * @example
 * ```ts
 * const sender = new LogsSender({ sink, hostname, onAccepted: ackEach((id, offset) => registry.ack(id, offset)) });
 * ```
 */
export function ackEach<M extends SenderMessage>(
  ack: (sourceId: string, offset: NonNullable<M['origin']['offset']>) => void,
): (messages: readonly M[]) => void {
  return (messages) => {
    for (const m of messages) {
      const offset = m.origin.offset;
      if (offset !== undefined && offset !== null) ack(m.origin.sourceId, offset as NonNullable<M['origin']['offset']>);
    }
  };
}

/**
 * The logs sender: batches encoded events into payloads (the agent's batch strategy), compresses
 * them, and hands them to one destination that never drops for a transient error (the agent's
 * HTTP destination, one payload in flight).
 *
 * @remarks
 * Batching (`pkg/logs/sender/batch_strategy.go`, `batch.go`, `message_buffer.go`): a payload is
 * cut when it holds `batch_max_size` events, when the encoded events reach
 * `batch_max_content_size` bytes, when the next event would not fit (the buffer is flushed and
 * the event added to the next one), and on a `batch_wait` ticker. An event larger than the limit
 * on its own is dropped with a warning.
 *
 * Sending (`comp/logs-library/client/http/destination.go`): before each attempt the sender waits
 * the backoff its error count calls for (counting `RetryCount` and `RetryTimeSpent`); 400, 401,
 * 403 and 413 drop the payload (`DestinationLogsDropped`); any other status from 401 up and every
 * transport failure are retried forever; below 400 is success (`LogsSent`). While a payload is
 * being retried the queue fills (`payload_channel_size`), then `send` waits: the backpressure
 * reaches the sources, and no log is dropped for a transient error.
 *
 * Order: payloads are sent one at a time in the order they were cut, and `onAccepted` follows
 * that order, so a registry acknowledging offsets there acknowledges them in send order.
 *
 * @example
 * ```ts
 * const sink = new HttpLogsSink(resolveLogsEndpoint({ apiKey }));
 * const sender = new LogsSender({ sink, hostname: 'web-1', onAccepted: ackEach(registry.ack) });
 * await sender.send(message); // waits while the intake is unreachable and the queue is full
 * await sender.close();
 * ```
 */
export class LogsSender<M extends SenderMessage = SenderMessage> {
  readonly config: LogsSenderConfig;
  readonly sink: LogsSink;
  readonly counters: LogsAgentCounters;
  private readonly encoder: LogEventEncoder;
  private readonly policy: LogsBackoffPolicy;
  private readonly onAccepted: ((messages: readonly M[], outcome: AcceptedOutcome) => void) | undefined;
  private readonly compression: Promise<LogsCompression>;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly warn: (line: string) => void;
  private readonly abort = new AbortController();
  private readonly ticker: NodeJS.Timeout;

  // The batch being filled.
  /** The serialized batch: `[`, then the events separated by `,` (the `]` is added when it is cut). */
  private batchBytes: Buffer = Buffer.allocUnsafe(BATCH_BUFFER_START);
  private batchLength = 1;
  private batchMessages: M[] = [];
  /** The events' bytes, separators not counted (the agent's `MessageBuffer` content size). */
  private contentSize = 0;

  // Cut payloads, oldest first; `inflight` is the one the destination holds.
  private readonly queue: Payload<M>[] = [];
  private inflight: Payload<M> | undefined = undefined;
  private pumping = false;
  private readonly waiters: Waiter<M>[] = [];
  private gateOpen = true;

  // Destination state.
  private nbErrors = 0;
  private retrying = false;
  private droppedWarnings = 0;

  private state: State = State.OPEN;
  private closed: Deferred | undefined = undefined;
  private graceTimer: NodeJS.Timeout | undefined = undefined;

  constructor(init: LogsSenderInit<M>) {
    const c = init.config ?? {};
    this.warn = init.warn ?? ((line: string) => process.emitWarning(line, 'KennelWarning'));
    this.config = 'batchWaitMs' in c ? c : resolveLogsSenderConfig(c, { warn: this.warn });
    this.sink = init.sink;
    this.counters = init.counters ?? createLogsAgentCounters();
    this.encoder = new LogEventEncoder(init.hostname);
    this.policy = new LogsBackoffPolicy(this.config.backoff);
    this.onAccepted = init.onAccepted;
    this.now = init.now ?? Date.now;
    this.random = init.random ?? Math.random;
    this.compression = Promise.resolve(init.compression ?? loadLogsCompression(this.config, { warn: this.warn }));
    this.batchBytes[0] = 0x5b;
    // The agent's flush ticker runs whether or not the buffer holds anything.
    this.ticker = setInterval(() => this.flushBuffer(), this.config.batchWaitMs);
    this.ticker.unref();
  }

  // --- input -------------------------------------------------------------------------------------

  /**
   * Takes one message. Resolves at once while the queue has room; while the destination is
   * retrying and the queue is full, waits until the message could be taken (backpressure). Rejects
   * only once the sender is closed.
   */
  send(message: M): Promise<void> {
    if (this.state === State.CLOSED) return Promise.reject(this.closedError());
    if (this.gateOpen && this.waiters.length === 0) {
      this.accept(message);
      return RESOLVED;
    }
    return this.enqueueWaiter([message], 0);
  }

  /** Takes several messages in order; the same as awaiting `send` for each, with one promise. */
  sendBatch(messages: readonly M[]): Promise<void> {
    if (this.state === State.CLOSED) return Promise.reject(this.closedError());
    let i = 0;
    if (this.waiters.length === 0) {
      while (i < messages.length && this.gateOpen) this.accept(messages[i++]!);
      if (i === messages.length) return RESOLVED;
    }
    return this.enqueueWaiter(messages, i);
  }

  /** Whether `send` would wait now. */
  get blocked(): boolean {
    return !this.gateOpen || this.waiters.length > 0;
  }

  /** Payloads cut and not yet accepted or dropped, the one in flight included. */
  get pendingPayloads(): number {
    return this.queue.length + (this.inflight !== undefined ? 1 : 0);
  }

  /** The destination's error count (0 when healthy); the next attempt waits the backoff it calls for. */
  get errorCount(): number {
    return this.nbErrors;
  }

  /**
   * Cuts the current batch and resolves once every payload cut so far has been accepted or
   * dropped (or abandoned at shutdown).
   */
  flush(): Promise<void> {
    this.flushBuffer();
    const last = this.queue.length > 0 ? this.queue[this.queue.length - 1] : this.inflight;
    return last !== undefined ? last.done.promise : RESOLVED;
  }

  /**
   * Stops the ticker, cuts the last batch, and waits for every queued payload; after
   * `stop_grace_period` the rest is abandoned (its messages are never passed to `onAccepted`, so
   * they are read again after a restart) and waiting `send` calls reject. Messages sent while
   * closing are still taken.
   */
  close(): Promise<void> {
    if (this.closed !== undefined) return this.closed.promise;
    this.closed = deferred();
    this.state = State.CLOSING;
    clearInterval(this.ticker);
    this.graceTimer = setTimeout(() => this.abandon(), this.config.stopGracePeriodMs);
    this.maybeFinishClose();
    return this.closed.promise;
  }

  // --- status --------------------------------------------------------------------------------------

  /** The Logs Agent status line of this sender's endpoint. */
  endpointLine(): string {
    return this.sink.statusLine(this.config.useCompression);
  }

  /** `logsStats` for `kennel status --json`; `integrations` come from the sources. */
  logsStats(integrations: readonly LogsIntegrationStatus[] = [], warnings: readonly string[] = [], errors: readonly string[] = []): LogsAgentStatus {
    return {
      is_running: this.state !== State.CLOSED,
      endpoints: [this.endpointLine()],
      metrics: logsStatusMetrics(this.counters),
      integrations,
      errors,
      warnings,
      use_http: true,
    };
  }

  /**
   * The Logs Agent section of `kennel status`: the endpoint line
   * (`Reliable: Sending compressed logs in HTTPS to agent-http-intake.logs.datadoghq.com on port 443`),
   * `BytesSent`, `EncodedBytesSent`, `LogsProcessed`, `LogsSent`, `LogsTruncated`, `RetryCount`,
   * `RetryTimeSpent`, then the integrations given.
   */
  statusLines(integrations: readonly LogsIntegrationStatus[] = []): string[] {
    return formatLogsAgentStatus(this.logsStats(integrations));
  }

  /** The `logs-agent` expvar map. */
  expvars(): Record<string, unknown> {
    return logsAgentExpvars(this.counters, this.state !== State.CLOSED);
  }

  // --- batching ------------------------------------------------------------------------------------

  private closedError(): KennelError {
    return new KennelError(ErrorCode.INVALID_ARGUMENT, 'LogsSender: the sender is closed; messages are no longer taken');
  }

  private enqueueWaiter(messages: readonly M[], next: number): Promise<void> {
    return new Promise((resolve, reject) => this.waiters.push({ messages, next, resolve, reject }));
  }

  private accept(m: M): void {
    // The event's bytes are in encoder.scratch until the next encode.
    const size = this.encoder.encodeBytes(m, this.config.useContainerTimestamp ? m.timestamp : this.now());
    if (!this.tryAdd(m, size)) {
      // Does not fit: cut the batch, then try once more in an empty one.
      this.flushBuffer();
      if (!this.tryAdd(m, size)) {
        this.warn(
          `Dropped message in pipeline=logs reason=too-large ContentLength=${size} ContentSizeLimit=${this.config.batchMaxContentSize}`,
        );
        this.ackAfterQueued(m);
        return;
      }
    }
    if (this.batchMessages.length === this.config.batchMaxSize || this.contentSize === this.config.batchMaxContentSize) {
      this.flushBuffer();
    }
  }

  private tryAdd(m: M, size: number): boolean {
    if (this.batchMessages.length < this.config.batchMaxSize && this.contentSize + size <= this.config.batchMaxContentSize) {
      // Room for a comma, the event and the closing bracket.
      const need = this.batchLength + size + 2;
      if (need > this.batchBytes.length) {
        const grown = Buffer.allocUnsafe(Math.max(need, this.batchBytes.length * 2));
        this.batchBytes.copy(grown, 0, 0, this.batchLength);
        this.batchBytes = grown;
      }
      if (this.batchMessages.length > 0) this.batchBytes[this.batchLength++] = 0x2c;
      this.batchLength += this.encoder.scratch.copy(this.batchBytes, this.batchLength, 0, size);
      this.batchMessages.push(m);
      this.contentSize += size;
      return true;
    }
    return false;
  }

  /** Starts an empty batch, its buffer sized like the last one. */
  private resetBatch(sizeHint: number): void {
    this.batchBytes = Buffer.allocUnsafe(Math.max(BATCH_BUFFER_START, sizeHint));
    this.batchBytes[0] = 0x5b;
    this.batchLength = 1;
    this.batchMessages = [];
    this.contentSize = 0;
  }

  /** A dropped message is acknowledged after every payload cut before it, to keep the order. */
  private ackAfterQueued(m: M): void {
    const last = this.queue.length > 0 ? this.queue[this.queue.length - 1] : this.inflight;
    if (last === undefined || last.finished) {
      this.notifyAccepted([m], 'dropped');
      return;
    }
    (last.trailing ??= []).push(m);
  }

  private flushBuffer(): void {
    const n = this.batchMessages.length;
    if (n === 0) return;
    const messages = this.batchMessages;
    this.batchBytes[this.batchLength++] = 0x5d;
    const raw = this.batchBytes.subarray(0, this.batchLength);
    this.resetBatch(this.batchLength);
    const body = this.compression.then(
      async (c) => ({ body: await c.compress(raw), contentEncoding: c.contentEncoding }),
      (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
    ).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
    this.queue.push({
      messages,
      trailing: undefined,
      finished: false,
      eventCount: n,
      unencodedSize: raw.length,
      messageTimestampMs: messages[n - 1]!.timestamp,
      body,
      done: deferred(),
    });
    if (this.queue.length >= this.config.payloadChannelSize) this.gateOpen = false;
    this.startPump();
  }

  private drainWaiters(): void {
    while (this.gateOpen && this.waiters.length > 0) {
      const w = this.waiters[0]!;
      while (w.next < w.messages.length && this.gateOpen) this.accept(w.messages[w.next++]!);
      if (w.next < w.messages.length) return;
      this.waiters.shift();
      w.resolve();
    }
  }

  // --- destination ---------------------------------------------------------------------------------

  private startPump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.pump();
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0 && this.state !== State.CLOSED) {
      const p = this.queue.shift()!;
      this.inflight = p;
      if (!this.gateOpen && this.queue.length < this.config.payloadChannelSize) {
        this.gateOpen = true;
        this.drainWaiters();
      }
      await this.deliver(p);
      this.inflight = undefined;
      p.done.resolve();
      this.maybeFinishClose();
    }
    this.pumping = false;
    this.maybeFinishClose();
  }

  private add(name: LogsAgentCounterName, n: number): void {
    this.counters.counters.add(name, n);
  }

  private async deliver(p: Payload<M>): Promise<void> {
    const prepared = await p.body;
    if (prepared instanceof Error) {
      // The agent drops a payload it cannot encode ("Encoding failed - dropping payload").
      this.warn(`Encoding failed - dropping payload: ${prepared.message}`);
      this.finish(p, 'dropped');
      return;
    }
    const signal = this.abort.signal;
    const request: LogsRequest = {
      body: prepared.body,
      contentEncoding: prepared.contentEncoding,
      messageTimestampMs: p.messageTimestampMs,
      timeoutMs: this.config.httpTimeoutMs,
    };
    for (;;) {
      const waitNs = this.policy.backoffNs(this.nbErrors, this.random);
      if (waitNs > 0) {
        if (!(await sleep(waitNs / 1e6, signal))) return;
        this.add('RetryTimeSpent', waitNs);
        this.add('RetryCount', 1);
      }
      if (signal.aborted) return;
      this.add('BytesSent', p.unencodedSize);
      this.add('EncodedBytesSent', prepared.body.length);
      const started = performance.now();
      const outcome = await this.attempt(request, signal);
      this.counters.counters.values[this.counters.counters.index('SenderLatency')] = Math.round(performance.now() - started);
      const verdict = classifyLogsOutcome(outcome);
      if (verdict === SendVerdict.CANCELLED) return;
      if (verdict !== SendVerdict.SUCCESS) this.add('DestinationErrors', 1);
      if (verdict === SendVerdict.RETRY) {
        this.nbErrors = this.policy.incError(this.nbErrors);
        if (!this.retrying) {
          this.retrying = true;
          this.warn(`Could not send payload: ${describe(outcome, this.sink.host)}; retrying with backoff, the pipeline waits`);
        }
        continue;
      }
      this.nbErrors = this.policy.decError(this.nbErrors);
      this.retrying = false;
      if (verdict === SendVerdict.DROP) {
        this.counters.destinationLogsDropped.add(this.sink.host, p.eventCount);
        // One line for the first drop and every hundredth after: a wrong API key drops everything.
        if (this.droppedWarnings++ % 100 === 0) {
          this.warn(
            `failed to post http payload, dropped: ${describe(outcome, this.sink.host)}, ${p.eventCount} logs, ${p.unencodedSize} bytes (${prepared.body.length} compressed)`,
          );
        }
        this.finish(p, 'dropped');
      } else {
        this.add('LogsSent', p.eventCount);
        this.finish(p, 'sent');
      }
      return;
    }
  }

  /** One attempt; a sink that throws (it must not) counts as a transport failure. */
  private async attempt(request: LogsRequest, signal: AbortSignal): Promise<LogsSinkOutcome> {
    try {
      return await this.sink.send(request, signal);
    } catch (e) {
      return { kind: 'error', code: 'ERR_SINK', message: e instanceof Error ? e.message : String(e) };
    }
  }

  private finish(p: Payload<M>, outcome: AcceptedOutcome): void {
    p.finished = true;
    this.notifyAccepted(p.messages, outcome);
    if (p.trailing !== undefined) this.notifyAccepted(p.trailing, 'dropped');
  }

  private notifyAccepted(messages: readonly M[], outcome: AcceptedOutcome): void {
    if (this.onAccepted === undefined) return;
    try {
      this.onAccepted(messages, outcome);
    } catch (e) {
      // The destination must keep going: a broken callback costs acknowledgements, not logs.
      this.warn(`LogsSender: onAccepted threw: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  // --- shutdown ------------------------------------------------------------------------------------

  private maybeFinishClose(): void {
    if (this.state !== State.CLOSING) return;
    if (this.waiters.length > 0) return;
    this.flushBuffer();
    if (this.queue.length > 0 || this.inflight !== undefined) return;
    this.finishClose();
  }

  private abandon(): void {
    if (this.state === State.CLOSED) return;
    const left = this.queue.reduce((n, p) => n + p.eventCount, 0) + (this.inflight?.eventCount ?? 0) + this.batchMessages.length;
    if (left > 0) this.warn(`LogsSender: stop_grace_period elapsed; ${left} logs were not sent and will be read again after a restart`);
    this.abort.abort();
    const err = this.closedError();
    for (const w of this.waiters.splice(0)) w.reject(err);
    for (const p of this.queue.splice(0)) p.done.resolve();
    this.inflight?.done.resolve();
    this.resetBatch(0);
    this.finishClose();
  }

  private finishClose(): void {
    if (this.state === State.CLOSED) return;
    this.state = State.CLOSED;
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    clearInterval(this.ticker);
    this.abort.abort();
    this.sink.close();
    this.closed?.resolve();
  }
}

function describe(outcome: LogsSinkOutcome, host: string): string {
  switch (outcome.kind) {
    case 'response':
      return `code=${outcome.status} host=${host} response=${outcome.body}`;
    case 'error':
      return `${outcome.code} ${outcome.message} host=${host}`;
    case 'cancelled':
      return `cancelled host=${host}`;
  }
}
