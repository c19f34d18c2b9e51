#!/usr/bin/env node
// Runs every compiled test with node's built-in test runner.
//   node scripts/test.mjs               unit, property and integration tests
//   node scripts/test.mjs --only-prop   only *.prop.test.js (set KENNEL_PROP_RUNS for a longer pass)
//   node scripts/test.mjs PATTERN...    only files whose path contains one of the patterns
// Tests live in packages/*/test, native/test and test/; `tsc -b` compiles them into each dist/.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const onlyProp = args.includes('--only-prop');
const patterns = args.filter((a) => !a.startsWith('--'));

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const dirs = [];
for (const pkg of readdirSync(join(root, 'packages'))) dirs.push(join(root, 'packages', pkg, 'dist', 'test'));
dirs.push(join(root, 'native', 'dist', 'test'), join(root, 'test', 'dist'));

let files = dirs.flatMap((d) => walk(d, [])).sort();
if (onlyProp) files = files.filter((f) => f.endsWith('.prop.test.js'));
if (patterns.length > 0) files = files.filter((f) => patterns.some((p) => relative(root, f).includes(p)));
if (files.length === 0) {
  console.error('no test files found: run `pnpm build` first');
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', `--test-concurrency=${process.env.KENNEL_TEST_CONCURRENCY ?? 2}`, ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(r.status ?? 1);
