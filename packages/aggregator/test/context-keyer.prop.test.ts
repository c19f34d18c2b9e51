import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ContextKeyer } from '../src/context-keyer.js';

const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 200);
const enc = new TextEncoder();
const tag = fc.oneof(
  fc.constantFrom('host:a', 'host:', 'host:b', 'dd.internal.entity_id:pod', 'dd.internal.card:high', 'dd.internal.jmx_check_name:x', 'dd.internal.other:y', 'env:prod', ''),
  fc.string({ maxLength: 8 }).filter((t) => !t.includes(',')),
);

test('the key from raw tag bytes (in a shard) equals the key from tag offsets (in the router)', () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 10 }), fc.array(tag, { maxLength: 8 }), fc.string({ maxLength: 6 }), (name, tags, host) => {
      const raw = tags.join(',');
      const line = enc.encode(`${name}#${raw}`);
      const nameLen = enc.encode(name).length;
      const starts = new Uint32Array(Math.max(1, tags.length));
      const ends = new Uint32Array(Math.max(1, tags.length));
      let p = nameLen + 1;
      tags.forEach((t, i) => {
        starts[i] = p;
        p += enc.encode(t).length;
        ends[i] = p;
        p += 1;
      });
      // "#" alone has no tags for the codec; "#," has two empty ones.
      const n = raw === '' ? 0 : tags.length;
      const a = new ContextKeyer(host);
      a.fromTagOffsets(line, 0, nameLen, starts, ends, n);
      const b = new ContextKeyer(host);
      b.fromRawTags(line, 0, nameLen, nameLen + 1, raw === '' ? 0 : line.length - nameLen - 1);
      assert.deepEqual([b.lo, b.hi], [a.lo, a.hi]);
    }),
    { numRuns },
  );
});

test('the host tag and the agent-internal origin tags stay out of the key', () => {
  const k = (s: string) => {
    const b = enc.encode(s);
    const i = s.indexOf('#');
    const c = new ContextKeyer('default');
    c.fromRawTags(b, 0, i, i + 1, b.length - i - 1);
    return `${c.lo}/${c.hi}`;
  };
  assert.equal(k('m#a,dd.internal.entity_id:1,dd.internal.card:low'), k('m#a'));
  assert.equal(k('m#a,host:default'), k('m#a'));
  assert.notEqual(k('m#a,host:other'), k('m#a'));
  assert.notEqual(k('m#a,dd.internal.other:1'), k('m#a'));
});
