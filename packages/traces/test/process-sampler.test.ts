import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RATE_BY_SERVICE, PRIORITY_RATE_KEY, PrioritySampler, TraceProcessor, rootWeight } from '../src/index.js';
import { NOW_NS, chunk, testSpan, tracerPayload } from './process-support.js';

// Rules from DataDog/datadog-agent pkg/trace/sampler/prioritysampler.go, coresampler.go and catalog.go.

function p1(service: string): { c: ReturnType<typeof chunk>; root: ReturnType<typeof testSpan> } {
  const root = testSpan({ service, parentId: 0n, metrics: {} });
  return { c: chunk([root], { priority: 1 }), root };
}

test('before any rate is computed the answer is {"service:,env:":1}', () => {
  const s = new PrioritySampler();
  assert.deepStrictEqual(s.rateByService(), { 'service:,env:': 1 });
  assert.deepStrictEqual(new TraceProcessor().rateByService(), DEFAULT_RATE_BY_SERVICE);
});

test('the first chunk publishes the default rate of 1; the next bucket publishes target_tps / seen TPS per service', () => {
  const s = new PrioritySampler({ targetTPS: 10, agentEnv: 'none' });
  for (let i = 0; i < 250; i++) {
    const { c, root } = p1('web');
    assert.equal(s.sample(1000, c, root, 'prod', 0), true);
  }
  assert.deepStrictEqual(s.rateByService(), { 'service:,env:': 1 });
  // 5 s later: 250 chunks in one 5 s bucket is 50 TPS, 10 / 50 = 0.2.
  const { c, root } = p1('web');
  s.sample(1005, c, root, 'prod', 0);
  assert.deepStrictEqual(s.rateByService(), { 'service:web,env:prod': 0.2, 'service:,env:': 0.2 });
});

test('a service of the agent env is also published with an empty env', () => {
  const s = new PrioritySampler({ targetTPS: 10, agentEnv: 'none' });
  for (let i = 0; i < 5; i++) {
    const { c, root } = p1('api');
    s.sample(2000, c, root, '', 0);
  }
  const { c, root } = p1('api');
  s.sample(2005, c, root, '', 0);
  assert.deepStrictEqual(s.rateByService(), { 'service:api,env:none': 1, 'service:api,env:': 1, 'service:,env:': 1 });
});

test('user priorities (-1, 2) decide without feeding the rates; 0 and 1 are counted', () => {
  const s = new PrioritySampler({ targetTPS: 1 });
  const root = testSpan({ service: 'u', parentId: 0n, metrics: {} });
  assert.equal(s.sample(10, chunk([root], { priority: 2 }), root, 'e', 0), true);
  assert.equal(s.sample(10, chunk([root], { priority: -1 }), root, 'e', 0), false);
  assert.equal(root.metrics[PRIORITY_RATE_KEY], undefined);
  assert.equal(s.sample(10, chunk([root], { priority: 0 }), root, 'e', 0), false);
  assert.equal(s.sample(10, chunk([root], { priority: 1 }), root, 'e', 0), true);
  // The applied rate is written on the sampled local root.
  assert.equal(root.metrics[PRIORITY_RATE_KEY], 1);
});

test('the root weight is 1 / (pre-sampler rate x client rate), each only in (0, 1]', () => {
  assert.equal(rootWeight(testSpan({ metrics: { _sample_rate: 0.5 } })), 2);
  assert.equal(rootWeight(testSpan({ metrics: { _sample_rate: 0.5, '_dd1.sr.rapre': 0.25 } })), 8);
  assert.equal(rootWeight(testSpan({ metrics: { _sample_rate: 2 } })), 1);
  assert.equal(rootWeight(testSpan({ metrics: {} })), 1);
});

test('the processor feeds the sampler with the payload env and the clock', () => {
  let now = NOW_NS;
  const p = new TraceProcessor({ targetTPS: 10, now: () => now });
  for (let i = 0; i < 100; i++) p.process(tracerPayload([chunk([testSpan({ parentId: 0n, spanId: BigInt(i + 1) })], { priority: 1 })], { env: 'prod' }));
  now += 5_000_000_000n;
  p.process(tracerPayload([chunk([testSpan({ parentId: 0n })], { priority: 1 })], { env: 'prod' }));
  // 100 chunks in one bucket: 20 TPS, rate 0.5.
  assert.deepStrictEqual(p.rateByService(), { 'service:django,env:prod': 0.5, 'service:,env:': 0.5 });
});
