import type { Span, TraceChunk } from '@kennel/core';
import { PRIORITY_NONE } from '@kennel/core';

/**
 * The priority sampler's feedback loop: counts the chunks that tracers kept by priority, per
 * service and env, computes the rates that bring them to `target_tps`, and publishes them as
 * the `rate_by_service` map the receiver answers tracers with.
 *
 * @remarks
 * Restated from `DataDog/datadog-agent` `pkg/trace/sampler/prioritysampler.go` (`Sample`,
 * `applyRate`, `countSignature`), `coresampler.go` (6 buckets of 5 s, moving max, TPS spread over
 * signatures with `computeTPSPerSig`, rate increases capped at x1.2, `defaultRate`),
 * `catalog.go` (`service:<name>,env:<env>` keys, at most 5000 services, the `service:,env:`
 * default, services of the agent env published with an empty env too), `signature.go`
 * (FNV-1a 32 of `service,env`), `env.go` and `sampler.go` (`weightRoot`, `PriorityNone`);
 * Apache-2.0. Counts are float32 as in the agent.
 */

/** `SamplingPriority` values. */
export const SamplingPriority = { NONE: PRIORITY_NONE, USER_DROP: -1, AUTO_DROP: 0, AUTO_KEEP: 1, USER_KEEP: 2 } as const;

/** The key of the default rate in `rate_by_service`. */
export const DEFAULT_SERVICE_RATE_KEY = 'service:,env:';
/** What the agent answers before any rate was computed. */
export const DEFAULT_RATE_BY_SERVICE: Readonly<Record<string, number>> = Object.freeze({ [DEFAULT_SERVICE_RATE_KEY]: 1 });

const BUCKET_SECONDS = 5;
const NUM_BUCKETS = 6;
const MAX_RATE_INCREASE = 1.2;
const MAX_CATALOG_ENTRIES = 5000;
const AGENT_RATE_KEY = '_dd.agent_psr';
const RULE_RATE_KEY = '_dd.rule_psr';
/** `deprecatedRateKey`: where the agent writes the rate it applied on a sampled root. */
export const PRIORITY_RATE_KEY = '_sampling_priority_rate_v1';
const SAMPLE_RATE_KEY = '_sample_rate';
const PRESAMPLER_RATE_KEY = '_dd1.sr.rapre';

/** FNV-1a 32 of `name,env` (`ServiceSignature.Hash`). */
function serviceSignature(name: string, env: string): number {
  let h = 2166136261;
  const bytes = Buffer.from(`${name},${env}`, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h >>> 0;
}

/** `weightRoot`: 1 / (pre-sampler rate x client rate), each ignored unless in (0, 1]. */
export function rootWeight(root: Span): number {
  let client = root.metrics[SAMPLE_RATE_KEY];
  if (client === undefined || !(client > 0 && client <= 1)) client = 1;
  let pre = root.metrics[PRESAMPLER_RATE_KEY];
  if (pre === undefined || !(pre > 0 && pre <= 1)) pre = 1;
  return Math.fround(1 / (pre * client));
}

/** `computeTPSPerSig`: the TPS each signature may use, what small signatures leave unused spread on the others. */
function tpsPerSignature(targetTPS: number, seen: number[]): number {
  const sorted = [...seen].sort((a, b) => a - b);
  let target = targetTPS;
  let sigTarget = target / sorted.length;
  for (let i = 0; i < sorted.length; i++) {
    const c = sorted[i]!;
    if (c >= sigTarget || i === sorted.length - 1) break;
    target -= c;
    sigTarget = target / (sorted.length - i - 1);
  }
  return sigTarget;
}

/** Zeroes the buckets that expired between `prev` and `next` and returns the max over the window. */
function zeroAndMax(buckets: Float32Array, prev: number, next: number): number {
  let max = 0;
  for (let i = prev + 1; i <= prev + NUM_BUCKETS; i++) {
    const idx = ((i % NUM_BUCKETS) + NUM_BUCKETS) % NUM_BUCKETS;
    if (i < next) {
      buckets[idx] = 0;
      continue;
    }
    const v = buckets[idx]!;
    if (v > max) max = v;
    if (i === next) buckets[idx] = 0;
  }
  return max;
}

interface CatalogEntry {
  readonly name: string;
  readonly env: string;
  readonly sig: number;
}

export interface PrioritySamplerOptions {
  /** `apm_config.target_traces_per_second` (`max_traces_per_second`). @defaultValue `10` */
  readonly targetTPS?: number;
  /** `apm_config.extra_sample_rate`. @defaultValue `1` */
  readonly extraRate?: number;
  /** The agent's `env` (`default_env`). @defaultValue `'none'` */
  readonly agentEnv?: string;
}

/**
 * The agent's `PrioritySampler`: keeps chunks by their sampling priority and computes
 * `rate_by_service` from the auto-kept and auto-dropped (priority 0 and 1) chunks it counts.
 *
 * @example
 * ```ts
 * const sampler = new PrioritySampler({ targetTPS: 10 });
 * sampler.sample(nowSeconds, chunk, root, 'prod', 0); // true when chunk.priority > 0
 * sampler.rateByService(); // { 'service:,env:': 1 } until the first bucket rotates
 * ```
 */
export class PrioritySampler {
  readonly targetTPS: number;
  readonly agentEnv: string;
  private readonly extraRate: number;
  private readonly seen = new Map<number, Float32Array>();
  private readonly allSeen = new Float32Array(NUM_BUCKETS);
  private lastBucket = 0;
  private rates = new Map<number, number>();
  private lowestRate = 0;
  /** Service signatures, most recently used last (a Map keeps insertion order). */
  private readonly catalog = new Map<string, CatalogEntry>();
  private published: Record<string, number> = {};
  private publishedAny = false;

  constructor(options: PrioritySamplerOptions = {}) {
    this.targetTPS = options.targetTPS ?? 10;
    this.extraRate = options.extraRate ?? 1;
    this.agentEnv = options.agentEnv ?? 'none';
  }

  /**
   * Decides on one chunk from its priority and counts it: kept when the priority is above 0.
   * Only priorities 0 and 1 (set automatically by the tracer) feed the rates.
   *
   * @param nowSeconds Unix time in seconds.
   * @param tracerEnv The payload's env (`''` means the agent env).
   * @param clientDroppedP0sWeight Chunks the tracer dropped, spread over this payload's chunks.
   */
  sample(nowSeconds: number, chunk: TraceChunk, root: Span, tracerEnv: string, clientDroppedP0sWeight: number): boolean {
    if (chunk.spans.length === 0) return false;
    const priority = chunk.priority === PRIORITY_NONE ? 0 : chunk.priority;
    const sampled = priority > 0;
    if (priority < 0 || priority > 1) return sampled;
    const env = tracerEnv === '' ? this.agentEnv : tracerEnv;
    const sig = this.register(root.service, env);
    if (this.count(nowSeconds, sig, Math.fround(rootWeight(root) + clientDroppedP0sWeight))) this.publish();
    if (sampled) this.applyRate(root, sig);
    return sampled;
  }

  /** `rate_by_service` as the receiver answers it: `{"service:,env:":1}` until rates are computed. */
  rateByService(): Record<string, number> {
    return this.publishedAny ? { ...this.published } : { ...DEFAULT_RATE_BY_SERVICE };
  }

  private register(name: string, env: string): number {
    const key = `${name}\u0000${env}`;
    const e = this.catalog.get(key);
    if (e !== undefined) {
      // Move to the most recent end.
      this.catalog.delete(key);
      this.catalog.set(key, e);
      return e.sig;
    }
    const sig = serviceSignature(name, env);
    this.catalog.set(key, { name, env, sig });
    if (this.catalog.size > MAX_CATALOG_ENTRIES) this.catalog.delete(this.catalog.keys().next().value!);
    return sig;
  }

  /** `countWeightedSig`: true when the bucket rotated (and so the rates were updated). */
  private count(nowSeconds: number, sig: number, n: number): boolean {
    const bucket = Math.trunc(Math.trunc(nowSeconds) / BUCKET_SECONDS);
    const prev = this.lastBucket;
    this.lastBucket = bucket;
    const rotated = prev !== bucket;
    if (rotated) this.updateRates(prev, bucket);
    let b = this.seen.get(sig);
    if (b === undefined) {
      b = new Float32Array(NUM_BUCKETS);
      this.seen.set(sig, b);
    }
    const idx = ((bucket % NUM_BUCKETS) + NUM_BUCKETS) % NUM_BUCKETS;
    this.allSeen[idx] = this.allSeen[idx]! + n;
    b[idx] = b[idx]! + n;
    return rotated;
  }

  private updateRates(prev: number, next: number): void {
    if (this.seen.size === 0) return;
    const sigs: number[] = [];
    const tps: number[] = [];
    for (const [sig, buckets] of this.seen) {
      sigs.push(sig);
      tps.push(zeroAndMax(buckets, prev, next) / BUCKET_SECONDS);
    }
    zeroAndMax(this.allSeen, prev, next);
    const perSig = tpsPerSignature(this.targetTPS, tps);
    const rates = new Map<number, number>();
    this.lowestRate = 1;
    for (let i = 0; i < sigs.length; i++) {
      const sig = sigs[i]!;
      const seen = tps[i]!;
      let rate = 1;
      if (perSig < seen && seen > 0) rate = perSig / seen;
      const prevRate = this.rates.get(sig);
      if (prevRate !== undefined && prevRate !== 0 && rate / prevRate > MAX_RATE_INCREASE) rate = prevRate * MAX_RATE_INCREASE;
      if (rate > 1) rate = 1;
      if (rate === 1 && seen === 0) {
        this.seen.delete(sig);
        continue;
      }
      if (rate < this.lowestRate) this.lowestRate = rate;
      rates.set(sig, rate);
    }
    this.rates = rates;
  }

  private defaultRate(): number {
    if (this.targetTPS === 0) return 0;
    let max = 0;
    for (let i = 0; i < NUM_BUCKETS; i++) if (this.allSeen[i]! > max) max = this.allSeen[i]!;
    const seen = max / BUCKET_SECONDS;
    let rate = 1;
    if (this.targetTPS < seen && seen > 0) rate = this.targetTPS / seen;
    if (this.lowestRate < rate && this.lowestRate !== 0) return this.lowestRate;
    return rate;
  }

  private signatureRate(sig: number): number {
    const r = this.rates.get(sig);
    return r === undefined ? this.defaultRate() : r * this.extraRate;
  }

  /** `applyRate`: records the rate applied on a sampled local root, unless the tracer already did. */
  private applyRate(root: Span, sig: number): void {
    if (root.parentId !== 0n) return;
    const m = root.metrics;
    if (m[AGENT_RATE_KEY] !== undefined || m[RULE_RATE_KEY] !== undefined || m[PRIORITY_RATE_KEY] !== undefined) return;
    m[PRIORITY_RATE_KEY] = this.signatureRate(sig);
  }

  /** `ratesByService` then `RateByService.SetAll`: rates clamped to [0, 1]. */
  private publish(): void {
    const out: Record<string, number> = {};
    const clamp = (r: number): number => Math.min(Math.max(r, 0), 1);
    for (const [key, e] of this.catalog) {
      const r = this.rates.get(e.sig);
      if (r === undefined) {
        // No rate any more: the agent forgets the service.
        this.catalog.delete(key);
        continue;
      }
      const rate = clamp(r * this.extraRate);
      out[`service:${e.name},env:${e.env}`] = rate;
      if (e.env === this.agentEnv) out[`service:${e.name},env:`] = rate;
    }
    out[DEFAULT_SERVICE_RATE_KEY] = clamp(this.defaultRate());
    this.published = out;
    this.publishedAny = true;
  }
}
