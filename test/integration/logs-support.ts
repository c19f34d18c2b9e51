/**
 * Tools of the logs integration tests: a `kennel run` child with its own run path and ports,
 * its stdout and stderr collected, pointed at a fake intake; the fake intake's logs by message.
 *
 * Nothing here measures time: every wait polls a condition until it holds, and the test's own
 * timeout is the safety net.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
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

export interface RunningKennel {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly exited: boolean;
  readonly code: number | null;
  /** Resolves with the exit code (128 + signal number when a signal killed kennel). */
  readonly exit: Promise<number>;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts `kennel <args>` with `env` added to this process's environment. */
export function spawnKennel(args: readonly string[], env: Record<string, string>): RunningKennel {
  const child = spawn(KENNEL_BIN, [...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let exited = false;
  let code: number | null = null;
  const exit = new Promise<number>((resolve) =>
    child.on('exit', (c, sig) => {
      exited = true;
      code = c ?? (sig === 'SIGKILL' ? 137 : sig === 'SIGTERM' ? 143 : 128);
      resolve(code);
    }),
  );
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
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (!exited) child.kill(signal);
    },
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
