// Property tests for the native tokenizer (@kennel/native/tokenize) and the codec's token walk.
//
// (1) The native tokenizer and its JavaScript twin write the same entries (and the same count,
//     or both -1) on arbitrary bytes, on valid packets, on any range of a buffer and with any
//     size of `out`; they reject the same bad arguments with the same errors. Every kernel this
//     CPU runs is checked (AVX2, SSE2, scalar), not only the one `tokenize` picks.
// (2) The codec decodes every packet the same way on the token path and on the search path:
//     the same visitor calls in the same order with the same view fields (every offset), the same
//     error codes and rejected ranges, the same counters and the same rejections by reason.
// (3) Decoding buf[start, end) of a larger buffer equals decoding a copy of those bytes, on both
//     paths.
//
// Where the addon is not loaded (KENNEL_DISABLE_NATIVE=1, no toolchain), (1) is skipped and (2)
// and (3) walk the JavaScript twin's stream instead, so the walk is tested either way.
//
// Runs per property: KENNEL_PROP_RUNS (default 200); KENNEL_PROP_SEED / KENNEL_PROP_PATH replay a
// failure (see codec.prop.test.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  loadTokenizer,
  nativeTokenizer,
  nativeTokenizerKernels,
  tokenizeJs,
  type Tokenize,
} from '@kennel/native/tokenize';
import { DogStatsDCodec } from '../src/codec/codec.js';
import type { DogStatsDVisitor } from '../src/codec/codec.js';
import type { MetricView } from '../src/codec/metric-view.js';
import type { DecodedEvent, DecodedServiceCheck, DogStatsDCodecOptions } from '../src/codec/types.js';
import { byteSoupArb, codecOptionsArb, formatPlan, messagePlanArb, noiseLineArb, tokenSoupArb, toCodecOptions } from './generators.js';

const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 200);
const seedEnv = process.env.KENNEL_PROP_SEED;
const pathEnv = process.env.KENNEL_PROP_PATH;
const params: fc.Parameters<unknown> = {
  numRuns,
  ...(seedEnv !== undefined && seedEnv !== '' ? { seed: Number(seedEnv) } : {}),
  ...(pathEnv !== undefined && pathEnv !== '' ? { path: pathEnv } : {}),
};

function check<T>(p: fc.IProperty<T>): void {
  fc.assert(p, params as fc.Parameters<T>);
}

const encoder = new TextEncoder();
const native = nativeTokenizer();
/** What the codec walks in (2) and (3): the native stream, or the twin's where there is none. */
const walked: Tokenize = native ?? tokenizeJs;

// ---------------------------------------------------------------------------------------------
// Inputs

const validPacketArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    codecOptionsArb.chain((o) => fc.array(messagePlanArb(o).map(formatPlan), { minLength: 1, maxLength: 40 })),
    fc.constantFrom('\n', '\r\n'),
    fc.boolean(),
  )
  .map(([lines, sep, trailing]) => encoder.encode(lines.join(sep) + (trailing ? sep : '')));

/** Valid and noise lines, then a few bytes overwritten. */
const damagedPacketArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.array(
      fc.oneof(
        messagePlanArb({ noAggregationPipeline: true, originDetectionClient: true }).map(formatPlan),
        noiseLineArb,
      ),
      { maxLength: 30 },
    ),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
  )
  .map(([lines, flips]) => {
    const b = encoder.encode(lines.join('\n'));
    for (const [at, v] of flips) if (b.length > 0) b[at % b.length] = v;
    return b;
  });

/** Long runs of one delimiter cross the kernel's 64-byte blocks in every state. */
const delimiterRunsArb: fc.Arbitrary<Uint8Array> = fc
  .array(fc.tuple(fc.constantFrom(...'\n|,:ab#\r'), fc.integer({ min: 1, max: 150 })), { maxLength: 12 })
  .map((runs) => encoder.encode(runs.map(([c, n]) => c.repeat(n)).join('')));

const anyBytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 9000, size: 'max' }),
  byteSoupArb,
  tokenSoupArb.map((s) => encoder.encode(s)),
  delimiterRunsArb,
  damagedPacketArb,
);

const packetArb: fc.Arbitrary<Uint8Array> = fc.oneof(anyBytesArb, validPacketArb, damagedPacketArb);

/** A packet with bytes of any kind around it, and where it sits: [buffer, start, end]. */
const embeddedArb: fc.Arbitrary<[Uint8Array, number, number]> = fc
  .tuple(packetArb, anyBytesArb, anyBytesArb)
  .map(([p, before, after]) => {
    const buf = new Uint8Array(before.length + p.length + after.length);
    buf.set(before, 0);
    buf.set(p, before.length);
    buf.set(after, before.length + p.length);
    return [buf, before.length, before.length + p.length];
  });

// ---------------------------------------------------------------------------------------------
// (1) native tokenizer = JavaScript twin

function entries(tokenize: Tokenize, buf: Uint8Array, start: number, end: number, cap: number): number[] | -1 {
  // Filled with a marker, so an entry written past the count would show.
  const out = new Uint32Array(cap).fill(0xdeadbeef);
  const n = tokenize(buf, start, end, out);
  if (n === -1) return -1;
  assert.ok(Number.isInteger(n) && n >= 0 && n <= cap, `count ${n} within out (${cap})`);
  return Array.from(out.subarray(0, n));
}

function thrown(f: () => unknown): string {
  try {
    f();
    return 'no error';
  } catch (err) {
    const e = err as Error;
    return `${e.constructor.name}: ${e.message}`;
  }
}

const kernels = Object.entries(nativeTokenizerKernels()) as [string, Tokenize][];

describe('native tokenizer and its JavaScript twin (1)', { skip: native === null ? loadTokenizer().reason! : false }, () => {
  const nat = native!;

  test(`kernels available: ${kernels.map(([k]) => k).join(', ')}; tokenize runs ${loadTokenizer().kernel}`, () => {
    assert.ok(kernels.some(([k]) => k === 'scalar'));
    assert.ok(kernels.some(([k]) => k === loadTokenizer().kernel));
  });

  test('every kernel: same entries as the twin, and -1 alike, on arbitrary bytes, packets and ranges', () => {
    check(
      fc.property(embeddedArb, fc.nat(), fc.nat({ max: 500 }), (input, a, cap) => {
        const [buf] = input;
        let [, start, end] = input;
        if (a % 3 === 0) {
          start = a % (buf.length + 1);
          end = start + (a % (buf.length - start + 1));
        }
        const want = entries(tokenizeJs, buf, start, end, end - start);
        const wantCapped = entries(tokenizeJs, buf, start, end, cap);
        for (const [name, k] of kernels) {
          assert.deepEqual(entries(k, buf, start, end, end - start), want, name);
          assert.deepEqual(entries(k, buf, start, end, cap), wantCapped, `${name}, out of ${cap}`);
        }
      }),
    );
  });

  test('same entries on arbitrary bytes, valid packets and any range', () => {
    check(
      fc.property(embeddedArb, fc.nat(), fc.nat(), (input, a, b) => {
        const [buf] = input;
        // The packet's own range, or any other range of the buffer.
        let [, start, end] = input;
        if (a % 3 === 0) {
          start = a % (buf.length + 1);
          end = start + (b % (buf.length - start + 1));
        }
        const want = entries(tokenizeJs, buf, start, end, end - start);
        assert.deepEqual(entries(nat, buf, start, end, end - start), want);
      }),
    );
  });

  test('same result with an out of any size: the entries, or -1 for both when they do not fit', () => {
    check(
      fc.property(packetArb, fc.nat({ max: 400 }), (buf, cap) => {
        const want = entries(tokenizeJs, buf, 0, buf.length, cap);
        assert.deepEqual(entries(nat, buf, 0, buf.length, cap), want);
        // An out of end - start entries always suffices.
        assert.notEqual(entries(tokenizeJs, buf, 0, buf.length, buf.length), -1);
      }),
    );
  });

  test('each entry is a delimiter at its position, by the layout rules', () => {
    check(
      fc.property(packetArb, (buf) => {
        const got = entries(nat, buf, 0, buf.length, buf.length);
        assert.notEqual(got, -1);
        let beforePipe = true;
        const want: number[] = [];
        for (let i = 0; i < buf.length; i++) {
          const c = buf[i];
          if (c === 0x0a) {
            want.push(i * 4);
            beforePipe = true;
          } else if (c === 0x7c) {
            want.push(i * 4 + 1);
            beforePipe = false;
          } else if (c === 0x2c && !beforePipe) want.push(i * 4 + 2);
          else if (c === 0x3a && beforePipe) want.push(i * 4 + 3);
        }
        assert.deepEqual(got, want);
      }),
    );
  });

  test('same errors for bad arguments', () => {
    const buf = encoder.encode('a:1|c\n');
    const out = new Uint32Array(8);
    const cases: [string, unknown[]][] = [
      ['no arguments', []],
      ['buf not a Uint8Array', ['a:1|c', 0, 5, out]],
      ['buf a Uint16Array', [new Uint16Array(4), 0, 2, out]],
      ['buf a Uint8ClampedArray', [new Uint8ClampedArray(4), 0, 2, out]],
      ['start not a number', [buf, '0', 5, out]],
      ['end a bigint', [buf, 0, 5n, out]],
      ['out missing', [buf, 0, 5]],
      ['out an Int32Array', [buf, 0, 5, new Int32Array(8)]],
      ['start negative', [buf, -1, 5, out]],
      ['start after end', [buf, 4, 3, out]],
      ['end past the buffer', [buf, 0, 7, out]],
      ['start fractional', [buf, 0.5, 5, out]],
      ['end NaN', [buf, 0, Number.NaN, out]],
      ['end Infinity', [buf, 0, Number.POSITIVE_INFINITY, out]],
      ['an empty range', [buf, 3, 3, out]],
      ['the whole buffer', [buf, 0, 6, out]],
      ['-0', [buf, -0, 6, out]],
    ];
    for (const [what, args] of cases) {
      const call = (f: Tokenize) => () => (f as (...a: unknown[]) => number)(...args);
      assert.equal(thrown(call(nat)), thrown(call(tokenizeJs)), what);
      for (const [name, k] of kernels) assert.equal(thrown(call(k)), thrown(call(tokenizeJs)), `${what} (${name})`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// (2) token path = search path, (3) ranges = copies

/** Every visitor call, with every view field; offsets relative to `base`. */
function record(base: number) {
  const calls: unknown[] = [];
  const visitor: DogStatsDVisitor = {
    onMetric(v: MetricView) {
      const tags: number[] = [];
      for (let i = 0; i < v.tagCount; i++) tags.push(v.tagStarts[i]! - base, v.tagEnds[i]! - base);
      const rel = (x: number) => (x < 0 ? x : x - base);
      calls.push([
        'metric',
        v.lineStart - base,
        v.lineEnd - base,
        v.nameStart - base,
        v.nameEnd - base,
        v.type,
        Array.from(v.values.subarray(0, v.valueCount)),
        rel(v.setStart),
        rel(v.setEnd),
        v.sampleRate,
        tags,
        v.timestamp,
        rel(v.containerIdStart),
        rel(v.containerIdEnd),
        rel(v.externalDataStart),
        rel(v.externalDataEnd),
        rel(v.cardinalityStart),
        rel(v.cardinalityEnd),
      ]);
    },
    onEvent(e: DecodedEvent) {
      calls.push(['event', e]);
    },
    onServiceCheck(c: DecodedServiceCheck) {
      calls.push(['service_check', c]);
    },
    onError(code: number, _buf: Uint8Array, s: number, e: number) {
      calls.push(['error', code, s - base, e - base]);
    },
  };
  return { calls, visitor };
}

function run(codec: DogStatsDCodec, buf: Uint8Array, start: number, end: number, eolRequired: boolean) {
  const r = record(start);
  codec.decode(buf, start, end, r.visitor, eolRequired);
  return { calls: r.calls, counters: codec.counters.snapshot(), byReason: codec.errorsByReason() };
}

function tokenCodec(opts: DogStatsDCodecOptions): DogStatsDCodec {
  // Every packet on the token path, however short.
  return new DogStatsDCodec(opts, { tokenizer: walked, tokenizeMinBytes: 0 });
}

function searchCodec(opts: DogStatsDCodecOptions): DogStatsDCodec {
  return new DogStatsDCodec({ ...opts, nativeTokenizer: false });
}

describe(`codec: token path (${native === null ? 'JavaScript twin' : 'native'} stream) = search path (2)`, () => {
  test('options as requested: nativeTokenizer: false is the search path', () => {
    assert.equal(searchCodec({}).usesNativeTokenizer, false);
    assert.equal(new DogStatsDCodec().usesNativeTokenizer, native !== null);
  });

  for (const [what, arb] of [
    ['arbitrary bytes', anyBytesArb],
    ['valid packets', validPacketArb],
    ['damaged packets', damagedPacketArb],
  ] as const) {
    test(`same calls, views, errors and counters on ${what}`, () => {
      check(
        fc.property(arb, codecOptionsArb, fc.boolean(), (buf, o, eolRequired) => {
          const opts = toCodecOptions(o);
          const want = run(searchCodec(opts), buf, 0, buf.length, eolRequired);
          assert.deepEqual(run(tokenCodec(opts), buf, 0, buf.length, eolRequired), want);
        }),
      );
    });
  }

  test('one codec, many packets: state does not leak from packet to packet', () => {
    check(
      fc.property(fc.array(packetArb, { maxLength: 8 }), codecOptionsArb, (packets, o) => {
        const opts = toCodecOptions(o);
        const a = tokenCodec(opts);
        const b = searchCodec(opts);
        for (const p of packets) assert.deepEqual(run(a, p, 0, p.length, false).calls, run(b, p, 0, p.length, false).calls);
        assert.deepEqual(a.counters.snapshot(), b.counters.snapshot());
        assert.deepEqual(a.errorsByReason(), b.errorsByReason());
      }),
    );
  });

  test('the default codec (tokenizer only for packets of 128 bytes or more) matches the search path', () => {
    check(
      fc.property(packetArb, codecOptionsArb, (buf, o) => {
        const opts = toCodecOptions(o);
        assert.deepEqual(run(new DogStatsDCodec(opts), buf, 0, buf.length, false), run(searchCodec(opts), buf, 0, buf.length, false));
      }),
    );
  });

  test('ranges the tokenizer rejects (past the buffer, fractional) take the search path: no throw', () => {
    const buf = encoder.encode('a:1|c|#x,y\nb:2|g\n');
    for (const [s, e] of [
      [0, buf.length + 3],
      [0.5, buf.length],
      [-2, buf.length],
    ] as const) {
      assert.deepEqual(run(tokenCodec({}), buf, s, e, false), run(searchCodec({}), buf, s, e, false), `[${s}, ${e})`);
    }
  });

  test('a packet with more delimiters than the token array takes the search path, same output', () => {
    // 70,000 pipes: more entries than the array's 65,536; the tokenizer returns -1.
    const buf = encoder.encode('a:1|c\n' + '|'.repeat(70_000) + '\nb:2|g|#x,y\n');
    const codec = new DogStatsDCodec({}, { tokenizer: walked, tokenizeMinBytes: 0 });
    assert.deepEqual(run(codec, buf, 0, buf.length, false), run(searchCodec({}), buf, 0, buf.length, false));
  });
});

describe('codec: a range of a larger buffer decodes as a copy of it (3)', () => {
  for (const [path, make] of [
    ['token path', tokenCodec],
    ['search path', searchCodec],
  ] as const) {
    test(`${path}: same calls (offsets relative to the range), errors and counters`, () => {
      check(
        fc.property(embeddedArb, codecOptionsArb, fc.boolean(), ([buf, start, end], o, eolRequired) => {
          const opts = toCodecOptions(o);
          const copy = buf.slice(start, end);
          assert.deepEqual(run(make(opts), buf, start, end, eolRequired), run(make(opts), copy, 0, copy.length, eolRequired));
        }),
      );
    });
  }
});
