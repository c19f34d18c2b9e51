/** What a progress check reads: whether input is waiting, and a count that grows with progress. */
export interface ProgressProbe {
  /** True while the component holds work it has not finished (a flush running, payloads pending). */
  waiting(): boolean;
  /** Any number that changes whenever the component makes progress (a completion counter). */
  progress(): number;
}

interface Watch {
  readonly probe: ProgressProbe;
  readonly stallMs: number;
  lastValue: number;
  lastProgressAt: number;
}

/**
 * Component health as the agent keeps it (`pkg/status/health`): every component checks in at
 * least every 15 s; two missed check-ins (30 s) make it unhealthy. `kennel health` and the status
 * port report the names.
 *
 * A component can also be watched for progress ({@link HealthRegistry.watch}): it is unhealthy
 * once it has had work waiting and made no progress for `stallMs` (15 s by default), as a stuck
 * agent goroutine misses its health ticks; it is healthy again as soon as it moves.
 */
export class HealthRegistry {
  private readonly last = new Map<string, number>();
  private readonly watches = new Map<string, Watch>();
  private readonly now: () => number;
  readonly graceMs: number;
  private sampler: NodeJS.Timeout | null = null;

  constructor(graceMs = 30_000, now: () => number = Date.now) {
    this.graceMs = graceMs;
    this.now = now;
  }

  /** Registers a component, healthy from now. */
  register(name: string): void {
    this.last.set(name, this.now());
  }

  /** A component says it is making progress. */
  beat(name: string): void {
    this.last.set(name, this.now());
  }

  deregister(name: string): void {
    this.last.delete(name);
    this.watches.delete(name);
  }

  /**
   * Watches a component's progress: unhealthy while `probe.waiting()` has been true and
   * `probe.progress()` has not changed for `stallMs`. Sampled every second and at each report.
   */
  watch(name: string, probe: ProgressProbe, stallMs = 15_000): void {
    this.watches.set(name, { probe, stallMs, lastValue: probe.progress(), lastProgressAt: this.now() });
    if (this.sampler === null) {
      this.sampler = setInterval(() => this.sample(), 1000);
      this.sampler.unref();
    }
  }

  /** Stops the sampling timer. */
  close(): void {
    if (this.sampler !== null) clearInterval(this.sampler);
    this.sampler = null;
  }

  private sample(): void {
    const t = this.now();
    for (const w of this.watches.values()) {
      const v = w.probe.progress();
      // Nothing waiting counts as progress: a component is stuck only while something waits on it.
      if (v !== w.lastValue || !w.probe.waiting()) {
        w.lastValue = v;
        w.lastProgressAt = t;
      }
    }
  }

  /** Milliseconds each watched component has had work waiting without progress (0 while it moves). */
  stalls(): Record<string, number> {
    this.sample();
    const t = this.now();
    const out: Record<string, number> = {};
    for (const [name, w] of this.watches) out[name] = t - w.lastProgressAt;
    return out;
  }

  report(): { Healthy: string[]; Unhealthy: string[] } {
    this.sample();
    const t = this.now();
    const Healthy: string[] = [];
    const Unhealthy: string[] = [];
    for (const [name, at] of this.last) {
      const w = this.watches.get(name);
      const stalled = w !== undefined && t - w.lastProgressAt > w.stallMs;
      (t - at <= this.graceMs && !stalled ? Healthy : Unhealthy).push(name);
    }
    for (const [name, w] of this.watches) {
      if (this.last.has(name)) continue;
      (t - w.lastProgressAt > w.stallMs ? Unhealthy : Healthy).push(name);
    }
    return { Healthy: Healthy.sort(), Unhealthy: Unhealthy.sort() };
  }
}
