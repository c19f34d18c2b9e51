import type { ErrorCode } from './codes.js';

const kKennelError = Symbol.for('kennel.error');

/**
 * The one error class kennel throws, for programmer and configuration errors only. Data-path
 * problems never throw: they become counted reasons (see `DogStatsDParseError`).
 *
 * A `Symbol.for` brand makes `isKennelError` work across duplicate installs of `@kennel/core`.
 */
export class KennelError extends Error {
  readonly code: ErrorCode;
  readonly [kKennelError] = true;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'KennelError';
  }
}

export function isKennelError(e: unknown): e is KennelError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[kKennelError] === true;
}
