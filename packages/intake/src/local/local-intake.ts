import { ErrorCode, KennelError } from '@kennel/core';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../decode/decompress.js';
import { DecodeErrorReason } from '../decode/result.js';
import { DEFAULT_MAX_BODY_BYTES } from '../limits.js';
import { intakeKindOf } from '../decode/payload.js';
import { IntakeStore, type AnyStoredPayload, type IntakeStoreOptions } from '../store/intake-store.js';

/**
 * One payload as the forwarder sends it. `@kennel/forwarder`'s `IntakePayload` is one (its other
 * fields are ignored), so a forwarder payload can be submitted as it is.
 */
export interface LocalSubmission {
  /** The intake path, such as `/api/v2/series`. */
  readonly endpoint: string;
  /** `zstd`, `deflate`, `gzip` or `identity` (empty or absent is `identity`). */
  readonly contentEncoding?: string | undefined;
  readonly body: Uint8Array;
}

/** What `submit` answers, with the status the HTTP intake would have answered. */
export type LocalSubmitResult =
  | { readonly ok: true; readonly status: 202; readonly payload: AnyStoredPayload }
  | {
      readonly ok: false;
      /** 404 for a path that is not an intake endpoint, 413 for a body too large, 400 otherwise. */
      readonly status: 400 | 404 | 413;
      readonly reason: DecodeErrorReason;
      readonly message: string;
    };

export interface LocalIntakeOptions {
  /** Where decoded payloads go. @defaultValue a new `IntakeStore(storeOptions)` */
  readonly store?: IntakeStore;
  /** Options of the store made when `store` is not given. */
  readonly storeOptions?: IntakeStoreOptions;
  /** A body larger than this (as submitted) is refused, 413 (`too_large`). @defaultValue 64 MiB */
  readonly maxBodyBytes?: number;
  /** A body decompressing to more is refused, 413 (`too_large`). @defaultValue 64 MiB */
  readonly maxDecompressedBytes?: number;
}

function positive(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || Number.isNaN(v) || v <= 0) {
    throw new KennelError(ErrorCode.INVALID_ARGUMENT, `LocalIntake: ${name} must be a number > 0, got ${String(v)}`);
  }
  return v;
}

/**
 * The intake of kennel's local mode (no API key: nothing leaves the machine): the forwarder's
 * payloads are decoded in process, without HTTP, into an {@link IntakeStore}, with the same
 * checks and answers as {@link FakeIntake} (less the API key, which local mode has none of).
 *
 * @example
 * ```ts
 * const local = new LocalIntake();
 * for (const p of encodeAll(encoder, flushed)) local.submit(p);
 * local.store.series({ name: 'app.hits' });
 * ```
 */
export class LocalIntake {
  readonly store: IntakeStore;
  readonly maxBodyBytes: number;
  readonly maxDecompressedBytes: number;

  constructor(options: LocalIntakeOptions = {}) {
    this.store = options.store ?? new IntakeStore(options.storeOptions);
    this.maxBodyBytes = positive('maxBodyBytes', options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
    this.maxDecompressedBytes = positive('maxDecompressedBytes', options.maxDecompressedBytes, DEFAULT_MAX_DECOMPRESSED_BYTES);
  }

  /** Decodes and stores one payload. Never throws; a payload that cannot be read is counted by reason in the store. */
  submit(payload: LocalSubmission): LocalSubmitResult {
    if (payload.body.length > this.maxBodyBytes) {
      this.store.recordDecodeError(DecodeErrorReason.TOO_LARGE, intakeKindOf(payload.endpoint));
      return { ok: false, status: 413, reason: DecodeErrorReason.TOO_LARGE, message: `the body (${payload.body.length} bytes) is more than ${this.maxBodyBytes} bytes` };
    }
    const r = this.store.ingest(
      { path: payload.endpoint, contentEncoding: payload.contentEncoding, body: payload.body },
      { maxDecompressedBytes: this.maxDecompressedBytes },
    );
    if (r.ok) return { ok: true, status: 202, payload: r.value };
    const status = r.reason === DecodeErrorReason.UNKNOWN_ENDPOINT ? 404 : r.reason === DecodeErrorReason.TOO_LARGE ? 413 : 400;
    return { ok: false, status, reason: r.reason, message: r.message };
  }
}
