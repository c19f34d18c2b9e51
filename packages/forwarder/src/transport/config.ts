import path from 'node:path';
import { ErrorCode, KennelError } from '@kennel/core';
import { DEFAULT_SITE, resolveIntakeUrl } from './endpoints.js';

/**
 * Forwarder options. Each one is the agent's `datadog.yaml` key in camelCase, named in its TSDoc
 * and in {@link FORWARDER_CONFIG_KEYS}; durations are in seconds, as the agent's keys are.
 * Defaults are the agent's (`pkg/config/setup/common_settings.go`, `forwarder()`) except where
 * a default says "kennel".
 */
export interface ForwarderOptions {
  /** `api_key`: sent as `DD-Api-Key`, never logged. Required. */
  readonly apiKey: string;
  /** `dd_url` (`DD_DD_URL`, `DD_URL`): the intake base URL; wins over `site`. @defaultValue `''` */
  readonly ddUrl?: string;
  /** `site` (`DD_SITE`). @defaultValue `'datadoghq.com'` */
  readonly site?: string;
  /**
   * `convert_dd_site_fqdn.enabled`: a trailing dot on known Datadog sites (`app.datadoghq.com.`).
   * @defaultValue `false` (kennel; the agent's default is `true`)
   */
  readonly convertDdSiteFqdn?: boolean;
  /** `skip_ssl_validation`: accept any TLS certificate from the intake. @defaultValue `false` */
  readonly skipSslValidation?: boolean;
  /** `forwarder_timeout`: seconds per request, connect to last response byte. @defaultValue `20` */
  readonly timeout?: number;
  /** `forwarder_max_concurrent_requests`: requests in flight. @defaultValue `10` */
  readonly maxConcurrentRequests?: number;
  /** `forwarder_retry_queue_payloads_max_size`: payload bytes held for retry. @defaultValue `15728640` (15 MiB) */
  readonly retryQueuePayloadsMaxSize?: number;
  /** `forwarder_backoff_base`: seconds. @defaultValue `2` */
  readonly backoffBase?: number;
  /** `forwarder_backoff_factor`: values under 2 are read as 2. @defaultValue `2` */
  readonly backoffFactor?: number;
  /** `forwarder_backoff_max`: seconds. @defaultValue `64` */
  readonly backoffMax?: number;
  /** `forwarder_recovery_interval`: errors forgiven per successful probe. @defaultValue `2` */
  readonly recoveryInterval?: number;
  /** `forwarder_recovery_reset`: one successful probe forgives every error. @defaultValue `false` */
  readonly recoveryReset?: boolean;
  /** `forwarder_high_prio_buffer_size`: new payloads waiting for a free request slot; more go to the retry queue. @defaultValue `100` */
  readonly highPrioBufferSize?: number;
  /** `forwarder_low_prio_buffer_size`: retried payloads waiting for a free request slot. @defaultValue `100` */
  readonly lowPrioBufferSize?: number;
  /** `forwarder_storage_max_size_in_bytes`: bytes of retry files on disk; 0 turns disk spill off. @defaultValue `0` */
  readonly storageMaxSizeInBytes?: number;
  /** `forwarder_storage_path`: where retry files go; empty is `<run_path>/transactions_to_retry`. @defaultValue `''` */
  readonly storagePath?: string;
  /** `run_path`: the agent's state folder. @defaultValue `'/opt/datadog-agent/run'` */
  readonly runPath?: string;
  /** `forwarder_storage_max_disk_ratio`: no retry file is written that would fill the disk past this share. @defaultValue `0.8` */
  readonly storageMaxDiskRatio?: number;
  /** `forwarder_outdated_file_in_days`: retry files older than this are removed at start. @defaultValue `10` */
  readonly outdatedFileInDays?: number;
  /** `forwarder_flush_to_disk_mem_ratio`: share of the retry queue moved to disk at a time. @defaultValue `0.5` */
  readonly flushToDiskMemRatio?: number;
  /** `forwarder_stop_timeout`: seconds `drain()` waits by default. @defaultValue `10` (kennel; the agent waits 2) */
  readonly stopTimeout?: number;
  /** `logging_frequency`: log the first success, then every Nth; 0 logs none. @defaultValue `500` */
  readonly loggingFrequency?: number;
  /** kennel: seconds between retry passes (a constant 5 s in the agent's `domain_forwarder.go`). @defaultValue `5` */
  readonly retryInterval?: number;
}

/** The resolved, frozen forwarder configuration. `apiKey` is not enumerable, so it stays out of `JSON.stringify`. */
export interface ForwarderConfig {
  readonly apiKey: string;
  /** The intake base URL (`resolveIntakeUrl`), no trailing slash. */
  readonly url: string;
  readonly ddUrl: string;
  readonly site: string;
  readonly convertDdSiteFqdn: boolean;
  readonly skipSslValidation: boolean;
  readonly timeout: number;
  readonly maxConcurrentRequests: number;
  readonly retryQueuePayloadsMaxSize: number;
  readonly backoffBase: number;
  readonly backoffFactor: number;
  readonly backoffMax: number;
  readonly recoveryInterval: number;
  readonly recoveryReset: boolean;
  readonly highPrioBufferSize: number;
  readonly lowPrioBufferSize: number;
  readonly storageMaxSizeInBytes: number;
  /** `forwarder_storage_path`, defaulted: `<run_path>/transactions_to_retry` when empty. */
  readonly storagePath: string;
  readonly runPath: string;
  readonly storageMaxDiskRatio: number;
  readonly outdatedFileInDays: number;
  readonly flushToDiskMemRatio: number;
  readonly stopTimeout: number;
  readonly loggingFrequency: number;
  readonly retryInterval: number;
}

type Tunable = Exclude<keyof ForwarderOptions, 'apiKey'>;

/** The defaults of every option but `apiKey`. */
export const FORWARDER_DEFAULTS: Readonly<Required<Pick<ForwarderOptions, Tunable>>> = Object.freeze({
  ddUrl: '',
  site: DEFAULT_SITE,
  convertDdSiteFqdn: false,
  skipSslValidation: false,
  timeout: 20,
  maxConcurrentRequests: 10,
  retryQueuePayloadsMaxSize: 15 * 1024 * 1024,
  backoffBase: 2,
  backoffFactor: 2,
  backoffMax: 64,
  recoveryInterval: 2,
  recoveryReset: false,
  highPrioBufferSize: 100,
  lowPrioBufferSize: 100,
  storageMaxSizeInBytes: 0,
  storagePath: '',
  runPath: '/opt/datadog-agent/run',
  storageMaxDiskRatio: 0.8,
  outdatedFileInDays: 10,
  flushToDiskMemRatio: 0.5,
  stopTimeout: 10,
  loggingFrequency: 500,
  retryInterval: 5,
});

/** Option name → the agent's `datadog.yaml` key (`retryInterval` is kennel's own). */
export const FORWARDER_CONFIG_KEYS = Object.freeze({
  apiKey: 'api_key',
  ddUrl: 'dd_url',
  site: 'site',
  convertDdSiteFqdn: 'convert_dd_site_fqdn.enabled',
  skipSslValidation: 'skip_ssl_validation',
  timeout: 'forwarder_timeout',
  maxConcurrentRequests: 'forwarder_max_concurrent_requests',
  retryQueuePayloadsMaxSize: 'forwarder_retry_queue_payloads_max_size',
  backoffBase: 'forwarder_backoff_base',
  backoffFactor: 'forwarder_backoff_factor',
  backoffMax: 'forwarder_backoff_max',
  recoveryInterval: 'forwarder_recovery_interval',
  recoveryReset: 'forwarder_recovery_reset',
  highPrioBufferSize: 'forwarder_high_prio_buffer_size',
  lowPrioBufferSize: 'forwarder_low_prio_buffer_size',
  storageMaxSizeInBytes: 'forwarder_storage_max_size_in_bytes',
  storagePath: 'forwarder_storage_path',
  runPath: 'run_path',
  storageMaxDiskRatio: 'forwarder_storage_max_disk_ratio',
  outdatedFileInDays: 'forwarder_outdated_file_in_days',
  flushToDiskMemRatio: 'forwarder_flush_to_disk_mem_ratio',
  stopTimeout: 'forwarder_stop_timeout',
  loggingFrequency: 'logging_frequency',
  retryInterval: 'kennel_forwarder_retry_interval',
} as const satisfies Record<keyof ForwarderOptions, string>);

function invalid(option: keyof ForwarderOptions, rule: string, got: unknown): KennelError {
  // The API key's value is never echoed, not even in a configuration error.
  const shown = option === 'apiKey' ? `a ${typeof got}` : JSON.stringify(got);
  return new KennelError(ErrorCode.CONFIG_INVALID, `${FORWARDER_CONFIG_KEYS[option]} (${option}): ${rule}, got ${shown}`);
}

function num(options: ForwarderOptions, option: Tunable): number {
  const v = options[option] ?? FORWARDER_DEFAULTS[option];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(option, 'expected a finite number', v);
  return v;
}

function whole(options: ForwarderOptions, option: Tunable, min: number): number {
  const v = num(options, option);
  if (!Number.isSafeInteger(v) || v < min) throw invalid(option, `expected a whole number of at least ${min}`, v);
  return v;
}

function bool(options: ForwarderOptions, option: Tunable): boolean {
  const v = options[option] ?? FORWARDER_DEFAULTS[option];
  if (typeof v !== 'boolean') throw invalid(option, 'expected true or false', v);
  return v;
}

function str(options: ForwarderOptions, option: Tunable): string {
  const v = options[option] ?? FORWARDER_DEFAULTS[option];
  if (typeof v !== 'string') throw invalid(option, 'expected a string', v);
  return v;
}

/**
 * Validates forwarder options, fills in the defaults, and resolves the intake URL. Values the
 * agent corrects with a warning are corrected the same way, with the same warning through
 * `warn`: `forwarder_backoff_factor` under 2 becomes 2, a non-positive
 * `forwarder_backoff_base` 2, `forwarder_backoff_max` 64, `forwarder_recovery_interval` 2 and
 * `forwarder_max_concurrent_requests` 1.
 *
 * @throws {@link KennelError} `ERR_CONFIG_INVALID` naming the agent key when a value is malformed
 *   (the API key's value is never part of the message).
 * @example
 * ```ts
 * const config = resolveForwarderConfig({ apiKey: process.env.DD_API_KEY ?? '', site: 'datadoghq.eu' });
 * config.url; // 'https://7-64-0-app.agent.datadoghq.eu'
 * ```
 */
export function resolveForwarderConfig(options: ForwarderOptions, warn: (line: string) => void = () => {}): ForwarderConfig {
  const apiKey: unknown = options.apiKey;
  if (typeof apiKey !== 'string' || apiKey.trim() === '') throw invalid('apiKey', 'expected a non-empty API key', apiKey);

  const ddUrl = str(options, 'ddUrl').trim();
  if (ddUrl !== '') {
    let protocol = '';
    try {
      protocol = new URL(ddUrl).protocol;
    } catch {
      throw invalid('ddUrl', 'expected an http:// or https:// URL', ddUrl);
    }
    if (protocol !== 'http:' && protocol !== 'https:') throw invalid('ddUrl', 'expected an http:// or https:// URL', ddUrl);
  }
  const site = str(options, 'site');
  const convertDdSiteFqdn = bool(options, 'convertDdSiteFqdn');

  const timeout = num(options, 'timeout');
  if (timeout <= 0) throw invalid('timeout', 'expected a number of seconds above 0', timeout);
  let maxConcurrentRequests = whole(options, 'maxConcurrentRequests', Number.MIN_SAFE_INTEGER);
  if (maxConcurrentRequests <= 0) {
    warn(`Invalid forwarder_max_concurrent_requests '${maxConcurrentRequests}', setting to 1`);
    maxConcurrentRequests = 1;
  }

  let backoffFactor = num(options, 'backoffFactor');
  if (backoffFactor < 2) {
    warn(`Configured forwarder_backoff_factor (${backoffFactor}) is less than 2; 2 will be used`);
    backoffFactor = 2;
  }
  let backoffBase = num(options, 'backoffBase');
  if (backoffBase <= 0) {
    warn(`Configured forwarder_backoff_base (${backoffBase}) is not positive; 2 will be used`);
    backoffBase = 2;
  }
  let backoffMax = num(options, 'backoffMax');
  if (backoffMax <= 0) {
    warn(`Configured forwarder_backoff_max (${backoffMax}) is not positive; 64 seconds will be used`);
    backoffMax = 64;
  }
  let recoveryInterval = whole(options, 'recoveryInterval', Number.MIN_SAFE_INTEGER);
  if (recoveryInterval <= 0) {
    warn(`Configured forwarder_recovery_interval (${recoveryInterval}) is not positive; 2 will be used`);
    recoveryInterval = 2;
  }

  const flushToDiskMemRatio = num(options, 'flushToDiskMemRatio');
  if (flushToDiskMemRatio <= 0 || flushToDiskMemRatio > 1) {
    throw invalid('flushToDiskMemRatio', 'expected a ratio above 0 and at most 1', flushToDiskMemRatio);
  }
  const storageMaxDiskRatio = num(options, 'storageMaxDiskRatio');
  if (storageMaxDiskRatio < 0 || storageMaxDiskRatio > 1) {
    throw invalid('storageMaxDiskRatio', 'expected a ratio of at least 0 and at most 1', storageMaxDiskRatio);
  }
  const runPath = str(options, 'runPath');
  const storagePath = str(options, 'storagePath').trim() || path.join(runPath, 'transactions_to_retry');
  const stopTimeout = num(options, 'stopTimeout');
  if (stopTimeout < 0) throw invalid('stopTimeout', 'expected a number of seconds of at least 0', stopTimeout);
  const retryInterval = num(options, 'retryInterval');
  if (retryInterval <= 0) throw invalid('retryInterval', 'expected a number of seconds above 0', retryInterval);

  const config = {
    url: resolveIntakeUrl({ ddUrl, site, convertDdSiteFqdn }),
    ddUrl,
    site,
    convertDdSiteFqdn,
    skipSslValidation: bool(options, 'skipSslValidation'),
    timeout,
    maxConcurrentRequests,
    retryQueuePayloadsMaxSize: whole(options, 'retryQueuePayloadsMaxSize', 0),
    backoffBase,
    backoffFactor,
    backoffMax,
    recoveryInterval,
    recoveryReset: bool(options, 'recoveryReset'),
    highPrioBufferSize: whole(options, 'highPrioBufferSize', 0),
    lowPrioBufferSize: whole(options, 'lowPrioBufferSize', 0),
    storageMaxSizeInBytes: whole(options, 'storageMaxSizeInBytes', 0),
    storagePath,
    runPath,
    storageMaxDiskRatio,
    outdatedFileInDays: whole(options, 'outdatedFileInDays', 0),
    flushToDiskMemRatio,
    stopTimeout,
    loggingFrequency: whole(options, 'loggingFrequency', 0),
    retryInterval,
  };
  Object.defineProperty(config, 'apiKey', { value: apiKey, enumerable: false });
  return Object.freeze(config as typeof config & { readonly apiKey: string });
}
