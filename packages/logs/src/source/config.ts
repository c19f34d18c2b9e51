import { ErrorCode, KennelError } from '@kennel/core';
import { compileProcessingRules, type ProcessingRule } from '../process/rules.js';
import type { LogFormat } from '../process/container-formats.js';
import { resolveFingerprintConfig, type FingerprintConfig } from '../registry/fingerprint.js';

/** `start_position` values (the agent's `TailingMode`). */
export const TailingMode = {
  BEGINNING: 'beginning',
  END: 'end',
  FORCE_BEGINNING: 'forceBeginning',
  FORCE_END: 'forceEnd',
} as const;
export type TailingMode = (typeof TailingMode)[keyof typeof TailingMode];

const TAILING_MODES = new Set<string>(Object.values(TailingMode));

/** Parses a stored or configured tailing mode; `''` and unknown values are `end` (the default). */
export function tailingModeFromString(s: string): { mode: TailingMode; isSet: boolean } {
  return TAILING_MODES.has(s) ? { mode: s as TailingMode, isSet: true } : { mode: 'end', isSet: false };
}

/** What all source entries share. */
interface SourceConfigBase {
  /** The configuration key the entry came from (`logs[0]`), for messages. */
  readonly where: string;
  readonly service: string;
  readonly source: string;
  readonly tags: readonly string[];
  readonly rules: readonly ProcessingRule[];
}

/** A `type: file` entry. */
export interface FileSourceConfig extends SourceConfigBase {
  readonly type: 'file';
  /** A path or a glob (`*`, `?`, `[...]`; `**` with `logs_config.enable_recursive_glob`). */
  readonly path: string;
  readonly excludePaths: readonly string[];
  /** `start_position` as configured, `''` when unset (that is what the registry stores). */
  readonly startPosition: string;
  readonly tailingMode: TailingMode;
  /** Line format: kennel's `format` key, else guessed from the path (Docker's `*-json.log`, `/var/log/pods/`). */
  readonly format: LogFormat;
  /** The entry's `fingerprint_config`, when it has one. */
  readonly fingerprint: FingerprintConfig | undefined;
}

/** A `type: tcp` or `type: udp` entry. */
export interface NetworkSourceConfig extends SourceConfigBase {
  readonly type: 'tcp' | 'udp';
  readonly port: number;
  /**
   * TCP: `idle_timeout` (a Go duration, `30s`, `1m30s`, `500ms`) in milliseconds: a connection
   * that sends nothing for this long is closed (the agent's `SetReadDeadline` before each read,
   * `pkg/logs/launchers/listener/tcp.go`). 0: never (the agent's default).
   */
  readonly idleTimeoutMs: number;
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's `time.ParseDuration` (`1h2m3.5s`, `500ms`, `0`), in milliseconds; `null` when malformed or negative. */
export function parseGoDuration(text: string): number | null {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let ms = 0;
  let at = 0;
  if (text.length === 0) return null;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (m === null) return null;
    ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    at = re.lastIndex;
  }
  return ms;
}

export type LogsSourceConfig = FileSourceConfig | NetworkSourceConfig;

function invalid(message: string): KennelError {
  return new KennelError(ErrorCode.CONFIG_INVALID, message);
}

/** Tags as a list, or as one comma-separated string (both are accepted in `conf.d` files). */
export function parseTags(raw: unknown, where: string): string[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw === 'string') return raw.split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (Array.isArray(raw) && raw.every((t) => typeof t === 'string')) return (raw as string[]).map((t) => t.trim()).filter((t) => t !== '');
  throw invalid(`${where}.tags must be a list of strings or a comma-separated string`);
}

function optString(raw: Record<string, unknown>, key: string, where: string): string {
  const v = raw[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw invalid(`${where}.${key} must be a string`);
  return v;
}

/** The format a path's location implies: Docker's json-file under `/var/lib/docker/containers`, CRI under `/var/log/pods` and `/var/log/containers`. */
export function guessFormat(path: string): LogFormat {
  if (/\/containers\/[^/]+\/[^/]*-json\.log$/.test(path)) return 'docker';
  if (path.startsWith('/var/log/pods/') || path.startsWith('/var/log/containers/')) return 'cri';
  return 'raw';
}

/**
 * Validates one `logs:` entry of an integration config (`conf.d/<name>.d/conf.yaml`, or the
 * `DD_LOGS_CONFIG_...` equivalents).
 *
 * @param where - the entry's key, named in errors (`logs[0]`).
 * @throws KennelError `ERR_CONFIG_INVALID` naming the key and the problem.
 */
export function resolveLogsSourceConfig(raw: unknown, where: string): LogsSourceConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(`${where} must be a mapping`);
  const r = raw as Record<string, unknown>;
  const type = r['type'];
  const service = optString(r, 'service', where);
  const source = optString(r, 'source', where);
  const tags = parseTags(r['tags'], where);
  const rules = compileProcessingRules(r['log_processing_rules'], `${where}.log_processing_rules`);
  const base = { where, service, source, tags, rules };
  if (type === 'file') {
    const path = r['path'];
    if (typeof path !== 'string' || path === '') throw invalid(`${where}.path is required for a file source`);
    const startPosition = optString(r, 'start_position', where);
    if (startPosition !== '' && !TAILING_MODES.has(startPosition)) {
      throw invalid(`${where}.start_position must be one of beginning, end, forceBeginning, forceEnd, got ${startPosition}`);
    }
    const excl = r['exclude_paths'];
    let excludePaths: string[] = [];
    if (excl !== undefined && excl !== null) {
      if (!Array.isArray(excl) || !excl.every((e) => typeof e === 'string')) throw invalid(`${where}.exclude_paths must be a list of paths`);
      excludePaths = excl as string[];
    }
    const fmt = optString(r, 'format', where);
    if (fmt !== '' && fmt !== 'raw' && fmt !== 'docker' && fmt !== 'cri') throw invalid(`${where}.format must be raw, docker or cri, got ${fmt}`);
    const encoding = optString(r, 'encoding', where);
    if (encoding !== '' && encoding.toLowerCase() !== 'utf-8' && encoding.toLowerCase() !== 'utf8') {
      throw invalid(`${where}.encoding ${encoding} is not supported by kennel (only utf-8)`);
    }
    let fingerprint: FingerprintConfig | undefined;
    if (r['fingerprint_config'] !== undefined && r['fingerprint_config'] !== null) {
      try {
        fingerprint = resolveFingerprintConfig(r['fingerprint_config']);
      } catch (e) {
        throw invalid(`${where}.${(e as Error).message}`);
      }
    }
    return Object.freeze({
      ...base,
      type: 'file',
      path,
      excludePaths,
      startPosition,
      tailingMode: tailingModeFromString(startPosition).mode,
      format: fmt === '' ? guessFormat(path) : (fmt as LogFormat),
      fingerprint,
    });
  }
  if (type === 'tcp' || type === 'udp') {
    const port = r['port'];
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw invalid(`${where}.port must be an integer from 0 to 65535 for a ${type} source`);
    const idle = optString(r, 'idle_timeout', where);
    let idleTimeoutMs = 0;
    if (idle !== '') {
      if (type !== 'tcp') throw invalid(`${where}.idle_timeout applies to tcp sources only`);
      const ms = parseGoDuration(idle);
      if (ms === null) throw invalid(`${where}.idle_timeout must be a duration such as 30s, 1m or 500ms, got ${idle}`);
      idleTimeoutMs = ms;
    }
    return Object.freeze({ ...base, type, port, idleTimeoutMs });
  }
  throw invalid(`${where}.type must be file, tcp or udp, got ${String(type)}`);
}
