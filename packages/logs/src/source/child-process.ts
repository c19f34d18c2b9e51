import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { ErrorCode, KennelError } from '@kennel/core';
import type { ProcessingRule } from '../process/rules.js';
import { InputPipeline, type LogsContext } from './context.js';

/** Options of a {@link ChildProcessSource}. */
export interface ChildProcessSourceOptions {
  readonly command: string;
  /** @defaultValue `[]` */
  readonly args?: readonly string[];
  /** @defaultValue `process.env` */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** The `service` of every message (`DD_SERVICE` in `kennel run`). @defaultValue `''` */
  readonly service?: string;
  /** The `source` of every message. @defaultValue `''` */
  readonly source?: string;
  /** @defaultValue `[]` */
  readonly tags?: readonly string[];
  /** Rules for these lines, after the global ones. @defaultValue `[]` */
  readonly rules?: readonly ProcessingRule[];
  /**
   * Signals sent to kennel that are passed on to the child. While the child runs, kennel does not
   * die of them: it waits for the child to exit. `false` passes none on.
   * @defaultValue `['SIGTERM', 'SIGINT', 'SIGHUP']`
   */
  readonly forwardSignals?: readonly NodeJS.Signals[] | false;
  /** The child's stdin. @defaultValue `'inherit'` */
  readonly stdin?: 'inherit' | 'ignore' | 'pipe';
  /**
   * Where the child's output is also written, as it is read (kennel passes `process.stdout` and
   * `process.stderr`, so the container's own log still shows the application's lines). A full
   * stream pauses the child's pipe until it drains; a stream that fails (EPIPE) is no longer
   * written to. @defaultValue none: the output only goes to the sink
   */
  readonly echo?: { readonly stdout?: NodeJS.WritableStream; readonly stderr?: NodeJS.WritableStream };
}

/** How the child ended. */
export interface ChildExit {
  /** The exit status, or `null` when a signal killed it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** What kennel should exit with: the child's code, or 128 + the signal number (the shell's convention). */
  readonly exitCode: number;
}

/**
 * `kennel run -- CMD ARGS`: runs the application as a child and collects its stdout (status
 * `info`) and stderr (status `error`) as logs, the sidecar's view of its container.
 *
 * @remarks
 * Lines are cut at newlines; a line split across reads is joined again, a partial line is sent
 * after `aggregation_timeout` of silence and when the pipe closes, and lines longer than
 * `max_message_size_bytes` are cut with the agent's `...TRUNCATED...` markers. When the sink is
 * full the pipes are paused: the child blocks on its writes rather than losing lines.
 * `exited` resolves once the child has exited and both pipes were read to the end and decoded.
 *
 * @example
 * ```ts
 * const app = new ChildProcessSource(ctx, { command: 'node', args: ['server.js'], service: 'api' });
 * app.start();
 * const { exitCode } = await app.exited;
 * ```
 */
export class ChildProcessSource {
  readonly command: string;
  readonly args: readonly string[];
  /** Resolves when the child exited and its output was collected. */
  readonly exited: Promise<ChildExit>;
  private readonly ctx: LogsContext;
  private readonly options: ChildProcessSourceOptions;
  private child: ChildProcess | undefined = undefined;
  private resolveExit!: (e: ChildExit) => void;
  private rejectExit!: (e: Error) => void;
  private readonly signalHandlers = new Map<NodeJS.Signals, () => void>();
  private bytesRead = 0;

  constructor(ctx: LogsContext, options: ChildProcessSourceOptions) {
    if (typeof options.command !== 'string' || options.command === '') {
      throw new KennelError(ErrorCode.INVALID_ARGUMENT, 'ChildProcessSource needs a command (kennel run -- CMD ARGS)');
    }
    this.ctx = ctx;
    this.options = options;
    this.command = options.command;
    this.args = options.args ?? [];
    this.exited = new Promise<ChildExit>((resolve, reject) => {
      this.resolveExit = resolve;
      this.rejectExit = reject;
    });
    // A spawn failure is reported through `exited`; keep it from being an unhandled rejection
    // for callers that only look at `exited` later.
    this.exited.catch(() => {});
  }

  /** The child's process id, once started. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Bytes read from both pipes. */
  get bytes(): number {
    return this.bytesRead;
  }

  /** Spawns the child. `exited` rejects with the cause when it cannot be started (ENOENT, EACCES). */
  start(): void {
    if (this.child !== undefined) return;
    const stdio: StdioOptions = [this.options.stdin ?? 'inherit', 'pipe', 'pipe'];
    const child = spawn(this.command, [...this.args], {
      stdio,
      env: this.options.env ?? process.env,
      ...(this.options.cwd !== undefined ? { cwd: this.options.cwd } : {}),
    });
    this.child = child;
    const identity = { service: this.options.service ?? '', source: this.options.source ?? '' };
    const rules = this.options.rules ?? [];
    const tags = this.options.tags ?? [];
    const out = new InputPipeline(this.ctx, { rules, identity, tags, sourceId: 'child:stdout', offset: undefined, format: 'raw', framing: 'stream', status: 'info' });
    const err = new InputPipeline(this.ctx, { rules, identity, tags, sourceId: 'child:stderr', offset: undefined, format: 'raw', framing: 'stream', status: 'error' });
    const outDone = this.pump(child.stdout!, out, this.options.echo?.stdout);
    const errDone = this.pump(child.stderr!, err, this.options.echo?.stderr);
    let spawnError: Error | undefined;
    child.once('error', (e) => {
      spawnError = e;
    });
    child.once('close', (code, signal) => {
      void Promise.all([outDone, errDone]).then(() => {
        this.removeSignalHandlers();
        if (spawnError !== undefined && child.pid === undefined) {
          this.rejectExit(new KennelError(ErrorCode.INVALID_ARGUMENT, `cannot start ${this.command}: ${spawnError.message}`, { cause: spawnError }));
          return;
        }
        const signo = signal !== null ? (constants.signals as Record<string, number>)[signal] ?? 0 : 0;
        this.resolveExit({ code, signal, exitCode: code ?? 128 + signo });
      });
    });
    this.installSignalHandlers();
  }

  /** Sends `signal` to the child. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    return this.child?.kill(signal) ?? false;
  }

  private pump(stream: Readable, pipeline: InputPipeline, echoTo?: NodeJS.WritableStream): Promise<void> {
    let echo = echoTo;
    const onEchoError = (): void => {
      // The reader went away (EPIPE): the logs keep flowing to the sink.
      echo = undefined;
    };
    echo?.on('error', onEchoError);
    return new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        this.bytesRead += chunk.length;
        let echoFull = false;
        if (echo !== undefined) {
          try {
            echoFull = !echo.write(chunk);
          } catch {
            echo = undefined;
          }
        }
        pipeline.decoder.write(chunk);
        if (!pipeline.writable || echoFull) {
          stream.pause();
          const waits: Promise<unknown>[] = [pipeline.waitWritable()];
          const target = echo;
          if (echoFull && target !== undefined) {
            waits.push(
              new Promise<void>((r) => {
                const done = (): void => {
                  target.off('drain', done);
                  target.off('error', done);
                  r();
                };
                target.on('drain', done);
                target.on('error', done);
              }),
            );
          }
          void Promise.all(waits).then(() => stream.resume());
        }
      });
      stream.once('close', () => echoTo?.off('error', onEchoError));
      stream.once('end', () => {
        pipeline.decoder.end();
        resolve();
      });
      stream.once('error', () => {
        pipeline.decoder.end();
        resolve();
      });
    });
  }

  private installSignalHandlers(): void {
    const signals = this.options.forwardSignals ?? ['SIGTERM', 'SIGINT', 'SIGHUP'];
    if (signals === false) return;
    for (const sig of signals) {
      const handler = (): void => {
        this.child?.kill(sig);
      };
      this.signalHandlers.set(sig, handler);
      process.on(sig, handler);
    }
  }

  private removeSignalHandlers(): void {
    for (const [sig, handler] of this.signalHandlers) process.off(sig, handler);
    this.signalHandlers.clear();
  }
}
