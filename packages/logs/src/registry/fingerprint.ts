import { open } from 'node:fs/promises';

/**
 * File fingerprints: CRC-64 (ISO polynomial) of the first bytes or lines of a file, the agent's
 * way to tell whether the file at a path is still the one it was reading
 * (`pkg/logs/tailers/file/fingerprint.go`).
 */

/** `fingerprint_strategy` values. */
export const FingerprintStrategy = {
  LINE_CHECKSUM: 'line_checksum',
  BYTE_CHECKSUM: 'byte_checksum',
  DISABLED: 'disabled',
} as const;
export type FingerprintStrategy = (typeof FingerprintStrategy)[keyof typeof FingerprintStrategy];

/** `logs_config.fingerprint_config` / a source's `fingerprint_config`, in the registry's JSON names. */
export interface FingerprintConfig {
  readonly fingerprint_strategy: FingerprintStrategy;
  /** Lines or bytes to hash; 0 means the strategy's default (1 line, 1024 bytes). */
  readonly count: number;
  readonly count_to_skip: number;
  /** `line_checksum` only: the most bytes read looking for the lines. */
  readonly max_bytes: number;
}

/** A fingerprint and the configuration that computed it, as the registry stores them. `0n` means unknown. */
export interface Fingerprint {
  readonly value: bigint;
  readonly config: FingerprintConfig | null;
}

/** The agent's global default: fingerprinting off (`logs_config.fingerprint_config.fingerprint_strategy`). */
export const DEFAULT_FINGERPRINT_CONFIG: FingerprintConfig = Object.freeze({ fingerprint_strategy: 'disabled', count: 0, count_to_skip: 0, max_bytes: 100_000 });
const BYTES_FALLBACK: FingerprintConfig = Object.freeze({ fingerprint_strategy: 'byte_checksum', count: 1024, count_to_skip: 0, max_bytes: 0 });
const DEFAULT_LINES = 1;
const DEFAULT_BYTES = 1024;

const POLY_ISO = 0xd800000000000000n;
const MASK64 = 0xffffffffffffffffn;
const TABLE: bigint[] = (() => {
  const t: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let crc = BigInt(i);
    for (let j = 0; j < 8; j++) crc = crc & 1n ? (crc >> 1n) ^ POLY_ISO : crc >> 1n;
    t.push(crc);
  }
  return t;
})();

/** Go's `crc64.Checksum(data, crc64.MakeTable(crc64.ISO))`. */
export function crc64Iso(data: Uint8Array): bigint {
  let crc = MASK64;
  for (let i = 0; i < data.length; i++) crc = TABLE[Number((crc ^ BigInt(data[i]!)) & 0xffn)]! ^ (crc >> 8n);
  return crc ^ MASK64;
}

/** Whether `config` fingerprints at all. */
export function fingerprintingEnabled(config: FingerprintConfig | null | undefined): config is FingerprintConfig {
  return config !== null && config !== undefined && config.fingerprint_strategy !== 'disabled';
}

/**
 * Computes the fingerprint of the file at `path` with `config`; `0n` when it is disabled, the
 * file is too short, or it cannot be read (the agent's invalid fingerprint).
 */
export async function computeFingerprint(path: string, config: FingerprintConfig | null | undefined): Promise<Fingerprint> {
  const cfg = config ?? null;
  if (!fingerprintingEnabled(cfg)) return { value: 0n, config: cfg };
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return { value: 0n, config: cfg };
  }
  try {
    if (cfg.fingerprint_strategy === 'byte_checksum') return { value: await byBytes(fh, cfg), config: cfg };
    return await byLines(fh, cfg);
  } catch {
    return { value: 0n, config: cfg };
  } finally {
    await fh.close();
  }
}

type Handle = Awaited<ReturnType<typeof open>>;

async function byBytes(fh: Handle, cfg: FingerprintConfig): Promise<bigint> {
  const count = cfg.count > 0 ? cfg.count : DEFAULT_BYTES;
  const buf = Buffer.alloc(count);
  let got = 0;
  while (got < count) {
    const { bytesRead } = await fh.read(buf, got, count - got, cfg.count_to_skip + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  if (got < count) return 0n;
  return crc64Iso(buf);
}

async function byLines(fh: Handle, cfg: FingerprintConfig): Promise<Fingerprint> {
  const lines = cfg.count > 0 ? cfg.count : DEFAULT_LINES;
  const maxBytes = cfg.max_bytes > 0 ? cfg.max_bytes : 100_000;
  const buf = Buffer.alloc(maxBytes);
  let got = 0;
  while (got < maxBytes) {
    const { bytesRead } = await fh.read(buf, got, maxBytes - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  const data = buf.subarray(0, got);
  // bufio.Scanner with ScanLines: tokens end at \n (a trailing \r is dropped); a final line without
  // \n is a token only at the end of the data read.
  const parts: Buffer[] = [];
  let pos = 0;
  let index = 0;
  while (index < cfg.count_to_skip + lines) {
    if (pos >= data.length) {
      if (got === maxBytes) {
        // Out of bytes before the lines: the agent falls back to the byte checksum.
        return { value: await byBytes(fh, BYTES_FALLBACK), config: BYTES_FALLBACK };
      }
      return { value: 0n, config: cfg };
    }
    const nl = data.indexOf(0x0a, pos);
    let end: number;
    let next: number;
    if (nl < 0) {
      if (got === maxBytes) return { value: await byBytes(fh, BYTES_FALLBACK), config: BYTES_FALLBACK };
      end = data.length;
      next = data.length;
    } else {
      end = nl;
      next = nl + 1;
    }
    if (end > pos && data[end - 1] === 0x0d) end--;
    if (index >= cfg.count_to_skip) parts.push(data.subarray(pos, end));
    pos = next;
    index++;
  }
  return { value: crc64Iso(Buffer.concat(parts)), config: cfg };
}

/**
 * Validates a `fingerprint_config` mapping.
 * @throws Error naming the field; the caller wraps it with the configuration key.
 */
export function resolveFingerprintConfig(raw: unknown, base: FingerprintConfig = DEFAULT_FINGERPRINT_CONFIG): FingerprintConfig {
  if (raw === undefined || raw === null) return base;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error('fingerprint_config must be a mapping');
  const r = raw as Record<string, unknown>;
  const strategy = r['fingerprint_strategy'] ?? base.fingerprint_strategy;
  if (strategy !== 'line_checksum' && strategy !== 'byte_checksum' && strategy !== 'disabled') throw new Error(`invalid fingerprint strategy: ${String(strategy)}`);
  const num = (k: string, d: number): number => {
    const v = r[k] ?? d;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`fingerprint_config.${k} must be a non-negative integer`);
    return v;
  };
  return Object.freeze({ fingerprint_strategy: strategy, count: num('count', base.count), count_to_skip: num('count_to_skip', base.count_to_skip), max_bytes: num('max_bytes', base.max_bytes) });
}
