import type { IntakeStore } from '../store/intake-store.js';
import { Deque } from './deque.js';
import { PayloadFollower, type HeldPayload } from './held.js';
import { traceKey } from './traces-index.js';

/**
 * What the local page knows about logs: every log event of the store's `logs` payloads, in
 * arrival order, with an id that only grows, so a tail can ask for what came after the last one
 * it has. Items are the agent's log JSON: `message, status, timestamp, hostname, service,
 * ddsource, ddtags` (other fields are kept as attributes).
 */

export const LOGS_KIND = 'logs';

export interface LogEntry {
  /** From 1, in arrival order. */
  readonly id: number;
  readonly receivedAt: number;
  /** Milliseconds since the epoch (the arrival time when the event had none). */
  readonly timestamp: number;
  /** Lower case, `warning` read as `warn` (the agent's spelling). */
  readonly status: string;
  readonly message: string;
  readonly service: string;
  readonly ddsource: string;
  readonly hostname: string;
  readonly ddtags: string;
  /** The low 64 bits of `dd.trace_id` as a decimal string, when the event carries one. */
  readonly traceId?: string;
  /** `dd.trace_id` as written. */
  readonly traceIdRaw?: string;
  readonly spanId?: string;
  /** Fields beyond the agent's seven. */
  readonly attributes?: Readonly<Record<string, unknown>>;
}

export interface LogsQuery {
  readonly services?: readonly string[] | undefined;
  readonly statuses?: readonly string[] | undefined;
  readonly text?: ((s: string) => boolean) | undefined;
  readonly host?: string | undefined;
  readonly source?: string | undefined;
  /** A trace id in any form {@link traceKey} reads. */
  readonly traceId?: string | undefined;
  /** Only entries with a larger id. */
  readonly after?: number | undefined;
  /** Received at or after (ms). */
  readonly since?: number | undefined;
}

const KNOWN = new Set(['message', 'status', 'timestamp', 'hostname', 'service', 'ddsource', 'ddtags', 'tags']);

/** `warning` → `warn`, `err` → `error`, ... lower case. */
export function normalizeStatus(s: string): string {
  const l = s.trim().toLowerCase();
  switch (l) {
    case 'warning':
      return 'warn';
    case 'err':
      return 'error';
    case 'crit':
      return 'critical';
    case 'emerg':
      return 'emergency';
    case 'information':
      return 'info';
    case '':
      return 'info';
    default:
      return l;
  }
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function timestampMs(v: unknown, fallback: number): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'bigint') n = Number(v);
  else if (typeof v === 'string' && v !== '') {
    n = /^\d+(\.\d+)?$/.test(v) ? Number(v) : Date.parse(v);
  } else return fallback;
  if (!Number.isFinite(n) || n <= 0) return fallback;
  if (n < 1e11) return n * 1000; // seconds
  if (n > 1e17) return n / 1e6; // nanoseconds
  if (n > 1e14) return n / 1e3; // microseconds
  return n;
}

function ddField(o: Record<string, unknown>, field: 'trace_id' | 'span_id'): string | undefined {
  const flat = o[`dd.${field}`];
  if (flat !== undefined && flat !== null) return str(flat);
  const dd = o.dd;
  if (typeof dd === 'object' && dd !== null && (dd as Record<string, unknown>)[field] !== undefined) return str((dd as Record<string, unknown>)[field]);
  return undefined;
}

/** `dd.trace_id` / `dd.span_id` from the event's fields, its message as JSON, or `dd.trace_id=...` in its text. */
function correlation(item: Record<string, unknown>, message: string): { trace?: string; span?: string } {
  let trace = ddField(item, 'trace_id');
  let span = ddField(item, 'span_id');
  if (trace === undefined && message.startsWith('{') && message.includes('trace_id')) {
    try {
      const j: unknown = JSON.parse(message);
      if (typeof j === 'object' && j !== null) {
        trace = ddField(j as Record<string, unknown>, 'trace_id');
        span = ddField(j as Record<string, unknown>, 'span_id');
      }
    } catch {
      // not JSON after all
    }
  }
  if (trace === undefined && message.includes('trace_id')) {
    const m = /\bdd\.trace_id["']?\s*[=:]\s*["']?([0-9a-fA-Fx]+)/.exec(message);
    if (m) trace = m[1];
    const s = /\bdd\.span_id["']?\s*[=:]\s*["']?([0-9a-fA-Fx]+)/.exec(message);
    if (s) span = s[1];
  }
  return { ...(trace !== undefined ? { trace } : {}), ...(span !== undefined ? { span } : {}) };
}

interface LogRecord {
  readonly seq: number;
  readonly count: number;
}

export class LogsIndex {
  private readonly entries = new Deque<LogEntry>();
  private readonly follower: PayloadFollower<LogRecord>;
  private nextId = 1;
  private readonly serviceCounts = new Map<string, number>();
  private readonly statusCounts = new Map<string, number>();

  constructor(store: IntakeStore) {
    this.follower = new PayloadFollower(store, LOGS_KIND);
  }

  sync(): void {
    this.follower.sync(
      (p) => this.take(p),
      (r) => {
        for (let i = 0; i < r.count; i++) {
          const e = this.entries.shift();
          if (e === undefined) break;
          bump(this.serviceCounts, e.service, -1);
          bump(this.statusCounts, e.status, -1);
        }
      },
    );
  }

  get size(): number {
    return this.entries.size;
  }

  /** The id the next entry will get. */
  get next(): number {
    return this.nextId;
  }

  private take(p: HeldPayload): LogRecord {
    let count = 0;
    for (const raw of p.items) {
      const item: Record<string, unknown> = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : { message: str(raw) };
      const message = str(item.message);
      const corr = correlation(item, message);
      const key = corr.trace !== undefined ? traceKey(corr.trace) : undefined;
      let attributes: Record<string, unknown> | undefined;
      for (const [k, v] of Object.entries(item)) {
        if (KNOWN.has(k)) continue;
        (attributes ??= {})[k] = v;
      }
      const e: LogEntry = {
        id: this.nextId++,
        receivedAt: p.receivedAt,
        timestamp: timestampMs(item.timestamp, p.receivedAt),
        status: normalizeStatus(str(item.status)),
        message,
        service: str(item.service),
        ddsource: str(item.ddsource),
        hostname: str(item.hostname),
        ddtags: str(item.ddtags),
        ...(key !== undefined ? { traceId: key, traceIdRaw: corr.trace! } : {}),
        ...(corr.span !== undefined ? { spanId: corr.span } : {}),
        ...(attributes !== undefined ? { attributes } : {}),
      };
      this.entries.push(e);
      bump(this.serviceCounts, e.service, 1);
      bump(this.statusCounts, e.status, 1);
      count++;
    }
    return { seq: p.seq, count };
  }

  /** The newest `limit` matching entries, oldest first, and how many matched in all. */
  query(q: LogsQuery, limit: number): { total: number; logs: LogEntry[]; lastId: number } {
    this.sync();
    const statuses = q.statuses?.map(normalizeStatus);
    const services = q.services;
    const trace = q.traceId !== undefined ? (traceKey(q.traceId) ?? '\u0000none') : undefined;
    const start = q.after !== undefined ? this.entries.lowerBound((e) => e.id <= q.after!) : 0;
    const matched: LogEntry[] = [];
    let total = 0;
    for (let i = start; i < this.entries.size; i++) {
      const e = this.entries.at(i)!;
      if (q.since !== undefined && e.receivedAt < q.since) continue;
      if (services !== undefined && !services.includes(e.service)) continue;
      if (statuses !== undefined && !statuses.includes(e.status)) continue;
      if (q.host !== undefined && e.hostname !== q.host) continue;
      if (q.source !== undefined && e.ddsource !== q.source) continue;
      if (trace !== undefined && e.traceId !== trace) continue;
      if (q.text !== undefined && !q.text(e.message)) continue;
      total++;
      matched.push(e);
      if (matched.length > limit * 2) matched.splice(0, matched.length - limit);
    }
    const logs = matched.length > limit ? matched.slice(matched.length - limit) : matched;
    return { total, logs, lastId: this.nextId - 1 };
  }

  /** Services and statuses over every held entry, with counts. */
  facets(): { services: Record<string, number>; statuses: Record<string, number> } {
    this.sync();
    return { services: Object.fromEntries([...this.serviceCounts].sort()), statuses: Object.fromEntries([...this.statusCounts].sort()) };
  }
}

function bump(m: Map<string, number>, k: string, by: number): void {
  const n = (m.get(k) ?? 0) + by;
  if (n <= 0) m.delete(k);
  else m.set(k, n);
}
