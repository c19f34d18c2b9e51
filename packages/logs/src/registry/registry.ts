import { chmod, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ErrorCode, KennelError } from '@kennel/core';
import type { LogOrigin } from '../types.js';
import type { Fingerprint, FingerprintConfig } from './fingerprint.js';

/** The registry format version kennel writes (the agent's `registryAPIVersion`). */
export const REGISTRY_VERSION = 2;
/** The file name under `logs_config.run_path`. */
export const REGISTRY_FILENAME = 'registry.json';

/** One registry entry, in the agent's terms (`comp/logs/auditor/impl/auditor.go` `RegistryEntry`). */
export interface RegistryEntry {
  /** When the entry last changed (written as RFC 3339 UTC). */
  readonly lastUpdated: Date;
  /** The committed offset: a decimal byte offset for files. A string, as in the agent. */
  readonly offset: string;
  /** The source's `start_position` when the offset was committed (`''` when unset). */
  readonly tailingMode: string;
  /** Nanoseconds since the epoch (an int64 in the file). */
  readonly ingestionTimestamp: bigint;
  readonly fingerprint: Fingerprint;
}

/** Options of a {@link Registry}. */
export interface RegistryOptions {
  /** `logs_config.run_path`: the directory of `registry.json`. */
  readonly runPath: string;
  /** `logs_config.auditor_ttl` in hours: entries of files no longer tailed are dropped after this long. @defaultValue `23` */
  readonly ttlHours?: number;
  /** `logs_config.atomic_registry_write`: write a temporary file, then rename it. @defaultValue `true` */
  readonly atomicWrite?: boolean;
  /** How often changes are written, in milliseconds (the agent's flush period). @defaultValue `1000` */
  readonly flushIntervalMs?: number;
  /** How often expired entries are dropped, in milliseconds. @defaultValue `300000` */
  readonly cleanupIntervalMs?: number;
  /** Clock, for tests. @defaultValue `Date.now` */
  readonly now?: () => number;
}

/** What a tailer registers for one file generation. */
export interface RegistryTrackOptions {
  readonly tailingMode: string;
  readonly fingerprint: Fingerprint;
}

interface Generation {
  readonly identifier: string;
  readonly generation: number;
  readonly tailingMode: string;
  readonly fingerprint: Fingerprint;
  lastAcked: number | undefined;
}

interface IdentifierState {
  nextGeneration: number;
  /** The generation the stored entry reflects; acks of older ones are late and ignored. */
  applied: number;
  pending: { from: string; afterOffset: number; to: string } | undefined;
  live: Set<string>;
}

/**
 * The offsets of tailed files (the agent's auditor): `registry.json` under `logs_config.run_path`,
 * in the agent's format, so kennel and the agent can take over from each other.
 *
 * @remarks
 * Sources read their start offset from it; only the sender moves it: `ack(origin)` (or
 * `ack(sourceId, offset)`), called once the intake accepted a message, in send order. A restart
 * therefore resumes just after the last line the intake has, with no line lost and none sent twice
 * (apart from a crash between the intake's answer and the next write, which replays: the
 * agent's at-least-once). Changes are written every `flushIntervalMs` and on `stop()`, only
 * when an ack changed something.
 *
 * File format: `{"Version":2,"Registry":{"file:/var/log/app.log":{"LastUpdated":"2025-01-02T03:04:05.678Z","Offset":"1234","TailingMode":"end","IngestionTimestamp":1735787045678000000,"Fingerprint":{"Value":0,"Config":null}}}}`.
 * Versions 0, 1 and 2 are read, as the agent reads them.
 *
 * Rotation: each file generation a tailer reads gets its own source id (the identifier for the
 * first, `identifier#N` after rotations). Once every message of the old file the tailer pushed is
 * acked, the entry moves to the new file at offset 0, so a restart right after a rotation reads
 * the new file from its start rather than at the old file's offset.
 */
export class Registry {
  readonly path: string;
  readonly runPath: string;
  /** Why the file on disk could not be used at start (it was then ignored), or `''`. */
  readonly recoveryError: string;
  private readonly entries = new Map<string, RegistryEntry>();
  private readonly generations = new Map<string, Generation>();
  private readonly ids = new Map<string, IdentifierState>();
  private readonly tailed = new Set<string>();
  private readonly ttlMs: number;
  private readonly atomic: boolean;
  private readonly flushIntervalMs: number;
  private readonly cleanupIntervalMs: number;
  private readonly now: () => number;
  private dirty = false;
  private flushTimer: NodeJS.Timeout | undefined = undefined;
  private cleanupTimer: NodeJS.Timeout | undefined = undefined;
  private writing: Promise<void> = Promise.resolve();

  private constructor(options: RegistryOptions, recovered: Map<string, RegistryEntry>, recoveryError: string) {
    this.runPath = options.runPath;
    this.path = join(options.runPath, REGISTRY_FILENAME);
    this.ttlMs = (options.ttlHours ?? 23) * 3_600_000;
    this.atomic = options.atomicWrite ?? true;
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.cleanupIntervalMs = options.cleanupIntervalMs ?? 300_000;
    this.now = options.now ?? Date.now;
    this.recoveryError = recoveryError;
    for (const [k, v] of recovered) this.entries.set(k, v);
  }

  /**
   * Reads `registry.json` (a missing or unreadable one gives an empty registry, as in the agent)
   * and returns a registry that is not writing yet: call `start()`.
   */
  static async open(options: RegistryOptions): Promise<Registry> {
    if (typeof options.runPath !== 'string' || options.runPath === '') {
      throw new KennelError(ErrorCode.CONFIG_INVALID, 'logs_config.run_path must be a directory path');
    }
    const path = join(options.runPath, REGISTRY_FILENAME);
    let text: string | undefined;
    let error = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') error = `cannot read ${path}: ${(e as Error).message}`;
    }
    let recovered = new Map<string, RegistryEntry>();
    if (text !== undefined) {
      try {
        recovered = parseRegistry(text);
      } catch (e) {
        error = `cannot use ${path}: ${(e as Error).message}`;
      }
    }
    return new Registry(options, recovered, error);
  }

  /** Starts the periodic writes and cleanups. */
  start(): void {
    if (this.flushTimer !== undefined) return;
    this.flushTimer = setInterval(() => void this.flush().catch(() => {}), this.flushIntervalMs);
    this.flushTimer.unref();
    this.cleanupTimer = setInterval(() => this.cleanup(), this.cleanupIntervalMs);
    this.cleanupTimer.unref();
  }

  /** Stops the timers, drops expired entries and writes once more. Call it after the sender drained. */
  async stop(): Promise<void> {
    if (this.flushTimer !== undefined) clearInterval(this.flushTimer);
    if (this.cleanupTimer !== undefined) clearInterval(this.cleanupTimer);
    this.flushTimer = undefined;
    this.cleanupTimer = undefined;
    this.cleanup();
    await this.flush();
  }

  /** The committed offset of `identifier`, or `''`. */
  getOffset(identifier: string): string {
    return this.entries.get(identifier)?.offset ?? '';
  }

  getTailingMode(identifier: string): string {
    return this.entries.get(identifier)?.tailingMode ?? '';
  }

  getFingerprint(identifier: string): Fingerprint | undefined {
    return this.entries.get(identifier)?.fingerprint;
  }

  get(identifier: string): RegistryEntry | undefined {
    return this.entries.get(identifier);
  }

  /** Every identifier with an entry, sorted. */
  identifiers(): string[] {
    return [...this.entries.keys()].sort();
  }

  /**
   * A tailer starts reading `identifier`: returns the source id its messages carry. The entry is
   * kept past its TTL while tailed.
   */
  register(identifier: string, options: RegistryTrackOptions): string {
    let st = this.ids.get(identifier);
    if (st === undefined) {
      st = { nextGeneration: 0, applied: 0, pending: undefined, live: new Set() };
      this.ids.set(identifier, st);
    }
    const gen = st.nextGeneration++;
    const sourceId = gen === 0 ? identifier : this.freeSourceId(identifier, gen);
    this.generations.set(sourceId, { identifier, generation: gen, tailingMode: options.tailingMode, fingerprint: options.fingerprint, lastAcked: undefined });
    st.live.add(sourceId);
    this.setTailed(identifier, true);
    return sourceId;
  }

  /**
   * The file behind `previousSourceId` was rotated (renamed, recreated or truncated): the tailer
   * reads the new file from its start under the returned source id. `lastPushedOffset` is the
   * offset of the last tracked message of the old file the tailer pushed (`undefined` if none).
   */
  rotate(previousSourceId: string, lastPushedOffset: number | undefined, next: RegistryTrackOptions): string {
    const prev = this.generations.get(previousSourceId);
    if (prev === undefined) throw new KennelError(ErrorCode.INVALID_ARGUMENT, `rotate: unknown source id ${previousSourceId}`);
    const sourceId = this.register(prev.identifier, next);
    const st = this.ids.get(prev.identifier)!;
    const done = lastPushedOffset === undefined || (prev.lastAcked !== undefined && prev.lastAcked >= lastPushedOffset);
    if (done) {
      this.switchTo(st, sourceId);
    } else {
      st.pending = { from: previousSourceId, afterOffset: lastPushedOffset, to: sourceId };
    }
    return sourceId;
  }

  /** The tailer of `sourceId` stopped. */
  unregister(sourceId: string): void {
    const g = this.generations.get(sourceId);
    if (g === undefined) return;
    const st = this.ids.get(g.identifier)!;
    st.live.delete(sourceId);
    if (st.live.size === 0) this.setTailed(g.identifier, false);
  }

  /** Marks an identifier as tailed or not; entries of tailed files never expire. */
  setTailed(identifier: string, tailed: boolean): void {
    if (tailed) this.tailed.add(identifier);
    else this.tailed.delete(identifier);
    const e = this.entries.get(identifier);
    if (e !== undefined) this.entries.set(identifier, { ...e, lastUpdated: new Date(this.now()) });
  }

  /**
   * The intake accepted the message from `source` that ends at `offset`. Call it in send order.
   * Origins without an offset (sockets, pipes, drained rotated files) and unknown sources are
   * ignored. Bound to the registry, so it can be passed around as a function
   * (`ackEach(registry.ack)`).
   */
  readonly ack = (source: string | LogOrigin, offset?: number): void => {
    if (typeof source === 'string') this.ackOffset(source, offset);
    else this.ackOffset(source.sourceId, source.offset);
  };

  private ackOffset(sourceId: string, off: number | undefined): void {
    if (off === undefined) return;
    const g = this.generations.get(sourceId);
    if (g === undefined) return;
    const st = this.ids.get(g.identifier)!;
    if (g.generation < st.applied) return;
    g.lastAcked = off;
    st.applied = g.generation;
    const p = st.pending;
    if (p !== undefined && p.to === sourceId) st.pending = undefined;
    this.write(g.identifier, String(off), g);
    if (p !== undefined && p.from === sourceId && off >= p.afterOffset) this.switchTo(st, p.to);
  }

  /** Acks every origin of `messages`, in order. */
  ackAll(messages: Iterable<{ readonly origin: LogOrigin }>): void {
    for (const m of messages) this.ack(m.origin);
  }

  /** Drops entries older than the TTL whose files are no longer tailed. */
  cleanup(): void {
    const expireBefore = this.now() - this.ttlMs;
    for (const [id, e] of this.entries) {
      if (e.lastUpdated.getTime() < expireBefore && !this.tailed.has(id)) {
        this.entries.delete(id);
        this.dirty = true;
      }
    }
  }

  /** Writes the registry now if an ack changed it since the last write. */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      try {
        await this.writeFile(serializeRegistry(this.entries));
      } catch (e) {
        this.dirty = true;
        throw e;
      }
    });
    return this.writing;
  }

  private switchTo(st: IdentifierState, toSourceId: string): void {
    const to = this.generations.get(toSourceId)!;
    st.pending = undefined;
    st.applied = to.generation;
    this.write(to.identifier, '0', to);
  }

  private write(identifier: string, offset: string, g: Generation): void {
    const now = this.now();
    this.entries.set(identifier, {
      lastUpdated: new Date(now),
      offset,
      tailingMode: g.tailingMode,
      ingestionTimestamp: BigInt(now) * 1_000_000n,
      fingerprint: g.fingerprint,
    });
    this.dirty = true;
  }

  private freeSourceId(identifier: string, gen: number): string {
    let id = `${identifier}#${gen}`;
    while (this.generations.has(id)) id += '#';
    return id;
  }

  private async writeFile(data: string): Promise<void> {
    await mkdir(this.runPath, { recursive: true });
    if (!this.atomic) {
      await writeFile(this.path, data, { mode: 0o644 });
      return;
    }
    const tmp = join(this.runPath, `${REGISTRY_FILENAME}.tmp${randomBytes(5).readUInt32BE(0)}`);
    try {
      await writeFile(tmp, data, { mode: 0o644 });
      await chmod(tmp, 0o644);
      await rename(tmp, this.path);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
  }
}

/** Go's `time.Time` JSON form (RFC 3339 with trailing zeros of the fraction dropped). */
function goTime(d: Date): string {
  const iso = d.toISOString();
  return iso.replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac === '' ? 'Z' : `.${frac}Z`));
}

/** A JSON string as Go's `json.Marshal` writes it (HTML characters escaped). */
function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function serializeConfig(c: FingerprintConfig | null): string {
  if (c === null) return 'null';
  return `{"fingerprint_strategy":${goString(c.fingerprint_strategy)},"count":${c.count},"count_to_skip":${c.count_to_skip},"max_bytes":${c.max_bytes}}`;
}

/** The registry file contents for `entries`, byte for byte as the agent's `json.Marshal` writes them. */
export function serializeRegistry(entries: ReadonlyMap<string, RegistryEntry>): string {
  const keys = [...entries.keys()].sort();
  const parts = keys.map((k) => {
    const e = entries.get(k)!;
    return `${goString(k)}:{"LastUpdated":${goString(goTime(e.lastUpdated))},"Offset":${goString(e.offset)},"TailingMode":${goString(e.tailingMode)},"IngestionTimestamp":${e.ingestionTimestamp.toString()},"Fingerprint":{"Value":${e.fingerprint.value.toString()},"Config":${serializeConfig(e.fingerprint.config)}}}`;
  });
  return `{"Version":${REGISTRY_VERSION},"Registry":{${parts.join(',')}}}`;
}

/**
 * Reads a registry file of version 0, 1 or 2 (the agent's `unmarshalRegistry`). 64-bit numbers are
 * read exactly.
 * @throws Error when the JSON is malformed, has no version, or a version other than 0, 1, 2.
 */
export function parseRegistry(text: string): Map<string, RegistryEntry> {
  // Keep the 64-bit integers exact: quote them before JSON.parse rounds them to doubles.
  const safe = text.replace(/"(Value|IngestionTimestamp|Offset)"(\s*):(\s*)(-?\d+)(?=\s*[,}])/g, '"$1"$2:$3"$4"');
  const r = JSON.parse(safe) as unknown;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new Error('registry retrieved from disk must be a JSON object');
  const o = r as Record<string, unknown>;
  const version = o['Version'];
  if (typeof version !== 'number') throw new Error('registry retrieved from disk must have a version number');
  const reg = (o['Registry'] ?? {}) as Record<string, Record<string, unknown>>;
  if (typeof reg !== 'object' || reg === null) throw new Error('registry retrieved from disk has no Registry map');
  const out = new Map<string, RegistryEntry>();
  const time = (v: unknown): Date => {
    const d = typeof v === 'string' ? new Date(v) : new Date(0);
    return Number.isNaN(d.getTime()) ? new Date(0) : d;
  };
  const big = (v: unknown): bigint => {
    if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
    if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
    return 0n;
  };
  const posInt = (v: unknown): bigint => big(v);
  switch (Math.trunc(version)) {
    case 2:
      for (const [id, e] of Object.entries(reg)) {
        if (typeof e !== 'object' || e === null) continue;
        const fp = (e['Fingerprint'] ?? {}) as Record<string, unknown>;
        const cfg = fp['Config'];
        out.set(id, {
          lastUpdated: time(e['LastUpdated']),
          offset: typeof e['Offset'] === 'string' ? e['Offset'] : '',
          tailingMode: typeof e['TailingMode'] === 'string' ? e['TailingMode'] : '',
          ingestionTimestamp: big(e['IngestionTimestamp']),
          fingerprint: { value: BigInt.asUintN(64, big(fp['Value'])), config: parseConfig(cfg) },
        });
      }
      return out;
    case 1:
      for (const [id, e] of Object.entries(reg)) {
        const off = posInt(e['Offset']);
        const ts = e['Timestamp'];
        if (off > 0n) out.set(id, v1Entry(time(e['LastUpdated']), off.toString()));
        else if (typeof ts === 'string' && ts !== '') out.set(id, v1Entry(time(e['LastUpdated']), ts));
      }
      return out;
    case 0:
      for (const [id, e] of Object.entries(reg)) {
        const off = posInt(e['Offset']);
        // From v0 on, identifiers got the file: prefix.
        if (off > 0n) out.set(`file:${id}`, v1Entry(time(e['Timestamp']), off.toString()));
      }
      return out;
    default:
      throw new Error('invalid registry version number');
  }
}

function v1Entry(lastUpdated: Date, offset: string): RegistryEntry {
  return { lastUpdated, offset, tailingMode: '', ingestionTimestamp: 0n, fingerprint: { value: 0n, config: null } };
}

function parseConfig(v: unknown): FingerprintConfig | null {
  if (typeof v !== 'object' || v === null) return null;
  const c = v as Record<string, unknown>;
  const strategy = c['fingerprint_strategy'];
  const n = (k: string): number => {
    const x = c[k];
    return typeof x === 'number' ? x : typeof x === 'string' && /^\d+$/.test(x) ? Number(x) : 0;
  };
  return {
    fingerprint_strategy: strategy === 'line_checksum' || strategy === 'byte_checksum' ? strategy : 'disabled',
    count: n('count'),
    count_to_skip: n('count_to_skip'),
    max_bytes: n('max_bytes'),
  };
}
