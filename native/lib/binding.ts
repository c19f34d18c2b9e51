/**
 * The shape of `build/Release/kennel_native.node`, the compiled `src/addon.cc`. Callers normally
 * use {@link openUdsDatagramSource} and {@link openUdpDatagramSource}; this is for the lead's own
 * sources and for tests.
 */

/**
 * Called once per batch of datagrams. Datagram `i` is `buf[spans[2i], spans[2i] + spans[2i+1])`.
 * `buf` and `spans` are reused by the next batch: they are valid only during the call, so copy
 * what must outlive it.
 *
 * @param count datagrams in this batch (0 when the call only reports read errors)
 * @param truncated how many of them were longer than `bufferSize` and were cut to it, as the
 *   agent's fixed read buffer cuts them
 * @param readErrors socket read errors since the previous call (the agent's `PacketReadingErrors`)
 */
export type BatchCallback = (
  buf: Buffer,
  count: number,
  spans: Uint32Array,
  truncated: number,
  readErrors: number,
) => void;

/** Running totals of a reader since it was opened. */
export interface DatagramReaderStats {
  readonly packets: number;
  readonly bytes: number;
  readonly truncated: number;
  readonly readErrors: number;
  readonly batches: number;
  /** Threaded readers only: times the reader thread found its ring full and waited. */
  readonly ringFullWaits?: number;
  /** Threaded readers only: most slabs ever waiting for JavaScript at once. */
  readonly maxReadySlabs?: number;
}

export interface NativeReaderStats extends DatagramReaderStats {
  /** Batch callbacks that threw (each one was raised as an uncaught exception). */
  readonly callbackErrors: number;
}

/** A libuv-watched socket read with recvmmsg; it owns (and closes) its descriptor. */
export interface NativeDatagramReader {
  /** The descriptor, or -1 once closing has begun. */
  readonly fd: number;
  readonly closed: boolean;
  /** The last read error's code (`'ENOBUFS'`…), if any. */
  readonly lastError: string | undefined;
  /** Stops polling and closes the descriptor; `callback` runs once it is closed. */
  close(callback?: () => void): void;
  /**
   * No callbacks until `resume()`: the reader stops taking datagrams (the threaded reader fills
   * its ring first), so the kernel's buffer fills and a Unix socket's senders wait. For pushing
   * back when what the callbacks feed is behind.
   */
  pause(): this;
  resume(): this;
  /** Like `socket.ref()` / `socket.unref()`: whether the reader keeps the event loop alive. */
  ref(): this;
  unref(): this;
  stats(): NativeReaderStats;
}

export interface NativeDatagramReaderConstructor {
  new (
    fd: number,
    bufferSize: number,
    batchSize: number,
    maxBatchesPerWake: number,
    onBatch: BatchCallback,
  ): NativeDatagramReader;
}

/** What a threaded reader adds to {@link NativeReaderStats}. */
export interface ThreadedReaderStats extends NativeReaderStats {
  /** Times the reader thread found every slab taken and waited (the kernel buffer filled meanwhile). */
  readonly ringFullWaits: number;
  /** Most slabs ever filled and waiting for JavaScript at once. */
  readonly maxReadySlabs: number;
  /** Slabs filled and waiting for JavaScript now. */
  readonly readySlabs: number;
  /** Datagrams the thread has read from the socket, delivered or still in the ring (`packets` counts delivered ones). */
  readonly readPackets: number;
  /** Times `pause()` took effect. */
  readonly pauses: number;
  /** Slabs JavaScript detached (transferred) during a callback, replaced by new ones. */
  readonly replacedSlabs: number;
}

/**
 * A socket read on its own thread (`src/threaded_reader.h`): recvmmsg into a ring of `slabCount`
 * slabs of `slabSize` bytes, datagrams packed; one callback per slab on the event loop, so a pause
 * of the JavaScript thread fills slabs instead of the kernel's receive buffer. Same callback and
 * lifetime as {@link NativeDatagramReader}; `close()` delivers every slab already read first.
 */
export interface NativeThreadedDatagramReader extends Omit<NativeDatagramReader, 'stats'> {
  stats(): ThreadedReaderStats;
}

export interface NativeThreadedDatagramReaderConstructor {
  new (
    fd: number,
    bufferSize: number,
    batchSize: number,
    slabSize: number,
    slabCount: number,
    onBatch: BatchCallback,
  ): NativeThreadedDatagramReader;
}

/** Errors thrown by the addon look like Node's system errors. */
export interface NativeSystemError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
}

export interface NativeBinding {
  /**
   * A bound, non-blocking AF_UNIX/SOCK_DGRAM socket at `path`, close-on-exec. Removing a stale
   * file first and setting the file's mode afterwards are the caller's job ({@link openUdsDatagramSource}).
   */
  openUnixDatagram(path: string, options?: { readonly rcvbuf?: number }): number;
  /** A bound, non-blocking UDP socket; `host` must be a numeric address. Port 0 picks one. */
  openUdp(
    host: string,
    port: number,
    options?: { readonly rcvbuf?: number; readonly reusePort?: boolean },
  ): { fd: number; port: number };
  /**
   * Sends each datagram to the Unix datagram socket at `path` without blocking; returns how many
   * were sent before the receiver's queue filled (EAGAIN). For tests and tools.
   */
  sendUnixDatagram(path: string, data: Uint8Array | readonly Uint8Array[]): number;
  /** `null` when a process is receiving on the socket at `path`, else connect()'s error code. */
  probeUnixDatagram(path: string): string | null;
  /** The SO_RCVBUF the kernel granted (Linux reports twice what was asked for). */
  receiveBufferSize(fd: number): number;
  /** `malloc_trim(0)`: true when memory went back to the system; undefined without glibc. */
  trimMemory(): boolean | undefined;
  readonly DatagramReader: NativeDatagramReaderConstructor;
  readonly ThreadedDatagramReader: NativeThreadedDatagramReaderConstructor;
  /** Longest path a Unix socket address holds (107 on Linux). */
  readonly maxUnixPathLength: number;
  /** The DogStatsD tokenizer (`src/tokenize.h`); see {@link Tokenize} in `tokenize.ts`. */
  readonly tokenize: (buf: Uint8Array, start: number, end: number, out: Uint32Array) => number;
  /** The kernel `tokenize` runs: `avx2` when the CPU has AVX2, else `sse2` (x86-64), else `scalar`. */
  readonly tokenizerKernel: 'avx2' | 'sse2' | 'scalar';
  /** `tokenize` with each kernel this CPU runs, for tests and benchmarks. */
  readonly tokenizeKernels: {
    readonly scalar: (buf: Uint8Array, start: number, end: number, out: Uint32Array) => number;
    readonly sse2?: (buf: Uint8Array, start: number, end: number, out: Uint32Array) => number;
    readonly avx2?: (buf: Uint8Array, start: number, end: number, out: Uint32Array) => number;
  };
  /** Context keys of a batch of samples (`src/context_key.h`); see {@link KeyBatch} in `context-key.ts`. */
  readonly keyBatch: (bytes: Uint8Array, ints: Uint32Array, count: number, layout: Uint32Array) => number;
}
