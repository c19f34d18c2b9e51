import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineDecoder, type LineDecoderOptions } from '../src/process/decoder.js';
import { GoRegexp } from '../src/process/go-regexp.js';
import type { DecodedLine } from '../src/process/line-handlers.js';
import { parseCriLine, parseDockerJsonLine } from '../src/process/container-formats.js';
import { trimSpace } from '../src/process/framer.js';

function decode(input: string | string[], options: LineDecoderOptions = {}): { out: DecodedLine[]; d: LineDecoder; truncations: number } {
  const out: DecodedLine[] = [];
  let truncations = 0;
  const d = new LineDecoder({ timers: false, ...options, onTruncated: () => truncations++ }, (l) => out.push(l));
  for (const chunk of Array.isArray(input) ? input : [input]) d.write(Buffer.from(chunk));
  return { out, d, get truncations() { return truncations; } };
}

const texts = (lines: DecodedLine[]): string[] => lines.map((l) => l.content.toString());

test('lines split across chunks come out whole, with their raw lengths', () => {
  const { out } = decode(['hel', 'lo\nwor', 'ld\r\n', 'partial']);
  assert.deepEqual(texts(out), ['hello', 'world']);
  assert.deepEqual(out.map((l) => l.rawLen), [6, 7]);
});

test('a line over the limit is cut with TRUNCATED markers at each cut', () => {
  const { out, truncations } = decode('0123456789abcdefghijXYZ\nnext\n', { maxMessageSize: 10 });
  assert.deepEqual(texts(out), ['0123456789...TRUNCATED...', '...TRUNCATED...abcdefghij...TRUNCATED...', '...TRUNCATED...XYZ', 'next']);
  assert.deepEqual(out.map((l) => l.rawLen), [10, 10, 4, 5]);
  assert.deepEqual(out.map((l) => l.truncated), [true, true, true, false]);
  assert.equal(truncations, 2);
});

test('a line of exactly the limit is whole', () => {
  const { out } = decode('0123456789\n', { maxMessageSize: 10 });
  assert.deepEqual(texts(out), ['0123456789']);
});

test('truncated lines get the truncated tag when tag_truncated_logs is on', () => {
  const { out } = decode('0123456789ab\n', { maxMessageSize: 10, tagTruncatedLogs: true });
  assert.deepEqual(out.map((l) => l.tags), [['truncated:single_line'], ['truncated:single_line']]);
});

test('leading and trailing white space is trimmed', () => {
  const ws = ' \t\u00a0\u3000';
  assert.equal(trimSpace(Buffer.from(`${ws}foo${ws}bar${ws}`)).toString(), `foo${ws}bar`);
});

// The agent's TestMultiLineHandler (pkg/logs/internal/decoder/line_handler_test.go), lineLimit 20.
test('multi_line joins lines until the pattern matches again, as the agent does', () => {
  const { out, d } = decode(['1.first\nsecond\n2. first line\n'], { maxMessageSize: 20, multiLine: new GoRegexp('^[0-9]+\\.') });
  assert.deepEqual(texts(out), ['1.first\\nsecond']);
  assert.equal(out[0]!.rawLen, 'first'.length + 2 + 'second'.length + 1 + 1);
  d.flush();
  assert.deepEqual(texts(out), ['1.first\\nsecond', '2. first line']);
});

test('multi_line groups over the limit are cut and the rest carries the marker', () => {
  const re = new GoRegexp('^[0-9]+\\.');
  const { out, d } = decode(['0. start\n3. stringssssssize20\ncon\n'], { maxMessageSize: 20, multiLine: re });
  d.flush();
  assert.deepEqual(texts(out), ['0. start', '3. stringssssssize20...TRUNCATED...', '...TRUNCATED...con']);
  const again = decode(['0. start\n4. stringssssssize20\ncontinue\n'], { maxMessageSize: 20, multiLine: re });
  again.d.flush();
  assert.deepEqual(texts(again.out), ['0. start', '4. stringssssssize20...TRUNCATED...', '...TRUNCATED...continue...TRUNCATED...']);
});

test('until the pattern matched once, every line is its own message', () => {
  const { out, d } = decode(['a\nb\nc\n'], { multiLine: new GoRegexp('^Z') });
  d.flush();
  assert.deepEqual(texts(out), ['a', 'b', 'c']);
});

test('multi_line groups are tagged when tag_multi_line_logs is on', () => {
  const { out, d } = decode(['2024 boom\n  at a\n  at b\n'], { multiLine: new GoRegexp('^\\d{4}'), tagMultiLineLogs: true });
  d.flush();
  assert.deepEqual(texts(out), ['2024 boom\\n  at a\\n  at b']);
  assert.deepEqual(out[0]!.tags, ['multiline:multi_line']);
});

test('the aggregation timeout flushes a pending multi-line group', async () => {
  const out: DecodedLine[] = [];
  const d = new LineDecoder({ multiLine: new GoRegexp('^\\d'), aggregationTimeoutMs: 20 }, (l) => out.push(l));
  d.write(Buffer.from('1 start\n  more\n'));
  assert.deepEqual(texts(out), []);
  while (out.length === 0) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(texts(out), ['1 start\\n  more']);
  d.close();
});

test('a partial line held for backpressure is not cut by the aggregation timeout (regression: an intake outage split child lines where the pipe paused)', async () => {
  const out: DecodedLine[] = [];
  const d = new LineDecoder({ framing: 'stream', aggregationTimeoutMs: 20 }, (l) => out.push(l));
  d.write(Buffer.from('first\nhalf of a li'));
  assert.deepEqual(texts(out), ['first']);
  d.hold();
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(texts(out), ['first'], 'nothing cut while held');
  d.release();
  d.write(Buffer.from('ne\n'));
  assert.deepEqual(texts(out), ['first', 'half of a line']);
  // Released, a real silence still sends the partial line.
  d.write(Buffer.from('prompt> '));
  while (out.length < 3) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(texts(out), ['first', 'half of a line', 'prompt>']);
  d.close();
});

// The agent's docker_file_test.go cases.
test('Docker json-file lines parse into content, stream status and time', () => {
  const a = parseDockerJsonLine(Buffer.from('{"log":"a message","stream":"stderr","time":"2019-06-06T16:35:55.930852911Z"}'));
  assert.deepEqual([a.content.toString(), a.status, a.partial, a.timestamp], ['a message', 'error', true, '2019-06-06T16:35:55.930852911Z']);
  const b = parseDockerJsonLine(Buffer.from('{"log":"a third message\\n","stream":"stdout","time":"2019-06-06T16:35:55.930852913Z"}'));
  assert.deepEqual([b.content.toString(), b.status, b.partial], ['a third message', 'info', false]);
  const c = parseDockerJsonLine(Buffer.from('a wrong message'));
  assert.deepEqual([c.content.toString(), c.status, c.error !== ''], ['a wrong message', 'info', true]);
  const e = parseDockerJsonLine(Buffer.from('{"log":"hello\\n\\n","stream":"stdout"}'));
  assert.deepEqual([e.content.toString(), e.partial], ['hello\n', false]);
  assert.equal(parseDockerJsonLine(Buffer.from('null')).error !== '', true);
  assert.equal(parseDockerJsonLine(Buffer.from('{"log":"x\\n","stream":"other"}')).status, '');
});

// The agent's kubernetes_test.go cases.
test('CRI lines parse into content, stream status, partial flag and time', () => {
  const f = parseCriLine(Buffer.from('2018-09-20T11:54:11.753589172Z stdout F anything'));
  assert.deepEqual([f.content.toString(), f.status, f.partial, f.timestamp], ['anything', 'info', false, '2018-09-20T11:54:11.753589172Z']);
  const p = parseCriLine(Buffer.from('2018-09-20T11:54:11.753589172Z stderr P anything'));
  assert.deepEqual([p.status, p.partial], ['error', true]);
  const empty = parseCriLine(Buffer.from('2018-09-20T11:54:11.753589172Z stdout F'));
  assert.deepEqual([empty.content.length, empty.partial], [0, false]);
  const bad = parseCriLine(Buffer.from('2018-09-20T11:54:11.753589172Z foo'));
  assert.deepEqual([bad.content.toString(), bad.status, bad.error !== ''], ['2018-09-20T11:54:11.753589172Z foo', 'info', true]);
});

test('partial Docker and CRI lines are joined until the full one', () => {
  const docker = decode(['{"log":"part one, ","stream":"stdout","time":"t"}\n{"log":"part two\\n","stream":"stdout","time":"2019-06-06T16:35:55.9Z"}\n'], { format: 'docker' });
  assert.deepEqual(texts(docker.out), ['part one, part two']);
  assert.equal(docker.out[0]!.rawLen, Buffer.byteLength('{"log":"part one, ","stream":"stdout","time":"t"}\n{"log":"part two\\n","stream":"stdout","time":"2019-06-06T16:35:55.9Z"}\n'));
  const cri = decode(['2019-05-15T13:34:26.011123506Z stderr P 1. first \n2019-05-15T13:34:26.011123507Z stderr F and last\n'], { format: 'cri' });
  assert.deepEqual(texts(cri.out), ['1. first and last']);
  assert.deepEqual([cri.out[0]!.status, cri.out[0]!.timestamp], ['error', '2019-05-15T13:34:26.011123507Z']);
});

test('a partial Docker line is sent after the aggregation timeout', async () => {
  const out: DecodedLine[] = [];
  const d = new LineDecoder({ format: 'docker', aggregationTimeoutMs: 20 }, (l) => out.push(l));
  d.write(Buffer.from('{"log":"prompt> ","stream":"stdout"}\n'));
  while (out.length === 0) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(texts(out), ['prompt>']);
  d.close();
});

test('a stream sends its partial last line at the end', () => {
  const { out, d } = decode(['a\nb'], { framing: 'stream' });
  assert.deepEqual(texts(out), ['a']);
  d.end();
  assert.deepEqual(texts(out), ['a', 'b']);
});

test('a datagram is split on newlines and its last line sent at once', () => {
  const { out } = decode(['one\ntwo', 'three'], { framing: 'datagram' });
  assert.deepEqual(texts(out), ['one', 'two', 'three']);
});
