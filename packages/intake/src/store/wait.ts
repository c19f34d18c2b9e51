import type { EventEmitter } from 'node:events';

/** 10 s: how long a wait lasts when not told. */
export const DEFAULT_WAIT_TIMEOUT_MS = 10_000;

export interface WaitOptions {
  /** Reject with {@link WaitTimeoutError} after this long (`Infinity`: never). @defaultValue {@link DEFAULT_WAIT_TIMEOUT_MS} */
  readonly timeoutMs?: number;
  /** Reject with the signal's reason when it aborts. */
  readonly signal?: AbortSignal;
}

/** What a wait rejects with when nothing matched in time. */
export class WaitTimeoutError extends Error {
  readonly code = 'ERR_INTAKE_WAIT_TIMEOUT';
  constructor(message: string) {
    super(message);
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Calls `probe` now and on every `event` the emitter emits, and resolves with the first answer
 * that is not `false`, `null` or `undefined`. Rejects with {@link WaitTimeoutError} (its message
 * from `describe`) after `timeoutMs`, with the signal's reason on abort, or with what `probe`
 * throws. The listener, timer and abort handler are removed when it settles.
 */
export function waitOn<T>(
  emitter: EventEmitter,
  event: string,
  probe: () => T | false | null | undefined,
  options: WaitOptions,
  describe: (timeoutMs: number) => string,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  const signal = options.signal;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const settle = (): void => {
      emitter.off(event, check);
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    function onAbort(): void {
      settle();
      reject(signal!.reason);
    }
    function check(): boolean {
      let v: T | false | null | undefined;
      try {
        v = probe();
      } catch (e) {
        settle();
        reject(e);
        return true;
      }
      if (v === false || v === null || v === undefined) return false;
      settle();
      resolve(v);
      return true;
    }
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    if (check()) return;
    emitter.on(event, check);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== Infinity) {
      timer = setTimeout(() => {
        settle();
        reject(new WaitTimeoutError(describe(timeoutMs)));
      }, timeoutMs);
    }
  });
}
