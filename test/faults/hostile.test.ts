/**
 * Hostile input at every port of the metrics path:
 * - `SIZES.fuzzDatagrams` fuzzed datagrams (100,000 in CI, 1,000,000 with KENNEL_FAULT_SCALE=full;
 *   seeded: random bytes, mutated valid lines, datagrams past the buffer size, empty ones), half
 *   over the Unix socket and half over UDP: kennel stays up, its counters equal what the same
 *   codec counts for the same bytes (every rejection counted, by reason), and a good metric sent
 *   afterwards arrives intact;
 * - the status/IPC port: slow clients holding connections open (`server_timeout`), more
 *   connections than `cmd_max_connections`, bodies past the limit (413), guarded calls without
 *   or with a wrong token: each refused and counted, and DogStatsD traffic meanwhile unaffected.
 * The trace receiver (port 8126) gets its hostile cases with the APM pipeline (not here yet).
 *
 * Replay a run with KENNEL_FUZZ_SEED=<the seed in the diagnostic>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { FakeIntake } from '@kennel/intake';
import { DogStatsDCodec } from '@kennel/dogstatsd';
import type { DogStatsDVisitor } from '@kennel/dogstatsd';
import { API_KEY, SIZES, UdpClient, httpJson, launch, progress, prng, runKennel, sendUds, sleep, token, waitForBucketOffset, waitUntil } from './support.js';
import type { FaultKennel } from './support.js';

const SEED = Number(process.env.KENNEL_FUZZ_SEED ?? 0x6b656e6e);
const BUFFER_SIZE = 8192;

const VALID = [
  'page.views:1|c',
  'page.views:1|c|@0.5|#env:prod,team:web',
  'temperature:21.5|g|#host:db-1',
  'latency:3|h|@0.25|#a:b',
  'latency:1:2:3:4|h',
  'payload.size:120|d|#kind:upload',
  'query.time:10|ms',
  'users:alice|s',
  'ts.gauge:5|g|T1700000000',
  'origin:1|c|c:ci-1234|e:it-false,cn-app,pu-1|card:high',
  '_e{5,4}:title|text|d:1700000000|h:host|k:key|p:low|s:src|t:warning|#env:prod',
  '_e{0,0}:|',
  '_sc|db.up|2|d:1700000000|h:db-1|#env:prod|m:down',
  '_sc|db.up|0',
];
const SPECIAL = [':', '|', '@', '#', ',', '\n', '\r', '\0', ' ', '{', '}', 'T', 'e', '-', '.', 'NaN', 'Inf', '+Inf', '1e309', '99999999999999999999'];

/** One fuzzed datagram. */
function fuzz(rnd: () => number): Buffer {
  const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)]!;
  const r = rnd();
  if (r < 0.3) {
    const b = Buffer.allocUnsafe(Math.floor(rnd() * 400));
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
    return b;
  }
  if (r < 0.32) return Buffer.alloc(0);
  if (r < 0.35) {
    // Past dogstatsd_buffer_size: cut at 8192 bytes, as the agent cuts it.
    const lines: string[] = [];
    let n = 0;
    const target = BUFFER_SIZE + Math.floor(rnd() * 6000);
    while (n < target) {
      const l = pick(VALID);
      lines.push(l);
      n += l.length + 1;
    }
    return Buffer.from(lines.join('\n'));
  }
  const count = 1 + Math.floor(rnd() * 12);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    let l = pick(VALID);
    const mutations = r < 0.45 ? 0 : 1 + Math.floor(rnd() * 4);
    for (let m = 0; m < mutations; m++) {
      const at = Math.floor(rnd() * (l.length + 1));
      const op = rnd();
      if (op < 0.25) l = l.slice(0, at) + pick(SPECIAL) + l.slice(at);
      else if (op < 0.45) l = l.slice(0, at) + l.slice(at + 1 + Math.floor(rnd() * 4));
      else if (op < 0.6) l = l.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 256)) + l.slice(at + 1);
      else if (op < 0.7) l = l.slice(0, at);
      else if (op < 0.8) l = l + l.slice(at);
      else if (op < 0.9) l = l.replace(/:[^|]*\|/, `:${pick(SPECIAL)}|`);
      else l = l.slice(0, at) + 'x'.repeat(Math.floor(rnd() * 300)) + l.slice(at);
    }
    lines.push(l);
  }
  return Buffer.from(lines.join(rnd() < 0.9 ? '\n' : '\r\n') + (rnd() < 0.5 ? '\n' : ''), 'latin1');
}

const NOOP: DogStatsDVisitor = { onMetric() {}, onEvent() {}, onServiceCheck() {}, onError() {} };

/** Fuzzes the DogStatsD ports and checks kennel's counters against the codec's own count of the same bytes. */
async function fuzzDogStatsD(kennel: FaultKennel, t: { diagnostic(s: string): void }): Promise<void> {
  const rnd = prng(SEED);
  const codec = new DogStatsDCodec({ noAggregationPipeline: true, originDetectionClient: false });
  let udsSent = 0;
  let udpSent = 0;
  let truncated = 0;
  const udp = new UdpClient(kennel.udpPort);
  const half = Math.floor(SIZES.fuzzDatagrams / 2);
  try {
    for (let done = 0; done < SIZES.fuzzDatagrams; ) {
      // A round: up to 512 datagrams (1 MiB) to one transport, then wait until kennel read them all,
      // so that no UDP datagram is lost to a full receive buffer.
      const overUds = done < half;
      const end = overUds ? half : SIZES.fuzzDatagrams;
      const round: Buffer[] = [];
      let bytes = 0;
      while (round.length < 512 && bytes < 1 << 20 && done + round.length < end) {
        const d = fuzz(rnd);
        round.push(d);
        bytes += d.length;
        if (d.length > BUFFER_SIZE) truncated++;
        codec.decode(d, 0, Math.min(d.length, BUFFER_SIZE), NOOP, false);
      }
      if (overUds) {
        udsSent += await sendUds(kennel.socket, round);
        await waitUntil(async () => (await kennel.status()).dogstatsdStats.UdsPackets === udsSent, 5);
      } else {
        for (const d of round) await udp.send(d);
        udpSent += round.length;
        await waitUntil(async () => (await kennel.status()).dogstatsdStats.UdpPackets === udpSent, 5);
      }
      done += round.length;
      if (done % 10_000 < round.length) progress(`fuzz: ${done} datagrams`);
    }
  } finally {
    udp.close();
  }
  const s = await kennel.status();
  const d = s.dogstatsdStats;
  const want = codec.counters.snapshot();
  assert.ok(kennel.alive(), 'kennel is still running');
  assert.equal(d.UdsPackets, udsSent);
  assert.equal(d.UdpPackets, udpSent);
  assert.equal(d.UdpPacketReadingErrors + d.UdsPacketReadingErrors, 0);
  assert.equal(d.UdpPacketsTruncated + d.UdsPacketsTruncated, truncated, 'every datagram past dogstatsd_buffer_size counted');
  for (const k of Object.keys(want) as (keyof typeof want)[]) assert.equal(d[k], want[k], `${k}: kennel counts what the codec counts`);
  assert.deepEqual(s.dogstatsdErrorReasons, codec.errorsByReason(), 'every rejection counted, by reason');
  t.diagnostic(
    `fuzz seed ${SEED}: ${udsSent} datagrams over UDS, ${udpSent} over UDP (${truncated} cut at ${BUFFER_SIZE} bytes); ` +
      `MetricPackets ${d.MetricPackets}, MetricParseErrors ${d.MetricParseErrors}, EventPackets ${d.EventPackets}, EventParseErrors ${d.EventParseErrors}, ` +
      `ServiceCheckPackets ${d.ServiceCheckPackets}, ServiceCheckParseErrors ${d.ServiceCheckParseErrors}; ` +
      `${Object.keys(s.dogstatsdErrorReasons).length} error reasons, each equal to the codec's count`,
  );
}

/** Opens a TCP connection to the status port; resolves once connected, with a promise of its close. */
function openRaw(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => {});
    socket.resume(); // read what the server answers (408), so that its close is seen
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

async function hostileStatusPort(kennel: FaultKennel, t: { diagnostic(s: string): void }): Promise<void> {
  const port = kennel.cmdPort;
  const before = (await kennel.status()).statusServerStats;
  await sleep(1500); // the connections of earlier requests are closed (keep-alive 1 s)
  const max = Number(kennel.env.DD_CMD_MAX_CONNECTIONS);
  // Slow clients: half send a request head a byte at a time, half send nothing, and hold on.
  const clients: { socket: Socket; closed: Promise<void> }[] = [];
  for (let i = 0; i < max + 8; i++) clients.push(await openRaw(port));
  for (const [i, c] of clients.entries()) if (i % 2 === 0) c.socket.write('GET /agent/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
  const drip = setInterval(() => {
    for (const [i, c] of clients.entries()) if (i % 2 === 0 && !c.socket.destroyed) c.socket.write('X');
  }, 200).unref();
  // Meanwhile DogStatsD is unaffected.
  const udp = new UdpClient(kennel.udpPort);
  await udp.send('fault.hostile.during:7|g|#phase:slow-clients');
  udp.close();
  await sendUds(kennel.socket, [Buffer.from('fault.hostile.during.uds:7|g|#phase:slow-clients')]);
  // Every slow connection ends: the extra ones at once, the others at server_timeout.
  progress('slow clients: waiting for every connection to be closed');
  await Promise.all(clients.map((c) => c.closed));
  clearInterval(drip);

  const tok = token(kennel.runPath);
  assert.equal((await httpJson(port, 'POST', '/agent/flush')).status, 401);
  assert.equal((await httpJson(port, 'POST', '/agent/flush', { authorization: `Bearer ${'0'.repeat(64)}` })).status, 403);
  const refusedBody = (r: Promise<{ status: number }>) => r.catch(() => ({ status: 413 }));
  assert.equal((await refusedBody(httpJson(port, 'POST', '/agent/flush', { authorization: `Bearer ${tok}`, 'content-length': 1 << 20 }))).status, 413);
  const chunked = httpJson(port, 'POST', '/agent/flush', { authorization: `Bearer ${tok}`, 'transfer-encoding': 'chunked' }, Buffer.alloc(200 * 1024, 0x61));
  assert.equal((await refusedBody(chunked)).status, 413);
  assert.equal((await refusedBody(httpJson(port, 'POST', '/agent/status', { 'content-length': 1 << 20 }))).status, 413);
  assert.equal((await httpJson(port, 'POST', '/agent/flush', { authorization: `Bearer ${tok}` })).status, 200);

  const after = (await kennel.status()).statusServerStats;
  assert.equal(after.ConnectionsRejected - before.ConnectionsRejected, 8, `the 8 connections past cmd_max_connections (${max}) were closed at once`);
  assert.equal(after.RequestTimeouts - before.RequestTimeouts, max, 'each slow client was timed out');
  assert.equal(after.Unauthorized - before.Unauthorized, 2);
  assert.equal(after.BodiesTooLarge - before.BodiesTooLarge, 3);
  assert.ok(kennel.alive());
  const text = await runKennel(['status'], { DD_CMD_PORT: String(port) });
  for (const line of ['Connections Rejected: 8', `Request Timeouts: ${max}`, 'Bodies Too Large: 3', 'Unauthorized: 2', 'Udp Packets Truncated:', 'Uds Packets Truncated:']) {
    assert.ok(text.stdout.includes(line), `kennel status shows "${line}"`);
  }
  t.diagnostic(
    `status port: ${max + 8} slow clients against cmd_max_connections ${max}: ${after.ConnectionsRejected} closed at once, ${after.RequestTimeouts} timed out ` +
      `(server_timeout 2 s); 401/403 counted ${after.Unauthorized}, 413 counted ${after.BodiesTooLarge}; DogStatsD unaffected`,
  );
}

test(`hostile input: ${SIZES.fuzzDatagrams.toLocaleString('en-US')} fuzzed datagrams over UDP and UDS, slow and oversized clients on the status port`, { timeout: 600_000 }, async (t) => {
  const intake = await FakeIntake.start({ apiKeys: [API_KEY] });
  const kennel = await launch({
    intake,
    env: { DD_SERVER_TIMEOUT: '2', DD_CMD_MAX_CONNECTIONS: '16', DD_DOGSTATSD_SO_RCVBUF: String(8 << 20) },
  });
  let rssMax = 0;
  const sampler = setInterval(() => {
    if (kennel.alive()) rssMax = Math.max(rssMax, kennel.rssKiB());
  }, 250).unref();
  const started = Date.now();
  try {
    await fuzzDogStatsD(kennel, t);
    t.diagnostic(`fuzzing took ${((Date.now() - started) / 1000).toFixed(1)} s; kennel's VmRSS peaked at ${Math.round(rssMax / 1024)} MiB`);
    await hostileStatusPort(kennel, t);

    // A known good metric, after all that, arrives intact over both transports.
    await waitForBucketOffset(1);
    const udp = new UdpClient(kennel.udpPort);
    await udp.send('fault.hostile.good:42|g|#check:ok');
    udp.close();
    await sendUds(kennel.socket, [Buffer.from('fault.hostile.good.uds:43|g|#check:ok')]);
    await waitForBucketOffset(1);
    assert.equal((await kennel.flush()).status, 200);
    const got = await intake.store.waitFor(
      (st) => {
        const a = st.series({ name: 'fault.hostile.good' });
        const b = st.series({ name: 'fault.hostile.good.uds' });
        const c = st.series({ name: 'fault.hostile.during' });
        const d = st.series({ name: 'fault.hostile.during.uds' });
        return a.length > 0 && b.length > 0 && c.length > 0 && d.length > 0 && { a, b, c, d };
      },
      { timeoutMs: 60_000 },
    );
    const shape = (s: (typeof got.a)[number]) => [s.host, [...s.tags], s.type, s.points.map((p) => p.value)];
    assert.deepEqual(got.a.map(shape), [['fault-host', ['check:ok'], 'gauge', [42]]]);
    assert.deepEqual(got.b.map(shape), [['fault-host', ['check:ok'], 'gauge', [43]]]);
    assert.deepEqual(got.c.map(shape), [['fault-host', ['phase:slow-clients'], 'gauge', [7]]]);
    assert.deepEqual(got.d.map(shape), [['fault-host', ['phase:slow-clients'], 'gauge', [7]]]);
    assert.deepEqual((await kennel.health()).Unhealthy, []);
    assert.equal(await kennel.stop('SIGTERM'), 0, kennel.proc.stderr().slice(-2000));
  } finally {
    clearInterval(sampler);
    await kennel.stop('SIGKILL');
    await intake.close();
  }
});
