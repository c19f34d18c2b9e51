/**
 * Component health as the agent keeps it (`pkg/status/health`): every component checks in at
 * least every 15 s; two missed check-ins (30 s) make it unhealthy. `kennel health` and the status
 * port report the names.
 */
export class HealthRegistry {
  private readonly last = new Map<string, number>();
  private readonly now: () => number;
  readonly graceMs: number;

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
  }

  report(): { Healthy: string[]; Unhealthy: string[] } {
    const t = this.now();
    const Healthy: string[] = [];
    const Unhealthy: string[] = [];
    for (const [name, at] of this.last) (t - at <= this.graceMs ? Healthy : Unhealthy).push(name);
    return { Healthy: Healthy.sort(), Unhealthy: Unhealthy.sort() };
  }
}
