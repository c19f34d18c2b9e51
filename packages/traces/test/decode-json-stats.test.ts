import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTraceDecodeErrorCounters, decodeClientStats, decodeJsonTraces, traceId128, traceIdHigh, type TraceDecodeResult } from '../src/index.js';
import { bytes, chunkOf, pack, payloadOf, span } from './decode-support.js';

const enc = new TextEncoder();

function ok(r: TraceDecodeResult) {
  if (!r.ok) assert.fail(`expected ok, got ${r.reason}: ${r.message}`);
  return r;
}

function jsonRejects(text: string, version: 'v0.1' | 'v0.4', message: RegExp) {
  const counters = createTraceDecodeErrorCounters();
  const r = decodeJsonTraces(enc.encode(text), version, {}, { counters });
  assert.equal(r.ok, false, 'expected a failure');
  if (r.ok) return;
  assert.equal(r.reason, 'invalid_json');
  assert.match(r.message, message);
  assert.equal(counters.get('invalid_json'), 1);
}

const JSON_SPAN = `{"service":"web","name":"http.request","resource":"GET /users/:id","trace_id":18364758544493064720,
  "span_id":9223372036854775809,"parent_id":0,"start":1733000000000000000,"duration":1500000,"error":0,"type":"web",
  "meta":{"env":"prod","http.method":"GET"},"metrics":{"_dd.top_level":1,"_sampling_priority_v1":2.0}}`;

test('JSON v0.4 traces decode losslessly (ids above 2^53 stay exact)', () => {
  const r = ok(decodeJsonTraces(enc.encode(`[[${JSON_SPAN}], []]`), 'v0.4', { lang: 'ruby' }));
  assert.deepEqual(r.payload, payloadOf([chunkOf([span()]), chunkOf([])], { languageName: 'ruby' }));
});

test('JSON v0.1 spans are grouped into chunks by trace id, in first-seen order', () => {
  const a = JSON_SPAN.replace('"trace_id":18364758544493064720', '"trace_id":5');
  const r = ok(decodeJsonTraces(enc.encode(`[${JSON_SPAN}, ${a}, null, ${JSON_SPAN.replace('"span_id":9223372036854775809', '"span_id":3')}]`), 'v0.1'));
  assert.deepEqual(
    r.payload.chunks.map((c) => c.spans.map((s) => [s.traceId, s.spanId])),
    [
      [
        [18364758544493064720n, 9223372036854775809n],
        [18364758544493064720n, 3n],
      ],
      [[5n, 9223372036854775809n]],
    ],
  );
});

test('JSON keys match case-insensitively, nulls are zero values, unknown keys are ignored', () => {
  const r = ok(decodeJsonTraces(enc.encode('[[{"Service":"a","TRACE_ID":1,"meta":null,"name":null,"whatever":[1,{"x":2}],"meta_struct":{"k":"AQI="}}]]'), 'v0.4'));
  const s = r.payload.chunks[0]!.spans[0]!;
  assert.equal(s.service, 'a');
  assert.equal(s.traceId, 1n);
  assert.equal(s.name, '');
  assert.deepEqual(s.meta, {});
  assert.deepEqual(s.metaStruct, { k: new Uint8Array([1, 2]) });
});

test('JSON integer fields refuse floats, negatives (for uint64) and overflow, as Go does', () => {
  jsonRejects('[[{"trace_id":1.0}]]', 'v0.4', /trace_id: cannot unmarshal a number 1 into uint64/);
  jsonRejects('[[{"span_id":1e3}]]', 'v0.4', /into uint64/);
  jsonRejects('[[{"span_id":-1}]]', 'v0.4', /overflows uint64/);
  jsonRejects('[[{"span_id":18446744073709551616}]]', 'v0.4', /overflows uint64/);
  jsonRejects('[[{"error":2147483648}]]', 'v0.4', /overflows int32/);
  jsonRejects('[[{"service":5}]]', 'v0.4', /cannot unmarshal a number into a string/);
  jsonRejects('[[{"meta":{"a":1}}]]', 'v0.4', /meta\.a: cannot unmarshal a number into a string/);
  jsonRejects('[{"a":1}]', 'v0.4', /trace 0: expected an array/);
});

test('a JSON body holding more spans than the span budget is refused while it is parsed', () => {
  const counters = createTraceDecodeErrorCounters();
  const twoByTwo = enc.encode('[[{}, {}], [{}, {}]]');
  assert.equal(ok(decodeJsonTraces(twoByTwo, 'v0.4', {}, { maxSpans: 4 })).spans, 4);
  const r = decodeJsonTraces(twoByTwo, 'v0.4', {}, { counters, maxSpans: 3 });
  assert.equal(!r.ok && r.reason, 'too_many_spans');
  assert.match(!r.ok ? r.message : '', /more than 3 spans/);
  // v0.1: the spans are the top-level array's elements; arrays inside spans are not spans.
  const v01 = enc.encode('[{"trace_id":1,"span_id":1}, {"trace_id":1,"span_id":2,"span_links":[{"trace_id":3,"span_id":4}]}]');
  assert.equal(ok(decodeJsonTraces(v01, 'v0.1', {}, { maxSpans: 2 })).spans, 2);
  const r01 = decodeJsonTraces(v01, 'v0.1', {}, { counters, maxSpans: 1 });
  assert.equal(!r01.ok && r01.reason, 'too_many_spans');
  assert.equal(counters.snapshot().too_many_spans, 2);
  // The default budget: 1,000,001 empty spans (3 MB).
  const bomb = decodeJsonTraces(enc.encode('[[' + new Array(1_000_001).fill('{}').join(',') + ']]'), 'v0.4');
  assert.equal(!bomb.ok && bomb.reason, 'too_many_spans');
});

test('malformed JSON is refused with its position', () => {
  jsonRejects('[[{"a":1}]', 'v0.4', /invalid JSON at character 11: expected "," or "]"/);
  jsonRejects('[[', 'v0.4', /unexpected end of input/);
  jsonRejects('[] x', 'v0.4', /unexpected data after the top-level value/);
  jsonRejects('{"a":1}', 'v0.1', /expected an array, got an object/);
  jsonRejects('['.repeat(600) + ']'.repeat(600), 'v0.4', /nesting deeper than 512/);
});

test('JSON span links and events', () => {
  const text =
    '[[{"span_links":[{"trace_id":1,"trace_id_high":2,"span_id":3,"attributes":{"a":"b"},"tracestate":"t","flags":2147483649}],' +
    '"span_events":[{"time_unix_nano":7,"name":"e","attributes":{"s":{"type":0,"string_value":"x"},"a":{"type":4,"array_value":{"values":[{"type":1,"bool_value":true}]}}}}]}]]';
  const s = ok(decodeJsonTraces(enc.encode(text), 'v0.4')).payload.chunks[0]!.spans[0]!;
  assert.deepEqual(s.spanLinks, [{ traceId: 1n, traceIdHigh: 2n, spanId: 3n, attributes: { a: 'b' }, tracestate: 't', flags: 2147483649 }]);
  assert.deepEqual(s.spanEvents, [
    { timeUnixNano: 7n, name: 'e', attributes: { s: { type: 0, stringValue: 'x' }, a: { type: 4, arrayValue: [{ type: 1, boolValue: true }] } } },
  ]);
});

test('traceId128 joins _dd.p.tid (the high 64 bits, hex) and the low 64 bits', () => {
  const s = span({ traceId: 0x0123456789abcdefn, meta: { '_dd.p.tid': '6743a2bc00000000' } });
  assert.equal(traceId128(s), 0x6743a2bc000000000123456789abcdefn);
  assert.equal(traceIdHigh(s), 0x6743a2bc00000000n);
  assert.equal(traceId128(span({ traceId: 5n, meta: {} })), 5n);
  assert.equal(traceId128(span({ traceId: 5n, meta: { '_dd.p.tid': 'not hex' } })), 5n);
  assert.equal(traceIdHigh(span({ meta: { '_dd.p.tid': '0123456789abcdef0' } })), undefined);
});

// ---------------------------------------------------------------------------------------------
// /v0.6/stats

/** A ClientStatsPayload as dd-trace-js sends it (encode/span-stats.js). */
function statsBody(): Uint8Array {
  return pack({
    Hostname: 'h',
    Env: 'prod',
    Version: '1.2',
    Stats: [
      {
        Start: 1_733_000_000_000_000_000n,
        Duration: 10_000_000_000n,
        Stats: [
          {
            Service: 'web',
            Name: 'express.request',
            Resource: 'GET /',
            HTTPStatusCode: 200,
            Type: 'web',
            Hits: 10n,
            Errors: 1n,
            Duration: 123456789012n,
            OkSummary: new Uint8Array([1, 2, 3]),
            ErrorSummary: new Uint8Array([4]),
            Synthetics: false,
            TopLevelHits: 10n,
            HTTPMethod: 'GET',
            HTTPEndpoint: '/',
          },
          null,
        ],
      },
      null,
    ],
    Lang: 'javascript',
    TracerVersion: '5.1.0',
    RuntimeID: 'rid',
    Sequence: 3n,
    Unknown: { a: 1 },
  });
}

test('a /v0.6/stats payload decodes into plain objects', () => {
  const r = decodeClientStats(statsBody());
  if (!r.ok) assert.fail(r.message);
  assert.deepEqual(r.payload, {
    hostname: 'h',
    env: 'prod',
    version: '1.2',
    stats: [
      {
        start: 1_733_000_000_000_000_000n,
        duration: 10_000_000_000n,
        agentTimeShift: 0n,
        stats: [
          {
            service: 'web',
            name: 'express.request',
            resource: 'GET /',
            httpStatusCode: 200,
            type: 'web',
            dbType: '',
            hits: 10n,
            errors: 1n,
            duration: 123456789012n,
            okSummary: new Uint8Array([1, 2, 3]),
            errorSummary: new Uint8Array([4]),
            synthetics: false,
            topLevelHits: 10n,
            spanKind: '',
            peerTags: [],
            isTraceRoot: 0,
            grpcStatusCode: '',
            httpMethod: 'GET',
            httpEndpoint: '/',
            serviceSource: '',
            spanDerivedPrimaryTags: [],
          },
        ],
      },
    ],
    lang: 'javascript',
    tracerVersion: '5.1.0',
    runtimeId: 'rid',
    sequence: 3n,
    agentAggregation: '',
    service: '',
    containerId: '',
    tags: [],
    gitCommitSha: '',
    imageTag: '',
    processTagsHash: 0n,
    processTags: '',
  });
});

test('malformed stats payloads are refused with a reason', () => {
  const body = statsBody();
  for (let n = 0; n < body.length; n++) {
    const r = decodeClientStats(body.subarray(0, n));
    assert.equal(r.ok ? 'ok' : r.reason, 'truncated');
  }
  const counters = createTraceDecodeErrorCounters();
  const r = decodeClientStats(pack({ Stats: [{ Stats: [{ Hits: -1 }] }] }), { counters });
  assert.equal(r.ok ? 'ok' : r.reason, 'overflow');
  assert.equal(counters.get('overflow'), 1);
  const t = decodeClientStats(pack({ Stats: [{ Stats: [{ PeerTags: 'x' }] }] }));
  assert.equal(t.ok ? 'ok' : t.reason, 'wrong_type');
  assert.equal(decodeClientStats(bytes(0x90)).ok, false);
});
