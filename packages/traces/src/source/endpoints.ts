/**
 * The trace-agent's HTTP API on :8126 (`pkg/trace/api/endpoints.go`, `api.go` `buildMux`,
 * `info.go`; `shared/spec/traces.md` a.1, a.7): every endpoint, what it does, and the `/info`
 * discovery document with the hash the agent sends as `Datadog-Agent-State`. No I/O here.
 */
import { createHash } from 'node:crypto';
import type { JsonTraceVersion, MsgpackTraceVersion } from '../decode/types.js';

/** The endpoint versions of the trace endpoints (`Version` in `api.go`, and the `EndpointVersion` tag). */
export type TraceEndpointVersion = 'v0.1' | 'v0.2' | 'v0.3' | 'v0.4' | 'v0.5' | 'v0.7';

/** The products the receiver proxies to their intakes (`shared/spec/traces.md` d.5). */
export type ProxyProduct =
  | 'profiling'
  | 'telemetry'
  | 'pipeline_stats'
  | 'openlineage'
  | 'evp_proxy'
  | 'debugger_logs'
  | 'debugger_diagnostics'
  | 'debugger_v2'
  | 'symdb'
  | 'tracer_flare';

export type EndpointHandling =
  | { readonly kind: 'traces'; readonly version: TraceEndpointVersion }
  | { readonly kind: 'services'; readonly version: TraceEndpointVersion }
  | { readonly kind: 'stats' }
  | { readonly kind: 'dogstatsd' }
  | { readonly kind: 'proxy'; readonly product: ProxyProduct; /** The prefix taken off the path before it is forwarded. */ readonly strip?: string };

export interface EndpointDef {
  /** The `ServeMux` pattern: exact, or a prefix when it ends with `/`. */
  readonly pattern: string;
  /** Served but not listed in `/info` (`Hidden`). */
  readonly hidden: boolean;
  readonly handling: EndpointHandling;
}

const traces = (pattern: string, version: TraceEndpointVersion, hidden = false): EndpointDef => ({ pattern, hidden, handling: { kind: 'traces', version } });
const services = (pattern: string, version: TraceEndpointVersion, hidden = false): EndpointDef => ({ pattern, hidden, handling: { kind: 'services', version } });
const proxy = (pattern: string, product: ProxyProduct, strip?: string): EndpointDef => ({
  pattern,
  hidden: false,
  handling: strip === undefined ? { kind: 'proxy', product } : { kind: 'proxy', product, strip },
});

/**
 * Every endpoint, in the order `/info` lists them. `/v0.7/config` (remote configuration) and
 * `/v1.0/traces` are only registered by the agent when enabled; kennel has neither, so they
 * answer 404 as the agent's mux does.
 */
export const ENDPOINTS: readonly EndpointDef[] = Object.freeze([
  traces('/spans', 'v0.1', true),
  services('/services', 'v0.1', true),
  traces('/v0.1/spans', 'v0.1', true),
  services('/v0.1/services', 'v0.1', true),
  traces('/v0.2/traces', 'v0.2', true),
  services('/v0.2/services', 'v0.2', true),
  traces('/v0.3/traces', 'v0.3'),
  services('/v0.3/services', 'v0.3'),
  traces('/v0.4/traces', 'v0.4'),
  services('/v0.4/services', 'v0.4'),
  traces('/v0.5/traces', 'v0.5'),
  traces('/v0.7/traces', 'v0.7'),
  proxy('/profiling/v1/input', 'profiling'),
  proxy('/telemetry/proxy/', 'telemetry', '/telemetry/proxy'),
  { pattern: '/v0.6/stats', hidden: false, handling: { kind: 'stats' } },
  proxy('/v0.1/pipeline_stats', 'pipeline_stats'),
  proxy('/openlineage/api/v1/lineage', 'openlineage'),
  proxy('/evp_proxy/v1/', 'evp_proxy', '/evp_proxy/v1'),
  proxy('/evp_proxy/v2/', 'evp_proxy', '/evp_proxy/v2'),
  proxy('/evp_proxy/v3/', 'evp_proxy', '/evp_proxy/v3'),
  proxy('/evp_proxy/v4/', 'evp_proxy', '/evp_proxy/v4'),
  proxy('/debugger/v1/input', 'debugger_logs'),
  proxy('/debugger/v1/diagnostics', 'debugger_diagnostics'),
  proxy('/debugger/v2/input', 'debugger_v2'),
  proxy('/symdb/v1/input', 'symdb'),
  { pattern: '/dogstatsd/v1/proxy', hidden: false, handling: { kind: 'dogstatsd' } },
  { pattern: '/dogstatsd/v2/proxy', hidden: false, handling: { kind: 'dogstatsd' } },
  proxy('/tracer_flare/v1', 'tracer_flare'),
]);

/**
 * Go `ServeMux` matching: an exact pattern matches its path only; a pattern ending in `/`
 * matches every path under it, the longest pattern winning. Null when nothing matches (404).
 */
export function matchEndpoint(path: string, endpoints: readonly EndpointDef[] = ENDPOINTS): EndpointDef | null {
  let best: EndpointDef | null = null;
  for (const e of endpoints) {
    if (e.pattern.endsWith('/')) {
      if (path.startsWith(e.pattern) && (best === null || e.pattern.length > best.pattern.length)) best = e;
    } else if (path === e.pattern) {
      return e;
    }
  }
  return best;
}

/** The decoder version of a trace endpoint and media type (`decodeTracerPayload`, `decodeRequest`). */
export function traceDecoding(
  version: TraceEndpointVersion,
  mediaType: string,
): { readonly format: 'msgpack'; readonly version: MsgpackTraceVersion } | { readonly format: 'json'; readonly version: JsonTraceVersion } | { readonly format: 'json-then-msgpack'; readonly version: 'v0.3' | 'v0.4' } {
  switch (version) {
    case 'v0.1':
      return { format: 'json', version: 'v0.1' };
    case 'v0.5':
      return { format: 'msgpack', version: 'v0.5' };
    case 'v0.7':
      return { format: 'msgpack', version: 'v0.7' };
    case 'v0.2':
      return { format: 'json', version: 'v0.2' };
    default:
      if (mediaType === 'application/msgpack') return { format: 'msgpack', version };
      if (mediaType === 'application/json' || mediaType === 'text/json' || mediaType === '') return { format: 'json', version };
      return { format: 'json-then-msgpack', version };
  }
}

/**
 * Go's `mime.ParseMediaType` as `getMediaType` uses it: the lower-cased type/subtype of a
 * `Content-Type`, `''` when there is none, and `application/json` when it does not parse.
 */
export function mediaTypeOf(contentType: string | undefined): string {
  if (contentType === undefined) return 'application/json';
  const semi = contentType.indexOf(';');
  const t = (semi >= 0 ? contentType.slice(0, semi) : contentType).trim().toLowerCase();
  if (t === '') return 'application/json';
  // A token, a slash, a token (RFC 2045); anything else is a parse error.
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/.test(t)) return 'application/json';
  return t;
}

/** The headers allowed through the EVP proxy (`EvpProxyAllowedHeaders`), also listed in `/info`. */
export const EVP_PROXY_ALLOWED_HEADERS: readonly string[] = Object.freeze(['Content-Type', 'Accept-Encoding', 'Content-Encoding', 'User-Agent', 'DD-CI-PROVIDER-NAME']);

/** The span kinds the concentrator computes stats for when `compute_stats_by_span_kind` is on (`KindsComputed`). */
export const SPAN_KINDS_STATS_COMPUTED: readonly string[] = Object.freeze(['client', 'consumer', 'producer', 'server']);

/** What `/info` describes of the running agent. */
export interface InfoOptions {
  readonly agentVersion: string;
  readonly gitCommit: string;
  /** Endpoints registered (all of {@link ENDPOINTS} unless some are off, telemetry for example). */
  readonly endpoints: readonly EndpointDef[];
  readonly featureFlags?: readonly string[];
  readonly probabilisticSamplerEnabled?: boolean;
  readonly computeStatsBySpanKind: boolean;
  /** `ConfiguredPeerTags`: the default peer tags plus `apm_config.peer_tags`. */
  readonly peerTags: readonly string[];
  readonly ignoreResources?: readonly string[];
  readonly config: {
    readonly defaultEnv: string;
    readonly targetTPS: number;
    readonly maxEPS: number;
    readonly receiverPort: number;
    readonly receiverSocket: string;
    readonly connectionLimit: number;
    readonly receiverTimeout: number;
    readonly maxRequestBytes: number;
    readonly statsdPort: number;
    readonly maxMemory: number;
    readonly maxCPU: number;
  };
}

/** The `/info` body and its hash. */
export interface InfoDocument {
  /** Tab-indented JSON, as `json.MarshalIndent(payload, "", "\t")`. */
  readonly body: string;
  /** SHA-256 of the body, lower-case hex: the `Datadog-Agent-State` header. */
  readonly state: string;
  readonly value: Readonly<Record<string, unknown>>;
}

/**
 * The `/info` document (`infoPayload` in `info.go`), fields in the agent's order.
 *
 * @remarks
 * kennel does not obfuscate spans, so every obfuscation switch reads `false` and
 * `obfuscation_version` is the agent's base version 1: tracers that obfuscate for their own
 * stats keep doing so.
 */
export function buildInfo(o: InfoOptions): InfoDocument {
  const listed = o.endpoints.filter((e) => !e.hidden).map((e) => e.pattern);
  const flags = o.featureFlags ?? [];
  const json = { enabled: false, keep_keys: null };
  const value: Record<string, unknown> = {
    version: o.agentVersion,
    git_commit: o.gitCommit,
    endpoints: listed,
    ...(flags.length > 0 ? { feature_flags: [...flags] } : {}),
    client_drop_p0s: o.probabilisticSamplerEnabled !== true && listed.includes('/v0.6/stats'),
    span_meta_structs: true,
    long_running_spans: true,
    span_events: true,
    evp_proxy_allowed_headers: [...EVP_PROXY_ALLOWED_HEADERS],
    config: {
      default_env: o.config.defaultEnv,
      target_tps: o.config.targetTPS,
      max_eps: o.config.maxEPS,
      receiver_port: o.config.receiverPort,
      receiver_socket: o.config.receiverSocket,
      connection_limit: o.config.connectionLimit,
      receiver_timeout: o.config.receiverTimeout,
      max_request_bytes: o.config.maxRequestBytes,
      statsd_port: o.config.statsdPort,
      max_memory: o.config.maxMemory,
      max_cpu: o.config.maxCPU,
      analyzed_spans_by_service: {},
      obfuscation: {
        elastic_search: false,
        mongo: false,
        sql_exec_plan: false,
        sql_exec_plan_normalize: false,
        sql_obfuscation_mode: '',
        tag_replace_rules: null,
        http: { remove_query_string: false, remove_path_digits: false },
        remove_stack_traces: false,
        redis: { enabled: false, remove_all_args: false },
        valkey: { enabled: false, remove_all_args: false },
        memcached: { enabled: false, keep_command: false },
        credit_cards: { enabled: false, luhn: false },
        sql: {
          replace_digits: false,
          keep_sql_alias: false,
          dollar_quoted_func: false,
          keep_null: false,
          keep_boolean: false,
          keep_positional_parameter: false,
          keep_trailing_semicolon: false,
          keep_identifier_quotation: false,
          replace_bind_parameter: false,
          remove_space_between_parentheses: false,
          keep_json_path: false,
          obfuscation_mode: '',
        },
        elasticsearch: json,
        opensearch: json,
        mongodb: json,
      },
    },
    peer_tags: [...o.peerTags],
    span_kinds_stats_computed: o.computeStatsBySpanKind ? [...SPAN_KINDS_STATS_COMPUTED] : null,
    obfuscation_version: 1,
    filter_tags: {},
    filter_tags_regex: {},
    ...(o.ignoreResources !== undefined && o.ignoreResources.length > 0 ? { ignore_resources: [...o.ignoreResources] } : {}),
  };
  const body = JSON.stringify(value, null, '\t');
  return { body, state: createHash('sha256').update(body).digest('hex'), value };
}
