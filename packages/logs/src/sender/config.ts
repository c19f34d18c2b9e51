import { ErrorCode, KennelError } from '@kennel/core';

/** The compression `logs_config.compression_kind` resolves to. */
export type LogsCompressionKind = 'zstd' | 'gzip';

/**
 * Sender options. Each one is an agent `datadog.yaml` key under `logs_config.` in camelCase, in
 * the agent's unit (seconds for durations); the key is named in its TSDoc and in
 * {@link LOGS_SENDER_CONFIG_KEYS}. Defaults are the agent's (`pkg/config/setup/config.go`,
 * `bindEnvAndSetLogsConfigKeys`, and `comp/logs/agent/config/config_keys.go`).
 */
export interface LogsSenderOptions {
  /**
   * `logs_config.batch_wait`: seconds between two flushes of a batch that is not full. The agent
   * accepts 0.1 to 10.
   * @defaultValue `5`
   */
  readonly batchWait?: number;
  /**
   * `logs_config.batch_max_size`: events per payload.
   * @defaultValue `1000`
   */
  readonly batchMaxSize?: number;
  /**
   * `logs_config.batch_max_content_size`: the most bytes the encoded events of one payload may
   * add up to, before compression (the agent's `MessageBuffer` counts the events, not the `[`,
   * `,` and `]` around them). An event bigger than this on its own is dropped.
   * @defaultValue `5000000`
   */
  readonly batchMaxContentSize?: number;
  /**
   * `logs_config.payload_channel_size`: payloads waiting for the destination, besides the one in
   * flight. When they are all taken, `send` waits: that is the backpressure.
   * @defaultValue `10`
   */
  readonly payloadChannelSize?: number;
  /**
   * `logs_config.use_compression`.
   * @defaultValue `true`
   */
  readonly useCompression?: boolean;
  /**
   * `logs_config.compression_kind`: `zstd` or `gzip`; anything else falls back to `zstd` with a
   * warning, as the agent does.
   * @defaultValue `'zstd'`
   */
  readonly compressionKind?: string;
  /**
   * `logs_config.zstd_compression_level`.
   * @defaultValue `1`
   */
  readonly zstdCompressionLevel?: number;
  /**
   * `logs_config.compression_level`: the gzip level.
   * @defaultValue `6`
   */
  readonly compressionLevel?: number;
  /**
   * `logs_config.http_timeout`: seconds one request may take, connect to last response byte.
   * @defaultValue `10`
   */
  readonly httpTimeout?: number;
  /**
   * `logs_config.sender_backoff_base`: seconds; after `n` errors the wait is about `base · 2^n`.
   * @defaultValue `1`
   */
  readonly senderBackoffBase?: number;
  /**
   * `logs_config.sender_backoff_factor`: each wait is drawn from `[t / factor, t]`.
   * @defaultValue `2`
   */
  readonly senderBackoffFactor?: number;
  /**
   * `logs_config.sender_backoff_max`: seconds, the longest wait.
   * @defaultValue `120`
   */
  readonly senderBackoffMax?: number;
  /**
   * `logs_config.sender_recovery_interval`: errors forgiven per success.
   * @defaultValue `2`
   */
  readonly senderRecoveryInterval?: number;
  /**
   * `logs_config.sender_recovery_reset`: one success forgives every error.
   * @defaultValue `false`
   */
  readonly senderRecoveryReset?: boolean;
  /**
   * `logs_config.stop_grace_period`: seconds `close()` waits for queued payloads before it
   * abandons them (their messages stay unacknowledged, so they are read again after a restart).
   * @defaultValue `30`
   */
  readonly stopGracePeriod?: number;
  /**
   * `logs_config.use_container_timestamp`: the event's `timestamp` is the message's own
   * (`LogMessage.timestamp`, the container's when the source parsed one) instead of the clock at
   * encode time.
   * @defaultValue `false`
   */
  readonly useContainerTimestamp?: boolean;
}

/** The resolved, frozen sender configuration, durations in milliseconds. */
export interface LogsSenderConfig {
  readonly batchWaitMs: number;
  readonly batchMaxSize: number;
  readonly batchMaxContentSize: number;
  readonly payloadChannelSize: number;
  readonly useCompression: boolean;
  readonly compressionKind: LogsCompressionKind;
  /** The level of `compressionKind`: `zstd_compression_level` or `compression_level`. */
  readonly compressionLevel: number;
  readonly httpTimeoutMs: number;
  readonly backoff: {
    /** Seconds. */
    readonly base: number;
    readonly factor: number;
    /** Seconds. */
    readonly max: number;
    readonly recoveryInterval: number;
    readonly recoveryReset: boolean;
  };
  readonly stopGracePeriodMs: number;
  readonly useContainerTimestamp: boolean;
}

/** The agent's defaults for every option. */
export const LOGS_SENDER_DEFAULTS: Readonly<Required<LogsSenderOptions>> = Object.freeze({
  batchWait: 5,
  batchMaxSize: 1000,
  batchMaxContentSize: 5_000_000,
  payloadChannelSize: 10,
  useCompression: true,
  compressionKind: 'zstd',
  zstdCompressionLevel: 1,
  compressionLevel: 6,
  httpTimeout: 10,
  senderBackoffBase: 1,
  senderBackoffFactor: 2,
  senderBackoffMax: 120,
  senderRecoveryInterval: 2,
  senderRecoveryReset: false,
  stopGracePeriod: 30,
  useContainerTimestamp: false,
});

/** Option name → the agent's `datadog.yaml` key (and so `DD_<KEY>` in the environment). */
export const LOGS_SENDER_CONFIG_KEYS = Object.freeze({
  batchWait: 'logs_config.batch_wait',
  batchMaxSize: 'logs_config.batch_max_size',
  batchMaxContentSize: 'logs_config.batch_max_content_size',
  payloadChannelSize: 'logs_config.payload_channel_size',
  useCompression: 'logs_config.use_compression',
  compressionKind: 'logs_config.compression_kind',
  zstdCompressionLevel: 'logs_config.zstd_compression_level',
  compressionLevel: 'logs_config.compression_level',
  httpTimeout: 'logs_config.http_timeout',
  senderBackoffBase: 'logs_config.sender_backoff_base',
  senderBackoffFactor: 'logs_config.sender_backoff_factor',
  senderBackoffMax: 'logs_config.sender_backoff_max',
  senderRecoveryInterval: 'logs_config.sender_recovery_interval',
  senderRecoveryReset: 'logs_config.sender_recovery_reset',
  stopGracePeriod: 'logs_config.stop_grace_period',
  useContainerTimestamp: 'logs_config.use_container_timestamp',
} as const satisfies Record<keyof LogsSenderOptions, string>);

function invalid(option: keyof LogsSenderOptions, rule: string, got: unknown): KennelError {
  return new KennelError(ErrorCode.CONFIG_INVALID, `${LOGS_SENDER_CONFIG_KEYS[option]} (${option}): ${rule}, got ${JSON.stringify(got)}`);
}

function positive(options: LogsSenderOptions, option: keyof LogsSenderOptions): number {
  const v = options[option] ?? LOGS_SENDER_DEFAULTS[option];
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw invalid(option, 'expected a number greater than 0', v);
  return v;
}

function whole(options: LogsSenderOptions, option: keyof LogsSenderOptions, min: number): number {
  const v = options[option] ?? LOGS_SENDER_DEFAULTS[option];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw invalid(option, `expected a whole number of at least ${min}`, v);
  return v;
}

function bool(options: LogsSenderOptions, option: keyof LogsSenderOptions): boolean {
  const v = options[option] ?? LOGS_SENDER_DEFAULTS[option];
  if (typeof v !== 'boolean') throw invalid(option, 'expected true or false', v);
  return v;
}

export interface ResolveLogsSenderConfigOptions {
  /** Where the one-line warnings go (an unknown `compression_kind`). @defaultValue `process.emitWarning` */
  readonly warn?: (line: string) => void;
}

/**
 * Validates sender options and fills in the agent's defaults.
 *
 * @throws {@link KennelError} `ERR_CONFIG_INVALID` naming the agent key when a value is malformed
 * or out of range.
 * @example
 * ```ts
 * const config = resolveLogsSenderConfig({ compressionKind: 'gzip', batchWait: 1 });
 * config.batchWaitMs; // 1000
 * config.compressionLevel; // 6
 * ```
 */
export function resolveLogsSenderConfig(options: LogsSenderOptions = {}, resolveOptions: ResolveLogsSenderConfigOptions = {}): LogsSenderConfig {
  const batchWait = positive(options, 'batchWait');
  if (batchWait < 0.1 || batchWait > 10) throw invalid('batchWait', 'expected seconds from 0.1 to 10', batchWait);
  let kind = options.compressionKind ?? LOGS_SENDER_DEFAULTS.compressionKind;
  if (typeof kind !== 'string') throw invalid('compressionKind', 'expected a string', kind);
  if (kind !== 'zstd' && kind !== 'gzip') {
    // The agent's words (comp/logs/agent/config/config_keys.go, compressionKind).
    (resolveOptions.warn ?? ((line: string) => process.emitWarning(line, 'KennelWarning')))(
      `Invalid compression kind: '${kind}', falling back to default compression: 'zstd' `,
    );
    kind = 'zstd';
  }
  const compressionKind = kind as LogsCompressionKind;
  const compressionLevel =
    compressionKind === 'zstd' ? whole(options, 'zstdCompressionLevel', -131072) : whole(options, 'compressionLevel', -1);
  if (compressionKind === 'zstd' && compressionLevel > 22) throw invalid('zstdCompressionLevel', 'expected a whole number up to 22', compressionLevel);
  if (compressionKind === 'gzip' && compressionLevel > 9) throw invalid('compressionLevel', 'expected a whole number from -1 to 9', compressionLevel);
  const base = positive(options, 'senderBackoffBase');
  const max = positive(options, 'senderBackoffMax');
  if (max < base) throw invalid('senderBackoffMax', `expected at least ${LOGS_SENDER_CONFIG_KEYS.senderBackoffBase} (${base})`, max);
  const factor = positive(options, 'senderBackoffFactor');
  if (factor < 1) throw invalid('senderBackoffFactor', 'expected a number of at least 1', factor);
  return Object.freeze({
    batchWaitMs: batchWait * 1000,
    batchMaxSize: whole(options, 'batchMaxSize', 1),
    batchMaxContentSize: whole(options, 'batchMaxContentSize', 1),
    payloadChannelSize: whole(options, 'payloadChannelSize', 1),
    useCompression: bool(options, 'useCompression'),
    compressionKind,
    compressionLevel,
    httpTimeoutMs: positive(options, 'httpTimeout') * 1000,
    backoff: Object.freeze({
      base,
      factor,
      max,
      recoveryInterval: whole(options, 'senderRecoveryInterval', 0),
      recoveryReset: bool(options, 'senderRecoveryReset'),
    }),
    stopGracePeriodMs: positive(options, 'stopGracePeriod') * 1000,
    useContainerTimestamp: bool(options, 'useContainerTimestamp'),
  });
}
