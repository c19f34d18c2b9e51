import { Endpoint } from '../encoders/types.js';

/**
 * The Datadog Agent version kennel reports: in `DD-Agent-Version`, in
 * `User-Agent: datadog-agent/<version>`, and in the version-prefixed intake host
 * (`7-64-0-app.agent.datadoghq.com`).
 *
 * @remarks
 * kennel emulates Datadog Agent 7.64.0: its payload formats, limits, endpoint names and retry
 * semantics are the ones this package ports. The intake uses the version to decide which payload
 * features an agent understands, so we report the release we actually match rather than a newer
 * one.
 */
export const AGENT_VERSION = '7.64.0';

/**
 * The `DD-Agent-Payload` header sent with every protobuf payload: the version of
 * `github.com/DataDog/agent-payload/v5` the emulated agent was built with.
 *
 * @remarks
 * The agent's serializer sets `DD-Agent-Payload: <version.AgentPayloadVersion>` on protobuf
 * payloads only (`pkg/serializer/serializer.go`, `initExtraHeaders`). The value is the module
 * version from the agent's `go.mod`, with its leading `v` (`tasks/libs/common/utils.py`
 * `get_payload_version`, which checks `^v\d+(\.\d+){2}$`, and the build's
 * `-X .../pkg/version.AgentPayloadVersion=v5.0.174`-style ldflags). Modules released with
 * 7.64 (`v0.64.0-rc.13`, `v0.64.1`) resolve `agent-payload/v5 v5.0.145`.
 */
export const AGENT_PAYLOAD_VERSION = 'v5.0.145';

/** `DD_SITE`'s default (`pkg/config/setup` `DefaultSite`). */
export const DEFAULT_SITE = 'datadoghq.com';

/** The agent's `InfraURLPrefix`. */
const INFRA_URL_PREFIX = 'https://app.';

// Datadog-owned hosts, as the agent's `ddDomainPattern` / `ddSitePattern` / `ddURLRegexp`
// (`pkg/config/utils/endpoints.go`): `app` or `app.mrf`, an optional datacenter label (`us3.`,
// `ap1.`), a known Datadog domain, an optional trailing dot. Only these get the version prefix.
const DD_DOMAIN = String.raw`datad(?:oghq|0g)\.(?:com|eu)|ddog-gov\.(?:com|mil)`;
const DD_SITE = String.raw`([a-z]{2,}\d{1,2}\.)?(` + DD_DOMAIN + ')';
const DD_URL_HOST = new RegExp(String.raw`^app(\.mrf)?\.` + DD_SITE + String.raw`\.?$`);
const WELL_KNOWN_SITE = new RegExp('(?:' + DD_DOMAIN + ')$');

/** What {@link resolveIntakeUrl} reads: the agent keys `dd_url`, `site`, `convert_dd_site_fqdn.enabled`. */
export interface IntakeUrlConfig {
  /** `dd_url` (`DD_DD_URL`, `DD_URL`): wins over `site` when non-empty. */
  readonly ddUrl?: string | undefined;
  /** `site` (`DD_SITE`): `datadoghq.com` when empty. */
  readonly site?: string | undefined;
  /** `convert_dd_site_fqdn.enabled`: a trailing dot on a known Datadog site. kennel's default is `false`. */
  readonly convertDdSiteFqdn?: boolean | undefined;
}

/**
 * The metrics intake base URL (no trailing slash): `dd_url` when set, else `https://app.<site>`;
 * then, for Datadog-owned hosts only, the first label becomes `<major>-<minor>-<patch>-app.agent`.
 *
 * @example
 * resolveIntakeUrl({}) // 'https://7-64-0-app.agent.datadoghq.com'
 * resolveIntakeUrl({ site: 'datadoghq.eu' }) // 'https://7-64-0-app.agent.datadoghq.eu'
 * resolveIntakeUrl({ ddUrl: 'http://127.0.0.1:8080' }) // 'http://127.0.0.1:8080'
 */
export function resolveIntakeUrl(config: IntakeUrlConfig = {}): string {
  const ddUrl = (config.ddUrl ?? '').trim();
  let base: string;
  if (ddUrl !== '') {
    base = ddUrl;
  } else {
    let site = (config.site ?? '').trim();
    if (site === '') site = DEFAULT_SITE;
    // BuildURLWithPrefix: a known Datadog site becomes a fully-qualified name when asked.
    if (config.convertDdSiteFqdn === true && WELL_KNOWN_SITE.test(site) && !site.endsWith('.')) site += '.';
    base = INFRA_URL_PREFIX + site;
  }
  return stripTrailingSlashes(addAgentVersionToDomain(base, 'app'));
}

/**
 * The agent's `AddAgentVersionToDomain`: replaces the first label of a Datadog-owned host with
 * `<major>-<minor>-<patch>-<app>.agent`; any other URL (proxy, custom domain, local intake) is
 * returned as it came. A URL that does not parse is returned as it came too.
 */
export function addAgentVersionToDomain(url: string, app: string, version: string = AGENT_VERSION): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  // Go's url.Host keeps the port as written (WHATWG's URL drops a default one): a port means
  // the host does not match, as in the agent.
  if (!DD_URL_HOST.test(rawHost(url))) return url;
  const [major = '0', minor = '0', patch = '0'] = version.split(/[.+-]/, 3);
  const label = u.host.split('.', 1)[0]!;
  u.host = `${major}-${minor}-${patch}-${app}.agent` + u.host.slice(label.length);
  return u.toString();
}

/** The host and port exactly as written in `url` (no userinfo). */
function rawHost(url: string): string {
  const start = url.indexOf('//');
  if (start < 0) return '';
  let end = url.length;
  for (const stop of ['/', '?', '#']) {
    const i = url.indexOf(stop, start + 2);
    if (i >= 0 && i < end) end = i;
  }
  const authority = url.slice(start + 2, end);
  return authority.slice(authority.lastIndexOf('@') + 1);
}

function stripTrailingSlashes(url: string): string {
  let end = url.length;
  while (end > 0 && url.charCodeAt(end - 1) === 0x2f /* / */) end--;
  return url.slice(0, end);
}

/**
 * The agent's endpoint names (`comp/forwarder/defaultforwarder/endpoints/endpoints.go`), by
 * route: the keys of `SuccessByEndpoint`, `DroppedByEndpoint` and the other per-endpoint counters.
 */
export const ENDPOINT_NAMES: Readonly<Record<Endpoint, string>> = Object.freeze({
  [Endpoint.SERIES_V2]: 'series_v2',
  [Endpoint.SKETCHES]: 'sketches_v2',
  [Endpoint.SERIES_V1]: 'series_v1',
  [Endpoint.CHECK_RUNS]: 'check_run_v1',
  [Endpoint.EVENTS]: 'intake',
});

/** The agent's name for an intake route; an unknown route is named by itself. */
export function endpointName(route: string): string {
  return (ENDPOINT_NAMES as Readonly<Record<string, string>>)[route] ?? route;
}
