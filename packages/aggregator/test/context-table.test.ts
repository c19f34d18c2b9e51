import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContextTable } from '../src/index.js';

test('the context table finds, grows and deletes without losing neighbours', () => {
  const t = new ContextTable(4);
  const model = new Map<string, number>();
  let seed = 12345;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let step = 0; step < 50000; step++) {
    // Few distinct keys so collisions and deletions interleave a lot.
    const lo = rnd() % 3000;
    const hi = lo % 7;
    const k = `${lo}/${hi}`;
    if (rnd() % 3 === 0) {
      assert.equal(t.delete(lo, hi), model.delete(k));
    } else if (!model.has(k)) {
      t.set(lo, hi, step);
      model.set(k, step);
    } else {
      assert.equal(t.get(lo, hi), model.get(k));
    }
  }
  assert.equal(t.size, model.size);
  for (const [k, v] of model) {
    const [lo, hi] = k.split('/').map(Number);
    assert.equal(t.get(lo!, hi!), v);
  }
});
