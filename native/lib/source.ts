import type { BatchCallback, DatagramReaderStats } from './binding.js';

/** What every DogStatsD datagram source returns, native or `node:dgram`. */
export interface DatagramSource {
  readonly transport: 'udp' | 'uds';
  /** `'native'`: the addon reads with recvmmsg; `'dgram'`: `node:dgram`, one datagram per batch. */
  readonly implementation: 'native' | 'dgram';
  /** Running totals: `packets`, `bytes`, `truncated`, `readErrors`, `batches`. */
  stats(): DatagramReaderStats;
  /** The kernel receive buffer granted (Linux reports twice the SO_RCVBUF asked for). */
  receiveBufferSize(): number;
  /** Whether the source keeps the event loop alive (it does by default). */
  ref(): void;
  unref(): void;
  /** Stops reading and closes the socket; resolves once the descriptor is closed. Idempotent. */
  close(): Promise<void>;
}

export interface UdpDatagramSource extends DatagramSource {
  readonly transport: 'udp';
  /** The bound address and port (useful with port 0). */
  readonly address: string;
  readonly port: number;
}

export interface UdsDatagramSource extends DatagramSource {
  readonly transport: 'uds';
  readonly implementation: 'native';
  readonly path: string;
}

/** Options every source shares, with the agent's configuration names in the docs. */
export interface DatagramSourceOptions {
  /**
   * Bytes kept per datagram; the rest of a longer one is lost, as with the agent's fixed read
   * buffer, and counted in `truncated`.
   * @defaultValue 8192 (`dogstatsd_buffer_size`, `DD_DOGSTATSD_BUFFER_SIZE`)
   */
  readonly bufferSize?: number;
  /**
   * Kernel receive buffer (SO_RCVBUF) to ask for; 0 keeps the OS default.
   * @defaultValue 0 (`dogstatsd_so_rcvbuf`, `DD_DOGSTATSD_SO_RCVBUF`)
   */
  readonly rcvbuf?: number;
  /**
   * Datagrams read per recvmmsg call, and so at most per callback (native only). The buffer
   * holds `batchSize * bufferSize` bytes.
   * @defaultValue 32 (the agent's `dogstatsd_packet_buffer_size`)
   */
  readonly batchSize?: number;
  /**
   * Batches read per wake-up before yielding to the event loop (native only).
   * @defaultValue 16
   */
  readonly maxBatchesPerWake?: number;
  readonly onBatch: BatchCallback;
}

export const DEFAULT_BUFFER_SIZE = 8192;
export const DEFAULT_BATCH_SIZE = 32;
export const DEFAULT_MAX_BATCHES_PER_WAKE = 16;
/** Bounds the addon enforces; checked here first for a clearer message. */
export const MAX_BUFFER_SIZE = 16 * 1024 * 1024;
export const MAX_BATCH_SIZE = 1024;

export interface ResolvedOptions {
  readonly bufferSize: number;
  readonly rcvbuf: number;
  readonly batchSize: number;
  readonly maxBatchesPerWake: number;
  readonly onBatch: BatchCallback;
}

function integer(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

export function resolveOptions(o: DatagramSourceOptions): ResolvedOptions {
  if (typeof o.onBatch !== 'function') throw new TypeError('onBatch must be a function');
  const bufferSize = integer('bufferSize', o.bufferSize ?? DEFAULT_BUFFER_SIZE, 1, MAX_BUFFER_SIZE);
  const batchSize = integer('batchSize', o.batchSize ?? DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE);
  if (bufferSize * batchSize > 4 * MAX_BUFFER_SIZE) {
    throw new RangeError(`bufferSize * batchSize must be at most ${4 * MAX_BUFFER_SIZE} bytes`);
  }
  return {
    bufferSize,
    batchSize,
    rcvbuf: integer('rcvbuf', o.rcvbuf ?? 0, 0, 0x7fffffff),
    maxBatchesPerWake: integer('maxBatchesPerWake', o.maxBatchesPerWake ?? DEFAULT_MAX_BATCHES_PER_WAKE, 1, 1 << 20),
    onBatch: o.onBatch,
  };
}

/** An `Error` whose message starts with what failed and whose `code` and `cause` say why. */
export function sourceError(message: string, code: string, cause?: unknown): Error & { code: string } {
  const err = new Error(message, cause === undefined ? undefined : { cause }) as Error & { code: string };
  err.code = code;
  return err;
}

/** `code` of an errno-style error, or 'UNKNOWN'. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Options of a UDP source, native or `node:dgram`. */
export interface UdpSourceOptions extends DatagramSourceOptions {
  /**
   * Address to bind: a name or an IPv4/IPv6 address. The agent binds loopback unless
   * `dogstatsd_non_local_traffic` is true (then `0.0.0.0`).
   * @defaultValue '127.0.0.1'
   */
  readonly host?: string;
  /** @defaultValue 8125 (`dogstatsd_port`); 0 picks a free port */
  readonly port?: number;
  /** SO_REUSEPORT, so several sockets (one per worker, say) share the port. Native only. */
  readonly reusePort?: boolean;
}
