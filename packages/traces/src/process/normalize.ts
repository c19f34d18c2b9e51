/**
 * The trace-agent's string normalisation: tag and tag-value normalisation, span-name (metric-name)
 * normalisation, service fallbacks and UTF-8-safe truncation.
 *
 * @remarks
 * Behaviour restated from `DataDog/datadog-agent` `pkg/trace/traceutil/normalize/normalize.go`
 * (`NormalizeTag`, `NormalizeTagValue`, `NormalizeName`, `NormalizeService`,
 * `NormalizePeerService`, `normMetricNameParse`), `pkg/trace/traceutil/truncate.go`
 * (`TruncateUTF8`) and `pkg/trace/agent/normalizer.go` (`isValidStatusCode`); Apache-2.0. The
 * implementation is ours: it works on JS strings (already decoded, so every code point is valid;
 * a lone surrogate counts as U+FFFD, 3 bytes) and measures lengths in UTF-8 bytes as Go's `len`
 * does.
 */

/** `DefaultSpanName`: the name a span gets when it has none or only invalid characters. */
export const DEFAULT_SPAN_NAME = 'unnamed_operation';
/** `DefaultServiceName`: the service a span gets when it has none and the tracer language is unknown. */
export const DEFAULT_SERVICE_NAME = 'unnamed-service';
/** `MaxNameLen`, bytes. */
export const MAX_NAME_LEN = 100;
/** `MaxServiceLen`, bytes. */
export const MAX_SERVICE_LEN = 100;
/** `MaxResourceLen` (the `apm_config.max_resource_len` default), bytes. */
export const MAX_RESOURCE_LEN = 5000;
/** `MaxTypeLen` (`pkg/trace/agent/normalizer.go`), bytes. */
export const MAX_TYPE_LEN = 100;
/** `MaxMetaKeyLen` (`pkg/trace/agent/truncator.go`), bytes. */
export const MAX_META_KEY_LEN = 200;
/** `MaxMetaValLen`, bytes. */
export const MAX_META_VAL_LEN = 25_000;
/** `MaxMetricsKeyLen`, bytes. */
export const MAX_METRICS_KEY_LEN = 200;
/** The most characters a normalised tag keeps (`maxTagLength`). */
export const MAX_TAG_LEN = 200;
/** `Year2000NanosecTS`: a span starting before 2000-01-01T00:00:00Z has a broken start. */
export const YEAR_2000_NS = 946_684_800_000_000_000n;

/** Why a name or service was changed: the agent's `ErrEmpty`, `ErrTooLong`, `ErrInvalid`. */
export const NormalizeError = { NONE: 0, EMPTY: 1, TOO_LONG: 2, INVALID: 3 } as const;
export type NormalizeError = (typeof NormalizeError)[keyof typeof NormalizeError];

/** A normalised value and why it changed. */
export interface Normalized {
  readonly value: string;
  readonly error: NormalizeError;
}

/** UTF-8 length of the code point `cp` (a lone surrogate is written as U+FFFD, 3 bytes). */
function cpBytes(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** The UTF-8 byte length of `s`, as Go's `len` of the same string. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        // A pair: 2 UTF-16 units, 4 bytes.
        n += 2;
        i++;
        continue;
      }
      n += 2;
    } else n += 2;
  }
  return n;
}

/**
 * The longest prefix of `s` of at most `limit` UTF-8 bytes that does not split a character
 * (`TruncateUTF8`). `s` itself when it fits.
 */
export function truncateUTF8(s: string, limit: number): string {
  if (s.length * 3 <= limit) return s;
  let bytes = 0;
  for (let i = 0; i < s.length; ) {
    const cp = s.codePointAt(i)!;
    const w = cp >= 0xd800 && cp <= 0xdfff ? 3 : cpBytes(cp);
    if (bytes + w > limit) return s.slice(0, i);
    bytes += w;
    i += cp > 0xffff ? 2 : 1;
  }
  return s;
}

// Character classes of the tag normaliser's fast path (ASCII only).
function isStartChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || c === 0x3a; // a-z, ':'
}
function isTagChar(c: number): boolean {
  return isStartChar(c) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2f || c === 0x2d; // 0-9 . / -
}

/** `isNormalizedASCIITag`: already a valid tag, so normalisation returns it as it is. */
function isNormalizedASCIITag(tag: string, checkStart: boolean): boolean {
  const n = tag.length;
  if (n === 0) return true;
  if (n > MAX_TAG_LEN) return false;
  let i = 0;
  if (checkStart) {
    if (!isStartChar(tag.charCodeAt(0))) return false;
    i++;
  }
  for (; i < n; i++) {
    const c = tag.charCodeAt(i);
    if (isTagChar(c)) continue;
    // An underscore is fine only when a valid non-underscore character follows it.
    if (c !== 0x5f) return false;
    i++;
    if (i === n || !isTagChar(tag.charCodeAt(i))) return false;
  }
  return true;
}

const UPPER = /\p{Lu}/u;
const LETTER = /\p{L}/u;
const DIGIT = /\p{Nd}/u;

function normalize(v: string, removeDigitStart: boolean): string {
  if (isNormalizedASCIITag(v, removeDigitStart)) return v;
  let out = '';
  let chars = 0;
  // An illegal run seen since the last kept character: it becomes one '_' if a kept character
  // follows, and is dropped at the end.
  let cut = false;
  let byte = 0;
  for (let i = 0; i < v.length; ) {
    let cp = v.codePointAt(i)!;
    const units = cp > 0xffff ? 2 : 1;
    const lone = cp >= 0xd800 && cp <= 0xdfff;
    const jump = lone ? 3 : cpBytes(cp);
    let keep = false;
    if ((cp >= 0x61 && cp <= 0x7a) || cp === 0x3a) {
      keep = true;
      chars++;
    } else if (cp >= 0x41 && cp <= 0x5a) {
      cp += 0x20;
      keep = true;
      chars++;
    } else if (lone) {
      // U+FFFD: not a letter, digit or punctuation we keep.
      if (removeDigitStart && chars === 0) {
        // trimmed
      } else {
        chars++;
        cut = true;
      }
    } else {
      let ch = String.fromCodePoint(cp);
      if (cp >= 0x80 && UPPER.test(ch)) {
        // Lowercase, but only when the lowercase letter has the same UTF-8 width (U+017F-style
        // edge cases keep their letter).
        const low = ch.toLowerCase();
        const lcp = low.codePointAt(0)!;
        if (low.length === (lcp > 0xffff ? 2 : 1) && cpBytes(lcp) === jump) {
          cp = lcp;
          ch = low;
        }
      }
      if (cp >= 0x80 ? LETTER.test(ch) : false) {
        keep = true;
        chars++;
      } else if (removeDigitStart && chars === 0) {
        // A leading character that is not a letter is trimmed.
      } else if ((cp >= 0x30 && cp <= 0x39) || cp === 0x2e || cp === 0x2f || cp === 0x2d || (cp >= 0x80 && DIGIT.test(ch))) {
        keep = true;
        chars++;
      } else {
        chars++;
        cut = true;
      }
    }
    if (keep) {
      if (cut) {
        out += '_';
        cut = false;
      }
      out += String.fromCodePoint(cp);
    }
    // Bail out on tags with many multi-byte characters, and at the maximum length.
    if (byte + jump >= 2 * MAX_TAG_LEN || chars >= MAX_TAG_LEN) break;
    byte += jump;
    i += units;
  }
  return out;
}

/**
 * `NormalizeTag`: lowercases, keeps letters, digits, `:`, `.`, `/` and `-`, turns every other run
 * into one `_`, drops leading non-letters and trailing invalid runs, and keeps at most 200
 * characters.
 */
export function normalizeTag(v: string): string {
  return normalize(v, true);
}

/** `NormalizeTagValue`: as {@link normalizeTag}, but a value may start with a digit or any kept character. */
export function normalizeTagValue(v: string): string {
  return normalize(v, false);
}

function isAlpha(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}
function isAlphaNum(c: number): boolean {
  return isAlpha(c) || (c >= 0x30 && c <= 0x39);
}

/** `isValidNormalizedMetricName`, from the first alphabetic character. */
function isValidMetricName(name: string, from: number): boolean {
  if (from >= name.length || !isAlpha(name.charCodeAt(from))) return false;
  for (let j = from + 1; j < name.length; j++) {
    const b = name.charCodeAt(j);
    const prev = name.charCodeAt(j - 1);
    if (!(isAlphaNum(b) || (b === 0x2e && prev !== 0x5f) || (b === 0x5f && prev !== 0x5f))) return false;
  }
  return true;
}

/**
 * `normMetricNameParse`: drops leading non-letters, keeps `[A-Za-z0-9.]`, turns other runs into
 * one `_` (none after `.` or `_`, and `_.` becomes `.`), and drops one trailing `_`. Null when no
 * letter is left. Works on UTF-16 units: each non-ASCII unit is an "other" character, and runs of
 * them collapse to one `_` exactly as their UTF-8 bytes do in the agent.
 */
function normMetricName(name: string): string | null {
  let i = 0;
  while (i < name.length && !isAlpha(name.charCodeAt(i))) i++;
  if (i === name.length) return null;
  if (isValidMetricName(name, i)) {
    const s = name.slice(i);
    return s.charCodeAt(s.length - 1) === 0x5f ? s.slice(0, -1) : s;
  }
  const res: number[] = [];
  for (; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const last = res[res.length - 1]!;
    if (isAlphaNum(c)) res.push(c);
    else if (c === 0x2e) {
      if (last === 0x5f) res[res.length - 1] = 0x2e;
      else res.push(0x2e);
    } else if (last !== 0x2e && last !== 0x5f) res.push(0x5f);
  }
  if (res[res.length - 1] === 0x5f) res.pop();
  return String.fromCharCode(...res);
}

/** `NormalizeName`: a span name as a metric name, at most 100 bytes; `unnamed_operation` when empty or invalid. */
export function normalizeName(name: string): Normalized {
  if (name.length === 0) return { value: DEFAULT_SPAN_NAME, error: NormalizeError.EMPTY };
  let error: NormalizeError = NormalizeError.NONE;
  if (utf8Length(name) > MAX_NAME_LEN) {
    name = truncateUTF8(name, MAX_NAME_LEN);
    error = NormalizeError.TOO_LONG;
  }
  const n = normMetricName(name);
  if (n === null) return { value: DEFAULT_SPAN_NAME, error: NormalizeError.INVALID };
  return { value: n, error };
}

/** The fallback service for a tracer language: `unnamed-<lang>-service`, or `unnamed-service`. */
export function fallbackService(lang: string): string {
  return lang.length === 0 ? DEFAULT_SERVICE_NAME : `unnamed-${lang}-service`;
}

/** `NormalizeService`: truncated to 100 bytes, then tag-value normalised; the fallback when empty or invalid. */
export function normalizeService(service: string, lang: string): Normalized {
  if (service.length === 0) return { value: fallbackService(lang), error: NormalizeError.EMPTY };
  let error: NormalizeError = NormalizeError.NONE;
  if (utf8Length(service) > MAX_SERVICE_LEN) {
    service = truncateUTF8(service, MAX_SERVICE_LEN);
    error = NormalizeError.TOO_LONG;
  }
  const s = normalizeTagValue(service);
  if (s.length === 0) return { value: fallbackService(lang), error: NormalizeError.INVALID };
  return { value: s, error };
}

/** `NormalizePeerService` (also used for `_dd.base_service`): as a service, but `''` instead of a fallback. */
export function normalizePeerService(service: string): Normalized {
  if (service.length === 0) return { value: '', error: NormalizeError.NONE };
  let error: NormalizeError = NormalizeError.NONE;
  if (utf8Length(service) > MAX_SERVICE_LEN) {
    service = truncateUTF8(service, MAX_SERVICE_LEN);
    error = NormalizeError.TOO_LONG;
  }
  const s = normalizeTagValue(service);
  if (s.length === 0) return { value: '', error: NormalizeError.INVALID };
  return { value: s, error };
}

/** `isValidStatusCode`: a base-10 unsigned integer (Go's `ParseUint`) in [100, 600). */
export function isValidStatusCode(sc: string): boolean {
  if (sc.length === 0) return false;
  for (let i = 0; i < sc.length; i++) {
    const c = sc.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  const code = Number(sc);
  return code >= 100 && code < 600;
}
