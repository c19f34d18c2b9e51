#!/usr/bin/env node
// Builds @kennel/native: the addon with node-gyp, then lib/ and test/ with tsc.
//   node scripts/build.mjs                     addon, then TypeScript
//   node scripts/build.mjs --native-only       addon only (when the root's `tsc -b` compiles lib/)
//   node scripts/build.mjs --compile-commands  also write build/compile_commands.json for editors
//
// The addon is optional: with no C++ toolchain, no Python, no node-gyp or no Node headers, this
// prints one warning line and goes on (UDP then uses node:dgram; UDS reports that it needs the
// addon). A compile error with a toolchain present fails the build: that is a bug in src/.
//
// It never downloads anything. node-gyp is always given --nodedir, pointing at headers already on
// the machine (the ones installed with this Node, or node-gyp's cache), so it has no reason to
// fetch a tarball; if no headers are found, the native build is skipped instead.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

const here = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const nativeOnly = args.includes('--native-only');
const compileCommands = args.includes('--compile-commands');
const require = createRequire(join(here, 'package.json'));

function warn(why) {
  console.warn(`kennel: skipping the native addon (${why}); UDP will use node:dgram and UDS will be unavailable`);
}

function runs(cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

/** A directory with include/node/{node_api.h,common.gypi}: what node-gyp's --nodedir wants. */
function findNodeDir() {
  const version = process.versions.node;
  const candidates = [
    process.env.KENNEL_NODEDIR,
    dirname(dirname(process.execPath)), // headers installed with this Node (e.g. /usr/include/node)
    process.env.npm_config_nodedir,
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'node-gyp', version),
    join(homedir(), '.node-gyp', version),
  ];
  for (const dir of candidates) {
    if (!dir) continue;
    const inc = join(dir, 'include', 'node');
    if (existsSync(join(inc, 'node_api.h')) && existsSync(join(inc, 'common.gypi')) && existsSync(join(inc, 'uv.h'))) {
      return dir;
    }
  }
  return null;
}

function buildNative() {
  if (process.platform !== 'linux') return warn(`it is Linux only, this is ${process.platform}`);
  let nodeGyp;
  try {
    nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
    require.resolve('node-addon-api');
  } catch {
    return warn('node-gyp or node-addon-api is not installed: run `pnpm install`');
  }
  const cxx = process.env.CXX ?? 'c++';
  if (!runs(cxx, ['--version'])) return warn(`no C++ compiler (${cxx})`);
  if (!runs('make', ['--version'])) return warn('no make');
  const python = process.env.PYTHON ?? 'python3';
  if (!runs(python, ['--version'])) return warn(`no Python (${python}) for node-gyp`);
  const nodedir = findNodeDir();
  if (!nodedir) return warn(`no Node ${process.versions.node} headers on this machine; node-gyp is never allowed to download them`);

  // Same headers however node-gyp is reached; nothing in here may go to the network.
  const env = { ...process.env, npm_config_nodedir: nodedir, npm_config_python: python };
  const gyp = (command, extra = []) =>
    spawnSync(process.execPath, [nodeGyp, command, `--nodedir=${nodedir}`, '--loglevel=warn', ...extra], {
      cwd: here,
      env,
      encoding: 'utf8',
    });
  const fail = (step, r) => {
    process.stderr.write(r.stdout ?? '');
    process.stderr.write(r.stderr ?? '');
    console.error(`kennel: the native addon failed to ${step} (node-gyp exited ${r.status ?? r.error})`);
    process.exit(1);
  };

  // Configure when there is no Makefile or binding.gyp changed since; make handles the rest.
  const makefile = join(here, 'build', 'Makefile');
  const stale = !existsSync(makefile) || statSync(join(here, 'binding.gyp')).mtimeMs > statSync(makefile).mtimeMs;
  if (stale) {
    const r = gyp('configure');
    if (r.status !== 0) fail('configure', r);
  }
  if (compileCommands) {
    const r = gyp('configure', ['--', '-f', 'compile_commands_json']);
    if (r.status !== 0) fail('write compile_commands.json', r);
    const again = gyp('configure');
    if (again.status !== 0) fail('configure', again);
  }
  const r = gyp('build', ['-j', 'max']);
  if (r.status !== 0) fail('compile', r);
}

buildNative();

if (!nativeOnly) {
  const tsc = require.resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-b', join(here, 'tsconfig.json')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
