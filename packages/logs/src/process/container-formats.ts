/**
 * Container log line formats: Docker's `json-file` and the Kubernetes CRI format.
 *
 * @remarks
 * Pure: a line in, its content, status, partial flag and timestamp out; a malformed line is
 * reported with a reason and its raw bytes kept as content, never thrown. The rules are the
 * agent's (`pkg/logs/internal/parsers/dockerfile/docker_file.go`,
 * `pkg/logs/internal/parsers/kubernetes/kubernetes.go`).
 */

/** One parsed container log line. */
export interface ParsedLine {
  content: Buffer;
  /** `info`, `error`, or `''` (a Docker stream other than stdout/stderr). */
  status: string;
  /** The runtime split this line: join it with the next ones. */
  partial: boolean;
  /** The runtime's RFC 3339 timestamp, or `''`. */
  timestamp: string;
  /** `stdout`, `stderr`, or whatever the line says (`''` when unparsed). */
  stream: string;
  /** Why the line could not be parsed, or `''`. */
  error: string;
}

/** The line formats a file tailer decodes. */
export const LogFormat = {
  /** Plain lines. */
  RAW: 'raw',
  /** Docker `json-file`: `{"log":"...\n","stream":"stdout","time":"..."}` per line. */
  DOCKER: 'docker',
  /** Kubernetes CRI: `<time> <stream> <P|F> <content>` per line. */
  CRI: 'cri',
} as const;
export type LogFormat = (typeof LogFormat)[keyof typeof LogFormat];

function field(obj: Record<string, unknown>, name: string): unknown {
  // encoding/json matches keys exactly first, then case-insensitively.
  if (Object.hasOwn(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

/** Parses one Docker `json-file` line (without its trailing newline). */
export function parseDockerJsonLine(line: Buffer): ParsedLine {
  let obj: unknown;
  try {
    obj = JSON.parse(line.toString('utf8'));
  } catch (e) {
    return { content: line, status: 'info', partial: false, timestamp: '', stream: '', error: `cannot parse docker message, invalid JSON: ${(e as Error).message}` };
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    return { content: line, status: 'info', partial: false, timestamp: '', stream: '', error: 'cannot parse docker message, invalid format' };
  }
  const o = obj as Record<string, unknown>;
  const log = field(o, 'log');
  const stream = field(o, 'stream');
  const time = field(o, 'time');
  if ((log !== undefined && log !== null && typeof log !== 'string') || (stream !== undefined && stream !== null && typeof stream !== 'string') || (time !== undefined && time !== null && typeof time !== 'string')) {
    return { content: line, status: 'info', partial: false, timestamp: '', stream: '', error: 'cannot parse docker message, invalid field type' };
  }
  const s = typeof stream === 'string' ? stream : '';
  const status = s === 'stderr' ? 'error' : s === 'stdout' ? 'info' : '';
  let content = Buffer.from(typeof log === 'string' ? log : '', 'utf8');
  let partial = false;
  if (content.length > 0) {
    if (content[content.length - 1] === 0x0a) content = content.subarray(0, content.length - 1);
    else partial = true;
  }
  return { content, status, partial, timestamp: typeof time === 'string' ? time : '', stream: s, error: '' };
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Parses one CRI line (without its trailing newline). */
export function parseCriLine(line: Buffer): ParsedLine {
  const s1 = line.indexOf(0x20);
  const s2 = s1 < 0 ? -1 : line.indexOf(0x20, s1 + 1);
  if (s1 < 0 || s2 < 0) {
    return { content: line, status: 'info', partial: false, timestamp: '', stream: '', error: 'cannot parse the log line' };
  }
  const s3 = line.indexOf(0x20, s2 + 1);
  const timestamp = line.toString('latin1', 0, s1);
  const stream = line.toString('latin1', s1 + 1, s2);
  const flag = line.toString('latin1', s2 + 1, s3 < 0 ? line.length : s3);
  const content = s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1);
  const status = stream === 'stderr' ? 'error' : 'info';
  const valid = RFC3339.test(timestamp);
  return { content, status, partial: flag === 'P', timestamp: valid ? timestamp : '', stream, error: valid ? '' : 'invalid timestamp format' };
}

/** Milliseconds since the epoch of an RFC 3339 timestamp, or `NaN`. */
export function parseRfc3339Ms(ts: string): number {
  if (ts === '') return Number.NaN;
  return Date.parse(ts);
}
