import { TransportErrorKind } from '../transport/types.js';
import type { TransportOutcome } from '../transport/types.js';

/**
 * The classifier: what happens to a transaction after one attempt. It decides retryable or
 * permanent and nothing else; the policy decides when, the queue holds what waits.
 *
 * The rules are the agent's `HTTPTransaction.internalProcess`
 * (`comp/forwarder/defaultforwarder/transaction/transaction.go`):
 * - status < 400: success;
 * - 400 and 413: dropped, logged with the payload size and endpoint;
 * - 403: dropped, logged as "API Key invalid";
 * - every other status ≥ 400 (404, 408, 429, 5xx): retried; 404 on purpose, since proxies and
 *   regions answer it for endpoints that exist elsewhere;
 * - a transport failure (DNS, connect, TLS, write, timeout, reset): retried;
 * - a request cancelled at shutdown: neither (it is not requeued).
 */
export const Verdict = {
  SUCCESS: 'success',
  DROP: 'drop',
  RETRY: 'retry',
  CANCELLED: 'cancelled',
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** Why, in a word, for logs and tests. */
export const VerdictReason = {
  OK: 'ok',
  BAD_REQUEST: 'bad_request',
  PAYLOAD_TOO_LARGE: 'payload_too_large',
  API_KEY_INVALID: 'api_key_invalid',
  HTTP_ERROR: 'http_error',
  TRANSPORT_ERROR: 'transport_error',
  INVALID_REQUEST: 'invalid_request',
  CANCELLED: 'cancelled',
} as const;
export type VerdictReason = (typeof VerdictReason)[keyof typeof VerdictReason];

export interface Classification {
  readonly verdict: Verdict;
  readonly reason: VerdictReason;
}

const SUCCESS: Classification = Object.freeze({ verdict: Verdict.SUCCESS, reason: VerdictReason.OK });
const BAD_REQUEST: Classification = Object.freeze({ verdict: Verdict.DROP, reason: VerdictReason.BAD_REQUEST });
const TOO_LARGE: Classification = Object.freeze({ verdict: Verdict.DROP, reason: VerdictReason.PAYLOAD_TOO_LARGE });
const API_KEY_INVALID: Classification = Object.freeze({ verdict: Verdict.DROP, reason: VerdictReason.API_KEY_INVALID });
const HTTP_ERROR: Classification = Object.freeze({ verdict: Verdict.RETRY, reason: VerdictReason.HTTP_ERROR });
const TRANSPORT_ERROR: Classification = Object.freeze({ verdict: Verdict.RETRY, reason: VerdictReason.TRANSPORT_ERROR });
const INVALID_REQUEST: Classification = Object.freeze({ verdict: Verdict.DROP, reason: VerdictReason.INVALID_REQUEST });
const CANCELLED: Classification = Object.freeze({ verdict: Verdict.CANCELLED, reason: VerdictReason.CANCELLED });

/** Classifies an HTTP status code. */
export function classifyStatus(status: number): Classification {
  if (status < 400) return SUCCESS;
  if (status === 400) return BAD_REQUEST;
  if (status === 413) return TOO_LARGE;
  if (status === 403) return API_KEY_INVALID;
  return HTTP_ERROR;
}

/**
 * Classifies one attempt. A request that cannot even be built (a malformed URL or header) is
 * dropped: retrying would build it the same way (the agent drops it too, counting
 * `SentRequestErrors`).
 */
export function classify(outcome: TransportOutcome): Classification {
  switch (outcome.kind) {
    case 'response':
      return classifyStatus(outcome.status);
    case 'cancelled':
      return CANCELLED;
    case 'error':
      return outcome.error === TransportErrorKind.INVALID_REQUEST ? INVALID_REQUEST : TRANSPORT_ERROR;
  }
}

/** The agent's `ErrorsByType` counter names. */
export const ERRORS_BY_TYPE = ['DNSErrors', 'TLSErrors', 'ConnectionErrors', 'WroteRequestErrors', 'SentRequestErrors'] as const;
export type ErrorsByTypeName = (typeof ERRORS_BY_TYPE)[number];

/** The `ErrorsByType` counter a transport failure increments; `null` for timeouts and broken responses. */
export function errorsByTypeCounter(kind: TransportErrorKind): ErrorsByTypeName | null {
  switch (kind) {
    case TransportErrorKind.DNS:
      return 'DNSErrors';
    case TransportErrorKind.TLS:
      return 'TLSErrors';
    case TransportErrorKind.CONNECTION:
      return 'ConnectionErrors';
    case TransportErrorKind.WRITE:
      return 'WroteRequestErrors';
    case TransportErrorKind.INVALID_REQUEST:
      return 'SentRequestErrors';
    default:
      return null;
  }
}
