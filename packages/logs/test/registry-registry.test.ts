import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseRegistry, Registry, serializeRegistry } from '../src/registry/registry.js';
import { computeFingerprint, crc64Iso } from '../src/registry/fingerprint.js';
import { tempDir } from './source-support.js';

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5, 670);
const noFp = { value: 0n, config: null };

test('an ack writes the agent format: Version 2, string offsets, nanosecond ingestion time', async () => {
  const dir = await tempDir();
  const reg = await Registry.open({ runPath: dir, now: () => T0 });
  const id = reg.register('file:/var/log/app.log', { tailingMode: 'end', fingerprint: noFp });
  assert.equal(id, 'file:/var/log/app.log');
  reg.ack({ sourceId: id, offset: 1234 });
  reg.ack('tcp:10514', 5);
  reg.ack({ sourceId: id, offset: undefined });
  await reg.flush();
  assert.equal(
    await readFile(join(dir, 'registry.json'), 'utf8'),
    '{"Version":2,"Registry":{"file:/var/log/app.log":{"LastUpdated":"2025-01-02T03:04:05.67Z","Offset":"1234","TailingMode":"end","IngestionTimestamp":1735787045670000000,"Fingerprint":{"Value":0,"Config":null}}}}',
  );
  assert.equal((await stat(join(dir, 'registry.json'))).mode & 0o777, 0o644);
  assert.deepEqual((await readdir(dir)).sort(), ['registry.json'], 'the temporary file was renamed');
});

test('nothing is written until an offset is acked', async () => {
  const dir = await tempDir();
  const reg = await Registry.open({ runPath: dir });
  reg.register('file:/a', { tailingMode: '', fingerprint: noFp });
  await reg.flush();
  assert.deepEqual(await readdir(dir), []);
  reg.ack('file:/a', 10);
  await reg.stop();
  assert.equal(parseRegistry(await readFile(join(dir, 'registry.json'), 'utf8')).get('file:/a')!.offset, '10');
});

test('versions 0, 1 and 2 are read as the agent reads them, and others are refused', async () => {
  const v0 = parseRegistry('{"Version":0,"Registry":{"/var/log/a.log":{"Path":"/var/log/a.log","Timestamp":"2019-01-01T00:00:00Z","Offset":42},"/b":{"Offset":0}}}');
  assert.deepEqual([...v0.keys()], ['file:/var/log/a.log']);
  assert.equal(v0.get('file:/var/log/a.log')!.offset, '42');
  const v1 = parseRegistry('{"Version":1,"Registry":{"file:/a":{"LastUpdated":"2019-01-01T00:00:00Z","Offset":7},"docker:abc":{"LastUpdated":"2019-01-01T00:00:00Z","Timestamp":"2019-01-01T00:00:00.000000001Z","Offset":0}}}');
  assert.equal(v1.get('file:/a')!.offset, '7');
  assert.equal(v1.get('docker:abc')!.offset, '2019-01-01T00:00:00.000000001Z');
  const v2 = parseRegistry('{"Version":2,"Registry":{"file:/a":{"LastUpdated":"2025-01-02T03:04:05.123456789Z","Offset":"99","TailingMode":"beginning","IngestionTimestamp":1735787045123456789,"Fingerprint":{"Value":18446744073709551615,"Config":{"fingerprint_strategy":"byte_checksum","count":1024,"count_to_skip":0,"max_bytes":0}}}}}');
  const e = v2.get('file:/a')!;
  assert.equal(e.ingestionTimestamp, 1735787045123456789n);
  assert.equal(e.fingerprint.value, 18446744073709551615n);
  assert.equal(e.fingerprint.config!.fingerprint_strategy, 'byte_checksum');
  assert.equal(serializeRegistry(v2).includes('"IngestionTimestamp":1735787045123456789,"Fingerprint":{"Value":18446744073709551615,'), true);
  assert.throws(() => parseRegistry('{"Version":3,"Registry":{}}'), /invalid registry version number/);
  assert.throws(() => parseRegistry('{"Registry":{}}'), /must have a version number/);
});

test('a broken registry file is ignored and reported', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'registry.json'), '{"Version":');
  const reg = await Registry.open({ runPath: dir });
  assert.deepEqual(reg.identifiers(), []);
  assert.match(reg.recoveryError, /cannot use .*registry\.json/);
});

test('entries of files no longer tailed expire after the TTL; tailed ones stay', async () => {
  const dir = await tempDir();
  let now = T0;
  const reg = await Registry.open({ runPath: dir, now: () => now, ttlHours: 23 });
  const a = reg.register('file:/a', { tailingMode: '', fingerprint: noFp });
  const b = reg.register('file:/b', { tailingMode: '', fingerprint: noFp });
  reg.ack(a, 1);
  reg.ack(b, 1);
  reg.unregister(b);
  now += 24 * 3_600_000;
  reg.cleanup();
  assert.deepEqual(reg.identifiers(), ['file:/a']);
});

test('after a rotation the entry moves to the new file once the old one is fully acked', async () => {
  const dir = await tempDir();
  const reg = await Registry.open({ runPath: dir });
  const gen0 = reg.register('file:/app.log', { tailingMode: '', fingerprint: noFp });
  reg.ack(gen0, 100);
  // The tailer pushed up to 300 of the old file, then the file was rotated.
  const gen1 = reg.rotate(gen0, 300, { tailingMode: '', fingerprint: noFp });
  assert.equal(gen1, 'file:/app.log#1');
  assert.equal(reg.getOffset('file:/app.log'), '100');
  reg.ack(gen0, 200);
  assert.equal(reg.getOffset('file:/app.log'), '200');
  reg.ack(gen0, 300);
  assert.equal(reg.getOffset('file:/app.log'), '0', 'the new file, from its start');
  reg.ack(gen1, 40);
  assert.equal(reg.getOffset('file:/app.log'), '40');
  // A late ack of the old file changes nothing any more.
  reg.ack(gen0, 300);
  assert.equal(reg.getOffset('file:/app.log'), '40');
});

test('ack works detached from the registry, as a callback', async () => {
  const reg = await Registry.open({ runPath: await tempDir() });
  const id = reg.register('file:/cb', { tailingMode: '', fingerprint: noFp });
  const { ack } = reg;
  [{ sourceId: id, offset: 3 }, { sourceId: id, offset: 9 }].forEach((o) => ack(o.sourceId, o.offset));
  assert.equal(reg.getOffset('file:/cb'), '9');
});

test('a rotation with everything acked moves the entry at once', async () => {
  const reg = await Registry.open({ runPath: await tempDir() });
  const gen0 = reg.register('file:/x', { tailingMode: '', fingerprint: noFp });
  reg.ack(gen0, 50);
  reg.rotate(gen0, 50, { tailingMode: '', fingerprint: noFp });
  assert.equal(reg.getOffset('file:/x'), '0');
});

test('CRC-64 ISO checksums equal Go hash/crc64', () => {
  // Values from Go's crc64.Checksum(data, crc64.MakeTable(crc64.ISO)).
  assert.equal(crc64Iso(Buffer.from('')), 0n);
  assert.equal(crc64Iso(Buffer.from('a')), 3756002089226993664n);
  assert.equal(crc64Iso(Buffer.from('hello world')), 13388989860809387070n);
  assert.equal(crc64Iso(Buffer.from('123456789')), 13333283586479230977n);
  assert.equal(crc64Iso(Buffer.from('x'.repeat(1024))), 2425081141389164544n);
});

test('byte and line fingerprints follow the agent: too short is 0, lines lose their newline', async () => {
  const dir = await tempDir();
  const f = join(dir, 'f.log');
  await writeFile(f, 'first line\r\nsecond\n');
  const byBytes = { fingerprint_strategy: 'byte_checksum', count: 5, count_to_skip: 1, max_bytes: 0 } as const;
  assert.equal((await computeFingerprint(f, byBytes)).value, crc64Iso(Buffer.from('irst ')));
  assert.equal((await computeFingerprint(f, { ...byBytes, count: 1024 })).value, 0n);
  const byLines = { fingerprint_strategy: 'line_checksum', count: 2, count_to_skip: 0, max_bytes: 1000 } as const;
  assert.equal((await computeFingerprint(f, byLines)).value, crc64Iso(Buffer.from('first linesecond')));
  assert.equal((await computeFingerprint(f, { ...byLines, count: 3 })).value, 0n);
  assert.equal((await computeFingerprint(f, { fingerprint_strategy: 'disabled', count: 0, count_to_skip: 0, max_bytes: 0 })).value, 0n);
});
