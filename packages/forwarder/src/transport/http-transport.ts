import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { TransportErrorKind } from './types.js';
import type { Transport, TransportOutcome } from './types.js';

/** How much of a response body is kept for the log line (the agent's `truncateBodyForLog`). */
export const LOGGED_BODY_LIMIT = 1000;

/** The code a request that ran past `forwarder_timeout` fails with. */
export const TIMEOUT_CODE = 'KENNEL_TIMEOUT';

export interface HttpTransportOptions {
  /** `forwarder_timeout` in milliseconds: the whole exchange, connect to last response byte. */
  readonly timeoutMs: number;
  /** Most sockets per origin (kept alive between requests): `forwarder_max_concurrent_requests`. */
  readonly maxSockets: number;
  /** Applied to every error message (removes API keys). */
  readonly scrub?: (text: string) => string;
  /** `skip_ssl_validation`: accept any certificate. @defaultValue `false` */
  readonly skipSslValidation?: boolean;
  /** Certificate authorities to trust instead of Node's bundled ones (PEM). */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
}

/** Where an exchange was when it failed; decides the `ErrorsByType` counter. */
export type ExchangePhase = 'connecting' | 'writing' | 'waiting' | 'reading';

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'EAI_SERVICE', 'EAI_ADDRFAMILY']);
const TLS_CODES = new Set([
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'HOSTNAME_MISMATCH',
]);

/**
 * The kind of a transport failure, from Node's error code and the phase the exchange was in.
 * `tlsHandshaking` is true when TCP is up and the TLS handshake is not done.
 */
export function classifyTransportError(code: string, phase: ExchangePhase, tlsHandshaking = false): TransportErrorKind {
  if (code === TIMEOUT_CODE) return TransportErrorKind.TIMEOUT;
  if (DNS_CODES.has(code)) return TransportErrorKind.DNS;
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) return TransportErrorKind.TLS;
  if (code === 'ERR_INVALID_URL' || code === 'ERR_INVALID_CHAR' || code === 'ERR_INVALID_HTTP_TOKEN' || code === 'ERR_INVALID_PROTOCOL') {
    return TransportErrorKind.INVALID_REQUEST;
  }
  switch (phase) {
    case 'connecting':
      return tlsHandshaking ? TransportErrorKind.TLS : TransportErrorKind.CONNECTION;
    case 'writing':
      return TransportErrorKind.WRITE;
    default:
      return TransportErrorKind.RESPONSE;
  }
}

interface Exchange {
  cancel(): void;
}

/**
 * POSTs payloads with `node:http` / `node:https` over keep-alive connections (one agent per
 * scheme, at most `maxSockets` sockets per origin). Every failure resolves as a
 * {@link TransportOutcome}; nothing throws.
 *
 * @remarks
 * The timeout covers the whole exchange, as Go's `http.Client.Timeout` does in the agent: a
 * server that accepts the request and never answers fails with `KENNEL_TIMEOUT`.
 */
export class HttpTransport implements Transport {
  private readonly timeoutMs: number;
  private readonly scrub: (text: string) => string;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly exchanges = new Set<Exchange>();

  constructor(options: HttpTransportOptions) {
    this.timeoutMs = options.timeoutMs;
    this.scrub = options.scrub ?? ((s) => s);
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets };
    this.httpAgent = new http.Agent(agentOptions);
    const tlsOptions: https.AgentOptions = { ...agentOptions, rejectUnauthorized: options.skipSslValidation !== true };
    if (options.ca !== undefined) tlsOptions.ca = options.ca as string | Buffer | Array<string | Buffer>;
    this.httpsAgent = new https.Agent(tlsOptions);
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.exchanges.size;
  }

  post(url: string, headers: Readonly<Record<string, string>>, body: Uint8Array): Promise<TransportOutcome> {
    return new Promise<TransportOutcome>((resolve) => {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        resolve(this.error(TransportErrorKind.INVALID_REQUEST, 'ERR_INVALID_URL', 'the intake URL does not parse'));
        return;
      }
      const secure = u.protocol === 'https:';
      if (!secure && u.protocol !== 'http:') {
        resolve(this.error(TransportErrorKind.INVALID_REQUEST, 'ERR_INVALID_PROTOCOL', `unsupported protocol ${u.protocol}`));
        return;
      }

      let settled = false;
      let phase: ExchangePhase = 'connecting';
      let tlsHandshaking = false;
      let req: http.ClientRequest | null = null;
      let timer: NodeJS.Timeout | null = null;

      const finish = (outcome: TransportOutcome): void => {
        if (settled) return;
        settled = true;
        if (timer !== null) clearTimeout(timer);
        this.exchanges.delete(exchange);
        resolve(outcome);
      };
      const fail = (e: unknown): void => {
        const err = e as NodeJS.ErrnoException | null;
        const code = typeof err?.code === 'string' ? err.code : 'ERR_UNKNOWN';
        const text = err instanceof Error ? err.message : String(e);
        const message = text.includes(code) ? text : `${text} (${code})`;
        finish(this.error(classifyTransportError(code, phase, tlsHandshaking), code, message));
      };
      const exchange: Exchange = {
        cancel: () => {
          finish({ kind: 'cancelled' });
          req?.destroy();
        },
      };
      this.exchanges.add(exchange);

      const options: https.RequestOptions = {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(body.byteLength) },
        agent: secure ? this.httpsAgent : this.httpAgent,
      };
      // SNI carries no trailing dot (RFC 6066); the agent's FQDN hosts (`app.datadoghq.com.`) have one.
      if (secure && isIP(u.hostname) === 0 && u.hostname.endsWith('.')) options.servername = u.hostname.slice(0, -1);

      try {
        req = (secure ? https : http).request(u, options);
      } catch (e) {
        fail(e);
        return;
      }
      const r = req;
      timer = setTimeout(() => {
        finish(this.error(TransportErrorKind.TIMEOUT, TIMEOUT_CODE, `no response within ${this.timeoutMs / 1000} s (forwarder_timeout)`));
        r.destroy();
      }, this.timeoutMs);

      r.on('error', fail);
      r.on('socket', (s: Socket) => {
        if (!s.connecting) {
          phase = 'writing'; // a kept-alive connection
          return;
        }
        const secureSocket = (s as TLSSocket).encrypted === true;
        s.once('connect', () => {
          if (secureSocket) tlsHandshaking = true;
          else if (phase === 'connecting') phase = 'writing';
        });
        if (secureSocket) {
          s.once('secureConnect', () => {
            tlsHandshaking = false;
            if (phase === 'connecting') phase = 'writing';
          });
        }
      });
      r.on('finish', () => {
        if (phase === 'writing') phase = 'waiting';
      });
      r.on('response', (res: http.IncomingMessage) => {
        phase = 'reading';
        const status = res.statusCode ?? 0;
        const statusText = `${status} ${res.statusMessage || http.STATUS_CODES[status] || ''}`.trim();
        let logged = '';
        let complete = false;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (logged.length < LOGGED_BODY_LIMIT + 1) logged += chunk.slice(0, LOGGED_BODY_LIMIT + 1 - logged.length);
        });
        res.on('end', () => {
          complete = true;
          const body = logged.length > LOGGED_BODY_LIMIT ? logged.slice(0, LOGGED_BODY_LIMIT) + '...' : logged;
          finish({ kind: 'response', status, statusText, body: this.scrub(body) });
        });
        res.on('error', fail);
        res.on('close', () => {
          if (!complete) fail(Object.assign(new Error('the connection closed before the response was complete'), { code: 'ECONNRESET' }));
        });
      });
      r.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    });
  }

  cancelAll(): void {
    for (const e of [...this.exchanges]) e.cancel();
  }

  close(): void {
    this.cancelAll();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private error(error: TransportErrorKind, code: string, message: string): TransportOutcome {
    return { kind: 'error', error, code, message: this.scrub(message) };
  }
}
