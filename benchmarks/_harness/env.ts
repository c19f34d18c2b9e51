/**
 * The environment a benchmark ran in, printed before any figure (style anchors 6.7: "each run
 * prints its environment first"). Figures from a shared or loaded machine are only comparable
 * within the same run, so the load average is part of the record.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface BenchEnvironment {
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  readonly arch: string;
  readonly cpuModel: string;
  readonly cpuCount: number;
  /** `Cpus_allowed_list` from /proc/self/status (Linux), or null: shows whether `taskset` pinned us. */
  readonly cpuAffinity: string | null;
  readonly loadAverage: readonly [number, number, number];
  readonly totalMemMiB: number;
  readonly gitCommit: string | null;
  /** True when the working tree had uncommitted changes at run time. */
  readonly gitDirty: boolean | null;
  readonly startedAt: string;
}

function git(args: readonly string[]): string | null {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function cpuAffinity(): string | null {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const m = /^Cpus_allowed_list:\s*(.+)$/m.exec(status);
    return m ? m[1]!.trim() : null;
  } catch {
    return null;
  }
}

export function collectEnvironment(): BenchEnvironment {
  const cpus = os.cpus();
  const load = os.loadavg();
  const commit = git(['rev-parse', 'HEAD']);
  const status = commit === null ? null : git(['status', '--porcelain']);
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.type()} ${os.release()}`,
    arch: process.arch,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    cpuAffinity: cpuAffinity(),
    loadAverage: [round2(load[0]!), round2(load[1]!), round2(load[2]!)],
    totalMemMiB: Math.round(os.totalmem() / 1048576),
    gitCommit: commit,
    gitDirty: status === null ? null : status.length > 0,
    startedAt: new Date().toISOString(),
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Prints the environment block; returns it for the JSON result file. */
export function printEnvironment(env: BenchEnvironment = collectEnvironment()): BenchEnvironment {
  const lines = [
    `node        ${env.node} (V8 ${env.v8}), ${env.platform} ${env.arch}`,
    `cpu         ${env.cpuModel} x ${env.cpuCount}` +
      (env.cpuAffinity === null ? '' : `, allowed CPUs ${env.cpuAffinity}`),
    `load avg    ${env.loadAverage.join(' ')} (1, 5, 15 min)`,
    `memory      ${env.totalMemMiB} MiB`,
    `git         ${env.gitCommit ?? 'unknown'}${env.gitDirty ? ' (dirty tree)' : ''}`,
    `started     ${env.startedAt}`,
  ];
  console.log(lines.join('\n'));
  if (env.loadAverage[0] > env.cpuCount * 0.5) {
    console.log(
      `warning     1-minute load ${env.loadAverage[0]} on ${env.cpuCount} CPUs: absolute figures are unreliable; compare same-run ratios only`,
    );
  }
  return env;
}
