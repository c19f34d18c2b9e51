import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import type { ClientGroupedStats, ClientStatsPayload, StatsPayload } from '@kennel/core';
import { AGENT_VERSION, ApmHeader, MAX_STATS_ENTRIES_PER_PAYLOAD, StatsEncoder, writeBucket, writeStatsPayload } from '../src/index.js';
import { WriteBuffer } from '../src/internal/write-buffer.js';

const k = (s: string): string => (0xa0 | s.length).toString(16) + Buffer.from(s).toString('hex');

function bytesOf(write: (w: WriteBuffer) => void): string {
  const w = new WriteBuffer(64);
  write(w);
  return w.buf.subarray(0, w.pos).toString('hex');
}

function group(i: number): ClientGroupedStats {
  return {
    service: 's',
    name: 'n',
    resource: `r${i}`,
    httpStatusCode: 200,
    type: '',
    dbType: '',
    hits: 1,
    errors: 0,
    duration: 10,
    okSummary: new Uint8Array(0),
    errorSummary: new Uint8Array(0),
    synthetics: false,
    topLevelHits: 1,
    spanKind: '',
    peerTags: [],
    isTraceRoot: 1,
    grpcStatusCode: '',
    httpMethod: '',
    httpEndpoint: '',
    serviceSource: '',
    spanDerivedPrimaryTags: [],
    additionalMetricTags: [],
  };
}

function client(entries: number, env = 'prod'): ClientStatsPayload {
  return {
    hostname: 'h',
    env,
    version: '',
    stats: [
      { start: 1_700_000_000_000_000_000n, duration: 10_000_000_000, stats: Array.from({ length: Math.ceil(entries / 2) }, (_, i) => group(i)), agentTimeShift: 0 },
      { start: 1_700_000_010_000_000_000n, duration: 10_000_000_000, stats: Array.from({ length: Math.floor(entries / 2) }, (_, i) => group(i)), agentTimeShift: 0 },
    ],
    lang: 'go',
    tracerVersion: '',
    runtimeId: '',
    sequence: 0,
    agentAggregation: '',
    service: '',
    containerId: '',
    tags: [],
    gitCommitSha: '',
    imageTag: '',
    processTagsHash: 0n,
    processTags: '',
  };
}

function payload(stats: ClientStatsPayload[]): StatsPayload {
  return { agentHostname: 'agent', agentEnv: 'none', stats, agentVersion: '7.64.0', clientComputed: false, splitPayload: false };
}

// Key names and order from DataDog/datadog-agent pkg/proto/pbgo/trace/stats_gen.go (msgp).

test('writes StatsPayload as a msgpack map with the Go field names', () => {
  const sp: StatsPayload = { agentHostname: 'h', agentEnv: 'e', stats: [], agentVersion: 'v', clientComputed: false, splitPayload: true };
  assert.equal(
    bytesOf((w) => writeStatsPayload(w, sp)),
    '86' + k('AgentHostname') + 'a168' + k('AgentEnv') + 'a165' + k('Stats') + '90' + k('AgentVersion') + 'a176' + k('ClientComputed') + 'c2' + k('SplitPayload') + 'c3',
  );
});

test('writes a bucket with uint64 start and duration in their smallest msgpack form', () => {
  const hex = bytesOf((w) => writeBucket(w, { start: 1_700_000_000_000_000_000n, duration: 10_000_000_000, stats: [], agentTimeShift: -3 }));
  assert.equal(hex, '84' + k('Start') + 'cf' + '17979cfe362a0000' + k('Duration') + 'cf' + '00000002540be400' + k('Stats') + '90' + k('AgentTimeShift') + 'fd');
});

test('sends msgpack bodies gzipped with the stats writer headers', () => {
  const encoder = new StatsEncoder({ languages: () => ['python', 'go'] });
  encoder.add(payload([client(3)]));
  const [p] = encoder.finish();
  assert.equal(p!.endpoint, '/api/v0.2/stats');
  assert.deepStrictEqual(p!.headers, {
    [ApmHeader.CONTENT_TYPE]: 'application/msgpack',
    [ApmHeader.CONTENT_ENCODING]: 'gzip',
    [ApmHeader.REPORTED_LANGUAGES]: 'go|python',
    [ApmHeader.USER_AGENT]: `Datadog Trace Agent/${AGENT_VERSION}/kennel`,
  });
  const body = gunzipSync(p!.body);
  assert.equal(body.length, p!.uncompressedBytes);
  assert.equal(body.subarray(0, 1 + 'AgentHostname'.length + 1).toString('hex'), '86' + k('AgentHostname'));
  assert.deepStrictEqual([p!.items, p!.entries], [1, 3]);
});

test('client payloads are grouped up to 4000 entries; a split marks every payload SplitPayload (buildPayloads)', () => {
  assert.equal(MAX_STATS_ENTRIES_PER_PAYLOAD, 4000);
  const encoder = new StatsEncoder();
  encoder.add(payload([client(1000, 'a'), client(2000, 'b')]));
  const one = encoder.finish();
  assert.deepStrictEqual(
    one.map((p) => [p.items, p.entries]),
    [[2, 3000]],
  );
  assert.equal(gunzipSync(one[0]!.body).includes(Buffer.from(k('SplitPayload') + 'c2', 'hex')), true);
  // 9000 entries: dealt round robin into 3 pieces of 3000, one per payload.
  encoder.add(payload([client(9000)]));
  const three = encoder.finish();
  assert.deepStrictEqual(
    three.map((p) => [p.items, p.entries]),
    [
      [1, 3000],
      [1, 3000],
      [1, 3000],
    ],
  );
  for (const p of three) assert.equal(gunzipSync(p.body).includes(Buffer.from(k('SplitPayload') + 'c3', 'hex')), true);
  assert.equal(encoder.counters.get('Splits'), 1);
});

test('a stats payload without grouped stats produces nothing', () => {
  const encoder = new StatsEncoder();
  encoder.add(payload([]));
  assert.deepStrictEqual(encoder.finish(), []);
});
