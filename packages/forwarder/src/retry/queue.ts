import { Priority } from './policy.js';
import type { Prioritized } from './policy.js';

/**
 * The bounded retry queue: a port of the agent's `TransactionRetryQueue`
 * (`comp/forwarder/defaultforwarder/internal/retry/transaction_retry_queue.go`, Apache-2.0),
 * bounded by payload bytes (`forwarder_retry_queue_payloads_max_size`).
 *
 * @remarks
 * When an add would pass the bound, transactions leave in the agent's drop order (normal
 * priority before high, oldest first) until the new one fits: to storage when there is one
 * (in groups of `forwarder_flush_to_disk_mem_ratio` × the bound, as the agent writes files),
 * else dropped and counted. Transactions keep their payload bytes; nothing is re-encoded.
 *
 * One difference from the agent, on purpose: a transaction bigger than the whole bound is
 * dropped itself (the agent keeps it and goes over the bound). With the default 15 MiB bound
 * and the serializer's 2.5 MiB payload cap this never happens; with a bound of 0 it means
 * "retry nothing".
 */
export interface QueuedTransaction extends Prioritized {
  /** Payload bytes: what the bound counts. */
  readonly bytes: number;
}

/**
 * The seam for on-disk spill (`forwarder_storage_max_size_in_bytes` > 0): a storage passed to the
 * queue receives what the memory bound pushes out. `DiskStorage` (`disk-storage.ts`) is kennel's.
 */
export interface RetryQueueStorage<T extends QueuedTransaction> {
  /** Takes a group of transactions in drop order (one file in the agent). `false`: it could not; they are dropped and counted. */
  store(group: readonly T[]): boolean;
  /** Removes and returns the newest stored group (the agent reads the newest file first); `[]` when there is none. */
  extractLast(): T[];
  /** Bytes of transactions held in storage. */
  readonly bytesUsed: number;
  /** Transactions held in storage (counted as pending by the forwarder). @defaultValue 0 when absent */
  readonly size?: number;
  /** The status text for the "On-disk storage" section. */
  status(): string;
  /** Counters for status. */
  stats?(): Record<string, number>;
  /** Resolves once what was stored is durable; refuses further groups. */
  close?(): Promise<void>;
}

/** The status text while no storage is configured (the agent's `forwarder.tmpl`). */
export const STORAGE_DISABLED_STATUS =
  'On-disk storage is disabled. Configure `forwarder_storage_max_size_in_bytes` to enable it.';

export interface RetryQueueOptions<T extends QueuedTransaction> {
  readonly storage?: RetryQueueStorage<T> | undefined;
  /** `forwarder_flush_to_disk_mem_ratio`: the share of the bound moved to storage at a time. @defaultValue `0.5` */
  readonly flushToDiskMemRatio?: number;
}

const NONE: readonly never[] = Object.freeze([]);

export class RetryQueue<T extends QueuedTransaction> {
  readonly maxBytes: number;
  private readonly storage: RetryQueueStorage<T> | undefined;
  private readonly flushToDiskMemRatio: number;
  // Each kept in seq order, oldest first: the drop order is normal[0..], then high[0..].
  private normal: T[] = [];
  private high: T[] = [];
  private currentBytes = 0;
  private droppedCount = 0;
  private droppedByteCount = 0;

  constructor(maxBytes: number, options: RetryQueueOptions<T> = {}) {
    this.maxBytes = maxBytes;
    this.storage = options.storage;
    this.flushToDiskMemRatio = options.flushToDiskMemRatio ?? 0.5;
  }

  /** Transactions in memory (`RetryQueueSize`). */
  get size(): number {
    return this.normal.length + this.high.length;
  }

  /** Payload bytes in memory (`RetryQueueBytes`); never above {@link maxBytes}. */
  get bytes(): number {
    return this.currentBytes;
  }

  /** Transactions dropped by the bound so far (`RetryQueueDropped`). */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Their payload bytes (`RetryQueueDroppedBytes`). */
  get droppedBytes(): number {
    return this.droppedByteCount;
  }

  /** Transactions held in storage (0 without storage). */
  get storedSize(): number {
    return this.storage?.size ?? 0;
  }

  /** The storage, if any. */
  get storageBackend(): RetryQueueStorage<T> | undefined {
    return this.storage;
  }

  /** The "On-disk storage" status text. */
  storageStatus(): string {
    return this.storage === undefined ? STORAGE_DISABLED_STATUS : this.storage.status();
  }

  /**
   * Adds a transaction, making room first. Returns the transactions the bound dropped (in drop
   * order; possibly `item` itself when it alone is bigger than the bound), already counted.
   */
  add(item: T): readonly T[] {
    if (item.bytes > this.maxBytes) {
      if (this.storage !== undefined && this.storage.store([item])) return NONE;
      this.countDropped(item.bytes, 1);
      return [item];
    }
    let dropped: T[] | null = this.storage !== undefined ? this.spill(item.bytes) : null;

    const toFree = this.currentBytes + item.bytes - this.maxBytes;
    if (toFree > 0) {
      const out = this.extract(toFree);
      let bytes = 0;
      for (const t of out) bytes += t.bytes;
      this.countDropped(bytes, out.length);
      dropped = dropped === null ? out : dropped.concat(out);
    }
    insertBySeq(item.priority === Priority.HIGH ? this.high : this.normal, item);
    this.currentBytes += item.bytes;
    return dropped ?? NONE;
  }

  /**
   * Takes every transaction out, in the retry order (high priority first, newest first). When
   * memory is empty, takes the newest group from storage instead.
   */
  takeAll(): T[] {
    if (this.size === 0) return this.storage !== undefined ? this.storage.extractLast() : [];
    const out: T[] = [];
    for (let i = this.high.length - 1; i >= 0; i--) out.push(this.high[i]!);
    for (let i = this.normal.length - 1; i >= 0; i--) out.push(this.normal[i]!);
    this.high = [];
    this.normal = [];
    this.currentBytes = 0;
    return out;
  }

  /**
   * Moves every transaction in memory to storage, in the drop order and in shares of
   * `forwarder_flush_to_disk_mem_ratio` × the bound (the agent's `FlushToDisk`, on shutdown).
   * Returns what storage refused, dropped and counted. Without storage, nothing moves.
   */
  flushToStorage(): readonly T[] {
    if (this.storage === undefined || this.size === 0) return NONE;
    const share = Math.max(1, Math.floor(this.maxBytes * this.flushToDiskMemRatio));
    let refused: T[] | null = null;
    while (this.size > 0) {
      const group = this.extract(share);
      if (!this.storage.store(group)) {
        let bytes = 0;
        for (const t of group) bytes += t.bytes;
        this.countDropped(bytes, group.length);
        refused = refused === null ? group : refused.concat(group);
      }
    }
    return refused ?? NONE;
  }

  /**
   * Moves transactions to storage, a share of the bound at a time, until `incoming` fits.
   * Returns the groups storage refused (dropped and counted), or null.
   */
  private spill(incoming: number): T[] | null {
    const share = Math.floor(this.maxBytes * this.flushToDiskMemRatio);
    let refused: T[] | null = null;
    while (this.currentBytes + incoming > this.maxBytes && this.size > 0) {
      const group = this.extract(share);
      if (group.length === 0) break; // a share of 0 bytes
      if (!this.storage!.store(group)) {
        let bytes = 0;
        for (const t of group) bytes += t.bytes;
        this.countDropped(bytes, group.length);
        refused = refused === null ? group : refused.concat(group);
      }
    }
    return refused;
  }

  /** Removes transactions in drop order until at least `bytes` are out. */
  private extract(bytes: number): T[] {
    const out: T[] = [];
    let taken = 0;
    let n = 0;
    while (n < this.normal.length && taken < bytes) taken += this.normal[n++]!.bytes;
    let h = 0;
    while (h < this.high.length && taken < bytes) taken += this.high[h++]!.bytes;
    for (let i = 0; i < n; i++) out.push(this.normal[i]!);
    for (let i = 0; i < h; i++) out.push(this.high[i]!);
    if (n > 0) this.normal.splice(0, n);
    if (h > 0) this.high.splice(0, h);
    this.currentBytes -= taken;
    return out;
  }

  private countDropped(bytes: number, count: number): void {
    this.droppedCount += count;
    this.droppedByteCount += bytes;
  }
}

/** Inserts after every element with a seq ≤ `item.seq` (a requeued transaction keeps its age). */
function insertBySeq<T extends Prioritized>(list: T[], item: T): void {
  let lo = 0;
  let hi = list.length;
  if (hi === 0 || list[hi - 1]!.seq <= item.seq) {
    list.push(item);
    return;
  }
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.seq <= item.seq) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, item);
}
