import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AGENT_VERSION, ApmHeader, MAX_TRACE_PAYLOAD_SIZE, TraceEncoder, encodeAllTraces, traceAgentUserAgent } from '../src/index.js';
import { AgentPayloadPb, apmChunk, apmSpan, apmTracerPayload, gzipApm, inflate, pbObject, zstdApm } from './apm-support.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const s = (t: string): string => Buffer.from(t).toString('hex');

test('writes AgentPayload > TracerPayload > TraceChunk > Span with the field numbers of spec d.2', () => {
  const encoder = new TraceEncoder({ hostname: 'h', env: 'prod', agentVersion: '7.64.0', targetTPS: 10, errorTPS: 10 }, gzipApm);
  const span = apmSpan({ meta: { a: 'b' }, metrics: { m: 1 } });
  assert.equal(encoder.add(apmTracerPayload([apmChunk([span], { priority: 1 })], { languageName: 'go' })), 'ok');
  const [p] = encoder.finish();
  const spanBody = [
    '0a03' + s('web'), // service = 1
    '120c' + s('http.request'), // name = 2
    '1a05' + s('GET /'), // resource = 3
    '2001', // traceID = 4
    '2802', // spanID = 5 (parentID 0 omitted)
    '388080a8b1e39fe7cb17', // start = 7, int64 1700000000000000000
    '40dc0b', // duration = 8, 1500
    '5206' + '0a01' + s('a') + '1201' + s('b'), // meta = 10, {a: b}
    '5a0c' + '0a01' + s('m') + '11' + '000000000000f03f', // metrics = 11, {m: 1.0}
    '6203' + s('web'), // type = 12
  ].join('');
  const chunkBody = '0801' + '1a' + (spanBody.length / 2).toString(16) + spanBody; // priority = 1, spans = 3
  const tpBody = '1202' + s('go') + '32' + (chunkBody.length / 2).toString(16) + chunkBody; // languageName = 2, chunks = 6
  const expected = [
    '0a01' + s('h'), // hostName = 1
    '1204' + s('prod'), // env = 2
    '2a' + (tpBody.length / 2).toString(16) + tpBody, // tracerPayloads = 5
    '3a06' + s('7.64.0'), // agentVersion = 7
    '41' + '0000000000002440', // targetTPS = 8, 10.0
    '49' + '0000000000002440', // errorTPS = 9, 10.0
  ].join('');
  assert.equal(hex(inflate(p!)), expected);
});

test('sends the trace writer headers: protobuf, the compression, reported languages and the user agent', () => {
  for (const c of [zstdApm, gzipApm]) {
    const encoder = new TraceEncoder({}, c);
    encoder.add(apmTracerPayload([apmChunk([apmSpan()])], { languageName: 'python' }));
    encoder.add(apmTracerPayload([apmChunk([apmSpan()])], { languageName: 'go' }));
    const [p] = encoder.finish();
    assert.equal(p!.endpoint, '/api/v0.2/traces');
    assert.deepStrictEqual(p!.headers, {
      [ApmHeader.CONTENT_TYPE]: 'application/x-protobuf',
      [ApmHeader.CONTENT_ENCODING]: c.contentEncoding,
      [ApmHeader.REPORTED_LANGUAGES]: 'go|python',
      [ApmHeader.USER_AGENT]: `Datadog Trace Agent/${AGENT_VERSION}/kennel`,
    });
    assert.deepStrictEqual([p!.items, p!.entries], [2, 2]);
  }
  assert.equal(traceAgentUserAgent('7.1.0', 'abc'), 'Datadog Trace Agent/7.1.0/abc');
});

test('zstd bodies are one zstd frame, gzip bodies one gzip member', () => {
  const tp = apmTracerPayload([apmChunk([apmSpan()])]);
  const z = new TraceEncoder({}, zstdApm);
  z.add(tp);
  assert.equal(hex(z.finish()[0]!.body.subarray(0, 4)), '28b52ffd');
  const g = new TraceEncoder({}, gzipApm);
  g.add(tp);
  assert.equal(hex(g.finish()[0]!.body.subarray(0, 2)), '1f8b');
});

test('negative int32 and int64 values are written as 10-byte varints', () => {
  const encoder = new TraceEncoder({ env: '' }, gzipApm);
  encoder.add(apmTracerPayload([apmChunk([apmSpan({ start: -1n, duration: 0 })], { priority: -1 })]));
  const decoded = AgentPayloadPb.toObject(AgentPayloadPb.decode(inflate(encoder.finish()[0]!)), pbObject) as {
    tracerPayloads: { chunks: { priority: number; spans: { start: string }[] }[] }[];
  };
  const chunk = decoded.tracerPayloads[0]!.chunks[0]!;
  assert.equal(chunk.priority, -1);
  assert.equal(chunk.spans[0]!.start, '-1');
});

test('asks for a flush when a tracer payload does not fit, and never passes the size limit', () => {
  const big = (n: number): ReturnType<typeof apmTracerPayload> =>
    apmTracerPayload([apmChunk([apmSpan({ meta: { blob: 'x'.repeat(n) } })])]);
  const encoder = new TraceEncoder({ maxPayloadSize: 10_000 }, gzipApm);
  assert.equal(encoder.add(big(6000)), 'ok');
  assert.equal(encoder.add(big(6000)), 'flush-required');
  assert.equal(encoder.counters.get('PayloadFull'), 1);
  const payloads = encodeAllTraces(new TraceEncoder({ maxPayloadSize: 10_000 }, gzipApm), [big(6000), big(6000), big(100), big(4000)]);
  assert.deepStrictEqual(
    payloads.map((p) => p.items),
    [1, 2, 1],
  );
  for (const p of payloads) assert.ok(p.uncompressedBytes <= 10_000 && inflate(p).length === p.uncompressedBytes);
});

test('a tracer payload too big for one payload is cut between its chunks; a chunk too big alone is dropped', () => {
  const chunks = [1, 2, 3, 4, 5].map((i) => apmChunk([apmSpan({ spanId: BigInt(i), meta: { blob: 'y'.repeat(4000) } })]));
  chunks.push(apmChunk([apmSpan({ spanId: 99n, meta: { blob: 'z'.repeat(20_000) } })]));
  const encoder = new TraceEncoder({ maxPayloadSize: 10_000 }, gzipApm);
  assert.equal(encoder.add(apmTracerPayload(chunks, { languageName: 'ruby', env: 'prod' })), 'ok');
  const payloads = encoder.finish();
  assert.deepStrictEqual(
    payloads.map((p) => p.entries),
    [2, 2, 1],
  );
  const spanIds = payloads.flatMap((p) => {
    const o = AgentPayloadPb.toObject(AgentPayloadPb.decode(inflate(p)), pbObject) as {
      tracerPayloads: { env: string; languageName: string; chunks: { spans: { spanID: string }[] }[] }[];
    };
    // Every piece carries the tracer payload's fields.
    for (const tp of o.tracerPayloads) assert.deepStrictEqual([tp.env, tp.languageName], ['prod', 'ruby']);
    return o.tracerPayloads.flatMap((tp) => tp.chunks.flatMap((c) => c.spans.map((x) => x.spanID)));
  });
  assert.deepStrictEqual(spanIds, ['1', '2', '3', '4', '5']);
  for (const p of payloads) assert.ok(p.uncompressedBytes <= 10_000);
  assert.deepStrictEqual([encoder.counters.get('Splits'), encoder.counters.get('ItemTooBig'), encoder.counters.get('SpansTooBig')], [1, 1, 1]);
});

test('the default cut is the agent MaxPayloadSize of 3,200,000 bytes', () => {
  assert.equal(MAX_TRACE_PAYLOAD_SIZE, 3_200_000);
  const encoder = new TraceEncoder({}, zstdApm);
  const spans = Array.from({ length: 40 }, (_, i) => apmSpan({ spanId: BigInt(i + 1), meta: { blob: String(i).repeat(25_000) } }));
  const payloads = encodeAllTraces(
    encoder,
    Array.from({ length: 5 }, () => apmTracerPayload([apmChunk(spans)])),
  );
  assert.ok(payloads.length >= 2);
  for (const p of payloads) assert.ok(p.uncompressedBytes <= 3_200_000 && p.uncompressedBytes > 1_000_000, String(p.uncompressedBytes));
  assert.equal(
    payloads.reduce((n, p) => n + p.entries, 0),
    5,
  );
});

test('finish on an empty encoder returns nothing', () => {
  assert.deepStrictEqual(new TraceEncoder({}, gzipApm).finish(), []);
});
