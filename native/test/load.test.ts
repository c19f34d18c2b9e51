import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { isNativeAccelerationEnabled, loadNative } from '../lib/index.js';

const index = new URL('../lib/index.js', import.meta.url).href;

test('the addon is built and loads (set KENNEL_NATIVE_OPTIONAL=1 where no toolchain is expected)', (t) => {
  const r = loadNative();
  if (r.binding === null && (process.env['KENNEL_NATIVE_OPTIONAL'] === '1' || process.env['KENNEL_DISABLE_NATIVE'])) {
    t.skip(r.reason);
    return;
  }
  assert.equal(r.reason, null);
  assert.ok(r.binding);
  assert.equal(typeof r.binding.DatagramReader, 'function');
  assert.equal(r.binding.maxUnixPathLength, 107);
  assert.equal(isNativeAccelerationEnabled(), true);
});

test('KENNEL_DISABLE_NATIVE=1 switches the addon off', () => {
  const saved = process.env['KENNEL_DISABLE_NATIVE'];
  process.env['KENNEL_DISABLE_NATIVE'] = '1';
  try {
    assert.equal(isNativeAccelerationEnabled(), false);
    const r = loadNative();
    assert.equal(r.binding, null);
    assert.equal(r.reason, 'disabled by KENNEL_DISABLE_NATIVE=1');
  } finally {
    if (saved === undefined) delete process.env['KENNEL_DISABLE_NATIVE'];
    else process.env['KENNEL_DISABLE_NATIVE'] = saved;
  }
});

test('KENNEL_DISABLE_NATIVE=1 from process start, in a fresh process', () => {
  const script = `import(${JSON.stringify(index)}).then((m) => console.log(JSON.stringify([m.isNativeAccelerationEnabled(), m.loadNative().reason])))`;
  const r = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, KENNEL_DISABLE_NATIVE: '1' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [false, 'disabled by KENNEL_DISABLE_NATIVE=1']);
});
