/**
 * Go RE2 regular expressions (`regexp/syntax`, Perl flags, as `regexp.Compile` parses them) on
 * top of JavaScript's `RegExp`.
 *
 * @remarks
 * The agent compiles processing-rule patterns with Go's `regexp`, whose dialect differs from
 * JavaScript's in ways that change results, so patterns are parsed here with Go's grammar and
 * re-emitted as a JavaScript pattern (flag `u`) that matches the same strings:
 *
 * - what Go rejects is rejected, with Go's error text (`error parsing regexp: invalid or
 *   unsupported Perl syntax: \`(?=\``): lookaround, backreferences (`\1`), `\k<...>`, `\u1234`,
 *   possessive and stacked repetitions (`a**`, `a*+`), repeat counts over 1000, unknown escapes;
 * - Go-only syntax is translated: `(?P<name>...)`, inline flags `(?i)`, `(?s)`, `(?m)`, `(?U)`
 *   and their scoped forms `(?i:...)`, `\A`, `\z`, `\Q...\E`, `[[:alpha:]]`, `\pL`,
 *   `\p{Greek}`, octal `\123`, `\x{10FFFF}`, a literal `{` that is not a repeat, `]` first in a
 *   class;
 * - the classes whose meaning differs are spelled out: `.` is "anything but `\n`" (JavaScript's
 *   also stops at `\r`, U+2028, U+2029), `\s` is `[\t\n\f\r ]` (no `\v`, no Unicode spaces), `^`
 *   and `$` under `(?m)` break at `\n` only;
 * - case-insensitive parts are folded by hand (simple case folding, the `k`/`K`/U+212A and
 *   `s`/`S`/U+017F orbits included), so `(?i)` can cover part of a pattern.
 *
 * Matching itself is JavaScript's backtracking engine: leftmost-first like Go's, the same result
 * for every pattern Go accepts, without Go's linear-time guarantee. {@link GoRegexp.replaceAll}
 * follows Go's `ReplaceAll` (empty matches next to a previous match are skipped; `$1`, `${name}`
 * and `$$` expand as `Regexp.Expand` does).
 *
 * Not translated: case folding of `\p{...}` classes under `(?i)` (they match as written).
 */

/** A pattern Go's `regexp.Compile` would reject. `message` is Go's error text. */
export class GoRegexpSyntaxError extends Error {
  /** Go's `syntax.ErrorCode` text, such as `invalid escape sequence`. */
  readonly code: string;
  /** The part of the pattern Go names. */
  readonly expr: string;

  constructor(code: string, expr: string) {
    super(`error parsing regexp: ${code}: \`${expr}\``);
    this.name = 'GoRegexpSyntaxError';
    this.code = code;
    this.expr = expr;
  }
}

const ERR_INVALID_ESCAPE = 'invalid escape sequence';
const ERR_INVALID_CLASS_RANGE = 'invalid character class range';
const ERR_MISSING_BRACKET = 'missing closing ]';
const ERR_MISSING_PAREN = 'missing closing )';
const ERR_UNEXPECTED_PAREN = 'unexpected )';
const ERR_INVALID_REPEAT_OP = 'invalid nested repetition operator';
const ERR_INVALID_REPEAT_SIZE = 'invalid repeat count';
const ERR_MISSING_REPEAT_ARG = 'missing argument to repetition operator';
const ERR_INVALID_PERL_OP = 'invalid or unsupported Perl syntax';
const ERR_INVALID_NAMED_CAPTURE = 'invalid named capture';
const ERR_TRAILING_BACKSLASH = 'trailing backslash at end of expression';
const ERR_INVALID_UTF8 = 'invalid UTF-8';

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

type ClassItem = readonly [lo: number, hi: number] | { readonly raw: string };

/** `[[:name:]]` classes (`regexp/syntax/perl_groups.go`), as code point ranges. */
const POSIX_CLASSES: Readonly<Record<string, ReadonlyArray<readonly [number, number]>>> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a], [0x5f, 0x5f]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};

/** `\d \s \w` (ASCII only in Go). */
const PERL_CLASSES: Readonly<Record<string, ReadonlyArray<readonly [number, number]>>> = {
  d: [[0x30, 0x39]],
  s: [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]],
  w: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
};

const GENERAL_CATEGORIES = new Set([
  'C', 'Cc', 'Cf', 'Co', 'Cs', 'L', 'Ll', 'Lm', 'Lo', 'Lt', 'Lu', 'M', 'Mc', 'Me', 'Mn', 'N', 'Nd', 'Nl', 'No',
  'P', 'Pc', 'Pd', 'Pe', 'Pf', 'Pi', 'Po', 'Ps', 'S', 'Sc', 'Sk', 'Sm', 'So', 'Z', 'Zl', 'Zp', 'Zs',
]);

/** Code points outside ASCII that fold to ASCII letters (Unicode simple case folding orbits). */
const EXTRA_FOLDS: Readonly<Record<number, readonly number[]>> = {
  0x6b: [0x212a], 0x4b: [0x212a], 0x212a: [0x6b, 0x4b],
  0x73: [0x17f], 0x53: [0x17f], 0x17f: [0x73, 0x53],
  0xe5: [0x212b], 0xc5: [0x212b], 0x212b: [0xe5, 0xc5],
};

function isAsciiAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isOctal(c: number): boolean {
  return c >= 0x30 && c <= 0x37;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** A code point as JavaScript pattern text that means exactly that character, in or out of a class. */
function lit(c: number): string {
  if (isAsciiAlnum(c)) return String.fromCharCode(c);
  return `\\u{${c.toString(16)}}`;
}

/** The code points one case-folds to (itself included). */
function foldOrbit(c: number): number[] {
  const out = new Set<number>([c]);
  const s = String.fromCodePoint(c);
  for (const v of [s.toLowerCase(), s.toUpperCase(), s.toLowerCase().toUpperCase(), s.toUpperCase().toLowerCase()]) {
    const cp = v.codePointAt(0)!;
    if (v.length === String.fromCodePoint(cp).length) out.add(cp);
  }
  for (const e of EXTRA_FOLDS[c] ?? []) out.add(e);
  return [...out];
}

function addFolded(items: Array<readonly [number, number]>, lo: number, hi: number): void {
  items.push([lo, hi]);
  // ASCII letters: the whole swapped range at once.
  const ranges: Array<[number, number, number]> = [
    [0x41, 0x5a, 0x20],
    [0x61, 0x7a, -0x20],
  ];
  for (const [a, b, d] of ranges) {
    const l = Math.max(lo, a);
    const h = Math.min(hi, b);
    if (l <= h) items.push([l + d, h + d]);
  }
  for (const special of [0x6b, 0x4b, 0x73, 0x53, 0xe5, 0xc5, 0x212a, 0x17f, 0x212b]) {
    if (special >= lo && special <= hi) for (const e of EXTRA_FOLDS[special] ?? []) items.push([e, e]);
  }
  // Beyond ASCII: code point by code point for ranges small enough to list.
  const nlo = Math.max(lo, 0x80);
  if (nlo <= hi && hi - nlo <= 4096) {
    for (let c = nlo; c <= hi; c++) {
      for (const v of foldOrbit(c)) if (v !== c) items.push([v, v]);
    }
  }
}

/** A compiled Go regular expression. */
export class GoRegexp {
  /** The pattern as written (Go syntax). */
  readonly pattern: string;
  /** The JavaScript pattern it was translated to. */
  readonly jsSource: string;
  /** Capture group names by group number (index 0 unused); `undefined` for unnamed groups. */
  readonly groupNames: readonly (string | undefined)[];
  private readonly re: RegExp;
  private readonly reGlobal: RegExp;

  /** @throws GoRegexpSyntaxError when Go's `regexp.Compile` rejects the pattern. */
  constructor(pattern: string) {
    const t = new Translator(pattern);
    const source = t.translate();
    this.pattern = pattern;
    this.jsSource = source;
    this.groupNames = t.groupNames;
    try {
      this.re = new RegExp(source, 'u');
      this.reGlobal = new RegExp(source, 'gu');
    } catch (e) {
      // The translation only emits valid syntax; a failure here is a kennel bug, reported as such.
      throw new GoRegexpSyntaxError(`kennel could not translate this pattern (${(e as Error).message})`, pattern);
    }
  }

  /** Whether the pattern matches anywhere in `s` (Go's `MatchString`). */
  test(s: string): boolean {
    this.re.lastIndex = 0;
    return this.re.test(s);
  }

  /**
   * Go's `ReplaceAllString`: every non-overlapping match replaced by `template` expanded as
   * `Regexp.Expand` does (`$1`, `${1}`, `$name`, `${name}`, `$$`). Empty matches right after a
   * previous match are not replaced.
   */
  replaceAll(s: string, template: string): string {
    const re = this.reGlobal;
    re.lastIndex = 0;
    let out = '';
    let last = 0;
    let prevMatchEnd = -1;
    const literal = template.indexOf('$') < 0;
    for (;;) {
      const m = re.exec(s);
      if (m === null) break;
      const start = m.index;
      const end = start + m[0].length;
      if (m[0].length === 0) {
        // Advance by one code point, as Go does after an empty match.
        const cp = s.codePointAt(end);
        re.lastIndex = end + (cp !== undefined && cp > 0xffff ? 2 : 1);
        if (start === prevMatchEnd) continue;
      }
      out += s.slice(last, start);
      out += literal ? template : this.expand(template, m);
      last = end;
      prevMatchEnd = end;
      if (re.lastIndex > s.length) break;
    }
    return out + s.slice(last);
  }

  private expand(template: string, m: RegExpExecArray): string {
    let out = '';
    let i = 0;
    while (i < template.length) {
      const d = template.indexOf('$', i);
      if (d < 0) {
        out += template.slice(i);
        break;
      }
      out += template.slice(i, d);
      i = d + 1;
      if (i < template.length && template[i] === '$') {
        out += '$';
        i++;
        continue;
      }
      let name: string | undefined;
      let next = i;
      if (template[i] === '{') {
        const close = template.indexOf('}', i + 1);
        if (close > i + 1) {
          const n = template.slice(i + 1, close);
          if (/^[A-Za-z0-9_]+$/.test(n)) {
            name = n;
            next = close + 1;
          }
        }
      } else {
        let j = i;
        while (j < template.length && /[A-Za-z0-9_]/.test(template[j]!)) j++;
        if (j > i) {
          name = template.slice(i, j);
          next = j;
        }
      }
      if (name === undefined) {
        // Malformed: the `$` stays as text.
        out += '$';
        continue;
      }
      i = next;
      out += this.group(m, name);
    }
    return out;
  }

  private group(m: RegExpExecArray, name: string): string {
    let idx = -1;
    if (/^[0-9]+$/.test(name)) {
      const n = Number(name);
      if (Number.isSafeInteger(n)) idx = n;
    } else {
      idx = this.groupNames.indexOf(name);
    }
    if (idx < 0 || idx >= m.length) return '';
    return m[idx] ?? '';
  }
}

class Translator {
  private readonly p: string;
  private pos = 0;
  private flags: Flags = { i: false, m: false, s: false, U: false };
  private readonly stack: Array<{ flags: Flags; start: number }> = [];
  readonly groupNames: (string | undefined)[] = [undefined];
  private out = '';
  /** What the last token was, for repetition checks: an atom, a repeat, or nothing to repeat. */
  private last: 'none' | 'atom' | 'repeat' = 'none';
  private lastRepeatText = '';

  constructor(pattern: string) {
    this.p = pattern;
  }

  translate(): string {
    const p = this.p;
    if (!(p as unknown as { isWellFormed(): boolean }).isWellFormed()) throw new GoRegexpSyntaxError(ERR_INVALID_UTF8, p);
    while (this.pos < p.length) {
      const c = p.charCodeAt(this.pos);
      switch (c) {
        case 0x28 /* ( */:
          this.openParen();
          break;
        case 0x29 /* ) */:
          this.closeParen();
          break;
        case 0x7c /* | */:
          this.pos++;
          this.out += '|';
          this.last = 'none';
          break;
        case 0x5b /* [ */:
          this.atom(this.parseClass());
          break;
        case 0x2e /* . */:
          this.pos++;
          this.atom(this.flags.s ? '[^]' : '[^\\n]');
          break;
        case 0x5e /* ^ */:
          this.pos++;
          this.atom(this.flags.m ? '(?:^|(?<=\\n))' : '(?:^)');
          break;
        case 0x24 /* $ */:
          this.pos++;
          this.atom(this.flags.m ? '(?:$|(?=\\n))' : '(?:$)');
          break;
        case 0x2a /* * */:
        case 0x2b /* + */:
        case 0x3f /* ? */: {
          const before = this.pos;
          this.pos++;
          this.repeat(String.fromCharCode(c), before);
          break;
        }
        case 0x7b /* { */: {
          const before = this.pos;
          const r = this.parseRepeat();
          if (r === undefined) {
            this.pos++;
            this.atom(lit(0x7b));
          } else {
            this.repeat(r, before);
          }
          break;
        }
        case 0x5c /* \ */:
          this.escapeOutsideClass();
          break;
        default: {
          const cp = p.codePointAt(this.pos)!;
          this.pos += cp > 0xffff ? 2 : 1;
          this.atom(this.literal(cp));
        }
      }
    }
    if (this.stack.length > 0) throw new GoRegexpSyntaxError(ERR_MISSING_PAREN, p);
    return this.out;
  }

  private literal(cp: number): string {
    if (!this.flags.i) return lit(cp);
    const orbit = foldOrbit(cp);
    if (orbit.length === 1) return lit(cp);
    return '[' + orbit.map(lit).join('') + ']';
  }

  private atom(text: string): void {
    this.out += text;
    this.last = 'atom';
  }

  private repeat(op: string, before: number): void {
    const p = this.p;
    let lazy = false;
    if (p[this.pos] === '?') {
      lazy = true;
      this.pos++;
    }
    const text = p.slice(before, this.pos);
    if (this.last === 'repeat') {
      throw new GoRegexpSyntaxError(ERR_INVALID_REPEAT_OP, this.lastRepeatText + text.slice(0, op.length));
    }
    if (this.last === 'none') throw new GoRegexpSyntaxError(ERR_MISSING_REPEAT_ARG, text.slice(0, op.length));
    if (this.flags.U) lazy = !lazy;
    this.out += op + (lazy ? '?' : '');
    this.last = 'repeat';
    this.lastRepeatText = text;
  }

  /** `{n}`, `{n,}`, `{n,m}` at `pos`; `undefined` when it is not a repeat (then `{` is a literal). */
  private parseRepeat(): string | undefined {
    const p = this.p;
    const m = /^\{([0-9]+)(,([0-9]*))?\}/.exec(p.slice(this.pos));
    if (m === null) return undefined;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
    if (min > 1000 || max > 1000 || (max >= 0 && min > max)) throw new GoRegexpSyntaxError(ERR_INVALID_REPEAT_SIZE, m[0]);
    this.pos += m[0].length;
    return max === min && m[2] === undefined ? `{${min}}` : max < 0 ? `{${min},}` : `{${min},${max}}`;
  }

  private openParen(): void {
    const p = this.p;
    const rest = p.slice(this.pos);
    if (rest.startsWith('(?')) {
      // Named captures: (?P<name>re) and (?<name>re).
      if (rest.startsWith('(?P<') || (rest.startsWith('(?<') && rest[3] !== '=' && rest[3] !== '!')) {
        const begin = rest.startsWith('(?P<') ? 4 : 3;
        const end = rest.indexOf('>');
        if (end < 0) throw new GoRegexpSyntaxError(ERR_INVALID_NAMED_CAPTURE, rest);
        const name = rest.slice(begin, end);
        if (!/^[A-Za-z0-9_]+$/.test(name)) throw new GoRegexpSyntaxError(ERR_INVALID_NAMED_CAPTURE, rest.slice(0, end + 1));
        if (this.groupNames.includes(name)) throw new GoRegexpSyntaxError('duplicate capture group name', rest.slice(0, end + 1));
        this.groupNames.push(name);
        this.pos += end + 1;
        this.push('(');
        return;
      }
      if (rest.startsWith('(?=') || rest.startsWith('(?!') || rest.startsWith('(?<=') || rest.startsWith('(?<!')) {
        throw new GoRegexpSyntaxError(ERR_INVALID_PERL_OP, rest.slice(0, rest[2] === '<' ? 4 : 3));
      }
      // Flags: (?flags) or (?flags:re).
      const f = { ...this.flags };
      let sign = 1;
      let sawFlag = false;
      let i = 2;
      for (; i < rest.length; i++) {
        const c = rest[i]!;
        if (c === 'i' || c === 'm' || c === 's' || c === 'U') {
          f[c] = sign > 0;
          sawFlag = true;
        } else if (c === '-') {
          if (sign < 0) throw new GoRegexpSyntaxError(ERR_INVALID_PERL_OP, rest.slice(0, i + 1));
          sign = -1;
          sawFlag = false;
        } else if (c === ':' || c === ')') {
          if (sign < 0 && !sawFlag) throw new GoRegexpSyntaxError(ERR_INVALID_PERL_OP, rest.slice(0, i + 1));
          this.pos += i + 1;
          if (c === ':') {
            this.push('(?:');
            this.flags = f;
          } else {
            this.flags = f;
          }
          return;
        } else {
          throw new GoRegexpSyntaxError(ERR_INVALID_PERL_OP, rest.slice(0, i + 1));
        }
      }
      throw new GoRegexpSyntaxError(ERR_MISSING_PAREN, p);
    }
    this.pos++;
    this.groupNames.push(undefined);
    this.push('(');
  }

  private push(text: string): void {
    this.stack.push({ flags: this.flags, start: this.out.length });
    this.out += text;
    this.last = 'none';
  }

  private closeParen(): void {
    const top = this.stack.pop();
    if (top === undefined) throw new GoRegexpSyntaxError(ERR_UNEXPECTED_PAREN, this.p);
    this.pos++;
    this.flags = top.flags;
    this.out += ')';
    this.last = 'atom';
  }

  private escapeOutsideClass(): void {
    const p = this.p;
    const c = p.charCodeAt(this.pos + 1);
    if (Number.isNaN(c)) throw new GoRegexpSyntaxError(ERR_TRAILING_BACKSLASH, '');
    switch (c) {
      case 0x41 /* A */:
        this.pos += 2;
        this.atom('(?<![^])');
        return;
      case 0x7a /* z */:
        this.pos += 2;
        this.atom('(?![^])');
        return;
      case 0x62 /* b */:
        this.pos += 2;
        this.atom('(?:\\b)');
        return;
      case 0x42 /* B */:
        this.pos += 2;
        this.atom('(?:\\B)');
        return;
      case 0x51 /* Q */: {
        const end = p.indexOf('\\E', this.pos + 2);
        const text = end < 0 ? p.slice(this.pos + 2) : p.slice(this.pos + 2, end);
        this.pos = end < 0 ? p.length : end + 2;
        for (const ch of text) this.atom(this.literal(ch.codePointAt(0)!));
        return;
      }
      case 0x64: case 0x44: case 0x73: case 0x53: case 0x77: case 0x57: /* d D s S w W */ {
        this.pos += 2;
        const lower = String.fromCharCode(c | 0x20);
        const neg = c < 0x61;
        this.atom(this.renderClass(PERL_CLASSES[lower]!, neg));
        return;
      }
      case 0x70: case 0x50: /* p P */ {
        const u = this.parseUnicodeClass();
        this.atom(u.js ?? (u.negatedAny === true ? '[^\\u{0}-\\u{10ffff}]' : '[\\u{0}-\\u{10ffff}]'));
        return;
      }
      default: {
        const cp = this.parseEscapeChar();
        this.atom(this.literal(cp));
      }
    }
  }

  /** An escape that stands for one character (`\n`, `\x41`, `\101`, `\.`); `pos` is at the backslash. */
  private parseEscapeChar(): number {
    const p = this.p;
    const start = this.pos;
    const c = p.codePointAt(this.pos + 1);
    if (c === undefined) throw new GoRegexpSyntaxError(ERR_TRAILING_BACKSLASH, '');
    this.pos += 2;
    switch (c) {
      case 0x61: return 0x07; // \a
      case 0x66: return 0x0c; // \f
      case 0x74: return 0x09; // \t
      case 0x6e: return 0x0a; // \n
      case 0x72: return 0x0d; // \r
      case 0x76: return 0x0b; // \v
      case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case 0x36: case 0x37: {
        // A single non-zero digit would be a backreference: Go has none.
        if (c !== 0x30 && !isOctal(p.charCodeAt(this.pos))) break;
        let v = c - 0x30;
        for (let k = 0; k < 2 && isOctal(p.charCodeAt(this.pos)); k++) {
          v = v * 8 + (p.charCodeAt(this.pos) - 0x30);
          this.pos++;
        }
        return v;
      }
      case 0x78: /* x */ {
        if (p[this.pos] === '{') {
          const close = p.indexOf('}', this.pos + 1);
          const digits = close < 0 ? '' : p.slice(this.pos + 1, close);
          if (close < 0 || digits.length === 0 || !/^[0-9A-Fa-f]+$/.test(digits) || parseInt(digits, 16) > 0x10ffff) break;
          this.pos = close + 1;
          return parseInt(digits, 16);
        }
        const h1 = hexValue(p.charCodeAt(this.pos));
        const h2 = hexValue(p.charCodeAt(this.pos + 1));
        if (h1 < 0 || h2 < 0) break;
        this.pos += 2;
        return h1 * 16 + h2;
      }
      default:
        if (c < 0x80 && !isAsciiAlnum(c)) return c;
    }
    throw new GoRegexpSyntaxError(ERR_INVALID_ESCAPE, p.slice(start, Math.min(this.pos, p.length)));
  }

  /**
   * `\pN`, `\p{Name}`, `\PN`, `\P{^Name}`; `pos` is at the backslash. Returns the JavaScript
   * property escape, or for `Any` (which is not one) whether it is negated.
   */
  private parseUnicodeClass(): { js?: string; negatedAny?: boolean } {
    const p = this.p;
    const start = this.pos;
    let neg = p[this.pos + 1] === 'P';
    this.pos += 2;
    let name: string;
    if (p[this.pos] === '{') {
      const close = p.indexOf('}', this.pos);
      if (close < 0) throw new GoRegexpSyntaxError(ERR_INVALID_CLASS_RANGE, p.slice(start));
      name = p.slice(this.pos + 1, close);
      this.pos = close + 1;
    } else {
      const cp = p.codePointAt(this.pos);
      if (cp === undefined) throw new GoRegexpSyntaxError(ERR_INVALID_CLASS_RANGE, p.slice(start));
      name = String.fromCodePoint(cp);
      this.pos += name.length;
    }
    if (name.startsWith('^')) {
      neg = !neg;
      name = name.slice(1);
    }
    const text = p.slice(start, this.pos);
    let js: string;
    if (name === 'Any') return { negatedAny: neg };
    if (GENERAL_CATEGORIES.has(name)) js = `\\${neg ? 'P' : 'p'}{${name}}`;
    else if (/^[A-Za-z_]+$/.test(name)) {
      js = `\\${neg ? 'P' : 'p'}{Script=${name}}`;
      try {
        new RegExp(js, 'u');
      } catch {
        throw new GoRegexpSyntaxError(ERR_INVALID_CLASS_RANGE, text);
      }
    } else throw new GoRegexpSyntaxError(ERR_INVALID_CLASS_RANGE, text);
    return { js };
  }

  /** A bracket class; `pos` is at `[`. */
  private parseClass(): string {
    const p = this.p;
    const start = this.pos;
    this.pos++;
    let neg = false;
    if (p[this.pos] === '^') {
      neg = true;
      this.pos++;
    }
    const items: ClassItem[] = [];
    let first = true;
    for (;;) {
      if (this.pos >= p.length) throw new GoRegexpSyntaxError(ERR_MISSING_BRACKET, p.slice(start));
      const c = p[this.pos]!;
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      // [:alpha:] and [:^alpha:]
      if (c === '[' && p[this.pos + 1] === ':') {
        const close = p.indexOf(':]', this.pos + 2);
        if (close >= 0) {
          let name = p.slice(this.pos + 2, close);
          let n = false;
          if (name.startsWith('^')) {
            n = true;
            name = name.slice(1);
          }
          const ranges = POSIX_CLASSES[name];
          if (ranges === undefined) throw new GoRegexpSyntaxError(ERR_INVALID_CLASS_RANGE, p.slice(this.pos, close + 2));
          this.pos = close + 2;
          this.pushRanges(items, ranges, n);
          continue;
        }
      }
      if (c === '\\') {
        const e = p.charCodeAt(this.pos + 1);
        if (e === 0x64 || e === 0x44 || e === 0x73 || e === 0x53 || e === 0x77 || e === 0x57) {
          this.pos += 2;
          this.pushRanges(items, PERL_CLASSES[String.fromCharCode(e | 0x20)]!, e < 0x61);
          continue;
        }
        if (e === 0x70 || e === 0x50) {
          const u = this.parseUnicodeClass();
          if (u.js !== undefined) items.push({ raw: u.js });
          else if (u.negatedAny !== true) items.push([0, 0x10ffff]);
          continue;
        }
      }
      const lo = this.parseClassChar(start);
      if (p[this.pos] === '-' && this.pos + 1 < p.length && p[this.pos + 1] !== ']') {
        const rangeStart = this.pos - 1;
        this.pos++;
        const hi = this.parseClassChar(start);
        if (hi < lo) throw new GoRegexpSyntaxError(ERR_INVALID_CLASS_RANGE, p.slice(rangeStart, this.pos));
        items.push([lo, hi]);
      } else {
        items.push([lo, lo]);
      }
    }
    const ranges: Array<readonly [number, number]> = [];
    const raws: string[] = [];
    for (const it of items) {
      if ('raw' in it) raws.push(it.raw);
      else if (this.flags.i) addFolded(ranges, it[0], it[1]);
      else ranges.push(it);
    }
    return this.renderClass(ranges, neg, raws);
  }

  private pushRanges(items: ClassItem[], ranges: ReadonlyArray<readonly [number, number]>, negated: boolean): void {
    if (!negated) {
      for (const r of ranges) items.push(r);
      return;
    }
    let next = 0;
    for (const [lo, hi] of [...ranges].sort((a, b) => a[0] - b[0])) {
      if (lo > next) items.push([next, lo - 1]);
      next = Math.max(next, hi + 1);
    }
    if (next <= 0x10ffff) items.push([next, 0x10ffff]);
  }

  /** One character of a class (literal or escape). */
  private parseClassChar(classStart: number): number {
    const p = this.p;
    if (this.pos >= p.length) throw new GoRegexpSyntaxError(ERR_MISSING_BRACKET, p.slice(classStart));
    if (p[this.pos] === '\\') return this.parseEscapeChar();
    const cp = p.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  private renderClass(ranges: ReadonlyArray<readonly [number, number]>, neg: boolean, raws: readonly string[] = []): string {
    let body = '';
    for (const [lo, hi] of ranges) body += lo === hi ? lit(lo) : `${lit(lo)}-${lit(hi)}`;
    for (const r of raws) body += r;
    if (body === '') return neg ? '[^]' : '[]';
    return `[${neg ? '^' : ''}${body}]`;
  }
}
