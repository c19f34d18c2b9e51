// Runs the Datadog Agent's own DogStatsD parser and packet tests, turned into data
// (test/fixtures/dogstatsd/*.jsonl, described in the README there), against `parsePacket`.
// One test per fixture case, grouped by fixture file.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePacket, toJsonValue } from '@kennel/dogstatsd';
import type { DecodedMessage } from '@kennel/dogstatsd';

// The compiled file runs from test/dist/corpus/; the fixtures stay in test/fixtures/.
const FIXTURE_DIR = fileURLToPath(new URL('../../fixtures/dogstatsd/', import.meta.url));

interface CaseConfig {
  readonly noAggregationPipeline?: boolean;
  readonly originDetectionClient?: boolean;
  readonly eolRequired?: boolean;
}

interface FixtureCase {
  readonly name: string;
  readonly source: string;
  readonly config?: CaseConfig;
  readonly datagram: string;
  readonly expect: readonly Record<string, unknown>[];
}

/** The keys each expected message kind must carry, all of them, always. */
const SHAPES: Record<string, readonly string[]> = {
  metric: ['kind', 'name', 'type', 'values', 'sampleRate', 'tags', 'timestamp', 'containerId', 'externalData', 'cardinality'],
  event: ['kind', 'title', 'text', 'timestamp', 'hostname', 'aggregationKey', 'priority', 'sourceType', 'alertType', 'tags'],
  service_check: ['kind', 'name', 'status', 'timestamp', 'hostname', 'message', 'tags'],
  error: ['kind', 'reason', 'counter'],
};
const CONFIG_KEYS = new Set(['noAggregationPipeline', 'originDetectionClient', 'eolRequired']);

/** The JSON form of decoded messages: NaN and ±Inf in values and sampleRate become "NaN", "+Inf", "-Inf". */
function toJsonShape(messages: readonly DecodedMessage[]): Record<string, unknown>[] {
  return messages.map((m) => toJsonValue(m));
}

function loadCases(file: string): FixtureCase[] {
  const text = readFileSync(join(FIXTURE_DIR, file), 'utf8');
  const cases: FixtureCase[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      cases.push(JSON.parse(line) as FixtureCase);
    } catch (err) {
      throw new Error(`${file}:${i + 1}: not JSON: ${(err as Error).message}`);
    }
  });
  return cases;
}

const files = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith('.jsonl'))
  .sort();

test('the DogStatsD corpus has fixture files', () => {
  assert.ok(files.length > 0, `no *.jsonl in ${FIXTURE_DIR}`);
});

for (const file of files) {
  const cases = loadCases(file);

  describe(file, () => {
    test('fixture file is well formed', () => {
      assert.ok(cases.length > 0, 'no cases');
      const names = new Set<string>();
      for (const c of cases) {
        assert.equal(typeof c.name, 'string');
        assert.ok(!names.has(c.name), `duplicate case name ${c.name}`);
        names.add(c.name);
        assert.equal(typeof c.source, 'string', c.name);
        assert.equal(typeof c.datagram, 'string', c.name);
        assert.ok(Array.isArray(c.expect), c.name);
        for (const key of Object.keys(c.config ?? {})) assert.ok(CONFIG_KEYS.has(key), `${c.name}: config key ${key}`);
        for (const m of c.expect) {
          const shape = SHAPES[String(m['kind'])];
          assert.ok(shape, `${c.name}: unknown kind ${String(m['kind'])}`);
          assert.deepEqual(Object.keys(m).sort(), [...shape].sort(), `${c.name}: keys of a ${String(m['kind'])}`);
        }
      }
    });

    for (const c of cases) {
      test(`${c.name} (${c.source})`, () => {
        const got = toJsonShape(parsePacket(c.datagram, c.config ?? {}));
        assert.deepEqual(got, c.expect, `datagram ${JSON.stringify(c.datagram)}`);
      });
    }
  });
}
