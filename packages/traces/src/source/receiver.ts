/**
 * The trace receiver: the trace-agent's HTTP API on `apm_config.receiver_port` (8126) and on the
 * Unix socket `apm_config.receiver_socket`, as `pkg/trace/api/api.go` serves it (see
 * `shared/spec/traces.md` a.1 to a.7). The only module of this package that opens sockets.
 *
 * @remarks
 * What the agent does and this does too: no method check; prefix patterns; every response of a
 * registered endpoint carries `Datadog-Agent-Version` and `Datadog-Agent-State` (the SHA-256 of
 * the `/info` body), `/info` itself does not; bodies past `max_request_bytes` are refused with
 * 413 `payload-too-large`; a body that does not decode is refused with 400 and the decoder's
 * message (counted by reason); msgpack on v0.1/v0.2 is 415; `Sec-Fetch-Site: cross-site` on a
 * trace endpoint is 403; v0.4, v0.5 and v0.7 answer `{"rate_by_service": ...}` (or `{}` when the
 * tracer already has the current `Datadog-Rates-Payload-Version`), the others `OK\n`;
 * `/v0.6/stats` answers 200 with an empty body; unknown paths (`/v0.7/config` among them:
 * kennel has no remote configuration) are Go's `404 page not found`.
 *
 * Connections: at most `maxConnections` are served at once and, on TCP, at most
 * `connectionLimit` new ones every 30 s (`apm_config.connection_limit`, the agent's
 * rate-limited listener); extra connections wait, unread, as they would in the agent's accept
 * backlog. Every connection has a deadline of `timeoutMs` (`apm_config.receiver_timeout`, 5 s) to
 * send its request head, then to send its body (408 `timeout` past it) and be answered, and
 * between keep-alive requests, so a slow client cannot hold a connection.
 *
 * kennel differs in one place: a Unix socket left by a process still serving on it is not
 * removed (the agent removes it and takes the path); only a stale one is.
 */
import { chmodSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { dirname } from 'node:path';
import { CounterMap, CounterSet, ErrorCode, KennelError } from '@kennel/core';
import type { TracerPayload } from '@kennel/core';
import { createTraceDecodeErrorCounters, traceDecodeErrorEntry, type TraceDecodeErrorReason } from '../decode/errors.js';
import { decodeJsonTraces } from '../decode/json.js';
import { decodeTraces } from '../decode/msgpack.js';
import { decodeClientStats, type ClientStatsPayload } from '../decode/stats.js';
import type { TraceDecodeResult, TraceRequestMeta } from '../decode/types.js';
import { ENDPOINTS, matchEndpoint, mediaTypeOf, traceDecoding, type EndpointDef, type InfoDocument, type ProxyProduct, type TraceEndpointVersion } from './endpoints.js';
import { ReceiverStats, type TagStats } from './receiver-stats.js';

/** The socket mode the agent sets on its trace socket (`listenUnix`: 0722). */
export const AGENT_TRACE_SOCKET_MODE = 0o722;
/** `max_request_bytes`' default: 25 MiB. */
export const DEFAULT_MAX_REQUEST_BYTES = 25 * 1024 * 1024;
/** The receiver's read and write timeout when `receiver_timeout` is 0: 5 s. */
export const DEFAULT_RECEIVER_TIMEOUT_MS = 5000;
/** The EVP proxy's body limit (`evp_proxy_config.max_payload_size`): 5 MiB. */
export const DEFAULT_EVP_MAX_PAYLOAD_BYTES = 5 * 1024 * 1024;
/** How often the rate-limited listener's lease is refreshed (`Refresh`). */
export const CONNECTION_LEASE_MS = 30_000;
/** Connections waiting for a slot before new ones are closed at once (the accept backlog). */
export const MAX_PENDING_CONNECTIONS = 1024;
/** Bytes read and discarded after an early answer before the connection is closed (Go's `maxPostHandlerReadBytes`). */
const DISCARD_AFTER_ANSWER = 256 * 1024;

export const RECEIVER_COUNTERS = [
  'ConnectionsAccepted',
  'ConnectionsRateLimited',
  'ConnectionsQueued',
  'ConnectionsDropped',
  'ConnectionsTimedOut',
  'Requests',
  'NotFound',
  'TracePayloads',
  'TraceBytes',
  'PayloadTooLarge',
  'RequestTimeouts',
  'UnexpectedEOF',
  'DecodeErrors',
  'UnsupportedMediaType',
  'CrossSiteRejected',
  'ServicesRequests',
  'StatsPayloads',
  'StatsBytes',
  'StatsDecodeErrors',
  'InfoRequests',
  'DogStatsDPayloads',
  'DogStatsDRefused',
  'ProxyRequests',
  'ProxyBytes',
  'ProxyErrors',
] as const;
export type ReceiverCounterName = (typeof RECEIVER_COUNTERS)[number];

/** One trace payload the receiver decoded and accepted (already answered). */
export interface ReceivedTraces {
  readonly version: TraceEndpointVersion;
  readonly payload: TracerPayload;
  /** Spans in the payload as decoded. */
  readonly spans: number;
  /** Body bytes as received. */
  readonly bytes: number;
  /** The client's counters: the pipeline adds what processing finds. */
  readonly stats: TagStats;
  /** `Datadog-Meta-Lang`. */
  readonly lang: string;
  /** `Datadog-Client-Computed-Top-Level` was truthy. */
  readonly clientComputedTopLevel: boolean;
  /** `Datadog-Client-Computed-Stats` was truthy. */
  readonly clientComputedStats: boolean;
  /** `Datadog-Client-Dropped-P0-Traces` (0 when absent). */
  readonly clientDroppedP0Traces: number;
  readonly transport: 'tcp' | 'uds';
}

/** One `/v0.6/stats` payload (already answered). */
export interface ReceivedClientStats {
  readonly payload: ClientStatsPayload;
  readonly lang: string;
  readonly tracerVersion: string;
  readonly bytes: number;
  readonly stats: TagStats;
}

/** A request to a proxied product, its body read in full. */
export interface ProxyRequest {
  readonly product: ProxyProduct;
  readonly method: string;
  /** The path to forward: the request path, less the endpoint's prefix for telemetry and EVP. */
  readonly path: string;
  /** The raw query string, without `?` (`''` when none). */
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Uint8Array;
}

/** What the proxy answers the tracer. */
export interface ProxyAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}

/** Where the receiver hands what it accepted. Handlers run after the tracer was answered. */
export interface ReceiverHandlers {
  onTraces(r: ReceivedTraces): void;
  /** The `rate_by_service` map v0.4, v0.5 and v0.7 answer with. */
  rateByService(): Readonly<Record<string, number>>;
  onClientStats(r: ReceivedClientStats): void;
  /** `/dogstatsd/v1|v2/proxy`: newline-separated DogStatsD lines. False when DogStatsD is off (503). */
  onDogStatsD?(body: Uint8Array): boolean;
  /** A proxied product; a rejection is answered 502. Absent: 404. */
  onProxy?(r: ProxyRequest): Promise<ProxyAnswer>;
}

export interface TraceReceiverOptions {
  /** The TCP listener (`receiver_port` on 127.0.0.1, or every interface with `apm_non_local_traffic`); null: off. Port 0 picks a free port. */
  readonly tcp: { readonly host: string; readonly port: number } | null;
  /** The Unix socket path (`receiver_socket`); null: off. */
  readonly socket: string | null;
  /**
   * A Unix socket that cannot be opened leaves the TCP listener running (see `socketError`)
   * instead of failing `start`, when there is a TCP listener. @defaultValue false
   */
  readonly socketOptional?: boolean;
  /** @defaultValue {@link AGENT_TRACE_SOCKET_MODE} */
  readonly socketMode?: number;
  /** `max_request_bytes` (`apm_config.max_payload_size`). @defaultValue {@link DEFAULT_MAX_REQUEST_BYTES} */
  readonly maxRequestBytes?: number;
  /** `evp_proxy_config.max_payload_size`. @defaultValue {@link DEFAULT_EVP_MAX_PAYLOAD_BYTES} */
  readonly evpMaxPayloadBytes?: number;
  /** The read/write deadline. @defaultValue {@link DEFAULT_RECEIVER_TIMEOUT_MS} */
  readonly timeoutMs?: number;
  /** New TCP connections per 30 s; 0: no limit. @defaultValue 0 */
  readonly connectionLimit?: number;
  /** Connections served at once; more wait. 0: no limit. @defaultValue 1000 */
  readonly maxConnections?: number;
  /** `Datadog-Agent-Version`. */
  readonly agentVersion: string;
  readonly info: InfoDocument;
  /** The registered endpoints. @defaultValue {@link ENDPOINTS} */
  readonly endpoints?: readonly EndpointDef[];
  readonly handlers: ReceiverHandlers;
  /** Warnings (decode failures, at most one line every 10 s). */
  readonly log?: (line: string) => void;
}

/** Go's `strconv.ParseBool` falsy forms; any other non-empty value is true (`isHeaderTrue`). */
const FALSY = new Set(['0', 'f', 'F', 'FALSE', 'False', 'false']);
export function isHeaderTrue(v: string | string[] | undefined): boolean {
  const s = Array.isArray(v) ? v[0] : v;
  return s !== undefined && s !== '' && !FALSY.has(s);
}

function header(h: IncomingHttpHeaders, name: string): string {
  const v = h[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

type BodyResult = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly why: 'too_large' | 'timeout' | 'eof' };

interface ConnState {
  timer: NodeJS.Timeout | null;
  readonly transport: 'tcp' | 'uds';
  /** A request on this connection is being read or answered. */
  busy: boolean;
}

const STATE = Symbol('kennel.traceReceiverConn');
type TrackedSocket = Socket & { [STATE]?: ConnState };

/**
 * The trace-agent's HTTP receiver.
 *
 * @example
 * ```ts
 * const receiver = new TraceReceiver({
 *   tcp: { host: '127.0.0.1', port: 8126 }, socket: '/var/run/datadog/apm.socket',
 *   agentVersion: '7.64.0', info: buildInfo({...}),
 *   handlers: { onTraces: (r) => pipeline.process(r), rateByService: () => processor.rateByService(), onClientStats: ... },
 * });
 * await receiver.start();
 * // SIGTERM:
 * await receiver.stop();
 * ```
 */
export class TraceReceiver {
  readonly counters = new CounterSet<ReceiverCounterName>('trace_receiver', RECEIVER_COUNTERS);
  /** Decode failures by reason (traces and client stats). */
  readonly decodeErrors = createTraceDecodeErrorCounters();
  /** Proxied requests by product, and their failures. */
  readonly proxyRequests = new CounterMap();
  readonly proxyErrors = new CounterMap();
  /** Per-client counters since the last `stats.reset()` (the pipeline rotates them every minute). */
  readonly stats = new ReceiverStats();
  readonly maxRequestBytes: number;
  readonly timeoutMs: number;
  readonly connectionLimit: number;
  readonly maxConnections: number;
  private readonly o: TraceReceiverOptions;
  private readonly endpoints: readonly EndpointDef[];
  private readonly evpMax: number;
  private readonly http: HttpServer;
  private tcpServer: NetServer | null = null;
  private udsServer: NetServer | null = null;
  private udsIno = -1;
  private readonly sockets = new Set<TrackedSocket>();
  private readonly pending: { socket: TrackedSocket; transport: 'tcp' | 'uds' }[] = [];
  private active = 0;
  private lease: number;
  private leaseTimer: NodeJS.Timeout | null = null;
  private closing = false;
  private lastWarn = 0;
  private warnsSkipped = 0;
  private ratesKey = '';
  private ratesVersion = '';
  private ratesSeq = 0;
  /** The TCP address bound, once started. */
  tcpAddress: AddressInfo | null = null;
  /** The Unix socket path bound, once started. */
  socketPath: string | null = null;
  /** Why the optional Unix socket could not be opened. */
  socketError: string | null = null;

  constructor(options: TraceReceiverOptions) {
    this.o = options;
    this.endpoints = options.endpoints ?? ENDPOINTS;
    this.maxRequestBytes = positive('maxRequestBytes (apm_config.max_payload_size)', options.maxRequestBytes, DEFAULT_MAX_REQUEST_BYTES);
    this.evpMax = positive('evpMaxPayloadBytes (evp_proxy_config.max_payload_size)', options.evpMaxPayloadBytes, DEFAULT_EVP_MAX_PAYLOAD_BYTES);
    this.timeoutMs = positive('timeoutMs (apm_config.receiver_timeout)', options.timeoutMs, DEFAULT_RECEIVER_TIMEOUT_MS);
    this.connectionLimit = Math.max(0, Math.trunc(options.connectionLimit ?? 0));
    this.maxConnections = Math.max(0, Math.trunc(options.maxConnections ?? 1000));
    this.lease = this.connectionLimit;
    // Parses HTTP only: the sockets come from our own listeners, which decide when each is served.
    this.http = createHttpServer({ requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: this.timeoutMs }, (req, res) => this.onRequest(req, res));
    this.http.keepAliveTimeout = this.timeoutMs;
    this.http.on('clientError', (err, socket) => {
      // A malformed request head: Go answers 400 and closes.
      if (socket.writable && !(err as NodeJS.ErrnoException).code?.startsWith('ECONN')) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request');
      else socket.destroy();
    });
  }

  /** Opens the listeners. Throws a `KennelError` (`ERR_LISTEN_FAILED`) naming the address and the cause. */
  async start(): Promise<void> {
    const { tcp, socket } = this.o;
    try {
      if (tcp !== null) {
        const server = this.netServer('tcp');
        await listen(server, (cb) => server.listen({ host: tcp.host, port: tcp.port, backlog: 511 }, cb), `cannot listen for traces on ${tcp.host}:${tcp.port}`);
        this.tcpServer = server;
        this.tcpAddress = server.address() as AddressInfo;
      }
      if (socket !== null) {
        try {
          await this.listenUnix(socket);
        } catch (e) {
          if (this.o.socketOptional !== true || this.tcpServer === null) throw e;
          this.socketError = (e as Error).message;
        }
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
    if (this.connectionLimit > 0) {
      this.leaseTimer = setInterval(() => {
        this.lease = this.connectionLimit;
        this.admit();
      }, CONNECTION_LEASE_MS);
      this.leaseTimer.unref();
    }
  }

  private netServer(transport: 'tcp' | 'uds'): NetServer {
    const server = createNetServer({ pauseOnConnect: true, allowHalfOpen: true, noDelay: true });
    server.on('connection', (s: Socket) => this.onConnection(s as TrackedSocket, transport));
    server.on('error', (e) => this.warn(`trace receiver ${transport} listener: ${e.message}`));
    return server;
  }

  private async listenUnix(path: string): Promise<void> {
    const what = `cannot listen for traces on the Unix socket ${path}`;
    const fail = (why: string, cause?: unknown): never => {
      throw new KennelError(ErrorCode.LISTEN_FAILED, `${what}: ${why}`, cause === undefined ? undefined : { cause });
    };
    if (!path.startsWith('/')) fail('the path is not absolute');
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (e) {
      fail(`cannot create its directory ${dirname(path)}: ${(e as Error).message}`, e);
    }
    const existing = statSync(path, { throwIfNoEntry: false });
    if (existing) {
      if (!existing.isSocket()) fail('the path exists and is not a Unix socket; remove it or set DD_APM_RECEIVER_SOCKET to another path');
      if (await socketAnswers(path)) fail('another process is serving on it (EADDRINUSE)');
      try {
        unlinkSync(path);
      } catch (e) {
        fail(`cannot remove the stale socket file: ${(e as Error).message}`, e);
      }
    }
    const server = this.netServer('uds');
    await listen(server, (cb) => server.listen({ path, backlog: 511 }, cb), what);
    this.udsServer = server;
    try {
      chmodSync(path, this.o.socketMode ?? AGENT_TRACE_SOCKET_MODE);
      this.udsIno = statSync(path).ino;
    } catch (e) {
      fail(`cannot set its permissions: ${(e as Error).message}`, e);
    }
    this.socketPath = path;
  }

  private onConnection(socket: TrackedSocket, transport: 'tcp' | 'uds'): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    socket.on('error', () => {});
    const rateLimited = transport === 'tcp' && this.connectionLimit > 0 && this.lease <= 0;
    if (rateLimited) this.counters.add('ConnectionsRateLimited');
    const full = this.maxConnections > 0 && this.active >= this.maxConnections;
    // TCP connections wait in arrival order. A Unix socket connection needs no lease: with a slot
    // free it is served at once, even when TCP connections wait for the next lease (the agent's
    // rate-limited listener wraps its TCP listener only; the socket is served on its own).
    const behind = this.pending.length > 0 && transport === 'tcp';
    if (rateLimited || full || behind) {
      if (this.pending.length >= MAX_PENDING_CONNECTIONS) {
        this.counters.add('ConnectionsDropped');
        socket.destroy();
        return;
      }
      this.counters.add('ConnectionsQueued');
      this.pending.push({ socket, transport });
      socket.once('close', () => {
        const i = this.pending.findIndex((p) => p.socket === socket);
        if (i >= 0) this.pending.splice(i, 1);
      });
      return;
    }
    this.serve(socket, transport);
  }

  /** Serves waiting connections while slots and lease allow. */
  private admit(): void {
    while (this.pending.length > 0 && !this.closing) {
      if (this.maxConnections > 0 && this.active >= this.maxConnections) return;
      const next = this.pending[0]!;
      if (next.transport === 'tcp' && this.connectionLimit > 0 && this.lease <= 0) {
        // The head waits for the lease; Unix socket connections behind it need no lease.
        const uds = this.pending.findIndex((p) => p.transport === 'uds');
        if (uds < 0) return;
        const [p] = this.pending.splice(uds, 1);
        this.serve(p!.socket, 'uds');
        continue;
      }
      this.pending.shift();
      if (next.socket.destroyed) continue;
      this.serve(next.socket, next.transport);
    }
  }

  private serve(socket: TrackedSocket, transport: 'tcp' | 'uds'): void {
    if (transport === 'tcp' && this.connectionLimit > 0) this.lease--;
    this.active++;
    this.counters.add('ConnectionsAccepted');
    this.sockets.add(socket);
    const st: ConnState = { timer: null, transport, busy: false };
    socket[STATE] = st;
    socket.once('close', () => {
      if (st.timer !== null) clearTimeout(st.timer);
      this.sockets.delete(socket);
      this.active--;
      this.admit();
    });
    // Waiting for the first request head.
    this.deadline(socket, this.timeoutMs);
    this.http.emit('connection', socket);
    socket.resume();
  }

  /** (Re)arms the connection's deadline: past it, the connection is closed. */
  private deadline(socket: TrackedSocket, ms: number): void {
    const st = socket[STATE];
    if (st === undefined) return;
    if (st.timer !== null) clearTimeout(st.timer);
    st.timer = setTimeout(() => {
      st.timer = null;
      this.counters.add('ConnectionsTimedOut');
      socket.destroy();
    }, ms);
    st.timer.unref();
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket as TrackedSocket;
    const st = socket[STATE];
    // The request must be read and answered in time (Go's ReadTimeout and WriteTimeout); a
    // second more lets a 408 reach the client.
    this.deadline(socket, this.timeoutMs + 1000);
    if (st) st.busy = true;
    res.once('finish', () => {
      if (st) st.busy = false;
      if (!req.complete && res.getHeader('connection') === 'close') lingerClose(req);
      else if (!socket.destroyed) this.deadline(socket, this.timeoutMs);
    });
    this.counters.add('Requests');
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q >= 0 ? url.slice(0, q) : url;
    if (path === '/info') {
      this.counters.add('InfoRequests');
      const body = this.o.info.body;
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      req.resume();
      return;
    }
    const e = matchEndpoint(path, this.endpoints);
    if (e === null) {
      this.counters.add('NotFound');
      replyError(res, 404, '404 page not found');
      req.resume();
      return;
    }
    res.setHeader('Datadog-Agent-Version', this.o.agentVersion);
    res.setHeader('Datadog-Agent-State', this.o.info.state);
    const h = e.handling;
    const transport = st?.transport ?? 'tcp';
    switch (h.kind) {
      case 'traces':
        void this.handleTraces(h.version, req, res, transport);
        return;
      case 'services':
        this.counters.add('ServicesRequests');
        if (this.preflight(h.version, req, res)) {
          replyOK(res);
          req.resume();
        }
        return;
      case 'stats':
        void this.handleStats(req, res);
        return;
      case 'dogstatsd':
        void this.handleDogStatsD(req, res);
        return;
      case 'proxy':
        void this.handleProxy(h.product, h.strip, path, q >= 0 ? url.slice(q + 1) : '', req, res);
        return;
    }
  }

  /** `handleWithVersion`: 415 for msgpack on v0.1/v0.2, 403 for cross-site requests. False when answered. */
  private preflight(version: TraceEndpointVersion, req: IncomingMessage, res: ServerResponse): boolean {
    const mt = mediaTypeOf(req.headers['content-type']);
    if (mt === 'application/msgpack' && (version === 'v0.1' || version === 'v0.2')) {
      this.counters.add('UnsupportedMediaType');
      replyError(res, 415, `unsupported media type: "${mt}"`);
      req.resume();
      return false;
    }
    if (header(req.headers, 'sec-fetch-site') === 'cross-site') {
      this.counters.add('CrossSiteRejected');
      replyError(res, 403, 'cross-site request rejected');
      req.resume();
      return false;
    }
    return true;
  }

  private tagStats(version: string, h: IncomingHttpHeaders): TagStats {
    return this.stats.get({
      Lang: header(h, 'datadog-meta-lang'),
      LangVersion: header(h, 'datadog-meta-lang-version'),
      Interpreter: header(h, 'datadog-meta-lang-interpreter'),
      LangVendor: header(h, 'datadog-meta-lang-interpreter-vendor'),
      TracerVersion: header(h, 'datadog-meta-tracer-version'),
      EndpointVersion: version,
    });
  }

  private async handleTraces(version: TraceEndpointVersion, req: IncomingMessage, res: ServerResponse, transport: 'tcp' | 'uds'): Promise<void> {
    if (!this.preflight(version, req, res)) return;
    const ts = this.tagStats(version, req.headers);
    const countHeader = header(req.headers, 'x-datadog-trace-count');
    let tracen = 0;
    if (countHeader !== '') {
      if (/^[+-]?\d+$/.test(countHeader)) tracen = Number(countHeader);
      else this.warn(`Failed to count traces: "X-Datadog-Trace-Count" header value is not a number: ${JSON.stringify(countHeader.slice(0, 40))}`);
    }
    const r = await readBody(req, this.maxRequestBytes, this.timeoutMs);
    if (!r.ok) {
      this.bodyError(r.why, res);
      if (r.why === 'too_large') ts.tracesDropped.PayloadTooLarge += tracen;
      else if (r.why === 'timeout') ts.tracesDropped.Timeout += tracen;
      else ts.tracesDropped.EOF += tracen;
      return;
    }
    const body = r.body;
    const meta: TraceRequestMeta = {
      lang: ts.tags.Lang,
      langVersion: ts.tags.LangVersion,
      langInterpreter: ts.tags.Interpreter,
      langInterpreterVendor: ts.tags.LangVendor,
      tracerVersion: ts.tags.TracerVersion,
      containerId: containerIdOf(req.headers),
    };
    const d = this.decode(version, mediaTypeOf(req.headers['content-type']), body, meta);
    if (!d.ok) {
      this.counters.add('DecodeErrors');
      if (traceDecodeErrorEntry(d.reason).dropReason === 'msgp_short_bytes') ts.tracesDropped.MSGPShortBytes += tracen;
      else ts.tracesDropped.DecodingError += tracen;
      replyError(res, 400, d.message);
      this.warn(`Cannot decode ${version} traces payload: ${d.message}`);
      return;
    }
    if (version === 'v0.1' || version === 'v0.2' || version === 'v0.3') replyOK(res);
    else this.replyRates(req, res);
    const chunks = d.payload.chunks.length;
    ts.stats.TracesReceived += chunks;
    ts.stats.TracesBytes += body.length;
    ts.stats.PayloadAccepted += 1;
    let droppedP0 = 0;
    const dp = header(req.headers, 'datadog-client-dropped-p0-traces');
    if (dp !== '' && /^[+-]?\d+$/.test(dp)) {
      droppedP0 = Number(dp);
      ts.stats.ClientDroppedP0Traces += droppedP0;
    }
    const ds = header(req.headers, 'datadog-client-dropped-p0-spans');
    if (ds !== '' && /^[+-]?\d+$/.test(ds)) ts.stats.ClientDroppedP0Spans += Number(ds);
    this.counters.add('TracePayloads');
    this.counters.add('TraceBytes', body.length);
    this.o.handlers.onTraces({
      version,
      payload: d.payload,
      spans: d.spans,
      bytes: body.length,
      stats: ts,
      lang: ts.tags.Lang,
      clientComputedTopLevel: isHeaderTrue(req.headers['datadog-client-computed-top-level']),
      clientComputedStats: isHeaderTrue(req.headers['datadog-client-computed-stats']),
      clientDroppedP0Traces: droppedP0,
      transport,
    });
  }

  private decode(version: TraceEndpointVersion, mediaType: string, body: Uint8Array, meta: TraceRequestMeta): TraceDecodeResult {
    const how = traceDecoding(version, mediaType);
    const counters = { counters: this.decodeErrors };
    switch (how.format) {
      case 'msgpack':
        return decodeTraces(body, how.version, meta, counters);
      case 'json':
        return decodeJsonTraces(body, how.version, meta, counters);
      case 'json-then-msgpack': {
        // "do our best": JSON first, then msgpack; only the msgpack failure is counted.
        const j = decodeJsonTraces(body, how.version, meta, { counters: createTraceDecodeErrorCounters() });
        return j.ok ? j : decodeTraces(body, how.version, meta, counters);
      }
    }
  }

  /** `httpRateByService`. */
  private replyRates(req: IncomingMessage, res: ServerResponse): void {
    const rates = this.o.handlers.rateByService();
    const keys = Object.keys(rates).sort();
    const sorted: Record<string, number> = {};
    for (const k of keys) sorted[k] = rates[k]!;
    const text = JSON.stringify({ rate_by_service: sorted }) + '\n';
    if (text !== this.ratesKey) {
      this.ratesKey = text;
      this.ratesVersion = `${Date.now().toString(16)}-${(this.ratesSeq++).toString(16)}`;
    }
    res.setHeader('Content-Type', 'application/json');
    const asked = header(req.headers, 'datadog-rates-payload-version');
    if (asked !== '') {
      res.setHeader('Datadog-Rates-Payload-Version', this.ratesVersion);
      if (asked === this.ratesVersion) {
        res.setHeader('Content-Length', 2);
        res.end('{}');
        return;
      }
    }
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
  }

  private async handleStats(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ts = this.tagStats('v0.7', req.headers);
    const r = await readBody(req, this.maxRequestBytes, this.timeoutMs);
    if (!r.ok) {
      this.bodyError(r.why, res);
      return;
    }
    const d = decodeClientStats(r.body, { counters: this.decodeErrors });
    if (!d.ok) {
      this.counters.add('StatsDecodeErrors');
      replyError(res, 400, d.message);
      this.warn(`Error decoding pb.ClientStatsPayload: ${d.message}`);
      return;
    }
    res.writeHead(200, { 'Content-Length': 0 });
    res.end();
    this.counters.add('StatsPayloads');
    this.counters.add('StatsBytes', r.body.length);
    this.o.handlers.onClientStats({
      payload: d.payload,
      lang: header(req.headers, 'datadog-meta-lang'),
      tracerVersion: header(req.headers, 'datadog-meta-tracer-version'),
      bytes: r.body.length,
      stats: ts,
    });
  }

  private async handleDogStatsD(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const r = await readBody(req, this.maxRequestBytes, this.timeoutMs);
    if (!r.ok) {
      this.bodyError(r.why, res);
      return;
    }
    const on = this.o.handlers.onDogStatsD;
    if (on === undefined || !on(r.body)) {
      this.counters.add('DogStatsDRefused');
      replyError(res, 503, 'DogStatsD is disabled in the agent configuration (use_dogstatsd)');
      return;
    }
    this.counters.add('DogStatsDPayloads');
    res.writeHead(200, { 'Content-Length': 0 });
    res.end();
  }

  private async handleProxy(product: ProxyProduct, strip: string | undefined, path: string, query: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const on = this.o.handlers.onProxy;
    this.proxyRequests.add(product);
    this.counters.add('ProxyRequests');
    if (on === undefined) {
      replyError(res, 404, '404 page not found');
      req.resume();
      return;
    }
    const limit = product === 'evp_proxy' ? this.evpMax : this.maxRequestBytes;
    const r = await readBody(req, limit, this.timeoutMs);
    if (!r.ok) {
      this.proxyErrors.add(product);
      this.counters.add('ProxyErrors');
      if (product === 'evp_proxy' && r.why === 'too_large') {
        // The EVP proxy's limited reader fails its round trip: the reverse proxy answers 502.
        res.writeHead(502, { 'Content-Length': 0, Connection: 'close' });
        res.end();
        return;
      }
      this.bodyError(r.why, res);
      return;
    }
    this.counters.add('ProxyBytes', r.body.length);
    let forwarded = strip !== undefined && path.startsWith(strip) ? path.slice(strip.length) : path;
    if (forwarded === '') forwarded = '/';
    let answer: ProxyAnswer;
    try {
      answer = await on({ product, method: req.method ?? 'POST', path: forwarded, query, headers: req.headers, body: r.body });
    } catch (e) {
      this.proxyErrors.add(product);
      this.counters.add('ProxyErrors');
      this.warn(`${product} proxy: ${e instanceof Error ? e.message : String(e)}`);
      answer = { status: 502 };
    }
    if (answer.status >= 400) {
      this.proxyErrors.add(product);
      this.counters.add('ProxyErrors');
    }
    if (res.writableEnded || res.destroyed) return;
    const body = answer.body === undefined ? Buffer.alloc(0) : typeof answer.body === 'string' ? Buffer.from(answer.body) : Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength);
    res.writeHead(answer.status, { ...(answer.headers ?? {}), 'Content-Length': body.length });
    res.end(body);
  }

  private bodyError(why: 'too_large' | 'timeout' | 'eof', res: ServerResponse): void {
    if (why === 'too_large') {
      this.counters.add('PayloadTooLarge');
      res.setHeader('Connection', 'close');
      replyError(res, 413, 'payload-too-large');
    } else if (why === 'timeout') {
      this.counters.add('RequestTimeouts');
      res.setHeader('Connection', 'close');
      replyError(res, 408, 'timeout');
    } else {
      this.counters.add('UnexpectedEOF');
      replyError(res, 400, 'unexpected-eof');
    }
  }

  private warn(line: string): void {
    const log = this.o.log;
    if (log === undefined) return;
    const now = Date.now();
    if (now - this.lastWarn < 10_000) {
      this.warnsSkipped++;
      return;
    }
    const skipped = this.warnsSkipped;
    this.lastWarn = now;
    this.warnsSkipped = 0;
    log(skipped > 0 ? `${line} (and ${skipped} more since the last such line)` : line);
  }

  /** Counts of decode failures by reason, non-zero ones only. */
  decodeErrorsByReason(): Partial<Record<TraceDecodeErrorReason, number>> {
    const out: Partial<Record<TraceDecodeErrorReason, number>> = {};
    const s = this.decodeErrors.snapshot();
    for (const [k, v] of Object.entries(s) as [TraceDecodeErrorReason, number][]) if (v > 0) out[k] = v;
    return out;
  }

  /** Connections served now and waiting. */
  connections(): { active: number; pending: number } {
    return { active: this.active, pending: this.pending.length };
  }

  /**
   * Stops: closes the listeners (and removes the socket file), lets requests being answered
   * finish for up to `graceMs`, then closes every connection. Idempotent.
   */
  async stop(graceMs = 1000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.leaseTimer !== null) clearInterval(this.leaseTimer);
    for (const p of this.pending.splice(0)) p.socket.destroy();
    const closes: Promise<void>[] = [];
    for (const s of [this.tcpServer, this.udsServer]) if (s !== null) closes.push(new Promise((r) => s.close(() => r())));
    // Idle keep-alive connections go now; busy ones get the grace period.
    for (const s of this.sockets) if (!s[STATE]?.busy) s.destroy();
    const deadline = Date.now() + graceMs;
    while ([...this.sockets].some((s) => s[STATE]?.busy) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.sockets) s.destroy();
    await Promise.all(closes);
    if (this.socketPath !== null && this.udsIno >= 0) {
      try {
        if (statSync(this.socketPath, { throwIfNoEntry: false })?.ino === this.udsIno) unlinkSync(this.socketPath);
      } catch {
        // gone already
      }
    }
  }
}

function positive(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v <= 0) throw new KennelError(ErrorCode.CONFIG_INVALID, `TraceReceiver: ${name} must be a number > 0, got ${String(v)}`);
  return v;
}

function listen(server: NetServer, start: (cb: () => void) => void, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => reject(new KennelError(ErrorCode.LISTEN_FAILED, `${what}: ${e.message}`, { cause: e }));
    server.once('error', onError);
    start(() => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** True when something accepts connections on the Unix socket at `path`. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ path });
    const done = (v: boolean) => {
      c.destroy();
      resolve(v);
    };
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
    setTimeout(() => done(false), 1000).unref();
  });
}

/** The container id of a request: `Datadog-Container-ID`, else the `cid-`/`ci-` form of `Datadog-Entity-ID`. */
function containerIdOf(h: IncomingHttpHeaders): string {
  const cid = header(h, 'datadog-container-id');
  if (cid !== '') return cid;
  const entity = header(h, 'datadog-entity-id');
  if (entity.startsWith('cid-')) return entity.slice(4);
  if (entity.startsWith('ci-')) return entity.slice(3);
  return '';
}

/** Reads a whole body within `limit` bytes and `timeoutMs`. */
function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      resolve({ ok: false, why: 'too_large' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (r: BodyResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAbort);
      req.off('close', onClose);
      resolve(r);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        chunks.length = 0;
        finish({ ok: false, why: 'too_large' });
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => finish({ ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
    const onAbort = () => finish({ ok: false, why: 'eof' });
    const onClose = () => {
      if (!req.complete) finish({ ok: false, why: 'eof' });
    };
    const timer = setTimeout(() => finish({ ok: false, why: 'timeout' }), timeoutMs);
    timer.unref();
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAbort);
    req.on('close', onClose);
  });
}

/**
 * After an early answer that closes the connection (413, 408) while the client is still sending:
 * as Go's `closeWriteAndWait`, the answer is sent and our side shut, then what the client still
 * sends is read and dropped for a moment (at most 256 KiB, 500 ms) before the connection is
 * closed, so the client reads the answer instead of a reset.
 */
function lingerClose(req: IncomingMessage): void {
  const s = req.socket;
  // Node closes a `Connection: close` socket as soon as its answer is flushed; wait instead.
  s.removeListener('finish', s.destroy);
  let n = 0;
  const done = () => s.destroy();
  req.on('data', (c: Buffer) => {
    n += c.length;
    if (n > DISCARD_AFTER_ANSWER) done();
  });
  req.once('end', done);
  req.resume();
  setTimeout(done, 500).unref();
}

/** Go's `http.Error`: the text and a newline, as plain text. */
function replyError(res: ServerResponse, status: number, text: string): void {
  const body = text + '\n';
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** `httpOK`: `OK\n` (Go sniffs it as plain text). */
function replyOK(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 3 });
  res.end('OK\n');
}
