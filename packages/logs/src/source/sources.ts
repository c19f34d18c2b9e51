import type { Registry } from '../registry/registry.js';
import type { LogsContext } from './context.js';
import type { FileSourceConfig, LogsSourceConfig, NetworkSourceConfig } from './config.js';
import { FileSource, type FileSourceOptions } from './file.js';
import { TcpSource, UdpSource, type UdpSourceOptions } from './network.js';

/** Options of {@link LogsSources}. */
export interface LogsSourcesOptions {
  readonly registry: Registry;
  /** Options of the file source (all `type: file` entries share one, and its `open_files_limit`). */
  readonly file?: Omit<FileSourceOptions, 'registry'>;
  /** Options of the TCP and UDP listeners. */
  readonly network?: UdpSourceOptions;
}

/**
 * Every source of a set of `logs:` entries, started and stopped together: one {@link FileSource}
 * for the `type: file` entries, one listener per `type: tcp` / `type: udp` entry.
 *
 * @remarks
 * `stop()` stops every source (what they decoded is pushed); close the channel after it, then
 * let the sender drain and stop the registry.
 */
export class LogsSources {
  readonly file: FileSource | undefined;
  readonly tcp: readonly TcpSource[];
  readonly udp: readonly UdpSource[];

  constructor(ctx: LogsContext, configs: readonly LogsSourceConfig[], options: LogsSourcesOptions) {
    const files = configs.filter((c): c is FileSourceConfig => c.type === 'file');
    this.file = files.length > 0 ? new FileSource(ctx, files, { ...options.file, registry: options.registry }) : undefined;
    const net = configs.filter((c): c is NetworkSourceConfig => c.type === 'tcp' || c.type === 'udp');
    this.tcp = net.filter((c) => c.type === 'tcp').map((c) => new TcpSource(ctx, c, options.network));
    this.udp = net.filter((c) => c.type === 'udp').map((c) => new UdpSource(ctx, c, options.network));
  }

  /**
   * Starts every source; when one cannot start, the ones already started are stopped again.
   * @throws KennelError `ERR_LISTEN_FAILED` naming the address of a listener that could not bind.
   */
  async start(): Promise<void> {
    const started: Array<{ stop(): Promise<void> }> = [];
    try {
      for (const s of [...this.tcp, ...this.udp]) {
        await s.start();
        started.push(s);
      }
      if (this.file !== undefined) await this.file.start();
    } catch (e) {
      await Promise.all(started.map((s) => s.stop()));
      throw e;
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.tcp, ...this.udp, ...(this.file !== undefined ? [this.file] : [])].map((s) => s.stop()));
  }
}
