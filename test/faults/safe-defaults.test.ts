/**
 * Safe defaults of the metrics path, each checked on a real `kennel run`:
 * - every listener on loopback unless configured otherwise (UDP 127.0.0.1, the status port
 *   127.0.0.1; a non-loopback `DD_CMD_HOST` refused), read from the kernel's socket tables;
 * - the status port's guarded calls need the auth token `<run_path>/auth_token` (mode 0600,
 *   32 random bytes hex, new at every start); read-only status and health do not;
 * - the Unix socket's mode is 0722, as the agent sets it;
 * - the API key is never printed: not in a log line (forwarder errors included), not in
 *   `kennel status`, `--json`, `kennel health`, nor in the token file;
 * - configuration files and paths are checked before use: each bad one stops the start with a
 *   message naming it.
 * The trace receiver's and the logs listeners' defaults are checked with their pipelines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeIntake } from '@kennel/intake';
import { freeTcpPort, startKennel } from '../utils/index.js';
import { API_KEY, UdpClient, allCases, httpJson, launch, runKennel, token, transactions, waitUntil } from './support.js';
import type { FaultKennel } from './support.js';

/** The local addresses (hex `IP:PORT` as the kernel writes them) of sockets bound to `port`. */
function boundAddresses(pid: number, proto: 'udp' | 'tcp', port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const out: string[] = [];
  for (const file of [proto, `${proto}6`]) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4) continue;
      const [addr, p] = f[1]!.split(':');
      // TCP: only listeners (state 0A).
      if (p === hexPort && (proto === 'udp' || f[3] === '0A')) out.push(addr!);
    }
  }
  return out;
}

const LOOPBACK4 = '0100007F';

/** Starts kennel with `env` over a base that is valid, and expects it to stop at start with exit 1 and `message`. */
async function refusedAtStart(what: string, env: Record<string, string>, message: RegExp, args: string[] = ['run']): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kennel-safe-'));
  const p = startKennel(
    {
      DD_API_KEY: API_KEY,
      DD_DD_URL: 'http://127.0.0.1:9',
      DD_DOGSTATSD_PORT: '0',
      DD_DOGSTATSD_SOCKET: join(dir, 'dsd.socket'),
      DD_CMD_PORT: '0',
      DD_RUN_PATH: join(dir, 'run'),
      DD_APM_ENABLED: 'false',
      ...env,
    },
    args,
  );
  const code = await p.stop('SIGCONT'); // a signal that does nothing: waits for the exit
  assert.equal(code, 1, `${what}: kennel stops at start (exit 1)\n${p.stderr()}`);
  assert.match(p.stderr(), message, what);
  assert.ok(!p.stderr().includes(API_KEY), `${what}: the API key is not in the message`);
  return `${what}: refused: ${p.stderr().trim().split('\n').at(-1)}`;
}

async function loopbackListeners(): Promise<string> {
  const local = await launch({ env: {} });
  const open = await launch({ env: { DD_DOGSTATSD_NON_LOCAL_TRAFFIC: 'true' } });
  try {
    const pid = local.proc.child.pid!;
    assert.deepEqual(boundAddresses(pid, 'udp', local.udpPort), [LOOPBACK4], 'DogStatsD UDP on 127.0.0.1 by default');
    assert.deepEqual(boundAddresses(pid, 'tcp', local.cmdPort), [LOOPBACK4], 'the status port on 127.0.0.1');
    assert.deepEqual(boundAddresses(open.proc.child.pid!, 'udp', open.udpPort), ['00000000'], 'dogstatsd_non_local_traffic: every interface');
    assert.deepEqual(boundAddresses(open.proc.child.pid!, 'tcp', open.cmdPort), [LOOPBACK4], 'the status port stays on loopback');
    const st = lstatSync(local.socket);
    assert.ok(st.isSocket());
    assert.equal((st.mode & 0o777).toString(8), '722', 'the Unix socket is mode 0722, as the agent sets it');
    return `listeners: UDP ${LOOPBACK4} (0.0.0.0 only with DD_DOGSTATSD_NON_LOCAL_TRAFFIC), status port ${LOOPBACK4}, ${local.socket} mode 0722`;
  } finally {
    await local.stop('SIGKILL');
    await open.stop('SIGKILL');
  }
}

async function authToken(): Promise<string> {
  const k: FaultKennel = await launch({ env: {} });
  let second: FaultKennel | null = null;
  try {
    const path = join(k.runPath, 'auth_token');
    const st = statSync(path);
    assert.ok(st.isFile());
    assert.equal((st.mode & 0o777).toString(8), '600', 'auth_token is mode 0600');
    const tok = token(k.runPath);
    assert.match(tok, /^[0-9a-f]{64}$/, '32 random bytes, hex');
    // Read-only status and health need no token.
    assert.equal((await httpJson(k.cmdPort, 'GET', '/agent/status')).status, 200);
    assert.equal((await httpJson(k.cmdPort, 'GET', '/agent/status/health')).status, 200);
    // Anything else does.
    const none = await httpJson(k.cmdPort, 'POST', '/agent/flush');
    assert.equal(none.status, 401);
    assert.deepEqual(none.body, { error: 'no session token provided' });
    assert.equal((await httpJson(k.cmdPort, 'POST', '/agent/flush', { authorization: 'Basic abc' })).status, 401);
    const wrong = tok.slice(0, 63) + (tok[63] === '0' ? '1' : '0');
    assert.equal((await httpJson(k.cmdPort, 'POST', '/agent/flush', { authorization: `Bearer ${wrong}` })).status, 403);
    assert.equal((await httpJson(k.cmdPort, 'POST', '/agent/stop', { authorization: 'Bearer nope' })).status, 403);
    assert.equal((await httpJson(k.cmdPort, 'GET', '/agent/flush', { authorization: `Bearer ${tok}` })).status, 405);
    assert.equal((await httpJson(k.cmdPort, 'POST', '/agent/flush', { authorization: `Bearer ${tok}` })).status, 200);
    assert.ok(k.alive(), 'a refused stop did not stop it');
    // The CLI reads the token from the run path.
    const cli = { DD_CMD_PORT: String(k.cmdPort), DD_RUN_PATH: k.runPath };
    const flush = await runKennel(['flush'], cli);
    assert.equal(flush.code, 0, flush.stderr);
    assert.match(flush.stdout, /"flushed"/);
    const elsewhere = await runKennel(['flush'], { ...cli, DD_RUN_PATH: mkdtempSync(join(tmpdir(), 'kennel-no-token-')) });
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.stderr, /no auth token/);
    const s = (await k.status()).statusServerStats;
    assert.equal(s.Unauthorized, 4);
    // A new token at every start.
    assert.equal(await k.stop('SIGTERM'), 0);
    second = await launch({ env: {}, dir: k.dir });
    assert.notEqual(token(k.runPath), tok, 'a restart writes a new token');
    // kennel stop, with the token: a clean stop, exit 0.
    const stop = await runKennel(['stop'], { DD_CMD_PORT: String(second.cmdPort), DD_RUN_PATH: second.runPath });
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(await second.stop('SIGCONT'), 0, second.proc.stderr());
    assert.match(second.proc.stderr(), /kennel stop: stopping/);
    return `auth token: ${path} mode 0600, 64 hex characters, new at each start; POST /agent/flush and /agent/stop: 401 without it, 403 with a wrong one, 200 with it (kennel flush, kennel stop); GET status and health open`;
  } finally {
    await k.stop('SIGKILL');
    if (second) await second.stop('SIGKILL');
  }
}

async function apiKeyNeverPrinted(): Promise<string> {
  // The intake refuses the key (403): the forwarder logs its errors; none may carry the key.
  const intake = await FakeIntake.start({ apiKeys: ['another-key-another-key-00000'] });
  const k = await launch({ intake, env: {} });
  try {
    assert.equal((await k.flush()).status, 200);
    const udp = new UdpClient(k.udpPort);
    await udp.send('fault.safe.key:1|c');
    udp.close();
    await waitUntil(async () => ((await k.status()).aggregatorStats.DogstatsdMetricSample ?? 0) >= 1, 100);
    // The final flush at stop sends it; the 403 is logged.
    const cli = { DD_CMD_PORT: String(k.cmdPort), DD_RUN_PATH: k.runPath };
    const outputs = [
      (await runKennel(['status'], cli)).stdout,
      (await runKennel(['status', '--json'], cli)).stdout,
      (await runKennel(['health'], cli)).stdout,
      readFileSync(join(k.runPath, 'auth_token'), 'utf8'),
    ];
    const json = JSON.parse(outputs[1]!);
    assert.match(json.agent.apiKey, /^\*+12345$/, 'status shows only the last 5 characters');
    assert.equal(await k.stop('SIGTERM'), 0);
    await waitUntil(() => (intake.counts().byStatus['403'] ?? 0) >= 1, 100);
    outputs.push(k.proc.stderr());
    assert.match(k.proc.stderr(), /API Key invalid|403/, 'the forwarder logged the refusal');
    for (const o of outputs) assert.ok(!o.includes(API_KEY), `the API key is never printed: ${o.slice(0, 200)}`);
    const last = k.stoppedLine();
    assert.ok(last && transactions(last).HTTPErrorsByCode['403'] >= 1);
    return 'API key: not in stderr (forwarder 403 errors included), kennel status, --json, kennel health, the stopped line or auth_token; status shows ***...12345';
  } finally {
    await k.stop('SIGKILL');
    await intake.close();
  }
}

async function pathsAndFilesChecked(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kennel-safe-paths-'));
  const aFile = join(dir, 'a-file');
  writeFileSync(aFile, 'x');
  const yaml = join(dir, 'bad.yaml');
  writeFileSync(yaml, 'dogstatsd_buffer_size: lots\n');
  const notYaml = join(dir, 'not.yaml');
  writeFileSync(notYaml, '- just\n- a list\n');
  const linkRun = join(dir, 'run-with-link');
  mkdirSync(linkRun);
  symlinkSync(aFile, join(linkRun, 'auth_token'));
  const results = [
    await refusedAtStart('a missing -c file', {}, /cannot read the configuration file .*nope\.yaml/, ['-c', join(dir, 'nope.yaml'), 'run']),
    await refusedAtStart('a malformed value in the file', {}, /dogstatsd_buffer_size: expected a whole number/, ['-c', yaml, 'run']),
    await refusedAtStart('a file that is not a mapping', {}, /not valid YAML.*mapping/, ['-c', notYaml, 'run']),
    await refusedAtStart('a malformed DD_ value', { DD_DOGSTATSD_PORT: '81x25' }, /DD_DOGSTATSD_PORT: expected a whole number/),
    await refusedAtStart('DD_RUN_PATH is a file', { DD_RUN_PATH: aFile }, /DD_RUN_PATH \(run_path\): .* is not a directory/),
    await refusedAtStart('the token file is a link', { DD_RUN_PATH: linkRun }, /auth_token_file_path.*not a regular file/),
    await refusedAtStart('a relative socket path', { DD_DOGSTATSD_SOCKET: 'relative/dsd.socket' }, /DD_DOGSTATSD_SOCKET \(dogstatsd_socket\): expected an absolute path/),
    await refusedAtStart('a socket path held by a file', { DD_DOGSTATSD_SOCKET: aFile }, /not a Unix socket/),
    await refusedAtStart('the storage path is a file', { DD_FORWARDER_STORAGE_MAX_SIZE_IN_BYTES: '1000000', DD_FORWARDER_STORAGE_PATH: aFile }, /DD_FORWARDER_STORAGE_PATH .* is not a directory/),
    await refusedAtStart('a non-loopback DD_CMD_HOST', { DD_CMD_PORT: String(await freeTcpPort()), DD_CMD_HOST: '0.0.0.0' }, /DD_CMD_HOST: the status port listens on loopback only/),
  ];
  assert.ok(statSync(aFile).isFile() && readFileSync(aFile, 'utf8') === 'x', 'nothing was written through the link or over the file');
  return results.join('\n');
}

test('safe defaults: loopback listeners, the auth token, socket mode, the API key never printed, paths checked', { timeout: 180_000 }, async (t) => {
  await allCases(t, {
    'loopback listeners and socket mode': loopbackListeners,
    'auth token': authToken,
    'API key': apiKeyNeverPrinted,
    'paths and files': pathsAndFilesChecked,
  });
});
