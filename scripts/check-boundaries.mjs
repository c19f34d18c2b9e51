#!/usr/bin/env node
// Fails when a package imports a workspace package its row in docs/architecture.md does not allow:
// packages never import sideways except through @kennel/core, and nothing imports @kennel/agent.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const allowed = {
  core: [],
  dogstatsd: ['core', 'native'],
  aggregator: ['core', 'native'],
  traces: ['core'],
  logs: ['core'],
  forwarder: ['core'],
  intake: ['core'],
  agent: ['*'],
};
// Codecs stay pure: socket and HTTP modules only under src/source/ (style-anchors §6.1).
const ioModules = ['node:dgram', 'node:net', 'node:http', 'node:https', 'piscina', 'undici'];
const pureCodecDirs = { dogstatsd: 'src/codec', traces: 'src/decode' };

function files(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) files(p, out);
    else if (n.endsWith('.ts')) out.push(p);
  }
  return out;
}

const problems = [];
for (const pkg of readdirSync(join(root, 'packages'))) {
  const rules = allowed[pkg];
  if (!rules) {
    problems.push(`packages/${pkg}: no boundary rule; add it to scripts/check-boundaries.mjs and docs/architecture.md`);
    continue;
  }
  for (const f of files(join(root, 'packages', pkg, 'src'))) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/from\s+['"](@kennel\/[a-z-]+|[^'"]+)['"]/g)) {
      const spec = m[1];
      const rel = f.slice(root.length);
      if (spec.startsWith('@kennel/')) {
        const dep = spec.slice('@kennel/'.length).split('/')[0];
        if (dep === 'agent' && pkg !== 'agent') problems.push(`${rel}: nothing may import @kennel/agent`);
        else if (dep !== pkg && !rules.includes('*') && !rules.includes(dep)) problems.push(`${rel}: @kennel/${pkg} may not import ${spec}`);
      }
      const pure = pureCodecDirs[pkg];
      if (pure && f.includes(`/packages/${pkg}/${pure}/`) && ioModules.some((io) => spec === io || spec.startsWith(io + '/'))) {
        problems.push(`${rel}: the codec must stay pure; ${spec} belongs under src/source/`);
      }
    }
  }
}
if (problems.length > 0) {
  console.error('package boundary violations:\n  ' + problems.join('\n  '));
  process.exit(1);
}
console.log('package boundaries: ok');
