import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterSet, CounterMap, KennelError, ErrorCode, isKennelError, parseErrorByCode, ParseError } from '../src/index.js';

test('a counter set snapshots and merges by name', () => {
  const a = new CounterSet('dogstatsd', ['MetricPackets', 'EventPackets'] as const);
  a.values[a.index('MetricPackets')]! += 3;
  a.add('EventPackets');
  assert.deepEqual(a.snapshot(), { MetricPackets: 3, EventPackets: 1 });
  const b = new CounterSet('dogstatsd', ['MetricPackets', 'EventPackets'] as const);
  b.merge(a.snapshot());
  b.merge({ MetricPackets: 2 });
  assert.equal(b.get('MetricPackets'), 5);
});

test('a counter set refuses a name declared twice', () => {
  assert.throws(() => new CounterSet('x', ['a', 'a']), /declared twice/);
});

test('a counter map counts by key', () => {
  const m = new CounterMap();
  m.add('413');
  m.add('413', 2);
  assert.deepEqual(m.snapshot(), { '413': 3 });
});

test('kennel errors carry a code and are recognised by brand', () => {
  const e = new KennelError(ErrorCode.CONFIG_INVALID, 'DD_X: expected a boolean');
  assert.equal(e.code, 'ERR_CONFIG_INVALID');
  assert.ok(isKennelError(e));
  assert.ok(!isKennelError(new Error('x')));
});

test('every parse error code maps to a reason and the agent counter it bumps', () => {
  assert.deepEqual(parseErrorByCode(ParseError.METRIC_INVALID_TYPE), {
    code: 5,
    reason: 'metric_invalid_type',
    counter: 'MetricParseErrors',
    text: 'the metric type is not one of g c h d s ms',
  });
  assert.equal(parseErrorByCode(ParseError.UNTERMINATED_LINE).counter, 'UnterminatedMetricErrors');
  for (const code of Object.values(ParseError)) assert.equal(parseErrorByCode(code).code, code);
});
