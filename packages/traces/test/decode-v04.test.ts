import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PRIORITY_NONE } from '@kennel/core';
import { createTraceDecodeErrorCounters, decodeTraces, traceDecodeErrors, type TraceDecodeResult } from '../src/index.js';
import { bytes, chunkOf, encodeV04, fixstr, oneSpanV04, pack, payloadOf, span, spanWire } from './decode-support.js';

function ok(r: TraceDecodeResult) {
  if (!r.ok) assert.fail(`expected ok, got ${r.reason}: ${r.message}`);
  return r;
}

function firstSpan(body: Uint8Array) {
  return ok(decodeTraces(body, 'v0.4')).payload.chunks[0]!.spans[0]!;
}

function rejects(body: Uint8Array, reason: string, message?: RegExp, version: 'v0.4' | 'v0.5' | 'v0.7' = 'v0.4') {
  const counters = createTraceDecodeErrorCounters();
  const r = decodeTraces(body, version, {}, { counters });
  assert.equal(r.ok, false, 'expected a failure');
  if (r.ok) return;
  assert.equal(r.reason, reason, r.message);
  if (message) assert.match(r.message, message);
  assert.equal(counters.get(r.reason), 1, 'the reason is counted once');
}

test('a v0.4 payload decodes into chunks with PRIORITY_NONE and the header metadata', () => {
  const a = span({ metaStruct: { appsec: pack({ triggers: [1, 2] }) } });
  const b = span({ spanId: 7n, parentId: a.spanId, meta: {}, metrics: {} });
  const r = ok(decodeTraces(encodeV04([[a, b], [span({ traceId: 1n })]]), 'v0.4', { lang: 'nodejs', langVersion: 'v20.20.0', tracerVersion: '5.1.0', containerId: 'abc' }));
  assert.equal(r.spans, 3);
  assert.deepEqual(
    r.payload,
    payloadOf([chunkOf([a, b]), chunkOf([span({ traceId: 1n })])], {
      languageName: 'nodejs',
      languageVersion: 'v20.20.0',
      tracerVersion: '5.1.0',
      containerId: 'abc',
    }),
  );
  assert.equal(r.payload.chunks[0]!.priority, PRIORITY_NONE);
});

test('v0.3 is the v0.4 layout', () => {
  const a = span();
  assert.deepEqual(ok(decodeTraces(encodeV04([[a]]), 'v0.3')).payload.chunks, [chunkOf([a])]);
});

test('64-bit ids are lossless over the whole range', () => {
  for (const id of [0n, 1n, 2n ** 32n - 1n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n]) {
    const s = firstSpan(encodeV04([[span({ traceId: id, spanId: id, parentId: id })]]));
    assert.equal(s.traceId, id);
    assert.equal(s.spanId, id);
    assert.equal(s.parentId, id);
  }
});

test('ids accept every integer encoding; negative ints are cast to uint64', () => {
  const cases: [Uint8Array, bigint][] = [
    [bytes(0x05), 5n],
    [bytes(0xcc, 0xff), 255n],
    [bytes(0xcd, 0x12, 0x34), 0x1234n],
    [bytes(0xce, 0xde, 0xad, 0xbe, 0xef), 0xdeadbeefn],
    [bytes(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe), 2n ** 64n - 2n],
    [bytes(0xff), 2n ** 64n - 1n], // negative fixint -1
    [bytes(0xd0, 0x80), 2n ** 64n - 128n],
    [bytes(0xd1, 0x80, 0x00), 2n ** 64n - 32768n],
    [bytes(0xd2, 0xff, 0xff, 0xff, 0xfe), 2n ** 64n - 2n],
    [bytes(0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0), 2n ** 63n],
    [bytes(0xc0), 0n],
  ];
  for (const [wire, want] of cases) {
    assert.equal(firstSpan(oneSpanV04(fixstr('trace_id'), wire)).traceId, want, Buffer.from(wire).toString('hex'));
    assert.equal(firstSpan(oneSpanV04(fixstr('span_id'), wire)).spanId, want);
    assert.equal(firstSpan(oneSpanV04(fixstr('parent_id'), wire)).parentId, want);
  }
});

test('a float in an id, start, duration or error field is refused', () => {
  for (const key of ['trace_id', 'span_id', 'parent_id', 'start', 'duration', 'error']) {
    rejects(oneSpanV04(fixstr(key), bytes(0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0)), 'wrong_type', new RegExp(`${key}: expected an integer, got float64`));
    rejects(oneSpanV04(fixstr(key), bytes(0xca, 0x3f, 0x80, 0, 0)), 'wrong_type');
  }
});

test('a string where an id goes is refused with its position', () => {
  rejects(oneSpanV04(fixstr('span_id'), fixstr('12')), 'wrong_type', /span_id: expected an integer, got str \(0xa2\) in span 0 of trace 0 \(at byte \d+\)/);
});

test('start is an int64: a uint64 above 2^63-1 overflows, negative values pass', () => {
  rejects(oneSpanV04(fixstr('start'), bytes(0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0)), 'overflow', /found uint64, overflows int64/);
  assert.equal(firstSpan(oneSpanV04(fixstr('start'), bytes(0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).start, 2n ** 63n - 1n);
  assert.equal(firstSpan(oneSpanV04(fixstr('start'), bytes(0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).start, -1n);
  assert.equal(firstSpan(oneSpanV04(fixstr('start'), bytes(0xe0))).start, -32n);
  assert.equal(firstSpan(oneSpanV04(fixstr('duration'), bytes(0xcd, 1, 0))).duration, 256);
  rejects(oneSpanV04(fixstr('duration'), bytes(0xcf, 0xff, 0, 0, 0, 0, 0, 0, 0)), 'overflow');
});

test('error is an int32', () => {
  assert.equal(firstSpan(oneSpanV04(fixstr('error'), bytes(0xce, 0, 0, 0, 1))).error, 1);
  assert.equal(firstSpan(oneSpanV04(fixstr('error'), bytes(0xd2, 0x80, 0, 0, 0))).error, -(2 ** 31));
  assert.equal(firstSpan(oneSpanV04(fixstr('error'), bytes(0xd3, 0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0))).error, -(2 ** 31));
  rejects(oneSpanV04(fixstr('error'), bytes(0xce, 0x80, 0, 0, 0)), 'overflow', /overflows int32/);
  rejects(oneSpanV04(fixstr('error'), bytes(0xcf, 0, 0, 0, 1, 0, 0, 0, 0)), 'overflow');
  rejects(oneSpanV04(fixstr('error'), bytes(0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff)), 'overflow');
});

test('strings may be bin; nil reads as the zero value', () => {
  const s = firstSpan(
    oneSpanV04(
      fixstr('service'),
      bytes(0xc4, 3, 'svc'),
      fixstr('name'),
      bytes(0xc0),
      fixstr('resource'),
      bytes(0xc5, 0, 3, 'res'),
      fixstr('type'),
      bytes(0xda, 0, 2, 'db'),
      fixstr('meta'),
      bytes(0xc0),
      fixstr('metrics'),
      bytes(0xc0),
      fixstr('trace_id'),
      bytes(0xc0),
      fixstr('start'),
      bytes(0xc0),
      fixstr('duration'),
      bytes(0xc0),
      fixstr('error'),
      bytes(0xc0),
    ),
  );
  assert.deepEqual(s, span({ service: 'svc', name: '', resource: 'res', type: 'db', meta: {}, metrics: {}, traceId: 0n, spanId: 0n, parentId: 0n, start: 0n, duration: 0, error: 0 }));
});

test('map keys may be bin; meta keys and values may be bin or nil', () => {
  const s = firstSpan(oneSpanV04(bytes(0xc4, 4, 'meta'), bytes(0x82, 0xc4, 1, 'k', 0xc0, 0xc0, fixstr('v'))));
  assert.deepEqual(s.meta, { k: '', '': 'v' });
});

test('invalid UTF-8 is repaired with one U+FFFD per bad byte, as Go does', () => {
  // E2 82 41: a truncated three-byte sequence then "A"; ED A0 80: an encoded surrogate; FF alone.
  const s = firstSpan(oneSpanV04(fixstr('service'), bytes(0xa8, 0xe2, 0x82, 0x41, 0xed, 0xa0, 0x80, 0xff, 0x42)));
  assert.equal(s.service, '\ufffd\ufffdA\ufffd\ufffd\ufffd\ufffdB');
  assert.equal(firstSpan(oneSpanV04(fixstr('service'), bytes(0xa4, 0xf0, 0x9f, 0x90, 0xb6))).service, '🐶');
});

test('metrics take float64 or any integer; float32 is refused', () => {
  const s = firstSpan(
    oneSpanV04(
      fixstr('metrics'),
      bytes(0x85, fixstr('a'), 0x07, fixstr('b'), 0xd0, 0x9c, fixstr('c'), 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, fixstr('d'), 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, fixstr('e'), 0xc0),
    ),
  );
  assert.deepEqual(s.metrics, { a: 7, b: -100, c: 18446744073709552000, d: 1.5, e: 0 });
  rejects(oneSpanV04(fixstr('metrics'), bytes(0x81, fixstr('a'), 0xca, 0x3f, 0xc0, 0, 0)), 'wrong_type', /expected float64 or an integer, got float32/);
});

test('unknown keys are skipped, whatever they hold', () => {
  const s = firstSpan(
    oneSpanV04(
      fixstr('x-extra'),
      bytes(0x92, 0x81, fixstr('deep'), 0xc7, 2, 1, 0xaa, 0xbb, 0xd6, 1, 0, 0, 0, 0),
      fixstr('service'),
      fixstr('after'),
      fixstr('Service'),
      fixstr('case matters'),
    ),
  );
  assert.equal(s.service, 'after');
});

test('a key given twice keeps its last value', () => {
  const s = firstSpan(oneSpanV04(fixstr('service'), fixstr('a'), fixstr('service'), fixstr('b'), fixstr('meta'), bytes(0x81, fixstr('x'), fixstr('1')), fixstr('meta'), bytes(0x81, fixstr('y'), fixstr('2'))));
  assert.equal(s.service, 'b');
  assert.deepEqual(s.meta, { y: '2' });
});

test('nil spans are dropped and a nil trace is an empty chunk', () => {
  const r = ok(decodeTraces(pack([[null, spanWire(span())], null, []]), 'v0.4'));
  assert.equal(r.spans, 1);
  assert.deepEqual(
    r.payload.chunks.map((c) => c.spans.length),
    [1, 0, 0],
  );
});

test('_dd.p.tid stays in meta as received', () => {
  const s = firstSpan(encodeV04([[span({ meta: { '_dd.p.tid': '6743a2bc00000000' } })]]));
  assert.equal(s.meta['_dd.p.tid'], '6743a2bc00000000');
});

test('a __proto__ meta key is an own property, not the prototype', () => {
  const s = firstSpan(oneSpanV04(fixstr('meta'), bytes(0x82, fixstr('__proto__'), fixstr('x'), fixstr('a'), fixstr('b'))));
  assert.equal(Object.getPrototypeOf(s.meta), Object.prototype);
  assert.deepEqual(Object.keys(s.meta), ['__proto__', 'a']);
  assert.equal(Object.getOwnPropertyDescriptor(s.meta, '__proto__')?.value, 'x');
});

test('meta objects built by the shape cache equal those built key by key', () => {
  // The same key sequence many times (generated literal), then variations of it.
  const metas: Record<string, string>[] = [];
  for (let i = 0; i < 5; i++) metas.push({ env: 'prod', version: String(i), 'span.kind': 'server' });
  metas.push({ env: 'prod', version: '1' }, { env: 'prod', version: '1', 'span.kind': 'client', extra: 'x' }, { version: '1', env: 'prod' });
  const body = encodeV04([metas.map((meta) => span({ meta }))]);
  for (let round = 0; round < 3; round++) {
    const got = ok(decodeTraces(body, 'v0.4')).payload.chunks[0]!.spans.map((s) => s.meta);
    assert.deepEqual(got, metas);
    for (let i = 0; i < metas.length; i++) assert.deepEqual(Object.keys(got[i]!), Object.keys(metas[i]!));
  }
});

test('meta_struct values are bin copies; other types are refused', () => {
  const body = oneSpanV04(fixstr('meta_struct'), bytes(0x82, fixstr('a'), 0xc4, 2, 1, 2, fixstr('b'), 0xc0));
  const s = firstSpan(body);
  assert.deepEqual(s.metaStruct, { a: new Uint8Array([1, 2]), b: new Uint8Array(0) });
  assert.equal(Object.getPrototypeOf(s.metaStruct['a']), Uint8Array.prototype);
  body[body.length - 3] = 9; // the request body changes after the decode: the copy does not
  assert.deepEqual(s.metaStruct['a'], new Uint8Array([1, 2]));
  rejects(oneSpanV04(fixstr('meta_struct'), bytes(0x81, fixstr('a'), fixstr('str'))), 'wrong_type', /meta_struct value: expected bin, got str/);
});

test('span links: every field, nil links dropped, trace_id_high and flags strict', () => {
  const link = { trace_id: 2n ** 64n - 1n, trace_id_high: 5n, span_id: 3n, attributes: { 'link.kind': 'follows' }, tracestate: 'dd=s:1', flags: 0x80000001 };
  const s = firstSpan(pack([[{ span_links: [link, null, { span_id: 9 }] }]]));
  assert.deepEqual(s.spanLinks, [
    { traceId: 2n ** 64n - 1n, traceIdHigh: 5n, spanId: 3n, attributes: { 'link.kind': 'follows' }, tracestate: 'dd=s:1', flags: 0x80000001 },
    { traceId: 0n, traceIdHigh: 0n, spanId: 9n, attributes: {}, tracestate: '', flags: 0 },
  ]);
  rejects(pack([[{ span_links: [{ trace_id_high: -1 }] }]]), 'overflow', /trace_id_high: negative value/);
  rejects(pack([[{ span_links: [{ flags: 2 ** 32 }] }]]), 'wrong_type'); // msgpackr writes 2^32 as a float64
  rejects(oneSpanV04(fixstr('span_links'), bytes(0x91, 0x81, fixstr('flags'), 0xcf, 0, 0, 0, 1, 0, 0, 0, 0)), 'overflow', /overflows uint32/);
});

test('span events: attributes of each type, floats holding integers accepted (dd-trace-js writes them)', () => {
  const event = {
    time_unix_nano: 1_733_000_000_000_000_001n,
    name: 'exception',
    attributes: {
      s: { type: 0, string_value: 'boom' },
      b: { type: 1, bool_value: true },
      i: { type: 2, int_value: -5 },
      d: { type: 3, double_value: 2.5 },
      a: { type: 4, array_value: { values: [{ type: 0, string_value: 'x' }, null, { type: 2, int_value: 7 }, { type: 9 }] } },
      n: null,
      u: { type: 17 },
    },
  };
  const s = firstSpan(pack([[{ span_events: [event, null] }]]));
  assert.deepEqual(s.spanEvents, [
    {
      timeUnixNano: 1_733_000_000_000_000_001n,
      name: 'exception',
      attributes: {
        s: { type: 0, stringValue: 'boom' },
        b: { type: 1, boolValue: true },
        i: { type: 2, intValue: -5n },
        d: { type: 3, doubleValue: 2.5 },
        a: { type: 4, arrayValue: [{ type: 0, stringValue: 'x' }, { type: 2, intValue: 7n }] },
      },
    },
  ]);
  // dd-trace-js's native span-event encoding: every number a float64.
  const floats = bytes(
    0x91,
    0x91,
    0x81,
    fixstr('span_events'),
    0x91,
    0x82,
    fixstr('time_unix_nano'),
    0xcb,
    0x43,
    0xd0,
    0,
    0,
    0,
    0,
    0,
    0, // 2^62
    fixstr('attributes'),
    0x81,
    fixstr('i'),
    0x82,
    fixstr('type'),
    0xcb,
    0x40,
    0,
    0,
    0,
    0,
    0,
    0,
    0, // 2.0
    fixstr('int_value'),
    0xcb,
    0x40,
    0x08,
    0,
    0,
    0,
    0,
    0,
    0, // 3.0
  );
  assert.deepEqual(firstSpan(floats).spanEvents, [{ timeUnixNano: 2n ** 62n, name: '', attributes: { i: { type: 2, intValue: 3n } } }]);
  rejects(pack([[{ span_events: [{ time_unix_nano: 1.5 }] }]]), 'wrong_type', /non-integral float 1.5/);
  rejects(pack([[{ span_events: [{ time_unix_nano: -1 }] }]]), 'overflow');
});

test('truncated bodies are refused as truncated wherever they end', () => {
  const body = encodeV04([[span({ spanLinks: [{ traceId: 1n, traceIdHigh: 0n, spanId: 2n, attributes: { a: 'b' }, tracestate: '', flags: 0 }] })]]);
  for (let n = 0; n < body.length; n++) rejects(body.subarray(0, n), 'truncated');
});

test('headers larger than the body, or above 25,000,000, are refused before anything is allocated', () => {
  rejects(bytes(0xdd, 0, 0, 0, 10, 0x90), 'truncated', /header announces 10 elements but only 1 bytes remain/);
  rejects(bytes(0xdd, 0x01, 0x7d, 0x78, 0x41), 'too_long', /too long payload/);
  rejects(bytes(0x91, 0x91, 0xdf, 0xff, 0xff, 0xff, 0xff), 'too_long');
});

test('a payload announcing more spans than the span budget is refused before its spans are read', () => {
  const body = encodeV04([[span(), span()], [span(), span()]]);
  assert.equal(ok(decodeTraces(body, 'v0.4', {}, { maxSpans: 4 })).spans, 4);
  const counters = createTraceDecodeErrorCounters();
  const r = decodeTraces(body, 'v0.4', {}, { counters, maxSpans: 3 });
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.reason, 'too_many_spans');
  assert.match(!r.ok ? r.message : '', /more than 3 spans/);
  assert.equal(counters.snapshot().too_many_spans, 1);
  // The default budget, 1,000,000: a 1 MB body of 1,000,001 one-byte empty spans.
  const n = 1_000_001;
  const bomb = new Uint8Array(6 + n).fill(0x80);
  bomb.set([0x91, 0xdd, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  rejects(bomb, 'too_many_spans', /more than 1000000 spans/);
  // Nil spans count: they are announced by the header.
  const nils = decodeTraces(bytes(0x91, 0x94, 0xc0, 0xc0, 0xc0, 0xc0), 'v0.4', {}, { counters, maxSpans: 3 });
  assert.equal(!nils.ok && nils.reason, 'too_many_spans');
});

test('a top-level value that is not an array is refused; bytes after the payload are ignored', () => {
  rejects(bytes(0xc0), 'wrong_type', /traces: expected an array, got nil/);
  rejects(bytes(0x81, 0xa1, 0x61, 0x01), 'wrong_type');
  rejects(bytes(0xc1), 'invalid_msgpack');
  rejects(bytes(0x91, 0x91, 0x81, 0xc1, 0x00), 'invalid_msgpack');
  assert.equal(ok(decodeTraces(bytes(0x90, 0xc1, 0xff), 'v0.4')).payload.chunks.length, 0);
});

test('span keys must be strings', () => {
  rejects(bytes(0x91, 0x91, 0x81, 0x01, 0x02), 'wrong_type', /span key: expected a string key, got int/);
});

test('failures bump the package-wide counters unless the caller passes its own', () => {
  const before = traceDecodeErrors.get('truncated');
  decodeTraces(bytes(0x91), 'v0.4');
  assert.equal(traceDecodeErrors.get('truncated'), before + 1);
  const mine = createTraceDecodeErrorCounters();
  decodeTraces(bytes(0x91), 'v0.4', {}, { counters: mine });
  assert.equal(traceDecodeErrors.get('truncated'), before + 1);
  assert.equal(mine.get('truncated'), 1);
});

test('an unknown version is a named failure, not a throw', () => {
  const r = decodeTraces(bytes(0x90), 'v9.9' as 'v0.4');
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.reason, 'unsupported_version');
});

test('the decoder keeps no reference to the body after a decode', () => {
  // Decoding a second body must not see the first one's bytes (the cursor is reset).
  ok(decodeTraces(encodeV04([[span()]]), 'v0.4'));
  rejects(new Uint8Array(0), 'truncated');
});

test('with code generation from strings refused, objects are built key by key and decodes still succeed', () => {
  const index = new URL('../src/index.js', import.meta.url).href;
  const script = `
    const { decodeTraces } = await import(${JSON.stringify(index)});
    const body = new Uint8Array(${JSON.stringify([...encodeV04([[span(), span(), span()]])])});
    const out = [];
    for (let i = 0; i < 3; i++) { const r = decodeTraces(body, 'v0.4'); out.push(r.ok ? r.payload.chunks[0].spans.map((s) => s.meta) : r.reason); }
    console.log(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const meta = span().meta;
  assert.deepEqual(JSON.parse(r.stdout), [0, 1, 2].map(() => [meta, meta, meta]));
});
