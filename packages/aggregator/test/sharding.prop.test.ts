import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { harness, rows, sketchRow } from './helpers.js';
import type { Series, SketchSeries } from '@kennel/core';

// Replay a failure with the seed and path fast-check prints: fc.assert(prop, { seed, path }).
const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 200);

interface Sample {
  dt: number;
  name: string;
  tags: string[];
  type: 'c' | 'g' | 'h' | 'ms' | 's' | 'd';
  value: number;
  rate: number;
}
type Step = { kind: 'sample'; s: Sample } | { kind: 'flush'; dt: number };

const sample: fc.Arbitrary<Sample> = fc.record({
  dt: fc.integer({ min: 0, max: 7 }),
  name: fc.constantFrom('m.a', 'm.b', 'm.c', 'm.d'),
  tags: fc.array(fc.constantFrom('env:prod', 'env:dev', 'a', 'b', 'host:h1', 'host:h2', 'team:x'), { maxLength: 4 }),
  type: fc.constantFrom('c', 'g', 'h', 'ms', 's', 'd'),
  value: fc.integer({ min: -1000, max: 1000 }).map((v) => v / 4),
  rate: fc.constantFrom(1, 1, 0.5, 0.25, 0.1),
});
const steps = fc.array(
  fc.oneof(
    { weight: 8, arbitrary: sample.map((s): Step => ({ kind: 'sample', s })) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 40 }).map((dt): Step => ({ kind: 'flush', dt })) },
  ),
  { maxLength: 120 },
);

function line(s: Sample): string {
  const v = s.type === 's' ? `u${Math.abs(s.value)}` : String(s.value);
  return `${s.name}:${v}|${s.type}${s.rate !== 1 ? `|@${s.rate}` : ''}${s.tags.length ? `|#${s.tags.join(',')}` : ''}`;
}

/** A plain, single-threaded model of the agent's time sampler, written for this test. */
class ReferenceSampler {
  private buckets = new Map<number, Map<string, { kind: string; value: number; vals: number[]; ws: number[]; sum: number; count: number; set: Set<string> }>>();
  private sketches = new Map<number, Map<string, number[]>>();
  private ctx = new Map<string, { name: string; host: string; tags: string[] }>();
  private counterLast = new Map<string, number>();
  private lastCutoff = 0;

  add(t: number, s: Sample): void {
    let host = '';
    const tags: string[] = [];
    for (const tag of s.tags) {
      if (tag.startsWith('host:')) host = tag.slice(5);
      else if (!tags.includes(tag)) tags.push(tag);
    }
    const key = `${s.name}|${host}|${[...tags].sort().join(',')}`;
    if (!this.ctx.has(key)) this.ctx.set(key, { name: s.name, host, tags });
    const start = Math.trunc(t) - (Math.trunc(t) % 10);
    if (s.type === 'd') {
      if (!this.sketches.has(start)) this.sketches.set(start, new Map());
      const m = this.sketches.get(start)!;
      if (!m.has(key)) m.set(key, []);
      m.get(key)!.push(s.value, s.rate);
      return;
    }
    if (s.type === 'c') this.counterLast.set(key, t);
    if (!this.buckets.has(start)) this.buckets.set(start, new Map());
    const b = this.buckets.get(start)!;
    const kind = s.type === 'ms' ? 'h' : s.type;
    if (!b.has(key)) b.set(key, { kind, value: 0, vals: [], ws: [], sum: 0, count: 0, set: new Set() });
    this.addTo(b.get(key)!, s.type, s.type === 's' ? `u${Math.abs(s.value)}` : s.value, s.rate);
  }

  private addTo(m: { kind: string; value: number; vals: number[]; ws: number[]; sum: number; count: number; set: Set<string> }, type: string, v: number | string, rate: number) {
    const num = typeof v === 'number' ? v : 0;
    if (m.kind === 'c') m.value += num * (1 / rate);
    else if (m.kind === 'g') m.value = num;
    else if (m.kind === 'h') {
      const w = Math.trunc(1 / rate);
      m.vals.push(num);
      m.ws.push(w);
      m.sum += num * (1 / rate);
      m.count += w;
    } else m.set.add(typeof v === 'string' ? v : `#${type}${v}`);
  }

  flush(now: number): { series: Series[]; sketchRows: string[] } {
    const cutoff = now - (now % 10);
    const out = new Map<string, Series & { points: { timestamp: number; value: number }[] }>();
    const emit = (key: string, suffix: string, type: 'rate' | 'gauge', ts: number, value: number) => {
      const c = this.ctx.get(key)!;
      const k = `${key}${suffix}|${type}`;
      if (!out.has(k)) out.set(k, { name: c.name + suffix, host: c.host, tags: c.tags, type, interval: 10, points: [] });
      out.get(k)!.points.push({ timestamp: ts, value });
    };
    const flushBucket = (start: number, b: Map<string, { kind: string; value: number; vals: number[]; ws: number[]; sum: number; count: number; set: Set<string> }>) => {
      for (const [key, last] of this.counterLast) {
        if (300 + last > start) {
          if (!b.has(key)) b.set(key, { kind: 'c', value: 0, vals: [], ws: [], sum: 0, count: 0, set: new Set() });
          this.addTo(b.get(key)!, 'c', 0, 1);
        } else this.counterLast.delete(key);
      }
      for (const [key, m] of b) {
        if (m.kind === 'c') emit(key, '', 'rate', start, m.value / 10);
        else if (m.kind === 'g') emit(key, '', 'gauge', start, m.value);
        else if (m.kind === 's') emit(key, '', 'gauge', start, m.set.size);
        else {
          const idx = m.vals.map((_, i) => i).sort((a, b2) => m.vals[a]! - m.vals[b2]!);
          const sorted = idx.map((i) => m.vals[i]!);
          const ws = idx.map((i) => m.ws[i]!);
          const pick = (target: number) => {
            let w = 0;
            for (let i = 0; i < sorted.length; i++) if ((w += ws[i]!) > target) return sorted[i]!;
            return 0;
          };
          emit(key, '.max', 'gauge', start, sorted[sorted.length - 1]!);
          emit(key, '.median', 'gauge', start, pick(Math.trunc((m.count - 1) / 2)));
          emit(key, '.avg', 'gauge', start, m.sum / m.count);
          emit(key, '.count', 'rate', start, m.count / 10);
          emit(key, '.95percentile', 'gauge', start, pick(Math.trunc((95 * m.count - 1) / 100)));
        }
      }
    };
    const closed = [...this.buckets.keys()].filter((s) => s + 10 <= cutoff).sort((a, b) => a - b);
    if (this.buckets.size > 0) {
      for (const start of closed) {
        flushBucket(start, this.buckets.get(start)!);
        this.buckets.delete(start);
      }
    } else if (this.lastCutoff + 10 <= cutoff) {
      flushBucket(cutoff - 10, new Map());
    }
    this.lastCutoff = cutoff;
    const sketchRows: string[] = [];
    const byCtx = new Map<string, string[]>();
    for (const start of [...this.sketches.keys()].filter((s) => s < cutoff).sort((a, b) => a - b)) {
      for (const [key, vr] of this.sketches.get(start)!) {
        let cnt = 0;
        let sum = 0;
        let min = Infinity;
        let max = -Infinity;
        for (let i = 0; i < vr.length; i += 2) {
          const v = vr[i]!;
          const r = vr[i + 1]!;
          const n = r > 0 && r <= 1 ? 1 / r : 1;
          cnt += Math.trunc(n);
          sum += v * n;
          min = Math.min(min, v);
          max = Math.max(max, v);
        }
        if (!byCtx.has(key)) byCtx.set(key, []);
        byCtx.get(key)!.push(`${start}:${cnt}:${min}:${max}:${sum}`);
      }
      this.sketches.delete(start);
    }
    for (const [key, pts] of byCtx) {
      const c = this.ctx.get(key)!;
      sketchRows.push(`${c.name}|${c.host}|${c.tags.join(',')}|${pts.join(';')}`);
    }
    return { series: [...out.values()], sketchRows: sketchRows.sort() };
  }
}

/** A sketch row without bins: the reference keeps only the summary. */
function summaryRow(s: SketchSeries): string {
  return sketchRow(s).replace(/:[^:;|]*:[^:;|]*(?=;|$)/g, '');
}

async function runKennel(script: Step[], shards: number, threads: boolean) {
  const h = harness({ shards, threads });
  let t = 1000;
  const flushes: { series: string[]; sketches: string[]; bins: string[] }[] = [];
  for (const st of script) {
    if (st.kind === 'sample') {
      t += st.s.dt;
      h.send(t, line(st.s));
    } else {
      t += st.dt;
      const r = await h.agg.flush(t);
      flushes.push({ series: rows(r.series), sketches: r.sketches.map(summaryRow).sort(), bins: r.sketches.map(sketchRow).sort() });
    }
  }
  await h.agg.stop(t);
  return flushes;
}

function runReference(script: Step[]) {
  const ref = new ReferenceSampler();
  let t = 1000;
  const flushes: { series: string[]; sketches: string[] }[] = [];
  for (const st of script) {
    if (st.kind === 'sample') {
      t += st.s.dt;
      ref.add(t, st.s);
    } else {
      t += st.dt;
      const r = ref.flush(t);
      flushes.push({ series: rows(r.series), sketches: r.sketchRows });
    }
  }
  return flushes;
}

test('one shard gives the same flushes as a plain reference model of the time sampler', async () => {
  await fc.assert(
    fc.asyncProperty(steps, async (script) => {
      const got = await runKennel(script, 1, false);
      const want = runReference(script);
      assert.deepEqual(
        got.map((f) => ({ series: f.series, sketches: f.sketches })),
        want,
      );
    }),
    { numRuns },
  );
});

test('1 to 3 shards in worker threads (one keys in its worker, several are keyed by the router) give the same flushes as one shard in this thread', { timeout: 600_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(steps, fc.integer({ min: 1, max: 3 }), async (script, shards) => {
      const one = await runKennel(script, 1, false);
      const many = await runKennel(script, shards, true);
      assert.deepEqual(many, one);
    }),
    { numRuns: Math.max(10, Math.floor(numRuns / 10)) },
  );
});
