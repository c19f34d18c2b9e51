import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { DatagramReaderStats } from './binding.js';
import { errorCode, errorMessage, resolveOptions, sourceError } from './source.js';
import type { UdpDatagramSource, UdpSourceOptions } from './source.js';

/** `host` as a numeric address and its family; names are looked up (once, at open). */
export async function resolveHost(host: string): Promise<{ address: string; family: 4 | 6 }> {
  const ip = isIP(host);
  if (ip === 4 || ip === 6) return { address: host, family: ip };
  const found = await lookup(host);
  return { address: found.address, family: found.family === 6 ? 6 : 4 };
}

/**
 * The JavaScript twin of the native UDP source, on `node:dgram`: the same options, the same
 * {@link BatchCallback}, one datagram per call (`count` 1, `spans` = `[0, length]`). A datagram
 * longer than `bufferSize` is cut to it and counted in `truncated`, as natively.
 */
export async function openDgramUdpSource(options: UdpSourceOptions): Promise<UdpDatagramSource> {
  const { bufferSize, rcvbuf, onBatch } = resolveOptions(options);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8125;
  const where = `udp ${host}:${port}`;
  if (options.reusePort === true) {
    throw sourceError(`cannot listen for DogStatsD on ${where}: reusePort needs kennel's native addon`, 'ENOTSUP');
  }
  let resolved: { address: string; family: 4 | 6 };
  try {
    resolved = await resolveHost(host);
  } catch (err) {
    throw sourceError(`cannot listen for DogStatsD on ${where}: cannot resolve ${host}: ${errorMessage(err)}`, errorCode(err), err);
  }
  const socket = createSocket({ type: resolved.family === 6 ? 'udp6' : 'udp4', reuseAddr: false });
  const stats = { packets: 0, bytes: 0, truncated: 0, readErrors: 0, batches: 0 };
  const spans = new Uint32Array(2);
  const empty = Buffer.alloc(0);
  socket.on('message', (msg: Buffer) => {
    let n = msg.length;
    let truncated = 0;
    if (n > bufferSize) {
      n = bufferSize;
      truncated = 1;
    }
    stats.packets++;
    stats.bytes += n;
    stats.truncated += truncated;
    stats.batches++;
    spans[0] = 0;
    spans[1] = n;
    onBatch(msg, 1, spans, truncated, 0);
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      socket.close();
      reject(sourceError(`cannot listen for DogStatsD on ${where}: ${err.message}`, errorCode(err), err));
    };
    socket.once('error', onError);
    socket.bind(port, resolved.address, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  socket.on('error', () => {
    stats.readErrors++;
    spans[0] = 0;
    spans[1] = 0;
    onBatch(empty, 0, spans, 0, 1);
  });
  if (rcvbuf > 0) {
    try {
      socket.setRecvBufferSize(rcvbuf);
    } catch (err) {
      socket.close();
      const why = `cannot set SO_RCVBUF to ${rcvbuf}: ${errorMessage(err)}`;
      throw sourceError(`cannot listen for DogStatsD on ${where}: ${why}`, errorCode(err), err);
    }
  }
  const bound = socket.address();
  let closing: Promise<void> | null = null;
  return {
    transport: 'udp',
    implementation: 'dgram',
    readerThread: false,
    address: bound.address,
    port: bound.port,
    stats: (): DatagramReaderStats => ({ ...stats }),
    receiveBufferSize: () => (closing ? 0 : socket.getRecvBufferSize()),
    // node:dgram has no way to stop reading a socket.
    pause: () => {},
    resume: () => {},
    ref: () => void socket.ref(),
    unref: () => void socket.unref(),
    close: () => (closing ??= new Promise<void>((resolve) => socket.close(() => resolve()))),
  };
}
