import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { ErrorCode, KennelError } from '@kennel/core';
import { InputPipeline, type LogsContext } from './context.js';
import { tailingModeFromString, type FileSourceConfig, type TailingMode } from './config.js';
import { containsWildcard, globFiles, reverseLexicographical } from './glob.js';
import type { Registry } from '../registry/registry.js';
import { computeFingerprint, DEFAULT_FINGERPRINT_CONFIG, fingerprintingEnabled, type Fingerprint, type FingerprintConfig } from '../registry/fingerprint.js';

/** Options of a {@link FileSource}. */
export interface FileSourceOptions {
  /** The offsets: where tailers start, and what the sender acks. */
  readonly registry: Registry;
  /** `logs_config.file_scan_period` in milliseconds: how often globs are resolved again and files checked for rotation. @defaultValue `1000` */
  readonly scanPeriodMs?: number;
  /** How long a tailer at the end of its file waits before reading again, in milliseconds. @defaultValue `250` */
  readonly pollIntervalMs?: number;
  /** `logs_config.close_timeout` in milliseconds: how long a rotated-away file is still read. @defaultValue `60000` */
  readonly closeTimeoutMs?: number;
  /** `logs_config.open_files_limit`. @defaultValue `500` */
  readonly openFilesLimit?: number;
  /** `logs_config.enable_recursive_glob`: `**` matches any number of directories. @defaultValue `false` */
  readonly recursiveGlob?: boolean;
  /** `logs_config.file_wildcard_selection_mode`. @defaultValue `'by_name'` */
  readonly wildcardSelection?: 'by_name' | 'by_modification_time';
  /** `logs_config.fingerprint_config` (a source's own takes precedence). @defaultValue fingerprinting off */
  readonly fingerprint?: FingerprintConfig;
  /** Bytes per read. @defaultValue `65536` */
  readonly readBufferSize?: number;
}

/** What a tailer reports. */
export interface FileTailerInfo {
  readonly path: string;
  readonly sourceId: string;
  /** `tailing` or `draining` (rotated away, read until `close_timeout`). */
  readonly state: 'tailing' | 'draining' | 'closed';
  /** Next byte to read. */
  readonly readOffset: number;
  readonly bytesRead: number;
}

/** What a file source reports (the status page's Integrations entry). */
export interface FileSourceInfo {
  readonly path: string;
  readonly service: string;
  readonly source: string;
  /** `OK`, or `Error: <why>`. */
  readonly status: string;
  /** Messages such as "2 files tailed out of 3 files matching". */
  readonly messages: readonly string[];
  readonly inputs: readonly string[];
}

/** The agent's `handleTailingModeChange`: beginning honours a stored offset; end after beginning drops it. */
function effectiveMode(stored: string, current: TailingMode): TailingMode {
  if (current === 'forceBeginning' || current === 'forceEnd') return current;
  const prev = tailingModeFromString(stored).mode;
  if (prev !== current) return current === 'beginning' ? 'beginning' : 'forceEnd';
  return current;
}

/** One open file being read. */
class FileTailer {
  readonly path: string;
  readonly identifier: string;
  readonly pipeline: InputPipeline;
  readonly config: FileSourceConfig;
  fingerprint: Fingerprint;
  fh: FileHandle;
  dev: number;
  ino: number;
  readOffset: number;
  bytesRead = 0;
  state: 'tailing' | 'draining' | 'closed' = 'tailing';
  drainUntil = 0;
  /** Last size seen by a stat, for the lower bound of bytes lost to a truncation. */
  lastSize: number;
  private stopping = false;
  /** Bumped when the read position is reset, so a read in flight at the old position is discarded. */
  private epoch = 0;
  private wake: (() => void) | undefined = undefined;
  done: Promise<void> = Promise.resolve();
  private readonly owner: FileSource;

  constructor(owner: FileSource, config: FileSourceConfig, path: string, fh: FileHandle, st: { dev: number; ino: number; size: number }, offset: number, sourceId: string, fingerprint: Fingerprint) {
    this.owner = owner;
    this.config = config;
    this.path = path;
    this.identifier = `file:${path}`;
    this.fh = fh;
    this.dev = st.dev;
    this.ino = st.ino;
    this.lastSize = st.size;
    this.readOffset = offset;
    this.fingerprint = fingerprint;
    this.pipeline = new InputPipeline(owner.ctx, {
      rules: config.rules,
      identity: { service: config.service, source: config.source },
      tags: [`filename:${basename(path)}`, `dirname:${dirname(path)}`, ...config.tags],
      sourceId,
      offset,
      format: config.format,
      framing: 'file',
      onParseError: () => owner.stats.parseErrors++,
    });
  }

  run(): void {
    this.done = this.loop().catch(() => {
      // A read error ends this tailer; the next scan starts a new one if the file is still there.
      this.state = 'closed';
    });
  }

  private async loop(): Promise<void> {
    const o = this.owner;
    const buf = Buffer.allocUnsafe(o.readBufferSize);
    while (!this.stopping) {
      if (this.state === 'draining' && o.ctx.now() >= this.drainUntil) break;
      if (!this.pipeline.writable) {
        await Promise.race([this.pipeline.waitWritable(), this.sleepUntilWoken(o.pollIntervalMs * 4)]);
        continue;
      }
      const epoch = this.epoch;
      const { bytesRead } = await this.fh.read(buf, 0, buf.length, this.readOffset);
      if (epoch !== this.epoch) continue;
      if (bytesRead > 0) {
        this.readOffset += bytesRead;
        this.bytesRead += bytesRead;
        o.stats.bytesRead += bytesRead;
        this.pipeline.decoder.write(buf.subarray(0, bytesRead));
        continue;
      }
      // At the end of the file: was it truncated under us (copytruncate)?
      const st = await this.fh.stat();
      if (epoch !== this.epoch) continue;
      if (st.size < this.readOffset) {
        await this.restartAfterTruncation(st.size);
        continue;
      }
      this.lastSize = st.size;
      if (this.state === 'draining' && o.ctx.now() >= this.drainUntil) break;
      await this.sleepUntilWoken(o.pollIntervalMs);
    }
    await this.close();
  }

  private sleepUntilWoken(ms: number): Promise<void> {
    return new Promise((resolve) => {
      // Referenced: a running tailer keeps the process alive, as a listener would.
      const t = setTimeout(() => {
        // A sleep that lost its race with waitWritable() ends later: it must not clear the wake
        // of the sleep in progress (a stop or a truncation would then wait a whole period).
        if (this.wake === wake) this.wake = undefined;
        resolve();
      }, ms);
      const wake = (): void => {
        clearTimeout(t);
        if (this.wake === wake) this.wake = undefined;
        resolve();
      };
      this.wake = wake;
    });
  }

  /** The file shrank below what was read: read it again from the start, as a new generation. */
  async restartAfterTruncation(size: number): Promise<void> {
    const o = this.owner;
    const dropped = this.pipeline.decoder.restart();
    // Bytes written after the last read and lost to the truncation: at least what a stat had shown.
    const unread = Math.max(0, this.lastSize - this.readOffset);
    if (dropped + unread > 0) o.ctx.counters.counters.add('BytesMissed', dropped + unread);
    o.stats.truncations++;
    this.epoch++;
    this.readOffset = 0;
    this.lastSize = size;
    if (this.state === 'tailing') {
      this.fingerprint = await computeFingerprint(this.path, this.fingerprint.config);
      const sourceId = o.registry.rotate(this.pipeline.sourceId, this.pipeline.lastPushedOffset, { tailingMode: this.config.startPosition, fingerprint: this.fingerprint });
      this.pipeline.sourceId = sourceId;
      this.pipeline.offset = 0;
      this.pipeline.lastPushedOffset = undefined;
    }
    this.wake?.();
  }

  /** The path now names another file (or none): read this one until `close_timeout`, untracked. */
  startDraining(): void {
    if (this.state !== 'tailing') return;
    this.state = 'draining';
    this.drainUntil = this.owner.ctx.now() + this.owner.closeTimeoutMs;
    // The offsets of a rotated-away file mean nothing for the path any more.
    this.pipeline.offset = undefined;
  }

  /** Stops reading now; what was decoded is sent, a partial last line stays in the file. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.done;
  }

  private async close(): Promise<void> {
    if (this.state === 'closed') return;
    const o = this.owner;
    if (this.state === 'draining' && !this.stopping) {
      // close_timeout expired: what was not read of the rotated file is lost, and counted.
      try {
        const st = await this.fh.stat();
        const missed = Math.max(0, st.size - this.readOffset) + this.pipeline.decoder.pendingRawLen;
        if (missed > 0) o.ctx.counters.counters.add('BytesMissed', missed);
      } catch {
        // Nothing more to learn.
      }
    }
    this.pipeline.decoder.flush();
    this.pipeline.decoder.close();
    this.state = 'closed';
    o.registry.unregister(this.pipeline.sourceId);
    await this.fh.close().catch(() => {});
  }

  info(): FileTailerInfo {
    return { path: this.path, sourceId: this.pipeline.sourceId, state: this.state, readOffset: this.readOffset, bytesRead: this.bytesRead };
  }
}

/**
 * `type: file` sources: paths and globs, tailed with rotation (rename, delete and recreate,
 * copytruncate) and truncation detection, resumed from the registry.
 *
 * @remarks
 * The agent's file launcher and tailer (`pkg/logs/launchers/file`, `pkg/logs/tailers/file`):
 *
 * - Start position (`Position`): `forceBeginning` / `forceEnd` win; else a registry offset is used
 *   when the stored fingerprint matches the file's and the offset is not past its end (past the
 *   end means the file was rotated while kennel was down: read it from the start); else
 *   `beginning` or `end` (the default). Files that appear after the first scan are read from the
 *   beginning; a file that replaced a rotated one from offset 0.
 * - Rotation: at each scan the path is compared with the open file (another inode or device: it
 *   was renamed or deleted and recreated; with fingerprinting on, a different fingerprint too).
 *   The old file is still read for `close_timeout`, then closed; unread bytes are counted in
 *   `BytesMissed`. The new file is read from its start.
 * - Truncation: a file smaller than the offset read (copytruncate) is read again from the start.
 * - Tags: `filename:<name>`, `dirname:<dir>`, then the entry's `tags`.
 * - Backpressure: a tailer stops reading while the sink is full; nothing is dropped for a slow
 *   intake.
 */
export class FileSource {
  readonly ctx: LogsContext;
  readonly registry: Registry;
  readonly configs: readonly FileSourceConfig[];
  readonly scanPeriodMs: number;
  readonly pollIntervalMs: number;
  readonly closeTimeoutMs: number;
  readonly readBufferSize: number;
  readonly stats = { bytesRead: 0, rotations: 0, truncations: 0, parseErrors: 0 };
  private readonly openFilesLimit: number;
  private readonly recursive: boolean;
  private readonly byModTime: boolean;
  private readonly globalFingerprint: FingerprintConfig;
  private readonly tailers = new Map<string, FileTailer>();
  private readonly draining = new Set<FileTailer>();
  private readonly previous = new Map<string, FileTailer>();
  private readonly sourceInfo = new Map<FileSourceConfig, { status: string; messages: string[] }>();
  private timer: NodeJS.Timeout | undefined = undefined;
  private scanning: Promise<void> = Promise.resolve();
  private started = false;
  private stopped = false;

  constructor(ctx: LogsContext, configs: FileSourceConfig | readonly FileSourceConfig[], options: FileSourceOptions) {
    this.ctx = ctx;
    this.registry = options.registry;
    this.configs = Array.isArray(configs) ? [...(configs as readonly FileSourceConfig[])] : [configs as FileSourceConfig];
    this.scanPeriodMs = options.scanPeriodMs ?? 1000;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 60_000;
    this.openFilesLimit = options.openFilesLimit ?? 500;
    this.recursive = options.recursiveGlob ?? false;
    this.byModTime = options.wildcardSelection === 'by_modification_time';
    this.globalFingerprint = options.fingerprint ?? DEFAULT_FINGERPRINT_CONFIG;
    this.readBufferSize = options.readBufferSize ?? 65536;
    for (const c of this.configs) {
      if (c.type !== 'file') throw new KennelError(ErrorCode.INVALID_ARGUMENT, `${c.where}: FileSource takes type: file entries`);
      this.sourceInfo.set(c, { status: 'Pending', messages: [] });
    }
  }

  /** Opens the files the entries match now (with their `start_position`) and starts scanning. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.scan(true);
    const tick = (): void => {
      if (this.stopped) return;
      this.scanning = this.scan(false).finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.scanPeriodMs);
      });
    };
    this.timer = setTimeout(tick, this.scanPeriodMs);
  }

  /**
   * Stops scanning and every tailer. Decoded lines (multi-line groups, joined partial lines) are
   * sent; a partial last line stays in the file for the next run.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.scanning;
    const all = [...this.tailers.values(), ...this.draining];
    this.tailers.clear();
    this.draining.clear();
    await Promise.all(all.map((t) => t.stop()));
  }

  /** Runs one scan now (tests use it to check rotation without waiting for the period). */
  rescan(): Promise<void> {
    this.scanning = this.scanning.then(() => this.scan(false));
    return this.scanning;
  }

  tailerInfo(): FileTailerInfo[] {
    return [...this.tailers.values(), ...this.draining].map((t) => t.info());
  }

  info(): FileSourceInfo[] {
    return this.configs.map((c) => {
      const i = this.sourceInfo.get(c)!;
      return { path: c.path, service: c.service, source: c.source, status: i.status, messages: [...i.messages], inputs: [...this.tailers.values()].filter((t) => t.config === c).map((t) => t.path) };
    });
  }

  private fingerprintConfigFor(c: FileSourceConfig): FingerprintConfig {
    return c.fingerprint ?? this.globalFingerprint;
  }

  private async scan(first: boolean): Promise<void> {
    if (this.stopped) return;
    for (const t of this.draining) if (t.state === 'closed') this.draining.delete(t);
    const wanted = new Map<string, FileSourceConfig>();
    for (const c of this.configs) {
      const info = this.sourceInfo.get(c)!;
      let files: string[];
      try {
        files = await this.collect(c);
      } catch (e) {
        info.status = `Error: ${(e as Error).message}`;
        info.messages = [];
        continue;
      }
      let tracked = 0;
      for (const f of files) {
        if (wanted.has(f)) continue;
        if (wanted.size >= this.openFilesLimit) break;
        wanted.set(f, c);
        tracked++;
      }
      info.status = files.length === 0 ? `Error: could not find any file matching pattern ${c.path}, check that all its subdirectories are executable` : 'OK';
      info.messages = containsWildcard(c.path) ? [`${tracked} files tailed out of ${files.length} files matching`] : [];
    }
    // Tailed files: rotated, truncated, gone?
    for (const [path, t] of [...this.tailers]) {
      if (this.stopped) return;
      if (t.state === 'closed') {
        this.tailers.delete(path);
        continue;
      }
      if (!wanted.has(path)) {
        this.tailers.delete(path);
        this.drain(t);
        continue;
      }
      await this.checkRotation(t);
    }
    // Forget rotated-away files that are closed and no longer matched: a file that comes back
    // later starts a new entry.
    for (const [path, t] of this.previous) if (t.state === 'closed' && !wanted.has(path)) this.previous.delete(path);
    for (const [path, c] of wanted) {
      if (this.stopped) return;
      if (this.tailers.has(path)) continue;
      await this.startTailer(c, path, first ? c.tailingMode : 'beginning');
    }
  }

  private async collect(c: FileSourceConfig): Promise<string[]> {
    if (!containsWildcard(c.path)) {
      try {
        if ((await stat(c.path)).isFile()) return [c.path];
      } catch {
        // Not there (yet): the next scans look again.
      }
      return [];
    }
    let files = await globFiles(c.path, this.recursive);
    if (c.excludePaths.length > 0) {
      const excluded = new Set<string>();
      for (const e of c.excludePaths) for (const f of await globFiles(e, this.recursive)) excluded.add(f);
      files = files.filter((f) => !excluded.has(f));
    }
    if (this.byModTime) {
      const times = new Map<string, number>();
      for (const f of files) times.set(f, await stat(f).then((s) => s.mtimeMs, () => 0));
      return [...files].sort((a, b) => times.get(b)! - times.get(a)!);
    }
    return reverseLexicographical(files);
  }

  private async checkRotation(t: FileTailer): Promise<void> {
    let st;
    try {
      st = await stat(t.path);
    } catch {
      // Deleted (or moved away) and not recreated yet.
      this.tailers.delete(t.path);
      this.drain(t);
      return;
    }
    const rotated = st.ino !== t.ino || st.dev !== t.dev;
    if (!rotated && fingerprintingEnabled(t.fingerprint.config) && t.fingerprint.value !== 0n) {
      const fp = await computeFingerprint(t.path, t.fingerprint.config);
      if (fp.value !== t.fingerprint.value) {
        // Same file, other first bytes: it was truncated and written again.
        await t.restartAfterTruncation(Number(st.size));
        return;
      }
    }
    if (!rotated) return;
    this.stats.rotations++;
    this.tailers.delete(t.path);
    this.drain(t);
    await this.startTailer(t.config, t.path, 'forceBeginning', t);
  }

  private drain(t: FileTailer): void {
    t.startDraining();
    this.previous.set(t.path, t);
    if (t.state !== 'closed') this.draining.add(t);
  }

  private async startTailer(c: FileSourceConfig, path: string, requested: TailingMode, rotatedFrom?: FileTailer): Promise<void> {
    const identifier = `file:${path}`;
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch {
      return;
    }
    try {
      const st = await fh.stat();
      const size = Number(st.size);
      const fpConfig = this.fingerprintConfigFor(c);
      const fingerprint = await computeFingerprint(path, fpConfig);
      const mode = effectiveMode(this.registry.getTailingMode(identifier), requested);
      // A file that replaced a rotated one is read from its start, whether the scan saw the new
      // inode at once or first found no file at the path: the registry entry of the path still
      // holds the old file's offset here (rotate() below moves it), which means nothing for the
      // new file and skipped its first bytes once it had grown past that offset.
      const prev = rotatedFrom ?? this.previous.get(path);
      let offset: number;
      const stored = this.registry.getOffset(identifier);
      const prevFp = this.registry.getFingerprint(identifier);
      const storedMatches = stored !== '' && (prevFp === undefined ? 0n : prevFp.value) === (await computeFingerprint(path, prevFp?.config ?? null)).value;
      if (mode === 'forceBeginning' || prev !== undefined) offset = 0;
      else if (mode === 'forceEnd') offset = size;
      else if (storedMatches && /^\d+$/.test(stored)) {
        const o = Number(stored);
        // Past the end: the file was rotated or truncated while no one was reading it.
        offset = o > size ? 0 : o;
      } else if (mode === 'beginning') offset = 0;
      else offset = size;
      const meta = { tailingMode: c.startPosition, fingerprint };
      const sourceId = prev !== undefined ? this.registry.rotate(prev.pipeline.sourceId, prev.pipeline.lastPushedOffset, meta) : this.registry.register(identifier, meta);
      this.previous.delete(path);
      const t = new FileTailer(this, c, path, fh, { dev: Number(st.dev), ino: Number(st.ino), size }, offset, sourceId, fingerprint);
      this.tailers.set(path, t);
      t.run();
    } catch (e) {
      await fh.close().catch(() => {});
      throw e;
    }
  }
}
