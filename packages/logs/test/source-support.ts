// Shared helpers of the source-*, process-* and registry-* tests.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogChannel } from '../src/source/channel.js';
import { createLogsContext, type LogsContext, type LogsContextOptions } from '../src/source/context.js';
import { createLogsPipelineCounters } from '../src/process/processor.js';
import type { LogMessage } from '../src/types.js';

export async function tempDir(prefix = 'kennel-logs-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function text(msg: LogMessage): string {
  return typeof msg.content === 'string' ? msg.content : Buffer.from(msg.content).toString('utf8');
}

/** A channel, a context writing to it, and a consumer that keeps every message. */
export class Collector {
  readonly channel: LogChannel;
  readonly ctx: LogsContext;
  readonly messages: LogMessage[] = [];
  readonly counters = createLogsPipelineCounters();
  private waiters: Array<() => void> = [];
  private running = true;
  private paused = false;
  private resumeFn: (() => void) | undefined;

  constructor(options: Partial<LogsContextOptions> & { highWaterMark?: number; paused?: boolean } = {}) {
    this.channel = new LogChannel({ highWaterMark: options.highWaterMark ?? 10_000 });
    this.ctx = createLogsContext({ ...options, output: this.channel, counters: this.counters });
    this.paused = options.paused ?? false;
    void this.consume();
  }

  private async consume(): Promise<void> {
    while (this.running) {
      if (this.paused) await new Promise<void>((r) => (this.resumeFn = r));
      const m = await this.channel.receive();
      if (m === undefined) return;
      this.messages.push(m);
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }

  /** Stops taking messages (the channel fills up). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.resumeFn?.();
    this.resumeFn = undefined;
  }

  texts(): string[] {
    return this.messages.map(text);
  }

  /** Waits until `n` messages arrived (fails after `timeoutMs`, a safety net, not an assertion on time). */
  async waitFor(n: number, timeoutMs = 20_000): Promise<LogMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < n) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} messages, got ${this.messages.length}: ${JSON.stringify(this.texts().slice(-5))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.messages.slice(0, n);
  }

  close(): void {
    this.running = false;
    this.channel.close();
  }
}

/** Polls `cond` until it holds (a safety timeout only). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
