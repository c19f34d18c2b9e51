import { ErrorCode, KennelError } from '@kennel/core';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads agent configuration from `DD_*` variables with the agent's names and defaults. A
 * malformed value throws a `KennelError` (`ERR_CONFIG_INVALID`) that names the variable and what
 * was expected, so `kennel run` stops at start instead of failing later.
 */
function invalid(name: string, expected: string, got: string): KennelError {
  return new KennelError(ErrorCode.CONFIG_INVALID, `${name}: expected ${expected}, got ${JSON.stringify(got)}`);
}

/** Booleans as Go's `strconv.ParseBool` reads them (the agent's config casts with it). */
export function envBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  switch (raw.trim()) {
    case '1':
    case 't':
    case 'T':
    case 'true':
    case 'TRUE':
    case 'True':
      return true;
    case '0':
    case 'f':
    case 'F':
    case 'false':
    case 'FALSE':
    case 'False':
      return false;
  }
  throw invalid(name, 'a boolean (true or false)', raw);
}

export function envInt(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const t = raw.trim();
  let ok = t.length > 0;
  for (let i = 0; i < t.length && ok; i++) {
    const c = t.charCodeAt(i);
    ok = (c >= 0x30 && c <= 0x39) || (i === 0 && c === 0x2d);
  }
  const v = ok ? Number(t) : NaN;
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw invalid(name, `a whole number from ${min} to ${max}`, raw);
  }
  return v;
}

/** Lists from the environment are space-separated, as the agent reads them. */
export function envList(env: Env, name: string, fallback: readonly string[]): string[] {
  const raw = env[name];
  if (raw === undefined) return [...fallback];
  const out: string[] = [];
  for (const part of raw.split(' ')) if (part.trim() !== '') out.push(part.trim());
  return out;
}

/** The DogStatsD part of the configuration (`pkg/config/setup/config.go` defaults). */
export interface DogStatsDConfig {
  /** `dogstatsd_port`: 8125; 0 turns UDP off. */
  readonly port: number;
  /** `dogstatsd_non_local_traffic`: false binds 127.0.0.1. */
  readonly nonLocalTraffic: boolean;
  /** `dogstatsd_buffer_size`: 8192 bytes read per datagram. */
  readonly bufferSize: number;
  /** `dogstatsd_so_rcvbuf`: 0 keeps the OS default. */
  readonly soRcvbuf: number;
  /** `dogstatsd_no_aggregation_pipeline`: true reads `|T` timestamps. */
  readonly noAggregationPipeline: boolean;
  /** `dogstatsd_origin_detection_client`: false ignores `|c:`, `|e:`, `|card:`. */
  readonly originDetectionClient: boolean;
  /** `dogstatsd_eol_required`: transports (`udp`, `uds`, `named_pipe`) whose last line needs a newline. */
  readonly eolRequired: readonly string[];
}

const EOL_TRANSPORTS = new Set(['udp', 'uds', 'named_pipe']);

export function resolveDogStatsDConfig(env: Env): DogStatsDConfig {
  const eolRequired = envList(env, 'DD_DOGSTATSD_EOL_REQUIRED', []);
  for (const t of eolRequired) {
    if (!EOL_TRANSPORTS.has(t)) throw invalid('DD_DOGSTATSD_EOL_REQUIRED', 'a list of udp, uds, named_pipe', t);
  }
  return Object.freeze({
    port: envInt(env, 'DD_DOGSTATSD_PORT', 8125, 0, 65535),
    nonLocalTraffic: envBool(env, 'DD_DOGSTATSD_NON_LOCAL_TRAFFIC', false),
    bufferSize: envInt(env, 'DD_DOGSTATSD_BUFFER_SIZE', 8192, 1, 1 << 20),
    soRcvbuf: envInt(env, 'DD_DOGSTATSD_SO_RCVBUF', 0, 0, 1 << 30),
    noAggregationPipeline: envBool(env, 'DD_DOGSTATSD_NO_AGGREGATION_PIPELINE', true),
    originDetectionClient: envBool(env, 'DD_DOGSTATSD_ORIGIN_DETECTION_CLIENT', false),
    eolRequired: Object.freeze(eolRequired),
  });
}
