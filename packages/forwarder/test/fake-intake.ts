import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ContentType, Endpoint, PayloadKind } from '../src/index.js';
import type { IntakePayload } from '../src/index.js';

/** One request as the intake saw it. */
export interface RecordedRequest {
  readonly index: number;
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  /** The body as received (partial when the intake cut the connection mid-body). */
  body: Buffer;
  /** The status the intake answered, or null when it cut the connection or never answered. */
  status: number | null;
}

/**
 * What the intake does with a request: answer a status, close the connection once the body is
 * in (`destroy`) or as soon as the first body bytes arrive (`destroy-mid-body`), or never
 * answer (`hang`). A promise lets a test hold requests.
 */
export type Reply = { readonly status: number; readonly body?: string } | 'destroy' | 'destroy-mid-body' | 'hang';

export type Replier = (req: RecordedRequest) => Reply | Promise<Reply>;

/** A real `node:http` server on 127.0.0.1 playing the Datadog intake; it records every request. */
export class FakeIntake {
  readonly requests: RecordedRequest[] = [];
  /** Requests in flight now, and the most there ever were at once. */
  inFlight = 0;
  maxInFlight = 0;
  replier: Replier;
  private readonly server: http.Server;

  private constructor(replier: Replier) {
    this.replier = replier;
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  static async start(replier: Replier = () => ({ status: 202, body: '{}' }), port = 0): Promise<FakeIntake> {
    const intake = new FakeIntake(replier);
    await new Promise<void>((resolve, reject) => {
      intake.server.once('error', reject);
      intake.server.listen(port, '127.0.0.1', () => resolve());
    });
    return intake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Bodies the intake accepted (status < 400), in order. */
  get delivered(): Buffer[] {
    return this.requests.filter((r) => r.status !== null && r.status < 400).map((r) => r.body);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const rec: RecordedRequest = {
      index: this.requests.length,
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body: Buffer.alloc(0),
      status: null,
    };
    this.requests.push(rec);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let open = true;
    const done = (): void => {
      if (open) {
        open = false;
        this.inFlight--;
      }
    };
    res.on('close', done);

    const chunks: Buffer[] = [];
    let decided: Promise<Reply> | null = null;
    const decide = (): Promise<Reply> => (decided ??= Promise.resolve(this.replier(rec)));
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      rec.body = Buffer.concat(chunks);
      if (chunks.length === 1) {
        void decide().then((r) => {
          if (r === 'destroy-mid-body') req.socket.destroy();
        });
      }
    });
    req.on('end', () => {
      rec.body = Buffer.concat(chunks);
      void decide().then((r) => {
        if (!open) return;
        if (r === 'hang' || r === 'destroy-mid-body') return;
        if (r === 'destroy') {
          req.socket.destroy();
          return;
        }
        rec.status = r.status;
        res.writeHead(r.status, { 'Content-Type': 'application/json' });
        res.end(r.body ?? '');
      });
    });
  }
}

/** Polls `condition` until it holds. The 10 s limit is a safety net, never an assertion on time. */
export async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const limit = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > limit) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A hand-made payload whose body is `body` (the forwarder never looks inside). */
export function payload(body: Buffer | string, endpoint: Endpoint = Endpoint.SERIES_V2): IntakePayload {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const json = endpoint !== Endpoint.SERIES_V2 && endpoint !== Endpoint.SKETCHES;
  const kind =
    endpoint === Endpoint.SERIES_V2
      ? PayloadKind.SERIES_V2
      : endpoint === Endpoint.SKETCHES
        ? PayloadKind.SKETCHES
        : endpoint === Endpoint.SERIES_V1
          ? PayloadKind.SERIES_V1
          : endpoint === Endpoint.CHECK_RUNS
            ? PayloadKind.CHECK_RUNS
            : PayloadKind.EVENTS;
  return {
    kind,
    endpoint,
    contentType: json ? ContentType.JSON : ContentType.PROTOBUF,
    contentEncoding: 'identity',
    body: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    uncompressedBytes: bytes.byteLength,
    items: 1,
    points: 1,
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A 32-hex-digit API key, the agent's format. */
export const API_KEY = '0123456789abcdef0123456789abcdef';

/** Captured log lines. */
export function captureLog(): { lines: string[]; log: (line: string, level: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line, level) => lines.push(`${level}: ${line}`) };
}

/**
 * A circuit-breaker clock that jumps a second at every reading, so every backoff (1–4 ms here)
 * is over by the next look: retries happen at every retry pass, and the counts are exact.
 */
export function tickingClock(): () => number {
  let t = 0;
  return () => (t += 1000);
}

/**
 * Options that make retries fast: a 5 ms retry pass, 1–4 ms backoff, and the
 * {@link tickingClock}. Tests wait for conditions, never for time.
 */
export function fastRetries(url: string, log: (line: string, level: string) => void) {
  return {
    apiKey: API_KEY,
    ddUrl: url,
    retryInterval: 0.005,
    backoffBase: 0.001,
    backoffMax: 0.004,
    timeout: 5,
    log,
    now: tickingClock(),
  } as const;
}
