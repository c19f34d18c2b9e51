/**
 * The APM Agent section of `kennel status`, laid out as the agent's `traceagent.tmpl`
 * (`comp/trace/status/impl/status_templates`): header lines, `Receiver (previous minute)` with
 * one block per client and the priority sampling rates, `Writer (previous minute)`; then kennel's
 * counts since start.
 */
import { humanize } from './status-format.js';

type Obj = Record<string, unknown>;

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

/** Go's `fmt.Sprintf("%02.1f", v*100)`. */
function percent(v: number): string {
  return (v * 100).toFixed(1).padStart(2, '0');
}

function clientLines(ts: Obj, indent: string): string[] {
  const lang = String(ts.Lang ?? '');
  const head = lang !== '' ? `From ${lang} ${String(ts.LangVersion ?? '')} (${String(ts.Interpreter ?? '')}), client ${String(ts.TracerVersion ?? '')}` : 'unknown clients';
  const out = [
    `${indent}${head}${ts.EndpointVersion ? ` (${String(ts.EndpointVersion)})` : ''}`,
    `${indent}  Traces received: ${num(ts.TracesReceived)} (${humanize(num(ts.TracesBytes))} bytes)`,
    `${indent}  Spans received: ${num(ts.SpansReceived)}`,
  ];
  const warn = warnString(ts);
  if (warn !== '') out.push(`${indent}  WARNING: ${warn}`);
  return out;
}

/** `TagStats.WarnString`: dropped traces and malformed spans by reason. */
function warnString(ts: Obj): string {
  const parts: string[] = [];
  const reasons = (o: unknown): string =>
    Object.entries((o ?? {}) as Record<string, number>)
      .filter(([, n]) => n > 0)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, n]) => `${k}:${n}`)
      .join(', ');
  const d = reasons(ts.TracesDropped);
  const m = reasons(ts.SpansMalformed);
  if (d !== '') parts.push(`Traces dropped: ${d}`);
  if (m !== '') parts.push(`Spans malformed: ${m}`);
  return parts.join('; ');
}

/** The section's lines (without its title). */
export function formatApmStatus(a: Obj): string[] {
  if (a.error !== undefined && a.pid === undefined) return ['', '  Status: Unavailable', `  Error: ${String(a.error)}`];
  const config = (a.config ?? {}) as Obj;
  const lines = [
    '',
    '  Status: Running',
    `  Pid: ${String(a.pid)}`,
    `  Uptime: ${String(a.uptime)} seconds`,
    `  Mem alloc: ${humanize(num((a.memstats as Obj | undefined)?.Alloc))} bytes`,
    `  Hostname: ${String(config.Hostname ?? '')}`,
    `  Receiver: ${String(config.ReceiverHost ?? '')}:${String(config.ReceiverPort ?? '')}`,
  ];
  if (config.ReceiverSocket) lines.push(`  UDS receiver: ${String(config.ReceiverSocket)}`);
  lines.push('  Endpoints:');
  for (const e of (config.Endpoints ?? []) as Obj[]) lines.push(`    ${String(e.Host)}`);
  lines.push('', '  Receiver (previous minute)', '  ==========================');
  const receiver = (a.receiver ?? []) as Obj[];
  if (receiver.length === 0) lines.push('    No traces received in the previous minute.');
  for (const ts of receiver) lines.push(...clientLines(ts, '    '));
  lines.push('');
  const rates = (a.ratebyservice_filtered ?? {}) as Record<string, number>;
  for (const key of Object.keys(rates).sort()) {
    lines.push(key === 'service:,env:' ? `    Default priority sampling rate: ${percent(rates[key]!)}%` : `    Priority sampling rate for '${key}': ${percent(rates[key]!)}%`);
  }
  const tw = (a.trace_writer ?? {}) as Obj;
  const sw = (a.stats_writer ?? {}) as Obj;
  lines.push(
    '',
    '  Writer (previous minute)',
    '  ========================',
    `    Traces: ${num(tw.Payloads)} payloads, ${num(tw.Traces)} traces, ${num(tw.Events)} events, ${humanize(num(tw.Bytes))} bytes`,
  );
  if (num(tw.Errors) > 0) lines.push(`    WARNING: Traces API errors (1 min): ${num(tw.Errors)}`);
  lines.push(`    Stats: ${num(sw.Payloads)} payloads, ${num(sw.StatsBuckets)} stats buckets, ${humanize(num(sw.Bytes))} bytes`);
  if (num(sw.Errors) > 0) lines.push(`    WARNING: Stats API errors (1 min): ${num(sw.Errors)}`);

  const k = (a.kennel ?? {}) as Obj;
  const twt = (k.traceWriterTotal ?? {}) as Obj;
  const swt = (k.statsWriterTotal ?? {}) as Obj;
  lines.push('', '  Since start (kennel)', '  ====================');
  const totals = (k.receiverTotal ?? []) as Obj[];
  if (totals.length === 0) lines.push('    No traces received.');
  for (const ts of totals) lines.push(...clientLines(ts, '    '));
  lines.push(
    `    Traces written: ${num(twt.Payloads)} payloads, ${num(twt.Traces)} traces, ${num(twt.Spans)} spans, ${humanize(num(twt.Bytes))} bytes${num(twt.Errors) > 0 ? `, ${num(twt.Errors)} errors` : ''}`,
    `    Stats written: ${num(swt.Payloads)} payloads, ${num(swt.StatsBuckets)} stats buckets, ${humanize(num(swt.Bytes))} bytes${num(swt.Errors) > 0 ? `, ${num(swt.Errors)} errors` : ''}`,
  );
  const decode = (k.decodeErrors ?? {}) as Record<string, number>;
  const reasons = Object.keys(decode).sort();
  if (reasons.length > 0) lines.push(`    Decode errors: ${reasons.map((r) => `${r}:${decode[r]}`).join(', ')}`);
  const rc = (k.receiverCounters ?? {}) as Obj;
  const refused = ['PayloadTooLarge', 'RequestTimeouts', 'UnsupportedMediaType', 'NotFound', 'ConnectionsTimedOut', 'ConnectionsDropped'].filter((n) => num(rc[n]) > 0);
  if (refused.length > 0) lines.push(`    Refused: ${refused.map((n) => `${n}:${num(rc[n])}`).join(', ')}`);
  return lines;
}
