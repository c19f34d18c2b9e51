import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GoRegexp, GoRegexpSyntaxError } from '../src/process/go-regexp.js';

interface Fixture {
  inputs: string[];
  cases: Array<{ pattern: string; error?: string; template?: string; match?: boolean[]; replace?: string[] }>;
}
const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/go-regexp.json', import.meta.url), 'utf8')) as Fixture;

test('every pattern matches and replaces as Go regexp does, or is rejected as Go rejects it', () => {
  let checked = 0;
  for (const c of fixture.cases) {
    if (c.error !== undefined) {
      assert.throws(() => new GoRegexp(c.pattern), GoRegexpSyntaxError, `Go rejects ${JSON.stringify(c.pattern)}: ${c.error}`);
      checked++;
      continue;
    }
    const re = new GoRegexp(c.pattern);
    fixture.inputs.forEach((input, i) => {
      assert.equal(re.test(input), c.match![i], `${JSON.stringify(c.pattern)} on ${JSON.stringify(input)}`);
      assert.equal(re.replaceAll(input, c.template!), c.replace![i], `${JSON.stringify(c.pattern)} replace ${JSON.stringify(input)} with ${c.template}`);
      checked++;
    });
  }
  assert.ok(checked > 2000, `checked ${checked}`);
});

test('Go error text names what is unsupported', () => {
  assert.throws(() => new GoRegexp('(?=x)'), { message: 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`' });
  assert.throws(() => new GoRegexp('(a)\\1'), { message: 'error parsing regexp: invalid escape sequence: `\\1`' });
  assert.throws(() => new GoRegexp('a**'), { message: 'error parsing regexp: invalid nested repetition operator: `**`' });
  assert.throws(() => new GoRegexp('a{1001}'), { message: 'error parsing regexp: invalid repeat count: `{1001}`' });
  assert.throws(() => new GoRegexp('[a'), { message: 'error parsing regexp: missing closing ]: `[a`' });
});

test('named groups of both Go spellings expand in replacements', () => {
  assert.equal(new GoRegexp('(?P<user>\\w+)@(?<host>\\w+)').replaceAll('bob@example', '${host}/${user}'), 'example/bob');
  // $1x is the group named "1x" (none): Go takes the longest name.
  assert.equal(new GoRegexp('(a)').replaceAll('a', '$1x'), '');
  assert.equal(new GoRegexp('(a)').replaceAll('a', '${1}x'), 'ax');
});
