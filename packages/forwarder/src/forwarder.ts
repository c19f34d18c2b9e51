import { CounterMap, CounterSet } from '@kennel/core';
import type { IntakePayload } from './encoders/types.js';
import { classify, errorsByTypeCounter, ERRORS_BY_TYPE, Verdict, VerdictReason } from './retry/classifier.js';
import type { ErrorsByTypeName } from './retry/classifier.js';
import { BlockedEndpoints, compareRetryOrder, ExpBackoffPolicy, Priority, RetryGate } from './retry/policy.js';
import { createForwarderCodec, DiskStorage } from './retry/disk-storage.js';
import type { StatfsFunction } from './retry/disk-storage.js';
import { RetryQueue } from './retry/queue.js';
import type { QueuedTransaction, RetryQueueStorage } from './retry/queue.js';
import { resolveForwarderConfig } from './transport/config.js';
import type { ForwarderConfig, ForwarderOptions } from './transport/config.js';
import { endpointName } from './transport/endpoints.js';
import { buildHeaders } from './transport/headers.js';
import { HttpTransport } from './transport/http-transport.js';
import { createScrubber, redactApiKey, scrubUrl } from './transport/redact.js';
import { TransportErrorKind } from './transport/types.js';
import type { Transport, TransportOutcome } from './transport/types.js';

/** One payload for one endpoint: what is sent, retried and held in the retry queue. */
export interface ForwarderTransaction extends QueuedTransaction {
  readonly payload: IntakePayload;
  /** `<intake URL><route>`: the circuit breaker's key. */
  readonly url: string;
  /** The agent's endpoint name (`series_v2`, ...). */
  readonly endpointName: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Attempts that failed and were retried. */
  errorCount: number;
  /** When the payload was sent to the forwarder, milliseconds since the epoch (kept on disk). */
  readonly createdAt: number;
}

export type ForwarderLogLevel = 'error' | 'warn' | 'info';

/** Runtime collaborators, beside the configuration. */
export interface ForwarderRuntimeOptions {
  /** Where log lines go, already scrubbed of API keys. @defaultValue errors and warnings to stderr */
  readonly log?: (line: string, level: ForwarderLogLevel) => void;
  /** The HTTP client. @defaultValue an {@link HttpTransport} with the configured timeout and concurrency */
  readonly transport?: Transport;
  /**
   * Disk spill for the retry queue. @defaultValue a {@link DiskStorage} under `forwarder_storage_path`
   * when `forwarder_storage_max_size_in_bytes` > 0, else none
   */
  readonly storage?: RetryQueueStorage<ForwarderTransaction>;
  /** How the default disk storage reads disk usage. @defaultValue `fs.statfsSync` */
  readonly statfs?: StatfsFunction;
  /** A millisecond clock for the circuit breaker. @defaultValue `performance.now` */
  readonly now?: () => number;
  /** Random numbers in `[0, 1)` for backoff jitter. @defaultValue `Math.random` */
  readonly random?: () => number;
  /**
   * Called for each payload the forwarder drops (a permanent answer, the retry queue's bound, a
   * send after the drain began, close), already counted in `Dropped`; lets a caller count what the
   * payloads held (the trace writer counts traces). Not called for what disk storage drops (its
   * files hold no payload objects). It must not throw. @defaultValue none
   */
  readonly onDropped?: (payload: IntakePayload) => void;
}

export type ForwarderConstructorOptions = ForwarderOptions & ForwarderRuntimeOptions;

/**
 * The forwarder's scalar counters: the agent's `forwarder.Transactions` expvars
 * (`transaction.go`, `domain_forwarder.go`) and kennel's `RetryQueueDropped`,
 * `RetryQueueDroppedBytes` (transactions the retry queue's byte bound dropped; also in `Dropped`).
 */
export const FORWARDER_COUNTERS = ['Success', 'Dropped', 'Errors', 'HTTPErrors', 'Retried', 'Requeued', 'HighPriorityQueueFull'] as const;
export type ForwarderCounterName = (typeof FORWARDER_COUNTERS)[number];

/** The `Transactions` block of {@link ForwarderStats}, keyed as the agent's expvars. */
export interface TransactionStats {
  Success: number;
  SuccessByEndpoint: Record<string, number>;
  SuccessBytesByEndpoint: Record<string, number>;
  Dropped: number;
  DroppedByEndpoint: Record<string, number>;
  Errors: number;
  ErrorsByType: Record<ErrorsByTypeName, number>;
  HTTPErrors: number;
  HTTPErrorsByCode: Record<string, number>;
  Retried: number;
  RetriedByEndpoint: Record<string, number>;
  Requeued: number;
  RequeuedByEndpoint: Record<string, number>;
  RetryQueueSize: number;
  RetryQueueBytes: number;
  HighPriorityQueueFull: number;
  RetryQueueDropped: number;
  RetryQueueDroppedBytes: number;
}

export interface ForwarderStats {
  Transactions: TransactionStats;
  /** Requests in flight now. */
  InFlight: number;
  /** Transactions not yet delivered or dropped: in flight, waiting for a request slot, or in the retry queue. */
  Pending: number;
  /** The intake base URL (a password in it scrubbed). */
  Endpoint: string;
  /** The API key as `***************************` and its last 5 characters. */
  APIKey: string;
  /** The "On-disk storage" status text (one line, or the agent's five lines joined by `\n`). */
  OnDiskStorage: string;
  /** The disk storage's counters (`DiskStorageStats`), or null without storage. */
  FileStorage: Record<string, number> | null;
}

/** What {@link Forwarder.drain} reports, counted from the moment it was called. */
export interface DrainResult {
  /** Transactions the intake accepted. */
  readonly sent: number;
  /** Transactions dropped (permanent errors, the retry queue bound, sends after the drain began). */
  readonly dropped: number;
  /** Transactions still not delivered at the deadline (in flight or queued). */
  readonly pending: number;
}

interface DrainWaiter {
  readonly sent0: number;
  readonly dropped0: number;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (r: DrainResult) => void;
}

const defaultLog = (line: string, level: ForwarderLogLevel): void => {
  if (level !== 'info') process.stderr.write(`kennel forwarder: ${line}\n`);
};

/**
 * The HTTP forwarder: sends every {@link IntakePayload} to the intake with the agent's headers,
 * at most `forwarder_max_concurrent_requests` at once, and retries what fails the agent's way.
 *
 * @remarks
 * Retries are three separate pieces. The classifier (`retry/classifier.ts`) says what one
 * attempt came to: success, permanent (400, 403, 413: dropped and counted) or retryable
 * (every other status ≥ 400 and every transport failure). The policy (`retry/policy.ts`) is the
 * agent's circuit breaker per endpoint URL with jittered exponential backoff. The queue
 * (`retry/queue.ts`) holds retryable transactions within a byte bound, dropping normal priority
 * before high and oldest first. A retry pass every `retryInterval` (5 s) hands the queue back to
 * the senders, newest first, wherever the breaker allows.
 *
 * New payloads wait for a request slot in a buffer of `forwarder_high_prio_buffer_size`; when it
 * is full they go to the retry queue (`HighPriorityQueueFull`). `send` never blocks and never
 * throws.
 *
 * @example
 * ```ts
 * const forwarder = new Forwarder({ apiKey: process.env.DD_API_KEY!, site: 'datadoghq.eu' });
 * for (const p of encodeAll(encoder, series)) forwarder.send(p);
 * // on SIGTERM:
 * const { sent, dropped, pending } = await forwarder.drain();
 * await forwarder.close();
 * ```
 */
export class Forwarder {
  readonly config: ForwarderConfig;
  readonly counters = new CounterSet<ForwarderCounterName>('forwarder', FORWARDER_COUNTERS);
  private readonly successByEndpoint = new CounterMap();
  private readonly successBytesByEndpoint = new CounterMap();
  private readonly droppedByEndpoint = new CounterMap();
  private readonly retriedByEndpoint = new CounterMap();
  private readonly requeuedByEndpoint = new CounterMap();
  private readonly httpErrorsByCode = new CounterMap();
  private readonly errorsByType = new CounterSet<ErrorsByTypeName>('forwarder.ErrorsByType', ERRORS_BY_TYPE);

  private readonly transport: Transport;
  private readonly breaker: BlockedEndpoints;
  private readonly queue: RetryQueue<ForwarderTransaction>;
  private readonly logSink: (line: string, level: ForwarderLogLevel) => void;
  private readonly scrub: (text: string) => string;
  private readonly now: () => number;
  private readonly displayUrl: string;
  private readonly redactedKey: string;
  private readonly headersByType = new Map<string, Readonly<Record<string, string>>>();
  private readonly onDropped: ((payload: IntakePayload) => void) | undefined;

  private readonly highPrio: ForwarderTransaction[] = [];
  private readonly lowPrio: ForwarderTransaction[] = [];
  private readonly requests = new Set<Promise<void>>();
  private inFlight = 0;
  private seq = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  private waiters: DrainWaiter[] = [];
  private stopping = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  private queueDropsToLog = 0;
  private queueDropBytesToLog = 0;
  private warnedStopped = false;
  /** The `seq` of transactions read back from disk: counting down, older than any new one. */
  private reviveSeq = -1;

  /** @throws {@link KennelError} `ERR_CONFIG_INVALID` naming the agent key, for a malformed option. */
  constructor(options: ForwarderConstructorOptions) {
    const sink = options.log ?? defaultLog;
    this.scrub = createScrubber(typeof options.apiKey === 'string' ? options.apiKey : '');
    this.logSink = sink;
    this.onDropped = options.onDropped;
    this.config = resolveForwarderConfig(options, (line) => this.log('warn', line));
    const c = this.config;
    this.now = options.now ?? (() => performance.now());
    this.displayUrl = scrubUrl(c.url);
    this.redactedKey = redactApiKey(c.apiKey);
    this.transport =
      options.transport ??
      new HttpTransport({
        timeoutMs: c.timeout * 1000,
        maxSockets: c.maxConcurrentRequests,
        scrub: this.scrub,
        skipSslValidation: c.skipSslValidation,
      });
    this.breaker = new BlockedEndpoints(
      new ExpBackoffPolicy({
        factor: c.backoffFactor,
        base: c.backoffBase,
        max: c.backoffMax,
        recoveryInterval: c.recoveryInterval,
        recoveryReset: c.recoveryReset,
      }),
      this.now,
      options.random ?? Math.random,
    );
    this.queue = new RetryQueue<ForwarderTransaction>(c.retryQueuePayloadsMaxSize, {
      storage: options.storage ?? (c.storageMaxSizeInBytes > 0 ? this.openDiskStorage(options.statfs) : undefined),
      flushToDiskMemRatio: c.flushToDiskMemRatio,
    });
    this.retryTimer = setInterval(() => this.retryPass(), c.retryInterval * 1000);
    this.retryTimer.unref();
  }

  /**
   * Queues a payload for the intake. Never blocks, never throws: after `drain()` or `close()`,
   * or for a payload without a body, the payload is dropped and counted.
   */
  send(payload: IntakePayload): void {
    try {
      this.accept(payload);
    } catch (e) {
      // Only a payload that is not an IntakePayload gets here; it is dropped and counted.
      this.counters.add('Errors');
      this.errorsByType.add('SentRequestErrors');
      this.drop(endpointName(String((payload as Partial<IntakePayload> | null)?.endpoint ?? 'unknown')), 1);
      this.log('error', `dropping a payload that cannot be sent: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** The counters, the queue and the endpoint, for status (no API key, only its last 5 characters). */
  stats(): ForwarderStats {
    const v = this.counters.values;
    return {
      Transactions: {
        Success: v[0]!,
        SuccessByEndpoint: this.successByEndpoint.snapshot(),
        SuccessBytesByEndpoint: this.successBytesByEndpoint.snapshot(),
        Dropped: v[1]!,
        DroppedByEndpoint: this.droppedByEndpoint.snapshot(),
        Errors: v[2]!,
        ErrorsByType: this.errorsByType.snapshot(),
        HTTPErrors: v[3]!,
        HTTPErrorsByCode: this.httpErrorsByCode.snapshot(),
        Retried: v[4]!,
        RetriedByEndpoint: this.retriedByEndpoint.snapshot(),
        Requeued: v[5]!,
        RequeuedByEndpoint: this.requeuedByEndpoint.snapshot(),
        RetryQueueSize: this.queue.size,
        RetryQueueBytes: this.queue.bytes,
        HighPriorityQueueFull: v[6]!,
        RetryQueueDropped: this.queue.dropped,
        RetryQueueDroppedBytes: this.queue.droppedBytes,
      },
      InFlight: this.inFlight,
      Pending: this.pending,
      Endpoint: this.displayUrl,
      APIKey: this.redactedKey,
      OnDiskStorage: this.queue.storageStatus(),
      FileStorage: this.queue.storageBackend?.stats?.() ?? null,
    };
  }

  /** Transactions not delivered or dropped yet (those in disk storage too). */
  get pending(): number {
    return this.inFlight + this.highPrio.length + this.lowPrio.length + this.queue.size + this.queue.storedSize;
  }

  /**
   * Stops accepting payloads, then sends everything in flight and queued (disk storage too)
   * until nothing is left or `timeoutMs` has passed, retrying as the circuit breaker allows. With
   * disk storage, what is still queued in memory at the deadline is written to disk. What
   * SIGTERM uses.
   *
   * @param timeoutMs - @defaultValue `forwarder_stop_timeout` × 1000 (10 s)
   */
  drain(timeoutMs: number = this.config.stopTimeout * 1000): Promise<DrainResult> {
    if (this.closed) return Promise.resolve({ sent: 0, dropped: 0, pending: 0 });
    this.stopping = true;
    if (this.retryTimer !== null) {
      clearInterval(this.retryTimer);
      this.retryTimer = null;
    }
    return new Promise<DrainResult>((resolve) => {
      const waiter: DrainWaiter = {
        sent0: this.counters.values[0]!,
        dropped0: this.counters.values[1]!,
        timer: setTimeout(() => this.settle(waiter), Math.max(0, timeoutMs)),
        resolve,
      };
      this.waiters.push(waiter);
      this.drainStep();
    });
  }

  /**
   * Stops everything: cancels requests in flight (not requeued) and closes connections. What is
   * still queued is written to disk storage when there is one, else lost; what is lost (and
   * what was in flight) is counted in `Dropped`. Resolves once every request has settled and
   * every retry file is written.
   */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.stopping = true;
    this.closed = true;
    if (this.retryTimer !== null) clearInterval(this.retryTimer);
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    this.retryTimer = null;
    this.drainTimer = null;
    const storage = this.queue.storageBackend;
    let lost: ForwarderTransaction[];
    if (storage !== undefined) {
      lost = this.persistQueued();
    } else {
      lost = [...this.highPrio, ...this.lowPrio, ...this.queue.takeAll()];
      this.highPrio.length = 0;
      this.lowPrio.length = 0;
      for (const t of lost) this.dropTx(t);
    }
    const inFlight = this.inFlight;
    let lostBytes = 0;
    for (const t of lost) lostBytes += t.bytes;
    this.transport.close();
    this.closing = Promise.all([...this.requests]).then(async () => {
      if (storage?.close !== undefined) {
        try {
          await storage.close();
        } catch (e) {
          this.log('error', `closing the retry file storage failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      const n = lost.length + inFlight;
      if (n > 0) this.log('warn', `closed with ${n} transactions not sent (${lost.length} queued, ${lostBytes} bytes; ${inFlight} in flight, cancelled)`);
      for (const w of [...this.waiters]) this.settle(w);
    });
    return this.closing;
  }

  private accept(payload: IntakePayload): void {
    const body = payload.body;
    if (!(body instanceof Uint8Array)) throw new TypeError('the payload has no body (a Uint8Array)');
    const name = endpointName(payload.endpoint);
    if (this.stopping) {
      this.drop(name, 1);
      this.notifyDropped(payload);
      if (!this.warnedStopped) {
        this.warnedStopped = true;
        this.log('warn', `dropping a ${name} payload sent after the forwarder began to stop (further ones are counted, not logged)`);
      }
      return;
    }
    const t: ForwarderTransaction = {
      payload,
      url: this.config.url + payload.endpoint,
      endpointName: name,
      headers: this.headersFor(payload),
      bytes: body.byteLength,
      seq: this.seq++,
      priority: Priority.NORMAL,
      errorCount: 0,
      createdAt: Date.now(),
    };
    // A slot free, or room in the input buffer: on its way. Else the retry queue (the agent
    // does not block its collector either).
    if (this.inFlight < this.config.maxConcurrentRequests || this.highPrio.length < this.config.highPrioBufferSize) {
      this.highPrio.push(t);
      this.pump();
    } else {
      this.counters.add('HighPriorityQueueFull');
      this.enqueue(t, false);
    }
  }

  private headersFor(payload: IntakePayload): Readonly<Record<string, string>> {
    const key = payload.contentType + '\0' + payload.contentEncoding;
    let h = this.headersByType.get(key);
    if (h === undefined) {
      h = Object.freeze(buildHeaders(payload, this.config.apiKey));
      this.headersByType.set(key, h);
    }
    return h;
  }

  /** Starts requests while slots are free: new payloads first, then retried ones. */
  private pump(): void {
    while (!this.closed && this.inFlight < this.config.maxConcurrentRequests) {
      const t = this.highPrio.shift() ?? this.lowPrio.shift();
      if (t === undefined) return;
      if (this.breaker.isBlockedForSend(t.url)) {
        this.enqueue(t, true);
        continue;
      }
      this.inFlight++;
      const request = this.transport
        .post(t.url, t.headers, t.payload.body)
        .catch((e: unknown): TransportOutcome => ({
          kind: 'error',
          error: TransportErrorKind.RESPONSE,
          code: 'ERR_UNKNOWN',
          message: this.scrub(e instanceof Error ? e.message : String(e)),
        }))
        .then((outcome) => {
          this.requests.delete(request);
          this.complete(t, outcome);
        });
      this.requests.add(request);
    }
  }

  private complete(t: ForwarderTransaction, outcome: TransportOutcome): void {
    this.inFlight--;
    const { verdict, reason } = classify(outcome);
    const where = this.displayUrl + t.payload.endpoint;
    if (outcome.kind === 'response' && outcome.status >= 400) {
      this.counters.add('HTTPErrors');
      this.httpErrorsByCode.add(String(outcome.status));
    }
    switch (verdict) {
      case Verdict.SUCCESS: {
        this.breaker.recover(t.url);
        this.counters.add('Success');
        this.successByEndpoint.add(t.endpointName);
        this.successBytesByEndpoint.add(t.endpointName, t.bytes);
        const n = this.counters.values[0]!;
        const every = this.config.loggingFrequency;
        const status = outcome.kind === 'response' ? outcome.statusText : '';
        if (every > 0 && n === 1) {
          this.log('info', `Successfully posted payload to "${where}" (${status}), the agent will only log transaction success every ${every} transactions`);
        } else if (every > 0 && n % every === 0) {
          this.log('info', `Successfully posted payload to "${where}" (${status})`);
        }
        break;
      }
      case Verdict.DROP: {
        // The agent counts a permanent answer as a healthy endpoint.
        this.breaker.recover(t.url);
        this.dropTx(t);
        const size = `${t.bytes} bytes, endpoint ${t.endpointName}`;
        if (reason === VerdictReason.API_KEY_INVALID) {
          this.log('error', `API Key invalid (403 response), dropping transaction for ${where} (${size})`);
        } else if (outcome.kind === 'response') {
          this.log('error', `Error code "${outcome.statusText}" received while sending transaction to "${where}": "${outcome.body}", dropping it (${size})`);
        } else if (outcome.kind === 'error') {
          this.counters.add('Errors');
          this.errorsByType.add('SentRequestErrors');
          this.log('error', `Could not create request for transaction to "${where}" (dropping transaction, ${size}): ${outcome.message}`);
        }
        break;
      }
      case Verdict.RETRY: {
        t.errorCount++;
        this.counters.add('Errors');
        if (outcome.kind === 'response') {
          this.log('error', `error "${outcome.statusText}" while sending transaction to "${where}", rescheduling it: "${outcome.body}"`);
        } else if (outcome.kind === 'error') {
          const counter = errorsByTypeCounter(outcome.error);
          if (counter !== null) this.errorsByType.add(counter);
          this.log('error', `error while sending transaction to "${where}", rescheduling it: ${outcome.message}`);
        }
        this.breaker.close(t.url);
        if (this.closed) this.dropTx(t);
        else this.enqueue(t, true);
        break;
      }
      case Verdict.CANCELLED:
        // Cancelled by close(): not requeued, and lost.
        this.dropTx(t);
        break;
    }
    this.pump();
    this.drainStep();
  }

  /** Puts a transaction in the retry queue; the bound may drop older ones, counted as `Dropped`. */
  private enqueue(t: ForwarderTransaction, requeued: boolean): void {
    if (requeued) {
      this.counters.add('Requeued');
      this.requeuedByEndpoint.add(t.endpointName);
    }
    const dropped = this.queue.add(t);
    for (const d of dropped) {
      this.dropTx(d);
      this.queueDropsToLog++;
      this.queueDropBytesToLog += d.bytes;
    }
  }

  private drop(name: string, n: number): void {
    this.counters.add('Dropped', n);
    this.droppedByEndpoint.add(name, n);
  }

  /** Drops one transaction: counted, and told to `onDropped`. */
  private dropTx(t: ForwarderTransaction): void {
    this.drop(t.endpointName, 1);
    this.notifyDropped(t.payload);
  }

  private notifyDropped(payload: IntakePayload): void {
    if (this.onDropped === undefined) return;
    try {
      this.onDropped(payload);
    } catch {
      // A failing callback must not break sending.
    }
  }

  /**
   * One retry pass (the agent's `retryTransactions`): takes the whole queue, and in the retry
   * order hands each transaction to the senders if its endpoint's breaker allows, else puts it
   * back. Returns the earliest time a held endpoint opens (Infinity when none was held).
   */
  private retryPass(): number {
    const items = this.queue.takeAll();
    // Memory comes out in the retry order already; a group from storage may not.
    items.sort(compareRetryOrder);
    let nextOpenAt = Infinity;
    const probed = new Set<string>();
    const room = this.config.lowPrioBufferSize + Math.max(0, this.config.maxConcurrentRequests - this.inFlight - this.highPrio.length);
    for (const t of items) {
      const gate = this.breaker.gateForRetry(t.url);
      if (gate === RetryGate.OPEN || (gate === RetryGate.ALLOW_ONE && !probed.has(t.url))) {
        if (gate === RetryGate.ALLOW_ONE) probed.add(t.url);
        if (this.lowPrio.length < room) {
          this.lowPrio.push(t);
          this.counters.add('Retried');
          this.retriedByEndpoint.add(t.endpointName);
        } else {
          this.enqueue(t, false); // the senders are busy; the agent does not count these
        }
      } else {
        const until = this.breaker.blockedUntil(t.url);
        if (until > 0 && until < nextOpenAt) nextOpenAt = until;
        this.enqueue(t, true);
      }
    }
    if (this.queueDropsToLog > 0) {
      this.log(
        'error',
        `Dropped ${this.queueDropsToLog} transactions (${this.queueDropBytesToLog} bytes) for exceeding the retry queue payloads size limit of ${this.queue.maxBytes} (forwarder_retry_queue_payloads_max_size)`,
      );
      this.queueDropsToLog = 0;
      this.queueDropBytesToLog = 0;
    }
    this.pump();
    return nextOpenAt;
  }

  /**
   * While draining: settles the drain when nothing is left; else runs a retry pass whenever the
   * senders are idle, and when every queued endpoint is held, waits for the earliest to open.
   */
  private drainStep(): void {
    if (this.waiters.length === 0 || this.closed) return;
    if (this.pending === 0) {
      for (const w of [...this.waiters]) this.settle(w);
      return;
    }
    const queued = this.queue.size + this.queue.storedSize;
    if (this.drainTimer !== null || queued === 0 || this.highPrio.length > 0 || this.lowPrio.length > 0) return;
    const nextOpenAt = this.retryPass();
    if (this.inFlight === 0 && this.queue.size + this.queue.storedSize > 0) {
      const delay = Number.isFinite(nextOpenAt) ? Math.max(1, Math.ceil(nextOpenAt - this.now())) : this.config.retryInterval * 1000;
      this.drainTimer = setTimeout(() => {
        this.drainTimer = null;
        this.drainStep();
      }, delay);
    }
  }

  private settle(w: DrainWaiter): void {
    const i = this.waiters.indexOf(w);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    clearTimeout(w.timer);
    if (this.waiters.length === 0 && this.drainTimer !== null) {
      clearTimeout(this.drainTimer);
      this.drainTimer = null;
    }
    // Past the deadline with disk storage: what waits in memory goes to disk (the agent's FlushToDisk).
    if (this.waiters.length === 0 && !this.closed && this.queue.storageBackend !== undefined) this.persistQueued();
    w.resolve({
      sent: this.counters.values[0]! - w.sent0,
      dropped: this.counters.values[1]! - w.dropped0,
      pending: this.pending,
    });
  }

  /**
   * Moves what waits in memory (the input buffers and the retry queue) to disk storage. Returns
   * what storage refused, already counted in `Dropped`.
   */
  private persistQueued(): ForwarderTransaction[] {
    const waiting = [...this.highPrio, ...this.lowPrio];
    this.highPrio.length = 0;
    this.lowPrio.length = 0;
    const refused: ForwarderTransaction[] = [];
    for (const t of waiting) {
      for (const d of this.queue.add(t)) {
        refused.push(d);
        this.dropTx(d);
      }
    }
    for (const d of this.queue.flushToStorage()) {
      refused.push(d);
      this.dropTx(d);
    }
    return refused;
  }

  /** The default disk storage; none (with the error logged, as the agent does) when its folder cannot be used. */
  private openDiskStorage(statfs: StatfsFunction | undefined): DiskStorage<ForwarderTransaction> | undefined {
    const c = this.config;
    try {
      return DiskStorage.open<ForwarderTransaction>({
        storagePath: c.storagePath,
        domain: c.url,
        maxSizeInBytes: c.storageMaxSizeInBytes,
        maxDiskRatio: c.storageMaxDiskRatio,
        outdatedFileInDays: c.outdatedFileInDays,
        maxPendingBytes: Math.max(c.retryQueuePayloadsMaxSize, 1024 * 1024),
        codec: createForwarderCodec({ url: c.url, apiKey: c.apiKey, nextSeq: () => this.reviveSeq-- }),
        onDropped: (byEndpoint) => {
          for (const [name, n] of byEndpoint) this.drop(name, n);
        },
        log: (line, level) => this.log(level, line),
        ...(statfs !== undefined ? { statfs } : {}),
      });
    } catch (e) {
      this.log('error', `Error when creating the file storage: ${e instanceof Error ? e.message : String(e)}; retry queue storage on disk disabled`);
      return undefined;
    }
  }

  private log(level: ForwarderLogLevel, line: string): void {
    try {
      this.logSink(this.scrub(line), level);
    } catch {
      // A failing log sink must not break sending.
    }
  }
}
