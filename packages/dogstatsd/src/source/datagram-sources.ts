import { CounterSet, ErrorCode, KennelError } from '@kennel/core';
import { openUdpDatagramSource, openUdsDatagramSource } from '@kennel/native';
import type { BatchCallback, UdpDatagramSource, UdsDatagramSource } from '@kennel/native';

/** The agent's `dogstatsd-uds` expvar map (`comp/dogstatsd/listeners/uds_common.go`). */
export const UDS_COUNTERS = ['Packets', 'Bytes', 'PacketReadingErrors', 'OriginDetectionErrors'] as const;
export type UdsCounterName = (typeof UDS_COUNTERS)[number];

export type DatagramTransport = 'udp' | 'uds';

/**
 * Called once per batch of datagrams: datagram i is `buf[spans[2i], spans[2i] + spans[2i+1])`.
 * `buf` and `spans` are reused: valid only during the call.
 */
export type DatagramBatchHandler = (buf: Buffer, count: number, spans: Uint32Array, transport: DatagramTransport) => void;

export interface DogStatsDSourcesOptions {
  /** UDP listener, or null when `dogstatsd_port` is 0. */
  readonly udp: { readonly host: string; readonly port: number } | null;
  /** Unix datagram socket path, or null when `dogstatsd_socket` is empty. */
  readonly uds: string | null;
  /** `dogstatsd_buffer_size` (8192): bytes read per datagram; longer ones are cut and counted. */
  readonly bufferSize: number;
  /** `dogstatsd_so_rcvbuf` (0: the OS default). */
  readonly receiveBufferSize: number;
  /** `dogstatsd_packet_buffer_size` (32): datagrams per batch. */
  readonly batchSize: number;
  /** Read on a thread of the addon's own, into a ring (kennel's `dogstatsd_reader_thread`). @defaultValue true */
  readonly readerThread?: boolean;
  /** Bytes of each reader thread's ring (kennel's `dogstatsd_reader_ring_size`). @defaultValue 32 MiB */
  readonly ringSize?: number;
  readonly onBatch: DatagramBatchHandler;
  /** One-line warnings, such as the `node:dgram` fallback. */
  readonly warn: (line: string) => void;
}

/**
 * The DogStatsD sources: UDP (batched recvmmsg through the native addon, `node:dgram` when it
 * cannot load) and the Unix datagram socket (native only). Counters use the agent's names.
 */
export class DogStatsDSources {
  readonly udpCounters = new CounterSet<'Packets' | 'Bytes' | 'PacketReadingErrors'>('dogstatsd-udp', ['Packets', 'Bytes', 'PacketReadingErrors']);
  readonly udsCounters = new CounterSet<UdsCounterName>('dogstatsd-uds', UDS_COUNTERS);
  /** Datagrams longer than `bufferSize`, cut as the agent cuts them (kennel's counter). */
  truncated = { udp: 0, uds: 0 };
  /** Times each reader thread found its ring full, kept after `close()`. */
  private ringFullWaits = { udp: 0, uds: 0 };
  private threaded = { udp: false, uds: false };
  udp: UdpDatagramSource | null = null;
  uds: UdsDatagramSource | null = null;
  /** Which transports were opened (their counters stay in `stats()` after `close()`). */
  private opened = { udp: false, uds: false };

  private constructor() {}

  static async open(o: DogStatsDSourcesOptions): Promise<DogStatsDSources> {
    const s = new DogStatsDSources();
    const handler = (transport: DatagramTransport, counters: CounterSet<string>): BatchCallback => {
      const c = counters.values;
      return (buf, count, spans, truncated, readErrors) => {
        // The agent counts every read as a packet, errors included.
        c[0]! += count + readErrors;
        let bytes = 0;
        for (let i = 0; i < count; i++) bytes += spans[2 * i + 1]!;
        c[1]! += bytes;
        c[2]! += readErrors;
        s.truncated[transport] += truncated;
        if (count > 0) o.onBatch(buf, count, spans, transport);
      };
    };
    try {
      if (o.udp) {
        s.udp = await openUdpDatagramSource({
          host: o.udp.host,
          port: o.udp.port,
          bufferSize: o.bufferSize,
          rcvbuf: o.receiveBufferSize,
          batchSize: o.batchSize,
          readerThread: o.readerThread ?? true,
          ...(o.ringSize !== undefined ? { ringSize: o.ringSize } : {}),
          onWarning: o.warn,
          onBatch: handler('udp', s.udpCounters),
        });
        s.opened.udp = true;
        s.threaded.udp = s.udp.readerThread;
      }
      if (o.uds) {
        s.uds = await openUdsDatagramSource({
          path: o.uds,
          bufferSize: o.bufferSize,
          rcvbuf: o.receiveBufferSize,
          batchSize: o.batchSize,
          readerThread: o.readerThread ?? true,
          ...(o.ringSize !== undefined ? { ringSize: o.ringSize } : {}),
          onBatch: handler('uds', s.udsCounters),
        });
        s.opened.uds = true;
        s.threaded.uds = s.uds.readerThread;
      }
    } catch (e) {
      await s.close();
      const what = o.uds && !s.uds && s.udp ? `on the Unix socket ${o.uds}` : o.udp ? `on udp ${o.udp.host}:${o.udp.port}` : '';
      const msg = (e as Error).message;
      throw new KennelError(ErrorCode.LISTEN_FAILED, msg.startsWith('cannot listen') ? msg : `cannot listen for DogStatsD ${what}: ${msg}`, { cause: e });
    }
    return s;
  }

  /** Agent-style counters, prefixed `Udp` / `Uds` as the status's DogStatsD section merges them. */
  stats(): Record<string, number> {
    const out: Record<string, number> = {};
    if (this.opened.udp) for (const [k, v] of Object.entries(this.udpCounters.snapshot())) out[`Udp${k}`] = v;
    if (this.opened.uds) for (const [k, v] of Object.entries(this.udsCounters.snapshot())) out[`Uds${k}`] = v;
    // kennel's own: how often a reader thread found its ring full (its kernel buffer filled meanwhile).
    for (const [name, src] of [['Udp', this.udp], ['Uds', this.uds]] as const) {
      const waits = src?.stats().ringFullWaits;
      if (waits !== undefined) this.ringFullWaits[name === 'Udp' ? 'udp' : 'uds'] = waits;
    }
    if (this.threaded.udp) out['UdpReaderRingFull'] = this.ringFullWaits.udp;
    if (this.threaded.uds) out['UdsReaderRingFull'] = this.ringFullWaits.uds;
    return out;
  }

  /** Stops taking datagrams until {@link resume} (back-pressure; a no-op for `node:dgram`). */
  pause(): void {
    this.udp?.pause();
    this.uds?.pause();
  }

  resume(): void {
    this.udp?.resume();
    this.uds?.resume();
  }

  /** Stops reading; resolves once every socket is closed. */
  async close(): Promise<void> {
    const u = this.udp;
    const d = this.uds;
    this.udp = this.uds = null;
    await Promise.all([u?.close(), d?.close()]);
  }
}
