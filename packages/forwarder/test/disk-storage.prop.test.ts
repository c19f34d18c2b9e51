import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { DiskStorage, encodeRetryFile, Priority, RetryQueue } from '../src/index.js';
import type { QueuedTransaction, StoredTransaction, TransactionCodec } from '../src/index.js';

const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 100);

interface Tx extends QueuedTransaction {
  readonly id: number;
}

/** The id rides in `items` and the seq in `createdAt`, so a transaction read back is the same one. */
const codec: TransactionCodec<Tx> = {
  toStored: (t): StoredTransaction => ({
    route: '/t',
    endpointName: 'test',
    kind: 'k',
    contentType: 'c',
    contentEncoding: 'identity',
    headers: [],
    body: new Uint8Array(t.bytes).fill(t.id & 0xff),
    uncompressedBytes: 0,
    items: t.id,
    points: 0,
    createdAt: t.seq,
    errorCount: 0,
    priority: t.priority,
  }),
  fromStored: (s) => ({ id: s.items, seq: s.createdAt, bytes: s.body.byteLength, priority: s.priority === 1 ? Priority.HIGH : Priority.NORMAL }),
};

function fileSize(group: readonly Tx[]): number {
  return encodeRetryFile(group.map(codec.toStored), 0).length;
}

interface ModelFile {
  readonly txs: readonly Tx[];
  readonly size: number;
}

/** The reference: plain lists, sorted and scanned from scratch at every step. */
interface Model {
  readonly memMax: number;
  readonly ratio: number;
  readonly storageMax: number;
  items: Tx[];
  taken: Tx[];
  /** Oldest first. */
  files: ModelFile[];
  queueDropped: number;
  queueDroppedBytes: number;
  filesDropped: number;
  bytesDropped: number;
  refused: number;
  nextId: number;
}

interface Real {
  readonly dir: string;
  storage: DiskStorage<Tx>;
  queue: RetryQueue<Tx>;
}

function open(dir: string, m: Model): DiskStorage<Tx> {
  return DiskStorage.open<Tx>({
    storagePath: dir,
    domain: 'https://intake.example',
    maxSizeInBytes: m.storageMax,
    codec,
    statfs: () => ({ bsize: 4096, blocks: 1e9, bavail: 1e9 }),
  });
}

const dropOrder = (items: readonly Tx[]): Tx[] => [...items].sort((a, b) => a.priority - b.priority || a.seq - b.seq);
const retryOrder = (items: readonly Tx[]): Tx[] => [...items].sort((a, b) => b.priority - a.priority || b.seq - a.seq);
const total = (items: readonly Tx[]): number => items.reduce((n, t) => n + t.bytes, 0);
const ids = (items: readonly Tx[]): number[] => items.map((t) => t.id);

/** Takes transactions out of memory in the drop order until at least `bytes` are out. */
function extract(m: Model, bytes: number): Tx[] {
  const out: Tx[] = [];
  let taken = 0;
  for (const t of dropOrder(m.items)) {
    if (taken >= bytes) break;
    out.push(t);
    taken += t.bytes;
  }
  m.items = m.items.filter((t) => !out.includes(t));
  return out;
}

/** A group to disk: refused when its file is bigger than the bound, else the oldest files make room. */
function store(m: Model, group: Tx[]): boolean {
  const size = fileSize(group);
  if (size > m.storageMax) {
    m.refused++;
    return false;
  }
  while (m.files.length > 0 && m.files.reduce((n, f) => n + f.size, 0) + size > m.storageMax) {
    m.filesDropped++;
    m.bytesDropped += m.files.shift()!.size;
  }
  m.files.push({ txs: group, size });
  return true;
}

function dropped(m: Model, txs: readonly Tx[]): void {
  m.queueDropped += txs.length;
  m.queueDroppedBytes += total(txs);
}

function modelAdd(m: Model, t: Tx): Tx[] {
  if (t.bytes > m.memMax) {
    if (store(m, [t])) return [];
    dropped(m, [t]);
    return [t];
  }
  const out: Tx[] = [];
  const share = Math.floor(m.memMax * m.ratio);
  while (total(m.items) + t.bytes > m.memMax && m.items.length > 0) {
    const group = extract(m, share);
    if (group.length === 0) break;
    if (!store(m, group)) {
      dropped(m, group);
      out.push(...group);
    }
  }
  const toFree = total(m.items) + t.bytes - m.memMax;
  if (toFree > 0) {
    const gone = extract(m, toFree);
    dropped(m, gone);
    out.push(...gone);
  }
  m.items.push(t);
  return out;
}

function check(m: Model, r: Real): void {
  assert.equal(r.queue.bytes, total(m.items));
  assert.equal(r.queue.size, m.items.length);
  assert.equal(r.queue.dropped, m.queueDropped);
  assert.equal(r.queue.droppedBytes, m.queueDroppedBytes);
  const used = m.files.reduce((n, f) => n + f.size, 0);
  assert.ok(used <= m.storageMax, 'the storage bound holds');
  assert.equal(r.storage.bytesUsed, used);
  assert.equal(r.storage.filesCount, m.files.length);
  assert.equal(r.storage.size, m.files.reduce((n, f) => n + f.txs.length, 0));
  const s = r.storage.stats();
  assert.equal(s.FilesDropped, m.filesDropped);
  assert.equal(s.BytesDropped, m.bytesDropped);
  assert.equal(s.Refused, m.refused);
  assert.equal(s.DeserializationErrors, 0);
}

/** Once every write is done: the folder holds exactly the model's files, oldest first. */
function checkDisk(m: Model, r: Real): void {
  const names = fs.readdirSync(r.storage.folder).sort();
  assert.deepEqual(names.filter((n) => n.endsWith('.tmp')), []);
  assert.deepEqual(
    names.map((n) => fs.statSync(path.join(r.storage.folder, n)).size),
    m.files.map((f) => f.size),
  );
}

type Cmd = fc.AsyncCommand<Model, Real>;

class Add implements Cmd {
  readonly bytes: number;
  readonly priority: Priority;
  constructor(bytes: number, priority: Priority) {
    this.bytes = bytes;
    this.priority = priority;
  }
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const t: Tx = { id: m.nextId, seq: m.nextId, bytes: this.bytes, priority: this.priority };
    m.nextId++;
    assert.deepEqual(ids(r.queue.add(t)), ids(modelAdd(m, t)));
    check(m, r);
  }
  toString(): string {
    return `add(${this.bytes}, ${this.priority === Priority.HIGH ? 'high' : 'normal'})`;
  }
}

class Requeue implements Cmd {
  readonly pick: number;
  constructor(pick: number) {
    this.pick = pick;
  }
  check(m: Readonly<Model>): boolean {
    return m.taken.length > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const [t] = m.taken.splice(this.pick % m.taken.length, 1);
    assert.deepEqual(ids(r.queue.add(t!)), ids(modelAdd(m, t!)));
    check(m, r);
  }
  toString(): string {
    return `requeue(#${this.pick})`;
  }
}

/** A retry pass: memory in the retry order, else the newest file in its order. */
class TakeAll implements Cmd {
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    let expected: Tx[];
    if (m.items.length > 0) {
      expected = retryOrder(m.items);
      m.items = [];
    } else {
      expected = [...(m.files.pop()?.txs ?? [])];
    }
    const got = r.queue.takeAll();
    assert.deepEqual(got, expected);
    m.taken.push(...expected);
    check(m, r);
  }
  toString(): string {
    return 'takeAll';
  }
}

class Flush implements Cmd {
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    await r.storage.flush();
    checkDisk(m, r);
    check(m, r);
  }
  toString(): string {
    return 'flush';
  }
}

/** Shutdown (memory to disk, in shares), then a new storage and queue over the same folder. */
class Restart implements Cmd {
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const share = Math.max(1, Math.floor(m.memMax * m.ratio));
    const expected: Tx[] = [];
    while (m.items.length > 0) {
      const group = extract(m, share);
      if (!store(m, group)) {
        dropped(m, group);
        expected.push(...group);
      }
    }
    assert.deepEqual(ids(r.queue.flushToStorage()), ids(expected));
    check(m, r);
    await r.storage.close();
    checkDisk(m, r);
    r.storage = open(r.dir, m);
    r.queue = new RetryQueue<Tx>(m.memMax, { storage: r.storage, flushToDiskMemRatio: m.ratio });
    Object.assign(m, { queueDropped: 0, queueDroppedBytes: 0, filesDropped: 0, bytesDropped: 0, refused: 0 });
    assert.equal(r.storage.stats().ReloadedFiles, m.files.length);
    check(m, r);
  }
  toString(): string {
    return 'restart';
  }
}

const commands = [
  fc
    .tuple(fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 160 })), fc.constantFrom(Priority.NORMAL, Priority.HIGH))
    .map(([bytes, priority]) => new Add(bytes, priority)),
  fc.nat().map((pick) => new Requeue(pick)),
  fc.constant(new TakeAll()),
  fc.constant(new Flush()),
  fc.constant(new Restart()),
];

test('the retry queue over disk storage matches a model under random adds, spills, reads, requeues and restarts', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 300 }),
      fc.constantFrom(0.25, 0.5, 1),
      fc.integer({ min: 0, max: 4000 }),
      fc.commands(commands, { maxCommands: 60 }),
      async (memMax, ratio, storageMax, cmds) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kennel-disk-prop-'));
        const model: Model = {
          memMax,
          ratio,
          storageMax,
          items: [],
          taken: [],
          files: [],
          queueDropped: 0,
          queueDroppedBytes: 0,
          filesDropped: 0,
          bytesDropped: 0,
          refused: 0,
          nextId: 0,
        };
        const storage = open(dir, model);
        const real: Real = { dir, storage, queue: new RetryQueue<Tx>(memMax, { storage, flushToDiskMemRatio: ratio }) };
        try {
          await fc.asyncModelRun(() => ({ model, real }), cmds);
        } finally {
          await real.storage.close();
          fs.rmSync(dir, { recursive: true, force: true });
        }
      },
    ),
    { numRuns },
  );
});
