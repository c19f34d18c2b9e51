import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { CounterSet, ErrorCode, KennelError } from '@kennel/core';

/** The agent's `dogstatsd-udp` expvar map (`comp/dogstatsd/listeners/udp.go`). */
export const UDP_COUNTERS = ['Packets', 'Bytes', 'PacketReadingErrors'] as const;
export type UdpCounterName = (typeof UDP_COUNTERS)[number];

/** Options of a {@link UdpSource}, with the agent's configuration names. */
export interface UdpSourceOptions {
  /**
   * Address to bind. The agent binds loopback unless `dogstatsd_non_local_traffic` is true.
   * @defaultValue '127.0.0.1'
   */
  readonly host?: string;
  /** @defaultValue 8125 (`dogstatsd_port`) */
  readonly port?: number;
  /**
   * Bytes read per datagram; the rest of a longer datagram is lost, as the agent's fixed read
   * buffer loses it, and counted in `truncated`.
   * @defaultValue 8192 (`dogstatsd_buffer_size`)
   */
  readonly bufferSize?: number;
  /**
   * Kernel receive buffer (SO_RCVBUF) to ask for; 0 keeps the OS default.
   * @defaultValue 0 (`dogstatsd_so_rcvbuf`)
   */
  readonly receiveBufferSize?: number;
  /** Called once per datagram with its bytes, `buf[start, end)`; valid only during the call. */
  readonly onPacket: (buf: Uint8Array, start: number, end: number) => void;
}

/**
 * A DogStatsD UDP source on `node:dgram`: one callback per datagram. The batch-reading native
 * source (recvmmsg) replaces it where the addon loads; this is the portable fallback.
 */
export class UdpSource {
  readonly counters = new CounterSet<UdpCounterName>('dogstatsd-udp', UDP_COUNTERS);
  /** Datagrams longer than `bufferSize`, cut as the agent cuts them (kennel's own counter). */
  truncated = 0;
  private readonly options: Required<UdpSourceOptions>;
  private socket: Socket | null = null;

  constructor(options: UdpSourceOptions) {
    this.options = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 8125,
      bufferSize: options.bufferSize ?? 8192,
      receiveBufferSize: options.receiveBufferSize ?? 0,
      onPacket: options.onPacket,
    };
  }

  /** Binds the socket; resolves with the bound address (useful with port 0). */
  async start(): Promise<AddressInfo> {
    const { host, port, bufferSize, receiveBufferSize, onPacket } = this.options;
    const type = host.includes(':') ? 'udp6' : 'udp4';
    const socket = createSocket({ type, reuseAddr: false });
    this.socket = socket;
    const c = this.counters.values;
    socket.on('message', (msg: Buffer) => {
      let n = msg.length;
      if (n > bufferSize) {
        n = bufferSize;
        this.truncated++;
      }
      c[0]!++;
      c[1]! += n;
      onPacket(msg, 0, n);
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        reject(
          new KennelError(ErrorCode.LISTEN_FAILED, `cannot listen for DogStatsD on udp ${host}:${port}: ${err.message}`, {
            cause: err,
          }),
        );
      };
      socket.once('error', onError);
      socket.bind(port, host, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    socket.on('error', () => {
      c[2]!++;
    });
    if (receiveBufferSize > 0) socket.setRecvBufferSize(receiveBufferSize);
    return socket.address();
  }

  /** The kernel receive buffer actually granted (Linux reports twice the requested size). */
  receiveBufferSize(): number {
    return this.socket ? this.socket.getRecvBufferSize() : 0;
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    if (!s) return;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
