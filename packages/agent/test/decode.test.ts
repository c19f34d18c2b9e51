import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeCommand } from '../src/commands/decode.js';

const bin = fileURLToPath(new URL('../../bin/kennel.js', import.meta.url));

async function decode(input: string, options: { raw?: boolean; count?: boolean; transport?: 'udp' | 'uds' } = {}, env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const code = await decodeCommand(
    {
      stdin: (async function* () {
        yield input;
      })(),
      write: (s) => (out += s),
      warn: (s) => (err += s),
    },
    { raw: options.raw ?? false, count: options.count ?? false, transport: options.transport ?? 'udp' },
    env,
  );
  return { code, lines: out.trim() === '' ? [] : out.trim().split('\n').map((l) => JSON.parse(l)), err };
}

describe('kennel decode', () => {
  test('prints one object per message, each with its input line as packet', async () => {
    const r = await decode(['"a:1|c|@0.5|#env:prod"', '"b:2|g\\nbad\\n_sc|check|2|m:down"'].join('\n') + '\n');
    assert.equal(r.code, 0);
    assert.deepEqual(r.lines, [
      { packet: 0, kind: 'metric', name: 'a', type: 'counter', values: [1], sampleRate: 0.5, tags: ['env:prod'], timestamp: null, containerId: null, externalData: null, cardinality: null },
      { packet: 1, kind: 'metric', name: 'b', type: 'gauge', values: [2], sampleRate: 1, tags: [], timestamp: null, containerId: null, externalData: null, cardinality: null },
      { packet: 1, kind: 'error', reason: 'metric_no_pipe', counter: 'MetricParseErrors' },
      { packet: 1, kind: 'service_check', name: 'check', status: 2, timestamp: 0, hostname: '', message: 'down', tags: [] },
    ]);
  });

  test('spells NaN and the infinities as strings', async () => {
    const r = await decode('"x:nan:+Inf:-infinity|h"\n');
    assert.deepEqual(r.lines[0].values, ['NaN', '+Inf', '-Inf']);
  });

  test('prints events with their byte-length title and text', async () => {
    const r = await decode(JSON.stringify('_e{6,5}:héllo|wörl|p:low|#a') + '\n');
    assert.deepEqual(r.lines, [
      { packet: 0, kind: 'event', title: 'héllo', text: 'wörl', timestamp: 0, hostname: '', aggregationKey: '', priority: 'low', sourceType: '', alertType: 'info', tags: ['a'] },
    ]);
  });

  test('reports a line that is not a JSON string, skips it and exits 1', async () => {
    const r = await decode('a:1|c\n"b:1|c"\n');
    assert.equal(r.code, 1);
    assert.match(r.err, /input line 0 is not a JSON string/);
    assert.equal(r.lines.length, 1);
    assert.equal(r.lines[0].packet, 1);
  });

  test('cuts a datagram at DD_DOGSTATSD_BUFFER_SIZE bytes as the listener would', async () => {
    const r = await decode('"abc:1|c\\nlonger:2|c"\n', {}, { DD_DOGSTATSD_BUFFER_SIZE: '12' });
    // "abc:1|c\nlong" : the cut last line has no "|" and is a metric parse error.
    assert.deepEqual(r.lines.map((l) => l.kind === 'error' ? l.reason : l.name), ['abc', 'metric_no_pipe']);
  });

  test('drops an unterminated last line when the transport requires an end of line', async () => {
    const r = await decode('"a:1|c\\nb:1|c"\n', { count: true, transport: 'uds' }, { DD_DOGSTATSD_EOL_REQUIRED: 'uds' });
    assert.equal(r.lines[0].counters.UnterminatedMetricErrors, 1);
    assert.equal(r.lines[0].metric, 1);
  });

  test('counts raw text by kind and by error reason', async () => {
    const r = await decode('a:1:2:3|d\r\nb:x|g\n\n_e{1,1}:a|b\n_sc|s|9\nc:1|q', { raw: true, count: true });
    assert.deepEqual(r.lines, [
      {
        messages: 5,
        metric: 1,
        event: 1,
        service_check: 0,
        error: 3,
        errors: { metric_invalid_type: 1, metric_invalid_value: 1, service_check_invalid_status: 1 },
        counters: {
          MetricPackets: 3,
          MetricParseErrors: 2,
          EventPackets: 1,
          EventParseErrors: 0,
          ServiceCheckPackets: 0,
          ServiceCheckParseErrors: 1,
          UnterminatedMetricErrors: 0,
        },
      },
    ]);
  });

  test('stops with a message naming the key when a DD_ value is malformed', async () => {
    await assert.rejects(decode('"a:1|c"\n', {}, { DD_DOGSTATSD_NO_AGGREGATION_PIPELINE: 'maybe' }), /DD_DOGSTATSD_NO_AGGREGATION_PIPELINE: expected a boolean/);
  });

  test('runs as the kennel binary over real stdin and stdout', () => {
    const r = spawnSync(process.execPath, [bin, 'decode'], { input: '"a:1|c|T1700000000"\n', encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      packet: 0, kind: 'metric', name: 'a', type: 'counter', values: [1], sampleRate: 1, tags: [], timestamp: 1700000000, containerId: null, externalData: null, cardinality: null,
    });
  });
});
