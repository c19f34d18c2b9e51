/**
 * The policy: when a failed endpoint may be tried again. A port of the agent's exponential
 * backoff (`pkg/util/backoff/backoff.go`, Apache-2.0) and its per-endpoint circuit breaker
 * (`comp/forwarder/defaultforwarder/blocked_endpoints.go`, Apache-2.0), with the clock and the
 * random source injected so tests never wait on real time.
 */

/** The backoff settings, in seconds as the agent's keys are. */
export interface BackoffSettings {
  /** `forwarder_backoff_factor`: each wait is drawn from `[t / factor, t]`. */
  readonly factor: number;
  /** `forwarder_backoff_base`: `t = base · 2^errors`. */
  readonly base: number;
  /** `forwarder_backoff_max`: the longest wait. */
  readonly max: number;
  /** `forwarder_recovery_interval`: errors forgiven per successful probe. */
  readonly recoveryInterval: number;
  /** `forwarder_recovery_reset`: a successful probe forgives every error. */
  readonly recoveryReset: boolean;
}

/**
 * The agent's `ExpBackoffPolicy`. After `n` errors the wait is `t = base · 2^n` seconds, drawn
 * uniformly from `[t / factor, min(t, max)]`, or exactly `max` once `t` passes it. With the
 * defaults (2, 2, 64) the waits are 2–4 s, 4–8, 8–16, 16–32, 32–64, then a flat 64.
 */
export class ExpBackoffPolicy {
  readonly factor: number;
  readonly base: number;
  readonly max: number;
  readonly recoveryInterval: number;
  /** The error count at which the wait reaches `max`; counts never go above it. */
  readonly maxErrors: number;

  constructor(settings: BackoffSettings) {
    this.factor = settings.factor;
    this.base = settings.base;
    this.max = settings.max;
    this.maxErrors = Math.floor(Math.log2(settings.max / settings.base)) + 1;
    this.recoveryInterval = settings.recoveryReset ? this.maxErrors : settings.recoveryInterval;
  }

  /** The wait after `numErrors` errors, in milliseconds; `random()` is in `[0, 1)`. */
  backoffMs(numErrors: number, random: () => number): number {
    if (numErrors <= 0) return 0;
    let t = this.base * 2 ** numErrors;
    if (t > this.max) {
      t = this.max;
    } else {
      const min = t / this.factor;
      const max = Math.min(this.max, t);
      t = random() * (max - min) + min;
    }
    return t * 1000;
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

/**
 * A circuit breaker state. `unblocked`: everything is sent. `blocked`: nothing is sent until the
 * wait ends; results arriving meanwhile are ignored (they were sent before the block).
 * `halfBlocked`: one probe was sent; nothing else goes until its result.
 */
export const CircuitState = {
  UNBLOCKED: 'unblocked',
  HALF_BLOCKED: 'halfBlocked',
  BLOCKED: 'blocked',
} as const;
export type CircuitState = (typeof CircuitState)[keyof typeof CircuitState];

/** What a retry pass may do with an endpoint's transactions. */
export const RetryGate = {
  /** Send them all. */
  OPEN: 'open',
  /** The wait is over: send one (the probe), hold the rest. */
  ALLOW_ONE: 'allow-one',
  /** Hold them all. */
  CLOSED: 'closed',
} as const;
export type RetryGate = (typeof RetryGate)[keyof typeof RetryGate];

interface Block {
  errors: number;
  until: number;
  state: CircuitState;
}

/** The agent's `blockedEndpoints`: one circuit breaker per target URL. */
export class BlockedEndpoints {
  private readonly policy: ExpBackoffPolicy;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly blocks = new Map<string, Block>();

  /** `now()` is a millisecond clock (monotonic in production); `random()` is in `[0, 1)`. */
  constructor(policy: ExpBackoffPolicy, now: () => number, random: () => number) {
    this.policy = policy;
    this.now = now;
    this.random = random;
  }

  /** An attempt to `url` failed (and is being retried). */
  close(url: string): void {
    const b = this.blocks.get(url) ?? { errors: 0, until: 0, state: CircuitState.UNBLOCKED };
    // Failures arriving while blocked were sent before the block: ignored.
    if (b.state !== CircuitState.BLOCKED) {
      b.errors = this.policy.incError(b.errors);
      b.until = this.now() + this.policy.backoffMs(b.errors, this.random);
      b.state = CircuitState.BLOCKED;
    }
    this.blocks.set(url, b);
  }

  /** An attempt to `url` succeeded, or was answered with a permanent error. */
  recover(url: string): void {
    const b = this.blocks.get(url);
    // Unblocked: nothing to do. Blocked: the success may predate the block; ignored.
    if (b === undefined || b.state !== CircuitState.HALF_BLOCKED) return;
    b.errors = this.policy.decError(b.errors);
    if (b.errors === 0) {
      b.state = CircuitState.UNBLOCKED;
    } else {
      b.until = this.now() + this.policy.backoffMs(b.errors, this.random);
      b.state = CircuitState.BLOCKED;
    }
  }

  /** Whether a retry pass may hand `url`'s transactions to the senders (`isBlockForRetry`). */
  gateForRetry(url: string): RetryGate {
    const b = this.blocks.get(url);
    if (b === undefined) return RetryGate.OPEN;
    switch (b.state) {
      case CircuitState.UNBLOCKED:
        return RetryGate.OPEN;
      case CircuitState.HALF_BLOCKED:
        return RetryGate.CLOSED;
      case CircuitState.BLOCKED:
        return this.now() < b.until ? RetryGate.CLOSED : RetryGate.ALLOW_ONE;
    }
  }

  /**
   * Whether a sender must hold a transaction for `url` instead of sending it (`isBlockForSend`).
   * A blocked endpoint whose wait is over moves to `halfBlocked` and lets this one through.
   */
  isBlockedForSend(url: string): boolean {
    const b = this.blocks.get(url);
    if (b === undefined) return false;
    switch (b.state) {
      case CircuitState.UNBLOCKED:
        return false;
      case CircuitState.HALF_BLOCKED:
        return true;
      case CircuitState.BLOCKED:
        if (this.now() < b.until) return true;
        b.state = CircuitState.HALF_BLOCKED;
        return false;
    }
  }

  state(url: string): CircuitState {
    return this.blocks.get(url)?.state ?? CircuitState.UNBLOCKED;
  }

  errors(url: string): number {
    return this.blocks.get(url)?.errors ?? 0;
  }

  /** When `url`'s wait ends (clock milliseconds); 0 when not blocked. */
  blockedUntil(url: string): number {
    const b = this.blocks.get(url);
    return b !== undefined && b.state === CircuitState.BLOCKED ? b.until : 0;
  }
}

/** Transaction priorities (`transaction.Priority`): normal ones are dropped first. */
export const Priority = {
  NORMAL: 0,
  HIGH: 1,
} as const;
export type Priority = (typeof Priority)[keyof typeof Priority];

/** What the retry order and the drop order look at. `seq` grows with creation time. */
export interface Prioritized {
  readonly priority: Priority;
  readonly seq: number;
}

/**
 * The retry order (the agent's `SortByCreatedTimeAndPriority{HighPriorityFirst: true}`): high
 * priority first, then newest first. The drop order is its reverse: normal before high, oldest
 * first.
 */
export function compareRetryOrder(a: Prioritized, b: Prioritized): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return b.seq - a.seq;
}
