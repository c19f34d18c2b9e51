#!/usr/bin/env node
// The kennel CLI. The TypeScript sources compile to ../dist; run `pnpm build` first.
import { main } from '../dist/src/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`kennel: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
