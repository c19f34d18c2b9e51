import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { FileSource } from '../src/source/file.js';
import { resolveLogsSourceConfig, type FileSourceConfig } from '../src/source/config.js';
import { Registry } from '../src/registry/registry.js';
import { Collector, tempDir } from './source-support.js';

const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 200);

async function tail(path: string, runPath: string, expect: number): Promise<{ c: Collector; src: FileSource; reg: Registry }> {
  const reg = await Registry.open({ runPath });
  const c = new Collector();
  const config = resolveLogsSourceConfig({ type: 'file', path, start_position: 'beginning' }, 'logs[0]') as FileSourceConfig;
  const src = new FileSource(c.ctx, config, { registry: reg, pollIntervalMs: 2, scanPeriodMs: 1000 });
  await src.start();
  await c.waitFor(expect);
  return { c, src, reg };
}

test('a restart after any acked prefix delivers exactly the lines after it', async () => {
  const line = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '{', '"', 'é'), minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== '');
  await fc.assert(
    fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 30 }), fc.array(line, { maxLength: 10 }), fc.nat(), async (before, after, ackAt) => {
      const dir = await tempDir();
      const path = join(dir, 'app.log');
      const runPath = join(dir, 'run');
      await writeFile(path, before.map((l) => l + '\n').join(''));
      const first = await tail(path, runPath, before.length);
      const acked = ackAt % (before.length + 1);
      for (const m of first.c.messages.slice(0, acked)) first.reg.ack(m.origin);
      await first.src.stop();
      await first.reg.stop();
      first.c.close();
      // The last line marks the end: a duplicate of anything would come before it.
      await appendFile(path, [...after, 'END'].map((l) => l + '\n').join(''));
      const expected = [...before.slice(acked), ...after, 'END'].map((l) => l.trim());
      const second = await tail(path, runPath, expected.length);
      await second.src.stop();
      second.c.close();
      assert.deepEqual(second.c.texts(), expected);
    }),
    { numRuns },
  );
});
