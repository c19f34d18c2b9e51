import type { BatchCallback, DatagramReaderStats } from './binding.js';

/** What every DogStatsD datagram source returns, native or `node:dgram`. */
export interface DatagramSource {
  readonly transport: 'udp' | 'uds';
  /** `'native'`: the addon reads with recvmmsg; `'dgram'`: `node:dgram`, one datagram per batch. */
  readonly implementation: 'native' | 'dgram';
  /** Whether the addon reads on its own thread (`readerThread`); always false for `node:dgram`. */
  readonly readerThread: boolean;
  /** Running totals: `packets`, `bytes`, `truncated`, `readErrors`, `batches`. */
  stats(): DatagramReaderStats;
  /** The kernel receive buffer granted (Linux reports twice the SO_RCVBUF asked for). */
  receiveBufferSize(): number;
  /**
   * Stops taking datagrams until `resume()` (back-pressure): the kernel's buffer fills, so a Unix
   * socket's senders wait and UDP drops there, as with the agent when its aggregator is behind.
   * `node:dgram` cannot stop reading: there it is a no-op.
   */
  pause(): void;
  resume(): void;
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
  /**
   * Read on a thread of the addon's own into a ring of slabs (native only): a pause of the
   * JavaScript thread (garbage collection, a flush) then fills the ring, not the kernel buffer,
   * which over UDP drops datagrams once full. `false` reads on the event loop (libuv poll).
   * @defaultValue true
   */
  readonly readerThread?: boolean;
  /**
   * Bytes of the reader thread's ring (datagrams packed), in slabs of {@link slabSize}.
   * @defaultValue 33554432 (32 MiB: about 300 ms of DogStatsD at a million lines a second)
   */
  readonly ringSize?: number;
  /**
   * Bytes of one slab, delivered in one callback; at least `bufferSize`.
   * @defaultValue 1048576 (1 MiB), or `bufferSize` when that is larger
   */
  readonly slabSize?: number;
  readonly onBatch: BatchCallback;
}

export const DEFAULT_BUFFER_SIZE = 8192;
export const DEFAULT_BATCH_SIZE = 32;
export const DEFAULT_MAX_BATCHES_PER_WAKE = 16;
export const DEFAULT_RING_SIZE = 32 * 1024 * 1024;
export const DEFAULT_SLAB_SIZE = 1024 * 1024;
/** The addon's bounds on a threaded reader's slabs. */
export const MAX_SLAB_SIZE = 64 * 1024 * 1024;
export const MAX_SLAB_COUNT = 4096;
/** Bounds the addon enforces; checked here first for a clearer message. */
export const MAX_BUFFER_SIZE = 16 * 1024 * 1024;
export const MAX_BATCH_SIZE = 1024;

export interface ResolvedOptions {
  readonly bufferSize: number;
  readonly rcvbuf: number;
  readonly batchSize: number;
  readonly maxBatchesPerWake: number;
  readonly readerThread: boolean;
  readonly slabSize: number;
  readonly slabCount: number;
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
  const slabSize = integer('slabSize', o.slabSize ?? Math.max(DEFAULT_SLAB_SIZE, bufferSize), bufferSize, MAX_SLAB_SIZE);
  const ringSize = integer('ringSize', o.ringSize ?? DEFAULT_RING_SIZE, 2 * slabSize, MAX_SLAB_COUNT * slabSize);
  return {
    bufferSize,
    batchSize,
    readerThread: o.readerThread ?? true,
    slabSize,
    slabCount: Math.floor(ringSize / slabSize),
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
