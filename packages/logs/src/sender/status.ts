import { formatGoDuration, type LogsAgentCounters } from './counters.js';

/** One source of an integration, as the Logs Agent status shows it (the agent's `status.Source`). */
export interface LogsSourceStatus {
  /** `file`, `tcp`, `udp`, `docker`, ... */
  readonly type: string;
  /** The source's settings shown under it: `Path`, `Service`, `Source`, `Port`, ... */
  readonly configuration: Readonly<Record<string, string>>;
  /** `OK`, `Pending`, or `Error: <message>`. */
  readonly status: string;
  /** What it reads: file paths, listening addresses, container ids. */
  readonly inputs: readonly string[];
  /** Lines such as `1 files tailed out of 1 files matching`. */
  readonly messages: readonly string[];
  /** Named values (`BytesRead`, `Average Latency (ms)`, ...); one value prints on the key's line. */
  readonly info: Readonly<Record<string, readonly string[]>>;
}

/** A named group of sources (the agent groups sources by their integration name). */
export interface LogsIntegrationStatus {
  readonly name: string;
  readonly sources: readonly LogsSourceStatus[];
}

/**
 * The `logsStats` object of `kennel status --json`, with the agent's JSON names
 * (`pkg/logs/status/status.go`, `Status`): every metric value is a string, as the agent's
 * `getMetricsStatus` formats it (`RetryTimeSpent` as a Go duration such as `0s`).
 */
export interface LogsAgentStatus {
  readonly is_running: boolean;
  readonly endpoints: readonly string[];
  readonly metrics: Readonly<Record<string, string>>;
  readonly integrations: readonly LogsIntegrationStatus[];
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
  readonly use_http: boolean;
}

/** The metrics the Logs Agent section lists, in the order it prints them (sorted, as Go ranges a map). */
export const LOGS_STATUS_METRICS = [
  'BytesSent',
  'EncodedBytesSent',
  'LogsProcessed',
  'LogsSent',
  'LogsTruncated',
  'RetryCount',
  'RetryTimeSpent',
] as const;

/** The status metric values, formatted as the agent's status builder does. */
export function logsStatusMetrics(counters: LogsAgentCounters): Record<string, string> {
  const c = counters.counters;
  const out: Record<string, string> = {};
  for (const name of LOGS_STATUS_METRICS) {
    out[name] = name === 'RetryTimeSpent' ? formatGoDuration(c.get(name)) : String(Math.trunc(c.get(name)));
  }
  return out;
}

/**
 * The `logs-agent` expvar map (`/debug/vars`), with the agent's names and types:
 * `RetryTimeSpent` in nanoseconds, `DestinationLogsDropped` by host, `SenderLatency` in ms.
 */
export function logsAgentExpvars(counters: LogsAgentCounters, running: boolean, errors: readonly string[] = [], warnings: readonly string[] = []): Record<string, unknown> {
  const c = counters.counters;
  return {
    BytesMissed: c.get('BytesMissed'),
    BytesSent: c.get('BytesSent'),
    DestinationErrors: c.get('DestinationErrors'),
    DestinationLogsDropped: counters.destinationLogsDropped.snapshot(),
    EncodedBytesSent: c.get('EncodedBytesSent'),
    Errors: errors.join(', '),
    IsRunning: running,
    LogsDecoded: c.get('LogsDecoded'),
    LogsProcessed: c.get('LogsProcessed'),
    LogsSent: c.get('LogsSent'),
    LogsTruncated: c.get('LogsTruncated'),
    RetryCount: c.get('RetryCount'),
    RetryTimeSpent: c.get('RetryTimeSpent'),
    SenderLatency: c.get('SenderLatency'),
    Warnings: warnings.join(', '),
  };
}

function sortedEntries<V>(o: Readonly<Record<string, V>>): [string, V][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The Logs Agent section's body, one string per line, as the agent's `logsagent.tmpl` renders it
 * under the section title (which is followed by one blank line): the endpoint lines and metrics
 * indented by 4, then `Errors`, `Warnings` and `Integrations` blocks when there are any.
 * Trailing spaces the template leaves on some lines are not reproduced.
 *
 * @example
 * ```ts
 * formatLogsAgentStatus(sender.logsStats());
 * // ['    Reliable: Sending compressed logs in HTTPS to agent-http-intake.logs.datadoghq.com on port 443',
 * //  '    BytesSent: 0', '    EncodedBytesSent: 0', ..., '    RetryTimeSpent: 0s']
 * ```
 */
export function formatLogsAgentStatus(status: LogsAgentStatus): string[] {
  const lines: string[] = [];
  if (!status.is_running) lines.push('  Logs Agent is not running');
  for (const e of status.endpoints) lines.push(`    ${e}`);
  if (!status.use_http && status.is_running) {
    lines.push(
      '',
      '    You are currently sending Logs to Datadog through TCP (either because logs_config.force_use_tcp or logs_config.socks5_proxy_address is set or the HTTP connectivity test has failed). To benefit from increased reliability and better network performances, we strongly encourage switching over to compressed HTTPS which is now the default protocol.',
    );
  }
  for (const [k, v] of sortedEntries(status.metrics)) lines.push(`    ${k}: ${v}`);
  if (status.errors.length > 0) {
    lines.push('', '  Errors', '  ======');
    for (const e of status.errors) lines.push(`    ${e}`);
  }
  if (status.warnings.length > 0) {
    lines.push('', '  Warnings', '  ========');
    for (const w of status.warnings) lines.push(`    ${w}`);
  }
  if (status.integrations.length > 0) {
    lines.push('  ============', '  Integrations', '  ============');
    for (const integration of status.integrations) {
      lines.push('', `  ${integration.name}`, `  ${'-'.repeat(integration.name.length)}`);
      for (const s of integration.sources) {
        lines.push(`    - Type: ${s.type}`);
        for (const [k, v] of sortedEntries(s.configuration)) lines.push(`      ${k}: ${v}`);
        lines.push(`      Status: ${s.status}`);
        for (const m of s.messages) lines.push(`        ${m}`);
        if (s.inputs.length > 0) {
          lines.push('      Inputs:');
          for (const i of s.inputs) lines.push(`        ${i}`);
        }
        for (const [k, values] of sortedEntries(s.info)) {
          if (values.length === 1) lines.push(`      ${k}: ${values[0]!}`);
          else {
            lines.push(`      ${k}:`);
            for (const v of values) lines.push(`        ${v}`);
          }
        }
      }
    }
  }
  return lines;
}
