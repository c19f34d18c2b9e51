import type { ChildProcessSource } from '@kennel/logs';
import type { RunIo, RunningAgent } from './run.js';

/** The exit code of a command that could not be started, as a shell gives it: 127 not found, 126 not runnable. */
function spawnFailureCode(e: unknown): number {
  const cause = (e as { cause?: NodeJS.ErrnoException }).cause;
  return cause?.code === 'ENOENT' ? 127 : 126;
}

/**
 * `kennel run -- CMD ARGS` once started: the child runs with its stdout and stderr collected as
 * logs, and SIGTERM, SIGINT and SIGHUP sent to kennel are passed on to it (kennel does not stop
 * on them while it runs; `kennel stop` sends it SIGTERM). When the child exits, kennel stops as on
 * SIGTERM (every bucket flushed, the last logs sent, the forwarder drained, the registry written)
 * and returns the child's exit code (128 + the signal number when a signal killed it).
 */
export async function superviseChild(agent: RunningAgent, child: ChildProcessSource, io: RunIo): Promise<number> {
  let exited = false;
  // `kennel stop` (POST /agent/stop) asks the child to stop the same way.
  const stopRequested = (agent as unknown as { readonly stopRequested?: Promise<string> }).stopRequested;
  void stopRequested?.then((why) => {
    if (exited) return;
    io.log(`kennel: ${why}: passing SIGTERM on to ${child.command} (pid ${child.pid ?? '?'}) and waiting for it`);
    child.kill('SIGTERM');
  });
  let code: number;
  try {
    const x = await child.exited;
    code = x.exitCode;
    io.log(`kennel: ${child.command} exited ${x.signal !== null ? `on ${x.signal}` : `with ${x.code}`}: stopping (flushing every bucket, sending the last logs, draining the forwarder)`);
  } catch (e) {
    code = spawnFailureCode(e);
    io.log(`kennel: ${(e as Error).message}: stopping`);
  }
  exited = true;
  // The child is gone: a signal now must not cut the last logs short (kennel has no handler left
  // otherwise, and the default is to die); kennel is stopping anyway.
  const stopping = (sig: NodeJS.Signals): void => io.log(`kennel: ${sig}: already stopping (sending the last logs, draining the forwarder)`);
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  for (const sig of signals) process.on(sig, stopping);
  try {
    await agent.stop();
  } finally {
    for (const sig of signals) process.off(sig, stopping);
  }
  const s = agent.stats();
  const logs = s.logsStats as { metrics?: Record<string, string> } | undefined;
  const last = { dogstatsdStats: s.dogstatsdStats, aggregatorStats: s.aggregatorStats, ...(logs?.metrics ? { logsStats: logs.metrics } : {}) };
  io.log(`kennel: stopped; exiting with ${code}; ${JSON.stringify(last)}`);
  return code;
}
