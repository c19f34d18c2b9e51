import { timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ErrorCode, KennelError } from '@kennel/core';

/** What `kennel status` and `kennel health` read. */
export interface StatusSource {
  /** The status document: `dogstatsdStats`, `aggregatorStats`, `forwarderStats`, ... */
  status(): Record<string, unknown>;
  /** Component names by health. */
  health(): { Healthy: string[]; Unhealthy: string[] };
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);

/**
 * A handler that answers requests itself (any method, query strings, streaming answers such
 * as Server-Sent Events): it returns true when it took the request, false to pass it on.
 */
export type RawHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** What a guarded route answers. */
export interface GuardedAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** A route that changes something: it needs the auth token (`Authorization: Bearer <token>`). */
export type GuardedHandler = (body: Buffer) => GuardedAnswer | Promise<GuardedAnswer>;

export interface StatusServerOptions {
  /**
   * The session token guarded routes need (the agent's `auth_token`); null refuses every
   * guarded request (403). @defaultValue null
   */
  readonly token?: string | null;
  /** `server_timeout`: a request must arrive whole within this, headers included (ms). @defaultValue 30 000 */
  readonly timeoutMs?: number;
  /** `cmd_max_connections`: connections held at once; more are closed at once and counted. @defaultValue 64 */
  readonly maxConnections?: number;
  /** Largest request body taken; a larger one is answered 413 and counted. @defaultValue 64 KiB */
  readonly maxBodyBytes?: number;
}

/** The status server's own counters (`kennel status` shows them under "Status Server"). */
export interface StatusServerStats {
  Requests: number;
  OpenConnections: number;
  /** Connections closed at once because `cmd_max_connections` were open. */
  ConnectionsRejected: number;
  /** Requests that did not arrive whole within `server_timeout` (answered 408, closed). */
  RequestTimeouts: number;
  /** Malformed requests (answered 400, closed). */
  BadRequests: number;
  /** Bodies past the limit (answered 413). */
  BodiesTooLarge: number;
  /** Guarded requests without the token (401) or with a wrong one (403). */
  Unauthorized: number;
}

/**
 * The status/IPC listener on `cmd_host:cmd_port` (localhost:5001), loopback only, serving the
 * agent's IPC paths: `GET /agent/status` (JSON) and `GET /agent/status/health`
 * (`{"Healthy": [...], "Unhealthy": [...]}`), open to any local reader; and the guarded routes
 * (`POST /agent/flush`, `POST /agent/stop`), which need `Authorization: Bearer <token>` with the
 * token kennel writes to `auth_token` at start, as the agent's IPC does.
 *
 * Slow or hostile clients: a request must arrive whole within `server_timeout` (408), at most
 * `cmd_max_connections` connections are held, and bodies past 64 KiB are refused (413); each is
 * counted in {@link StatusServer.stats}.
 */
export class StatusServer {
  private readonly server: Server;
  /** What `/agent/status` and `/agent/status/health` answer (the local page shows it too). */
  readonly source: StatusSource;
  private extra: ((path: string) => { status: number; body: unknown } | null) | null = null;
  private readonly raw: RawHandler[] = [];
  private readonly guardedRoutes = new Map<string, { method: string; handler: GuardedHandler }>();
  private readonly token: Buffer | null;
  private readonly maxBodyBytes: number;
  private readonly counters: StatusServerStats = {
    Requests: 0,
    OpenConnections: 0,
    ConnectionsRejected: 0,
    RequestTimeouts: 0,
    BadRequests: 0,
    BodiesTooLarge: 0,
    Unauthorized: 0,
  };

  constructor(source: StatusSource, options: StatusServerOptions = {}) {
    this.source = source;
    this.token = options.token ? Buffer.from(options.token, 'utf8') : null;
    this.maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
    const timeoutMs = options.timeoutMs ?? 30_000;
    // Node checks these timeouts every `connectionsCheckingInterval`: often enough to hold them.
    this.server = createServer({ connectionsCheckingInterval: Math.max(250, Math.min(timeoutMs / 2, 30_000)) }, (req, res) => {
      this.counters.Requests++;
      const path = (req.url ?? '/').split('?')[0]!;
      const send = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > this.maxBodyBytes) {
        this.counters.BodiesTooLarge++;
        // Answered without reading the body; the connection closes once the answer is out.
        res.setHeader('connection', 'close');
        send(413, { error: `the body (${declared} bytes) is more than ${this.maxBodyBytes} bytes` });
        return;
      }
      const guarded = this.guardedRoutes.get(path);
      if (guarded !== undefined) return this.serveGuarded(req, res, guarded, send);
      if (path !== '/agent/status' && path !== '/agent/status/health') {
        for (const h of this.raw) if (h(req, res)) return;
      }
      if (req.method !== 'GET') return send(405, { error: 'only GET' });
      if (path === '/agent/status') return send(200, this.source.status());
      if (path === '/agent/status/health') return send(200, this.source.health());
      const more = this.extra?.(path);
      if (more) return send(more.status, more.body);
      send(404, { error: `no such path ${path}` });
    });
    this.server.keepAliveTimeout = 1000;
    this.server.headersTimeout = timeoutMs;
    this.server.requestTimeout = timeoutMs;
    this.server.maxConnections = options.maxConnections ?? 64;
    this.server.on('connection', (socket: Socket) => {
      this.counters.OpenConnections++;
      socket.once('close', () => this.counters.OpenConnections--);
    });
    this.server.on('drop', () => this.counters.ConnectionsRejected++);
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
      if (timeout) this.counters.RequestTimeouts++;
      else if (err.code !== 'ECONNRESET') this.counters.BadRequests++;
      if (socket.writable && !(socket as Socket & { _httpMessage?: unknown })._httpMessage) {
        socket.end(
          timeout
            ? 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'
            : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
        );
      }
      socket.destroySoon();
    });
  }

  /**
   * Adds a guarded route: `method path` answers only requests carrying
   * `Authorization: Bearer <token>` (401 without it, 403 with another), with a body of at most
   * 64 KiB (413).
   */
  guard(method: string, path: string, handler: GuardedHandler): void {
    this.guardedRoutes.set(path, { method: method.toUpperCase(), handler });
  }

  /** The server's counters: requests, connections, and what it refused. */
  stats(): StatusServerStats {
    return { ...this.counters };
  }

  private serveGuarded(
    req: IncomingMessage,
    res: ServerResponse,
    route: { method: string; handler: GuardedHandler },
    send: (status: number, body: unknown) => void,
  ): void {
    if (req.method !== route.method) {
      res.setHeader('allow', route.method);
      req.resume();
      return send(405, { error: `only ${route.method}` });
    }
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer (\S+)$/.exec(auth);
    if (m === null) {
      this.counters.Unauthorized++;
      res.setHeader('connection', 'close');
      req.resume();
      return send(401, { error: auth === '' ? 'no session token provided' : 'unsupported authorization scheme' });
    }
    const given = Buffer.from(m[1]!, 'utf8');
    if (this.token === null || given.length !== this.token.length || !timingSafeEqual(given, this.token)) {
      this.counters.Unauthorized++;
      res.setHeader('connection', 'close');
      req.resume();
      return send(403, { error: 'invalid session token' });
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      if (refused) return;
      bytes += c.length;
      if (bytes > this.maxBodyBytes) {
        refused = true;
        chunks.length = 0;
        this.counters.BodiesTooLarge++;
        res.setHeader('connection', 'close');
        send(413, { error: `the body is more than ${this.maxBodyBytes} bytes` });
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (refused) return;
      Promise.resolve()
        .then(() => route.handler(Buffer.concat(chunks)))
        .then(
          (a) => send(a.status, a.body),
          (e: unknown) => send(500, { error: e instanceof Error ? e.message : String(e) }),
        );
    });
  }

  /** Adds routes (the local-mode API adds its own). */
  route(handler: (path: string) => { status: number; body: unknown } | null): void {
    this.extra = handler;
  }

  /** Adds a handler that answers requests itself (the local page, its API and its event stream). */
  handle(handler: RawHandler): void {
    this.raw.push(handler);
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    if (!LOOPBACK.has(host)) {
      throw new KennelError(ErrorCode.CONFIG_INVALID, `DD_CMD_HOST: the status port listens on loopback only (localhost, 127.0.0.1 or ::1), got ${JSON.stringify(host)}`);
    }
    const bindHost = host === 'localhost' ? '127.0.0.1' : host;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (e) =>
        reject(new KennelError(ErrorCode.LISTEN_FAILED, `cannot listen for status on ${bindHost}:${port}: ${e.message}`, { cause: e })),
      );
      this.server.listen(port, bindHost, () => resolve());
    });
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Open streams and waiting requests would hold `close` forever: end every connection now.
    this.server.closeAllConnections();
    await closed;
  }
}
