// The native batch keyer (@kennel/native/context-key, native/src/context_key.h) against the
// JavaScript ContextKeyer it must equal bit for bit: a context keyed in a worker shard natively
// and the same context keyed in JavaScript (by the router, with several shards, or by a shard
// without the addon) must be one context.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MetricType } from '@kennel/core';
import { loadNative } from '@kennel/native';
import { nativeKeyBatch } from '@kennel/native/context-key';
import { ContextKeyer } from '../src/context-keyer.js';
import { ShardCore } from '../src/shard/shard-core.js';
import { resolveAggregatorConfig } from '../src/config.js';
import { INTS_PER_SAMPLE, I_BYTES, I_KEY_HI, I_KEY_LO, I_NAME_LEN, I_TAGS_LEN, I_TYPE, KEY_IN_SHARD, SampleBatch } from '../src/wire/sample-batch.js';
import { rows } from './helpers.js';

const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 200);
const keyBatch = nativeKeyBatch();
const skip = keyBatch === null ? `the addon is not loaded: ${loadNative().reason ?? ''}` : false;
const enc = new TextEncoder();

const tagText = fc.oneof(
  fc.constantFrom(
    'host:a',
    'host:',
    'host:b',
    'host',
    'dd.internal.entity_id:pod',
    'dd.internal.card:high',
    'dd.internal.jmx_check_name:x',
    'dd.internal.other:y',
    'dd.internal.',
    'dd.internal.card',
    'env:prod',
    'env:prod',
    '',
  ),
  fc.string({ maxLength: 24 }),
);
/** Raw tag bytes: text (commas included, so empty and split tags occur) or arbitrary bytes. */
const tagBytes = fc.oneof(
  tagText.map((t) => enc.encode(t)),
  fc.uint8Array({ maxLength: 20 }),
);
/** A tag list, sometimes past the keyer's 16-tag short list (its table takes over there). */
const tagList = fc.oneof(fc.array(tagBytes, { maxLength: 8 }), fc.array(tagBytes, { minLength: 15, maxLength: 60 }));

interface Line {
  readonly name: Uint8Array;
  readonly tags: Uint8Array[];
  readonly values: number;
  readonly flagged: boolean;
}
const line = fc.record({
  name: fc.uint8Array({ minLength: 1, maxLength: 40 }),
  tags: tagList,
  values: fc.integer({ min: 1, max: 3 }),
  flagged: fc.boolean(),
});

/** A batch of the lines, each line's values sharing its bytes, as the router writes them. */
function batchOf(lines: readonly Line[]): SampleBatch {
  const b = new SampleBatch(1024, 1 << 17);
  const comma = Uint8Array.of(0x2c);
  for (const l of lines) {
    const joined: Uint8Array[] = [];
    l.tags.forEach((t, i) => {
      if (i > 0) joined.push(comma);
      joined.push(t);
    });
    const tagsLen = joined.reduce((n, t) => n + t.length, 0);
    const off = b.appendBytes(l.name, 0, l.name.length);
    for (const t of joined) b.appendBytes(t, 0, t.length);
    for (let v = 0; v < l.values; v++) {
      b.push(l.flagged ? 11 : 0, l.flagged ? 22 : 7, MetricType.COUNTER | (l.flagged ? KEY_IN_SHARD : 0), off, l.name.length, tagsLen, 1, 1, 0, 0);
    }
  }
  return b;
}

function layout(host: string): Uint32Array {
  const k = new ContextKeyer(host).defaultHostKey;
  return Uint32Array.of(INTS_PER_SAMPLE, I_KEY_LO, I_KEY_HI, I_TYPE, I_BYTES, I_NAME_LEN, I_TAGS_LEN, KEY_IN_SHARD, k.lo, k.hi);
}

test('the native batch keyer gives every flagged sample the key the JavaScript keyer gives it, and leaves the others alone', { skip }, () => {
  fc.assert(
    fc.property(fc.array(line, { minLength: 1, maxLength: 12 }), fc.string({ maxLength: 10 }), (lines, host) => {
      // Every line twice, at other offsets: the second copy is keyed from the keyer's cache of raw
      // forms, which must give what the JavaScript keyer computes (and forget a previous host's keys).
      const b = batchOf([...lines, ...lines]);
      const before = b.ints.slice();
      const keyed = keyBatch!(b.bytes, b.ints, b.count, layout(host));
      const js = new ContextKeyer(host);
      let flagged = 0;
      for (let k = 0; k < b.count; k++) {
        const i = k * INTS_PER_SAMPLE;
        const type = before[i + I_TYPE]!;
        if ((type & KEY_IN_SHARD) === 0) {
          assert.deepEqual(Array.from(b.ints.subarray(i, i + INTS_PER_SAMPLE)), Array.from(before.subarray(i, i + INTS_PER_SAMPLE)));
          continue;
        }
        flagged++;
        const off = before[i + I_BYTES]!;
        const nameLen = before[i + I_NAME_LEN]!;
        js.fromRawTags(b.bytes, off, nameLen, off + nameLen, before[i + I_TAGS_LEN]!);
        assert.deepEqual([b.ints[i + I_KEY_LO], b.ints[i + I_KEY_HI]], [js.lo, js.hi]);
        assert.equal(b.ints[i + I_TYPE], type & ~KEY_IN_SHARD, 'the flag is cleared, the type kept');
      }
      assert.equal(keyed, flagged);
    }),
    { numRuns },
  );
});

test('a raw form keyed under one default host is keyed afresh under another', { skip }, () => {
  const lines: Line[] = [{ name: enc.encode('m'), tags: [enc.encode('env:prod')], values: 1, flagged: true }];
  for (const host of ['a', 'b', 'a']) {
    const b = batchOf(lines);
    keyBatch!(b.bytes, b.ints, b.count, layout(host));
    const js = new ContextKeyer(host);
    js.fromRawTags(b.bytes, 0, 1, 1, 8);
    assert.deepEqual([b.ints[I_KEY_LO], b.ints[I_KEY_HI]], [js.lo, js.hi], host);
  }
});

test('a shard keyed natively flushes the same series as a shard keyed in JavaScript', { skip }, () => {
  fc.assert(
    fc.property(fc.array(line, { minLength: 1, maxLength: 20 }), (lines) => {
      const all = lines.map((l) => ({ ...l, flagged: true }));
      const cfg = resolveAggregatorConfig({ defaultHost: 'web-1' });
      const native = new ShardCore(cfg, { keyBatch });
      const js = new ShardCore(cfg, { keyBatch: null });
      assert.equal(native.nativeKeys, true);
      assert.equal(js.nativeKeys, false);
      native.ingest(batchOf(all).data());
      js.ingest(batchOf(all).data());
      assert.equal(native.contextCount, js.contextCount);
      assert.deepEqual(rows(native.flush(2_000_000_000, true).series), rows(js.flush(2_000_000_000, true).series));
    }),
    { numRuns: Math.max(20, numRuns / 4) },
  );
});

test('the native batch keyer names what is wrong with its arguments and reads nothing outside the buffer', { skip }, () => {
  const b = batchOf([{ name: enc.encode('m'), tags: [enc.encode('a:1')], values: 1, flagged: true }]);
  const l = layout('h');
  assert.throws(() => keyBatch!(new Uint16Array(4) as unknown as Uint8Array, b.ints, 1, l), { name: 'TypeError', message: /bytes must be a Uint8Array/ });
  assert.throws(() => keyBatch!(b.bytes, new Int32Array(6) as unknown as Uint32Array, 1, l), { name: 'TypeError', message: /ints must be a Uint32Array/ });
  assert.throws(() => keyBatch!(b.bytes, b.ints, 1, new Uint32Array(3)), { name: 'TypeError', message: /layout/ });
  assert.throws(() => keyBatch!(b.bytes, b.ints, b.capacity + 1, l), { name: 'RangeError', message: /count/ });
  assert.throws(() => keyBatch!(b.bytes, b.ints, 1.5, l), { name: 'RangeError', message: /count/ });
  const bad = l.slice();
  bad[1] = INTS_PER_SAMPLE;
  assert.throws(() => keyBatch!(b.bytes, b.ints, 1, bad), { name: 'RangeError', message: /below the stride/ });
  b.ints[I_TAGS_LEN] = b.bytes.length;
  assert.throws(() => keyBatch!(b.bytes, b.ints, 1, l), { name: 'RangeError', message: /outside the buffer/ });
  assert.equal(keyBatch!(b.bytes, b.ints, 0, l), 0);
});
