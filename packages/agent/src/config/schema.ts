/**
 * The configuration keys kennel reads, with the Datadog Agent's names, environment variables and
 * defaults (`pkg/config/setup/common_settings.go`, `config.go`, `apm.go`; see
 * `shared/spec/logs-forwarder-config.md` §5). Every yaml key `a.b_c` is also `DD_A_B_C`.
 */

export type KeyType = 'bool' | 'int' | 'float' | 'string' | 'list' | 'json';

export interface KeyDef {
  /** The yaml key, dotted for nested ones. */
  readonly key: string;
  readonly type: KeyType;
  readonly default: unknown;
  /** Extra environment variable names, checked after `DD_<KEY>`. */
  readonly aliases?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** Allowed values for strings and list items. */
  readonly oneOf?: readonly string[];
  /** What the key does, for `--help` and errors. */
  readonly doc: string;
}

const MiB = 1024 * 1024;

export const KEYS: readonly KeyDef[] = [
  // Core
  { key: 'api_key', type: 'string', default: '', doc: 'Datadog API key; empty runs kennel in local mode' },
  { key: 'site', type: 'string', default: 'datadoghq.com', doc: 'Datadog site (datadoghq.com, datadoghq.eu, us3.datadoghq.com, ...)' },
  { key: 'dd_url', type: 'string', default: '', aliases: ['DD_URL'], doc: 'metrics intake URL; overrides site' },
  { key: 'hostname', type: 'string', default: '', doc: 'host name for series without a host: tag; empty uses the OS host name' },
  { key: 'tags', type: 'list', default: [], doc: 'tags added to every metric (kennel runs as a sidecar: the agent adds DD_TAGS to every metric on Fargate)' },
  { key: 'extra_tags', type: 'list', default: [], doc: 'more tags added with tags' },
  { key: 'env', type: 'string', default: '', doc: 'the env tag' },
  { key: 'run_path', type: 'string', default: '/opt/datadog-agent/run', doc: 'where kennel keeps state (auth token, spilled payloads, log offsets)' },
  { key: 'cmd_host', type: 'string', default: 'localhost', doc: 'status/IPC listener host (loopback only)' },
  { key: 'cmd_port', type: 'int', default: 5001, min: 0, max: 65535, doc: 'status/IPC port; 0 turns it off' },
  { key: 'auth_token_file_path', type: 'string', default: '', doc: 'the session token file guarded IPC calls (kennel flush, kennel stop) need, written at every start, mode 0600; empty is <run_path>/auth_token' },
  { key: 'server_timeout', type: 'int', default: 30, min: 1, max: 3600, doc: 'seconds a status/IPC request may take to arrive, headers and body (slower ones are answered 408 and closed)' },
  { key: 'cmd_max_connections', type: 'int', default: 64, min: 1, max: 65535, doc: 'status/IPC connections held at once; more are closed at once (counted); kennel-specific' },
  { key: 'log_level', type: 'string', default: 'info', oneOf: ['trace', 'debug', 'info', 'warn', 'error', 'critical', 'off'], doc: 'log level' },
  // DogStatsD
  { key: 'use_dogstatsd', type: 'bool', default: true, doc: 'run the DogStatsD server' },
  { key: 'dogstatsd_port', type: 'int', default: 8125, min: 0, max: 65535, doc: 'UDP port; 0 turns UDP off' },
  { key: 'dogstatsd_socket', type: 'string', default: '/var/run/datadog/dsd.socket', doc: 'Unix datagram socket path; empty turns it off' },
  { key: 'dogstatsd_non_local_traffic', type: 'bool', default: false, doc: 'listen for UDP on every interface instead of 127.0.0.1' },
  { key: 'dogstatsd_buffer_size', type: 'int', default: 8192, min: 1, max: 1 << 20, doc: 'bytes read per datagram' },
  { key: 'dogstatsd_so_rcvbuf', type: 'int', default: 0, min: 0, max: 1 << 30, doc: 'kernel receive buffer to ask for (0: OS default)' },
  { key: 'dogstatsd_packet_buffer_size', type: 'int', default: 32, min: 1, max: 4096, doc: 'datagrams read per batch' },
  { key: 'dogstatsd_reader_thread', type: 'bool', default: true, doc: 'read the DogStatsD sockets on a thread of the native addon\'s own, into a ring that absorbs pauses of the main thread (false: read on the event loop); kennel-specific' },
  { key: 'dogstatsd_reader_ring_size', type: 'int', default: 32 * 1024 * 1024, min: 2 * 1024 * 1024, max: 1 << 30, doc: 'bytes of each reader thread\'s ring (datagrams packed, in 1 MiB slabs); when it is full the thread waits and the kernel buffer fills; kennel-specific' },
  { key: 'kennel_memory_trim_interval', type: 'int', default: 30, min: 0, max: 3600, doc: 'seconds between trims of freed malloc memory (glibc malloc_trim, as the Go runtime scavenges for the agent; 0: never); kennel-specific' },
  { key: 'dogstatsd_packet_buffer_flush_timeout', type: 'int', default: 100, min: 1, max: 60000, doc: 'ms before a partial batch goes to the aggregator' },
  { key: 'dogstatsd_queue_size', type: 'int', default: 1024, min: 1, max: 1 << 20, doc: 'batches queued per aggregation shard before new ones are dropped (counted)' },
  { key: 'dogstatsd_tags', type: 'list', default: [], doc: 'tags added to every DogStatsD metric, event and service check' },
  { key: 'dogstatsd_origin_detection_client', type: 'bool', default: false, doc: 'read |c:, |e:, |card: fields' },
  { key: 'dogstatsd_no_aggregation_pipeline', type: 'bool', default: true, doc: 'read |T timestamps and send those samples unaggregated' },
  { key: 'dogstatsd_expiry_seconds', type: 'int', default: 300, min: 0, max: 86400, doc: 'seconds a counter keeps reporting 0 after its last sample' },
  { key: 'dogstatsd_context_expiry_seconds', type: 'int', default: 20, min: 0, max: 86400, doc: 'seconds a context is kept without samples' },
  { key: 'dogstatsd_eol_required', type: 'list', default: [], oneOf: ['udp', 'uds', 'named_pipe'], doc: 'transports whose last line must end with a newline' },
  { key: 'dogstatsd_string_interner_size', type: 'int', default: 4096, min: 0, max: 1 << 24, doc: 'distinct strings each shard interns' },
  { key: 'dogstatsd_pipeline_count', type: 'int', default: 1, min: 1, max: 64, doc: 'aggregation shards (worker threads)' },
  { key: 'dogstatsd_context_limit', type: 'int', default: 1_000_000, min: 1, max: 1 << 30, doc: 'contexts per shard before new ones are dropped (counted); kennel-specific' },
  { key: 'histogram_aggregates', type: 'list', default: ['max', 'median', 'avg', 'count'], doc: 'histogram aggregates (max min median avg sum count)' },
  { key: 'histogram_percentiles', type: 'list', default: ['0.95'], doc: 'histogram percentiles, as strings in 0..1' },
  // Forwarder and serializer
  { key: 'forwarder_timeout', type: 'int', default: 20, min: 1, max: 3600, doc: 'seconds per intake request' },
  { key: 'forwarder_max_concurrent_requests', type: 'int', default: 10, min: 1, max: 1000, doc: 'requests in flight per intake' },
  { key: 'forwarder_retry_queue_payloads_max_size', type: 'int', default: 15 * MiB, min: 0, max: 2 ** 31, doc: 'bytes of payloads kept for retry; oldest dropped first (counted)' },
  { key: 'forwarder_backoff_base', type: 'float', default: 2, min: 0, max: 3600, doc: 'retry backoff base (seconds)' },
  { key: 'forwarder_backoff_factor', type: 'float', default: 2, min: 0, max: 100, doc: 'retry backoff factor (values under 2 are read as 2)' },
  { key: 'forwarder_backoff_max', type: 'float', default: 64, min: 0, max: 86400, doc: 'longest retry backoff (seconds)' },
  { key: 'forwarder_recovery_interval', type: 'int', default: 2, min: 1, max: 1000, doc: 'errors forgiven per success after an outage' },
  { key: 'forwarder_storage_max_size_in_bytes', type: 'int', default: 0, min: 0, max: 2 ** 50, doc: 'bytes of payloads spilled to disk when the retry queue is full; 0 turns disk off' },
  { key: 'forwarder_storage_path', type: 'string', default: '', doc: 'where spilled payloads go; empty is <run_path>/transactions_to_retry' },
  { key: 'forwarder_storage_max_disk_ratio', type: 'float', default: 0.8, min: 0, max: 1, doc: 'no spill writes while the disk is fuller than this' },
  { key: 'forwarder_outdated_file_in_days', type: 'int', default: 10, min: 0, max: 3650, doc: 'spill files older than this are removed at start' },
  { key: 'forwarder_flush_to_disk_mem_ratio', type: 'float', default: 0.5, min: 0, max: 1, doc: 'share of the retry queue moved to disk at a time' },
  { key: 'forwarder_stop_timeout', type: 'int', default: 10, min: 0, max: 3600, doc: 'seconds to drain the forwarder at shutdown (kennel: 10; the agent waits 2)' },
  { key: 'serializer_compressor_kind', type: 'string', default: 'zstd', doc: 'zstd, zlib (deflate) or anything else for none' },
  { key: 'serializer_zstd_compressor_level', type: 'int', default: 1, min: 1, max: 22, doc: 'zstd level' },
  { key: 'serializer_max_payload_size', type: 'int', default: 2621440, min: 1024, max: 1 << 30, doc: 'compressed bytes per payload (sketches, JSON)' },
  { key: 'serializer_max_uncompressed_payload_size', type: 'int', default: 4194304, min: 1024, max: 1 << 30, doc: 'uncompressed bytes per payload (sketches, JSON)' },
  { key: 'serializer_max_series_payload_size', type: 'int', default: 512000, min: 1024, max: 1 << 30, doc: 'compressed bytes per v2 series payload' },
  { key: 'serializer_max_series_uncompressed_payload_size', type: 'int', default: 5242880, min: 1024, max: 1 << 30, doc: 'uncompressed bytes per v2 series payload' },
  { key: 'serializer_max_series_points_per_payload', type: 'int', default: 10000, min: 1, max: 1 << 24, doc: 'points per v2 series payload' },
  { key: 'use_v2_api.series', type: 'bool', default: true, doc: 'send series as v2 protobuf (false: v1 JSON)' },
  // Logs (the agent's logs_config keys, pkg/config/setup/common_settings.go and config.go)
  { key: 'logs_enabled', type: 'bool', default: false, doc: 'collect the logs of the logs: entries (kennel run -- CMD collects the child\'s output whatever this says)' },
  { key: 'logs', type: 'json', default: [], doc: 'log sources, entries as an integration\'s logs: list (type file with path, tcp or udp with port; service, source, tags, log_processing_rules, start_position)' },
  { key: 'service', type: 'string', default: '', doc: 'the service of the child\'s logs (kennel run -- CMD); empty is the command\'s name' },
  { key: 'logs_config.logs_dd_url', type: 'string', default: '', doc: 'logs intake as host:port (TLS unless logs_no_ssl) or a URL; empty is https://agent-http-intake.logs.<site>' },
  { key: 'logs_config.logs_no_ssl', type: 'bool', default: false, doc: 'plain HTTP to a host:port logs_dd_url' },
  { key: 'logs_config.dd_url', type: 'string', default: '', doc: 'replaces agent-http-intake.logs.<site> (a host, or a URL)' },
  { key: 'logs_config.api_key', type: 'string', default: '', doc: 'API key for logs; empty is api_key' },
  { key: 'logs_config.batch_wait', type: 'float', default: 5, min: 0.1, max: 10, doc: 'seconds before a batch that is not full is sent' },
  { key: 'logs_config.batch_max_size', type: 'int', default: 1000, min: 1, max: 1 << 20, doc: 'logs per payload' },
  { key: 'logs_config.batch_max_content_size', type: 'int', default: 5_000_000, min: 1, max: 1 << 30, doc: 'uncompressed bytes of the events of one payload; a larger event is dropped (counted)' },
  { key: 'logs_config.payload_channel_size', type: 'int', default: 10, min: 1, max: 10_000, doc: 'payloads waiting for the intake before the sources are paused' },
  { key: 'logs_config.use_compression', type: 'bool', default: true, doc: 'compress logs payloads' },
  { key: 'logs_config.compression_kind', type: 'string', default: 'zstd', doc: 'zstd or gzip (anything else is zstd, with a warning)' },
  { key: 'logs_config.zstd_compression_level', type: 'int', default: 1, min: -131072, max: 22, doc: 'zstd level' },
  { key: 'logs_config.compression_level', type: 'int', default: 6, min: -1, max: 9, doc: 'gzip level' },
  { key: 'logs_config.http_timeout', type: 'int', default: 10, min: 1, max: 3600, doc: 'seconds per logs request' },
  { key: 'logs_config.sender_backoff_base', type: 'float', default: 1, min: 0.001, max: 3600, doc: 'seconds; the retry wait after n errors is about base * 2^n' },
  { key: 'logs_config.sender_backoff_factor', type: 'float', default: 2, min: 1, max: 100, doc: 'each retry wait is drawn from [t / factor, t]' },
  { key: 'logs_config.sender_backoff_max', type: 'float', default: 120, min: 0.001, max: 86400, doc: 'the longest retry wait, seconds (logs are retried forever on 5xx, 404, 408, 429 and network errors)' },
  { key: 'logs_config.sender_recovery_interval', type: 'int', default: 2, min: 0, max: 1000, doc: 'errors forgiven per success' },
  { key: 'logs_config.sender_recovery_reset', type: 'bool', default: false, doc: 'one success forgives every error' },
  { key: 'logs_config.stop_grace_period', type: 'int', default: 30, min: 1, max: 3600, doc: 'seconds the logs sender may take to send what is left at shutdown (what is not sent is read again after a restart, for files)' },
  { key: 'logs_config.run_path', type: 'string', default: '', doc: 'where registry.json (the file offsets) is kept; empty is run_path' },
  { key: 'logs_config.auditor_ttl', type: 'int', default: 23, min: 1, max: 100_000, doc: 'hours an offset of a file no longer tailed is kept' },
  { key: 'logs_config.atomic_registry_write', type: 'bool', default: true, doc: 'write registry.json to a temporary file, then rename it' },
  { key: 'logs_config.processing_rules', type: 'json', default: [], doc: 'global processing rules (exclude_at_match, include_at_match, mask_sequences), before each source\'s; a JSON list in DD_LOGS_CONFIG_PROCESSING_RULES' },
  { key: 'logs_config.max_message_size_bytes', type: 'int', default: 900_000, min: 1, max: 1 << 30, doc: 'longer lines are cut with ...TRUNCATED... markers' },
  { key: 'logs_config.aggregation_timeout', type: 'int', default: 1000, min: 1, max: 3_600_000, doc: 'ms before a pending multi-line group or partial line is sent' },
  { key: 'logs_config.tag_truncated_logs', type: 'bool', default: false, doc: 'tag cut lines truncated:<reason>' },
  { key: 'logs_config.tag_multi_line_logs', type: 'bool', default: false, doc: 'tag aggregated lines multiline:<how>' },
  { key: 'logs_config.use_container_timestamp', type: 'bool', default: false, doc: 'a container line\'s own time is the event\'s timestamp' },
  { key: 'logs_config.file_scan_period', type: 'float', default: 1, min: 0.01, max: 3600, doc: 'seconds between two checks of globs and rotations' },
  { key: 'logs_config.close_timeout', type: 'int', default: 60, min: 0, max: 86400, doc: 'seconds a rotated-away file is still read' },
  { key: 'logs_config.open_files_limit', type: 'int', default: 500, min: 1, max: 1 << 20, doc: 'files tailed at once' },
  { key: 'logs_config.file_wildcard_selection_mode', type: 'string', default: 'by_name', oneOf: ['by_name', 'by_modification_time'], doc: 'which files a glob keeps past open_files_limit' },
  { key: 'logs_config.enable_recursive_glob', type: 'bool', default: false, doc: '** in a path matches any number of directories' },
  { key: 'logs_config.use_sourcehost_tag', type: 'bool', default: true, doc: 'tag TCP/UDP logs source_host:<peer>' },
  { key: 'logs_config.frame_size', type: 'int', default: 9000, min: 1, max: 1 << 20, doc: 'bytes read of each UDP log datagram' },
  // Logs of kennel run -- CMD: kennel's own keys
  { key: 'logs_config.child_service', type: 'string', default: '', doc: 'kennel run -- CMD: the service of the child\'s logs; empty is service (DD_SERVICE), else the command\'s name' },
  { key: 'logs_config.child_source', type: 'string', default: '', doc: 'kennel run -- CMD: the source (ddsource) of the child\'s logs; empty is the command\'s name' },
  { key: 'logs_config.child_echo', type: 'bool', default: true, doc: 'kennel run -- CMD: also write the child\'s stdout and stderr to kennel\'s, so the container log still shows them' },
  // APM (pkg/config/setup/apm.go; defaults from pkg/trace/config/config.go New())
  { key: 'apm_config.enabled', type: 'bool', default: true, aliases: ['DD_APM_ENABLED'], doc: 'run the trace receiver and the APM pipeline' },
  { key: 'apm_config.receiver_enabled', type: 'bool', default: true, aliases: ['DD_APM_RECEIVER_ENABLED'], doc: 'listen for traces (false: APM off)' },
  { key: 'apm_config.receiver_port', type: 'int', default: 8126, min: 0, max: 65535, aliases: ['DD_APM_RECEIVER_PORT', 'DD_RECEIVER_PORT'], doc: 'trace receiver TCP port; 0 turns TCP off' },
  { key: 'apm_config.receiver_socket', type: 'string', default: '/var/run/datadog/apm.socket', aliases: ['DD_APM_RECEIVER_SOCKET'], doc: 'trace receiver Unix socket (HTTP); empty turns it off' },
  { key: 'apm_config.apm_non_local_traffic', type: 'bool', default: false, aliases: ['DD_APM_NON_LOCAL_TRAFFIC'], doc: 'listen for traces on every interface instead of 127.0.0.1' },
  { key: 'apm_config.max_payload_size', type: 'int', default: 25 * MiB, min: 1, max: 2 ** 31, aliases: ['DD_APM_MAX_PAYLOAD_SIZE'], doc: 'largest request body the trace receiver reads (max_request_bytes); larger ones are answered 413' },
  { key: 'apm_config.receiver_timeout', type: 'int', default: 0, min: 0, max: 3600, aliases: ['DD_APM_RECEIVER_TIMEOUT'], doc: 'seconds a trace request may take to arrive and be answered; 0 is 5' },
  { key: 'apm_config.connection_limit', type: 'int', default: 0, min: 0, max: 1 << 30, aliases: ['DD_APM_CONNECTION_LIMIT', 'DD_CONNECTION_LIMIT'], doc: 'new TCP connections accepted per 30 s (more wait); 0: no limit' },
  { key: 'apm_config.max_connections', type: 'int', default: 1000, min: 0, max: 1 << 20, aliases: ['DD_APM_MAX_CONNECTIONS'], doc: 'trace connections served at once (more wait); 0: no limit' },
  { key: 'apm_config.apm_dd_url', type: 'string', default: '', aliases: ['DD_APM_DD_URL'], doc: 'trace intake URL; empty is https://trace.agent.<site>' },
  { key: 'apm_config.env', type: 'string', default: '', aliases: ['DD_APM_ENV'], doc: 'env of traces without one; empty uses env, else none' },
  { key: 'apm_config.target_traces_per_second', type: 'float', default: 10, min: 0, max: 1e9, aliases: ['DD_APM_TARGET_TPS', 'DD_APM_MAX_TPS', 'DD_MAX_TPS'], doc: 'the priority sampler target (rate_by_service)' },
  { key: 'apm_config.errors_per_second', type: 'float', default: 10, min: 0, max: 1e9, aliases: ['DD_APM_ERROR_TPS'], doc: 'the errors sampler target (reported in trace payloads)' },
  { key: 'apm_config.max_events_per_second', type: 'float', default: 200, min: 0, max: 1e9, aliases: ['DD_APM_MAX_EPS', 'DD_MAX_EPS'], doc: 'APM events per second (reported in /info; kennel extracts no events)' },
  { key: 'apm_config.bucket_size_seconds', type: 'int', default: 10, min: 1, max: 3600, doc: 'APM stats bucket length' },
  { key: 'apm_config.compute_stats_by_span_kind', type: 'bool', default: true, aliases: ['DD_APM_COMPUTE_STATS_BY_SPAN_KIND'], doc: 'compute stats for server, consumer, client and producer spans too' },
  { key: 'apm_config.peer_tags_aggregation', type: 'bool', default: true, aliases: ['DD_APM_PEER_TAGS_AGGREGATION'], doc: 'aggregate client spans by peer tags in APM stats' },
  { key: 'apm_config.peer_tags', type: 'list', default: [], aliases: ['DD_APM_PEER_TAGS'], doc: 'peer tags added to the default ones' },
  { key: 'apm_config.profiling_dd_url', type: 'string', default: '', aliases: ['DD_APM_PROFILING_DD_URL'], doc: 'profiles go here instead of https://intake.profile.<site>/api/v2/profile' },
  { key: 'apm_config.telemetry.enabled', type: 'bool', default: true, aliases: ['DD_APM_TELEMETRY_ENABLED'], doc: 'serve /telemetry/proxy/' },
  { key: 'apm_config.telemetry.dd_url', type: 'string', default: '', aliases: ['DD_APM_TELEMETRY_DD_URL'], doc: 'tracer telemetry goes here instead of https://instrumentation-telemetry-intake.<site>' },
  { key: 'apm_config.debugger_dd_url', type: 'string', default: '', aliases: ['DD_APM_DEBUGGER_DD_URL'], doc: 'dynamic instrumentation logs go here instead of the logs intake' },
  { key: 'apm_config.debugger_diagnostics_dd_url', type: 'string', default: '', aliases: ['DD_APM_DEBUGGER_DIAGNOSTICS_DD_URL'], doc: 'debugger diagnostics go here instead of https://debugger-intake.<site>/api/v2/debugger' },
  { key: 'apm_config.symdb_dd_url', type: 'string', default: '', aliases: ['DD_APM_SYMDB_DD_URL'], doc: 'symbol database uploads go here instead of https://debugger-intake.<site>/api/v2/debugger' },
  { key: 'evp_proxy_config.enabled', type: 'bool', default: true, doc: 'serve /evp_proxy/v1..v4/' },
  { key: 'evp_proxy_config.dd_url', type: 'string', default: '', doc: 'the domain EVP subdomains are prefixed to; empty is the site' },
  { key: 'evp_proxy_config.max_payload_size', type: 'int', default: 5 * MiB, min: 1, max: 2 ** 31, doc: 'largest EVP proxy body' },
  // Local mode (no API key): kennel's own keys, not the agent's
  { key: 'local_intake.max_age_seconds', type: 'int', default: 1800, min: 1, max: 7 * 86400, doc: 'local mode: seconds the local intake keeps what would have been sent (the page and /api show this window); older payloads are dropped (counted)' },
  { key: 'local_intake.max_bytes', type: 'int', default: 256 * MiB, min: MiB, max: 2 ** 40, doc: 'local mode: decompressed bytes the local intake keeps; past this the oldest payloads are dropped (counted)' },
];

export const KEY_BY_NAME: ReadonlyMap<string, KeyDef> = new Map(KEYS.map((k) => [k.key, k]));

/** `a.b_c` → `DD_A_B_C`. */
export function envName(key: string): string {
  return 'DD_' + key.toUpperCase().replaceAll('.', '_');
}
