import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineDecoder, type LineDecoderOptions } from '../src/process/decoder.js';
import { GoRegexp } from '../src/process/go-regexp.js';
import { compileProcessingRules } from '../src/process/rules.js';
import { createLogsPipelineCounters, Processor } from '../src/process/processor.js';
import type { LogMessage } from '../src/types.js';

const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 200);

function run(chunks: Uint8Array[], options: LineDecoderOptions): Array<[string, number, boolean]> {
  const out: Array<[string, number, boolean]> = [];
  const d = new LineDecoder({ timers: false, ...options }, (l) => out.push([l.content.toString('latin1'), l.rawLen, l.truncated]));
  for (const c of chunks) d.write(c);
  d.flush();
  return out;
}

/** Cuts `bytes` at the given points. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out;
}

const lineChar = fc.constantFrom(...'ab \t\r\n{}":\\x0123456789'.split(''));
const stream = fc.array(fc.oneof(fc.string({ unit: lineChar, maxLength: 40 }), fc.constant('\n')), { maxLength: 30 }).map((parts) => Buffer.from(parts.join(''), 'latin1'));

test('splitting a stream into arbitrary chunks never changes the lines produced', () => {
  fc.assert(
    fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), fc.integer({ min: 1, max: 25 }), fc.constantFrom<'raw' | 'docker' | 'cri'>('raw', 'docker', 'cri'), fc.boolean(), (bytes, cuts, limit, format, multi) => {
      const options: LineDecoderOptions = { maxMessageSize: limit, format, ...(multi ? { multiLine: new GoRegexp('^a') } : {}) };
      const whole = run([bytes], options);
      const chunked = run(split(bytes, cuts), options);
      assert.deepEqual(chunked, whole);
    }),
    { numRuns },
  );
});

test('the raw lengths of the lines add up to the bytes framed', () => {
  fc.assert(
    fc.property(stream, fc.integer({ min: 1, max: 25 }), (bytes, limit) => {
      const out = run([bytes], { maxMessageSize: limit });
      const lastNl = bytes.lastIndexOf(0x0a);
      const framed = out.reduce((s, [, n]) => s + n, 0);
      // Everything up to the last newline is framed; after it only what the size cap cut.
      assert.ok(framed >= lastNl + 1 && framed <= bytes.length, `framed ${framed} of ${bytes.length}`);
    }),
    { numRuns },
  );
});

function message(content: string): LogMessage {
  return { content, status: 'info', service: '', source: '', tags: [], timestamp: 0, origin: { sourceId: 'p', offset: undefined } };
}

test('an exclude rule and the include rule with the same pattern partition the lines', () => {
  const lines = fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd', ' ', '1'), maxLength: 12 }), { maxLength: 40 });
  const pattern = fc.constantFrom('a', '^b', 'c$', '[0-9]+', 'a.c', '(?i)D', '\\bab\\b', 'x*');
  fc.assert(
    fc.property(lines, pattern, (ls, pat) => {
      const mk = (type: string): Processor => new Processor({ sourceRules: compileProcessingRules([{ type, name: 'r', pattern: pat }], 'x'), counters: createLogsPipelineCounters() });
      const exclude = mk('exclude_at_match');
      const include = mk('include_at_match');
      const kept = ls.filter((l) => exclude.process(message(l)) !== null);
      const included = ls.filter((l) => include.process(message(l)) !== null);
      assert.equal(kept.length + included.length, ls.length);
      assert.deepEqual([...kept, ...included].sort(), [...ls].sort());
      for (const l of included) assert.equal(kept.includes(l), false);
    }),
    { numRuns },
  );
});
