/** JSON with `bigint`s as decimal strings (span ids, start times) and non-finite numbers as strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    return v;
  });
}

/** A string filter from a query: `/re/flags` is a regular expression, anything else a case-insensitive substring. */
export function textMatcher(q: string | null | undefined): ((s: string) => boolean) | undefined {
  if (q === null || q === undefined || q === '') return undefined;
  const re = /^\/(.+)\/([imsu]*)$/.exec(q);
  if (re) {
    try {
      const r = new RegExp(re[1]!, re[2]);
      return (s) => r.test(s);
    } catch {
      // not a valid pattern: read it as text
    }
  }
  const needle = q.toLowerCase();
  return (s) => s.toLowerCase().includes(needle);
}

/**
 * A tag filter: every term must be carried. A term is an exact tag (`env:prod`), a key alone
 * (`env`, any value), or ends with `*` (a prefix: `version:1.*`). Terms are comma- or
 * space-separated when they come from one query parameter.
 */
export function tagFilter(terms: readonly string[]): ((tags: readonly string[]) => boolean) | undefined {
  const list = terms.flatMap((t) => t.split(/[\s,]+/)).filter((t) => t !== '');
  if (list.length === 0) return undefined;
  const tests = list.map((t): ((tag: string) => boolean) => {
    if (t.endsWith('*')) {
      const p = t.slice(0, -1);
      return (tag) => tag.startsWith(p);
    }
    if (!t.includes(':')) return (tag) => tag === t || tag.startsWith(t + ':');
    return (tag) => tag === t;
  });
  return (tags) => tests.every((f) => tags.some(f));
}

/** A positive integer from a query parameter, clamped to `[1, max]`; `fallback` when absent or malformed. */
export function intParam(v: string | null, fallback: number, max: number): number {
  if (v === null || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 1) return fallback;
  return Math.min(Math.floor(n), max);
}

/** A number from a query parameter, or undefined. */
export function numParam(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** `true`, `1`, `yes` → true; `false`, `0`, `no` → false; otherwise undefined. */
export function boolParam(v: string | null): boolean | undefined {
  if (v === null) return undefined;
  if (['1', 'true', 'yes', ''].includes(v)) return true;
  if (['0', 'false', 'no'].includes(v)) return false;
  return undefined;
}
