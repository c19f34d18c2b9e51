import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadNative, sendUnixDatagram } from '../lib/index.js';
import type { BatchCallback } from '../lib/index.js';

export const native = loadNative();
/** `skip` option for tests that need the addon: false when it loaded, else the reason. */
export const needsNative: string | false = native.binding ? false : `native addon unavailable: ${native.reason}`;

/** A fresh directory under the OS temp dir, removed by the returned function. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'kn-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Collects every datagram (copied out of the reused buffer) and every batch's shape. */
export class Collector {
  readonly datagrams: Buffer[] = [];
  readonly batchSizes: number[] = [];
  truncated = 0;
  readErrors = 0;
  readonly onBatch: BatchCallback = (buf, count, spans, truncated, readErrors) => {
    for (let i = 0; i < count; i++) {
      const off = spans[2 * i]!;
      const len = spans[2 * i + 1]!;
      this.datagrams.push(Buffer.from(buf.subarray(off, off + len)));
    }
    if (count > 0) this.batchSizes.push(count);
    this.truncated += truncated;
    this.readErrors += readErrors;
  };

  async waitFor(n: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.datagrams.length < n) {
      if (Date.now() > deadline) throw new Error(`timed out with ${this.datagrams.length} of ${n} datagrams`);
      await sleep(2);
    }
  }
}

/** Sends every datagram to a Unix datagram socket, waiting while the receiver's queue is full. */
export async function sendAllUnix(path: string, datagrams: readonly Buffer[], timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let i = 0;
  while (i < datagrams.length) {
    const sent = sendUnixDatagram(path, datagrams.slice(i));
    i += sent;
    if (i < datagrams.length) {
      if (Date.now() > deadline) throw new Error(`timed out sending: ${i} of ${datagrams.length} sent`);
      await sleep(1);
    }
  }
}

/** Deterministic datagrams of varied sizes and bytes (newlines, NULs, high bytes included). */
export function makeDatagrams(n: number, maxLen: number, seed = 1): Buffer[] {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const len = i === 0 ? 0 : next() % (maxLen + 1);
    const b = Buffer.alloc(len);
    for (let j = 0; j < len; j++) b[j] = next() & 0xff;
    if (len > 8) b.write(`m${i}:1|c\n`, 0, 'latin1');
    out.push(b);
  }
  return out;
}
