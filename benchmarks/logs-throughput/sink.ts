/**
 * The logs intake of the benchmark, in its own process (so its work is not kennel's): a
 * `node:http` server on 127.0.0.1 that answers every `POST /api/v2/logs` 202 at once and keeps the
 * body as it came. Nothing is decoded while kennel sends (on a small machine the decoding would
 * take CPU from kennel); `verify` then decompresses every body kept (zstd, gzip) with
 * `@kennel/intake`'s `decompressBody` and checks every line.
 *
 * Lines carry `<source>:<sequence>` at the start of their message; `verify` keeps, per source, a
 * bitmap of the sequences seen, the duplicates, and the lines that arrived out of order. The sink
 * talks to the parent over IPC: `{ type: 'listening', port }` once bound; `report` answers the
 * payload count and when the last one was answered; `verify` answers the checks.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decompressBody } from '@kennel/intake';

interface SourceTally {
  seen: Uint8Array;
  distinct: number;
  duplicates: number;
  outOfOrder: number;
  last: number;
}

export interface SinkReport {
  readonly type: 'report';
  readonly payloads: number;
  readonly events: number;
  readonly compressedBytes: number;
  readonly decompressedBytes: number;
  readonly badPayloads: number;
  readonly pending: number;
  readonly sources: Record<string, { distinct: number; duplicates: number; outOfOrder: number; last: number }>;
  /** process.hrtime of the last answer sent, in ms (the parent compares with its own hrtime). */
  readonly lastAnswerAtMs: number;
  readonly sinkCpuMs: number;
}

// --- checking -------------------------------------------------------------------------------

const sources = new Map<string, SourceTally>();
let events = 0;
let decompressedBytes = 0;
let badPayloads = 0;

const MESSAGE = Buffer.from('{"message":"');

function tally(source: string, seq: number): void {
  let t = sources.get(source);
  if (t === undefined) {
    t = { seen: new Uint8Array(1 << 16), distinct: 0, duplicates: 0, outOfOrder: 0, last: -1 };
    sources.set(source, t);
  }
  if (seq >= t.seen.length) {
    let n = t.seen.length;
    while (n <= seq) n *= 2;
    const grown = new Uint8Array(n);
    grown.set(t.seen);
    t.seen = grown;
  }
  if (t.seen[seq] !== 0) t.duplicates++;
  else {
    t.seen[seq] = 1;
    t.distinct++;
  }
  if (seq < t.last) t.outOfOrder++;
  t.last = seq;
}

/** Reads `"message":"<source>:<seq> ...` of every event of an uncompressed body. */
function scan(text: Buffer): void {
  let i = 0;
  for (;;) {
    i = text.indexOf(MESSAGE, i);
    if (i < 0) return;
    i += MESSAGE.length;
    const colon = text.indexOf(0x3a, i);
    const source = text.toString('latin1', i, colon);
    let seq = 0;
    let j = colon + 1;
    for (let c = text[j]!; c >= 0x30 && c <= 0x39; c = text[++j]!) seq = seq * 10 + (c - 0x30);
    tally(source, seq);
    events++;
    i = j;
  }
}

// --- the server --------------------------------------------------------------------------------

/** Bodies not checked yet, in arrival order. */
let kept: { body: Buffer; encoding: string | undefined }[] = [];
let payloads = 0;
let compressedBytes = 0;
let lastAnswerAtMs = 0;

function verify(): SinkReport {
  for (const k of kept) {
    const r = decompressBody(k.body, k.encoding, { maxDecompressedBytes: 64 << 20 });
    if (!r.ok) badPayloads++;
    else {
      decompressedBytes += r.value.length;
      scan(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length));
    }
  }
  kept = [];
  return report();
}

function report(): SinkReport {
  const u = process.cpuUsage();
  return {
    type: 'report',
    payloads,
    events,
    compressedBytes,
    decompressedBytes,
    badPayloads,
    pending: kept.length,
    sources: Object.fromEntries([...sources].map(([k, t]) => [k, { distinct: t.distinct, duplicates: t.duplicates, outOfOrder: t.outOfOrder, last: t.last }])),
    lastAnswerAtMs,
    sinkCpuMs: (u.user + u.system) / 1000,
  };
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(202, { 'Content-Type': 'application/json' });
    res.end('{}');
    if (req.method === 'POST' && req.url === '/api/v2/logs') {
      // Metrics and anything else are answered and ignored.
      lastAnswerAtMs = Number(process.hrtime.bigint()) / 1e6;
      const body = Buffer.concat(chunks);
      payloads++;
      compressedBytes += body.length;
      kept.push({ body, encoding: req.headers['content-encoding'] });
    }
  });
});
server.keepAliveTimeout = 60_000;

server.listen(0, '127.0.0.1', () => {
  process.send!({ type: 'listening', port: (server.address() as AddressInfo).port });
});

process.on('message', (m: { type: string }) => {
  if (m.type === 'report') process.send!(report());
  else if (m.type === 'verify') process.send!(verify());
  else if (m.type === 'reset') {
    sources.clear();
    kept = [];
    payloads = events = compressedBytes = decompressedBytes = badPayloads = 0;
    lastAnswerAtMs = 0;
  } else if (m.type === 'exit') {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  }
});
