/**
 * `kennel status` as text, laid out like `datadog-agent status`: one block per section, titled
 * between `=` lines, `Key: value` lines whose keys are the CamelCase counters split into words
 * (`formatTitle` in the agent's status templates) and whose values are humanized.
 */
import { formatLogsAgentStatus } from '@kennel/logs';
import type { LogsAgentStatus } from '@kennel/logs';
import { formatApmStatus } from './apm-status.js';

/** `UdpPackets` → `Udp Packets`, `MetricParseErrors` → `Metric Parse Errors`. */
export function formatTitle(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/_/g, ' ');
}

/** 1234567 → 1,234,567; fractions kept to 2 places. */
export function humanize(v: unknown): string {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return v.toLocaleString('en-US');
    return v.toLocaleString('en-US', { maximumFractionDigits: 2 });
  }
  return String(v);
}

function block(title: string, lines: string[]): string {
  const bar = '='.repeat(title.length);
  return `${bar}\n${title}\n${bar}\n${lines.join('\n')}\n`;
}

function keyLines(o: Record<string, unknown>, indent = '  ', sort = false, skipZero = false): string[] {
  const keys = Object.keys(o);
  if (sort) keys.sort();
  const out: string[] = [];
  for (const k of keys) {
    const v = o[k];
    if (v !== null && typeof v === 'object') {
      out.push(`${indent}${formatTitle(k)}:`);
      const inner = keyLines(v as Record<string, unknown>, indent + '  ', sort, false);
      out.push(...(inner.length ? inner : [`${indent}  (none)`]));
      continue;
    }
    // Drop counters are kennel's own: shown at 0 too, so that status says nothing was dropped.
    if (skipZero && v === 0 && !/Drop/.test(k)) continue;
    out.push(`${indent}${formatTitle(k)}: ${humanize(v)}`);
  }
  return out;
}

/** The whole text status from the JSON document the status port serves. */
export function formatStatus(s: Record<string, unknown>): string {
  const parts: string[] = [];
  const header = s.agent as Record<string, unknown> | undefined;
  if (header) {
    parts.push(
      block('Agent (kennel v' + String(header.version) + ')', [
        `  Status date: ${String(header.now)}`,
        `  Pid: ${String(header.pid)}`,
        `  Uptime: ${String(header.uptimeSeconds)} seconds`,
        `  Hostname: ${String(header.hostname)}`,
        `  Mode: ${String(header.mode)}`,
        `  API key: ${String(header.apiKey)}`,
      ]),
    );
  }
  const rt = s.runtimeStats as Record<string, number> | undefined;
  if (rt) {
    const mib = (b: number) => `${humanize(Math.round((b / 1048576) * 10) / 10)} MiB`;
    parts.push(
      block('Runtime', [
        `  RSS: ${mib(rt.Rss!)}`,
        `  Heap Used: ${mib(rt.HeapUsed!)} (main thread)`,
        ...(rt.WorkerHeapUsed !== undefined ? [`  Worker Heap Used: ${mib(rt.WorkerHeapUsed)} (shard workers, at their last flush)`] : []),
        `  Event Loop Delay: p50 ${humanize(rt.EventLoopDelayP50Ms)} ms, p99 ${humanize(rt.EventLoopDelayP99Ms)} ms, max ${humanize(rt.EventLoopDelayMaxMs)} ms (the last ${humanize(rt.EventLoopDelayWindowSeconds)} s)`,
        `  Uptime: ${humanize(rt.UptimeSeconds)} seconds`,
        ...(rt.MemoryTrims !== undefined && rt.MemoryTrims > 0
          ? [
              `  Memory Trims: ${humanize(rt.MemoryTrims)} (${humanize(rt.MemoryTrimsReleased ?? 0)} gave back memory, ${mib(rt.MemoryTrimmedBytes ?? 0)} in all; longest ${humanize(rt.MemoryTrimMaxMs ?? 0)} ms)`,
            ]
          : []),
      ]),
    );
  }
  const fwd = s.forwarderStats as Record<string, unknown> | undefined;
  if (fwd) parts.push(block('Forwarder', keyLines(fwd)));
  // The agent's Logs Agent section (logsagent.tmpl): raw `Key: value` lines, a blank line under the title.
  const logs = s.logsStats as LogsAgentStatus | undefined;
  if (logs) parts.push(block('Logs Agent', ['', ...formatLogsAgentStatus(logs)]));
  // The agent's APM Agent section (traceagent.tmpl).
  const apm = s.apmStats as Record<string, unknown> | undefined;
  if (apm) parts.push(block('APM Agent', formatApmStatus(apm)));
  const dsd = s.dogstatsdStats as Record<string, unknown> | undefined;
  if (dsd) {
    const lines = keyLines(dsd, '  ', true);
    const reasons = s.dogstatsdErrorReasons as Record<string, number> | undefined;
    if (reasons && Object.keys(reasons).length) {
      lines.push('  Parse Errors By Reason:');
      for (const [r, n] of Object.entries(reasons).sort()) lines.push(`    ${r}: ${humanize(n)}`);
    }
    lines.push(
      '',
      'Tip: For troubleshooting, enable \'dogstatsd_metrics_stats_enable\' in the main datadog.yaml file to generate Dogstatsd logs. Once \'dogstatsd_metrics_stats_enable\' is enabled, users can also use \'dogstatsd-stats\' command to get visibility of the latest collected metrics.',
    );
    parts.push(block('DogStatsD', lines));
  }
  const agg = s.aggregatorStats as Record<string, unknown> | undefined;
  // The agent prints an aggregator line only when its counter is non-zero (drop counters always).
  if (agg) parts.push(block('Aggregator', keyLines(agg, '  ', false, true)));
  const intake = s.localIntakeStats as Record<string, unknown> | undefined;
  if (intake) parts.push(block('Local Intake', keyLines(intake)));
  for (const [k, v] of Object.entries(s)) {
    if (['agent', 'forwarderStats', 'dogstatsdStats', 'dogstatsdErrorReasons', 'aggregatorStats', 'localIntakeStats', 'logsStats', 'apmStats', 'runtimeStats'].includes(k)) continue;
    if (v !== null && typeof v === 'object') parts.push(block(formatTitle(k.replace(/Stats$/, '')), keyLines(v as Record<string, unknown>)));
  }
  return parts.join('\n');
}
