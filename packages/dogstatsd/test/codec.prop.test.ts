// Property tests for the DogStatsD codec (packages/dogstatsd/src/codec).
//
// Runs per property: KENNEL_PROP_RUNS (default 200). A longer pass:
//   KENNEL_PROP_RUNS=20000 node scripts/test.mjs --only-prop packages/dogstatsd
// Replaying a failure: fast-check's error message gives `seed` and `path` ("Counterexample ...
// Shrunk N time(s) ... seed: S, path: P"). Re-run that one property with both:
//   KENNEL_PROP_SEED=S KENNEL_PROP_PATH=P node --test --test-name-pattern="<property name>" \
//     packages/dogstatsd/dist/test/codec.prop.test.js
// They are passed to every fc.assert as `{ seed, path }` (the seed alone replays the whole run;
// the path jumps to the shrunk counterexample). Nothing here uses Math.random.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ParseErrorReason, parseErrorByCode } from '@kennel/core';
import {
  CollectingVisitor,
  DogStatsDCodec,
  MetricType,
  goParseFloat,
  goParseInt,
  parsePacket,
} from '../src/index.js';
import type { DecodedMessage, DogStatsDCodecOptions, DogStatsDVisitor, MetricView } from '../src/index.js';
import {
  byteSoupArb,
  codecOptionsArb,
  decodedMessageArb,
  expectedMessage,
  formatMessage,
  formatPlan,
  messagePlanArb,
  noiseLineArb,
  tokenSoupArb,
  toCodecOptions,
} from './generators.js';
import type { GenOptions } from './generators.js';
import { ReferenceUnsupported, referenceParseLine, referenceParsePacket } from './reference-parser.js';
import type { ReferenceMessage } from './reference-parser.js';

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
const KNOWN_CODES = new Set<number>(ParseErrorReason.filter((r) => r.code !== 0).map((r) => r.code));

/** Decodes with a fresh codec; returns the owned messages, the counters and the rejections by reason. */
function decode(input: Uint8Array | string, opts: DogStatsDCodecOptions = {}, eolRequired = false) {
  const buf = typeof input === 'string' ? encoder.encode(input) : input;
  const codec = new DogStatsDCodec(opts);
  const out = new CollectingVisitor();
  codec.decode(buf, 0, buf.length, out, eolRequired);
  return { messages: out.messages, counters: codec.counters.snapshot(), byReason: codec.errorsByReason() };
}

/** A packet's lines by the framing rules of spec §1, counted on bytes. */
interface Framing {
  /** Non-empty lines ended by `\n`. */
  terminated: number;
  /** What follows the last `\n`: nothing, only a CR, or a message. */
  unterminated: 'none' | 'empty' | 'non-empty';
}

/** Splits on `\n`, drops one `\r` before it, skips empty lines (server.go nextMessage/scanLines). */
function frame(bytes: Uint8Array): Framing {
  let terminated = 0;
  let start = 0;
  for (;;) {
    const nl = bytes.indexOf(0x0a, start);
    if (nl < 0) break;
    let end = nl;
    if (end > start && bytes[end - 1] === 0x0d) end--;
    if (end > start) terminated++;
    start = nl + 1;
  }
  let tailEnd = bytes.length;
  if (tailEnd > start && bytes[tailEnd - 1] === 0x0d) tailEnd--;
  return { terminated, unterminated: bytes.length === start ? 'none' : tailEnd > start ? 'non-empty' : 'empty' };
}

// ---------------------------------------------------------------------------------------------
// (a) arbitrary bytes

interface Tally {
  metric: number;
  event: number;
  serviceCheck: number;
  error: number;
  samples: number;
  errorsByCounter: Record<string, number>;
}

/** The codec may hand out a Buffer over the packet's memory instead of the array itself. */
function sameMemory(a: Uint8Array, b: Uint8Array): boolean {
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.byteLength === b.byteLength;
}

/** A visitor that counts calls and checks what every call hands out. */
function tallyingVisitor(buf: Uint8Array, tally: Tally): DogStatsDVisitor {
  return {
    onMetric(v: MetricView) {
      tally.metric++;
      tally.samples += v.type === MetricType.SET ? 1 : v.valueCount;
      assert.equal(v.sampleCount, v.type === MetricType.SET ? 1 : v.valueCount);
      assert.ok(sameMemory(v.buf, buf), 'the view points into the packet');
      assert.ok(v.lineStart <= v.nameStart && v.nameStart < v.nameEnd && v.nameEnd < v.lineEnd, 'name inside the line');
      if (v.type === MetricType.SET) {
        assert.equal(v.valueCount, 0);
        assert.ok(v.nameEnd < v.setStart && v.setStart < v.setEnd && v.setEnd < v.lineEnd, 'set member in the line');
      } else {
        assert.ok(v.valueCount >= 1, 'at least one value');
        assert.equal(v.setStart, -1);
      }
      for (let i = 0; i < v.tagCount; i++) {
        const ts = v.tagStarts[i]!;
        const te = v.tagEnds[i]!;
        assert.ok(v.lineStart < ts && ts <= te && te <= v.lineEnd, 'tag inside the line');
      }
    },
    onEvent() {
      tally.event++;
    },
    onServiceCheck() {
      tally.serviceCheck++;
    },
    onError(code, b, s, e) {
      tally.error++;
      assert.ok(KNOWN_CODES.has(code), `known error code, got ${code}`);
      assert.ok(sameMemory(b, buf) && 0 <= s && s <= e && e <= buf.length, 'the rejected line is inside the packet');
      const counter = parseErrorByCode(code).counter;
      tally.errorsByCounter[counter] = (tally.errorsByCounter[counter] ?? 0) + 1;
    },
  };
}

/** Valid and noise lines, then a few bytes overwritten: reaches every branch, valid ones included. */
const damagedPacketArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.array(
      fc.oneof(
        messagePlanArb({ noAggregationPipeline: true, originDetectionClient: true }).map(formatPlan),
        noiseLineArb,
      ),
      { maxLength: 20 },
    ),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
  )
  .map(([lines, flips]) => {
    const b = encoder.encode(lines.join('\n'));
    for (const [at, v] of flips) if (b.length > 0) b[at % b.length] = v;
    return b;
  });

const anyBytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 9000, size: 'max' }), // size 'max': the default keeps arrays to ~10 items
  byteSoupArb,
  tokenSoupArb.map((s) => encoder.encode(s)),
  damagedPacketArb,
);

describe('codec on arbitrary bytes (a)', () => {
  test('never throws, makes one visitor call per non-empty line, and its counters add up', () => {
    check(
      fc.property(anyBytesArb, codecOptionsArb, fc.boolean(), (bytes, opts, eolRequired) => {
        const codec = new DogStatsDCodec(toCodecOptions(opts));
        const tally: Tally = { metric: 0, event: 0, serviceCheck: 0, error: 0, samples: 0, errorsByCounter: {} };
        codec.decode(bytes, 0, bytes.length, tallyingVisitor(bytes, tally), eolRequired);

        const f = frame(bytes);
        // With eolRequired any unterminated tail is one error, even a lone CR (server.go nextMessage).
        const tail = eolRequired ? f.unterminated !== 'none' : f.unterminated === 'non-empty';
        const expectedCalls = f.terminated + (tail ? 1 : 0);
        assert.equal(tally.metric + tally.event + tally.serviceCheck + tally.error, expectedCalls);

        const c = codec.counters.snapshot();
        const errors =
          c.MetricParseErrors + c.EventParseErrors + c.ServiceCheckParseErrors + c.UnterminatedMetricErrors;
        assert.equal(errors, tally.error);
        assert.equal(c.MetricParseErrors, tally.errorsByCounter.MetricParseErrors ?? 0);
        assert.equal(c.EventParseErrors, tally.errorsByCounter.EventParseErrors ?? 0);
        assert.equal(c.ServiceCheckParseErrors, tally.errorsByCounter.ServiceCheckParseErrors ?? 0);
        assert.equal(c.UnterminatedMetricErrors, eolRequired && f.unterminated !== 'none' ? 1 : 0);
        assert.equal(c.EventPackets, tally.event);
        assert.equal(c.ServiceCheckPackets, tally.serviceCheck);
        assert.equal(c.MetricPackets, tally.samples);
        const byReason = Object.values(codec.errorsByReason()).reduce((a, b) => a + b, 0);
        assert.equal(byReason, tally.error);
      }),
    );
  });

  test('decoding a range of a larger buffer reads only that range', () => {
    check(
      fc.property(
        anyBytesArb,
        fc.uint8Array({ maxLength: 64 }),
        fc.uint8Array({ maxLength: 64 }),
        codecOptionsArb,
        fc.boolean(),
        (bytes, before, after, opts, eolRequired) => {
          const big = new Uint8Array(before.length + bytes.length + after.length);
          big.set(before, 0);
          big.set(bytes, before.length);
          big.set(after, before.length + bytes.length);
          const codec = new DogStatsDCodec(toCodecOptions(opts));
          const out = new CollectingVisitor();
          codec.decode(big, before.length, before.length + bytes.length, out, eolRequired);
          const alone = decode(bytes, toCodecOptions(opts), eolRequired);
          assert.deepEqual(out.messages, alone.messages);
          assert.deepEqual(codec.counters.snapshot(), alone.counters);
        },
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (b) format, then parse

describe('format then parse (b)', () => {
  test('a decoded message written by formatMessage parses back to itself', () => {
    check(
      fc.property(
        codecOptionsArb.chain((opts) => fc.tuple(fc.constant(opts), decodedMessageArb(opts))),
        ([opts, m]) => {
          assert.deepEqual(parsePacket(formatMessage(m), toCodecOptions(opts)), [m]);
        },
      ),
    );
  });

  test('a message spelled any valid way parses to what the spelling says (last field wins)', () => {
    check(
      fc.property(
        codecOptionsArb.chain((opts) => fc.tuple(fc.constant(opts), messagePlanArb(opts))),
        fc.constantFrom('', '\n', '\r\n'),
        ([opts, plan], eol) => {
          assert.deepEqual(parsePacket(formatPlan(plan) + eol, toCodecOptions(opts)), [expectedMessage(plan, opts)]);
        },
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (c) a packet is its lines

/** A line of a packet: valid or not, never holding "\n"; and what ends it. */
function packetLinesArb(opts: GenOptions) {
  const line = fc.oneof(
    { weight: 4, arbitrary: messagePlanArb(opts).map(formatPlan) },
    { weight: 3, arbitrary: noiseLineArb },
    { weight: 1, arbitrary: fc.constantFrom('', '\r', '\r\r', ' ') },
  );
  return fc.record({
    lines: fc.array(fc.tuple(line, fc.constantFrom('\n', '\n', '\r\n')), { maxLength: 12 }),
    last: fc.oneof(fc.constant(null), line),
  });
}

describe('packets (c)', () => {
  test('parsing a packet equals concatenating the parses of its lines', () => {
    check(
      fc.property(
        codecOptionsArb.chain((opts) => fc.tuple(fc.constant(opts), packetLinesArb(opts))),
        fc.boolean(),
        ([opts, { lines, last }], eolRequired) => {
          const o = toCodecOptions(opts);
          const pieces = lines.map(([l, eol]) => l + eol);
          if (last !== null) pieces.push(last);
          const whole = decode(pieces.join(''), o, eolRequired);
          const parts = pieces.map((p) => decode(p, o, eolRequired));
          assert.deepEqual(whole.messages, parts.flatMap((p) => p.messages));
          for (const k of Object.keys(whole.counters) as (keyof typeof whole.counters)[]) {
            assert.equal(whole.counters[k], parts.reduce((a, p) => a + p.counters[k], 0), k);
          }
        },
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (d) differential against the reference parser

function asReference(m: DecodedMessage): ReferenceMessage | null {
  return m.kind === 'error' ? null : m;
}

describe('codec against the reference parser (d)', () => {
  test('on valid packets the codec agrees with the reference parser', () => {
    check(
      fc.property(
        codecOptionsArb.chain((opts) =>
          fc.tuple(
            fc.constant(opts),
            fc.array(fc.tuple(messagePlanArb(opts), fc.constantFrom('\n', '\r\n', '\n\n')), { maxLength: 10 }),
          ),
        ),
        fc.boolean(),
        ([opts, lines], finalEol) => {
          let packet = lines.map(([p, eol]) => formatPlan(p) + eol).join('');
          if (!finalEol) packet = packet.replace(/\r?\n+$/, '');
          const ref = referenceParsePacket(packet, opts);
          assert.ok(ref.every((m) => m !== null), 'the reference accepts every generated line');
          assert.deepEqual(parsePacket(packet, toCodecOptions(opts)).map(asReference), ref);
        },
      ),
    );
  });

  // Mutations: insert, delete or replace a few characters (code points, so no lone surrogates)
  // of a valid line, with an alphabet that reaches the checks of §2-§4.
  const MUTATION_ALPHABET = [...':|#@,.-+e0123456789 gcsdhTm_{}\\nfia'];
  const mutationArb = fc.array(
    fc.record({
      op: fc.constantFrom('insert' as const, 'delete' as const, 'replace' as const),
      at: fc.nat(),
      ch: fc.constantFrom(...MUTATION_ALPHABET),
    }),
    { minLength: 1, maxLength: 3 },
  );
  interface Mutation {
    op: 'insert' | 'delete' | 'replace';
    at: number;
    ch: string;
  }
  function mutate(line: string, ops: readonly Mutation[]): string {
    const cps = [...line];
    for (const { op, at, ch } of ops) {
      const i = at % (cps.length + 1);
      if (op === 'insert') cps.splice(i, 0, ch);
      else if (i < cps.length) cps.splice(i, 1, ...(op === 'replace' ? [ch] : []));
    }
    return cps.join('');
  }

  test('on mutated lines the codec accepts exactly what the reference accepts, with the same result', () => {
    check(
      fc.property(
        // Small integers: the 16-18 digit and "-0" ParseInt bugs have their own tests (codec.test.ts).
        codecOptionsArb.chain((opts) => fc.tuple(fc.constant(opts), messagePlanArb(opts, { maxInt: 4_000_000_000 }))),
        mutationArb,
        ([opts, plan], ops) => {
          const line = mutate(formatPlan(plan), ops);
          let ref: ReferenceMessage | null;
          try {
            ref = referenceParseLine(line, opts);
          } catch (e) {
            if (e instanceof ReferenceUnsupported) return fc.pre(false);
            throw e;
          }
          if (ref !== null && 'timestamp' in ref && typeof ref.timestamp === 'number') {
            fc.pre(Math.abs(ref.timestamp) <= Number.MAX_SAFE_INTEGER);
          }
          fc.pre(!/\|d:-0+(\||$)/.test(line)); // "-0" timestamps: see codec.test.ts
          const got = parsePacket(line, toCodecOptions(opts)).map(asReference);
          assert.deepEqual(got, [ref], line);
        },
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (e) numbers: Go strconv.ParseFloat semantics (spec §3)

/** What Go's ParseFloat returns for a decimal string, computed with Number() (correctly rounded). */
function goDecimal(s: string): { value: number; error: null | 'range' } {
  const v = Number(s);
  return Number.isFinite(v) ? { value: v, error: null } : { value: v, error: 'range' };
}

/** The exact hexadecimal spelling of a double, as Go's %x verb writes it (`0x1.8p+01`). */
function hexSpelling(x: number): string {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const hi = dv.getUint32(0);
  const lo = dv.getUint32(4);
  const sign = hi >>> 31 ? '-' : '';
  const exp = (hi >>> 20) & 0x7ff;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  const digits = frac.toString(16).padStart(13, '0');
  return exp === 0 ? `${sign}0x0.${digits}p-1022` : `${sign}0x1.${digits}p${exp - 1023}`;
}

const longDecimalArb = fc.stringMatching(/^[+-]?(\d{1,40}(\.\d{0,40})?|\.\d{1,40})([eE][+-]?\d{1,4})?$/, {
  size: 'max',
});

describe('goParseFloat (e)', () => {
  test('reads String(x) back as x for every double', () => {
    check(
      fc.property(fc.double(), (x) => {
        const s = Object.is(x, -0) ? '-0' : String(x);
        const r = goParseFloat(s);
        assert.equal(r.error, null);
        assert.ok(Object.is(r.value, x), `${s} -> ${r.value}`);
      }),
    );
  });

  test('equals Number(s) for toExponential(k) and toFixed(k) of every finite double', () => {
    check(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer({ min: 0, max: 100 }),
        fc.boolean(),
        (x, k, exp) => {
          const s = exp ? x.toExponential(k) : x.toFixed(k);
          const r = goParseFloat(s);
          const want = goDecimal(s);
          assert.equal(r.error, want.error, s);
          assert.ok(Object.is(r.value, want.value), `${s} -> ${r.value}, want ${want.value}`);
        },
      ),
    );
  });

  test('equals Number(s) for decimal strings with long mantissas and large exponents', () => {
    check(
      fc.property(longDecimalArb, (s) => {
        const r = goParseFloat(s);
        const want = goDecimal(s);
        assert.equal(r.error, want.error, s);
        assert.ok(Object.is(r.value, want.value), `${s} -> ${r.value}, want ${want.value}`);
      }),
    );
  });

  test('accepts underscores between digits, as Go does', () => {
    check(
      fc.property(
        fc.stringMatching(/^[1-9]\d{0,5}$/),
        fc.array(fc.stringMatching(/^\d{1,6}$/), { minLength: 1, maxLength: 4 }),
        fc.stringMatching(/^(\.\d{1,5})?$/),
        (head, rest, frac) => {
        const groups = [head, ...rest];
        const s = groups.join('_') + frac;
        const r = goParseFloat(s);
        assert.equal(r.error, null, s);
        assert.ok(Object.is(r.value, Number(groups.join('') + frac)), s);
      }),
    );
  });

  test('reads the exact hexadecimal spelling of every double back as that double', () => {
    check(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const s = hexSpelling(x);
        const r = goParseFloat(s);
        assert.equal(r.error, null, s);
        assert.ok(Object.is(r.value, x), `${s} -> ${r.value}, want ${x}`);
      }),
    );
  });

  test('rounds hexadecimal mantissas longer than 53 bits half to even', () => {
    check(
      fc.property(
        fc.bigInt({ min: 2n ** 52n, max: 2n ** 53n - 1n }),
        fc.integer({ min: 0, max: 15 }),
        fc.integer({ min: -1000, max: 900 }),
        (m, r, e) => {
          // m * 16 + r as a hex integer, times 2^(e-4): the value is (m + r/16) * 2^e.
          const s = `0x${(m * 16n + BigInt(r)).toString(16)}p${e - 4}`;
          const up = r > 8 || (r === 8 && (m & 1n) === 1n);
          const want = Number(m + (up ? 1n : 0n)) * 2 ** e;
          const got = goParseFloat(s);
          assert.equal(got.error, null, s);
          assert.ok(Object.is(got.value, want), `${s} -> ${got.value}, want ${want}`);
        },
      ),
    );
  });

  test('rejects valid numbers padded with whitespace or holding a comma', () => {
    check(
      fc.property(
        fc.oneof(fc.double().map((x) => String(x)), fc.stringMatching(/^[+-]?\d{1,10}(\.\d{1,10})?$/)),
        fc.constantFrom(' ', '\t', '\n', '\r', '\u00a0'),
        fc.nat(),
        fc.constantFrom('lead', 'trail', 'comma'),
        (s, ws, at, where) => {
          const i = 1 + (at % s.length);
          const bad = where === 'lead' ? ws + s : where === 'trail' ? s + ws : s.slice(0, i) + ',' + s.slice(i);
          assert.deepEqual(goParseFloat(bad), { value: 0, error: 'syntax' }, JSON.stringify(bad));
        },
      ),
    );
  });

  test('rejects hexadecimal mantissas without a p exponent', () => {
    check(
      fc.property(fc.stringMatching(/^[+-]?0[xX][0-9a-fA-F]{1,12}(\.[0-9a-fA-F]{0,6})?$/), (s) => {
        assert.deepEqual(goParseFloat(s), { value: 0, error: 'syntax' }, s);
      }),
    );
  });

  // Exact expectations, after Go's src/strconv/atof_test.go and spec §3.
  const TABLE: readonly (readonly [string, number, null | 'syntax' | 'range'])[] = [
    ['1', 1, null],
    ['+1', 1, null],
    ['-1', -1, null],
    ['1e3', 1000, null],
    ['1E3', 1000, null],
    ['1e+3', 1000, null],
    ['1e-3', 0.001, null],
    ['.5', 0.5, null],
    ['5.', 5, null],
    ['+.5', 0.5, null],
    ['-.5e-1', -0.05, null],
    ['00012', 12, null],
    ['-0', -0, null],
    ['0x1p4', 16, null],
    ['0x1.8p1', 3, null],
    ['0X1P-2', 0.25, null],
    ['0x_1_2.3_4_5p+1_2', 74565, null],
    ['1_23.50_0_0e+1_2', 1.235e14, null],
    ['1.7976931348623157e308', 1.7976931348623157e308, null],
    ['4.9e-324', 5e-324, null],
    ['1e-400', 0, null],
    ['inf', Infinity, null],
    ['+Inf', Infinity, null],
    ['-inf', -Infinity, null],
    ['infinity', Infinity, null],
    ['Infinity', Infinity, null],
    ['-Infinity', -Infinity, null],
    ['+INFINITY', Infinity, null],
    ['iNfInItY', Infinity, null],
    ['nan', NaN, null],
    ['NaN', NaN, null],
    ['NAN', NaN, null],
    ['1e400', Infinity, 'range'],
    ['-1e400', -Infinity, 'range'],
    ['1.8e308', Infinity, 'range'],
    ['0x1p1024', Infinity, 'range'],
    ['', 0, 'syntax'],
    [' 1', 0, 'syntax'],
    ['1 ', 0, 'syntax'],
    ['\t1', 0, 'syntax'],
    ['0x10', 0, 'syntax'],
    ['0x', 0, 'syntax'],
    ['0x1p', 0, 'syntax'],
    ['0b101', 0, 'syntax'],
    ['1,5', 0, 'syntax'],
    ['12abc', 0, 'syntax'],
    ['-', 0, 'syntax'],
    ['+', 0, 'syntax'],
    ['.', 0, 'syntax'],
    ['e5', 0, 'syntax'],
    ['1e', 0, 'syntax'],
    ['1e+', 0, 'syntax'],
    ['1.5.2', 0, 'syntax'],
    ['infin', 0, 'syntax'],
    ['infinityx', 0, 'syntax'],
    ['inf ', 0, 'syntax'],
    ['-nan', 0, 'syntax'],
    ['+nan', 0, 'syntax'],
    ['nan1', 0, 'syntax'],
    ['_1', 0, 'syntax'],
    ['1_', 0, 'syntax'],
    ['1__0', 0, 'syntax'],
    ['-_123.5e+12', 0, 'syntax'],
    ['123_.5e+12', 0, 'syntax'],
    ['123._5e+12', 0, 'syntax'],
    ['123.5_e+12', 0, 'syntax'],
    ['123.5e_+12', 0, 'syntax'],
    ['123.5e+_12', 0, 'syntax'],
    ['123.5e+12_', 0, 'syntax'],
    ['-_0x12.345p+12', 0, 'syntax'],
    ['1e5_', 0, 'syntax'],
  ];
  test('matches Go on a table of accepted and rejected spellings', () => {
    for (const [s, value, error] of TABLE) {
      const r = goParseFloat(s);
      assert.equal(r.error, error, JSON.stringify(s));
      assert.ok(Object.is(r.value, value), `${JSON.stringify(s)} -> ${r.value}, want ${value}`);
    }
  });
});

describe('goParseInt', () => {
  test('equals Number(BigInt(s)) for every decimal integer up to 2^53', () => {
    check(
      fc.property(fc.integer({ min: -(2 ** 53 - 1), max: 2 ** 53 - 1 }), fc.boolean(), (n, plus) => {
        const s = n >= 0 && plus ? `+${n}` : String(n);
        assert.deepEqual(goParseInt(s), { value: n, error: null }, s);
      }),
    );
  });

  // Known bug, kept failing on purpose: numbers.ts parseIntBytes accumulates v = v * 10 + d in
  // doubles for fewer than 19 digits, so 17-18 digit values above 2^53 are rounded more than once.
  // Minimal input: goParseInt('123456789012345678') gives 123456789012345700, Number() 123456789012345680.
  test('goParseInt gives the nearest double for every int64, 16 to 19 digits included (regression: it rounded at each digit)', () => {
    check(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => {
        const s = n.toString();
        assert.deepEqual(goParseInt(s), { value: Number(n), error: null }, s);
      }),
    );
  });
});
