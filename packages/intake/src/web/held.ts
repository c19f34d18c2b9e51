import type { IntakeStore } from '../store/intake-store.js';

/** One held payload, read without knowing its kind's item type. */
export interface HeldPayload {
  readonly seq: number;
  readonly kind: string;
  readonly receivedAt: number;
  readonly items: readonly unknown[];
  readonly meta?: Readonly<Record<string, string>>;
}

/**
 * The store's held payloads of `kind`, oldest first, for kinds this code reads structurally
 * (`traces`, `stats`, `logs`): a kind the store has never held gives none.
 */
export function heldPayloads(store: IntakeStore, kind: string): readonly HeldPayload[] {
  return (store.payloads as (kind: string) => readonly HeldPayload[]).call(store, kind);
}

/**
 * Follows the held payloads of one kind: `sync` hands each new one to `take` once, and each one
 * the store has dropped since to `drop`, oldest first.
 */
export class PayloadFollower<R extends { readonly seq: number }> {
  private readonly records: R[] = [];
  private head = 0;
  private lastSeq = 0;
  private readonly store: IntakeStore;
  private readonly kind: string;

  constructor(store: IntakeStore, kind: string) {
    this.store = store;
    this.kind = kind;
  }

  /** Returns whether anything changed. */
  sync(take: (p: HeldPayload) => R, drop: (record: R) => void): boolean {
    const held = heldPayloads(this.store, this.kind);
    const oldest = held.length > 0 ? held[0]!.seq : Infinity;
    let changed = false;
    while (this.head < this.records.length && this.records[this.head]!.seq < oldest) {
      drop(this.records[this.head]!);
      (this.records as (R | undefined)[])[this.head] = undefined;
      this.head++;
      changed = true;
    }
    if (this.head > 64 && this.head * 2 > this.records.length) {
      this.records.splice(0, this.head);
      this.head = 0;
    }
    // New payloads are at the end: walk back to the first one not seen.
    let i = held.length;
    while (i > 0 && held[i - 1]!.seq > this.lastSeq) i--;
    for (; i < held.length; i++) {
      const p = held[i]!;
      this.records.push(take(p));
      this.lastSeq = p.seq;
      changed = true;
    }
    return changed;
  }
}
