/**
 * Summarises a `.cpuprofile` (from `node --cpu-prof`): self time by function and by source line.
 *
 *   node benchmarks/dist/_harness/cpuprofile-top.js PROFILE.cpuprofile [--top 25] [--filter dogstatsd]
 *
 * Line numbers are 1-based lines of the emitted JavaScript (`dist/**\/*.js`); the `.js.map`
 * next to it maps them back to the TypeScript source.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly hitCount?: number;
  readonly positionTicks?: readonly { readonly line: number; readonly ticks: number }[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
}

const { values, positionals } = parseArgs({
  options: { top: { type: 'string', default: '25' }, filter: { type: 'string' } },
  allowPositionals: true,
});
const file = positionals[0];
if (file === undefined) throw new Error('usage: cpuprofile-top PROFILE.cpuprofile [--top N] [--filter TEXT]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const top = Number(values.top);

const short = (url: string): string => url.replace(/^file:\/\//, '').replace(/^.*\/(packages|benchmarks)\//, '$1/');
let total = 0;
const byFn = new Map<string, number>();
const byLine = new Map<string, number>();
for (const n of profile.nodes) {
  const hits = n.hitCount ?? 0;
  total += hits;
  if (hits === 0) continue;
  const f = n.callFrame;
  const fn = `${f.functionName || '(anonymous)'}  ${f.url ? `${short(f.url)}:${f.lineNumber + 1}` : ''}`.trim();
  byFn.set(fn, (byFn.get(fn) ?? 0) + hits);
  for (const t of n.positionTicks ?? []) {
    const key = `${short(f.url)}:${t.line}  (${f.functionName || 'anonymous'})`;
    byLine.set(key, (byLine.get(key) ?? 0) + t.ticks);
  }
}
const show = (title: string, m: Map<string, number>): void => {
  console.log(`\n${title}`);
  const rows = [...m].filter(([k]) => values.filter === undefined || k.includes(values.filter)).sort((a, b) => b[1] - a[1]);
  for (const [k, v] of rows.slice(0, top)) console.log(`${((100 * v) / total).toFixed(1).padStart(6)} %  ${String(v).padStart(7)}  ${k}`);
};
console.log(`${total} samples over ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s`);
show('self time by function', byFn);
show('self time by line (emitted JS)', byLine);
