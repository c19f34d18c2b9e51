import { createServer, type Server, type Socket } from 'node:net';
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { ErrorCode, KennelError } from '@kennel/core';
import { InputPipeline, type LogsContext } from './context.js';
import type { NetworkSourceConfig } from './config.js';

/** Options shared by the TCP and UDP listeners. */
export interface NetworkSourceOptions {
  /**
   * Address to bind. Loopback unless configured otherwise: nothing listens beyond it by default.
   * @defaultValue `'127.0.0.1'`
   */
  readonly host?: string;
  /** `logs_config.use_sourcehost_tag`: tag each message `source_host:<peer address>`. @defaultValue `true` */
  readonly useSourceHostTag?: boolean;
}

/** Options of a {@link UdpSource}. */
export interface UdpSourceOptions extends NetworkSourceOptions {
  /** `logs_config.frame_size`: bytes read of each datagram (the agent's read buffer); the rest is dropped and counted. @defaultValue `9000` */
  readonly frameSize?: number;
  /**
   * Datagrams held while the sink is full. UDP cannot be paused: past this many, datagrams are
   * dropped and counted (the agent's socket buffer drops them the same way).
   * @defaultValue `10000`
   */
  readonly maxPendingDatagrams?: number;
}

/** Counters of a network listener. */
export interface NetworkSourceStats {
  bytesRead: number;
  connections: number;
  /** UDP: datagrams dropped because the sink stayed full past `maxPendingDatagrams`. */
  datagramsDropped: number;
  /** UDP: datagrams longer than `frameSize`, cut to it. */
  datagramsTruncated: number;
  /** TCP: connections closed for sending nothing for `idle_timeout`. */
  idleTimeouts: number;
}

function listenError(kind: string, host: string, port: number, e: unknown): KennelError {
  return new KennelError(ErrorCode.LISTEN_FAILED, `cannot listen for ${kind} logs on ${host}:${port}: ${(e as Error).message}`, { cause: e });
}

/**
 * A `type: tcp` source: one message per line of each connection (a last line without a newline
 * is sent when the peer closes). When the sink is full every connection is paused. With
 * `idle_timeout`, a connection that sends nothing for that long is closed and counted
 * (`idleTimeouts`); the time it spends paused by the sink does not count, as the agent sets its
 * read deadline only when it reads.
 */
export class TcpSource {
  readonly config: NetworkSourceConfig;
  readonly stats: NetworkSourceStats = { bytesRead: 0, connections: 0, datagramsDropped: 0, datagramsTruncated: 0, idleTimeouts: 0 };
  private readonly ctx: LogsContext;
  private readonly host: string;
  private readonly sourceHostTag: boolean;
  private server: Server | undefined = undefined;
  private readonly sockets = new Set<Socket>();
  private readonly closing: Promise<void>[] = [];

  constructor(ctx: LogsContext, config: NetworkSourceConfig, options: NetworkSourceOptions = {}) {
    this.ctx = ctx;
    this.config = config;
    this.host = options.host ?? '127.0.0.1';
    this.sourceHostTag = options.useSourceHostTag ?? true;
  }

  /** The bound port (useful with `port: 0`). */
  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a !== null ? a.port : this.config.port;
  }

  /** @throws KennelError `ERR_LISTEN_FAILED` naming the address. */
  async start(): Promise<void> {
    const server = createServer((socket) => this.onConnection(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(listenError('TCP', this.host, this.config.port, e)));
      server.listen(this.config.port, this.host, () => resolve());
    });
  }

  /** Stops accepting, closes the connections, and sends what they had decoded. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.end();
    const closed = server === undefined ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroySoon();
    await Promise.all([closed, ...this.closing]);
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    this.stats.connections++;
    const tags = [...this.config.tags];
    if (this.sourceHostTag && socket.remoteAddress !== undefined) tags.unshift(`source_host:${socket.remoteAddress}`);
    const pipeline = new InputPipeline(this.ctx, {
      rules: this.config.rules,
      identity: { service: this.config.service, source: this.config.source },
      tags,
      sourceId: `tcp:${this.port}`,
      offset: undefined,
      format: 'raw',
      framing: 'stream',
    });
    this.closing.push(
      new Promise<void>((resolve) => {
        const idle = this.config.idleTimeoutMs;
        if (idle > 0) {
          socket.setTimeout(idle, () => {
            this.stats.idleTimeouts++;
            socket.destroy();
          });
        }
        socket.on('data', (chunk: Buffer) => {
          this.stats.bytesRead += chunk.length;
          pipeline.decoder.write(chunk);
          if (!pipeline.writable) {
            socket.pause();
            if (idle > 0) socket.setTimeout(0);
            void pipeline.waitWritable().then(() => {
              if (idle > 0 && !socket.destroyed) socket.setTimeout(idle);
              socket.resume();
            });
          }
        });
        socket.once('close', () => {
          pipeline.decoder.end();
          this.sockets.delete(socket);
          resolve();
        });
        socket.on('error', () => {});
      }),
    );
  }
}

/**
 * A `type: udp` source: each datagram is one message (or one per line when it holds several, as
 * the agent's datagram framing splits them).
 */
export class UdpSource {
  readonly config: NetworkSourceConfig;
  readonly stats: NetworkSourceStats = { bytesRead: 0, connections: 0, datagramsDropped: 0, datagramsTruncated: 0, idleTimeouts: 0 };
  private readonly ctx: LogsContext;
  private readonly host: string;
  private readonly sourceHostTag: boolean;
  private readonly frameSize: number;
  private readonly maxPending: number;
  private socket: DgramSocket | undefined = undefined;
  private readonly pipelines = new Map<string, InputPipeline>();
  private readonly pending: Array<{ data: Buffer; peer: string }> = [];
  private draining = false;

  constructor(ctx: LogsContext, config: NetworkSourceConfig, options: UdpSourceOptions = {}) {
    this.ctx = ctx;
    this.config = config;
    this.host = options.host ?? '127.0.0.1';
    this.sourceHostTag = options.useSourceHostTag ?? true;
    this.frameSize = options.frameSize ?? 9000;
    this.maxPending = options.maxPendingDatagrams ?? 10_000;
  }

  get port(): number {
    try {
      return this.socket?.address().port ?? this.config.port;
    } catch {
      return this.config.port;
    }
  }

  /** @throws KennelError `ERR_LISTEN_FAILED` naming the address. */
  async start(): Promise<void> {
    const socket = createSocket(this.host.includes(':') ? 'udp6' : 'udp4');
    this.socket = socket;
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (e) => reject(listenError('UDP', this.host, this.config.port, e)));
      socket.bind(this.config.port, this.host, () => resolve());
    });
    socket.on('error', () => {});
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket !== undefined) await new Promise<void>((resolve) => socket.close(() => resolve()));
    // What was waiting for room goes out now: stopping never drops a received datagram.
    for (const p of this.pending.splice(0)) this.decode(p.data, p.peer);
  }

  private pipeline(peer: string): InputPipeline {
    const key = this.sourceHostTag ? peer : '';
    let p = this.pipelines.get(key);
    if (p === undefined) {
      const tags = this.sourceHostTag ? [`source_host:${peer}`, ...this.config.tags] : [...this.config.tags];
      p = new InputPipeline(this.ctx, {
        rules: this.config.rules,
        identity: { service: this.config.service, source: this.config.source },
        tags,
        sourceId: `udp:${this.port}`,
        offset: undefined,
        format: 'raw',
        framing: 'datagram',
      });
      // One pipeline per peer address, bounded: forget the oldest past 1024 peers.
      if (this.pipelines.size >= 1024) this.pipelines.delete(this.pipelines.keys().next().value as string);
      this.pipelines.set(key, p);
    }
    return p;
  }

  private onDatagram(msg: Buffer, peer: string): void {
    this.stats.bytesRead += msg.length;
    let data = msg;
    if (data.length > this.frameSize) {
      data = data.subarray(0, this.frameSize);
      this.stats.datagramsTruncated++;
    }
    if (this.pending.length > 0 || !this.ctx.output.isWritable) {
      if (this.pending.length >= this.maxPending) {
        this.stats.datagramsDropped++;
        return;
      }
      this.pending.push({ data: Buffer.from(data), peer });
      this.drain();
      return;
    }
    this.decode(data, peer);
  }

  private decode(data: Buffer, peer: string): void {
    this.pipeline(peer).decoder.write(data);
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    void (async () => {
      while (this.pending.length > 0) {
        await this.ctx.output.writable();
        while (this.pending.length > 0 && this.ctx.output.isWritable) {
          const p = this.pending.shift()!;
          this.decode(p.data, p.peer);
        }
      }
      this.draining = false;
    })();
  }
}
