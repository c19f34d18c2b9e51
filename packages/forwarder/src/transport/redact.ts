/**
 * API-key redaction. The key travels only in the `DD-Api-Key` header; it never appears in an
 * error message, a log line or status. Status shows it the way the agent does.
 */

const STARS_27 = '***************************';
const STARS_32 = STARS_27 + '*****';

/**
 * The API key as status and logs show it: 27 `*` and the last 5 characters, the agent's API-key
 * scrubber replacement (`pkg/util/scrubber`, `***************************$1` for a 32-character
 * key). `(none)` for an empty key; a key under 10 characters is masked whole, since its last 5
 * would be half of it.
 *
 * @example
 * redactApiKey('0123456789abcdef0123456789abcdef') // '***************************bcdef'
 */
export function redactApiKey(key: string): string {
  if (key === '') return '(none)';
  if (key.length < 10) return STARS_32;
  return STARS_27 + key.slice(-5);
}

// The agent scrubber's API-key pattern: 32 hex digits, the last 5 kept.
const HEX_API_KEY = /\b[a-fA-F0-9]{27}([a-fA-F0-9]{5})\b/g;

/**
 * Returns `scrub(text)`: `text` with every occurrence of `apiKey` redacted, and any other
 * 32-hex-digit key redacted as the agent's scrubber does. Every log line and error message the
 * forwarder produces goes through it.
 */
export function createScrubber(apiKey: string): (text: string) => string {
  const redacted = redactApiKey(apiKey);
  return (text: string): string => {
    let out = text;
    if (apiKey !== '' && out.includes(apiKey)) out = out.split(apiKey).join(redacted);
    return out.replace(HEX_API_KEY, STARS_27 + '$1');
  };
}

/** A URL as logs and status show it: a password in it becomes `********` (the agent scrubber's URL rule). */
export function scrubUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  if (u.password === '') return url;
  u.password = '********';
  const out = u.toString();
  return !url.endsWith('/') && out.endsWith('/') ? out.slice(0, -1) : out;
}
