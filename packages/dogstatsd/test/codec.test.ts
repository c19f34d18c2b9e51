// Unit tests for the DogStatsD codec: the behaviours of /work/shared/spec/dogstatsd.md §1-§7 that
// the round-trip and differential properties (codec.prop.test.ts) do not pin by themselves.
// Regression tests name the bug they guard against and give its minimal input.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CollectingVisitor, DogStatsDCodec, parsePacket } from '../src/index.js';
import type {
  DecodedError,
  DecodedEvent,
  DecodedMessage,
  DecodedMetric,
  DecodedServiceCheck,
  DogStatsDCodecOptions,
  DogStatsDCounterName,
} from '../src/index.js';

const encoder = new TextEncoder();

function metric(
  name: string,
  type: DecodedMetric['type'],
  values: DecodedMetric['values'],
  extra: Partial<Omit<DecodedMetric, 'kind' | 'name' | 'type' | 'values'>> = {},
): DecodedMetric {
  return {
    kind: 'metric',
    name,
    type,
    values,
    sampleRate: 1,
    tags: [],
    timestamp: null,
    containerId: null,
    externalData: null,
    cardinality: null,
    ...extra,
  };
}

function event(
  title: string,
  text: string,
  extra: Partial<Omit<DecodedEvent, 'kind' | 'title' | 'text'>> = {},
): DecodedEvent {
  return {
    kind: 'event',
    title,
    text,
    timestamp: 0,
    hostname: '',
    aggregationKey: '',
    priority: 'normal',
    sourceType: '',
    alertType: 'info',
    tags: [],
    ...extra,
  };
}

function check(
  name: string,
  status: DecodedServiceCheck['status'],
  extra: Partial<Omit<DecodedServiceCheck, 'kind' | 'name' | 'status'>> = {},
): DecodedServiceCheck {
  return { kind: 'service_check', name, status, timestamp: 0, hostname: '', message: '', tags: [], ...extra };
}

type Reason = DecodedError['reason'];
const metricError = (reason: Reason): DecodedError => ({ kind: 'error', reason, counter: 'MetricParseErrors' });
const eventError = (reason: Reason): DecodedError => ({ kind: 'error', reason, counter: 'EventParseErrors' });
const checkError = (reason: Reason): DecodedError => ({ kind: 'error', reason, counter: 'ServiceCheckParseErrors' });

/** Decodes with a fresh codec and returns the messages, the counters and the reasons. */
function run(packet: string, options: DogStatsDCodecOptions = {}, eolRequired = false) {
  const buf = encoder.encode(packet);
  const codec = new DogStatsDCodec(options);
  const out = new CollectingVisitor();
  codec.decode(buf, 0, buf.length, out, eolRequired);
  return { messages: out.messages, counters: codec.counters.snapshot(), byReason: codec.errorsByReason() };
}

function counters(partial: Partial<Record<DogStatsDCounterName, number>>): Record<DogStatsDCounterName, number> {
  return {
    MetricPackets: 0,
    MetricParseErrors: 0,
    EventPackets: 0,
    EventParseErrors: 0,
    ServiceCheckPackets: 0,
    ServiceCheckParseErrors: 0,
    UnterminatedMetricErrors: 0,
    ...partial,
  };
}

function one(line: string, options: DogStatsDCodecOptions = {}): DecodedMessage {
  const out = parsePacket(line, options);
  assert.equal(out.length, 1, `one message from ${JSON.stringify(line)}`);
  return out[0]!;
}

describe('metric grammar (spec §2)', () => {
  test('a metric name is not validated: spaces, quotes and unicode are kept', () => {
    assert.deepEqual(one('my metric "q\'s":1|g'), metric('my metric "q\'s"', 'gauge', [1]));
    assert.deepEqual(one('métrique.😀:2|c'), metric('métrique.😀', 'counter', [2]));
  });

  test('the type must be exactly one of g c h d s ms', () => {
    assert.deepEqual(
      parsePacket('a:1|g\na:1|c\na:1|h\na:1|d\na:1|s\na:1|ms').map((m) => (m.kind === 'metric' ? m.type : m.kind)),
      ['gauge', 'counter', 'histogram', 'distribution', 'set', 'timing'],
    );
    for (const bad of ['a:1|G', 'a:1|g ', 'a:1|cx', 'a:1|', 'a:1||g', 'a:1|m', 'a:1|msx', 'a:1|MS']) {
      assert.deepEqual(one(bad), metricError('metric_invalid_type'), bad);
    }
  });

  test('a set member is the whole raw value, colons included', () => {
    assert.deepEqual(one('daemon:abc:def|s'), metric('daemon', 'set', ['abc:def']));
    assert.deepEqual(one('users:1.5e3|s'), metric('users', 'set', ['1.5e3']));
  });

  test('a value list is split on colons with empty entries skipped', () => {
    assert.deepEqual(one('m:1::2:|d'), metric('m', 'distribution', [1, 2]));
    assert.deepEqual(one('m::7|c'), metric('m', 'counter', [7]));
    assert.deepEqual(one('m:::|c'), metricError('metric_no_values'));
  });

  test('one bad entry fails the whole value list', () => {
    assert.deepEqual(one('m:1:x:2|c'), metricError('metric_invalid_value'));
    assert.deepEqual(one('m:1:1e400|h'), metricError('metric_invalid_value'));
  });

  test('each malformed first field has its own reason', () => {
    assert.deepEqual(one('a:1'), metricError('metric_no_pipe'));
    assert.deepEqual(one('nothing'), metricError('metric_no_pipe'));
    assert.deepEqual(one('a|g'), metricError('metric_no_colon'));
    assert.deepEqual(one(':1|g'), metricError('metric_empty_name'));
    assert.deepEqual(one('a:|g'), metricError('metric_empty_value'));
    assert.deepEqual(one('a:x|g'), metricError('metric_invalid_value'));
  });

  test('tags are split on commas only, keeping colons and empty items', () => {
    assert.deepEqual((one('m:1|g|#a:b:c,,d') as DecodedMetric).tags, ['a:b:c', '', 'd']);
    assert.deepEqual((one('m:1|g|#') as DecodedMetric).tags, []);
    assert.deepEqual((one('m:1|g|#,') as DecodedMetric).tags, ['', '']);
    assert.deepEqual((one('m:1|g|# Spaced ,UPPER') as DecodedMetric).tags, [' Spaced ', 'UPPER']);
  });

  test('the last # field wins and replaces the tags rather than merging them', () => {
    assert.deepEqual(one('m:1|g|#a,b|@0.5|#c'), metric('m', 'gauge', [1], { sampleRate: 0.5, tags: ['c'] }));
    assert.deepEqual(one('m:1|g|#a,b|#'), metric('m', 'gauge', [1]));
  });

  test('empty and unknown fields are skipped', () => {
    assert.deepEqual(
      one('m:1|c||#a||f:x|m:meta|d:5|t|@0.25|'),
      metric('m', 'counter', [1], { sampleRate: 0.25, tags: ['a'] }),
    );
  });

  test('fields are read in any order, the last @ winning', () => {
    assert.deepEqual(
      one('m:3|ms|@0.5|#x|T1700000000|@0.1'),
      metric('m', 'timing', [3], { sampleRate: 0.1, tags: ['x'], timestamp: 1700000000 }),
    );
  });

  test('@ is parsed as a Go float and not range-checked', () => {
    const rate = (r: string) => (one(`m:1|c|${r}`) as DecodedMetric).sampleRate;
    const rates = ['@0', '@-1', '@2.5', '@1e3', '@nan', '@+Inf', '@.5'].map(rate);
    assert.deepEqual(rates, [0, -1, 2.5, 1000, NaN, Infinity, 0.5]);
    for (const bad of ['@', '@x', '@ 1', '@1,5', '@0x10', '@1e400']) {
      assert.deepEqual(one(`m:1|c|${bad}`), metricError('metric_invalid_sample_rate'), bad);
    }
  });

  test('|T is read by default and must be a base-10 integer above 0', () => {
    assert.deepEqual(one('m:1|g|T1700000000'), metric('m', 'gauge', [1], { timestamp: 1700000000 }));
    assert.deepEqual((one('m:1|g|T+42') as DecodedMetric).timestamp, 42);
    assert.deepEqual((one('m:1|g|T1|T2') as DecodedMetric).timestamp, 2);
    for (const bad of ['T', 'Tabc', 'T1.5', 'T1e9', 'T 1', 'T1_000', 'T99999999999999999999']) {
      assert.deepEqual(one(`m:1|g|${bad}`), metricError('metric_invalid_timestamp'), bad);
    }
    for (const bad of ['T0', 'T-5', 'T-0']) {
      assert.deepEqual(one(`m:1|g|${bad}`), metricError('metric_timestamp_not_positive'), bad);
    }
  });

  test('|T is skipped unparsed, even malformed, when noAggregationPipeline is false', () => {
    const off = { noAggregationPipeline: false };
    for (const t of ['T1700000000', 'Tabc', 'T0', 'T-5', 'T', 'T1.5']) {
      assert.deepEqual(one(`m:1|g|${t}|#a`, off), metric('m', 'gauge', [1], { tags: ['a'] }), t);
    }
  });

  test('c:, e: and card: are ignored when originDetectionClient is false', () => {
    const line = 'm:1|g|c:ci-abc,in-42|e:it-false,cn-web|card:high';
    assert.deepEqual(one(line), metric('m', 'gauge', [1]));
    assert.deepEqual(one(line, { originDetectionClient: false }), metric('m', 'gauge', [1]));
  });

  test('c:, e: and card: are kept raw when originDetectionClient is true, the last one winning', () => {
    const on = { originDetectionClient: true };
    assert.deepEqual(
      one('m:1|g|c:ci-abc,in-42|e:it-false,cn-web|card:high|card:low', on),
      metric('m', 'gauge', [1], { containerId: 'ci-abc,in-42', externalData: 'it-false,cn-web', cardinality: 'low' }),
    );
    assert.deepEqual(
      one('m:1|g|c:|e:|card:', on),
      metric('m', 'gauge', [1], { containerId: '', externalData: '', cardinality: '' }),
    );
    assert.deepEqual(one('m:1|g|c|e|ex|env|card|cardx|ca|C:x|E:x|cx:y', on), metric('m', 'gauge', [1]));
  });

  test('NaN and infinite values are accepted and counted as samples', () => {
    const r = run('m:nan|g\nm:-inf|c\nm:Infinity:NaN|h\n');
    assert.deepEqual(r.messages, [
      metric('m', 'gauge', [NaN]),
      metric('m', 'counter', [-Infinity]),
      metric('m', 'histogram', [Infinity, NaN]),
    ]);
    assert.equal(r.counters.MetricPackets, 4);
  });

  test('+5 and -5 on a gauge are plain values', () => {
    assert.deepEqual(parsePacket('g:+5|g\ng:-5|g'), [metric('g', 'gauge', [5]), metric('g', 'gauge', [-5])]);
  });
});

describe('message classification (spec §1)', () => {
  test('_e:title|text is counted as a metric error, not an event error', () => {
    const r = run('_e:title|text');
    assert.deepEqual(r.messages, [metricError('metric_invalid_type')]);
    assert.deepEqual(r.counters, counters({ MetricParseErrors: 1 }));
  });

  test('a line starting with _sc is a service check even when it looks like a metric', () => {
    const r = run('_scores:1|c');
    assert.deepEqual(r.messages, [checkError('service_check_invalid_format')]);
    assert.deepEqual(r.counters, counters({ ServiceCheckParseErrors: 1 }));
  });

  test('a name that merely contains _e{ or _sc is a metric', () => {
    assert.deepEqual(parsePacket('x_e{:1|g\nx_sc:1|g'), [metric('x_e{', 'gauge', [1]), metric('x_sc', 'gauge', [1])]);
  });
});

describe('events (spec §4)', () => {
  test('every optional field is read, in any order', () => {
    assert.deepEqual(
      one('_e{5,4}:title|text|#a,b|t:warning|s:src|p:low|k:key|h:host|d:1700000000'),
      event('title', 'text', {
        timestamp: 1700000000,
        hostname: 'host',
        aggregationKey: 'key',
        priority: 'low',
        sourceType: 'src',
        alertType: 'warning',
        tags: ['a', 'b'],
      }),
    );
  });

  test('lengths are UTF-8 byte counts', () => {
    // é is 2 bytes, 😀 4: the title is 6 bytes, the text 6 ("héllo").
    assert.deepEqual(one('_e{6,6}:é😀|héllo'), event('é😀', 'héllo'));
    // The JavaScript length of "héllo" (5) cuts its last byte off; the "o" becomes an unknown field.
    assert.deepEqual(one('_e{6,5}:é😀|héllo'), event('é😀', 'héll'));
  });

  test('the title and text may hold | and :, because they are cut by length', () => {
    assert.deepEqual(one('_e{3,5}:a|b|c:d|e|h:x'), event('a|b', 'c:d|e', { hostname: 'x' }));
  });

  test('a shorter declared text length truncates the text and parses the rest as fields', () => {
    // Text length 2: the text is "te"; what follows ("#x,y") is read as the first optional field.
    assert.deepEqual(one('_e{5,2}:title|te#x,y|p:low'), event('title', 'te', { tags: ['x', 'y'], priority: 'low' }));
    // The agent's own telemetry test sends "_e{10,10}:event title|test\\ntext|..." and counts it as OK:
    // title "event titl", text the next 10 bytes after one unchecked byte.
    assert.deepEqual(one('_e{10,10}:event title|test\\ntext|c:event-container'), event('event titl', '|test\ntex'));
  });

  test('a text length of 0 is allowed', () => {
    assert.deepEqual(one('_e{1,0}:a|'), event('a', ''));
    assert.deepEqual(one('_e{1,0}:a||h:x'), event('a', '', { hostname: 'x' }));
  });

  test('neither the closing brace nor the byte after the title is checked', () => {
    assert.deepEqual(one('_e{1,1]:a|b'), event('a', 'b'));
    assert.deepEqual(one('_e{1,1}:aXb'), event('a', 'b'));
    assert.deepEqual(one('_e{+1,01}:a|b'), event('a', 'b'));
  });

  test('the two bytes \\ n in title and text become a newline', () => {
    assert.deepEqual(one('_e{12,7}:line1\\nline2|a\\nb\\nc'), event('line1\nline2', 'a\nb\nc'));
    assert.deepEqual(one('_e{3,1}:a\\\\|n'), event('a\\\\', 'n'));
  });

  test('invalid field values are logged and ignored, keeping the previous value', () => {
    assert.deepEqual(
      one('_e{1,1}:a|b|d:100|d:abc|d:|p:low|p:urgent|p:LOW|t:error|t:test|t:Info'),
      event('a', 'b', { timestamp: 100, priority: 'low', alertType: 'error' }),
    );
  });

  test('d: takes a signed base-10 integer', () => {
    assert.deepEqual((one('_e{1,1}:a|b|d:-5') as DecodedEvent).timestamp, -5);
    assert.deepEqual((one('_e{1,1}:a|b|d:+5') as DecodedEvent).timestamp, 5);
    assert.deepEqual((one('_e{1,1}:a|b|d:1.5') as DecodedEvent).timestamp, 0);
  });

  test('origin fields and unknown fields of an event are skipped', () => {
    const on = { originDetectionClient: true };
    assert.deepEqual(one('_e{1,1}:a|b|c:ci-x|e:it-true|card:high|m:msg|x', on), event('a', 'b'));
  });

  test('each malformed header has its own reason', () => {
    assert.deepEqual(one('_e{1,1}'), eventError('event_no_colon'));
    assert.deepEqual(one('_e{1}:ab'), eventError('event_invalid_header'));
    assert.deepEqual(one('_e{111}:ab'), eventError('event_invalid_header'));
    assert.deepEqual(one('_e{-1,1}:a|b'), eventError('event_invalid_header'));
    assert.deepEqual(one('_e{1,-1}:a|b'), eventError('event_invalid_header'));
    assert.deepEqual(one('_e{1,x}:a|b'), eventError('event_invalid_header'));
    assert.deepEqual(one('_e{ 1,1}:a|b'), eventError('event_invalid_header'));
    assert.deepEqual(one('_e{0,1}:|b'), eventError('event_empty_title'));
    assert.deepEqual(one('_e{5,5}:ab|cd'), eventError('event_too_short'));
    assert.deepEqual(one('_e{1,0}:a'), eventError('event_too_short'));
  });
});

describe('service checks (spec §4)', () => {
  test('the status must be exactly 0, 1, 2 or 3', () => {
    assert.deepEqual(parsePacket('_sc|a|0\n_sc|a|1\n_sc|a|2\n_sc|a|3'), [
      check('a', 0),
      check('a', 1),
      check('a', 2),
      check('a', 3),
    ]);
    for (const bad of ['4', '21', '01', 'OK', '-1', ' 0', '0 ', '']) {
      assert.deepEqual(one(`_sc|a|${bad}`), checkError('service_check_invalid_status'), JSON.stringify(bad));
      assert.deepEqual(one(`_sc|a|${bad}|m:x`), checkError('service_check_invalid_status'), JSON.stringify(bad));
    }
  });

  test('m: is read anywhere, the last field of a kind wins, and an invalid d: is ignored', () => {
    assert.deepEqual(
      one('_sc|svc.up|1|m:first|d:5|h:host|#a|d:x|#b,c|m:second:with:colons'),
      check('svc.up', 1, { timestamp: 5, hostname: 'host', message: 'second:with:colons', tags: ['b', 'c'] }),
    );
  });

  test('empty and unknown service check fields are skipped', () => {
    assert.deepEqual(one('_sc|a|2||k:x|s:y|c:z|'), check('a', 2));
  });

  test('the first four bytes are dropped without checking the fourth', () => {
    assert.deepEqual(one('_scXa|0|'), check('a', 0));
  });

  test('each malformed service check has its own reason', () => {
    assert.deepEqual(one('_sc|a'), checkError('service_check_invalid_format'));
    assert.deepEqual(one('_sc'), checkError('service_check_invalid_format'));
    assert.deepEqual(one('_sc||0'), checkError('service_check_empty_name'));
  });
});

describe('framing (spec §1)', () => {
  test('eolRequired drops an unterminated last line and counts UnterminatedMetricErrors', () => {
    const r = run('a:1|c\nb:2|c', {}, true);
    assert.deepEqual(r.messages, [
      metric('a', 'counter', [1]),
      { kind: 'error', reason: 'unterminated_line', counter: 'UnterminatedMetricErrors' },
    ]);
    assert.deepEqual(r.counters, counters({ MetricPackets: 1, UnterminatedMetricErrors: 1 }));
    assert.deepEqual(r.byReason, { unterminated_line: 1 });
  });

  test('eolRequired accepts a packet whose last line is terminated', () => {
    const r = run('a:1|c\nb:2|c\r\n', {}, true);
    assert.deepEqual(r.messages, [metric('a', 'counter', [1]), metric('b', 'counter', [2])]);
    assert.deepEqual(r.counters, counters({ MetricPackets: 2 }));
  });

  test('without eolRequired an unterminated last line is parsed, its trailing CR dropped', () => {
    assert.deepEqual(parsePacket('a:1|c\nb:2|g|#t\r'), [
      metric('a', 'counter', [1]),
      metric('b', 'gauge', [2], { tags: ['t'] }),
    ]);
  });

  test('a bad line does not cost its neighbours', () => {
    const r = run('a:1|c\nbad\n_e{5,5}:ab|cd\nb:2|g\n_sc|x\n_sc|ok|0\n');
    assert.deepEqual(r.messages, [
      metric('a', 'counter', [1]),
      metricError('metric_no_pipe'),
      eventError('event_too_short'),
      metric('b', 'gauge', [2]),
      checkError('service_check_invalid_format'),
      check('ok', 0),
    ]);
    assert.deepEqual(
      r.counters,
      counters({
        MetricPackets: 2,
        MetricParseErrors: 1,
        EventParseErrors: 1,
        ServiceCheckPackets: 1,
        ServiceCheckParseErrors: 1,
      }),
    );
  });

  test('one CR before the newline is dropped, and a CR anywhere else is data', () => {
    assert.deepEqual(parsePacket('a:1|g|#x\r\r\nb:2|g|#\ry\n'), [
      metric('a', 'gauge', [1], { tags: ['x\r'] }),
      metric('b', 'gauge', [2], { tags: ['\ry'] }),
    ]);
  });

  test('empty lines are skipped without counting an error', () => {
    const r = run('\n\r\n\na:1|c\n\n\r\n');
    assert.deepEqual(r.messages, [metric('a', 'counter', [1])]);
    assert.deepEqual(r.counters, counters({ MetricPackets: 1 }));
  });
});

describe('counters (spec §7)', () => {
  test('MetricPackets counts 3 for a 3-value line and 1 for a set', () => {
    assert.deepEqual(run('m:1:2:3|h').counters, counters({ MetricPackets: 3 }));
    assert.deepEqual(run('m:1::2:|d').counters, counters({ MetricPackets: 2 }));
    assert.deepEqual(run('u:a:b:c|s').counters, counters({ MetricPackets: 1 }));
    assert.deepEqual(
      run('m:1:2:3|h\nu:a:b|s\n_e{1,1}:a|b\n_sc|a|0').counters,
      counters({ MetricPackets: 4, EventPackets: 1, ServiceCheckPackets: 1 }),
    );
  });

  test('counters accumulate across packets on one codec', () => {
    const codec = new DogStatsDCodec();
    const out = new CollectingVisitor();
    for (const p of ['a:1|c\n', 'a:1:2|c\nbad\n', '_sc|x|9']) {
      const b = encoder.encode(p);
      codec.decode(b, 0, b.length, out);
    }
    assert.deepEqual(
      codec.counters.snapshot(),
      counters({ MetricPackets: 3, MetricParseErrors: 1, ServiceCheckParseErrors: 1 }),
    );
  });

  test('errorsByReason() labels each rejection with its reason', () => {
    const packet = [
      'a:1',
      'a|g',
      ':1|g',
      'a:|g',
      'a:1|x',
      'a:x|g',
      'a:::|g',
      'a:1|c|@x',
      'a:1|g|Tx',
      'a:1|g|T0',
      'a:1|g|T-1',
      '_e{1,1}',
      '_e{1}:ab',
      '_e{0,1}:|b',
      '_e{5,5}:ab|cd',
      '_sc|a',
      '_sc||0',
      '_sc|a|4',
      'ok:1|c',
      'unterminated:1|c',
    ].join('\n');
    const r = run(packet, {}, true);
    assert.deepEqual(r.byReason, {
      metric_no_pipe: 1,
      metric_no_colon: 1,
      metric_empty_name: 1,
      metric_empty_value: 1,
      metric_invalid_type: 1,
      metric_invalid_value: 1,
      metric_no_values: 1,
      metric_invalid_sample_rate: 1,
      metric_invalid_timestamp: 1,
      metric_timestamp_not_positive: 2,
      event_no_colon: 1,
      event_invalid_header: 1,
      event_empty_title: 1,
      event_too_short: 1,
      service_check_invalid_format: 1,
      service_check_empty_name: 1,
      service_check_invalid_status: 1,
      unterminated_line: 1,
    });
    assert.deepEqual(
      r.counters,
      counters({
        MetricPackets: 1,
        MetricParseErrors: 11,
        EventParseErrors: 4,
        ServiceCheckParseErrors: 3,
        UnterminatedMetricErrors: 1,
      }),
    );
  });

  test('errorsByReason() is empty when nothing was rejected', () => {
    assert.deepEqual(run('a:1|c\n').byReason, {});
  });
});

describe('regressions', () => {
  // @kennel/core decodeString uses `new TextDecoder('utf-8')` without `ignoreBOM: true`, so a
  // string whose first bytes are EF BB BF loses them. Go's string(bytes) keeps them.
  // Minimal input: "\uFEFFx:1|g" gives the name "x".
  test('keeps a leading U+FEFF in names, tags and event text, as Go keeps the bytes (regression: TextDecoder dropped it as a BOM)', () => {
    assert.deepEqual(one('\uFEFFx:1|g'), metric('\uFEFFx', 'gauge', [1]));
    assert.deepEqual(one('x:1|g|#\uFEFFa'), metric('x', 'gauge', [1], { tags: ['\uFEFFa'] }));
    assert.deepEqual(one('x:\uFEFFm|s'), metric('x', 'set', ['\uFEFFm']));
    assert.deepEqual(one('_e{4,1}:\uFEFFa|b'), event('\uFEFFa', 'b'));
    assert.deepEqual(one('_sc|\uFEFFa|0'), check('\uFEFFa', 0));
  });

  // numbers.ts parseIntBytes returns `neg ? -v : v`, which is -0 for "-0"; Go's int64 has no
  // negative zero. Minimal input: "_e{1,1}:a|b|d:-0" gives timestamp -0.
  test('reads d:-0 as a timestamp of 0, not -0 (regression)', () => {
    assert.ok(Object.is((one('_e{1,1}:a|b|d:-0') as DecodedEvent).timestamp, 0));
    assert.ok(Object.is((one('_sc|a|0|d:-0') as DecodedServiceCheck).timestamp, 0));
  });

  // numbers.ts parseIntBytes computes v = v * 10 + d in doubles below 19 digits, so integers above
  // 2^53 are rounded at each step. Minimal input: "m:1|g|T123456789012345678" gives
  // 123456789012345700; the nearest double (Number('123456789012345678')) is 123456789012345680.
  test('reads a 17-18 digit |T or d: value as the nearest double (regression)', () => {
    assert.equal((one('m:1|g|T123456789012345678') as DecodedMetric).timestamp, 123456789012345680);
    assert.equal((one('_e{1,1}:a|b|d:999999999999999999') as DecodedEvent).timestamp, 1e18);
  });
});
