/**
 * Tools of the logs integration tests: a `kennel run` child with its own run path and ports,
 * its stdout and stderr collected, pointed at a fake intake; the fake intake's logs by message.
 *
 * Nothing here measures time: every wait polls a condition until it holds, and the test's own
 * timeout is the safety net.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeIntake, IntakeLogEvent } from '@kennel/intake';
import { KENNEL_BIN } from '../utils/index.js';

export const API_KEY = 'logslogslogslogslogslogs12345';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 20 ms until it holds; throws `what` (with kennel's stderr) when kennel exited first. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, k?: RunningKennel): Promise<void> {
  while (!(await cond())) {
    if (k !== undefined && k.exited) throw new Error(`kennel exited (${String(k.code)}) before ${what}:\n${k.stderr()}`);
    await sleep(20);
  }
}

/** A fresh directory. */
export function tempDir(prefix = 'kennel-logs-it-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The environment of a kennel that sends metrics and logs to `intake` and nothing anywhere else. */
export function kennelEnv(intake: FakeIntake, runPath: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DD_API_KEY: API_KEY,
    DD_DD_URL: intake.url,
    DD_LOGS_CONFIG_LOGS_DD_URL: intake.url,
    DD_HOSTNAME: 'logs-host',
    DD_RUN_PATH: runPath,
    DD_CMD_PORT: '0',
    DD_DOGSTATSD_PORT: '0',
    DD_DOGSTATSD_SOCKET: '',
    DD_APM_ENABLED: 'false',
    // Retries come back quickly in tests (the agent's are 1 s to 120 s).
    DD_LOGS_CONFIG_SENDER_BACKOFF_BASE: '0.05',
    DD_LOGS_CONFIG_SENDER_BACKOFF_MAX: '0.2',
    // Checks for rotations often, so the tests do not wait long for them.
    DD_LOGS_CONFIG_FILE_SCAN_PERIOD: '0.05',
    ...extra,
  };
}

/**
 * How long teardown waits after SIGTERM before it sends SIGKILL: kennel's forwarder drains for up
 * to 10 s (`DD_FORWARDER_STOP_TIMEOUT`) before it exits.
 */
export const STOP_GRACE_MS = 15_000;

export interface RunningKennel {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly exited: boolean;
  readonly code: number | null;
  /** Resolves with the exit code (128 + signal number when a signal killed kennel). */
  readonly exit: Promise<number>;
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if kennel is still running after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number>;
}

/**
 * Starts `kennel <args>` with `env` added to this process's environment. The test's teardown
 * (`t.after`, which also runs when the test fails or times out) stops it, with SIGKILL after
 * {@link STOP_GRACE_MS}: a kennel left running keeps its stdout and stderr pipes open, and with
 * them the test file's process, for ever.
 */
export function spawnKennel(t: TestContext, args: readonly string[], env: Record<string, string>): RunningKennel {
  const child = spawn(KENNEL_BIN, [...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let exited = false;
  let code: number | null = null;
  const exit = new Promise<number>((resolve) => {
    child.on('exit', (c, sig) => {
      exited = true;
      code = c ?? (sig === 'SIGKILL' ? 137 : sig === 'SIGTERM' ? 143 : 128);
      resolve(code);
    });
    // Not started at all (no 'exit' follows): nothing to wait for.
    child.on('error', (e) => {
      if (exited || child.pid !== undefined) return;
      exited = true;
      code = 127;
      err += `spawn failed: ${e.message}\n`;
      resolve(code);
    });
  });
  const kill = (signal: NodeJS.Signals = 'SIGTERM'): void => {
    if (!exited) child.kill(signal);
  };
  const stop = async (graceMs = STOP_GRACE_MS): Promise<number> => {
    kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)));
    const late = await Promise.race([exit.then(() => false), graceOver]);
    clearTimeout(timer);
    if (late) kill('SIGKILL');
    return exit;
  };
  t.after(() => stop());
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    get exited() {
      return exited;
    },
    get code() {
      return code;
    },
    exit,
    kill,
    stop,
  };
}

/** The messages the intake holds, in arrival order. */
export function messages(intake: FakeIntake, filter: (e: IntakeLogEvent) => boolean = () => true): string[] {
  return intake.store.logs().filter(filter).map((e) => e.message);
}

/** Lines `<prefix>-<i>` for i in [from, to), padded to a fixed width with `pad` characters. */
export function numbered(prefix: string, from: number, to: number, pad = 0): string[] {
  const out: string[] = [];
  for (let i = from; i < to; i++) out.push(`${prefix}-${String(i).padStart(6, '0')}${pad > 0 ? ' ' + 'x'.repeat(pad) : ''}`);
  return out;
}

/** Which of `expected` are missing from `got`, and which lines of `got` appear more than once. */
export function exactlyOnce(got: readonly string[], expected: readonly string[]): { missing: string[]; duplicated: string[]; unexpected: string[] } {
  const seen = new Map<string, number>();
  for (const g of got) seen.set(g, (seen.get(g) ?? 0) + 1);
  const want = new Set(expected);
  return {
    missing: expected.filter((e) => !seen.has(e)),
    duplicated: [...seen].filter(([, n]) => n > 1).map(([m]) => m),
    unexpected: [...seen.keys()].filter((m) => !want.has(m)),
  };
}
