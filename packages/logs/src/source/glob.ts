import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';

/** Whether a path has glob characters (the agent's `ContainsWildcard`). */
export function containsWildcard(path: string): boolean {
  return /[*?[]/.test(path);
}

/**
 * One path segment of a Go `filepath.Match` pattern as an anchored RegExp: `*` (any run of
 * characters but `/`), `?` (one), `[...]` / `[^...]` classes with ranges, `\` escaping the next
 * character.
 * @throws Error on a malformed pattern (`filepath.ErrBadPattern`).
 */
export function segmentRegExp(segment: string): RegExp {
  let out = '^';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\') {
      i++;
      if (i >= segment.length) throw new Error('syntax error in pattern');
      out += escapeChar(segment[i]!);
    } else if (c === '[') {
      let j = i + 1;
      let cls = '[';
      if (segment[j] === '^') {
        cls += '^';
        j++;
      }
      let any = false;
      for (;;) {
        if (j >= segment.length) throw new Error('syntax error in pattern');
        let ch = segment[j]!;
        if (ch === ']' && any) break;
        if (ch === '\\') {
          j++;
          if (j >= segment.length) throw new Error('syntax error in pattern');
          ch = segment[j]!;
        } else if (ch === '-' || ch === ']') {
          throw new Error('syntax error in pattern');
        }
        cls += escapeChar(ch);
        j++;
        if (segment[j] === '-') {
          j++;
          let hi = segment[j];
          if (hi === '\\') {
            j++;
            hi = segment[j];
          }
          if (hi === undefined || hi === ']') throw new Error('syntax error in pattern');
          cls += '-' + escapeChar(hi);
          j++;
        }
        any = true;
      }
      out += cls + ']';
      i = j;
    } else out += escapeChar(c);
  }
  return new RegExp(out + '$', 'u');
}

function escapeChar(c: string): string {
  return /[A-Za-z0-9]/.test(c) ? c : `\\u{${c.codePointAt(0)!.toString(16)}}`;
}

/**
 * The regular files a pattern matches (Go's `filepath.Glob`, plus `**` for any number of
 * directories when `recursive` is on, as `logs_config.enable_recursive_glob`), sorted.
 * @throws Error on a malformed pattern.
 */
export async function globFiles(pattern: string, recursive = false): Promise<string[]> {
  const abs = isAbsolute(pattern) ? pattern : resolve(pattern);
  const parts = abs.split(sep).filter((p, i) => p !== '' || i === 0);
  const root = parts[0] === '' ? sep : parts[0]!;
  const segs = parts[0] === '' ? parts.slice(1) : parts.slice(1);
  const matchers = segs.map((s) => (s === '**' && recursive ? '**' : containsWildcard(s) ? segmentRegExp(s) : s));
  const out = new Set<string>();
  await walk(root, matchers, 0, out);
  return [...out].sort();
}

async function walk(dir: string, matchers: ReadonlyArray<RegExp | string>, i: number, out: Set<string>): Promise<void> {
  if (i === matchers.length) {
    try {
      if ((await stat(dir)).isFile()) out.add(dir);
    } catch {
      // Gone or unreadable: not a match.
    }
    return;
  }
  const m = matchers[i]!;
  if (typeof m === 'string' && m !== '**') {
    await walk(join(dir, m), matchers, i + 1, out);
    return;
  }
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  names.sort();
  if (m === '**') {
    // Zero directories, then one more level of any directory.
    await walk(dir, matchers, i + 1, out);
    for (const n of names) {
      const p = join(dir, n);
      try {
        if ((await stat(p)).isDirectory()) await walk(p, matchers, i, out);
      } catch {
        // Skip what cannot be read.
      }
    }
    return;
  }
  for (const n of names) if (m.test(n)) await walk(join(dir, n), matchers, i + 1, out);
}

/**
 * The agent's `by_name` order for wildcard matches: reverse the list, then sort by file name,
 * descending, keeping the reversed order between equal names (`applyReverseLexicographicalOrdering`).
 */
export function reverseLexicographical(paths: readonly string[]): string[] {
  const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
  const r = [...paths].reverse();
  return r
    .map((p, i) => ({ p, i }))
    .sort((a, b) => {
      const x = base(a.p);
      const y = base(b.p);
      return x > y ? -1 : x < y ? 1 : a.i - b.i;
    })
    .map((e) => e.p);
}
