/**
 * Hostile input at the trace receiver (TCP and the Unix socket) and at the logs listeners:
 * - fuzzed /v0.4 bodies (seeded: random bytes, good payloads cut short or with bytes changed):
 *   every answer is 200 or 400, and the 400s are exactly the receiver's `DecodeErrors` (by reason
 *   too), the 200s its `TracePayloads`;
 * - msgpack headers that declare huge lengths (array32/map32 of 2^32-1, str32/bin32 of 4 GiB):
 *   400 at once, nothing allocated for them;
 * - bodies past `apm_config.max_payload_size` (declared, chunked, and a declared length of 1 TB
 *   with a few bytes sent): 413, counted as `PayloadTooLarge` and in the client's
 *   `TracesDropped.PayloadTooLarge`;
 * - slow clients: idle connections past `apm_config.max_connections` (queued, then timed out
 *   after `receiver_timeout`), a request head dripped a byte at a time (closed at the deadline),
 *   a body that stalls (408), and 1,050 connections at once (past max_connections and the
 *   1,024 waiting, closed at once as `ConnectionsDropped`): all counted; a second kennel with `apm_config.connection_limit`
 *   rate-limits new TCP connections (`ConnectionsRateLimited`) while the Unix socket is served;
 * - a span bomb: 1,000,001 empty `{}` spans in 1 MB of msgpack and in 3 MB of JSON, refused
 *   (`too_many_spans`) before they are all decoded (decoded, 25 MiB of them would need 10 GB of heap);
 * - the logs TCP listener: binary and invalid UTF-8 lines, a line past
 *   `logs_config.max_message_size_bytes` (cut, `LogsTruncated`), a last line without a newline, a
 *   client holding its connection open with half a line (closed by the source's `idle_timeout`);
 *   the UDP listener: a datagram past `logs_config.frame_size` (cut, `DatagramsTruncated`);
 * and afterwards good traces over TCP and the socket, and good log lines, still arrive, kennel is
 * alive, and `kennel status --json` shows every counter.
 *
 * Replay a run with KENNEL_FUZZ_SEED=<the seed in the diagnostic>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { FakeIntake } from '@kennel/intake';
import { msgpack } from '../integration/apm-support.js';
import { API_KEY, FULL, allCases, prng, progress, runKennel, sleep } from './support.js';
import type { Status } from './support.js';
import { TraceLoad, brief, launchApmLogs, logMessages, spanArrivals, spanCheck, traceCall, traceSpans, bindTest, waitFor } from './support-apm-logs.js';
import type { ApmLogsKennel, TraceTarget } from './support-apm-logs.js';

const SEED = Number(process.env.KENNEL_FUZZ_SEED ?? 0x74726163);
const FUZZ_BODIES = FULL ? 5000 : 600;
const MAX_PAYLOAD = 100_000;
const MAX_MESSAGE = 1000;
const FRAME_SIZE = 500;
const MSGPACK = { 'Content-Type': 'application/msgpack' };

const counters = async (k: ApmLogsKennel): Promise<Record<string, number>> => (await k.apm()).kennel.receiverCounters as Record<string, number>;
const reasons = async (k: ApmLogsKennel): Promise<Record<string, number>> => (await k.apm()).kennel.decodeErrors as Record<string, number>;
const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) out[k] = v - (before[k] ?? 0);
  return out;
}

/** One fuzzed /v0.4 body. */
function fuzzBody(rnd: () => number, good: Buffer): Buffer {
  const r = rnd();
  if (r < 0.3) {
    const b = Buffer.allocUnsafe(Math.floor(rnd() * 600));
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
    // Half of them start as an array, so the decoder gets past the first byte.
    if (b.length > 0 && rnd() < 0.5) b[0] = 0x90 | Math.floor(rnd() * 16);
    return b;
  }
  if (r < 0.6) return good.subarray(0, Math.floor(rnd() * good.length));
  const b = Buffer.from(good);
  const n = 1 + Math.floor(rnd() * 6);
  for (let i = 0; i < n; i++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
  return b;
}

/** Raw bytes on a new connection (`gapMs` between chunks); resolves with what came back once the peer closed. */
function raw(target: TraceTarget, chunks: readonly (Buffer | string)[], o: { gapMs?: number } = {}): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s: Socket = 'port' in target ? connect({ host: '127.0.0.1', port: target.port }) : connect({ path: target.socketPath });
    let text = '';
    let closed = false;
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => {
      closed = true;
      resolve({ text, closed });
    });
    s.on('connect', () => {
      void (async () => {
        for (const c of chunks) {
          if (s.destroyed) return;
          s.write(c);
          if (o.gapMs) await sleep(o.gapMs);
        }
      })();
    });
  });
}

function openIdle(target: TraceTarget, n: number): Socket[] {
  const out: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = 'port' in target ? connect({ host: '127.0.0.1', port: target.port }) : connect({ path: target.socketPath });
    s.on('error', () => {});
    out.push(s);
  }
  return out;
}

async function traceReceiver(): Promise<string> {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const k = await launchApmLogs({
    intake,
    env: { DD_APM_MAX_PAYLOAD_SIZE: String(MAX_PAYLOAD), DD_APM_RECEIVER_TIMEOUT: '1', DD_APM_MAX_CONNECTIONS: '16' },
  });
  const tcp: TraceTarget = { port: k.apmPort };
  const uds: TraceTarget = { socketPath: k.apmSocket };
  const lines: string[] = [];
  try {
    // 1. Fuzzed bodies, half over each transport, one keep-alive connection each.
    const rnd = prng(SEED);
    const good = msgpack([traceSpans(1n, 3, 'fuzz'), traceSpans(2n, 2, 'fuzz')]);
    const c0 = await counters(k);
    const r0 = await reasons(k);
    // One connection each: a keep-alive connection idle past receiver_timeout (1 s, on a loaded
    // machine) may be closed just as it is reused, which is no answer of kennel's to count.
    const agents: (Agent | false)[] = [false, false];
    const statuses = new Map<number, number>();
    for (let i = 0; i < FUZZ_BODIES; i++) {
      const body = fuzzBody(rnd, good);
      const r = await traceCall(i % 2 === 0 ? tcp : uds, '/v0.4/traces', body, MSGPACK, agents[i % 2]!);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    const c1 = await counters(k);
    const d1 = delta(c1, c0);
    assert.deepEqual([...statuses.keys()].sort(), [200, 400].filter((s) => statuses.has(s)), `only 200 and 400: ${JSON.stringify([...statuses])}`);
    assert.equal(d1.DecodeErrors ?? 0, statuses.get(400) ?? 0, 'every 400 is a counted decode error');
    assert.equal(d1.TracePayloads ?? 0, statuses.get(200) ?? 0, 'every 200 is a trace payload');
    assert.equal(d1.Requests, FUZZ_BODIES);
    assert.equal(sum(delta(await reasons(k), r0)), statuses.get(400) ?? 0, 'each decode error has one reason');
    assert.ok((statuses.get(400) ?? 0) > FUZZ_BODIES / 2, 'most fuzzed bodies are refused');
    lines.push(`${FUZZ_BODIES} fuzzed bodies (seed ${SEED}): ${statuses.get(400) ?? 0} × 400 = DecodeErrors ${JSON.stringify(delta(await reasons(k), r0))}, ${statuses.get(200) ?? 0} × 200`);

    // 2. Huge declared lengths: refused at once, whatever transport.
    const huge = [
      Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]),
      Buffer.from([0x91, 0xdd, 0x7f, 0xff, 0xff, 0xff]),
      Buffer.from([0x91, 0x91, 0xdf, 0xff, 0xff, 0xff, 0xff]),
      Buffer.concat([Buffer.from([0x91, 0x91, 0x81, 0xa7]), Buffer.from('service'), Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xf0]), Buffer.from('abc')]),
      Buffer.concat([Buffer.from([0x91, 0x91, 0x81, 0xa4]), Buffer.from('meta'), Buffer.from([0xc6, 0xff, 0xff, 0xff, 0xff])]),
    ];
    const c2 = await counters(k);
    for (const [i, b] of huge.entries()) {
      const r = await traceCall(i % 2 === 0 ? tcp : uds, '/v0.4/traces', b, MSGPACK);
      assert.equal(r.status, 400, `huge length ${b.toString('hex')}: ${r.body}`);
    }
    assert.equal(delta(await counters(k), c2).DecodeErrors, huge.length);
    lines.push(`${huge.length} headers declaring 2^32-1 elements or 4 GiB strings: 400 each`);

    // 3. Bodies past the limit: declared, chunked, and 1 TB declared with a few bytes sent.
    const c3 = await counters(k);
    const big = Buffer.alloc(MAX_PAYLOAD + 1000, 0x90);
    const declared = await traceCall(tcp, '/v0.4/traces', big, { ...MSGPACK, 'X-Datadog-Trace-Count': 7 });
    assert.equal(declared.status, 413);
    assert.equal(declared.body, 'payload-too-large\n');
    const chunked = await raw(uds, [
      'PUT /v0.4/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/msgpack\r\nTransfer-Encoding: chunked\r\n\r\n',
      ...Array.from({ length: 15 }, () => Buffer.concat([Buffer.from('2710\r\n'), Buffer.alloc(10_000, 0x90), Buffer.from('\r\n')])),
      '0\r\n\r\n',
    ]);
    assert.match(chunked.text, /^HTTP\/1\.1 413 /, chunked.text.slice(0, 200));
    const terabyte = await raw(tcp, ['PUT /v0.4/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/msgpack\r\nContent-Length: 1000000000000\r\n\r\n', Buffer.from([0x91, 0x90])]);
    assert.match(terabyte.text, /^HTTP\/1\.1 413 /, terabyte.text.slice(0, 200));
    assert.equal(delta(await counters(k), c3).PayloadTooLarge, 3);
    const client = ((await k.apm()).kennel.receiverTotal as Status[]).find((c) => c.TracesDropped?.PayloadTooLarge > 0);
    assert.equal(client?.TracesDropped.PayloadTooLarge, 7, 'the refused traces of the X-Datadog-Trace-Count header');
    lines.push('3 bodies past 100,000 B (declared, chunked, 1 TB declared): 413, PayloadTooLarge 3, TracesDropped.PayloadTooLarge 7');

    // 4. Slow clients: idle connections past max_connections, a dripped head, a stalled body.
    const c4 = await counters(k);
    const idle = [...openIdle(tcp, 20), ...openIdle(uds, 4)];
    await waitFor(async () => (await k.apm()).kennel.connections.Active === 16, 20);
    const conn = (await k.apm()).kennel.connections;
    assert.ok(conn.Pending >= 1 && conn.Pending <= 8, `connections past max_connections wait (${conn.Pending})`);
    // A good trace meanwhile waits its turn, then goes through.
    const during = new TraceLoad(tcp, 'hostile-during');
    const duringStatus = during.round();
    const drip = raw(tcp, [...'PUT /v0.4/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n'], { gapMs: 200 });
    const stall = raw(uds, ['PUT /v0.4/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/msgpack\r\nContent-Length: 1000\r\n\r\n', Buffer.from([0x91, 0x90])]);
    assert.equal(await duringStatus, 200);
    // Its keep-alive connection is closed by the client, before the receiver's deadline.
    await during.stop();
    const dripped = await drip;
    assert.equal(dripped.text, '', 'the dripped head is closed unanswered at the deadline');
    const stalled = await stall;
    assert.match(stalled.text, /^HTTP\/1\.1 408 /, stalled.text.slice(0, 200));
    await waitFor(() => idle.every((s) => s.destroyed || s.closed), 50);
    await waitFor(async () => (await k.apm()).kennel.connections.Active === 0, 50);
    const d4 = delta(await counters(k), c4);
    assert.equal(d4.ConnectionsTimedOut, 24 + 1, `the 24 idle connections and the dripped head time out: ${JSON.stringify(d4)}`);
    assert.equal(d4.RequestTimeouts, 1, 'the stalled body');
    assert.ok(d4.ConnectionsQueued >= 8, JSON.stringify(d4));
    lines.push(`slow clients: 24 idle connections against max_connections 16 (8 queued), a dripped head and the rest timed out (ConnectionsTimedOut ${d4.ConnectionsTimedOut}), a stalled body 408 (RequestTimeouts 1); a trace sent meanwhile was served`);

    // 5. Good traces afterwards, over both transports.
    const afterTcp = new TraceLoad(tcp, 'hostile-after-tcp');
    const afterUds = new TraceLoad(uds, 'hostile-after-uds');
    assert.equal(await afterTcp.round(), 200);
    assert.equal(await afterUds.round(), 200);
    await waitFor(() => [during, afterTcp, afterUds].every((l) => spanCheck(l, spanArrivals(intake, l.service)).missing.length === 0), 100);
    await afterTcp.stop();
    await afterUds.stop();
    for (const l of [during, afterTcp, afterUds]) assert.deepEqual(brief(spanCheck(l, spanArrivals(intake, l.service))), { missing: 0, duplicated: 0, unexpected: 0 });
    assert.ok(k.alive());

    // Every counter is in `kennel status --json`.
    const cli = await runKennel(['status', '--json'], { DD_CMD_PORT: String(k.cmdPort) });
    const doc = JSON.parse(cli.stdout) as Status;
    const rc = doc.apmStats.kennel.receiverCounters as Record<string, number>;
    const now = await counters(k);
    for (const name of ['DecodeErrors', 'PayloadTooLarge', 'RequestTimeouts', 'ConnectionsTimedOut', 'ConnectionsQueued']) {
      assert.ok(rc[name]! > 0 && rc[name] === now[name], `${name} in kennel status --json`);
    }
    return `trace receiver: ${lines.join('; ')}; good traces afterwards arrived once`;
  } finally {
    await k.stop('SIGKILL');
    await intake.close();
  }
}

/** 1,050 connections at once against max_connections 16 and the 1,024 that may wait: the rest are closed at once, counted. */
async function acceptBacklog(): Promise<string> {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  // A long receiver_timeout: no connection times out while they are counted.
  const k = await launchApmLogs({ intake, env: { DD_APM_RECEIVER_TIMEOUT: '120', DD_APM_MAX_CONNECTIONS: '16' } });
  const tcp: TraceTarget = { port: k.apmPort };
  const flood: Socket[] = [];
  try {
    flood.push(...openIdle(tcp, 16 + 1024 + 10));
    await waitFor(async () => {
      const c = await counters(k);
      return (c.ConnectionsAccepted ?? 0) + (c.ConnectionsQueued ?? 0) + (c.ConnectionsDropped ?? 0) >= 1050;
    }, 50);
    const c = await counters(k);
    assert.deepEqual([c.ConnectionsAccepted, c.ConnectionsQueued, c.ConnectionsDropped], [16, 1024, 10]);
    assert.deepEqual((await k.apm()).kennel.connections, { Active: 16, Pending: 1024 });
    for (const sock of flood) sock.destroy();
    await waitFor(async () => {
      const n = (await k.apm()).kennel.connections;
      return n.Active === 0 && n.Pending === 0;
    }, 50);
    // And a trace after it.
    const after = new TraceLoad(tcp, 'backlog-after');
    assert.equal(await after.round(), 200);
    await after.stop();
    await waitFor(() => spanCheck(after, spanArrivals(intake, after.service)).missing.length === 0, 100);
    const cli = JSON.parse((await runKennel(['status', '--json'], { DD_CMD_PORT: String(k.cmdPort) })).stdout) as Status;
    assert.equal(cli.apmStats.kennel.receiverCounters.ConnectionsDropped, 10, 'in kennel status --json');
    return '1,050 trace connections at once: 16 served, 1,024 waiting, 10 closed at once (ConnectionsDropped 10); a trace after them arrived';
  } finally {
    for (const sock of flood) sock.destroy();
    await k.stop('SIGKILL');
    await intake.close();
  }
}

async function connectionLimit(): Promise<string> {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  // receiver_timeout 60 s: nothing times out meanwhile, so only the lease can admit the TCP connection.
  const k = await launchApmLogs({ intake, env: { DD_APM_CONNECTION_LIMIT: '4', DD_APM_RECEIVER_TIMEOUT: '60' } });
  const tcp: TraceTarget = { port: k.apmPort };
  try {
    // A span bomb within the default 25 MiB limit: 1,000,001 one-byte spans `{}` (each would cost
    // ~400 B of heap decoded). Refused before they are read; over the socket (it needs no lease).
    const n = 1_000_001;
    const bomb = Buffer.concat([Buffer.from([0x91, 0xdd, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]), Buffer.alloc(n, 0x80)]);
    const rss0 = k.rssKiB();
    const refused = await traceCall({ socketPath: k.apmSocket }, '/v0.4/traces', bomb, MSGPACK);
    assert.equal(refused.status, 400, refused.body);
    assert.match(refused.body, /more than 1000000 spans/);
    assert.equal((await reasons(k)).too_many_spans, 1);
    // The same as JSON (3 MB of `{}`): counted while it is parsed.
    const jsonBomb = Buffer.from('[[' + new Array(n).fill('{}').join(',') + ']]');
    const refusedJson = await traceCall({ socketPath: k.apmSocket }, '/v0.4/traces', jsonBomb, { 'Content-Type': 'application/json' });
    assert.equal(refusedJson.status, 400, refusedJson.body);
    assert.equal((await reasons(k)).too_many_spans, 2);
    const grew = k.rssKiB() - rss0;
    assert.ok(grew < 300 * 1024, `VmRSS grew ${grew} KiB for the 1 MB and 3 MB bodies`);
    const idle = openIdle(tcp, 4);
    await waitFor(async () => (await k.apm()).kennel.receiverCounters.ConnectionsAccepted >= 4, 20);
    // The lease of 4 new TCP connections per 30 s is spent: the next ones wait for the next lease.
    const tcpTrace = new TraceLoad(tcp, 'limit-tcp');
    const tcpStatus = tcpTrace.round();
    await waitFor(async () => (await k.apm()).kennel.receiverCounters.ConnectionsRateLimited >= 1, 20);
    // The Unix socket needs no lease: served at once while the TCP connection waits (regression:
    // it waited behind the rate-limited TCP connection until some connection closed).
    const udsTrace = new TraceLoad({ socketPath: k.apmSocket }, 'limit-uds');
    assert.equal(await udsTrace.round(), 200);
    await udsTrace.stop();
    const waited = (await k.apm()).kennel.connections.Pending;
    assert.equal(waited, 1, 'the TCP request waits unread');
    // At the next lease it is served.
    assert.equal(await tcpStatus, 200);
    await waitFor(() => [tcpTrace, udsTrace].every((l) => spanCheck(l, spanArrivals(intake, l.service)).missing.length === 0), 100);
    const rc = (await k.apm()).kennel.receiverCounters;
    assert.equal(rc.ConnectionsRateLimited, 1);
    for (const s of idle) s.destroy();
    return `1,000,001 empty spans in 1 MB of msgpack and in 3 MB of JSON: 400 too_many_spans each, VmRSS +${Math.round(grew / 1024)} MiB; connection_limit 4: the 5th TCP connection rate-limited (ConnectionsRateLimited 1) and served at the next 30 s lease; the Unix socket served meanwhile; both traces arrived`;
  } finally {
    await k.stop('SIGKILL');
    await intake.close();
  }
}

async function logsListeners(): Promise<string> {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const k = await launchApmLogs({
    intake,
    logs: [
      { type: 'tcp', port: 0, service: 'hostile-tcp', source: 'fault', idle_timeout: '1s' },
      { type: 'udp', port: 0, service: 'hostile-udp', source: 'fault' },
    ],
    env: { DD_LOGS_CONFIG_MAX_MESSAGE_SIZE_BYTES: String(MAX_MESSAGE), DD_LOGS_CONFIG_FRAME_SIZE: String(FRAME_SIZE) },
  });
  try {
    const s0 = await k.status();
    const sources = (s0.logsStats.integrations as Status[]).flatMap((i) => i.sources as Status[]);
    const tcpPort = Number(sources.find((s) => s.type === 'tcp')!.configuration.Port);
    const udpPort = Number(sources.find((s) => s.type === 'udp')!.configuration.Port);
    const m0 = s0.logsStats.metrics as Record<string, string>;

    // TCP: a good line, binary bytes, invalid UTF-8, a line 2.5 times the limit, a last line without newline.
    const binary = Buffer.from([0x48, 0x42, 0x2d, 0x00, 0x01, 0x02, 0xfe, 0xff, 0x7f, 0x0d]);
    const badUtf8 = Buffer.concat([Buffer.from('HU-'), Buffer.from([0xc3, 0x28, 0xe2, 0x82, 0xa0, 0xff, 0xf0, 0x9f])]);
    const long = 'HL-' + 'z'.repeat(Math.floor(MAX_MESSAGE * 2.5));
    await new Promise<void>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: tcpPort }, () => {
        s.write('HG-first\n');
        s.write(Buffer.concat([binary, Buffer.from('\n'), badUtf8, Buffer.from('\n')]));
        s.write(long + '\n');
        s.end('HG-unterminated');
      });
      s.on('error', reject);
      s.on('close', () => resolve());
    });
    // UDP: a datagram past frame_size, then a good one.
    const u = createSocket('udp4');
    const bigDatagram = 'HD-' + 'q'.repeat(FRAME_SIZE + 300);
    await new Promise<void>((r) => u.send(bigDatagram, udpPort, '127.0.0.1', () => r()));
    await new Promise<void>((r) => u.send('HG-udp', udpPort, '127.0.0.1', () => r()));
    u.close();
    // A client that connects, sends half a line and holds the connection: closed after idle_timeout, its line sent.
    await new Promise<void>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: tcpPort }, () => s.write('HG-held'));
      s.on('error', () => {});
      s.on('close', () => resolve());
    });
    // And a good line on a fresh TCP connection.
    await new Promise<void>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: tcpPort }, () => s.end('HG-after\n'));
      s.on('close', () => resolve());
    });

    const expectTcp = 1 + 2 + 3 + 1 + 1 + 1;
    await waitFor(() => intake.store.logs().filter((e) => e.service === 'hostile-tcp').length >= expectTcp && logMessages(intake, 'HG').length >= 5 && intake.store.logs().some((e) => e.service === 'hostile-udp' && e.message.startsWith('HD-')), 100);
    await sleep(500);
    const tcpMsgs = intake.store.logs().filter((e) => e.service === 'hostile-tcp').map((e) => e.message);
    const udpMsgs = intake.store.logs().filter((e) => e.service === 'hostile-udp').map((e) => e.message);
    progress(`tcp messages: ${JSON.stringify(tcpMsgs.map((m) => m.slice(0, 40) + `(${m.length})`))}`);
    assert.equal(tcpMsgs.length, expectTcp, JSON.stringify(tcpMsgs.map((m) => m.slice(0, 60))));
    assert.deepEqual(logMessages(intake, 'HG').sort(), ['HG-after', 'HG-first', 'HG-held', 'HG-udp', 'HG-unterminated']);
    assert.ok(tcpMsgs.some((m) => m.startsWith('HB-')) && tcpMsgs.some((m) => m.startsWith('HU-')), 'the binary and invalid UTF-8 lines are kept');
    const pieces = tcpMsgs.filter((m) => m.includes('...TRUNCATED...'));
    assert.equal(pieces.length, 3, 'the long line in three pieces');
    assert.equal(pieces.map((m) => m.replaceAll('...TRUNCATED...', '')).join(''), long, 'the pieces put back together are the line');
    const cut = udpMsgs.find((m) => m.startsWith('HD-'))!;
    assert.equal(cut, bigDatagram.slice(0, FRAME_SIZE), 'the datagram cut at frame_size');

    const s1 = await k.status();
    const m1 = s1.logsStats.metrics as Record<string, string>;
    assert.equal(Number(m1.LogsTruncated) - Number(m0.LogsTruncated), 2, 'LogsTruncated counts the pieces cut at their end (the first two)');
    const udp = (s1.logsStats.integrations as Status[]).flatMap((i) => i.sources as Status[]).find((s) => s.type === 'udp')!;
    assert.deepEqual(udp.info.DatagramsTruncated, ['1']);
    assert.deepEqual(udp.info.DatagramsDropped, ['0']);
    const tcpInfo = (s1.logsStats.integrations as Status[]).flatMap((i) => i.sources as Status[]).find((s) => s.type === 'tcp')!;
    assert.deepEqual(tcpInfo.info.Connections, ['3']);
    assert.deepEqual(tcpInfo.info.IdleTimeouts, ['1'], 'the held connection was closed by idle_timeout');
    assert.ok(k.alive());
    return `logs listeners: binary and invalid UTF-8 lines kept, a ${long.length} B line cut in 3 (LogsTruncated 2: the pieces cut at their end), an unterminated last line sent at close, a connection held open closed by idle_timeout 1s (IdleTimeouts 1, its half line sent), a ${bigDatagram.length} B datagram cut to ${FRAME_SIZE} (DatagramsTruncated 1); good lines after arrived`;
  } finally {
    await k.stop('SIGKILL');
    await intake.close();
  }
}

test('APM and logs: hostile input at the trace receiver (TCP and Unix socket) and the logs listeners', { timeout: 180_000 }, async (t) => {
  bindTest(t);
  await allCases(t, {
    'trace receiver': traceReceiver,
    'span bomb, connection limit': connectionLimit,
    'accept backlog': acceptBacklog,
    'logs listeners': logsListeners,
  });
});
