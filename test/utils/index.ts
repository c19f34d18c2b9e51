import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';

/** The kennel CLI as installed at the repository root. */
export const KENNEL_BIN = fileURLToPath(new URL('../../../node_modules/.bin/kennel', import.meta.url));

/** A UDP port that was free a moment ago. */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** A TCP port that was free a moment ago. */
export async function freeTcpPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const p = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return p;
}

/** The `kennel` children started here that have not exited yet. */
const live = new Set<ChildProcess>();
/** Set once the file's tests are over: polls still running belong to a test that timed out. */
let tornDown = false;

/**
 * The safety net of every test file that imports this module: once its tests are over (a test
 * that timed out included: node:test does not stop its body), kennels still running get SIGTERM,
 * then SIGKILL after a grace, and the polls below stop. Without it a timed-out test's kennel and
 * its stdout and stderr pipes keep the file's process, and so `pnpm test`, running for ever.
 */
after(async () => {
  tornDown = true;
  await Promise.all([...live].map((c) => stopChild(c, 'SIGTERM', 15_000)));
});

/** Sends `signal`, then SIGKILL if `child` has not exited after `graceMs`. */
async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)))]);
  clearTimeout(timer);
  if (late) {
    child.kill('SIGKILL');
    await exited;
  }
}

function track<C extends ChildProcess>(child: C): C {
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/** Waits for a condition, checking every 20 ms (the test's own timeout bounds it). */
export async function until(cond: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await cond())) {
    if (tornDown) throw new Error('until: the test file is over (its test timed out?)');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A running `kennel run` child with its stderr collected. */
export interface KennelProcess {
  readonly child: ChildProcess;
  stderr(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startKennel(env: Record<string, string>, args: string[] = ['run']): KennelProcess {
  const child = track(spawn(KENNEL_BIN, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', () => {});
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  return {
    child,
    stderr: () => err,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the kennel CLI to completion and returns its exit code and output. */
export function runKennel(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = track(spawn(KENNEL_BIN, args, { env: { ...process.env, ...env } }));
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout: out, stderr: err }));
  });
}
