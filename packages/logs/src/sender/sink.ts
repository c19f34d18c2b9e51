import http from 'node:http';
import https from 'node:https';
import { formatEndpointStatus, LOGS_INTAKE_PATH, type LogsEndpoint } from './endpoint.js';

/**
 * The Datadog Agent version kennel reports in `User-Agent: datadog-agent/<version>` and
 * `DD-EVP-ORIGIN-VERSION`: the release whose logs pipeline this package ports (the forwarder
 * package reports the same one).
 */
export const LOGS_AGENT_VERSION = '7.64.0';

/** The intake protocol of the logs track (`config.AgentJSONIntakeProtocol`). */
export const LOGS_INTAKE_PROTOCOL = 'agent-json';

/** The intake origin of the agent (`config.DefaultIntakeOrigin`; the Lambda extension sends `lambda-extension`). */
export const LOGS_INTAKE_ORIGIN = 'agent';

/** How much of an error response body is kept for the warning line. */
export const LOGGED_RESPONSE_LIMIT = 1000;

/** One payload, ready to go. */
export interface LogsRequest {
  /** The compressed JSON array of events. */
  readonly body: Uint8Array;
  /** `zstd`, `gzip` or `identity`. */
  readonly contentEncoding: string;
  /** The last event's ingestion time, milliseconds (`dd-message-timestamp`). */
  readonly messageTimestampMs: number;
  /** `logs_config.http_timeout` in milliseconds: the whole exchange, connect to last response byte. */
  readonly timeoutMs: number;
}

/** What one attempt came to. A sink never throws: every failure is one of these. */
export type LogsSinkOutcome =
  /** The intake answered (any status). `body` is the start of the response, for warnings. */
  | { readonly kind: 'response'; readonly status: number; readonly body: string }
  /** No answer: DNS, connect, TLS, reset, timeout, a broken response. Always retried. */
  | { readonly kind: 'error'; readonly code: string; readonly message: string }
  /** The sender is closing and abandoned the request. */
  | { readonly kind: 'cancelled' };

/**
 * Where the sender's payloads go: the HTTP intake ({@link HttpLogsSink}) or, in kennel's local
 * mode, the in-process intake ({@link createSubmitLogsSink}).
 *
 * @remarks
 * Not to be confused with `LogSink` (no `s`), the channel the sources push messages into: a
 * `LogsSink` is at the other end of the pipeline and takes whole compressed payloads.
 */
export interface LogsSink {
  /** The endpoint host: the key of `DestinationLogsDropped` and the host in warnings. */
  readonly host: string;
  /** The Logs Agent status line for this target. */
  statusLine(compressed: boolean): string;
  /** Sends one payload; `signal` aborts it at shutdown (answer `cancelled`). */
  send(request: LogsRequest, signal: AbortSignal): Promise<LogsSinkOutcome>;
  /** Releases sockets. */
  close(): void;
}

export interface HttpLogsSinkOptions {
  /** Trust these certificate authorities instead of Node's bundle (PEM), for tests and private relays. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** The clock for `dd-current-timestamp`, in milliseconds. @defaultValue `Date.now` */
  readonly now?: () => number;
}

const TIMEOUT = 'KENNEL_TIMEOUT';

/**
 * The headers of one logs request, as the agent's HTTP destination sets them
 * (`comp/logs-library/client/http/destination.go`, `unconditionalSend`): `DD-API-KEY`,
 * `Content-Type: application/json`, `User-Agent: datadog-agent/<version>`, `Content-Encoding`,
 * `DD-PROTOCOL: agent-json`, `DD-EVP-ORIGIN: agent`, `DD-EVP-ORIGIN-VERSION: <version>`,
 * `dd-message-timestamp` (the last event's ingestion time, ms) and `dd-current-timestamp` (now, ms).
 */
export function buildLogsHeaders(request: Pick<LogsRequest, 'contentEncoding' | 'messageTimestampMs'>, apiKey: string, nowMs: number): Record<string, string> {
  const headers: Record<string, string> = {
    'DD-API-KEY': apiKey,
    'Content-Type': 'application/json',
    'User-Agent': `datadog-agent/${LOGS_AGENT_VERSION}`,
  };
  if (request.contentEncoding !== '') headers['Content-Encoding'] = request.contentEncoding;
  headers['DD-PROTOCOL'] = LOGS_INTAKE_PROTOCOL;
  headers['DD-EVP-ORIGIN'] = LOGS_INTAKE_ORIGIN;
  headers['DD-EVP-ORIGIN-VERSION'] = LOGS_AGENT_VERSION;
  headers['dd-message-timestamp'] = String(Math.trunc(request.messageTimestampMs));
  headers['dd-current-timestamp'] = String(Math.trunc(nowMs));
  return headers;
}

/**
 * POSTs payloads to the logs intake with `node:http` / `node:https` over one keep-alive
 * connection (the agent sends one payload at a time per destination). The timeout covers the
 * whole exchange, as Go's `http.Client.Timeout` does.
 *
 * @example
 * ```ts
 * const sink = new HttpLogsSink(resolveLogsEndpoint({ apiKey: process.env.DD_API_KEY! }));
 * // the sender passes `logs_config.http_timeout` with each request
 * ```
 */
export class HttpLogsSink implements LogsSink {
  readonly endpoint: LogsEndpoint;
  private readonly agent: http.Agent;
  private readonly now: () => number;
  private readonly url: URL;

  constructor(endpoint: LogsEndpoint, options: HttpLogsSinkOptions = {}) {
    this.endpoint = endpoint;
    this.now = options.now ?? Date.now;
    this.url = new URL(endpoint.url);
    const agentOptions: https.AgentOptions = { keepAlive: true, maxSockets: 1 };
    if (options.ca !== undefined) agentOptions.ca = options.ca as string | Buffer | Array<string | Buffer>;
    this.agent = endpoint.useSSL ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  get host(): string {
    return this.endpoint.host;
  }

  statusLine(compressed: boolean): string {
    return formatEndpointStatus(this.endpoint, compressed);
  }

  send(request: LogsRequest, signal: AbortSignal): Promise<LogsSinkOutcome> {
    return this.post(request.body, buildLogsHeaders(request, this.endpoint.apiKey, this.now()), request.timeoutMs, signal);
  }

  /**
   * The agent's start-up connectivity check (`CheckConnectivity`): POSTs `{}` with a 5 s timeout
   * and reports whether the intake answered below 400.
   */
  async checkConnectivity(timeoutMs = 5000): Promise<boolean> {
    const body = Buffer.from('{}');
    // No events: the agent's `getMessageTimestamp` gives -1 ns, which is 0 in integer milliseconds.
    const headers = buildLogsHeaders({ contentEncoding: '', messageTimestampMs: 0 }, this.endpoint.apiKey, this.now());
    const outcome = await this.post(body, headers, timeoutMs, new AbortController().signal);
    return outcome.kind === 'response' && outcome.status < 400;
  }

  close(): void {
    this.agent.destroy();
  }

  private post(body: Uint8Array, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal): Promise<LogsSinkOutcome> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve({ kind: 'cancelled' });
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      let req: http.ClientRequest | undefined;
      const onAbort = (): void => {
        done({ kind: 'cancelled' });
        req?.destroy();
      };
      const done = (o: LogsSinkOutcome): void => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(o);
      };
      const fail = (e: unknown): void => {
        const err = e as NodeJS.ErrnoException;
        done({ kind: 'error', code: err.code ?? 'ERR', message: err.message ?? String(e) });
      };
      const mod = this.endpoint.useSSL ? https : http;
      try {
        req = mod.request(this.url, {
          method: 'POST',
          agent: this.agent,
          headers: { ...headers, 'Content-Length': String(body.length) },
        });
      } catch (e) {
        return fail(e);
      }
      timer = setTimeout(() => {
        fail(Object.assign(new Error(`no answer within ${timeoutMs} ms (logs_config.http_timeout)`), { code: TIMEOUT }));
        req?.destroy();
      }, timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', fail);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (c: Buffer) => {
          // Read everything (so the connection stays reusable), keep only the start.
          if (kept < LOGGED_RESPONSE_LIMIT) {
            chunks.push(c);
            kept += c.length;
          }
        });
        res.on('error', fail);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8').slice(0, LOGGED_RESPONSE_LIMIT);
          done({ kind: 'response', status: res.statusCode ?? 0, body: text });
        });
        res.on('close', () => {
          if (!res.complete) fail(Object.assign(new Error('the response was cut short'), { code: 'ECONNRESET' }));
        });
      });
      req.end(body);
    });
  }
}

/** One payload as kennel's in-process intake takes it (`@kennel/intake`'s `LocalSubmission`). */
export interface LogsSubmission {
  readonly endpoint: string;
  readonly contentEncoding?: string | undefined;
  readonly body: Uint8Array;
}

/** What a local intake answers: at least the status the HTTP intake would have. */
export interface LogsSubmitResult {
  readonly status: number;
  readonly message?: string;
}

/**
 * A sink for kennel's local mode: every payload goes to `submit` (such as `LocalIntake.submit`
 * of `@kennel/intake`) at `/api/v2/logs`, in process, and its status is handled as an HTTP
 * answer would be.
 *
 * @example
 * ```ts
 * const local = new LocalIntake();
 * const sink = createSubmitLogsSink((p) => local.submit(p));
 * ```
 */
export function createSubmitLogsSink(
  submit: (submission: LogsSubmission) => LogsSubmitResult | Promise<LogsSubmitResult>,
  options: { readonly host?: string; readonly statusLine?: (compressed: boolean) => string } = {},
): LogsSink {
  const host = options.host ?? 'local-intake';
  return {
    host,
    statusLine:
      options.statusLine ??
      ((compressed: boolean): string => `Local: Keeping ${compressed ? 'compressed' : 'uncompressed'} logs in the in-process intake (nothing leaves the machine)`),
    async send(request: LogsRequest, signal: AbortSignal): Promise<LogsSinkOutcome> {
      if (signal.aborted) return { kind: 'cancelled' };
      try {
        const r = await submit({ endpoint: LOGS_INTAKE_PATH, contentEncoding: request.contentEncoding, body: request.body });
        return { kind: 'response', status: r.status, body: r.message ?? '' };
      } catch (e) {
        return { kind: 'error', code: 'ERR_LOCAL_SUBMIT', message: e instanceof Error ? e.message : String(e) };
      }
    },
    close(): void {},
  };
}
