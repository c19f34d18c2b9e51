/**
 * Telemetry counters: a named group of monotonically increasing numbers, stored in one
 * `Float64Array` so hot loops bump `values[index]` with a constant index and nothing else.
 *
 * @remarks
 * Names are the agent's expvar names (`MetricPackets`, `UdpBytes`, ...) so status output and
 * `--json` keys match what `datadog-agent status` shows. A group is owned by one thread; to
 * report across threads, send `snapshot()` and `merge()` it on the other side.
 */
export class CounterSet<Name extends string = string> {
  /** The group this set belongs to, such as `dogstatsd` or `aggregator`. */
  readonly group: string;
  /** Counter names, in index order. */
  readonly names: readonly Name[];
  /** Counter values, by index. Hot paths write here directly. */
  readonly values: Float64Array;
  private readonly indexByName: ReadonlyMap<string, number>;

  constructor(group: string, names: readonly Name[]) {
    this.group = group;
    this.names = Object.freeze([...names]);
    this.values = new Float64Array(names.length);
    const m = new Map<string, number>();
    names.forEach((n, i) => {
      if (m.has(n)) throw new TypeError(`counter ${group}.${n} is declared twice`);
      m.set(n, i);
    });
    this.indexByName = m;
  }

  /** The index of a counter, for use as a constant in hot loops. */
  index(name: Name): number {
    const i = this.indexByName.get(name);
    if (i === undefined) throw new TypeError(`unknown counter ${this.group}.${name}`);
    return i;
  }

  add(name: Name, n = 1): void {
    this.values[this.index(name)]! += n;
  }

  get(name: Name): number {
    return this.values[this.index(name)]!;
  }

  /** A plain object of every counter, in declaration order. */
  snapshot(): Record<Name, number> {
    const out = {} as Record<Name, number>;
    for (let i = 0; i < this.names.length; i++) out[this.names[i]!] = this.values[i]!;
    return out;
  }

  /** Adds another set's snapshot (for example from a worker thread) into this one. */
  merge(snapshot: Partial<Record<Name, number>>): void {
    for (const [name, v] of Object.entries(snapshot) as [Name, number][]) {
      const i = this.indexByName.get(name);
      if (i !== undefined && typeof v === 'number') this.values[i]! += v;
    }
  }

  reset(): void {
    this.values.fill(0);
  }
}

/** A keyed family of counters that grows on first use, for counts by reason or by code. */
export class CounterMap {
  private readonly counts = new Map<string, number>();

  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  merge(snapshot: Record<string, number>): void {
    for (const [k, v] of Object.entries(snapshot)) this.add(k, v);
  }
}
