// Test helpers for the agent sketch: the bin DSL of the agent's tests, float bit tricks.
import { AGENT_SKETCH_CONFIG, sketchKeyLowerBound } from '../../src/index.js';
import { BinList } from '../../src/sketch/store.js';
import { SketchSummary } from '../../src/sketch/summary.js';

const MAX = AGENT_SKETCH_CONFIG.maxBinWidth;

/**
 * Parses the agent's bin DSL (`pkg/util/quantile/main_test.go` `eachParsedToken`):
 * `"<key>:<n> ..."` where n is a number, `max`, or `max-N`, `max*N`, `max/N`.
 */
export function parseBins(dsl: string): Array<[number, number]> {
  if (dsl === '') return [];
  return dsl.split(' ').map((tok) => {
    const [k, n] = tok.split(':') as [string, string];
    return [Number(k), parseN(n)];
  });
}

function parseN(s: string): number {
  if (!s.startsWith('max')) return Number(s);
  if (s === 'max') return MAX;
  const m = Number(s.slice(4));
  switch (s[3]) {
    case '-':
      return MAX - m;
    case '*':
      return MAX * m;
    case '/':
      return Math.floor(MAX / m);
    default:
      throw new Error(`bad max token ${s}`);
  }
}

/** The agent's `buildStore`: a bin list with exactly these bins. */
export function buildBins(dsl: string): BinList {
  const b = new BinList();
  for (const [k, n] of parseBins(dsl)) b.push(k, n);
  return b;
}

/** Prints bins in the DSL, for readable assertion failures. */
export function formatBins(keys: ArrayLike<number>, counts: ArrayLike<number>, length = keys.length): string {
  const out: string[] = [];
  for (let i = 0; i < length; i++) out.push(`${keys[i]}:${counts[i]}`);
  return out.join(' ');
}

export function formatBinList(b: BinList): string {
  return formatBins(b.keys, b.counts, b.length);
}

/** The agent's `ParseSketch` summary: `InsertN(f64(k), n)` for each bin in order. */
export function summaryOf(dsl: string): SketchSummary {
  const s = new SketchSummary();
  for (const [k, n] of parseBins(dsl)) s.insertN(sketchKeyLowerBound(k), n);
  return s;
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

export function fromBits(bits: bigint): number {
  u64[0] = bits;
  return f64[0]!;
}

export function toBits(x: number): bigint {
  f64[0] = x;
  return u64[0]!;
}

/** Go's `math.Nextafter(x, towards)` for finite, non-zero x. */
export function nextAfter(x: number, towards: number): number {
  if (x === towards) return x;
  const up = towards > x === x > 0;
  return fromBits(toBits(x) + (up ? 1n : -1n));
}

/** Distance in ulps (summary/equal.go `ulpDistance`), for values of the same sign. */
export function ulpDistance(a: number, b: number): number {
  if (a === b) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Infinity;
  if (a < 0 !== b < 0) return Number(toBits(Math.abs(a)) + toBits(Math.abs(b)));
  const d = toBits(a) - toBits(b);
  return Number(d < 0n ? -d : d);
}

/** summary/equal.go `CheckEqual`: counts equal, floats within 256 ulps. */
export function assertSummaryClose(
  a: { cnt: number; min: number; max: number; sum: number; avg: number },
  e: { cnt: number; min: number; max: number; sum: number; avg: number },
): void {
  if (a.cnt !== e.cnt) throw new Error(`Count: ${a.cnt} != ${e.cnt}`);
  for (const f of ['min', 'max', 'sum', 'avg'] as const) {
    const u = ulpDistance(a[f], e[f]);
    if (u > 256) throw new Error(`${f}: ${a[f]} != ${e[f]} (${u} ulps)`);
  }
}
