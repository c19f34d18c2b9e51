import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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

/**
 * The status/IPC listener on `cmd_host:cmd_port` (localhost:5001), loopback only, serving the
 * agent's IPC paths: `GET /agent/status` (JSON) and `GET /agent/status/health`
 * (`{"Healthy": [...], "Unhealthy": [...]}`).
 */
export class StatusServer {
  private readonly server: Server;
  /** What `/agent/status` and `/agent/status/health` answer (the local page shows it too). */
  readonly source: StatusSource;
  private extra: ((path: string) => { status: number; body: unknown } | null) | null = null;
  private readonly raw: RawHandler[] = [];

  constructor(source: StatusSource) {
    this.source = source;
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      if (path !== '/agent/status' && path !== '/agent/status/health') {
        for (const h of this.raw) if (h(req, res)) return;
      }
      const send = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
      if (req.method !== 'GET') return send(405, { error: 'only GET' });
      if (path === '/agent/status') return send(200, this.source.status());
      if (path === '/agent/status/health') return send(200, this.source.health());
      const more = this.extra?.(path);
      if (more) return send(more.status, more.body);
      send(404, { error: `no such path ${path}` });
    });
    this.server.keepAliveTimeout = 1000;
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
