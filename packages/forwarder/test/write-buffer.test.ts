import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteBuffer, zigzag32 } from '../src/internal/write-buffer.js';

function bytes(write: (w: WriteBuffer) => void): string {
  const w = new WriteBuffer(64);
  write(w);
  return w.buf.subarray(0, w.pos).toString('hex');
}

test('writes varints as protobuf does', () => {
  assert.equal(bytes((w) => w.varint32(0)), '00');
  assert.equal(bytes((w) => w.varint32(127)), '7f');
  assert.equal(bytes((w) => w.varint32(128)), '8001');
  assert.equal(bytes((w) => w.varint32(300)), 'ac02');
  assert.equal(bytes((w) => w.varint32(0xffffffff)), 'ffffffff0f');
  assert.equal(bytes((w) => w.varint64(1700000000)), '80e2cfaa06');
  assert.equal(bytes((w) => w.varint64(2 ** 32)), '8080808010');
  assert.equal(bytes((w) => w.varint64(Number.MAX_SAFE_INTEGER)), 'ffffffffffffff0f');
  assert.equal(bytes((w) => w.varint64(-1)), 'ffffffffffffffffff01');
  assert.equal(bytes((w) => w.varint64(-(2 ** 32))), '80808080f0ffffffff01');
});

test('zig-zags sint32 values', () => {
  assert.deepEqual([0, -1, 1, -2, 2147483647, -2147483648].map(zigzag32), [0, 1, 2, 3, 4294967294, 4294967295]);
});

test('moves a length-delimited value right when its length needs more than one byte', () => {
  const w = new WriteBuffer(64);
  w.byte(0x0a);
  const f = w.fork();
  for (let i = 0; i < 300; i++) w.byte(i & 0xff);
  w.ldelim(f);
  assert.equal(w.pos, 1 + 2 + 300);
  assert.equal(w.buf.subarray(0, 4).toString('hex'), '0aac0200');
  assert.equal(w.buf[w.pos - 1], 299 & 0xff);
});

test('writes UTF-8 strings and skips empty ones', () => {
  assert.equal(bytes((w) => w.stringField(0x12, '')), '');
  assert.equal(bytes((w) => w.stringField(0x12, 'é')), '1202c3a9');
  assert.equal(bytes((w) => w.stringField(0x12, 'x'.repeat(130))).slice(0, 6), '128201');
});

test('grows past its first capacity without losing bytes', () => {
  const w = new WriteBuffer(64);
  for (let i = 0; i < 10000; i++) w.varint32(i);
  let n = 0;
  for (let i = 0; i < 10000; i++) n += i < 128 ? 1 : 2;
  assert.equal(w.pos, n);
});

test('writes JSON strings with the escapes JSON needs', () => {
  const json = (s: string): string =>
    bytes((w) => w.jsonString(s))
      .match(/../g)!
      .map((h) => String.fromCharCode(parseInt(h, 16)))
      .join('');
  assert.equal(json('plain'), '"plain"');
  assert.equal(json('a"b\\c\n'), '"a\\"b\\\\c\\n"');
  assert.equal(Buffer.from(bytes((w) => w.jsonString('é😀')), 'hex').toString('utf8'), '"é😀"');
  assert.equal(bytes((w) => w.jsonString('\ud800')), Buffer.from('"\\ud800"').toString('hex'));
});
