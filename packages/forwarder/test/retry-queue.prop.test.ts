import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Priority, RetryQueue } from '../src/index.js';
import type { QueuedTransaction } from '../src/index.js';

const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 200);

interface Tx extends QueuedTransaction {
  readonly id: number;
}

/** The reference: a plain list, sorted and scanned from scratch at every step. */
interface Model {
  readonly max: number;
  items: Tx[];
  /** Taken out by a retry pass and not yet requeued: what `Requeue` may put back. */
  taken: Tx[];
  dropped: number;
  droppedBytes: number;
  nextSeq: number;
}

interface Real {
  readonly queue: RetryQueue<Tx>;
}

/** Normal before high, oldest first. */
function dropOrder(items: readonly Tx[]): Tx[] {
  return [...items].sort((a, b) => a.priority - b.priority || a.seq - b.seq);
}

/** High first, newest first. */
function retryOrder(items: readonly Tx[]): Tx[] {
  return [...items].sort((a, b) => b.priority - a.priority || b.seq - a.seq);
}

/** What the model says adding `t` drops. */
function modelAdd(m: Model, t: Tx): Tx[] {
  let dropped: Tx[];
  if (t.bytes > m.max) {
    dropped = [t];
  } else {
    const total = m.items.reduce((n, x) => n + x.bytes, 0);
    const toFree = total + t.bytes - m.max;
    dropped = [];
    let freed = 0;
    for (const x of dropOrder(m.items)) {
      if (freed >= toFree) break;
      dropped.push(x);
      freed += x.bytes;
    }
    m.items = m.items.filter((x) => !dropped.includes(x));
    m.items.push(t);
  }
  m.dropped += dropped.length;
  m.droppedBytes += dropped.reduce((n, x) => n + x.bytes, 0);
  return dropped;
}

function checkAgainst(m: Model, r: Real): void {
  const bytes = m.items.reduce((n, x) => n + x.bytes, 0);
  assert.equal(r.queue.bytes, bytes);
  assert.ok(r.queue.bytes <= m.max, 'the bound holds');
  assert.equal(r.queue.size, m.items.length);
  assert.equal(r.queue.dropped, m.dropped);
  assert.equal(r.queue.droppedBytes, m.droppedBytes);
}

class AddNew implements fc.Command<Model, Real> {
  readonly bytes: number;
  readonly priority: Priority;
  constructor(bytes: number, priority: Priority) {
    this.bytes = bytes;
    this.priority = priority;
  }
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const t: Tx = { id: m.nextSeq, seq: m.nextSeq, bytes: this.bytes, priority: this.priority };
    m.nextSeq++;
    const expected = modelAdd(m, t);
    assert.deepEqual(r.queue.add(t).map((x) => x.id), expected.map((x) => x.id));
    checkAgainst(m, r);
  }
  toString(): string {
    return `add(${this.bytes}, ${this.priority === Priority.HIGH ? 'high' : 'normal'})`;
  }
}

class Requeue implements fc.Command<Model, Real> {
  readonly pick: number;
  constructor(pick: number) {
    this.pick = pick;
  }
  check(m: Readonly<Model>): boolean {
    return m.taken.length > 0;
  }
  run(m: Model, r: Real): void {
    const [t] = m.taken.splice(this.pick % m.taken.length, 1);
    const expected = modelAdd(m, t!);
    assert.deepEqual(r.queue.add(t!).map((x) => x.id), expected.map((x) => x.id));
    checkAgainst(m, r);
  }
  toString(): string {
    return `requeue(#${this.pick})`;
  }
}

class TakeAll implements fc.Command<Model, Real> {
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const expected = retryOrder(m.items);
    assert.deepEqual(r.queue.takeAll().map((x) => x.id), expected.map((x) => x.id));
    m.taken.push(...m.items);
    m.items = [];
    checkAgainst(m, r);
  }
  toString(): string {
    return 'takeAll';
  }
}

const commands = [
  fc
    .tuple(fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 200 })), fc.constantFrom(Priority.NORMAL, Priority.HIGH))
    .map(([bytes, priority]) => new AddNew(bytes, priority)),
  fc.nat().map((pick) => new Requeue(pick)),
  fc.constant(new TakeAll()),
];

test('the retry queue matches a plain-list model under random adds, requeues and takes', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 300 }), fc.commands(commands, { maxCommands: 80 }), (max, cmds) => {
      const model: Model = { max, items: [], taken: [], dropped: 0, droppedBytes: 0, nextSeq: 0 };
      fc.modelRun(() => ({ model, real: { queue: new RetryQueue<Tx>(max) } }), cmds);
    }),
    { numRuns },
  );
});
