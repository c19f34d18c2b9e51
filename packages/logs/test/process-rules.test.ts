import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKennelError } from '@kennel/core';
import { compileProcessingRules, parseProcessingRulesJson } from '../src/process/rules.js';
import { createLogsPipelineCounters, jsonStatus, Processor } from '../src/process/processor.js';
import type { LogMessage } from '../src/types.js';

function msg(content: string, tags: readonly string[] = []): LogMessage {
  return { content: Buffer.from(content), status: 'info', service: 'svc', source: 'src', tags, timestamp: 1, origin: { sourceId: 'test', offset: undefined } };
}

function processorOf(type: string, pattern: string, placeholder = '') {
  const counters = createLogsPipelineCounters();
  const sourceRules = compileProcessingRules([{ type, name: 'test', pattern, replace_placeholder: placeholder }], 'logs[0].log_processing_rules');
  return { p: new Processor({ sourceRules, counters }), counters };
}

function run(p: Processor, content: string): string | null {
  const out = p.process(msg(content));
  if (out === null) return null;
  return typeof out.content === 'string' ? out.content : Buffer.from(out.content).toString();
}

// The cases below are the agent's (pkg/logs/processor/processor_test.go).
test('exclude_at_match drops matching lines and counts them per rule', () => {
  const { p, counters } = processorOf('exclude_at_match', 'world');
  assert.equal(run(p, 'hello'), 'hello');
  assert.equal(run(p, 'world'), null);
  assert.equal(run(p, 'a brand new world'), null);
  assert.equal(counters.rules.get('exclude_at_match:test'), 2);
  const dollar = processorOf('exclude_at_match', '$world').p;
  assert.equal(run(dollar, 'a brand new world'), 'a brand new world');
});

test('include_at_match keeps only matching lines', () => {
  const { p, counters } = processorOf('include_at_match', 'world');
  assert.equal(run(p, 'hello'), null);
  assert.equal(run(p, 'world'), 'world');
  assert.equal(run(p, 'a brand new world'), 'a brand new world');
  assert.equal(counters.rules.get('include_at_match:test'), 2);
  assert.equal(run(processorOf('include_at_match', '^world').p, 'a brand new world'), null);
});

test('a global exclude runs before a source include', () => {
  const counters = createLogsPipelineCounters();
  const globalRules = compileProcessingRules([{ type: 'exclude_at_match', name: 'exclude_bob', pattern: '^bob' }], 'logs_config.processing_rules');
  const sourceRules = compileProcessingRules([{ type: 'include_at_match', name: 'include_datadoghq', pattern: '.*@datadoghq.com$' }], 'logs[0].log_processing_rules');
  const p = new Processor({ globalRules, sourceRules, counters });
  assert.equal(run(p, 'bob@datadoghq.com'), null);
  assert.equal(run(p, 'bill@datadoghq.com'), 'bill@datadoghq.com');
  assert.equal(run(p, 'bob@amail.com'), null);
  assert.equal(run(p, 'bill@amail.com'), null);
  assert.deepEqual(counters.rules.snapshot(), { 'exclude_at_match:exclude_bob': 2, 'include_at_match:include_datadoghq': 1 });
  assert.equal(counters.counters.get('LogsDecoded'), 4);
  assert.equal(counters.counters.get('LogsProcessed'), 1);
});

test('mask_sequences replaces every match, with Go capture group expansion', () => {
  assert.equal(run(processorOf('mask_sequences', 'world', '[masked_world]').p, 'hello'), 'hello');
  assert.equal(run(processorOf('mask_sequences', 'world', '[masked_world]').p, 'hello world!'), 'hello [masked_world]!');
  assert.equal(run(processorOf('mask_sequences', 'User=\\w+@datadoghq.com', '[masked_user]').p, 'new test launched by User=beats@datadoghq.com on localhost'), 'new test launched by [masked_user] on localhost');
  const card = '(?:4[0-9]{12}(?:[0-9]{3})?|[25][1-7][0-9]{14}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\\d{3})\\d{11})';
  assert.equal(run(processorOf('mask_sequences', card, '[masked_credit_card]').p, 'The credit card 4323124312341234 was used to buy some time'), 'The credit card [masked_credit_card] was used to buy some time');
  const { p, counters } = processorOf('mask_sequences', '([Dd]ata_?values=)\\S+', '${1}[masked_value]');
  assert.equal(run(p, 'New data added to Datavalues=123456 on prod'), 'New data added to Datavalues=[masked_value] on prod');
  assert.equal(run(p, 'New data added to data_values=123456 on prod'), 'New data added to data_values=[masked_value] on prod');
  assert.equal(run(p, 'New data added to data_values= on prod'), 'New data added to data_values= on prod');
  assert.equal(counters.rules.get('mask_sequences:test'), 2);
});

test('masks apply one after the other', () => {
  const counters = createLogsPipelineCounters();
  const sourceRules = compileProcessingRules(
    [
      { type: 'mask_sequences', name: 'a', pattern: 'secret=\\w+', replace_placeholder: 'secret=[x]' },
      { type: 'mask_sequences', name: 'b', pattern: '\\[x\\]', replace_placeholder: '[redacted]' },
    ],
    'logs[0].log_processing_rules',
  );
  assert.equal(run(new Processor({ sourceRules, counters }), 'login secret=hunter2 ok'), 'login secret=[redacted] ok');
});

test('exclude_truncated drops lines the decoder cut', () => {
  const counters = createLogsPipelineCounters();
  const p = new Processor({ sourceRules: compileProcessingRules([{ type: 'exclude_truncated', name: 'no_cut' }], 'x'), counters });
  assert.equal(p.process(msg('...TRUNCATED...tail'), true), null);
  assert.notEqual(p.process(msg('whole'), false), null);
  assert.equal(counters.rules.get('exclude_truncated:no_cut'), 1);
});

test('global tags follow the source tags', () => {
  const counters = createLogsPipelineCounters();
  const p = new Processor({ globalTags: ['env:prod', 'team:web'], counters });
  const out = p.process(msg('x', ['filename:app.log']))!;
  assert.deepEqual(out.tags, ['filename:app.log', 'env:prod', 'team:web']);
  assert.equal(typeof out.content === 'string', false, 'untouched content stays bytes');
});

test('JSON logs keep dd.trace_id and dd.span_id as sent', () => {
  const line = '{"message":"served","dd":{"trace_id":"1234567890123456789","span_id":"987654321"},"dd.trace_id":"1234567890123456789","dd.span_id":"987654321"}';
  const { p } = processorOf('mask_sequences', 'served', 'done');
  assert.equal(run(p, line), line.replace('served', 'done'));
});

test('status detection from JSON status or level is off unless asked for', () => {
  const counters = createLogsPipelineCounters();
  assert.equal(new Processor({ counters }).process(msg('{"level":"error","m":1}'))!.status, 'info');
  const p = new Processor({ counters, detectJsonStatus: true });
  assert.equal(p.process(msg('{"level":"error","m":1}'))!.status, 'error');
  assert.equal(p.process(msg('{"status":"WARNING"}'))!.status, 'warn');
  assert.equal(p.process(msg('{"level":30}'))!.status, 'info');
  assert.equal(p.process(msg('not json'))!.status, 'info');
  assert.equal(jsonStatus('{"level":3}'), 'error');
  assert.equal(jsonStatus('{"level":"debug"}'), 'debug');
  assert.equal(jsonStatus('{"level":"fatal"}'), 'emergency');
});

test('configuration errors name the key, the rule and the reason', () => {
  const cases: Array<[unknown, string]> = [
    [[{ type: 'exclude_at_match', pattern: 'x' }], 'logs[0].log_processing_rules[0]: all processing rules must have a name'],
    [[{ name: 'r', pattern: 'x' }], 'logs[0].log_processing_rules[0]: type must be set for processing rule `r`'],
    [[{ name: 'r', type: 'drop', pattern: 'x' }], 'logs[0].log_processing_rules[0]: type drop is not supported for processing rule `r`'],
    [[{ name: 'r', type: 'mask_sequences' }], 'logs[0].log_processing_rules[0]: no pattern provided for processing rule: r'],
    [
      [{ name: 'ok', type: 'exclude_at_match', pattern: 'a' }, { name: 'look', type: 'exclude_at_match', pattern: 'foo(?=bar)' }],
      'logs[0].log_processing_rules[1]: invalid pattern foo(?=bar) for processing rule: look (error parsing regexp: invalid or unsupported Perl syntax: `(?=`; patterns are Go RE2: no lookaround, no backreferences)',
    ],
    [[{ name: 'back', type: 'multi_line', pattern: '(a)\\1' }], 'logs[0].log_processing_rules[0]: invalid pattern (a)\\1 for processing rule: back (error parsing regexp: invalid escape sequence: `\\1`; patterns are Go RE2: no lookaround, no backreferences)'],
  ];
  for (const [rules, message] of cases) {
    assert.throws(() => compileProcessingRules(rules, 'logs[0].log_processing_rules'), (e: unknown) => isKennelError(e) && e.code === 'ERR_CONFIG_INVALID' && e.message === message);
  }
});

test('DD_LOGS_CONFIG_PROCESSING_RULES is read as JSON', () => {
  const rules = parseProcessingRulesJson('[{"type":"exclude_at_match","name":"exclude_healthcheck","pattern":"GET /health"}]');
  assert.equal(rules.length, 1);
  assert.equal(rules[0]!.designation, 'exclude_at_match:exclude_healthcheck');
  assert.throws(() => parseProcessingRulesJson('[{'), /DD_LOGS_CONFIG_PROCESSING_RULES must be a JSON list of processing rules/);
});

test('multi_line patterns get a leading ^, as Go compiles them', () => {
  const [rule] = compileProcessingRules([{ type: 'multi_line', name: 'new_log_start_with_date', pattern: '\\d{4}-(0?[1-9]|1[012])-(0?[1-9]|[12][0-9]|3[01])' }], 'x');
  assert.equal(rule!.regex!.test('2024-01-02 boom'), true);
  assert.equal(rule!.regex!.test('  at 2024-01-02'), false);
  // "^a|b": Go's precedence makes the ^ bind to the first alternative only.
  const [alt] = compileProcessingRules([{ type: 'multi_line', name: 'alt', pattern: 'a|b' }], 'x');
  assert.equal(alt!.regex!.test('xb'), true);
  assert.equal(alt!.regex!.test('xa'), false);
});
