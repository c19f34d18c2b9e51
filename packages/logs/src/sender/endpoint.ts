import { isIP } from 'node:net';
import { ErrorCode, KennelError } from '@kennel/core';

/** `DD_SITE`'s default (`pkg/config/setup` `DefaultSite`). */
export const DEFAULT_LOGS_SITE = 'datadoghq.com';

/** The HTTPS logs intake host prefix (`comp/logs/agent/config/config.go`, `httpEndpointPrefix`). */
export const LOGS_HTTP_ENDPOINT_PREFIX = 'agent-http-intake.logs.';

/** The v2 API path of the `logs` track (`buildURL` with `EPIntakeVersion2` and track type `logs`). */
export const LOGS_INTAKE_PATH = '/api/v2/logs';

/** What {@link resolveLogsEndpoint} reads: the agent keys that pick the logs intake. */
export interface LogsEndpointOptions {
  /**
   * `logs_config.logs_dd_url` (`DD_LOGS_CONFIG_LOGS_DD_URL`): a proxy or relay, as `host:port`
   * (TLS unless `logsNoSsl`) or as a URL with an `http://` or `https://` scheme (TLS by scheme).
   * Wins over everything else when non-empty.
   */
  readonly logsDdUrl?: string | undefined;
  /**
   * `logs_config.logs_no_ssl`: plain HTTP to a `host:port` `logsDdUrl`.
   * @defaultValue `false`
   */
  readonly logsNoSsl?: boolean | undefined;
  /** `logs_config.dd_url`: replaces `agent-http-intake.logs.<site>` when non-empty (a host, or a URL with a scheme). */
  readonly ddUrl?: string | undefined;
  /** `site` (`DD_SITE`). @defaultValue `'datadoghq.com'` */
  readonly site?: string | undefined;
  /** The API key: `logs_config.api_key` when set, else `api_key`. */
  readonly apiKey: string;
}

/** Where logs go: the agent's `config.Endpoint` for the main HTTP destination. */
export interface LogsEndpoint {
  readonly host: string;
  /** The port given in the configuration; `0` means the scheme's (443 for HTTPS, 80 for HTTP). */
  readonly port: number;
  readonly useSSL: boolean;
  /** The full request URL, `https://agent-http-intake.logs.datadoghq.com/api/v2/logs` by default. */
  readonly url: string;
  readonly apiKey: string;
}

function invalid(key: string, value: string, why: string): KennelError {
  return new KennelError(ErrorCode.CONFIG_INVALID, `${key}: could not parse ${JSON.stringify(value)}: ${why}`);
}

function hasScheme(address: string): boolean {
  return address.startsWith('https://') || address.startsWith('http://');
}

/** `parseURL`: the scheme decides TLS; the port is the URL's, or 0. */
function parseUrl(key: string, address: string): { host: string; port: number; useSSL: boolean } {
  let u: URL;
  try {
    u = new URL(address);
  } catch {
    throw invalid(key, address, 'not a URL');
  }
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  if (host === '') throw invalid(key, address, 'no host');
  return { host, port: u.port === '' ? 0 : Number(u.port), useSSL: u.protocol === 'https:' };
}

/** `parseAddress`: Go's `net.SplitHostPort`, then a numeric port. */
function parseHostPort(key: string, address: string): { host: string; port: number } {
  let host: string;
  let portText: string;
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    if (close < 0 || address[close + 1] !== ':') throw invalid(key, address, 'missing port in address');
    host = address.slice(1, close);
    portText = address.slice(close + 2);
  } else {
    const colon = address.lastIndexOf(':');
    if (colon < 0) throw invalid(key, address, 'missing port in address');
    host = address.slice(0, colon);
    portText = address.slice(colon + 1);
    if (host.includes(':')) throw invalid(key, address, 'too many colons in address');
  }
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw invalid(key, address, `invalid port ${JSON.stringify(portText)}`);
  return { host, port: Number(portText) };
}

function buildUrl(host: string, port: number, useSSL: boolean): string {
  const h = isIP(host) === 6 ? `[${host}]` : host;
  return `${useSSL ? 'https' : 'http'}://${port !== 0 ? `${h}:${port}` : h}${LOGS_INTAKE_PATH}`;
}

/**
 * The main logs endpoint, as the agent's `BuildHTTPEndpointsWithConfig` picks it:
 * `logs_config.logs_dd_url` when set (`host:port`, TLS unless `logs_config.logs_no_ssl`; or a URL
 * whose scheme decides), else `logs_config.dd_url` when set, else
 * `agent-http-intake.logs.<site>` over HTTPS on the default port; always `/api/v2/logs`.
 *
 * @throws {@link KennelError} `ERR_CONFIG_INVALID` naming the key when an address cannot be parsed.
 * @example
 * ```ts
 * resolveLogsEndpoint({ apiKey }).url; // 'https://agent-http-intake.logs.datadoghq.com/api/v2/logs'
 * resolveLogsEndpoint({ apiKey, logsDdUrl: 'relay:10514', logsNoSsl: true }).url; // 'http://relay:10514/api/v2/logs'
 * ```
 */
export function resolveLogsEndpoint(options: LogsEndpointOptions): LogsEndpoint {
  const apiKey = options.apiKey.trim();
  const logsDdUrl = (options.logsDdUrl ?? '').trim();
  if (logsDdUrl !== '') {
    const key = 'logs_config.logs_dd_url';
    if (hasScheme(logsDdUrl)) {
      const { host, port, useSSL } = parseUrl(key, logsDdUrl);
      return Object.freeze({ host, port, useSSL, url: buildUrl(host, port, useSSL), apiKey });
    }
    const { host, port } = parseHostPort(key, logsDdUrl);
    const useSSL = options.logsNoSsl !== true;
    return Object.freeze({ host, port, useSSL, url: buildUrl(host, port, useSSL), apiKey });
  }
  const ddUrl = (options.ddUrl ?? '').trim();
  let site = (options.site ?? '').trim();
  if (site === '') site = DEFAULT_LOGS_SITE;
  const address = ddUrl !== '' ? ddUrl : LOGS_HTTP_ENDPOINT_PREFIX + site;
  if (hasScheme(address)) {
    const { host, port, useSSL } = parseUrl('logs_config.dd_url', address);
    return Object.freeze({ host, port, useSSL, url: buildUrl(host, port, useSSL), apiKey });
  }
  // parseAddressAsHost: the whole address is the host, on the scheme's port.
  return Object.freeze({ host: address, port: 0, useSSL: true, url: buildUrl(address, 0, true), apiKey });
}

/**
 * The endpoint's status line (`Endpoint.GetStatus` with `useHTTP`): `Reliable: Sending compressed
 * logs in HTTPS to agent-http-intake.logs.datadoghq.com on port 443`. Port 0 shows as the
 * scheme's default.
 */
export function formatEndpointStatus(endpoint: Pick<LogsEndpoint, 'host' | 'port' | 'useSSL'>, compressed: boolean, prefix = 'Reliable: '): string {
  const port = endpoint.port !== 0 ? endpoint.port : endpoint.useSSL ? 443 : 80;
  return `${prefix}Sending ${compressed ? 'compressed' : 'uncompressed'} logs in ${endpoint.useSSL ? 'HTTPS' : 'HTTP'} to ${endpoint.host} on port ${port}`;
}
