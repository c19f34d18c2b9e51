/**
 * The agent's exponential backoff (`pkg/util/backoff/backoff.go`, Apache-2.0), as the logs HTTP
 * destination uses it: one error count per destination, raised by each retryable failure and
 * lowered by `recovery_interval` on each success or permanent failure.
 *
 * After `n` errors the wait is `t = base · 2^n` seconds, drawn uniformly from `[t / factor, t]`,
 * or exactly `max` once `t` passes it. The count stops at `floor(log2(max / base)) + 1`. With the
 * logs defaults (1, 2, 120) the waits are 1–2 s, 2–4, 4–8, 8–16, 16–32, 32–64, then a flat 120.
 */
export class LogsBackoffPolicy {
  readonly base: number;
  readonly factor: number;
  readonly max: number;
  readonly recoveryInterval: number;
  /** The error count at which the wait reaches `max`; counts never go above it. */
  readonly maxErrors: number;

  /** Durations in seconds, as the agent's keys are. */
  constructor(settings: { readonly base: number; readonly factor: number; readonly max: number; readonly recoveryInterval: number; readonly recoveryReset: boolean }) {
    this.base = settings.base;
    this.factor = settings.factor;
    this.max = settings.max;
    this.maxErrors = Math.floor(Math.log2(settings.max / settings.base)) + 1;
    this.recoveryInterval = settings.recoveryReset ? this.maxErrors : settings.recoveryInterval;
  }

  /** The wait after `numErrors` errors, in nanoseconds (a Go `time.Duration`); `random()` is in `[0, 1)`. */
  backoffNs(numErrors: number, random: () => number): number {
    if (numErrors <= 0) return 0;
    let t = this.base * 2 ** numErrors;
    if (t > this.max) {
      t = this.max;
    } else {
      const min = t / this.factor;
      const max = Math.min(this.max, t);
      t = random() * (max - min) + min;
    }
    // time.Duration(backoffTime * float64(time.Second)) truncates toward zero.
    return Math.trunc(t * 1e9);
  }

  incError(numErrors: number): number {
    const n = numErrors + 1;
    return n > this.maxErrors ? this.maxErrors : n;
  }

  decError(numErrors: number): number {
    const n = numErrors - this.recoveryInterval;
    return n < 0 ? 0 : n;
  }
}
