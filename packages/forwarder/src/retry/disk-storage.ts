import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { CounterSet } from '@kennel/core';
import { ContentType, Endpoint, PayloadKind } from '../encoders/types.js';
import type { IntakePayload } from '../encoders/types.js';
import type { ForwarderTransaction } from '../forwarder.js';
import { endpointName } from '../transport/endpoints.js';
import { Header } from '../transport/headers.js';
import { Priority } from './policy.js';
import type { QueuedTransaction, RetryQueueStorage } from './queue.js';

/**
 * On-disk spill for the retry queue (`forwarder_storage_max_size_in_bytes` > 0): the agent's
 * `onDiskRetryQueue`, `FileRemovalPolicy` and `DiskUsageLimit`
 * (`comp/forwarder/defaultforwarder/internal/retry/`, Apache-2.0), with kennel's own file format.
 *
 * @remarks
 * Layout: `<forwarder_storage_path>/kennel/<md5 of the intake URL>/<UTC time>_<seq>_<random>.retry`
 * (the agent uses `core/` for its own process; kennel never touches that folder). Each file holds
 * one group the memory bound pushed out (`forwarder_flush_to_disk_mem_ratio` × the memory bound)
 * and is written to `<name>.retry.tmp`, fsynced, then renamed: a file with the `.retry` name is
 * always whole, so `kill -9` can leave only a `.tmp`, which is removed at the next start.
 *
 * Writes run in the background (the event loop is not held by an fsync) and a group is "stored"
 * as soon as it is accepted; while it is being written it is held in memory, at most
 * `maxPendingBytes` of them, beyond which a group is written synchronously. Reads are
 * synchronous: the newest file is read whole and removed before its transactions are returned,
 * so a transaction is either in a file or in memory, never both, and nothing is sent twice
 * across a crash.
 */

// ---------------------------------------------------------------------------------------------
// The file format

/** First 8 bytes of every retry file. */
export const RETRY_FILE_MAGIC = 'KNLRETRY';
/** The format version this code writes and reads. */
export const RETRY_FILE_VERSION = 1;
/** The agent's extension for retry files. */
export const RETRY_FILE_EXTENSION = '.retry';
/** Where a file is written before it is renamed to its `.retry` name. */
export const RETRY_TEMP_EXTENSION = '.retry.tmp';
/** The folder under `forwarder_storage_path` (the agent's is `core`). */
export const STORAGE_AGENT_FOLDER = 'kennel';
/** Bytes before the summary: magic, version, reserved, summary length, body length, two CRC-32s. */
export const RETRY_FILE_HEADER_BYTES = 28;

/**
 * One transaction as a retry file holds it: everything needed to send it again except the API
 * key (added back when it is read) and the intake URL (the folder is per intake URL, and the
 * route is appended to the configured one, as the agent does: a file cannot send a key elsewhere).
 */
export interface StoredTransaction {
  /** The intake path (`/api/v2/series`). */
  readonly route: string;
  readonly endpointName: string;
  readonly kind: string;
  readonly contentType: string;
  readonly contentEncoding: string;
  /** Request headers in order, never `DD-Api-Key`. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Uint8Array;
  readonly uncompressedBytes: number;
  readonly items: number;
  readonly points: number;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly errorCount: number;
  /** 0 normal, 1 high. */
  readonly priority: number;
}

/** The summary at the head of a file, readable without reading the payloads. */
export interface RetryFileSummary {
  readonly count: number;
  /** Payload bytes in the file (the memory bound's unit). */
  readonly payloadBytes: number;
  /** When the group was stored, milliseconds since the epoch. */
  readonly writtenAt: number;
  /** Transactions per endpoint name. */
  readonly byEndpoint: ReadonlyMap<string, number>;
}

/** A decoded file: its summary, and each record (`null` for one that could not be read). */
export interface DecodedRetryFile {
  readonly summary: RetryFileSummary;
  readonly records: ReadonlyArray<StoredTransaction | null>;
}

const MAGIC = Buffer.from(RETRY_FILE_MAGIC, 'latin1');
const MAX_U32 = 0xffffffff;

function strBytes(s: string): number {
  return 4 + Buffer.byteLength(s, 'utf8');
}

function recordBytes(r: StoredTransaction): number {
  // priority, reserved, header count, 5 numbers, 5 strings, headers, body length + body.
  let n = 1 + 1 + 2 + 5 * 8;
  n += strBytes(r.route) + strBytes(r.endpointName) + strBytes(r.kind) + strBytes(r.contentType) + strBytes(r.contentEncoding);
  for (const [k, v] of r.headers) n += strBytes(k) + strBytes(v);
  return n + 4 + r.body.byteLength;
}

class Cursor {
  pos = 0;
  readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  u8(v: number): void {
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.buf.writeUInt16LE(v, this.pos);
    this.pos += 2;
  }
  u32(v: number): void {
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }
  f64(v: number): void {
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
  str(s: string): void {
    const n = this.buf.write(s, this.pos + 4, 'utf8');
    this.buf.writeUInt32LE(n, this.pos);
    this.pos += 4 + n;
  }
  bytes(b: Uint8Array): void {
    this.u32(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }
}

function endpointCounts(records: readonly StoredTransaction[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of records) {
    const name = Buffer.byteLength(r.endpointName, 'utf8') <= 255 ? r.endpointName : 'unknown';
    m.set(name, (m.get(name) ?? 0) + 1);
  }
  return m;
}

/**
 * Encodes one retry file (little-endian):
 *
 * | bytes | field |
 * | --- | --- |
 * | 8 | magic `KNLRETRY` |
 * | 2 | format version (1) |
 * | 2 | reserved (0) |
 * | 4 | summary length S |
 * | 4 | body length B |
 * | 4 | CRC-32 of the 20 bytes above and the summary |
 * | 4 | CRC-32 of the body |
 * | S | summary: count u32, payload bytes f64, stored-at f64, endpoint count u16, then per endpoint: name length u8, name, count u32 |
 * | B | records, each: length u32, then priority u8, reserved u8, header count u16, error count f64, created-at f64, uncompressed bytes f64, items f64, points f64, route, endpoint name, kind, content type, content encoding, (header name, value) × header count, payload; strings and the payload are length u32 + bytes |
 *
 * The file is exactly 28 + S + B bytes; anything else is truncated or corrupt.
 *
 * @throws RangeError when the group does not fit the format (a body over 4 GiB).
 */
export function encodeRetryFile(records: readonly StoredTransaction[], writtenAt: number): Buffer {
  const byEndpoint = endpointCounts(records);
  let summaryBytes = 4 + 8 + 8 + 2;
  for (const name of byEndpoint.keys()) summaryBytes += 1 + Buffer.byteLength(name, 'utf8') + 4;
  let bodyBytes = 0;
  let payloadBytes = 0;
  for (const r of records) {
    bodyBytes += 4 + recordBytes(r);
    payloadBytes += r.body.byteLength;
  }
  if (bodyBytes > MAX_U32 || records.length > MAX_U32 || byEndpoint.size > 0xffff) throw new RangeError('the group is too big for a retry file');
  const buf = Buffer.allocUnsafe(RETRY_FILE_HEADER_BYTES + summaryBytes + bodyBytes);
  const c = new Cursor(buf);
  buf.set(MAGIC, 0);
  c.pos = 8;
  c.u16(RETRY_FILE_VERSION);
  c.u16(0);
  c.u32(summaryBytes);
  c.u32(bodyBytes);
  c.pos = RETRY_FILE_HEADER_BYTES;
  c.u32(records.length);
  c.f64(payloadBytes);
  c.f64(writtenAt);
  c.u16(byEndpoint.size);
  for (const [name, n] of byEndpoint) {
    const len = buf.write(name, c.pos + 1, 'utf8');
    buf[c.pos] = len;
    c.pos += 1 + len;
    c.u32(n);
  }
  for (const r of records) {
    if (r.headers.length > 0xffff) throw new RangeError('too many headers for a retry file');
    c.u32(recordBytes(r));
    c.u8(r.priority === Priority.HIGH ? 1 : 0);
    c.u8(0);
    c.u16(r.headers.length);
    c.f64(r.errorCount);
    c.f64(r.createdAt);
    c.f64(r.uncompressedBytes);
    c.f64(r.items);
    c.f64(r.points);
    c.str(r.route);
    c.str(r.endpointName);
    c.str(r.kind);
    c.str(r.contentType);
    c.str(r.contentEncoding);
    for (const [k, v] of r.headers) {
      c.str(k);
      c.str(v);
    }
    c.bytes(r.body);
  }
  const summaryEnd = RETRY_FILE_HEADER_BYTES + summaryBytes;
  buf.writeUInt32LE(crc32(buf.subarray(RETRY_FILE_HEADER_BYTES, summaryEnd), crc32(buf.subarray(0, 20))), 20);
  buf.writeUInt32LE(crc32(buf.subarray(summaryEnd)), 24);
  return buf;
}

interface HeaderInfo {
  readonly summaryBytes: number;
  readonly bodyBytes: number;
  readonly bodyCrc: number;
  readonly summary: RetryFileSummary;
}

/**
 * Validates the fixed header and the summary (`head` holds at least the header and summary;
 * `fileSize` is the whole file's size). Returns the reason when they are not valid.
 */
function parseHead(head: Buffer, fileSize: number): HeaderInfo | string {
  if (head.length < RETRY_FILE_HEADER_BYTES) return `truncated: ${fileSize} bytes, not even a header`;
  if (!head.subarray(0, 8).equals(MAGIC)) return 'not a kennel retry file (bad magic)';
  const version = head.readUInt16LE(8);
  if (version !== RETRY_FILE_VERSION) return `unsupported format version ${version}`;
  const summaryBytes = head.readUInt32LE(12);
  const bodyBytes = head.readUInt32LE(16);
  const expected = RETRY_FILE_HEADER_BYTES + summaryBytes + bodyBytes;
  if (fileSize !== expected) return `truncated or extended: ${fileSize} bytes, the header says ${expected}`;
  if (head.length < RETRY_FILE_HEADER_BYTES + summaryBytes) return 'truncated summary';
  const summaryBuf = head.subarray(RETRY_FILE_HEADER_BYTES, RETRY_FILE_HEADER_BYTES + summaryBytes);
  if (crc32(summaryBuf, crc32(head.subarray(0, 20))) !== head.readUInt32LE(20)) return 'header checksum mismatch';
  if (summaryBytes < 22) return 'summary too short';
  const count = summaryBuf.readUInt32LE(0);
  const payloadBytes = summaryBuf.readDoubleLE(4);
  const writtenAt = summaryBuf.readDoubleLE(12);
  const n = summaryBuf.readUInt16LE(20);
  const byEndpoint = new Map<string, number>();
  let p = 22;
  for (let i = 0; i < n; i++) {
    if (p + 1 > summaryBytes) return 'summary too short';
    const len = summaryBuf[p]!;
    if (p + 1 + len + 4 > summaryBytes) return 'summary too short';
    const name = summaryBuf.toString('utf8', p + 1, p + 1 + len);
    byEndpoint.set(name, (byEndpoint.get(name) ?? 0) + summaryBuf.readUInt32LE(p + 1 + len));
    p += 1 + len + 4;
  }
  return { summaryBytes, bodyBytes, bodyCrc: head.readUInt32LE(24), summary: { count, payloadBytes, writtenAt, byEndpoint } };
}

/** Reads one record from `buf[start, end)`, or null when its fields do not fit or make no sense. */
function parseRecord(buf: Buffer, start: number, end: number): StoredTransaction | null {
  let p = start;
  const need = (n: number): boolean => p + n <= end;
  const str = (): string | null => {
    if (!need(4)) return null;
    const n = buf.readUInt32LE(p);
    if (!need(4 + n)) return null;
    const s = buf.toString('utf8', p + 4, p + 4 + n);
    p += 4 + n;
    return s;
  };
  if (!need(4 + 5 * 8)) return null;
  const priority = buf[p]!;
  const headerCount = buf.readUInt16LE(p + 2);
  p += 4;
  const nums: number[] = [];
  for (let i = 0; i < 5; i++, p += 8) nums.push(buf.readDoubleLE(p));
  const [errorCount, createdAt, uncompressedBytes, items, points] = nums as [number, number, number, number, number];
  if (priority > 1) return null;
  if (![errorCount, uncompressedBytes, items, points].every((v) => Number.isSafeInteger(v) && v >= 0) || !Number.isFinite(createdAt)) return null;
  const route = str();
  const name = str();
  const kind = str();
  const contentType = str();
  const contentEncoding = str();
  if (route === null || name === null || kind === null || contentType === null || contentEncoding === null) return null;
  const headers: Array<readonly [string, string]> = [];
  for (let i = 0; i < headerCount; i++) {
    const k = str();
    const v = str();
    if (k === null || v === null) return null;
    headers.push([k, v]);
  }
  if (!need(4)) return null;
  const bodyLen = buf.readUInt32LE(p);
  p += 4;
  if (p + bodyLen !== end) return null;
  // A copy: the file buffer is not kept alive by one payload.
  const body = new Uint8Array(bodyLen);
  body.set(buf.subarray(p, end));
  return { route, endpointName: name, kind, contentType, contentEncoding, headers, body, uncompressedBytes, items, points, createdAt, errorCount, priority };
}

/**
 * Decodes a whole retry file. Returns the reason when the file cannot be used at all (bad
 * magic, version, size or checksum); a record that cannot be read is `null` in `records`.
 */
export function decodeRetryFile(data: Buffer): DecodedRetryFile | string {
  const head = parseHead(data, data.length);
  if (typeof head === 'string') return head;
  const bodyStart = RETRY_FILE_HEADER_BYTES + head.summaryBytes;
  if (crc32(data.subarray(bodyStart)) !== head.bodyCrc) return 'body checksum mismatch';
  const records: Array<StoredTransaction | null> = [];
  let p = bodyStart;
  while (p < data.length) {
    if (p + 4 > data.length) return 'a record runs past the end of the file';
    const len = data.readUInt32LE(p);
    const end = p + 4 + len;
    if (end > data.length) return 'a record runs past the end of the file';
    records.push(parseRecord(data, p + 4, end));
    p = end;
  }
  if (records.length !== head.summary.count) return `the summary says ${head.summary.count} transactions, the body holds ${records.length}`;
  return { summary: head.summary, records };
}

// ---------------------------------------------------------------------------------------------
// The storage

/** What {@link DiskStorage} reads from `fs.statfs`: block size, total blocks, blocks available to us. */
export interface StatfsResult {
  readonly bsize: number;
  readonly blocks: number;
  readonly bavail: number;
}
export type StatfsFunction = (path: string) => StatfsResult;

/** How the storage turns a transaction into a record and back. */
export interface TransactionCodec<T> {
  toStored(t: T): StoredTransaction;
  /**
   * The transaction for a record read back, or null when it cannot be sent (counted in
   * `DeserializationErrors`). Called newest record first, newest file first.
   */
  fromStored(s: StoredTransaction): T | null;
}

export type DiskStorageLogLevel = 'error' | 'warn' | 'info';

export interface DiskStorageOptions<T> {
  /** `forwarder_storage_path`, already defaulted to `<run_path>/transactions_to_retry`. */
  readonly storagePath: string;
  /** The intake URL the files belong to (the folder is its md5). */
  readonly domain: string;
  /** `forwarder_storage_max_size_in_bytes`: bytes of files kept; oldest files go first. */
  readonly maxSizeInBytes: number;
  /** `forwarder_storage_max_disk_ratio`: no writes that would fill the disk past this share. @defaultValue `0.8` */
  readonly maxDiskRatio?: number;
  /** `forwarder_outdated_file_in_days`: files older than this are removed at start. @defaultValue `10` */
  readonly outdatedFileInDays?: number;
  readonly codec: TransactionCodec<T>;
  /** Bytes of groups held in memory while they are written; past it a group is written synchronously. @defaultValue 32 MiB */
  readonly maxPendingBytes?: number;
  /** Transactions lost from storage (files dropped for the bound, unreadable, or failed writes), by endpoint name. */
  readonly onDropped?: (byEndpoint: ReadonlyMap<string, number>) => void;
  readonly log?: (line: string, level: DiskStorageLogLevel) => void;
  /** @defaultValue `fs.statfsSync` */
  readonly statfs?: StatfsFunction;
  /** Wall clock in milliseconds, for file names and the outdated check. @defaultValue `Date.now` */
  readonly now?: () => number;
}

/**
 * The storage counters. `FilesDropped`, `BytesDropped`, `TransactionsDropped`: files removed to
 * keep `forwarder_storage_max_size_in_bytes` (the agent's `FilesRemovedCount`);
 * `DeserializationErrors`: unreadable files and records (`DeserializeErrorsCount`);
 * `OutdatedFilesRemoved`, `UnknownDomainFilesRemoved`: at start (`RemovalPolicy`'s
 * `OutdatedFilesCount`, `FilesFromUnknownDomainCount`); `PartialFilesRemoved`: `.tmp` files a
 * crash left; `Refused`: groups not taken (too big, disk too full, storage closed), dropped by
 * the queue; `WriteErrors`: groups lost because a write failed.
 */
export const DISK_STORAGE_COUNTERS = [
  'FilesStored',
  'BytesStored',
  'TransactionsStored',
  'FilesRead',
  'TransactionsRead',
  'FilesDropped',
  'BytesDropped',
  'TransactionsDropped',
  'DeserializationErrors',
  'OutdatedFilesRemoved',
  'UnknownDomainFilesRemoved',
  'PartialFilesRemoved',
  'ReloadedFiles',
  'Refused',
  'WriteErrors',
  'SyncWrites',
] as const;
export type DiskStorageCounterName = (typeof DISK_STORAGE_COUNTERS)[number];

/** {@link DiskStorage.stats}: the counters, and what is held now. */
export type DiskStorageStats = Record<DiskStorageCounterName, number> & {
  CurrentSizeInBytes: number;
  FilesCount: number;
  TransactionsCount: number;
};

/** The "On-disk storage" text while storage is on and holds nothing (the agent's `forwarder.tmpl`). */
export const STORAGE_NOT_IN_USE_STATUS = 'Enabled, not in-use.';

type EntryState = 'pending' | 'writing' | 'disk';

interface Entry<T> {
  readonly name: string;
  readonly bytes: number;
  readonly count: number;
  readonly byEndpoint: ReadonlyMap<string, number>;
  state: EntryState;
  /** The file's bytes, until written. */
  data: Buffer | null;
  /** The transactions themselves, until written: taken back without reading the disk. */
  group: T[] | null;
  cancelled: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** `2006_01_02__15_04_05_000`: the agent's UTC layout with milliseconds. */
function fileTime(ms: number): string {
  const d = new Date(ms);
  return (
    `${pad(d.getUTCFullYear(), 4)}_${pad(d.getUTCMonth() + 1, 2)}_${pad(d.getUTCDate(), 2)}__` +
    `${pad(d.getUTCHours(), 2)}_${pad(d.getUTCMinutes(), 2)}_${pad(d.getUTCSeconds(), 2)}_${pad(d.getUTCMilliseconds(), 3)}`
  );
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

const defaultStatfs: StatfsFunction = (p) => fs.statfsSync(p);

/** The folder of one intake's files: `<storagePath>/kennel/<md5(domain)>`. */
export function storageFolder(storagePath: string, domain: string): string {
  return path.join(storagePath, STORAGE_AGENT_FOLDER, createHash('md5').update(domain).digest('hex'));
}

/**
 * The on-disk retry queue storage. Open it with {@link DiskStorage.open}; hand it to a
 * {@link RetryQueue} (the `Forwarder` does this when `forwarder_storage_max_size_in_bytes` > 0).
 */
export class DiskStorage<T extends QueuedTransaction> implements RetryQueueStorage<T> {
  readonly counters = new CounterSet<DiskStorageCounterName>('forwarder.FileStorage', DISK_STORAGE_COUNTERS);
  /** The folder the files are in. */
  readonly folder: string;
  readonly maxSizeInBytes: number;
  private readonly maxDiskRatio: number;
  private readonly maxPendingBytes: number;
  private readonly codec: TransactionCodec<T>;
  private readonly onDropped: (byEndpoint: ReadonlyMap<string, number>) => void;
  private readonly logSink: (line: string, level: DiskStorageLogLevel) => void;
  private readonly statfs: StatfsFunction;
  private readonly now: () => number;
  /** Oldest first. */
  private entries: Entry<T>[] = [];
  private usedBytes = 0;
  private onDiskBytes = 0;
  private inMemoryBytes = 0;
  private storedCount = 0;
  private nameSeq = 0;
  private readonly nameSalt = randomBytes(3).toString('hex');
  private writer: Promise<void> | null = null;
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  private constructor(options: DiskStorageOptions<T>, folder: string) {
    this.folder = folder;
    this.maxSizeInBytes = options.maxSizeInBytes;
    this.maxDiskRatio = options.maxDiskRatio ?? 0.8;
    this.maxPendingBytes = options.maxPendingBytes ?? 32 * 1024 * 1024;
    this.codec = options.codec;
    this.onDropped = options.onDropped ?? (() => {});
    this.logSink = options.log ?? (() => {});
    this.statfs = options.statfs ?? defaultStatfs;
    this.now = options.now ?? Date.now;
  }

  /**
   * Creates the folders (mode 0700), removes outdated files (every intake's), the files of other
   * intakes and `.tmp` files a crash left, and reloads this intake's files, checking each one's
   * header (a corrupt or truncated file is removed and counted in `DeserializationErrors`).
   *
   * @throws the file-system error when the folder cannot be created or listed.
   */
  static open<T extends QueuedTransaction>(options: DiskStorageOptions<T>): DiskStorage<T> {
    const folder = storageFolder(options.storagePath, options.domain);
    const storage = new DiskStorage<T>(options, folder);
    storage.startup(path.dirname(folder), options.outdatedFileInDays ?? 10);
    return storage;
  }

  /** Payload-file bytes held (on disk, or being written). */
  get bytesUsed(): number {
    return this.usedBytes;
  }

  /** Transactions held. */
  get size(): number {
    return this.storedCount;
  }

  /** Files held (on disk, or being written). */
  get filesCount(): number {
    return this.entries.length;
  }

  /**
   * Takes a group (one file). `false`, counted in `Refused`, when the file would be bigger than
   * `forwarder_storage_max_size_in_bytes`, when the disk is fuller than
   * `forwarder_storage_max_disk_ratio` allows even with every older file dropped, when `statfs`
   * fails, or after {@link close}. Otherwise the oldest files are dropped until it fits.
   */
  store(group: readonly T[]): boolean {
    if (group.length === 0) return true;
    if (this.closed) return this.refuse('the storage is closed');
    let data: Buffer;
    let records: StoredTransaction[];
    try {
      records = group.map((t) => withoutApiKey(this.codec.toStored(t)));
      data = encodeRetryFile(records, this.now());
    } catch (e) {
      return this.refuse(`cannot serialize the transactions: ${errorText(e)}`);
    }
    if (data.length > this.maxSizeInBytes) {
      return this.refuse(`the payload is too big. Current:${data.length} Maximum:${this.maxSizeInBytes}`);
    }
    let room: number;
    try {
      room = this.availableSpace();
    } catch (e) {
      return this.refuse(`cannot compute the available disk space: ${errorText(e)}`);
    }
    if (room < data.length) {
      // Even with every file dropped it would not fit: keep the files.
      return this.refuse(`not enough disk space: ${Math.max(0, room)} bytes may be used (forwarder_storage_max_disk_ratio ${this.maxDiskRatio}), the group needs ${data.length}`);
    }
    while (this.entries.length > 0 && this.usedBytes + data.length > room) this.dropOldest();

    const entry: Entry<T> = {
      name: `${fileTime(this.now())}_${pad(this.nameSeq++, 8)}_${this.nameSalt}${RETRY_FILE_EXTENSION}`,
      bytes: data.length,
      count: group.length,
      byEndpoint: endpointCounts(records),
      state: 'pending',
      data,
      group: [...group],
      cancelled: false,
    };
    if (this.inMemoryBytes + data.length > this.maxPendingBytes) {
      // The disk is not keeping up: write this one now rather than hold more in memory.
      this.counters.add('SyncWrites');
      if (!this.writeSync(entry)) return this.refuse('the write failed', false);
      this.entries.push(entry);
      this.usedBytes += entry.bytes;
      this.onDiskBytes += entry.bytes;
      this.storedCount += entry.count;
      return true;
    }
    this.entries.push(entry);
    this.usedBytes += entry.bytes;
    this.inMemoryBytes += entry.bytes;
    this.storedCount += entry.count;
    this.kick();
    return true;
  }

  /**
   * Removes and returns the newest group: from memory if it is not written yet, else by reading
   * and removing the newest file. A file that cannot be read is skipped and counted
   * (`DeserializationErrors`), and the next one is tried. `[]` when nothing is held or after
   * {@link close} (the files stay for the next start).
   */
  extractLast(): T[] {
    while (!this.closed && this.entries.length > 0) {
      const e = this.entries.pop()!;
      this.forget(e);
      if (e.state !== 'disk') {
        e.cancelled = true; // a write in progress is not renamed into place
        const group = e.group ?? [];
        e.group = null;
        e.data = null;
        this.counters.add('FilesRead');
        this.counters.add('TransactionsRead', group.length);
        return group;
      }
      const file = path.join(this.folder, e.name);
      let data: Buffer | null = null;
      try {
        data = fs.readFileSync(file);
      } catch (err) {
        this.log('error', `Cannot read the retry file ${file}: ${errorText(err)}`);
      }
      // Removed before its transactions are handed out (also when unreadable), as the agent does.
      this.unlink(file);
      this.counters.add('FilesRead');
      const decoded = data === null ? 'unreadable' : decodeRetryFile(data);
      if (typeof decoded === 'string') {
        this.counters.add('DeserializationErrors');
        if (data !== null) this.log('error', `Skipping the retry file ${file}: ${decoded}`);
        this.onDropped(e.byEndpoint);
        continue;
      }
      const out: T[] = [];
      const lost = new Map<string, number>();
      for (let i = decoded.records.length - 1; i >= 0; i--) {
        const r = decoded.records[i]!;
        let t: T | null = null;
        try {
          t = r === null ? null : this.codec.fromStored(r);
        } catch {
          t = null;
        }
        if (t === null) {
          this.counters.add('DeserializationErrors');
          const name = r?.endpointName ?? 'unknown';
          lost.set(name, (lost.get(name) ?? 0) + 1);
        } else {
          out.push(t);
        }
      }
      if (lost.size > 0) {
        let n = 0;
        for (const v of lost.values()) n += v;
        this.log('error', `Error when deserializing ${n} transactions of the retry file ${file}: dropping them`);
        this.onDropped(lost);
      }
      out.reverse();
      this.counters.add('TransactionsRead', out.length);
      if (out.length > 0) return out;
    }
    return [];
  }

  /** The "On-disk storage" text: the agent's `forwarder.tmpl` lines. */
  status(): string {
    if (this.usedBytes === 0) return STORAGE_NOT_IN_USE_STATUS;
    return [
      `Disk usage in bytes: ${this.usedBytes}`,
      `Current number of files: ${this.entries.length}`,
      `Number of files dropped: ${this.counters.get('FilesDropped')}`,
      `Deserialization errors count: ${this.counters.get('DeserializationErrors')}`,
      `Outdated files removed at startup: ${this.counters.get('OutdatedFilesRemoved')}`,
    ].join('\n');
  }

  stats(): DiskStorageStats {
    return {
      ...this.counters.snapshot(),
      CurrentSizeInBytes: this.usedBytes,
      FilesCount: this.entries.length,
      TransactionsCount: this.storedCount,
    };
  }

  /** Resolves once every accepted group is written (or failed). */
  flush(): Promise<void> {
    if (this.writer === null && !this.entries.some((e) => e.state === 'pending')) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses further groups and waits for the writes in progress. The files stay for the next start. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  // -------------------------------------------------------------------------------------------

  /**
   * The agent's `computeAvailableSpace`: `min(max size, our files + disk available − the
   * reserved share)`, where the reserved share is `(1 − forwarder_storage_max_disk_ratio)` of
   * the disk. Groups not yet written take no disk space yet, so they count against it.
   */
  private availableSpace(): number {
    const s = this.statfs(this.folder);
    const total = Number(s.blocks) * Number(s.bsize);
    const available = Number(s.bavail) * Number(s.bsize);
    const reserved = Math.ceil(total * (1 - this.maxDiskRatio));
    return Math.min(this.maxSizeInBytes, this.onDiskBytes + available - reserved);
  }

  private refuse(why: string, log = true): false {
    this.counters.add('Refused');
    if (log) this.log('error', `Cannot store transactions on disk: ${why}`);
    return false;
  }

  private forget(e: Entry<T>): void {
    this.usedBytes -= e.bytes;
    this.storedCount -= e.count;
    if (e.state === 'disk') this.onDiskBytes -= e.bytes;
    else this.inMemoryBytes -= e.bytes;
  }

  private dropOldest(): void {
    const e = this.entries.shift()!;
    this.forget(e);
    this.log('error', `Maximum disk space for retry transactions is reached. Removing ${e.name}`);
    if (e.state === 'disk') this.unlink(path.join(this.folder, e.name));
    else {
      e.cancelled = true;
      e.data = null;
      e.group = null;
    }
    this.counters.add('FilesDropped');
    this.counters.add('BytesDropped', e.bytes);
    this.counters.add('TransactionsDropped', e.count);
    this.onDropped(e.byEndpoint);
  }

  private unlink(file: string): void {
    try {
      fs.unlinkSync(file);
    } catch (err) {
      if (!isNotFound(err)) this.log('error', `Cannot remove the retry file ${file}: ${errorText(err)}`);
    }
  }

  /** Starts the background writer on the oldest group not written yet. */
  private kick(): void {
    if (this.writer !== null) return;
    const e = this.entries.find((x) => x.state === 'pending');
    if (e === undefined) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
      return;
    }
    e.state = 'writing';
    this.writer = this.writeAsync(e).finally(() => {
      this.writer = null;
      this.kick();
    });
  }

  private async writeAsync(e: Entry<T>): Promise<void> {
    const final = path.join(this.folder, e.name);
    const tmp = final.slice(0, -RETRY_FILE_EXTENSION.length) + RETRY_TEMP_EXTENSION;
    let fh: fsp.FileHandle | null = null;
    try {
      const data = e.data;
      if (data === null || e.cancelled) return;
      fh = await fsp.open(tmp, 'wx', 0o600);
      await fh.writeFile(data);
      await fh.sync();
      await fh.close();
      fh = null;
      // The check and the rename run in one turn: a group taken back meanwhile is never renamed.
      if (e.cancelled) {
        await fsp.rm(tmp, { force: true });
        return;
      }
      fs.renameSync(tmp, final);
      e.state = 'disk';
      e.data = null;
      e.group = null;
      this.inMemoryBytes -= e.bytes;
      this.onDiskBytes += e.bytes;
      this.countStored(e);
      await syncDir(this.folder);
    } catch (err) {
      if (fh !== null) await fh.close().catch(() => {});
      await fsp.rm(tmp, { force: true }).catch(() => {});
      if (e.state !== 'disk' && !e.cancelled) {
        const i = this.entries.indexOf(e);
        if (i >= 0) {
          this.entries.splice(i, 1);
          this.forget(e);
        }
        e.data = null;
        e.group = null;
        this.counters.add('WriteErrors');
        this.log('error', `Cannot store transactions on disk: writing ${tmp} failed, ${e.count} transactions dropped: ${errorText(err)}`);
        this.onDropped(e.byEndpoint);
      }
    }
  }

  /** Writes a group now: temp name, fsync, rename. */
  private writeSync(e: Entry<T>): boolean {
    const final = path.join(this.folder, e.name);
    const tmp = final.slice(0, -RETRY_FILE_EXTENSION.length) + RETRY_TEMP_EXTENSION;
    let fd = -1;
    try {
      fd = fs.openSync(tmp, 'wx', 0o600);
      fs.writeFileSync(fd, e.data!);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = -1;
      fs.renameSync(tmp, final);
      e.state = 'disk';
      e.data = null;
      e.group = null;
      this.countStored(e);
      syncDirSync(this.folder);
      return true;
    } catch (err) {
      if (fd >= 0) {
        try {
          fs.closeSync(fd);
        } catch {
          // already failing
        }
      }
      fs.rmSync(tmp, { force: true });
      this.counters.add('WriteErrors');
      this.log('error', `Cannot store transactions on disk: writing ${tmp} failed: ${errorText(err)}`);
      return false;
    }
  }

  private countStored(e: Entry<T>): void {
    this.counters.add('FilesStored');
    this.counters.add('BytesStored', e.bytes);
    this.counters.add('TransactionsStored', e.count);
  }

  private startup(root: string, outdatedFileInDays: number): void {
    fs.mkdirSync(root, { recursive: true, mode: 0o700 });
    const own = path.basename(this.folder);
    const cutoff = this.now() - outdatedFileInDays * DAY_MS;
    const domains = fs.readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory());

    // Outdated files, in every intake's folder (the agent's RemoveOutdatedFiles runs first).
    for (const d of domains) {
      const dir = path.join(root, d.name);
      for (const f of listFiles(dir, RETRY_FILE_EXTENSION)) {
        try {
          if (fs.statSync(f).mtimeMs < cutoff) {
            fs.unlinkSync(f);
            this.counters.add('OutdatedFilesRemoved');
          }
        } catch (err) {
          if (!isNotFound(err)) this.log('error', `Error when removing outdated files: ${errorText(err)}`);
        }
      }
    }
    // Other intakes' folders (the agent's RemoveUnknownDomains): their retry files go, and the
    // folder when it is then empty.
    for (const d of domains) {
      if (d.name === own) continue;
      const dir = path.join(root, d.name);
      for (const f of [...listFiles(dir, RETRY_FILE_EXTENSION), ...listFiles(dir, RETRY_TEMP_EXTENSION)]) {
        try {
          fs.unlinkSync(f);
          if (f.endsWith(RETRY_FILE_EXTENSION)) this.counters.add('UnknownDomainFilesRemoved');
        } catch (err) {
          if (!isNotFound(err)) this.log('error', `Cannot remove ${f}: ${errorText(err)}`);
        }
      }
      try {
        fs.rmdirSync(dir);
      } catch {
        // not empty: other files are left alone, as the agent does
      }
    }

    fs.mkdirSync(this.folder, { recursive: true, mode: 0o700 });
    for (const f of listFiles(this.folder, RETRY_TEMP_EXTENSION)) {
      fs.rmSync(f, { force: true });
      this.counters.add('PartialFilesRemoved');
    }
    const reloaded: Entry<T>[] = [];
    for (const f of listFiles(this.folder, RETRY_FILE_EXTENSION)) {
      const head = readHead(f);
      if (typeof head === 'string') {
        this.counters.add('DeserializationErrors');
        this.log('error', `Removing the retry file ${f}: ${head}`);
        this.unlink(f);
        continue;
      }
      reloaded.push({
        name: path.basename(f),
        bytes: head.fileSize,
        count: head.info.summary.count,
        byEndpoint: head.info.summary.byEndpoint,
        state: 'disk',
        data: null,
        group: null,
        cancelled: false,
      });
    }
    // Names start with the UTC time they were stored at: sorting them sorts by age.
    reloaded.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of reloaded) {
      this.entries.push(e);
      this.usedBytes += e.bytes;
      this.onDiskBytes += e.bytes;
      this.storedCount += e.count;
    }
    this.counters.add('ReloadedFiles', reloaded.length);
    try {
      this.availableSpace();
    } catch (e) {
      // Said now rather than during an outage, as the agent does.
      this.log('warn', `Cannot compute the disk space available for retry files in ${this.folder}: ${errorText(e)}`);
    }
  }

  private log(level: DiskStorageLogLevel, line: string): void {
    try {
      this.logSink(line, level);
    } catch {
      // a failing log sink must not break storage
    }
  }
}

function withoutApiKey(s: StoredTransaction): StoredTransaction {
  const apiKey = Header.API_KEY.toLowerCase();
  if (!s.headers.some(([k]) => k.toLowerCase() === apiKey)) return s;
  return { ...s, headers: s.headers.filter(([k]) => k.toLowerCase() !== apiKey) };
}

function listFiles(dir: string, extension: string): string[] {
  let names: fs.Dirent[];
  try {
    names = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  const out: string[] = [];
  for (const d of names) {
    if (!d.isFile() || !d.name.endsWith(extension)) continue;
    // `.retry` must not match `.retry.tmp`'s sibling names and vice versa.
    if (extension === RETRY_FILE_EXTENSION && d.name.endsWith(RETRY_TEMP_EXTENSION)) continue;
    out.push(path.join(dir, d.name));
  }
  return out;
}

/** Reads and checks a file's header and summary. */
function readHead(file: string): { info: HeaderInfo; fileSize: number } | string {
  let fd = -1;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    let head = Buffer.alloc(Math.min(size, RETRY_FILE_HEADER_BYTES));
    fs.readSync(fd, head, 0, head.length, 0);
    if (head.length === RETRY_FILE_HEADER_BYTES && head.subarray(0, 8).equals(MAGIC)) {
      const want = RETRY_FILE_HEADER_BYTES + head.readUInt32LE(12);
      if (want <= size) {
        head = Buffer.alloc(want);
        fs.readSync(fd, head, 0, want, 0);
      }
    }
    const info = parseHead(head, size);
    return typeof info === 'string' ? info : { info, fileSize: size };
  } catch (err) {
    return `cannot read it: ${errorText(err)}`;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename durable across a power loss; best effort (not every platform can).
  try {
    const d = await fsp.open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // ignored
  }
}

function syncDirSync(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // ignored
  }
}

// ---------------------------------------------------------------------------------------------
// The forwarder's codec

const ROUTES: ReadonlySet<string> = new Set(Object.values(Endpoint));
const KINDS: ReadonlySet<string> = new Set(Object.values(PayloadKind));
const CONTENT_TYPES: ReadonlySet<string> = new Set(Object.values(ContentType));
const CONTENT_ENCODINGS: ReadonlySet<string> = new Set(['zstd', 'deflate', 'identity']);
/** Headers a record may carry back: the ones `buildHeaders` writes, minus the API key. */
const STORED_HEADERS: ReadonlyMap<string, string> = new Map(
  [Header.AGENT_VERSION, Header.USER_AGENT, Header.CONTENT_TYPE, Header.CONTENT_ENCODING, Header.AGENT_PAYLOAD].map((h) => [h.toLowerCase(), h]),
);
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export interface ForwarderCodecOptions {
  /** The intake base URL; a record's route is appended to it. */
  readonly url: string;
  readonly apiKey: string;
  /** The `seq` of a transaction read back (the forwarder counts down from -1: older than any new one). */
  readonly nextSeq: () => number;
}

/**
 * How the forwarder's transactions go to disk and back. Reading back is strict: the route must
 * be one of kennel's intake paths and every header one `buildHeaders` writes (a file edited to
 * point elsewhere or to add headers is rejected, counted in `DeserializationErrors`); the API key
 * is added back as the first header.
 */
export function createForwarderCodec(options: ForwarderCodecOptions): TransactionCodec<ForwarderTransaction> {
  const apiKeyHeader = Header.API_KEY.toLowerCase();
  return {
    toStored(t) {
      const headers: Array<readonly [string, string]> = [];
      for (const [k, v] of Object.entries(t.headers)) if (k.toLowerCase() !== apiKeyHeader) headers.push([k, v]);
      return {
        route: t.payload.endpoint,
        endpointName: t.endpointName,
        kind: t.payload.kind,
        contentType: t.payload.contentType,
        contentEncoding: t.payload.contentEncoding,
        headers,
        body: t.payload.body,
        uncompressedBytes: t.payload.uncompressedBytes,
        items: t.payload.items,
        points: t.payload.points,
        createdAt: t.createdAt,
        errorCount: t.errorCount,
        priority: t.priority,
      };
    },
    fromStored(s) {
      if (!ROUTES.has(s.route) || !KINDS.has(s.kind) || !CONTENT_TYPES.has(s.contentType) || !CONTENT_ENCODINGS.has(s.contentEncoding)) return null;
      const headers: Record<string, string> = { [Header.API_KEY]: options.apiKey };
      for (const [k, v] of s.headers) {
        const name = STORED_HEADERS.get(k.toLowerCase());
        if (name === undefined || !HEADER_VALUE.test(v)) return null;
        headers[name] = v;
      }
      const payload: IntakePayload = {
        kind: s.kind as PayloadKind,
        endpoint: s.route as Endpoint,
        contentType: s.contentType as ContentType,
        contentEncoding: s.contentEncoding as IntakePayload['contentEncoding'],
        body: s.body,
        uncompressedBytes: s.uncompressedBytes,
        items: s.items,
        points: s.points,
      };
      return {
        payload,
        url: options.url + s.route,
        endpointName: endpointName(s.route),
        headers: Object.freeze(headers),
        bytes: s.body.byteLength,
        seq: options.nextSeq(),
        priority: s.priority === 1 ? Priority.HIGH : Priority.NORMAL,
        errorCount: s.errorCount,
        createdAt: s.createdAt,
      };
    },
  };
}
