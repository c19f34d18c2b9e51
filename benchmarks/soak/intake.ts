/**
 * The soak's intake, in its own process (so its CPU and memory are not kennel's): a real
 * `FakeIntake` from `@kennel/intake` that decodes every payload kennel forwards (series v2,
 * sketches, APM traces and stats, logs) into a small bounded store, and a tally fed by
 * `store.onPayload` that checks, as payloads arrive:
 *
 * - metrics: the sum of the marker counter `soak.marker` by its `transport:` tag (one line in
 *   every datagram the load generators send), as `value x interval` of each `rate` point;
 * - traces: which trace numbers arrived (the harness gives every trace a unique id,
 *   `TRACE_ID_BASE + n`), duplicates, spans;
 * - logs: which line numbers arrived (`soak:<n> ...`), duplicates.
 *
 * It talks to the parent over IPC: `{ type: 'listening', url }` once bound; `report` answers the
 * tally; `reset` starts a new one (between the steps of the rate check).
 */
import { FakeIntake } from '@kennel/intake';
import type { AnyStoredPayload } from '@kennel/intake';
import { LOG_PREFIX, MARKER_METRIC, TRACE_ID_BASE, type IntakeReport } from './protocol.js';

/** A growable bitmap of numbers seen once, with the duplicates. */
class Seen {
  private bits = new Uint8Array(1 << 16);
  distinct = 0;
  duplicates = 0;
  max = -1;

  add(n: number): void {
    if (n >= this.bits.length) {
      let size = this.bits.length;
      while (size <= n) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.bits);
      this.bits = grown;
    }
    if (this.bits[n] !== 0) this.duplicates++;
    else {
      this.bits[n] = 1;
      this.distinct++;
    }
    if (n > this.max) this.max = n;
  }

  /** How many of 0 .. n-1 were never seen. */
  missingBelow(n: number): number {
    let missing = 0;
    for (let i = 0; i < n; i++) if (i >= this.bits.length || this.bits[i] === 0) missing++;
    return missing;
  }
}

let traces = new Seen();
let logs = new Seen();
let traceSpans = 0;
let foreignTraces = 0;
let foreignLogs = 0;
let marker: Record<string, number> = {};
let seriesPoints = 0;
let sketchPoints = 0;
let payloads: Record<string, number> = {};
let lastAt: Record<string, number> = {};
let statsPayloads = 0;
let baseRequests = { requests: 0, byStatus: {} as Record<string, number>, byOutcome: {} as Record<string, number> };

function tally(p: AnyStoredPayload): void {
  payloads[p.kind] = (payloads[p.kind] ?? 0) + 1;
  lastAt[p.kind] = Date.now();
  switch (p.kind) {
    case 'series_v2':
    case 'series_v1':
      for (const s of p.items) {
        seriesPoints += s.points.length;
        if (s.name !== MARKER_METRIC) continue;
        const t = s.tags.find((x) => x.startsWith('transport:')) ?? 'transport:?';
        let sum = 0;
        for (const pt of s.points) sum += s.type === 'rate' ? pt.value * (s.interval || 1) : pt.value;
        marker[t.slice(10)] = (marker[t.slice(10)] ?? 0) + sum;
      }
      break;
    case 'sketches':
      for (const s of p.items) sketchPoints += s.points.length;
      break;
    case 'traces':
      for (const tp of p.items)
        for (const c of tp.chunks) {
          traceSpans += c.spans.length;
          const id = c.spans[0]?.traceId;
          const n = id === undefined ? -1n : id - TRACE_ID_BASE;
          if (n < 0n || n > 0xffff_ffffn) foreignTraces++;
          else traces.add(Number(n));
        }
      break;
    case 'stats':
      statsPayloads++;
      break;
    case 'logs':
      for (const e of p.items) {
        const m = e.message;
        if (!m.startsWith(LOG_PREFIX)) {
          foreignLogs++;
          continue;
        }
        let n = 0;
        let i = LOG_PREFIX.length;
        for (let c = m.charCodeAt(i); c >= 0x30 && c <= 0x39; c = m.charCodeAt(++i)) n = n * 10 + (c - 0x30);
        if (i === LOG_PREFIX.length) foreignLogs++;
        else logs.add(n);
      }
      break;
    default:
      break;
  }
}

function diff(now: Record<string, number>, base: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(now)) if (v - (base[k] ?? 0) !== 0) out[k] = v - (base[k] ?? 0);
  return out;
}

async function main(): Promise<void> {
  // Small bounds: the tally is what the soak reads; the store only has to exist and decode.
  const intake = await FakeIntake.start({ storeOptions: { maxBytes: 32 << 20, maxAgeMs: 60_000 }, maxRecordedRequests: 100 });
  intake.store.onPayload(tally);
  process.send!({ type: 'listening', url: intake.url });
  process.on('message', (m: { type: string; traces?: number; logs?: number }) => {
    if (m.type === 'report') {
      const c = intake.counts();
      let decodeErrors = 0;
      for (const v of Object.values(intake.store.counts().decodeErrors)) decodeErrors += v ?? 0;
      const u = process.cpuUsage();
      const report: IntakeReport = {
        type: 'report',
        requests: c.requests - baseRequests.requests,
        byStatus: diff(c.byStatus, baseRequests.byStatus),
        byOutcome: diff(c.byOutcome as Record<string, number>, baseRequests.byOutcome),
        payloads,
        decodeErrors,
        marker,
        seriesPoints,
        sketchPoints,
        traces: { distinct: traces.distinct, duplicates: traces.duplicates, spans: traceSpans, foreign: foreignTraces, max: traces.max, missing: m.traces === undefined ? null : traces.missingBelow(m.traces) },
        logs: { distinct: logs.distinct, duplicates: logs.duplicates, foreign: foreignLogs, max: logs.max, missing: m.logs === undefined ? null : logs.missingBelow(m.logs) },
        statsPayloads,
        rssBytes: process.memoryUsage().rss,
        cpuMs: Math.round((u.user + u.system) / 1000),
        lastAt,
      };
      process.send!(report);
    } else if (m.type === 'reset') {
      traces = new Seen();
      logs = new Seen();
      traceSpans = foreignTraces = foreignLogs = seriesPoints = sketchPoints = statsPayloads = 0;
      marker = {};
      payloads = {};
      lastAt = {};
      const c = intake.counts();
      baseRequests = { requests: c.requests, byStatus: { ...c.byStatus }, byOutcome: { ...(c.byOutcome as Record<string, number>) } };
      intake.store.clear();
      process.send!({ type: 'reset-done' });
    } else if (m.type === 'exit') {
      void intake.close().then(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
}

void main();
