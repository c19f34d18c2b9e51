import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { StringInterner, decodeString } from '../src/index.js';

const enc = new TextEncoder();

describe('string interner', () => {
  test('returns the same string for the same bytes and counts hits', () => {
    const i = new StringInterner();
    const a = enc.encode('env:prod env:prod');
    const s1 = i.intern(a, 0, 8);
    const s2 = i.intern(a, 9, 17);
    assert.equal(s1, 'env:prod');
    assert.equal(s2, 'env:prod');
    assert.equal(i.misses, 1);
    assert.equal(i.hits, 1);
    assert.equal(i.size, 1);
  });

  test('refuses new strings past its entry limit, still returns them and counts the refusal', () => {
    const i = new StringInterner({ maxEntries: 2 });
    const b = enc.encode('abc');
    assert.equal(i.intern(b, 0, 1), 'a');
    assert.equal(i.intern(b, 1, 2), 'b');
    assert.equal(i.intern(b, 2, 3), 'c');
    assert.equal(i.refused, 1);
    assert.equal(i.size, 2);
    assert.equal(i.intern(b, 0, 1), 'a');
    assert.equal(i.hits, 1);
  });

  test('refuses past its byte limit', () => {
    const i = new StringInterner({ maxBytes: 4 });
    const b = enc.encode('abcdef');
    i.intern(b, 0, 3);
    i.intern(b, 3, 6);
    assert.equal(i.refused, 1);
  });

  test('tells apart strings whose hashes share a slot', () => {
    const i = new StringInterner({ maxEntries: 10000 });
    const seen = new Map<string, string>();
    for (let n = 0; n < 5000; n++) {
      const s = `tag:${n}`;
      const got = i.intern(enc.encode(s), 0, s.length);
      assert.equal(got, s);
      seen.set(s, got);
    }
    assert.equal(i.size, 5000);
  });

  test('decodes UTF-8 and replaces invalid bytes', () => {
    const b = enc.encode('é😀');
    assert.equal(decodeString(b, 0, b.length), 'é😀');
    assert.equal(decodeString(new Uint8Array([0x61, 0xff]), 0, 2), 'a\ufffd');
  });

  test('rejects a negative limit with a message naming the option', () => {
    assert.throws(() => new StringInterner({ maxEntries: -1 }), /maxEntries must be a whole number/);
  });
});
