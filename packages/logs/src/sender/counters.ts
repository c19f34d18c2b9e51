import { CounterMap, CounterSet } from '@kennel/core';

/**
 * The `logs-agent` expvar counters kennel keeps, with the agent's names
 * (`comp/logs-library/metrics/metrics.go`, formerly `pkg/logs/metrics`):
 *
 * - `LogsDecoded`: messages the processing stage received (it bumps this one);
 * - `LogsProcessed`: messages that passed the processing rules (the processing stage bumps it);
 * - `LogsSent`: messages in payloads the intake accepted;
 * - `LogsTruncated`: messages the processing stage cut at `max_message_size_bytes` (it bumps
 *   this one; the sender only reports it);
 * - `BytesSent`: serialized payload bytes before compression, at each attempt (a retried payload
 *   counts again, as in the agent's `unconditionalSend`);
 * - `EncodedBytesSent`: compressed payload bytes, at each attempt;
 * - `BytesMissed`: bytes a tailer lost (rotation); the sources bump it;
 * - `RetryCount`: backoff waits before an attempt;
 * - `RetryTimeSpent`: the sum of those waits, in nanoseconds (a Go `time.Duration`);
 * - `DestinationErrors`: failed attempts, retried or not;
 * - `SenderLatency`: the last request's latency in milliseconds (a gauge, set, not added).
 *
 * `DestinationLogsDropped` is keyed by endpoint host, so it lives in a {@link CounterMap} beside
 * this set.
 */
export const LOGS_AGENT_COUNTERS = [
  'LogsDecoded',
  'LogsProcessed',
  'LogsSent',
  'LogsTruncated',
  'BytesSent',
  'EncodedBytesSent',
  'BytesMissed',
  'RetryCount',
  'RetryTimeSpent',
  'DestinationErrors',
  'SenderLatency',
] as const;
export type LogsAgentCounterName = (typeof LOGS_AGENT_COUNTERS)[number];

/** The counters one logs pipeline shares between its stages. */
export interface LogsAgentCounters {
  readonly counters: CounterSet<LogsAgentCounterName>;
  /** `DestinationLogsDropped`: messages in payloads the intake refused for good, by endpoint host. */
  readonly destinationLogsDropped: CounterMap;
}

/**
 * A fresh set of `logs-agent` counters. Give `counters` to the processing stage (which bumps
 * `LogsDecoded`, `LogsProcessed`, `LogsTruncated` and `BytesMissed`) and the whole object to the
 * sender, so status shows one set.
 */
export function createLogsAgentCounters(): LogsAgentCounters {
  return { counters: new CounterSet('logs-agent', LOGS_AGENT_COUNTERS), destinationLogsDropped: new CounterMap() };
}

const NS_PER_US = 1e3;
const NS_PER_MS = 1e6;
const NS_PER_S = 1e9;

/** `n` with at most `digits` fraction digits and no trailing zeros (Go's `fmtFrac` output). */
function frac(whole: number, fraction: number, digits: number): string {
  if (fraction === 0) return String(whole);
  let f = String(fraction).padStart(digits, '0');
  f = f.replace(/0+$/, '');
  return `${whole}.${f}`;
}

/**
 * Formats nanoseconds as Go's `time.Duration.String()` does: `0s`, `750ns`, `1.5µs`,
 * `12.345ms`, `2.5s`, `1m30s`, `2h0m0s`. The agent prints `RetryTimeSpent` this way.
 *
 * @example
 * formatGoDuration(7.2e12) // '2h0m0s'
 * formatGoDuration(1_500_000_000) // '1.5s'
 */
export function formatGoDuration(ns: number): string {
  let n = Math.trunc(ns);
  if (n === 0) return '0s';
  const neg = n < 0;
  if (neg) n = -n;
  let out: string;
  if (n < NS_PER_S) {
    // Below a second Go picks the largest unit that keeps the integer part non-zero.
    if (n < NS_PER_US) out = `${n}ns`;
    else if (n < NS_PER_MS) out = `${frac(Math.floor(n / NS_PER_US), n % NS_PER_US, 3)}µs`;
    else out = `${frac(Math.floor(n / NS_PER_MS), n % NS_PER_MS, 6)}ms`;
  } else {
    const totalSeconds = Math.floor(n / NS_PER_S);
    const seconds = frac(totalSeconds % 60, n % NS_PER_S, 9);
    const totalMinutes = Math.floor(totalSeconds / 60);
    if (totalMinutes === 0) out = `${seconds}s`;
    else {
      const hours = Math.floor(totalMinutes / 60);
      out = hours === 0 ? `${totalMinutes}m${seconds}s` : `${hours}h${totalMinutes % 60}m${seconds}s`;
    }
  }
  return neg ? `-${out}` : out;
}
