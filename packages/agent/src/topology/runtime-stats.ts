import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';

/** What `kennel status --json` shows under `runtimeStats` (the soak benchmark reads these keys). */
export interface RuntimeStatsDoc {
  /** Resident set size of the process, worker threads included (bytes). */
  Rss: number;
  /** V8 heap in use on the main thread (bytes; each shard worker has its own heap). */
  HeapUsed: number;
  /**
   * V8 heap in use in the shard worker threads, summed (bytes), as of their last flush (every
   * 15 s; 0 before the first one). `Rss` counts these heaps; `HeapUsed` does not.
   */
  WorkerHeapUsed: number;
  /** Main-thread event-loop delay over {@link RuntimeStatsDoc.EventLoopDelayWindowSeconds}, ms. */
  EventLoopDelayP50Ms: number;
  EventLoopDelayP99Ms: number;
  EventLoopDelayMaxMs: number;
  /** How many seconds the three delay figures cover (between 30 and 60 once kennel ran a minute). */
  EventLoopDelayWindowSeconds: number;
  UptimeSeconds: number;
  /** Trims of freed `malloc` memory (`kennel_memory_trim_interval`) since start, and how many gave memory back. */
  MemoryTrims: number;
  MemoryTrimsReleased: number;
  /** RSS the trims took back, summed (bytes; RSS before minus after each trim that lowered it). */
  MemoryTrimmedBytes: number;
  /** The longest trim, ms (it runs on the main thread). */
  MemoryTrimMaxMs: number;
}

/** How {@link RuntimeStats} trims freed memory: every `intervalMs` (0: never) with `trim` (`@kennel/native`'s `trimMemory`). */
export interface MemoryTrimOptions {
  readonly intervalMs: number;
  readonly trim: () => boolean | null;
}

/** Sampling resolution of the delay monitors (Node's default is 10 ms). */
const RESOLUTION_MS = 10;
/** Each monitor is reset every 60 s, the two 30 s apart. */
const SPAN_MS = 60_000;

/**
 * The process's memory and event-loop delay, read by every status request without changing what
 * the next one sees.
 *
 * @remarks `monitorEventLoopDelay` histograms cannot be merged, so a rolling window is made from
 * two of them, each reset every 60 s, 30 s apart: a read takes the one reset longer ago, so the
 * delay figures always cover the last 30 to 60 s (less in kennel's first 30 s). Resetting on
 * every read instead would make each reader's figures depend on how often others read (the
 * local page polls status every second). Two 10 ms timers cost well under 0.1 % of a core.
 */
export class RuntimeStats {
  private readonly monitors: { h: IntervalHistogram; resetAt: number }[];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly startedAt: number;
  private readonly now: () => number;
  private readonly trims = { runs: 0, released: 0, bytes: 0, maxMs: 0 };

  constructor(startedAt = Date.now(), now: () => number = Date.now, trim: MemoryTrimOptions = { intervalMs: 0, trim: () => null }) {
    this.startedAt = startedAt;
    this.now = now;
    if (trim.intervalMs > 0) {
      this.timers.push(setInterval(() => this.trimMemory(trim.trim), trim.intervalMs).unref());
    }
    const t = now();
    this.monitors = [0, 1].map(() => {
      const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      h.enable();
      return { h, resetAt: t };
    });
    // The first monitor restarts every 60 s from now, the second every 60 s from 30 s on, so that
    // one of them is always between 30 and 60 s old.
    this.timers.push(setInterval(() => this.reset(0), SPAN_MS).unref());
    const stagger = setTimeout(() => {
      this.reset(1);
      this.timers.push(setInterval(() => this.reset(1), SPAN_MS).unref());
    }, SPAN_MS / 2).unref();
    this.timers.push(stagger);
  }

  /**
   * Gives freed `malloc` memory back to the system and counts what it took back. The RSS read
   * around it (`process.memoryUsage.rss()`, one read of /proc/self/statm) is what status shows.
   */
  trimMemory(trim: () => boolean | null): void {
    const before = process.memoryUsage.rss();
    const t0 = performance.now();
    const r = trim();
    const ms = performance.now() - t0;
    if (r === null) return;
    this.trims.runs++;
    if (r) this.trims.released++;
    this.trims.bytes += Math.max(0, before - process.memoryUsage.rss());
    if (ms > this.trims.maxMs) this.trims.maxMs = ms;
  }

  private reset(i: number): void {
    const m = this.monitors[i]!;
    m.h.reset();
    m.resetAt = this.now();
  }

  /** The figures now; `workerHeapUsed` is the shard workers' heap (`Aggregator.workerHeapUsed`). */
  read(workerHeapUsed = 0): RuntimeStatsDoc {
    const t = this.now();
    const oldest = this.monitors[0]!.resetAt <= this.monitors[1]!.resetAt ? this.monitors[0]! : this.monitors[1]!;
    const h = oldest.h;
    const empty = h.count === 0;
    // The monitor records the whole interval between its timer's runs; the delay is what exceeds
    // the resolution (as fastify's under-pressure reads it), so an idle loop shows about 0.
    const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100);
    const mem = process.memoryUsage();
    return {
      Rss: mem.rss,
      HeapUsed: mem.heapUsed,
      WorkerHeapUsed: workerHeapUsed,
      EventLoopDelayP50Ms: empty ? 0 : ms(h.percentile(50)),
      EventLoopDelayP99Ms: empty ? 0 : ms(h.percentile(99)),
      EventLoopDelayMaxMs: empty ? 0 : ms(h.max),
      EventLoopDelayWindowSeconds: Math.round((t - oldest.resetAt) / 100) / 10,
      UptimeSeconds: Math.round((t - this.startedAt) / 1000),
      MemoryTrims: this.trims.runs,
      MemoryTrimsReleased: this.trims.released,
      MemoryTrimmedBytes: this.trims.bytes,
      MemoryTrimMaxMs: Math.round(this.trims.maxMs * 100) / 100,
    };
  }

  close(): void {
    for (const x of this.timers) clearInterval(x);
    for (const m of this.monitors) m.h.disable();
  }
}
