// The tokenizer (src/tokenize.h, lib/tokenize.ts): examples, run against the native kernel and
// the JavaScript twin alike. The property tests (native = twin on arbitrary bytes and packets,
// and the codec's token walk) are in packages/dogstatsd/test/tokenizer.prop.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  loadTokenizer,
  nativeTokenizer,
  nativeTokenizerKernels,
  tokenizeJs,
  TOKEN_COLON,
  TOKEN_COMMA,
  TOKEN_NEWLINE,
  TOKEN_PIPE,
  type Tokenize,
} from '../lib/tokenize.js';

const encoder = new TextEncoder();
const KIND = ['\n', '|', ',', ':'];

/** [position, delimiter] pairs, for readable failures. */
function tokens(tokenize: Tokenize, text: string | Uint8Array, start = 0, end?: number): [number, string][] | -1 {
  const buf = typeof text === 'string' ? encoder.encode(text) : text;
  const e = end ?? buf.length;
  const out = new Uint32Array(Math.max(0, e - start));
  const n = tokenize(buf, start, e, out);
  if (n < 0) return n === -1 ? -1 : assert.fail(`count ${n}`);
  return Array.from(out.subarray(0, n), (w) => [w >>> 2, KIND[w & 3]!]);
}

const implementations: [string, Tokenize | null][] = [
  ['JavaScript twin', tokenizeJs],
  ['native', nativeTokenizer()],
  ...Object.entries(nativeTokenizerKernels()).map(([k, f]): [string, Tokenize] => [`native ${k} kernel`, f]),
];

test('kinds are 0 to 3 in the order \\n | , :', () => {
  assert.deepEqual([TOKEN_NEWLINE, TOKEN_PIPE, TOKEN_COMMA, TOKEN_COLON], [0, 1, 2, 3]);
});

test('loadTokenizer: native with its kernel when the addon loads, else the twin with the reason', () => {
  const r = loadTokenizer();
  if (r.native) {
    assert.ok(['avx2', 'sse2', 'scalar'].includes(r.kernel));
    assert.equal(r.reason, null);
    assert.equal(nativeTokenizer(), r.tokenize);
  } else {
    assert.equal(r.tokenize, tokenizeJs);
    assert.equal(typeof r.reason, 'string');
    assert.equal(nativeTokenizer(), null);
  }
});

test('KENNEL_DISABLE_NATIVE=1 gives the twin', () => {
  const saved = process.env['KENNEL_DISABLE_NATIVE'];
  process.env['KENNEL_DISABLE_NATIVE'] = '1';
  try {
    const r = loadTokenizer();
    assert.equal(r.native, false);
    assert.equal(r.tokenize, tokenizeJs);
    assert.equal(r.reason, 'disabled by KENNEL_DISABLE_NATIVE=1');
    assert.equal(nativeTokenizer(), null);
  } finally {
    if (saved === undefined) delete process.env['KENNEL_DISABLE_NATIVE'];
    else process.env['KENNEL_DISABLE_NATIVE'] = saved;
  }
});

for (const [name, tokenize] of implementations) {
  describe(`tokenize (${name})`, { skip: tokenize === null ? `${loadTokenizer().reason}` : false }, () => {
    const t = tokenize!;

    test('a metric line: name colon and value colons before the first pipe, tag commas after it', () => {
      assert.deepEqual(tokens(t, 'a.b:1:2|h|@0.5|#env:prod,x:y|c:ab,c\n'), [
        [3, ':'],
        [5, ':'],
        [7, '|'],
        [9, '|'],
        [14, '|'],
        [24, ','],
        [28, '|'],
        [33, ','],
        [35, '\n'],
      ]);
    });

    test('the filter restarts on each line; an event header comma is not written', () => {
      assert.deepEqual(tokens(t, 'a|b:c,d\n_e{1,2}:t|xy\n:,'), [
        [1, '|'],
        [5, ','],
        [7, '\n'],
        [15, ':'],
        [17, '|'],
        [20, '\n'],
        [21, ':'],
      ]);
    });

    test('positions are absolute: a range of a larger buffer', () => {
      const buf = encoder.encode('xx:|,\nq:1|c|#a,b\nyy|,');
      assert.deepEqual(tokens(t, buf, 6, 17), [
        [7, ':'],
        [9, '|'],
        [11, '|'],
        [14, ','],
        [16, '\n'],
      ]);
      // The range starts before its line's first pipe, whatever precedes it.
      assert.deepEqual(tokens(t, buf, 4, 9), [
        [5, '\n'],
        [7, ':'],
      ]);
      assert.deepEqual(tokens(t, buf, 3, 5), [
        [3, '|'],
        [4, ','],
      ]);
      assert.deepEqual(tokens(t, buf, 4, 5), []);
    });

    test('empty ranges and no delimiters', () => {
      assert.deepEqual(tokens(t, ''), []);
      assert.deepEqual(tokens(t, 'abc', 1, 1), []);
      assert.deepEqual(tokens(t, 'x'.repeat(1000)), []);
    });

    test('across 64-byte blocks, every alignment', () => {
      for (let pad = 0; pad < 70; pad++) {
        const text = 'z'.repeat(pad) + 'name:1|c|#' + 'k:v,'.repeat(30) + '\n' + ':'.repeat(65) + '|' + ','.repeat(65);
        const want = tokens(tokenizeJs, text);
        assert.deepEqual(tokens(t, text), want, `pad ${pad}`);
        assert.notEqual(want, -1);
        assert.equal((want as unknown[]).length, 1 + 2 + 30 + 1 + 65 + 1 + 65);
      }
    });

    test('-1 when out is too small; end - start entries always fit', () => {
      const buf = encoder.encode('\n'.repeat(100));
      assert.equal(t(buf, 0, 100, new Uint32Array(99)), -1);
      assert.equal(t(buf, 0, 100, new Uint32Array(100)), 100);
      assert.equal(t(buf, 0, 100, new Uint32Array(0)), -1);
      assert.equal(t(buf, 0, 0, new Uint32Array(0)), 0);
      const line = encoder.encode('a:1|c|#x,y\n');
      assert.equal(t(line, 0, line.length, new Uint32Array(5)), 5);
      assert.equal(t(line, 0, line.length, new Uint32Array(4)), -1);
    });

    test('a Buffer, a Uint8Array view at an offset, and an out view at an offset', () => {
      const backing = new Uint8Array(64).fill(0x61);
      backing.set(encoder.encode('a:1|c\n'), 10);
      const view = backing.subarray(8, 20);
      const outBacking = new Uint32Array(16).fill(7);
      const out = outBacking.subarray(4, 12);
      assert.equal(t(view, 2, 8, out), 3);
      assert.deepEqual(Array.from(out.subarray(0, 3)), [3 * 4 + 3, 5 * 4 + 1, 7 * 4 + 0]);
      assert.deepEqual(Array.from(outBacking.subarray(0, 4)), [7, 7, 7, 7]);
      assert.equal(t(Buffer.from('x|y'), 0, 3, new Uint32Array(3)), 1);
    });

    test('argument errors', () => {
      const buf = encoder.encode('a:1|c\n');
      const out = new Uint32Array(8);
      const call = (...args: unknown[]) => () => (t as (...a: unknown[]) => number)(...args);
      assert.throws(call('a:1|c', 0, 5, out), { name: 'TypeError', message: 'tokenize: buf must be a Uint8Array' });
      assert.throws(call(buf, '0', 5, out), { name: 'TypeError', message: 'tokenize: start and end must be numbers' });
      assert.throws(call(buf, 0, 5, new Int32Array(8)), { name: 'TypeError', message: 'tokenize: out must be a Uint32Array' });
      assert.throws(call(buf, 0, 5), TypeError);
      const range = { name: 'RangeError', message: 'tokenize: need integers 0 <= start <= end <= buf.length' };
      assert.throws(call(buf, -1, 5, out), range);
      assert.throws(call(buf, 3, 2, out), range);
      assert.throws(call(buf, 0, 7, out), range);
      assert.throws(call(buf, 0, 1.5, out), range);
      assert.throws(call(buf, Number.NaN, 1, out), range);
    });
  });
}
