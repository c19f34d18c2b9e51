import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { harness, rows } from './helpers.js';

describe('time sampler (as the agent aggregates DogStatsD)', () => {
  test('a counter becomes a rate: the sum of value over rate, divided by 10, at the bucket start', async () => {
    const h = harness();
    h.send(1003.7, 'c:1|c\nc:2|c|@0.5\nc:0.5|c|@0.25');
    const { series } = await h.agg.flush(1015);
    assert.deepEqual(rows(series), ['c|||rate|10|1000=0.7']);
  });

  test('a gauge keeps the last value of the bucket', async () => {
    const h = harness();
    h.send(1000, 'g:5|g\ng:-2|g\ng:+7|g');
    assert.deepEqual(rows((await h.agg.flush(1015)).series), ['g|||gauge|10|1000=7']);
  });

  test('a histogram flushes max, median, avg, count (a rate) and the 95th percentile by default', async () => {
    // histogram_test.go: samples 1,10,4,5,2,2
    const h = harness();
    h.send(1000, 'h:1|h\nh:10|h\nh:4|h\nh:5|h\nh:2|h\nh:2|h');
    assert.deepEqual(rows((await h.agg.flush(1015)).series), [
      'h.95percentile|||gauge|10|1000=10',
      'h.avg|||gauge|10|1000=4',
      'h.count|||rate|10|1000=0.6',
      'h.max|||gauge|10|1000=10',
      'h.median|||gauge|10|1000=2',
    ]);
  });

  test('sample rates weigh histogram samples by int(1/rate), as the agent', async () => {
    // histogram_test.go TestHistogramSampleRate: 1@1, 2@0.5, 3@0.2, 10@0.5
    const h = harness({ histogramAggregates: ['max', 'min', 'median', 'avg', 'sum', 'count'], histogramPercentiles: ['0.20', '0.80', '0.95'] });
    h.send(1000, 'h:1|ms\nh:2|ms|@0.5\nh:3|ms|@0.2\nh:10|ms|@0.5');
    assert.deepEqual(rows((await h.agg.flush(1015)).series), [
      'h.20percentile|||gauge|10|1000=2',
      'h.80percentile|||gauge|10|1000=3',
      'h.95percentile|||gauge|10|1000=10',
      'h.avg|||gauge|10|1000=4',
      'h.count|||rate|10|1000=1',
      'h.max|||gauge|10|1000=10',
      'h.median|||gauge|10|1000=3',
      'h.min|||gauge|10|1000=1',
      'h.sum|||gauge|10|1000=40',
    ]);
  });

  test('a truncated weight makes the average drift, as the agent', async () => {
    const h = harness({ histogramAggregates: ['avg', 'sum', 'count'], histogramPercentiles: [] });
    h.send(1000, 'h:5|h|@0.3');
    const r = rows((await h.agg.flush(1015)).series);
    assert.deepEqual(r, [`h.avg|||gauge|10|1000=${(5 / 0.3) / 3}`, 'h.count|||rate|10|1000=0.3', `h.sum|||gauge|10|1000=${5 / 0.3}`]);
  });

  test('a set counts distinct members', async () => {
    const h = harness();
    h.send(1000, 'u:alice|s\nu:bob|s\nu:alice|s\nu:a:b|s');
    assert.deepEqual(rows((await h.agg.flush(1015)).series), ['u|||gauge|10|1000=3']);
  });

  test('buckets of one context merge into one series with several points', async () => {
    const h = harness();
    h.send(1001, 'g:1|g');
    h.send(1011, 'g:2|g');
    assert.deepEqual(rows((await h.agg.flush(1025)).series), ['g|||gauge|10|1000=1;1010=2']);
  });

  test('the open bucket waits for a later flush, and each bucket is flushed once', async () => {
    const h = harness();
    h.send(1001, 'g:1|g');
    h.send(1012, 'g:2|g');
    assert.deepEqual(rows((await h.agg.flush(1015)).series), ['g|||gauge|10|1000=1']);
    assert.deepEqual(rows((await h.agg.flush(1030)).series), ['g|||gauge|10|1010=2']);
    assert.deepEqual(rows((await h.agg.flush(1045)).series), []);
  });

  test('a counter reports 0 for five minutes after its last sample, then stops', async () => {
    const h = harness();
    h.send(1000, 'c:10|c');
    assert.deepEqual(rows((await h.agg.flush(1015)).series), ['c|||rate|10|1000=1']);
    const zeros: string[] = [];
    for (let t = 1030; t <= 1400; t += 15) zeros.push(...rows((await h.agg.flush(t)).series));
    // With no bucket pending, each flush past a new boundary reports the last closed bucket.
    const stamps = zeros.map((r) => Number(r.split('|').pop()!.split('=')[0]));
    assert.ok(zeros.every((r) => r.endsWith('=0')));
    assert.equal(stamps[0], 1020);
    assert.ok(stamps.at(-1)! < 1300, `last zero at ${stamps.at(-1)}`);
    assert.ok(stamps.at(-1)! >= 1280);
  });

  test('a counter sampled again in a bucket is not doubled by its zero', async () => {
    const h = harness();
    h.send(1000, 'c:10|c');
    await h.agg.flush(1015);
    h.send(1021, 'c:5|c');
    assert.deepEqual(rows((await h.agg.flush(1035)).series), ['c|||rate|10|1020=0.5']);
  });

  test('gauges are not zero-filled', async () => {
    const h = harness();
    h.send(1000, 'g:3|g');
    await h.agg.flush(1015);
    assert.deepEqual(rows((await h.agg.flush(1030)).series), []);
  });

  test('timestamped gauges and counts skip the buckets; other timestamped types are dropped and counted', async () => {
    const h = harness();
    h.send(1000, 'g:3|g|T900\nc:20|c|T901\nh:1|h|T902\nd:1|d|T903\ns:x|s|T904');
    const { series } = await h.agg.flush(1015);
    assert.deepEqual(rows(series), ['c|||rate|10|901=2', 'g|||gauge|10|900=3']);
    const st = h.agg.stats();
    assert.equal(st.NoAggregationProcessedOk, 2);
    assert.equal(st.NoAggregationProcessedUnsupportedType, 3);
  });

  test('the host: tag sets the host and leaves the tags; the last one wins', async () => {
    const h = harness({ defaultHost: 'agent-host' });
    h.send(1000, 'g:1|g|#host:a,env:prod,host:b\ng:2|g|#env:prod\ng:3|g|#env:prod,host:');
    assert.deepEqual(rows((await h.agg.flush(1015)).series), [
      'g|agent-host|env:prod|gauge|10|1000=2',
      'g|b|env:prod|gauge|10|1000=1',
      'g||env:prod|gauge|10|1000=3',
    ]);
  });

  test('the agent-internal origin tags are removed and the extra tags added', async () => {
    const h = harness({ extraTags: ['team:core'] });
    h.send(1000, 'g:1|g|#dd.internal.entity_id:pod-1,dd.internal.card:high,dd.internal.jmx_check_name:jmx,a');
    assert.deepEqual(rows((await h.agg.flush(1015)).series), ['g||a,team:core|gauge|10|1000=1']);
  });

  test('tag order and duplicates do not split a context', async () => {
    const h = harness();
    h.send(1000, 'c:1|c|#a,b\nc:1|c|#b,a\nc:1|c|#a,b,a');
    assert.deepEqual(rows((await h.agg.flush(1015)).series), ['c||a,b|rate|10|1000=0.3']);
  });

  test('the metric type is not part of the context: the first type of a bucket takes the later samples', async () => {
    const h = harness();
    h.send(1000, 'x:1|c\nx:5|g');
    assert.deepEqual(rows((await h.agg.flush(1015)).series), ['x|||rate|10|1000=0.6']);
  });

  test('NaN and infinite values are dropped and counted', async () => {
    const h = harness();
    h.send(1000, 'g:nan|g\ng:+inf|g\nd:-inf|d\ng:1|g');
    assert.deepEqual(rows((await h.agg.flush(1015)).series), ['g|||gauge|10|1000=1']);
    assert.equal(h.agg.stats().NonFiniteSamplesDropped, 3);
  });

  test('a distribution becomes one sketch point per bucket', async () => {
    const h = harness();
    h.send(1000, 'd:1:2:3|d\nd:4|d|@0.5');
    h.send(1010, 'd:10|d');
    const { sketches } = await h.agg.flush(1025);
    assert.equal(sketches.length, 1);
    const s = sketches[0]!;
    assert.deepEqual(
      s.points.map((p) => [p.timestamp, p.count, p.min, p.max, p.sum]),
      [
        [1000, 5, 1, 4, 14],
        [1010, 1, 10, 10, 10],
      ],
    );
    assert.deepEqual(Array.from(s.points[1]!.keys), [1487]);
    assert.equal(s.interval, 10);
  });

  test('past the context limit a new context is dropped and counted; known ones keep flowing', async () => {
    const h = harness({ contextLimit: 2 });
    h.send(1000, 'a:1|c\nb:1|c\nc:1|c\na:1|c');
    assert.deepEqual(rows((await h.agg.flush(1015)).series), ['a|||rate|10|1000=0.2', 'b|||rate|10|1000=0.1']);
    assert.equal(h.agg.stats().ContextsDropped, 1);
  });

  test('a context without samples expires after dogstatsd_context_expiry_seconds and is counted', async () => {
    const h = harness();
    h.send(1000, 'g:1|g');
    await h.agg.flush(1015);
    assert.equal(h.agg.stats().DogstatsdContexts, 1);
    await h.agg.flush(1021);
    assert.equal(h.agg.stats().DogstatsdContexts, 0);
    assert.equal(h.agg.stats().ContextsExpired, 1);
  });

  test('stopping flushes every bucket, the open one included', async () => {
    const h = harness();
    h.send(1000, 'g:1|g');
    h.send(1012, 'g:2|g');
    const last = await h.agg.stop(1013);
    assert.deepEqual(rows(last.series), ['g|||gauge|10|1000=1;1010=2']);
  });

  test('unknown histogram aggregates and bad percentiles are skipped, as the agent', async () => {
    const h = harness({ histogramAggregates: ['max', 'p99', 'count'], histogramPercentiles: ['0.5', 'x', '1.5', '0.999'] });
    h.send(1000, 'h:1|h\nh:3|h');
    assert.deepEqual(rows((await h.agg.flush(1015)).series), [
      'h.100percentile|||gauge|10|1000=3',
      'h.50percentile|||gauge|10|1000=1',
      'h.count|||rate|10|1000=0.2',
      'h.max|||gauge|10|1000=3',
    ]);
  });
});
