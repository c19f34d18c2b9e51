/**
 * Where an exchange failed before a complete response came back. The first five map to the
 * agent's `ErrorsByType` counters (its `httptrace` hooks in `transaction.go`); `timeout` and
 * `response` are counted only in `Errors`, as in the agent.
 */
export const TransportErrorKind = {
  /** Name resolution failed (`DNSErrors`). */
  DNS: 'dns',
  /** The TLS handshake failed (`TLSErrors`). */
  TLS: 'tls',
  /** No connection: refused, unreachable, reset while connecting (`ConnectionErrors`). */
  CONNECTION: 'connection',
  /** The connection broke while the request was being written (`WroteRequestErrors`). */
  WRITE: 'write',
  /** The request could not be built: bad URL or header (`SentRequestErrors`). */
  INVALID_REQUEST: 'invalid_request',
  /** No complete response within `forwarder_timeout`. */
  TIMEOUT: 'timeout',
  /** The request was written, then the connection broke before the response was complete. */
  RESPONSE: 'response',
} as const;
export type TransportErrorKind = (typeof TransportErrorKind)[keyof typeof TransportErrorKind];

/** What one HTTP exchange came to. Transports never throw or reject: every failure is one of these. */
export type TransportOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      /** `"503 Service Unavailable"`, as Go's `resp.Status`. */
      readonly statusText: string;
      /** The response body, cut at 1000 bytes for logs (`truncateBodyForLog`). */
      readonly body: string;
    }
  | {
      readonly kind: 'error';
      readonly error: TransportErrorKind;
      /** Node's error code (`ECONNREFUSED`, `ENOTFOUND`, ...) or `KENNEL_TIMEOUT`. */
      readonly code: string;
      /** A one-line description, already scrubbed of API keys. */
      readonly message: string;
    }
  | { readonly kind: 'cancelled' };

/** Sends one request. The forwarder's only I/O dependency, so tests and other transports can stand in. */
export interface Transport {
  /** POSTs `body` to `url`; resolves (never rejects) with what happened. */
  post(url: string, headers: Readonly<Record<string, string>>, body: Uint8Array): Promise<TransportOutcome>;
  /** Cancels every request in flight: each resolves `{ kind: 'cancelled' }`. */
  cancelAll(): void;
  /** Cancels what is in flight and closes idle connections. */
  close(): void;
}
