import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_SERVICE_NAME,
  DEFAULT_SPAN_NAME,
  NormalizeError,
  isValidStatusCode,
  normalizeName,
  normalizePeerService,
  normalizeService,
  normalizeTag,
  normalizeTagValue,
  truncateUTF8,
  utf8Length,
} from '../src/index.js';

// Cases from DataDog/datadog-agent pkg/trace/traceutil/normalize/normalize_test.go (TestNormalizeTag).
const TAG_CASES: readonly [string, string][] = [
  ['#test_starting_hash', 'test_starting_hash'],
  ['TestCAPSandSuch', 'testcapsandsuch'],
  ['Test Conversion Of Weird !@#$%^&**() Characters', 'test_conversion_of_weird_characters'],
  ['$#weird_starting', 'weird_starting'],
  ['allowed:c0l0ns', 'allowed:c0l0ns'],
  ['1love', 'love'],
  ['ünicöde', 'ünicöde'],
  ['ünicöde:metäl', 'ünicöde:metäl'],
  ['Data🐨dog🐶 繋がっ⛰てて', 'data_dog_繋がっ_てて'],
  [' spaces   ', 'spaces'],
  [' #hashtag!@#spaces #__<>#  ', 'hashtag_spaces'],
  [':testing', ':testing'],
  ['_foo', 'foo'],
  [':::test', ':::test'],
  ['contiguous_____underscores', 'contiguous_underscores'],
  ['foo_', 'foo'],
  ['\u017Fodd_\u017Fcase\u017F', '\u017Fodd_\u017Fcase\u017F'],
  ['', ''],
  [' ', ''],
  ['ok', 'ok'],
  ['™Ö™Ö™™Ö™', 'ö_ö_ö'],
  ['AlsO:ök', 'also:ök'],
  [':still_ok', ':still_ok'],
  ['___trim', 'trim'],
  ['12.:trim@', ':trim'],
  ['12.:trim@@', ':trim'],
  ['fun:ky__tag/1', 'fun:ky_tag/1'],
  ['fun:ky@tag/2', 'fun:ky_tag/2'],
  ['fun:ky@@@tag/3', 'fun:ky_tag/3'],
  ['tag:1/2.3', 'tag:1/2.3'],
  ['---fun:k####y_ta@#g/1_@@#', 'fun:k_y_ta_g/1'],
  ['AlsO:œ#@ö))œk', 'also:œ_ö_œk'],
  // Go's "test\x99\x8faaa": invalid UTF-8 bytes arrive here as U+FFFD.
  [Buffer.from([0x74, 0x65, 0x73, 0x74, 0x99, 0x8f, 0x61, 0x61, 0x61]).toString('utf8'), 'test_aaa'],
  [Buffer.from([0x74, 0x65, 0x73, 0x74, 0x99, 0x8f]).toString('utf8'), 'test'],
  ['a'.repeat(888), 'a'.repeat(200)],
  ['a' + '🐶'.repeat(799) + 'b', 'a'],
  ['a\uFFFD', 'a'],
  ['a\uFFFD\uFFFD', 'a'],
  ['a\uFFFD\uFFFDb', 'a_b'],
  ['A' + '0'.repeat(197) + ' ' + '0'.repeat(12), 'a' + '0'.repeat(197) + '_0'],
];

test('normalizeTag gives what the agent gives on every case of its TestNormalizeTag', () => {
  for (const [input, output] of TAG_CASES) assert.equal(normalizeTag(input), output, JSON.stringify(input));
});

test('normalizeTagValue keeps a leading digit or invalid run (the agent service cases)', () => {
  // normalize_test.go svcNormCases, through NormalizeService's tag-value normalisation.
  assert.equal(normalizeTagValue('127.0.0.1'), '127.0.0.1');
  assert.equal(normalizeTagValue('🐨animal-db🐶'), '_animal-db');
  assert.equal(normalizeTagValue('🐨1animal-db🐶'), '_1animal-db');
  assert.equal(normalizeTagValue('1🐨1animal-db🐶'), '1_1animal-db');
});

test('normalizeName gives the agent TestNormalizeName results and errors', () => {
  assert.deepStrictEqual(normalizeName(''), { value: DEFAULT_SPAN_NAME, error: NormalizeError.EMPTY });
  assert.deepStrictEqual(normalizeName('good'), { value: 'good', error: NormalizeError.NONE });
  assert.deepStrictEqual(normalizeName('Too-Long-.'.repeat(11)), {
    value: 'Too_Long.'.repeat(10),
    error: NormalizeError.TOO_LONG,
  });
  assert.deepStrictEqual(normalizeName('bad-name'), { value: 'bad_name', error: NormalizeError.NONE });
  // normalizer_test.go TestNormalizeNameNoAlphanumeric and TestNormalizeNameForMetrics.
  assert.deepStrictEqual(normalizeName('/'), { value: DEFAULT_SPAN_NAME, error: NormalizeError.INVALID });
  assert.equal(normalizeName('pylons.controller').value, 'pylons.controller');
  assert.equal(normalizeName('trace-api.request').value, 'trace_api.request');
});

const SERVICE_CASES: readonly [string, string, NormalizeError][] = [
  ['good', 'good', NormalizeError.NONE],
  ['127.0.0.1', '127.0.0.1', NormalizeError.NONE],
  ['127.site.platform-db-replica1', '127.site.platform-db-replica1', NormalizeError.NONE],
  ['hyphenated-service-name', 'hyphenated-service-name', NormalizeError.NONE],
  ['🐨animal-db🐶', '_animal-db', NormalizeError.NONE],
  ['🐨1animal-db🐶', '_1animal-db', NormalizeError.NONE],
  ['1🐨1animal-db🐶', '1_1animal-db', NormalizeError.NONE],
  ['Too$Long$.'.repeat(11), 'too_long_.'.repeat(10), NormalizeError.TOO_LONG],
  ['bad$service', 'bad_service', NormalizeError.NONE],
];

test('normalizeService and normalizePeerService give the agent svcNormCases results', () => {
  for (const [input, value, error] of SERVICE_CASES) {
    assert.deepStrictEqual(normalizeService(input, ''), { value, error }, input);
    assert.deepStrictEqual(normalizePeerService(input), { value, error }, input);
  }
  assert.deepStrictEqual(normalizeService('', ''), { value: DEFAULT_SERVICE_NAME, error: NormalizeError.EMPTY });
  assert.deepStrictEqual(normalizePeerService(''), { value: '', error: NormalizeError.NONE });
});

test('an empty or invalid service falls back to unnamed-<lang>-service', () => {
  // normalizer_test.go TestNormalizeEmptyServiceWithLang.
  assert.deepStrictEqual(normalizeService('', 'java'), { value: 'unnamed-java-service', error: NormalizeError.EMPTY });
  assert.deepStrictEqual(normalizeService('$$$', 'go'), { value: 'unnamed-go-service', error: NormalizeError.INVALID });
  assert.deepStrictEqual(normalizePeerService('$$$'), { value: '', error: NormalizeError.INVALID });
});

test('truncateUTF8 never splits a character (the agent TestTruncateString cases)', () => {
  assert.equal(truncateUTF8('', 5), '');
  assert.equal(truncateUTF8('télé', 5), 'tél');
  assert.equal(truncateUTF8('télé', 2), 't');
  assert.equal(truncateUTF8('ééééé', 5), 'éé');
  assert.equal(truncateUTF8('ééééé', 18), 'ééééé');
  assert.equal(truncateUTF8('ééééé', 10), 'ééééé');
  assert.equal(truncateUTF8('ééééé', 6), 'ééé');
  assert.equal(truncateUTF8('肋', 2), '');
  assert.equal(truncateUTF8('🠠a', 4), '🠠');
  assert.equal(truncateUTF8('⃠⃠a', 6), '⃠⃠');
  assert.equal(truncateUTF8('àa', 2), 'à');
});

test('utf8Length counts bytes as Go len does', () => {
  assert.equal(utf8Length('télé'), 6);
  assert.equal(utf8Length('🐶'), 4);
  assert.equal(utf8Length('\uD800'), 3);
  assert.equal(utf8Length('a'), 1);
});

test('isValidStatusCode accepts integers in [100, 600) only (the agent TestIsValidStatusCode cases)', () => {
  assert.equal(isValidStatusCode('100'), true);
  assert.equal(isValidStatusCode('599'), true);
  assert.equal(isValidStatusCode('99'), false);
  assert.equal(isValidStatusCode('600'), false);
  assert.equal(isValidStatusCode('Invalid status code'), false);
  assert.equal(isValidStatusCode('-200'), false);
  assert.equal(isValidStatusCode(''), false);
});
