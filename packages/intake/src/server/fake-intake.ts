import { EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, KennelError } from '@kennel/core';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../decode/decompress.js';
import { INTAKE_ENDPOINTS } from '../decode/payload.js';
import { DEFAULT_MAX_BODY_BYTES } from '../limits.js';
import { DecodeErrorReason } from '../decode/result.js';
import { IntakeStore, type IntakeStoreOptions } from '../store/intake-store.js';
import { Ring } from '../store/ring.js';
import { waitOn, type WaitOptions } from '../store/wait.js';

/** How many requests the fake intake remembers by default. */
export const DEFAULT_MAX_RECORDED_REQUESTS = 1000;

/** The intake's API key header (`DD-Api-Key`; HTTP header names are case-insensitive). */
const API_KEY_HEADER = 'dd-api-key';
/** Headers whose values are secrets: recorded as 27 `*` and the last 5 characters, as the agent's scrubber does. */
const SECRET_HEADERS = new Set([API_KEY_HEADER, 'dd-application-key', 'dd-api-key-id']);

/** Shows only the last 5 characters of a secret (none when it has 5 or fewer), as the agent's log scrubber. */
export function redactSecret(secret: string): string {
  return '*'.repeat(27) + (secret.length > 5 ? secret.slice(-5) : '');
}

/** What became of a request. */
export type RequestOutcome =
  /** Decoded and stored (202). */
  | 'stored'
  /** Answered by a route that stores nothing (`/api/v1/validate`, routes added with `route`). */
  | 'answered'
  /** Refused by the intake's own checks: 400, 403, 404, 405, 413. */
  | 'rejected'
  /** Answered with a status set by `failNext` or `failFor`. */
  | 'injected'
  /** The connection was reset mid-body by `resetNext`. */
  | 'reset'
  /** The client went away before its body ended. */
  | 'aborted';

/** One request as the fake intake saw it. */
export interface RecordedRequest {
  /** Arrival order, from 1. */
  readonly seq: number;
  readonly method: string;
  /** The path with its query, an `api_key` parameter redacted. */
  readonly path: string;
  /** Header names in lower case (repeated headers joined with `, `); secrets redacted. */
  readonly headers: Readonly<Record<string, string>>;
  /** Body bytes received (before decompression). */
  readonly bodyBytes: number;
  /** The status answered; 0 when none was (reset, aborted). */
  readonly status: number;
  readonly outcome: RequestOutcome;
  /** Why it was refused: a decode reason, `missing_api_key`, `body_too_large`, `not_found`, `method_not_allowed`, `injected`. */
  readonly reason?: string;
  /** When its head arrived, in the intake's clock (milliseconds). */
  readonly receivedAt: number;
}

export interface FakeIntakeCounts {
  readonly requests: number;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly byOutcome: Readonly<Partial<Record<RequestOutcome, number>>>;
  /** Records dropped from the bounded request list (the requests were handled). */
  readonly droppedRecords: number;
}

/** A request handed to a route added with {@link FakeIntake.route}, its body read in full. */
export interface FakeIntakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** As node received them, secrets included. */
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly store: IntakeStore;
}

export interface FakeIntakeResponse {
  readonly status: number;
  /** Sent as JSON; `{}` when absent. */
  readonly body?: unknown;
  /** `stored` when the route stored something; `answered` by default. */
  readonly outcome?: 'stored' | 'answered' | 'rejected';
  readonly reason?: string;
}

export type FakeIntakeHandler = (request: FakeIntakeRequest) => FakeIntakeResponse | Promise<FakeIntakeResponse>;

export interface FakeIntakeOptions {
  /** Where decoded payloads go. @defaultValue a new `IntakeStore(storeOptions)` */
  readonly store?: IntakeStore;
  /** Options of the store made when `store` is not given. */
  readonly storeOptions?: IntakeStoreOptions;
  /** A body larger than this (as received) is answered 413. @defaultValue {@link DEFAULT_MAX_BODY_BYTES} (64 MiB) */
  readonly maxBodyBytes?: number;
  /** A body decompressing to more is answered 413 (`too_large`). @defaultValue 64 MiB */
  readonly maxDecompressedBytes?: number;
  /** How many requests `requests()` keeps, oldest dropped first. @defaultValue {@link DEFAULT_MAX_RECORDED_REQUESTS} */
  readonly maxRecordedRequests?: number;
  /** When given, only these API keys are accepted; by default any non-empty key is. */
  readonly apiKeys?: readonly string[];
  /** The clock for `failFor` and `receivedAt`, in milliseconds. @defaultValue `Date.now` */
  readonly now?: () => number;
}

export interface ListenOptions {
  /** @defaultValue `'127.0.0.1'` */
  readonly host?: string;
  /** 0 picks a free port. @defaultValue `0` */
  readonly port?: number;
}

interface Route {
  readonly handler: FakeIntakeHandler;
  readonly requireApiKey: boolean;
}

interface Delayed {
  readonly timer: NodeJS.Timeout;
  readonly send: () => void;
}

const REQUEST = 'request';

function positive(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || Number.isNaN(v) || v <= 0) {
    throw new KennelError(ErrorCode.INVALID_ARGUMENT, `FakeIntake: ${name} must be a number > 0, got ${String(v)}`);
  }
  return v;
}

function count(name: string, v: number): number {
  if (!(v === Infinity || (Number.isInteger(v) && v > 0))) {
    throw new KennelError(ErrorCode.INVALID_ARGUMENT, `FakeIntake: ${name} must be an integer > 0 or Infinity, got ${String(v)}`);
  }
  return v;
}

function statusCode(status: number): number {
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new KennelError(ErrorCode.INVALID_ARGUMENT, `FakeIntake: status must be an integer in 100..599, got ${String(status)}`);
  }
  return status;
}

function recordedHeaders(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = SECRET_HEADERS.has(name) ? redactSecret(raw[i + 1]!) : raw[i + 1]!;
    out[name] = name in out ? `${out[name]}, ${value}` : value;
  }
  return { ...out };
}

function recordedPath(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  const key = params.get('api_key');
  if (key === null) return url;
  params.set('api_key', redactSecret(key));
  return `${url.slice(0, q)}?${params.toString()}`;
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * A fake Datadog intake on a real `node:http` server, for tests: it accepts the metrics intake
 * routes, checks the API key and the body size, decodes every payload into an
 * {@link IntakeStore}, answers as the real intake does, and records every request. Faults can
 * be injected: a status for the next requests or for a while, slow responses, connections reset
 * mid-body, and the listener going away.
 *
 * @remarks
 * Routes: `POST /api/v2/series`, `/api/beta/sketches`, `/api/v1/series`, `/api/v1/check_run`,
 * `/intake/` (202 `{}` once stored) and `GET /api/v1/validate` (200 `{"valid":true}`). A request
 * is handled in this order: route (404, 405), declared `Content-Length` past `maxBodyBytes`
 * (413), the body as it arrives (a `resetNext` reset, 413 once past the limit), an injected
 * status (`failNext`, then `failFor`), the API key (403), decoding (400 with the reason; 413 for
 * `too_large`), storing (202). `delayResponses` holds whatever answer comes last.
 *
 * @example
 * ```ts
 * const intake = await FakeIntake.start();
 * // point the forwarder at intake.url, send, then:
 * const series = await intake.store.waitFor((s) => s.series({ name: 'app.hits' }).length > 0 && s.series({ name: 'app.hits' }));
 * await intake.close();
 * ```
 */
export class FakeIntake {
  readonly store: IntakeStore;
  readonly maxBodyBytes: number;
  readonly maxDecompressedBytes: number;
  readonly maxRecordedRequests: number;
  private readonly apiKeys: ReadonlySet<string> | undefined;
  private readonly now: () => number;
  private readonly server: Server;
  private readonly routes = new Map<string, Map<string, Route>>();
  private readonly records = new Ring<RecordedRequest>();
  private readonly emitter = new EventEmitter();
  private readonly byStatus = new Map<string, number>();
  private readonly byOutcome = new Map<RequestOutcome, number>();
  private readonly delayed = new Set<Delayed>();
  private seq = 0;
  private droppedRecords = 0;
  private address: { host: string; port: number } | undefined;
  private closed = false;
  // Faults.
  private failQueue: { status: number; remaining: number }[] = [];
  private failWindow: { status: number; until: number } | undefined;
  private delay: { ms: number; remaining: number } | undefined;
  private resets: { remaining: number; afterBytes: number } | undefined;

  constructor(options: FakeIntakeOptions = {}) {
    this.store = options.store ?? new IntakeStore(options.storeOptions);
    this.maxBodyBytes = positive('maxBodyBytes', options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
    this.maxDecompressedBytes = positive('maxDecompressedBytes', options.maxDecompressedBytes, DEFAULT_MAX_DECOMPRESSED_BYTES);
    this.maxRecordedRequests = count('maxRecordedRequests', options.maxRecordedRequests ?? DEFAULT_MAX_RECORDED_REQUESTS);
    this.apiKeys = options.apiKeys !== undefined ? new Set(options.apiKeys) : undefined;
    this.now = options.now ?? Date.now;
    this.emitter.setMaxListeners(0);
    this.server = createServer((req, res) => this.onRequest(req, res));
    for (const path of [...Object.keys(INTAKE_ENDPOINTS), '/intake']) {
      this.route('POST', path, (r) => this.ingest(r));
    }
    this.route('GET', '/api/v1/validate', () => ({ status: 200, body: { valid: true } }));
  }

  /** Makes a fake intake and starts it listening (`127.0.0.1`, a free port, unless told). */
  static async start(options: FakeIntakeOptions & ListenOptions = {}): Promise<FakeIntake> {
    const intake = new FakeIntake(options);
    await intake.listen(options);
    return intake;
  }

  // --- lifecycle -------------------------------------------------------------------------------

  /** Starts listening. Rejects with `KennelError` `ERR_LISTEN_FAILED` when the port cannot be had. */
  listen(options: ListenOptions = {}): Promise<{ host: string; port: number }> {
    if (this.closed) return Promise.reject(new KennelError(ErrorCode.LISTEN_FAILED, 'FakeIntake: closed'));
    if (this.server.listening && this.address !== undefined) return Promise.resolve({ ...this.address });
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 0;
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => {
        this.server.off('listening', onListening);
        reject(new KennelError(ErrorCode.LISTEN_FAILED, `FakeIntake: cannot listen on ${host}:${port}: ${e.message}`, { cause: e }));
      };
      const onListening = (): void => {
        this.server.off('error', onError);
        const a = this.server.address() as AddressInfo;
        this.address = { host, port: a.port };
        resolve({ host, port: a.port });
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      this.server.listen(port, host);
    });
  }

  /** `http://host:port` of the last address listened on (kept while stopped, so clients can keep pointing at it). */
  get url(): string {
    if (this.address === undefined) throw new KennelError(ErrorCode.INVALID_ARGUMENT, 'FakeIntake.url: not listening yet');
    const h = this.address.host.includes(':') ? `[${this.address.host}]` : this.address.host;
    return `http://${h}:${this.address.port}`;
  }

  get listening(): boolean {
    return this.server.listening;
  }

  /**
   * The intake goes away: stops accepting connections and drops every open one (requests in
   * flight see their connection reset, held responses are never sent). `resumeListening` brings
   * it back on the same port.
   */
  async stopListening(): Promise<void> {
    this.dropDelayed();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Listens again on the address it last listened on. */
  async resumeListening(): Promise<void> {
    if (this.address === undefined) throw new KennelError(ErrorCode.INVALID_ARGUMENT, 'FakeIntake.resumeListening: it never listened');
    if (this.server.listening) return;
    await this.listen(this.address);
  }

  /** Stops for good: drops every connection and held response. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearFaultState();
    await this.stopListening();
  }

  // --- routes ------------------------------------------------------------------------------------

  /**
   * Adds (or replaces) a route, for payloads this package does not decode yet (traces, logs).
   * The handler gets the whole body, after the size check, injected faults and (unless
   * `requireApiKey` is false) the API key check.
   */
  route(method: string, path: string, handler: FakeIntakeHandler, options: { readonly requireApiKey?: boolean } = {}): void {
    let byMethod = this.routes.get(path);
    if (byMethod === undefined) this.routes.set(path, (byMethod = new Map()));
    byMethod.set(method.toUpperCase(), { handler, requireApiKey: options.requireApiKey ?? true });
  }

  // --- faults --------------------------------------------------------------------------------------

  /** Answers `status` to the next `n` requests (after the ones already queued), storing nothing. */
  failNext(status: number, n = 1): void {
    this.failQueue.push({ status: statusCode(status), remaining: count('n', n) });
  }

  /** Answers `status` to every request for the next `ms` milliseconds (of the intake's clock), storing nothing. */
  failFor(status: number, ms: number): void {
    this.failWindow = { status: statusCode(status), until: this.now() + positive('ms', ms, 0) };
  }

  /**
   * Holds each of the next `n` responses for `ms` milliseconds. The request is handled (and its
   * payload stored) at once; only the answer waits. `clearFaults` sends held answers at once.
   */
  delayResponses(ms: number, n = Infinity): void {
    this.delay = { ms: positive('ms', ms, 0), remaining: count('n', n) };
  }

  /**
   * Resets the connection (TCP RST) of each of the next `n` requests once `afterBytes` of its
   * body have arrived, or at the end of a shorter body. Nothing is stored or answered.
   */
  resetNext(n = 1, options: { readonly afterBytes?: number } = {}): void {
    const afterBytes = options.afterBytes ?? 1;
    if (!Number.isInteger(afterBytes) || afterBytes < 0) {
      throw new KennelError(ErrorCode.INVALID_ARGUMENT, `FakeIntake.resetNext: afterBytes must be an integer >= 0, got ${String(afterBytes)}`);
    }
    this.resets = { remaining: count('n', n), afterBytes };
  }

  /** Ends every fault mode and sends every held response now. */
  clearFaults(): void {
    const held = [...this.delayed];
    this.delayed.clear();
    this.clearFaultState();
    for (const d of held) {
      clearTimeout(d.timer);
      d.send();
    }
  }

  // --- what was received -------------------------------------------------------------------------

  /** Every request recorded, oldest first (at most `maxRecordedRequests`). */
  requests(): RecordedRequest[] {
    return [...this.records];
  }

  counts(): FakeIntakeCounts {
    return {
      requests: this.seq,
      byStatus: Object.fromEntries(this.byStatus),
      byOutcome: Object.fromEntries(this.byOutcome),
      droppedRecords: this.droppedRecords,
    };
  }

  /**
   * Calls `probe` now and after every request recorded, and resolves with its first answer that
   * is not `false`, `null` or `undefined` (see `IntakeStore.waitFor`).
   */
  waitForRequest<T>(probe: (requests: readonly RecordedRequest[]) => T | false | null | undefined, options: WaitOptions = {}): Promise<T> {
    return waitOn(this.emitter, REQUEST, () => probe(this.requests()), options, (ms) => {
      return `FakeIntake.waitForRequest: nothing matched within ${ms} ms (${this.seq} requests received)`;
    });
  }

  // --- handling ------------------------------------------------------------------------------------

  private ingest(r: FakeIntakeRequest): FakeIntakeResponse {
    const result = this.store.ingest(
      { path: r.path, contentEncoding: firstHeader(r.headers['content-encoding']), body: r.body },
      { maxDecompressedBytes: this.maxDecompressedBytes },
    );
    if (result.ok) return { status: 202, body: {}, outcome: 'stored' };
    return {
      status: result.reason === DecodeErrorReason.TOO_LARGE ? 413 : 400,
      body: { errors: [`${result.reason}: ${result.message}`], reason: result.reason },
      outcome: 'rejected',
      reason: result.reason,
    };
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q >= 0 ? url.slice(0, q) : url;
    const method = (req.method ?? 'GET').toUpperCase();
    const seq = ++this.seq;
    const base = { seq, method, path: recordedPath(url), headers: recordedHeaders(req.rawHeaders), receivedAt: this.now() };
    let bodyBytes = 0;
    let finished = false;
    const finish = (status: number, outcome: RequestOutcome, body: unknown, reason?: string, extraHeaders?: Record<string, string>): void => {
      if (finished) return;
      finished = true;
      this.record({ ...base, bodyBytes, status, outcome, ...(reason !== undefined ? { reason } : {}) });
      if (outcome === 'reset' || outcome === 'aborted') return;
      const text = JSON.stringify(body ?? {});
      const send = (): void => {
        if (res.destroyed || res.headersSent) return;
        res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...extraHeaders });
        res.end(text);
      };
      const delay = this.takeDelay();
      if (delay === undefined) return send();
      const d: Delayed = {
        timer: setTimeout(() => {
          this.delayed.delete(d);
          send();
        }, delay),
        send,
      };
      this.delayed.add(d);
    };
    const reject = (status: number, reason: string, message: string, headers?: Record<string, string>): void => {
      finish(status, 'rejected', { errors: [message] }, reason, headers);
    };

    const byMethod = this.routes.get(path);
    const route = byMethod?.get(method);
    if (route === undefined) {
      req.resume(); // drain the body, keep the connection usable
      if (byMethod === undefined) return reject(404, 'not_found', 'Not Found');
      return reject(405, 'method_not_allowed', 'Method Not Allowed', { Allow: [...byMethod.keys()].join(', ') });
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.maxBodyBytes) {
      req.resume();
      return reject(413, 'body_too_large', `the body (${declared} bytes) is more than ${this.maxBodyBytes} bytes`);
    }

    const reset = this.takeReset();
    const chunks: Buffer[] = [];
    let tooLarge = false;
    const doReset = (): void => {
      finish(0, 'reset', undefined, 'reset');
      req.socket.resetAndDestroy();
    };
    req.on('data', (chunk: Buffer) => {
      if (finished) return;
      bodyBytes += chunk.length;
      if (reset !== undefined && bodyBytes >= reset) return doReset();
      if (tooLarge) return;
      if (bodyBytes > this.maxBodyBytes) {
        tooLarge = true;
        chunks.length = 0;
        // Keep reading (and dropping) the rest, so the client reads the answer on a usable connection.
        return reject(413, 'body_too_large', `the body is more than ${this.maxBodyBytes} bytes`);
      }
      chunks.push(chunk);
    });
    req.on('error', () => finish(0, 'aborted', undefined, 'aborted'));
    req.on('close', () => {
      if (!req.complete) finish(0, 'aborted', undefined, 'aborted');
    });
    req.on('end', () => {
      if (finished) return;
      if (reset !== undefined) return doReset();
      const injected = this.takeFailure();
      if (injected !== undefined) return finish(injected, 'injected', { errors: [`injected ${injected}`] }, 'injected');
      const key = firstHeader(req.headers[API_KEY_HEADER]) ?? '';
      if (route.requireApiKey && (key === '' || (this.apiKeys !== undefined && !this.apiKeys.has(key)))) {
        return reject(403, 'missing_api_key', 'Forbidden');
      }
      const request: FakeIntakeRequest = {
        method,
        path,
        query: new URLSearchParams(q >= 0 ? url.slice(q + 1) : ''),
        headers: req.headers,
        body: Buffer.concat(chunks),
        store: this.store,
      };
      let answer: FakeIntakeResponse | Promise<FakeIntakeResponse>;
      try {
        answer = route.handler(request);
      } catch (e) {
        return finish(500, 'rejected', { errors: [String(e)] }, 'handler_error');
      }
      const respond = (a: FakeIntakeResponse): void => finish(a.status, a.outcome ?? 'answered', a.body, a.reason);
      if (answer instanceof Promise) {
        answer.then(respond, (e: unknown) => finish(500, 'rejected', { errors: [String(e)] }, 'handler_error'));
      } else respond(answer);
    });
  }

  private record(r: RecordedRequest): void {
    this.records.push(r);
    if (this.records.size > this.maxRecordedRequests) {
      this.records.shift();
      this.droppedRecords++;
    }
    const s = String(r.status);
    this.byStatus.set(s, (this.byStatus.get(s) ?? 0) + 1);
    this.byOutcome.set(r.outcome, (this.byOutcome.get(r.outcome) ?? 0) + 1);
    this.emitter.emit(REQUEST, r);
  }

  private takeFailure(): number | undefined {
    const head = this.failQueue[0];
    if (head !== undefined) {
      if (--head.remaining <= 0) this.failQueue.shift();
      return head.status;
    }
    if (this.failWindow !== undefined) {
      if (this.now() < this.failWindow.until) return this.failWindow.status;
      this.failWindow = undefined;
    }
    return undefined;
  }

  private takeDelay(): number | undefined {
    const d = this.delay;
    if (d === undefined) return undefined;
    if (--d.remaining <= 0) this.delay = undefined;
    return d.ms;
  }

  /** The byte count after which this request's connection is reset, if it is to be. */
  private takeReset(): number | undefined {
    const r = this.resets;
    if (r === undefined) return undefined;
    if (--r.remaining <= 0) this.resets = undefined;
    return r.afterBytes;
  }

  private clearFaultState(): void {
    this.failQueue = [];
    this.failWindow = undefined;
    this.delay = undefined;
    this.resets = undefined;
  }

  private dropDelayed(): void {
    for (const d of this.delayed) clearTimeout(d.timer);
    this.delayed.clear();
  }
}
