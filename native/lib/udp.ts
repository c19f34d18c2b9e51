import { closeSync } from 'node:fs';
import { openDgramUdpSource, resolveHost } from './fallback.js';
import { loadNative } from './load.js';
import { nativeReaderSource } from './reader.js';
import { errorCode, errorMessage, resolveOptions, sourceError } from './source.js';
import type { UdpDatagramSource, UdpSourceOptions } from './source.js';

export interface OpenUdpOptions extends UdpSourceOptions {
  /**
   * `'auto'` reads with recvmmsg where the addon loads and falls back to `node:dgram` (with one
   * warning line) where it does not; `'native'` fails without the addon; `'dgram'` never uses it.
   * @defaultValue 'auto'
   */
  readonly implementation?: 'auto' | 'native' | 'dgram';
  /** Where the fallback's one-line warning goes. @defaultValue console.warn */
  readonly onWarning?: (line: string) => void;
}

let warned = false;

/** A DogStatsD UDP source: native recvmmsg batches where possible, `node:dgram` otherwise. */
export async function openUdpDatagramSource(options: OpenUdpOptions): Promise<UdpDatagramSource> {
  const implementation = options.implementation ?? 'auto';
  if (implementation === 'dgram') return openDgramUdpSource(options);
  const { binding, reason } = loadNative();
  if (binding || implementation === 'native') return openNativeUdpSource(options);
  if (!warned) {
    warned = true;
    (options.onWarning ?? console.warn)(`kennel: native addon not used (${reason}); DogStatsD UDP falls back to node:dgram`);
  }
  return openDgramUdpSource(options);
}

/** The native UDP source: recvmmsg batches into one preallocated buffer. Throws without the addon. */
export async function openNativeUdpSource(options: UdpSourceOptions): Promise<UdpDatagramSource> {
  const o = resolveOptions(options);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8125;
  const where = `udp ${host}:${port}`;
  const { binding, reason } = loadNative();
  if (!binding) {
    const why = `the native UDP reader needs kennel's native addon: ${reason}`;
    throw sourceError(`cannot listen for DogStatsD on ${where}: ${why}`, 'ERR_KENNEL_NATIVE_UNAVAILABLE');
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  let address: string;
  try {
    address = (await resolveHost(host)).address;
  } catch (err) {
    throw sourceError(`cannot listen for DogStatsD on ${where}: cannot resolve ${host}: ${errorMessage(err)}`, errorCode(err), err);
  }
  let opened: { fd: number; port: number };
  try {
    opened = binding.openUdp(address, port, { rcvbuf: o.rcvbuf, reusePort: options.reusePort === true });
  } catch (err) {
    throw sourceError(`cannot listen for DogStatsD on ${where}: ${errorMessage(err)}`, errorCode(err), err);
  }
  let reader;
  try {
    reader = nativeReaderSource(binding, opened.fd, o);
  } catch (err) {
    closeSync(opened.fd);
    throw err;
  }
  return { transport: 'udp', implementation: 'native', address, port: opened.port, ...reader };
}
