import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, copyFile, mkdir, rename, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileSource, type FileSourceOptions } from '../src/source/file.js';
import { resolveLogsSourceConfig, type FileSourceConfig } from '../src/source/config.js';
import { Registry } from '../src/registry/registry.js';
import { Collector, tempDir, text, until } from './source-support.js';

function fileConfig(entry: Record<string, unknown>): FileSourceConfig {
  return resolveLogsSourceConfig({ type: 'file', ...entry }, 'logs[0]') as FileSourceConfig;
}

async function setup(entry: Record<string, unknown>, options: Partial<FileSourceOptions> & { highWaterMark?: number; paused?: boolean } = {}) {
  const dir = (entry['dir'] as string | undefined) ?? (await tempDir());
  delete entry['dir'];
  const runPath = (options as { runPath?: string }).runPath ?? join(dir, 'run');
  const registry = options.registry ?? (await Registry.open({ runPath }));
  const c = new Collector({ highWaterMark: options.highWaterMark ?? 10_000, paused: options.paused ?? false });
  const src = new FileSource(c.ctx, fileConfig(entry), { scanPeriodMs: 20, pollIntervalMs: 10, ...options, registry });
  return { dir, registry, c, src };
}

const lines = (from: number, to: number, prefix = 'line'): string[] => Array.from({ length: to - from }, (_, i) => `${prefix} ${from + i}`);
const body = (ls: string[]): string => ls.map((l) => l + '\n').join('');

test('a file is read from the beginning, then as it grows, with filename and dirname tags', async () => {
  const dir = await tempDir();
  const path = join(dir, 'app.log');
  await writeFile(path, body(lines(0, 3)));
  const { c, src, registry } = await setup({ dir, path, start_position: 'beginning', service: 'api', source: 'python', tags: ['env:test'] });
  await src.start();
  await c.waitFor(3);
  await appendFile(path, 'line 3\nline ');
  await appendFile(path, '4\n');
  await c.waitFor(5);
  assert.deepEqual(c.texts(), lines(0, 5));
  const m = c.messages[4]!;
  assert.deepEqual([m.service, m.source, m.status, m.tags], ['api', 'python', 'info', [`filename:app.log`, `dirname:${dir}`, 'env:test']]);
  assert.deepEqual(c.messages.map((x) => x.origin.offset), [7, 14, 21, 28, 35]);
  assert.equal(m.origin.sourceId, `file:${path}`);
  await src.stop();
  await registry.stop();
  c.close();
});

test('start_position end skips what is there; lines appended later are read', async () => {
  const dir = await tempDir();
  const path = join(dir, 'app.log');
  await writeFile(path, body(lines(0, 3)));
  const { c, src } = await setup({ dir, path });
  await src.start();
  await appendFile(path, body(['fresh']));
  await c.waitFor(1);
  assert.deepEqual(c.texts(), ['fresh']);
  await src.stop();
  c.close();
});

test('a restart resumes exactly after the last acked offset: no loss, no duplicates', async () => {
  const dir = await tempDir();
  const path = join(dir, 'app.log');
  const runPath = join(dir, 'run');
  await writeFile(path, body(lines(0, 10)) + 'partial line');
  const first = await setup({ dir, path, start_position: 'beginning' }, { registry: await Registry.open({ runPath }) });
  await first.src.start();
  const got = await first.c.waitFor(10);
  // The intake accepted the first 6 messages, then kennel stopped.
  for (const m of got.slice(0, 6)) first.registry.ack(m.origin);
  await first.src.stop();
  await first.registry.stop();
  first.c.close();

  await appendFile(path, ' now complete\n' + body(lines(10, 12)));
  const second = await setup({ dir, path, start_position: 'beginning' }, { registry: await Registry.open({ runPath }) });
  await second.src.start();
  await second.c.waitFor(7);
  assert.deepEqual(second.c.texts(), [...lines(6, 10), 'partial line now complete', ...lines(10, 12)]);
  await second.src.stop();
  await second.registry.stop();
  second.c.close();
});

test('rotation by rename: the old file is drained, the new one read from its start', async () => {
  const dir = await tempDir();
  const path = join(dir, 'app.log');
  await writeFile(path, body(lines(0, 2)));
  const { c, src, registry } = await setup({ dir, path, start_position: 'beginning' });
  await src.start();
  await c.waitFor(2);
  await rename(path, path + '.1');
  await writeFile(path, body(lines(0, 2, 'new')));
  await src.rescan();
  // The writer still holds the old file open and writes a last line to it.
  await appendFile(path + '.1', body(['line 2']));
  await c.waitFor(5);
  const texts = c.texts();
  assert.deepEqual(texts.filter((t) => t.startsWith('line')), lines(0, 3));
  assert.deepEqual(texts.filter((t) => t.startsWith('new')), lines(0, 2, 'new'));
  assert.equal(src.stats.rotations, 1);
  const fresh = c.messages.filter((m) => text(m).startsWith('new'));
  assert.deepEqual(fresh.map((m) => [m.origin.sourceId, m.origin.offset]), [[`file:${path}#1`, 6], [`file:${path}#1`, 12]]);
  const drained = c.messages.find((m) => text(m) === 'line 2')!;
  assert.equal(drained.origin.offset, undefined, 'lines of a rotated-away file are not tracked');
  // Once the old file is acked, the registry points at the new one.
  for (const m of c.messages) registry.ack(m.origin);
  assert.equal(registry.getOffset(`file:${path}`), '12');
  await src.stop();
  c.close();
});

// Regression: a scan that ran between the rename and the creation of the new file saw no file at
// the path; the next one started the new file at the old file's acked offset (the registry entry
// of the path), so the new file's first bytes were skipped once it had grown past that offset.
// Under load the integration test "a file rotated by rename, then by copytruncate" lost every
// line of its second file this way and waited for them until it timed out.
test('rotation by rename seen as a missing path first: the new file is read from its start, not at the old offset', async () => {
  const dir = await tempDir();
  const path = join(dir, 'app.log');
  await writeFile(path, body(lines(0, 4)));
  // Only the scans below look at the path.
  const { c, src, registry } = await setup({ dir, path, start_position: 'beginning' }, { scanPeriodMs: 3_600_000 });
  await src.start();
  for (const m of await c.waitFor(4)) registry.ack(m.origin);
  assert.equal(registry.getOffset(`file:${path}`), '28');
  await rename(path, path + '.1');
  await src.rescan();
  assert.deepEqual(src.tailerInfo().map((t) => t.state), ['draining']);
  // The new file is already longer than the old offset when a scan first sees it.
  await writeFile(path, body(lines(0, 6, 'new')));
  await src.rescan();
  await c.waitFor(10);
  const fresh = c.messages.filter((m) => text(m).startsWith('new'));
  assert.deepEqual(fresh.map(text), lines(0, 6, 'new'));
  assert.deepEqual(fresh.map((m) => [m.origin.sourceId, m.origin.offset]), [6, 12, 18, 24, 30, 36].map((o) => [`file:${path}#1`, o]));
  for (const m of c.messages) registry.ack(m.origin);
  assert.equal(registry.getOffset(`file:${path}`), '36');
  await src.stop();
  c.close();
});

test('rotation by copytruncate: the file is read again from its start', async () => {
  const dir = await tempDir();
  const path = join(dir, 'app.log');
  await writeFile(path, body(lines(0, 3)));
  const { c, src } = await setup({ dir, path, start_position: 'beginning' });
  await src.start();
  await c.waitFor(3);
  await copyFile(path, path + '.1');
  await truncate(path, 0);
  await until(() => src.stats.truncations === 1, 'the truncation to be seen');
  await appendFile(path, body(['after truncate']));
  await c.waitFor(4);
  assert.deepEqual(c.texts(), [...lines(0, 3), 'after truncate']);
  assert.deepEqual(c.messages[3]!.origin, { sourceId: `file:${path}#1`, offset: 15 });
  await src.stop();
  c.close();
});

test('a file truncated to a shorter content is read from its start', async () => {
  const dir = await tempDir();
  const path = join(dir, 'app.log');
  await writeFile(path, body(lines(0, 3)));
  const { c, src } = await setup({ dir, path, start_position: 'beginning' });
  await src.start();
  await c.waitFor(3);
  await writeFile(path, 'short\n');
  await c.waitFor(4);
  assert.deepEqual(c.texts(), [...lines(0, 3), 'short']);
  await src.stop();
  c.close();
});

test('a slow intake pauses the tailer and loses nothing', async () => {
  const dir = await tempDir();
  const path = join(dir, 'big.log');
  await writeFile(path, body(lines(0, 20_000)));
  const { c, src } = await setup({ dir, path, start_position: 'beginning' }, { highWaterMark: 50, paused: true, readBufferSize: 4096 });
  await src.start();
  await until(() => c.channel.length >= 50, 'the channel to fill');
  const [t] = src.tailerInfo();
  assert.ok(t!.readOffset < 200_000, `the tailer stopped reading at ${t!.readOffset}`);
  c.resume();
  await c.waitFor(20_000);
  assert.deepEqual(c.texts(), lines(0, 20_000));
  await src.stop();
  c.close();
});

test('a rotated-away file not read before close_timeout counts its unread bytes as missed', async () => {
  const dir = await tempDir();
  const path = join(dir, 'app.log');
  const content = body(lines(0, 5000));
  await writeFile(path, content);
  const { c, src } = await setup({ dir, path, start_position: 'beginning' }, { highWaterMark: 20, paused: true, readBufferSize: 1024, closeTimeoutMs: 30 });
  await src.start();
  await until(() => c.channel.length >= 20, 'the channel to fill');
  await unlink(path);
  await src.rescan();
  await until(() => c.counters.counters.get('BytesMissed') > 0, 'the missed bytes to be counted');
  c.resume();
  await until(() => src.tailerInfo().length === 0 && c.channel.length === 0, 'the drain to end');
  const delivered = c.messages.reduce((n, m) => n + Buffer.byteLength(text(m)) + 1, 0);
  assert.equal(c.counters.counters.get('BytesMissed'), Buffer.byteLength(content) - delivered);
  assert.deepEqual(c.texts(), lines(0, c.messages.length));
  await src.stop();
  c.close();
});

test('globs tail every match, and files created later are read from the beginning', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'a'));
  await mkdir(join(dir, 'b'));
  await writeFile(join(dir, 'a', 'x.log'), body(['a-x']));
  await writeFile(join(dir, 'b', 'y.log'), body(['b-y']));
  await writeFile(join(dir, 'b', 'skip.txt'), body(['no']));
  const { c, src } = await setup({ dir, path: join(dir, '*', '*.log'), start_position: 'beginning', exclude_paths: [join(dir, 'a', 'nothing*')] });
  await src.start();
  await c.waitFor(2);
  await writeFile(join(dir, 'a', 'z.log'), body(['a-z']));
  await c.waitFor(3);
  assert.deepEqual(c.texts().sort(), ['a-x', 'a-z', 'b-y']);
  const z = c.messages.find((m) => text(m) === 'a-z')!;
  assert.deepEqual(z.tags, ['filename:z.log', `dirname:${join(dir, 'a')}`]);
  assert.deepEqual(src.info()[0]!.messages, ['3 files tailed out of 3 files matching']);
  await src.stop();
  c.close();
});

test('Docker json-file logs: content, stream status and partial lines joined', async () => {
  const dir = await tempDir();
  const path = join(dir, 'containers', 'abc', 'abc-json.log');
  await mkdir(join(dir, 'containers', 'abc'), { recursive: true });
  const ls = [
    { log: 'GET / 200\n', stream: 'stdout', time: '2024-05-01T10:00:00.000000001Z' },
    { log: 'panic: half ', stream: 'stderr', time: '2024-05-01T10:00:01.5Z' },
    { log: 'and the rest\n', stream: 'stderr', time: '2024-05-01T10:00:01.6Z' },
  ];
  await writeFile(path, ls.map((l) => JSON.stringify(l) + '\n').join(''));
  const { c, src } = await setup({ dir, path, start_position: 'beginning' });
  const cc = new Collector({ useContainerTimestamp: true });
  const src2 = new FileSource(cc.ctx, fileConfig({ path, start_position: 'beginning' }), { registry: await Registry.open({ runPath: join(dir, 'run2') }), pollIntervalMs: 10, scanPeriodMs: 20 });
  await src.start();
  await src2.start();
  const msgs = await c.waitFor(2);
  assert.deepEqual(msgs.map((m) => [text(m), m.status]), [['GET / 200', 'info'], ['panic: half and the rest', 'error']]);
  const withTime = await cc.waitFor(2);
  assert.deepEqual(withTime.map((m) => m.timestamp), [Date.parse('2024-05-01T10:00:00.000Z'), Date.parse('2024-05-01T10:00:01.600Z')]);
  assert.equal(msgs[1]!.origin.offset, Buffer.byteLength(ls.map((l) => JSON.stringify(l) + '\n').join('')));
  await src.stop();
  await src2.stop();
  c.close();
  cc.close();
});

test('CRI logs: content, stream status and P/F partial flags', async () => {
  const dir = await tempDir();
  const path = join(dir, 'pod.log');
  await writeFile(path, ['2024-05-01T10:00:00.1Z stdout F ready', '2024-05-01T10:00:00.2Z stderr P Traceback part 1, ', '2024-05-01T10:00:00.3Z stderr F part 2', ''].join('\n'));
  const { c, src } = await setup({ dir, path, start_position: 'beginning', format: 'cri' });
  await src.start();
  const msgs = await c.waitFor(2);
  assert.deepEqual(msgs.map((m) => [text(m), m.status]), [['ready', 'info'], ['Traceback part 1, part 2', 'error']]);
  await src.stop();
  c.close();
});

test('multi_line rules join stack traces in files', async () => {
  const dir = await tempDir();
  const path = join(dir, 'java.log');
  await writeFile(path, ['2024-01-01 ERROR boom', '\tat A.b(A.java:1)', '\tat C.d(C.java:2)', '2024-01-01 INFO next', ''].join('\n'));
  const { c, src } = await setup({ dir, path, start_position: 'beginning', log_processing_rules: [{ type: 'multi_line', name: 'new_log_start_with_date', pattern: '\\d{4}-\\d{2}-\\d{2}' }] }, {});
  await src.start();
  await c.waitFor(1);
  await src.stop();
  await c.waitFor(2);
  assert.deepEqual(c.texts(), ['2024-01-01 ERROR boom\\n\tat A.b(A.java:1)\\n\tat C.d(C.java:2)', '2024-01-01 INFO next']);
  c.close();
});

test('with the default start_position a restart resumes at the registry offset', async () => {
  const dir = await tempDir();
  const path = join(dir, 'app.log');
  const runPath = join(dir, 'run');
  await writeFile(path, body(lines(0, 4)));
  const reg = await Registry.open({ runPath });
  const first = await setup({ dir, path }, { registry: reg });
  await first.src.start();
  await appendFile(path, body(lines(4, 6)));
  const got = await first.c.waitFor(2);
  reg.ack(got[0]!.origin);
  await first.src.stop();
  await reg.stop();
  first.c.close();
  const second = await setup({ dir, path }, { registry: await Registry.open({ runPath }) });
  await second.src.start();
  await second.c.waitFor(1);
  assert.deepEqual(second.c.texts(), ['line 5']);
  await second.src.stop();
  second.c.close();
});

test('start_position changed from beginning to end drops the stored offset', async () => {
  const dir = await tempDir();
  const path = join(dir, 'app.log');
  const runPath = join(dir, 'run');
  await writeFile(path, body(lines(0, 4)));
  const reg = await Registry.open({ runPath });
  const first = await setup({ dir, path, start_position: 'beginning' }, { registry: reg });
  await first.src.start();
  const got = await first.c.waitFor(4);
  reg.ack(got[0]!.origin);
  await first.src.stop();
  await reg.stop();
  first.c.close();
  const second = await setup({ dir, path, start_position: 'end' }, { registry: await Registry.open({ runPath }) });
  await second.src.start();
  await appendFile(path, body(['new']));
  await second.c.waitFor(1);
  assert.deepEqual(second.c.texts(), ['new']);
  await second.src.stop();
  second.c.close();
});

test('with fingerprinting, a file rewritten in place past the old offset is read again from its start', async () => {
  const dir = await tempDir();
  const path = join(dir, 'app.log');
  await writeFile(path, body(lines(0, 3, 'old')));
  const { c, src } = await setup(
    { dir, path, start_position: 'beginning', fingerprint_config: { fingerprint_strategy: 'byte_checksum', count: 8 } },
    // The tailer does not look again on its own: only the scan below sees the change.
    { pollIntervalMs: 3_600_000, scanPeriodMs: 3_600_000 },
  );
  await src.start();
  await c.waitFor(3);
  await writeFile(path, body(lines(0, 6, 'rewritten')));
  await src.rescan();
  await c.waitFor(9);
  assert.deepEqual(c.texts().slice(3), lines(0, 6, 'rewritten'));
  assert.equal(src.stats.truncations, 1);
  await src.stop();
  c.close();
});

test('global tags (DD_TAGS) follow the file tags', async () => {
  const dir = await tempDir();
  const path = join(dir, 'app.log');
  await writeFile(path, body(['x']));
  const c = new Collector({ globalTags: ['env:prod', 'region:eu'] });
  const src = new FileSource(c.ctx, fileConfig({ path, start_position: 'beginning', tags: ['app:web'] }), { registry: await Registry.open({ runPath: join(dir, 'run') }), pollIntervalMs: 10 });
  await src.start();
  const [m] = await c.waitFor(1);
  assert.deepEqual(m!.tags, ['filename:app.log', `dirname:${dir}`, 'app:web', 'env:prod', 'region:eu']);
  await src.stop();
  c.close();
});

test('exclude_paths and open_files_limit choose the files as the agent does (by name, descending)', async () => {
  const dir = await tempDir();
  for (const n of ['a.log', 'm.log', 'z.log', 'secret.log']) await writeFile(join(dir, n), body([n]));
  const { c, src } = await setup({ dir, path: join(dir, '*.log'), start_position: 'beginning', exclude_paths: [join(dir, 'secret*')] }, { openFilesLimit: 2 });
  await src.start();
  await c.waitFor(2);
  assert.deepEqual(c.texts().sort(), ['m.log', 'z.log']);
  assert.deepEqual(src.info()[0]!.messages, ['2 files tailed out of 3 files matching']);
  await src.stop();
  c.close();
});
