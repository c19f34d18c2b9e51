/**
 * What the harness reads from Linux about a server process and its sockets: CPU time, resident
 * memory, the receive buffer the kernel granted, and datagrams the kernel dropped.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';

/** Clock ticks per second for /proc/<pid>/stat (sysconf(_SC_CLK_TCK), 100 on Linux). */
const CLK_TCK = 100;

/**
 * The command name and utime + stime (seconds) of a /proc `stat` line. The name (field 2) is in
 * parentheses and may hold spaces, so the fields are split after the last ')'.
 */
function parseStat(stat: string): { name: string; seconds: number } {
  const close = stat.lastIndexOf(')');
  const rest = stat.slice(close + 2).split(' ');
  // rest[0] is field 3 (state): utime is field 14, stime field 15.
  return { name: stat.slice(stat.indexOf('(') + 1, close), seconds: (Number(rest[11]) + Number(rest[12])) / CLK_TCK };
}

/** utime + stime of every thread of `pid`, in seconds; null when the process is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).seconds;
  } catch {
    return null;
  }
}

/**
 * utime + stime of each thread of `pid`, in seconds, by thread id, with each thread's name
 * (`comm`: node names every thread of its own `node`, the addon's reader threads are
 * `kennel-reader`); empty when the process is gone. What shows which thread is the ceiling.
 */
export function threadCpuSeconds(pid: number): Map<number, { readonly name: string; readonly seconds: number }> {
  const out = new Map<number, { name: string; seconds: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      out.set(Number(tid), parseStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

export interface MemoryKiB {
  /** Peak resident set size (VmHWM). */
  readonly hwm: number;
  /** Current resident set size (VmRSS). */
  readonly rss: number;
}

/** VmHWM and VmRSS of `pid`, in KiB; null when the process is gone. */
export function memoryKiB(pid: number): MemoryKiB | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /^VmHWM:\s*(\d+) kB/m.exec(s);
    const rss = /^VmRSS:\s*(\d+) kB/m.exec(s);
    if (!hwm || !rss) return null;
    return { hwm: Number(hwm[1]), rss: Number(rss[1]) };
  } catch {
    return null;
  }
}

/** Number of threads of `pid`. */
export function threadCount(pid: number): number | null {
  try {
    const m = /^Threads:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * The `drops` column of /proc/net/udp for the socket bound to 127.0.0.1:`port`: datagrams the
 * kernel dropped because the receive buffer was full. Null when no such socket.
 */
export function udpSocketDrops(port: number): number | null {
  try {
    const text = readFileSync('/proc/net/udp', 'utf8');
    const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1] === want) return Number(f[f.length - 1]);
    }
    return null;
  } catch {
    return null;
  }
}

/** `Udp: RcvbufErrors` from /proc/net/snmp (host-wide). */
export function udpRcvbufErrors(): number | null {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const names = lines[0]!.split(/\s+/);
    const values = lines[1]!.split(/\s+/);
    const i = names.indexOf('RcvbufErrors');
    return i < 0 ? null : Number(values[i]);
  } catch {
    return null;
  }
}

/**
 * The receive buffer the kernel granted a socket (`skmem` `rb`, which is twice what was asked
 * for, as the kernel doubles SO_RCVBUF for its bookkeeping), from `ss`. `what` is `udp` with a
 * port or `unix` with a path. Null when `ss` is missing or the socket is not found.
 */
export function grantedReceiveBuffer(what: { udpPort: number } | { unixPath: string }): number | null {
  try {
    const args =
      'udpPort' in what ? ['-H', '-u', '-a', '-n', '-m', 'sport', '=', `:${what.udpPort}`] : ['-H', '-x', '-a', '-m', 'src', what.unixPath];
    const out = execFileSync('ss', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const m = /skmem:\([^)]*\brb(\d+)/.exec(out);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export function loadAverage(): [number, number, number] {
  const l = os.loadavg();
  return [round2(l[0]!), round2(l[1]!), round2(l[2]!)];
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Reads an integer sysctl such as `net/core/rmem_max`; null when unreadable. */
export function readSysctl(path: string): number | null {
  try {
    return Number(readFileSync(`/proc/sys/${path}`, 'utf8').trim());
  } catch {
    return null;
  }
}

/** Writes an integer sysctl; false when not allowed (not root, read-only /proc/sys, a container). */
export function writeSysctl(path: string, value: number): boolean {
  try {
    writeFileSync(`/proc/sys/${path}`, `${value}\n`);
    return readSysctl(path) === value;
  } catch {
    return false;
  }
}
