import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort, freeUdpPort, startKennel, until } from '../utils/index.js';
import type { KennelProcess } from '../utils/index.js';

/** A minimal msgpack encoder for hand-written payloads: bigints as uint64/int64, other integers in the smallest form, `Map`s for non-string keys. */
export function msgpack(v: unknown): Buffer {
  const out: Buffer[] = [];
  const byte = (...b: number[]): void => void out.push(Buffer.from(b));
  const enc = (x: unknown): void => {
    if (x === null || x === undefined) return byte(0xc0);
    if (x === true) return byte(0xc3);
    if (x === false) return byte(0xc2);
    if (typeof x === 'bigint') {
      const b = Buffer.alloc(9);
      if (x < 0n) {
        b[0] = 0xd3;
        b.writeBigInt64BE(x, 1);
      } else {
        b[0] = 0xcf;
        b.writeBigUInt64BE(x, 1);
      }
      return void out.push(b);
    }
    if (typeof x === 'number') {
      if (Number.isInteger(x) && x >= 0 && x < 128) return byte(x);
      if (Number.isInteger(x) && x < 0 && x >= -32) return byte(0x100 + x);
      if (Number.isInteger(x) && x >= 0 && x <= 0xffffffff) {
        const b = Buffer.alloc(5);
        b[0] = 0xce;
        b.writeUInt32BE(x, 1);
        return void out.push(b);
      }
      if (Number.isInteger(x) && x < 0 && x >= -0x80000000) {
        const b = Buffer.alloc(5);
        b[0] = 0xd2;
        b.writeInt32BE(x, 1);
        return void out.push(b);
      }
      const b = Buffer.alloc(9);
      b[0] = 0xcb;
      b.writeDoubleBE(x, 1);
      return void out.push(b);
    }
    if (typeof x === 'string') {
      const s = Buffer.from(x, 'utf8');
      if (s.length < 32) byte(0xa0 | s.length);
      else if (s.length < 256) byte(0xd9, s.length);
      else {
        const h = Buffer.alloc(5);
        h[0] = 0xdb;
        h.writeUInt32BE(s.length, 1);
        out.push(h);
      }
      return void out.push(s);
    }
    if (x instanceof Uint8Array) {
      const h = Buffer.alloc(5);
      h[0] = 0xc6;
      h.writeUInt32BE(x.length, 1);
      out.push(h, Buffer.from(x));
      return;
    }
    if (Array.isArray(x)) {
      if (x.length < 16) byte(0x90 | x.length);
      else {
        const h = Buffer.alloc(5);
        h[0] = 0xdd;
        h.writeUInt32BE(x.length, 1);
        out.push(h);
      }
      for (const e of x) enc(e);
      return;
    }
    const entries: [unknown, unknown][] = x instanceof Map ? [...(x as Map<unknown, unknown>)] : Object.entries(x as Record<string, unknown>);
    if (entries.length < 16) byte(0x80 | entries.length);
    else {
      const h = Buffer.alloc(5);
      h[0] = 0xdf;
      h.writeUInt32BE(entries.length, 1);
      out.push(h);
    }
    for (const [k, e] of entries) {
      enc(k);
      enc(e);
    }
  };
  enc(v);
  return Buffer.concat(out);
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP request to the trace receiver (TCP port or Unix socket). */
export function call(
  target: { port: number } | { socketPath: string },
  path: string,
  body: string | Buffer = '',
  headers: Record<string, string> = {},
  method = 'PUT',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', ...target, path, method, agent: false, headers: { 'Content-Length': String(Buffer.byteLength(body)), ...headers } },
      (res) => {
        let b = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (b += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: b }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface ApmKennel {
  readonly kennel: KennelProcess;
  readonly apmPort: number;
  readonly socket: string;
  readonly cmdPort: number;
  readonly udpPort: number;
  readonly dir: string;
}

/** Starts `kennel run` with its own ports and sockets, and waits for the trace receiver. */
export async function startApmKennel(env: Record<string, string>): Promise<ApmKennel> {
  const dir = mkdtempSync(join(tmpdir(), 'kennel-apm-it-'));
  const socket = join(dir, 'run', 'apm.socket');
  const apmPort = await freeTcpPort();
  const cmdPort = await freeTcpPort();
  const udpPort = await freeUdpPort();
  const kennel = startKennel({
    DD_HOSTNAME: 'test-host',
    DD_APM_RECEIVER_PORT: String(apmPort),
    DD_APM_RECEIVER_SOCKET: socket,
    DD_DOGSTATSD_PORT: String(udpPort),
    DD_DOGSTATSD_SOCKET: join(dir, 'dsd.socket'),
    DD_CMD_PORT: String(cmdPort),
    DD_RUN_PATH: join(dir, 'state'),
    ...env,
  });
  const e = () => kennel.stderr();
  await until(() => e().includes('APM: listening for traces') || e().includes('APM: off') || e().includes('the trace receiver is off') || kennel.child.exitCode !== null);
  if (!kennel.stderr().includes('APM: listening for traces')) {
    await kennel.stop();
    throw new Error(`kennel did not start its trace receiver:\n${kennel.stderr()}`);
  }
  return { kennel, apmPort, socket, cmdPort, udpPort, dir };
}
