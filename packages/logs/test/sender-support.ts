import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decompressBody, FakeIntake, type FakeIntakeOptions } from '@kennel/intake';
import {
  gzipCompression,
  HttpLogsSink,
  LogsSender,
  resolveLogsEndpoint,
  type LogsCompression,
  type LogsSenderInit,
  type LogsSenderOptions,
} from '../src/index.js';
import type { LogMessage } from '../src/types.js';

/** A 32-character key, as Datadog's; the fake intake records it as 27 `*` and `89abc`. */
export const API_KEY = '0123456789abcdef0123456789a89abc';
export const REDACTED_KEY = '***************************89abc';

/** The wall clock every test sender encodes with. */
export const NOW = 1_700_000_000_000;

/** Small waits, so retries take milliseconds: base 1/1024 s (exact in binary), max 1/4 s. */
export const FAST: LogsSenderOptions = Object.freeze({
  senderBackoffBase: 1 / 1024,
  senderBackoffMax: 0.25,
  batchWait: 10,
  compressionKind: 'gzip',
});

interface TestContext {
  after(fn: () => unknown): void;
}

/** A log line from `sourceId`, the `i`-th it read (its offset is `(i + 1) * 100`). */
export function line(sourceId: string, i: number, content = `${sourceId} line ${i}`): LogMessage {
  return {
    content,
    status: 'info',
    service: 'api',
    source: 'nginx',
    tags: ['env:test', `src:${sourceId}`],
    timestamp: NOW - 1000 + i,
    origin: { sourceId, offset: (i + 1) * 100 },
  };
}

export async function startIntake(t: TestContext, options: FakeIntakeOptions = {}): Promise<FakeIntake> {
  const intake = await FakeIntake.start(options);
  t.after(() => intake.close());
  return intake;
}

export interface Accepted {
  readonly messages: readonly LogMessage[];
  readonly outcome: 'sent' | 'dropped';
}

/** A sender posting to `url`, closed after the test, recording every `onAccepted` call and warning. */
export function newSender(
  t: TestContext,
  url: string,
  options: LogsSenderOptions = {},
  init: Partial<LogsSenderInit<LogMessage>> = {},
): { sender: LogsSender<LogMessage>; accepted: Accepted[]; warnings: string[] } {
  const accepted: Accepted[] = [];
  const warnings: string[] = [];
  const config = { ...FAST, ...options };
  const compression: LogsCompression | undefined = config.compressionKind === 'gzip' && config.useCompression !== false ? gzipCompression(6) : undefined;
  const sender = new LogsSender<LogMessage>({
    sink: new HttpLogsSink(resolveLogsEndpoint({ apiKey: API_KEY, logsDdUrl: url })),
    hostname: 'web-1',
    config,
    onAccepted: (messages, outcome) => accepted.push({ messages: [...messages], outcome }),
    now: () => NOW,
    random: () => 0,
    warn: (l) => warnings.push(l),
    ...(compression !== undefined ? { compression } : {}),
    ...init,
  });
  t.after(() => sender.close());
  return { sender, accepted, warnings };
}

/** Resolves when `probe` holds, checking on every macrotask; rejects after `ms`. */
export async function until(probe: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** One request as a bare `node:http` server received it. */
export interface RawRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Decompressed per `Content-Encoding`. */
  readonly text: string;
  readonly bodyBytes: number;
}

/** A bare HTTP server answering `status(n)` to its n-th request (from 0), recording each. */
export async function rawServer(
  t: TestContext,
  status: (n: number) => number = () => 202,
): Promise<{ url: string; requests: RawRequest[]; server: Server }> {
  const requests: RawRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const enc = req.headers['content-encoding'];
      const d = decompressBody(body, Array.isArray(enc) ? enc[0] : enc);
      const n = requests.length;
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        text: d.ok ? Buffer.from(d.value).toString('utf8') : `<${d.reason}>`,
        bodyBytes: body.length,
      });
      res.writeHead(status(n), { 'Content-Type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, server };
}
