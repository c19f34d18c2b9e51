import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ContextKeyBuilder, contextKey } from '../src/index.js';

const enc = new TextEncoder();

describe('context key', () => {
  test('does not depend on tag order', () => {
    assert.equal(contextKey('m', 'h', ['a:1', 'b:2', 'c']), contextKey('m', 'h', ['c', 'b:2', 'a:1']));
  });

  test('ignores duplicate tags', () => {
    assert.equal(contextKey('m', 'h', ['a:1', 'a:1', 'b']), contextKey('m', 'h', ['b', 'a:1']));
  });

  test('changes with the name, the host and the tag set', () => {
    const base = contextKey('m', 'h', ['a']);
    assert.notEqual(base, contextKey('n', 'h', ['a']));
    assert.notEqual(base, contextKey('m', 'g', ['a']));
    assert.notEqual(base, contextKey('m', 'h', ['b']));
    assert.notEqual(base, contextKey('m', 'h', []));
    assert.notEqual(base, contextKey('m', 'h', ['a', '']));
  });

  test('does not mix up name and host', () => {
    assert.notEqual(contextKey('a', 'b', []), contextKey('b', 'a', []));
    assert.notEqual(contextKey('ab', '', []), contextKey('a', 'b', []));
  });

  test('hashes bytes and strings the same way', () => {
    const b = new ContextKeyBuilder();
    const packet = enc.encode('xx name host tag1 tägé yy');
    b.reset();
    b.addTag(packet, 13, 17);
    b.addTag(packet, 18, 24);
    b.finish(packet, 3, 7, packet, 8, 12);
    assert.equal(b.toBigInt(), contextKey('name', 'host', ['tägé', 'tag1']));
  });

  test('is a 64-bit value', () => {
    const k = contextKey('m', 'h', ['a']);
    assert.ok(k >= 0n && k < 1n << 64n);
  });

  test('de-duplicates thousands of tags in one key', () => {
    const tags: string[] = [];
    for (let i = 0; i < 5000; i++) tags.push(`t${i % 2500}`);
    const unique = tags.slice(0, 2500).reverse();
    const b = new ContextKeyBuilder();
    b.reset();
    for (const t of tags) b.addTagString(t);
    assert.equal(b.distinctTags, 2500);
    assert.equal(contextKey('m', '', tags), contextKey('m', '', unique));
  });
});
