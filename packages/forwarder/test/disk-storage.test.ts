import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeRetryFile,
  encodeRetryFile,
  Forwarder,
  resolveForwarderConfig,
  storageFolder,
  STORAGE_DISABLED_STATUS,
} from '../src/index.js';
import type { StatfsFunction, StoredTransaction } from '../src/index.js';
import { API_KEY, captureLog, FakeIntake, fastRetries, payload, waitFor } from './fake-intake.js';

/** Every payload here is 100 bytes: `p<n>` padded with dots. */
const PAYLOAD_BYTES = 100;
/**
 * A retry file of two of them: the 28-byte header, a 36-byte summary (count, payload bytes,
 * stored-at, one endpoint `series_v2`), and two 408-byte records (44 bytes of fixed fields, the
 * route, endpoint name, kind, content type and encoding, the five headers but the API key, and the
 * 100-byte payload, each with its 4-byte length).
 */
const TWO_PAYLOAD_FILE = 880;

const plentyOfDisk: StatfsFunction = () => ({ bsize: 4096, blocks: 1e9, bavail: 1e9 });

function body(n: number): string {
  return `p${n}`.padEnd(PAYLOAD_BYTES, '.');
}

function idOf(b: Uint8Array): string {
  return Buffer.from(b).toString('latin1').replace(/\.+$/, '');
}

function tmpDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kennel-disk-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function listDir(dir: string, suffix: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith(suffix) && !(suffix === '.retry' && n.endsWith('.retry.tmp')))
    .sort();
}

/** The ids in each retry file of `folder`, oldest file first, records in file order. */
function filesContent(folder: string): string[][] {
  return listDir(folder, '.retry').map((name) => {
    const decoded = decodeRetryFile(fs.readFileSync(path.join(folder, name)));
    if (typeof decoded === 'string') throw new Error(`${name}: ${decoded}`);
    return decoded.records.map((r) => idOf(r!.body));
  });
}

/** Fails if any byte sequence of the API key is in any file under `dir`. */
function assertNoApiKey(dir: string): void {
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else assert.equal(fs.readFileSync(p).includes(API_KEY), false, `${p} holds the API key`);
    }
  };
  walk(dir);
}

/** One retry queue of four payloads, two payloads a file, one request at a time, no timed retry passes. */
function spillOptions(url: string, storagePath: string, log: (line: string, level: string) => void) {
  return {
    ...fastRetries(url, log),
    retryInterval: 3600,
    maxConcurrentRequests: 1,
    highPrioBufferSize: 0,
    retryQueuePayloadsMaxSize: 4 * PAYLOAD_BYTES,
    storagePath,
    storageMaxSizeInBytes: 3 * TWO_PAYLOAD_FILE,
    statfs: plentyOfDisk,
  };
}

/**
 * Sends p0..p11 to an intake answering 503 and waits until p0's failure is requeued and the
 * writes are done. p0 goes out; p1..p11 go to the retry queue (HighPriorityQueueFull), whose
 * bound of four moves two at a time to files: [p1,p2], [p3,p4], [p5,p6], [p7,p8]; p0 comes back
 * to memory beside p9..p11.
 */
async function spillTwelve(forwarder: Forwarder, filesStored: number): Promise<void> {
  for (let i = 0; i < 12; i++) forwarder.send(payload(body(i)));
  await waitFor(() => forwarder.stats().Transactions.Requeued === 1, 'p0 to be requeued');
  await waitFor(() => forwarder.stats().FileStorage?.['FilesStored'] === filesStored, 'the writes');
}

function record(text: string, route = '/api/v2/series'): StoredTransaction {
  const b = Buffer.from(text);
  return {
    route,
    endpointName: 'series_v2',
    kind: 'series_v2',
    contentType: 'application/x-protobuf',
    contentEncoding: 'identity',
    headers: [
      ['DD-Agent-Version', '7.64.0'],
      ['User-Agent', 'datadog-agent/7.64.0'],
      ['Content-Type', 'application/x-protobuf'],
      ['Content-Encoding', 'identity'],
      ['DD-Agent-Payload', 'v5.0.145'],
    ],
    body: new Uint8Array(b),
    uncompressedBytes: b.length,
    items: 1,
    points: 1,
    createdAt: 1_700_000_000_000,
    errorCount: 1,
    priority: 0,
  };
}

test('spills what overflows the memory queue to files, within the size bound, dropping and counting the oldest file', async (t) => {
  const dir = tmpDir(t);
  const intake = await FakeIntake.start(() => ({ status: 503, body: 'down' }));
  t.after(() => intake.close());
  const { lines, log } = captureLog();
  const forwarder = new Forwarder(spillOptions(intake.url, dir, log));
  t.after(() => forwarder.close());
  const folder = storageFolder(dir, intake.url);
  assert.equal(folder, path.join(dir, 'kennel', createHash('md5').update(intake.url).digest('hex')));
  assert.equal(forwarder.stats().OnDiskStorage, 'Enabled, not in-use.');

  await spillTwelve(forwarder, 3);

  // The fourth file pushed the first out ([p1,p2], dropped before it was even written).
  assert.deepEqual(filesContent(folder), [['p3', 'p4'], ['p5', 'p6'], ['p7', 'p8']]);
  assert.deepEqual(
    listDir(folder, '.retry').map((n) => fs.statSync(path.join(folder, n)).size),
    [TWO_PAYLOAD_FILE, TWO_PAYLOAD_FILE, TWO_PAYLOAD_FILE],
  );
  assert.deepEqual(listDir(folder, '.tmp'), []);
  for (const n of listDir(folder, '.retry')) assert.match(n, /^\d{4}_\d\d_\d\d__\d\d_\d\d_\d\d_\d{3}_\d{8}_[0-9a-f]{6}\.retry$/);
  assert.equal(fs.statSync(folder).mode & 0o777, 0o700);
  assert.equal(fs.statSync(path.join(folder, listDir(folder, '.retry')[0]!)).mode & 0o777, 0o600);
  assertNoApiKey(dir);

  const s = forwarder.stats();
  assert.equal(s.Transactions.Dropped, 2);
  assert.deepEqual(s.Transactions.DroppedByEndpoint, { series_v2: 2 });
  assert.equal(s.Transactions.RetryQueueDropped, 0);
  assert.equal(s.Transactions.RetryQueueSize, 4);
  assert.equal(s.Pending, 10);
  assert.deepEqual(s.FileStorage, {
    FilesStored: 3,
    BytesStored: 3 * TWO_PAYLOAD_FILE,
    TransactionsStored: 6,
    FilesRead: 0,
    TransactionsRead: 0,
    FilesDropped: 1,
    BytesDropped: TWO_PAYLOAD_FILE,
    TransactionsDropped: 2,
    DeserializationErrors: 0,
    OutdatedFilesRemoved: 0,
    UnknownDomainFilesRemoved: 0,
    PartialFilesRemoved: 0,
    ReloadedFiles: 0,
    Refused: 0,
    WriteErrors: 0,
    SyncWrites: 0,
    CurrentSizeInBytes: 3 * TWO_PAYLOAD_FILE,
    FilesCount: 3,
    TransactionsCount: 6,
  });
  assert.equal(
    s.OnDiskStorage,
    'Disk usage in bytes: 2640\nCurrent number of files: 3\nNumber of files dropped: 1\nDeserialization errors count: 0\nOutdated files removed at startup: 0',
  );
  assert.deepEqual(
    lines.filter((l) => l.includes('Maximum disk space')).map((l) => l.replace(/Removing \S+$/, 'Removing <file>')),
    ['error: Maximum disk space for retry transactions is reached. Removing <file>'],
  );

  // The intake recovers: memory first (newest first), then the newest file first.
  intake.replier = () => ({ status: 202, body: '{}' });
  assert.deepEqual(await forwarder.drain(), { sent: 10, dropped: 0, pending: 0 });
  const delivered = intake.delivered.map(idOf);
  assert.deepEqual(delivered, ['p11', 'p10', 'p9', 'p0', 'p8', 'p7', 'p6', 'p5', 'p4', 'p3']);
  assert.equal(new Set(delivered).size, delivered.length);
  assert.deepEqual(listDir(folder, '.retry'), []);
  const after = forwarder.stats();
  assert.equal(after.OnDiskStorage, 'Enabled, not in-use.');
  assert.equal(after.FileStorage?.['FilesRead'], 3);
  assert.equal(after.FileStorage?.['TransactionsRead'], 6);
  assert.equal(after.Transactions.Success, 10);
});

test('a new forwarder over the same folder sends what the previous one spilled and wrote at close, newest file first, with the API key added back', async (t) => {
  const dir = tmpDir(t);
  const intake = await FakeIntake.start(() => ({ status: 503, body: 'down' }));
  t.after(() => intake.close());
  const { log } = captureLog();
  const options = { ...spillOptions(intake.url, dir, log), storageMaxSizeInBytes: 10 * TWO_PAYLOAD_FILE };
  const first = new Forwarder(options);
  await spillTwelve(first, 4);
  await first.close();
  // close() wrote the memory queue too, in the drop order: [p0,p9] then [p10,p11].
  const folder = storageFolder(dir, intake.url);
  assert.deepEqual(filesContent(folder), [['p1', 'p2'], ['p3', 'p4'], ['p5', 'p6'], ['p7', 'p8'], ['p0', 'p9'], ['p10', 'p11']]);
  assert.equal(first.stats().Transactions.Dropped, 0);
  assertNoApiKey(dir);

  intake.replier = () => ({ status: 202, body: '{}' });
  const before = intake.requests.length;
  const second = new Forwarder(options);
  t.after(() => second.close());
  const s = second.stats();
  assert.equal(s.Pending, 12);
  assert.equal(s.FileStorage?.['ReloadedFiles'], 6);
  assert.equal(
    s.OnDiskStorage,
    'Disk usage in bytes: 5280\nCurrent number of files: 6\nNumber of files dropped: 0\nDeserialization errors count: 0\nOutdated files removed at startup: 0',
  );
  assert.deepEqual(await second.drain(), { sent: 12, dropped: 0, pending: 0 });
  const sent = intake.requests.slice(before);
  assert.deepEqual(
    sent.map((r) => idOf(r.body)),
    ['p11', 'p10', 'p9', 'p0', 'p8', 'p7', 'p6', 'p5', 'p4', 'p3', 'p2', 'p1'],
  );
  for (const r of sent) {
    assert.equal(r.status, 202);
    assert.equal(r.path, '/api/v2/series');
    assert.deepEqual(r.headers, {
      'dd-api-key': API_KEY,
      'dd-agent-version': '7.64.0',
      'user-agent': 'datadog-agent/7.64.0',
      'content-type': 'application/x-protobuf',
      'content-encoding': 'identity',
      'dd-agent-payload': 'v5.0.145',
      'content-length': String(PAYLOAD_BYTES),
      host: `127.0.0.1:${intake.port}`,
      connection: 'keep-alive',
    });
  }
  assert.deepEqual(listDir(folder, '.retry'), []);
});

test('after kill -9 mid-spill, a restart delivers every payload of every whole file exactly once', async (t) => {
  const dir = tmpDir(t);
  const intake = await FakeIntake.start(() => ({ status: 503, body: 'down' }));
  t.after(() => intake.close());
  const fixture = fileURLToPath(new URL('../../test/fixtures/spill-child.mjs', import.meta.url));
  const payloadBytes = 16 * 1024;
  const child = spawn(process.execPath, [fixture, intake.url, dir, String(payloadBytes)], {
    env: { ...process.env, KENNEL_TEST_API_KEY: API_KEY },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    child.once('exit', () => reject(new Error('the child exited early')));
  });
  const folder = storageFolder(dir, intake.url);
  await waitFor(() => listDir(folder, '.retry').length >= 20, 'the child to write 20 files');
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');

  // What is on disk now: whole files only (a write in progress is a .tmp).
  const onDisk = filesContent(folder).flat();
  const partial = listDir(folder, '.tmp').length;
  assert.ok(onDisk.length >= 80, `${onDisk.length} payloads on disk`);
  assert.equal(new Set(onDisk).size, onDisk.length);
  assertNoApiKey(dir);

  intake.replier = () => ({ status: 202, body: '{}' });
  const before = intake.requests.length;
  const { log } = captureLog();
  const restarted = new Forwarder({
    ...fastRetries(intake.url, log),
    storagePath: dir,
    storageMaxSizeInBytes: 64 * 1024 * 1024,
    retryQueuePayloadsMaxSize: payloadBytes * 8,
  });
  t.after(() => restarted.close());
  const s = restarted.stats();
  assert.equal(s.FileStorage?.['PartialFilesRemoved'], partial);
  assert.equal(s.FileStorage?.['DeserializationErrors'], 0);
  assert.equal(s.Pending, onDisk.length);
  assert.deepEqual(await restarted.drain(), { sent: onDisk.length, dropped: 0, pending: 0 });

  const delivered = intake.requests
    .slice(before)
    .filter((r) => r.status === 202)
    .map((r) => r.body.subarray(0, 17).toString('latin1'));
  assert.equal(delivered.length, onDisk.length);
  assert.deepEqual([...delivered].sort(), onDisk.map((id) => id.slice(0, 17)).sort());
  assert.deepEqual(listDir(folder, '.retry'), []);
  assert.deepEqual(listDir(folder, '.tmp'), []);
});

test('skips and counts a truncated, a corrupt and a foreign file, and removes a partial write, without crashing', async (t) => {
  const dir = tmpDir(t);
  const intake = await FakeIntake.start(() => ({ status: 503, body: 'down' }));
  t.after(() => intake.close());
  const { lines, log } = captureLog();
  const options = { ...spillOptions(intake.url, dir, log), storageMaxSizeInBytes: 10 * TWO_PAYLOAD_FILE };
  const first = new Forwarder(options);
  await spillTwelve(first, 4);
  await first.close();
  const folder = storageFolder(dir, intake.url);
  const names = listDir(folder, '.retry');
  assert.equal(names.length, 6);
  // [p5,p6] loses its last byte; [p10,p11] gets one payload byte flipped; a file that is not ours;
  // a write a crash interrupted.
  const truncated = path.join(folder, names[2]!);
  fs.truncateSync(truncated, TWO_PAYLOAD_FILE - 1);
  const corrupt = path.join(folder, names[5]!);
  const bytes = fs.readFileSync(corrupt);
  bytes[TWO_PAYLOAD_FILE - 10] ^= 0x01;
  fs.writeFileSync(corrupt, bytes);
  fs.writeFileSync(path.join(folder, '0000_foreign.retry'), 'this is not a kennel retry file at all');
  fs.writeFileSync(path.join(folder, '9999_partial.retry.tmp'), bytes.subarray(0, 100));

  intake.replier = () => ({ status: 202, body: '{}' });
  const before = intake.requests.length;
  const second = new Forwarder(options);
  t.after(() => second.close());
  const s = second.stats();
  assert.equal(s.FileStorage?.['DeserializationErrors'], 2);
  assert.equal(s.FileStorage?.['PartialFilesRemoved'], 1);
  assert.equal(s.FileStorage?.['ReloadedFiles'], 5);
  assert.equal(s.Pending, 10);
  assert.deepEqual(
    lines.filter((l) => l.includes('Removing the retry file')).map((l) => l.replace(/file \S+: /, 'file <f>: ')),
    [
      'error: Removing the retry file <f>: not a kennel retry file (bad magic)',
      `error: Removing the retry file <f>: truncated or extended: ${TWO_PAYLOAD_FILE - 1} bytes, the header says ${TWO_PAYLOAD_FILE}`,
    ],
  );

  assert.deepEqual(await second.drain(), { sent: 8, dropped: 2, pending: 0 });
  assert.deepEqual(
    intake.requests.slice(before).map((r) => idOf(r.body)),
    ['p9', 'p0', 'p8', 'p7', 'p4', 'p3', 'p2', 'p1'],
  );
  const after = second.stats();
  assert.equal(after.FileStorage?.['DeserializationErrors'], 3);
  assert.deepEqual(after.Transactions.DroppedByEndpoint, { series_v2: 2 });
  assert.deepEqual(
    lines.filter((l) => l.includes('Skipping the retry file')).map((l) => l.replace(/file \S+: /, 'file <f>: ')),
    ['error: Skipping the retry file <f>: body checksum mismatch'],
  );
  assert.deepEqual(fs.readdirSync(folder), []);
});

test('rejects a record that would send elsewhere or add headers, and sends the rest of its file', async (t) => {
  const dir = tmpDir(t);
  const intake = await FakeIntake.start();
  t.after(() => intake.close());
  const url = resolveForwarderConfig({ apiKey: API_KEY, ddUrl: intake.url }).url;
  const folder = storageFolder(dir, url);
  fs.mkdirSync(folder, { recursive: true });
  const evilRoute = record('elsewhere', '@evil.example/api/v2/series');
  const extraHeader = { ...record('extra header'), headers: [...record('x').headers, ['Host', 'evil.example'] as const] };
  fs.writeFileSync(path.join(folder, '2024_01_01__00_00_00_000_00000000_abcdef.retry'), encodeRetryFile([record('good'), evilRoute, extraHeader], 0));

  const { lines, log } = captureLog();
  const forwarder = new Forwarder({ ...fastRetries(intake.url, log), storagePath: dir, storageMaxSizeInBytes: 1 << 20, statfs: plentyOfDisk });
  t.after(() => forwarder.close());
  assert.deepEqual(await forwarder.drain(), { sent: 1, dropped: 2, pending: 0 });
  assert.deepEqual(intake.delivered.map(idOf), ['good']);
  assert.equal(forwarder.stats().FileStorage?.['DeserializationErrors'], 2);
  assert.ok(lines.some((l) => l.startsWith('error: Error when deserializing 2 transactions of the retry file ')));
});

test('removes outdated files and the files of other intakes at start, and counts them', async (t) => {
  const dir = tmpDir(t);
  const intake = await FakeIntake.start(() => ({ status: 503 }));
  t.after(() => intake.close());
  const own = storageFolder(dir, intake.url);
  const other = storageFolder(dir, 'https://7-64-0-app.agent.datadoghq.eu');
  const otherOld = storageFolder(dir, 'https://7-64-0-app.agent.us5.datadoghq.com');
  const agentCore = path.join(dir, 'core', 'f'.repeat(32));
  for (const d of [own, other, otherOld, agentCore]) fs.mkdirSync(d, { recursive: true });
  const file = encodeRetryFile([record('kept')], 0);
  const eleven = (Date.now() - 11 * 24 * 3600 * 1000) / 1000;
  const write = (p: string, old: boolean): void => {
    fs.writeFileSync(p, file);
    if (old) fs.utimesSync(p, eleven, eleven);
  };
  write(path.join(own, '2024_01_01__00_00_00_000_00000000_aaaaaa.retry'), true);
  write(path.join(own, '2024_01_02__00_00_00_000_00000000_aaaaaa.retry'), false);
  write(path.join(other, 'a.retry'), false);
  fs.writeFileSync(path.join(other, 'notes.txt'), 'not a retry file');
  write(path.join(otherOld, 'b.retry'), true);
  write(path.join(agentCore, 'c.retry'), true);

  const { log } = captureLog();
  const forwarder = new Forwarder({ ...spillOptions(intake.url, dir, log) });
  t.after(() => forwarder.close());
  const s = forwarder.stats();
  assert.equal(s.FileStorage?.['OutdatedFilesRemoved'], 2);
  assert.equal(s.FileStorage?.['UnknownDomainFilesRemoved'], 1);
  assert.equal(s.FileStorage?.['ReloadedFiles'], 1);
  assert.equal(
    s.OnDiskStorage,
    `Disk usage in bytes: ${file.length}\nCurrent number of files: 1\nNumber of files dropped: 0\nDeserialization errors count: 0\nOutdated files removed at startup: 2`,
  );
  assert.deepEqual(fs.readdirSync(own), ['2024_01_02__00_00_00_000_00000000_aaaaaa.retry']);
  assert.deepEqual(fs.readdirSync(other), ['notes.txt']);
  assert.equal(fs.existsSync(otherOld), false);
  // The agent's own folder is not kennel's to clean.
  assert.deepEqual(fs.readdirSync(agentCore), ['c.retry']);
});

test('writes nothing while the disk is fuller than forwarder_storage_max_disk_ratio, and drops and counts instead', async (t) => {
  const dir = tmpDir(t);
  const intake = await FakeIntake.start(() => ({ status: 503, body: 'down' }));
  t.after(() => intake.close());
  const { lines, log } = captureLog();
  // 90 % of the disk used.
  const forwarder = new Forwarder({ ...spillOptions(intake.url, dir, log), statfs: () => ({ bsize: 4096, blocks: 1000, bavail: 100 }) });
  t.after(() => forwarder.close());
  for (let i = 0; i < 12; i++) forwarder.send(payload(body(i)));
  await waitFor(() => forwarder.stats().Transactions.Requeued === 1, 'p0 to be requeued');

  const s = forwarder.stats();
  assert.deepEqual(listDir(storageFolder(dir, intake.url), '.retry'), []);
  assert.equal(s.FileStorage?.['Refused'], 4);
  assert.equal(s.Transactions.RetryQueueDropped, 8);
  assert.equal(s.Transactions.Dropped, 8);
  assert.equal(s.OnDiskStorage, 'Enabled, not in-use.');
  assert.equal(
    lines.filter((l) => l.includes('Cannot store transactions on disk'))[0],
    `error: Cannot store transactions on disk: not enough disk space: 0 bytes may be used (forwarder_storage_max_disk_ratio 0.8), the group needs ${TWO_PAYLOAD_FILE}`,
  );
});

test('keeps the files within what the disk ratio leaves, dropping the oldest first', async (t) => {
  const dir = tmpDir(t);
  const intake = await FakeIntake.start(() => ({ status: 503, body: 'down' }));
  t.after(() => intake.close());
  const folder = storageFolder(dir, intake.url);
  // A disk of 100000 bytes: 20000 reserved by the 0.8 ratio, 21800 free before kennel writes
  // anything, so kennel's files may take 1800 bytes: two files.
  const statfs: StatfsFunction = () => {
    let ours = 0;
    for (const n of listDir(folder, '.retry')) ours += fs.statSync(path.join(folder, n)).size;
    return { bsize: 1, blocks: 100_000, bavail: 21_800 - ours };
  };
  const { log } = captureLog();
  const forwarder = new Forwarder({ ...spillOptions(intake.url, dir, log), storageMaxSizeInBytes: 1 << 20, statfs });
  t.after(() => forwarder.close());
  await spillTwelve(forwarder, 2);

  assert.deepEqual(filesContent(folder), [['p5', 'p6'], ['p7', 'p8']]);
  const s = forwarder.stats();
  assert.equal(s.FileStorage?.['FilesDropped'], 2);
  assert.equal(s.FileStorage?.['BytesDropped'], 2 * TWO_PAYLOAD_FILE);
  assert.equal(s.Transactions.Dropped, 4);
  assert.equal(s.FileStorage?.['Refused'], 0);
});

test('drain past its deadline writes what is still queued in memory to disk', async (t) => {
  const dir = tmpDir(t);
  const intake = await FakeIntake.start((r) => (r.index === 0 ? 'hang' : { status: 202, body: '{}' }));
  t.after(() => intake.close());
  const { log } = captureLog();
  const options = spillOptions(intake.url, dir, log);
  const forwarder = new Forwarder(options);
  for (let i = 0; i < 3; i++) forwarder.send(payload(body(i)));
  await waitFor(() => intake.requests.length === 1, 'p0 to hang at the intake');
  // p1 and p2 wait for the only request slot, which p0 holds until the deadline.
  assert.deepEqual(await forwarder.drain(50), { sent: 0, dropped: 0, pending: 3 });
  const folder = storageFolder(dir, intake.url);
  await waitFor(() => forwarder.stats().FileStorage?.['FilesStored'] === 1, 'the write');
  assert.deepEqual(filesContent(folder), [['p1', 'p2']]);
  await forwarder.close(); // p0, in flight, is cancelled and lost
  assert.equal(forwarder.stats().Transactions.Dropped, 1);

  const next = new Forwarder({ ...options, retryInterval: 0.005 });
  t.after(() => next.close());
  assert.deepEqual(await next.drain(), { sent: 2, dropped: 0, pending: 0 });
  assert.deepEqual(intake.delivered.map(idOf), ['p2', 'p1']);
});

test('runs without disk spill, saying why, when the storage folder cannot be created', async (t) => {
  const dir = tmpDir(t);
  const blocker = path.join(dir, 'a-file');
  fs.writeFileSync(blocker, '');
  const intake = await FakeIntake.start(() => ({ status: 503 }));
  t.after(() => intake.close());
  const { lines, log } = captureLog();
  const forwarder = new Forwarder(spillOptions(intake.url, path.join(blocker, 'below'), log));
  t.after(() => forwarder.close());
  assert.equal(forwarder.stats().OnDiskStorage, STORAGE_DISABLED_STATUS);
  assert.equal(forwarder.stats().FileStorage, null);
  assert.equal(lines.filter((l) => l.includes('Error when creating the file storage')).length, 1);
  assert.match(lines.find((l) => l.includes('Error when creating the file storage'))!, /ENOTDIR.*retry queue storage on disk disabled$/);
});

test('defaults forwarder_storage_path to <run_path>/transactions_to_retry', () => {
  assert.equal(resolveForwarderConfig({ apiKey: API_KEY }).storagePath, '/opt/datadog-agent/run/transactions_to_retry');
  assert.equal(resolveForwarderConfig({ apiKey: API_KEY, runPath: '/var/run/kennel' }).storagePath, '/var/run/kennel/transactions_to_retry');
  assert.equal(resolveForwarderConfig({ apiKey: API_KEY, runPath: '/var/run/kennel', storagePath: '/data/retry' }).storagePath, '/data/retry');
  assert.throws(() => resolveForwarderConfig({ apiKey: API_KEY, storageMaxDiskRatio: 1.5 }), /forwarder_storage_max_disk_ratio \(storageMaxDiskRatio\): expected a ratio/);
  assert.throws(() => resolveForwarderConfig({ apiKey: API_KEY, outdatedFileInDays: -1 }), /forwarder_outdated_file_in_days/);
});

test('encodes a file that decodes to the same records, and refuses every cut of it', () => {
  const records = [record('one'), { ...record('two'), priority: 1, errorCount: 7, createdAt: 1_700_000_123_456 }];
  const file = encodeRetryFile(records, 1_700_000_000_000);
  assert.equal(file.subarray(0, 8).toString('latin1'), 'KNLRETRY');
  assert.equal(file.readUInt16LE(8), 1);
  const decoded = decodeRetryFile(file);
  assert.ok(typeof decoded !== 'string');
  assert.equal(decoded.summary.count, 2);
  assert.equal(decoded.summary.payloadBytes, 6);
  assert.equal(decoded.summary.writtenAt, 1_700_000_000_000);
  assert.deepEqual([...decoded.summary.byEndpoint], [['series_v2', 2]]);
  assert.deepEqual(decoded.records, records);
  for (let cut = 0; cut < file.length; cut++) assert.equal(typeof decodeRetryFile(file.subarray(0, cut)), 'string', `cut at ${cut}`);
  for (let i = 0; i < file.length; i++) {
    const flipped = Buffer.from(file);
    flipped[i] ^= 0x40;
    assert.equal(typeof decodeRetryFile(flipped), 'string', `byte ${i} flipped`);
  }
});
