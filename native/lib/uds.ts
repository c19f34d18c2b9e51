import { chmodSync, closeSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadNative } from './load.js';
import { nativeReaderSource } from './reader.js';
import { errorCode, errorMessage, resolveOptions, sourceError } from './source.js';
import type { DatagramSourceOptions, UdsDatagramSource } from './source.js';

/** The agent's default `dogstatsd_socket` on Linux. */
export const DEFAULT_UDS_PATH = '/var/run/datadog/dsd.socket';

/**
 * The mode the agent gives the socket file after binding: owner rwx, group and others write only,
 * so any local process may send and none may do more (`setSocketWriteOnly`,
 * `comp/dogstatsd/listeners/uds_common.go`).
 */
export const AGENT_SOCKET_MODE = 0o722;

export interface UdsSourceOptions extends DatagramSourceOptions {
  /** @defaultValue '/var/run/datadog/dsd.socket' (`dogstatsd_socket`, `DD_DOGSTATSD_SOCKET`) */
  readonly path?: string;
  /** Mode set on the socket file after binding. @defaultValue 0o722, as the agent sets it */
  readonly mode?: number;
  /**
   * Remove the socket file on close, if it is still the one this source created. The agent leaves
   * it (the next start replaces it); removing it lets clients see ENOENT rather than ECONNREFUSED.
   * @defaultValue true
   */
  readonly unlinkOnClose?: boolean;
}

/**
 * A DogStatsD Unix datagram socket, read in recvmmsg batches. It needs the native addon (Node has
 * no Unix datagram sockets).
 *
 * Set-up, as the agent does it (`uds_datagram.go`, `uds_common.go`), except where noted:
 * 1. create the socket's directory if it is missing (the agent expects it to exist);
 * 2. if something exists at the path: a socket file is removed as stale, anything else is an error.
 *    A socket that another process is still receiving on is an error too (the agent would remove
 *    it and steal the path);
 * 3. bind, with SO_RCVBUF when `rcvbuf` > 0;
 * 4. chmod 0722, so other users' processes can write to it.
 *
 * Every error is an `Error` whose message names the path and the cause, with the errno `code`
 * (`EACCES`, `ENOENT`, `EADDRINUSE`, `ENOTSOCK`…) and the original error as `cause`.
 */
export async function openUdsDatagramSource(options: UdsSourceOptions): Promise<UdsDatagramSource> {
  const o = resolveOptions(options);
  const path = options.path ?? DEFAULT_UDS_PATH;
  const mode = options.mode ?? AGENT_SOCKET_MODE;
  const what = `cannot listen for DogStatsD on the Unix socket ${path}`;
  const { binding, reason } = loadNative();
  if (!binding) {
    const why = `the Unix datagram socket needs kennel's native addon: ${reason}`;
    throw sourceError(`${what}: ${why}`, 'ERR_KENNEL_NATIVE_UNAVAILABLE');
  }
  if (path === '') throw sourceError(`${what}: the path is empty`, 'EINVAL');
  const length = Buffer.byteLength(path);
  if (length > binding.maxUnixPathLength) {
    throw sourceError(
      `${what}: the path is ${length} bytes long and a Unix socket path holds at most ${binding.maxUnixPathLength}`,
      'ENAMETOOLONG',
    );
  }

  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw sourceError(`${what}: cannot create its directory ${dir}: ${errorMessage(err)}`, errorCode(err), err);
  }

  let existing;
  try {
    existing = statSync(path, { throwIfNoEntry: false });
  } catch (err) {
    throw sourceError(`${what}: cannot inspect the path: ${errorMessage(err)}`, errorCode(err), err);
  }
  if (existing) {
    if (!existing.isSocket()) {
      throw sourceError(
        `${what}: the path already exists and is not a Unix socket; remove it or set DD_DOGSTATSD_SOCKET to another path`,
        'ENOTSOCK',
      );
    }
    if (binding.probeUnixDatagram(path) === null) {
      throw sourceError(`${what}: another process is already receiving on it`, 'EADDRINUSE');
    }
    try {
      unlinkSync(path);
    } catch (err) {
      throw sourceError(`${what}: cannot remove the stale socket file: ${errorMessage(err)}`, errorCode(err), err);
    }
  }

  let fd: number;
  try {
    fd = binding.openUnixDatagram(path, { rcvbuf: o.rcvbuf });
  } catch (err) {
    throw sourceError(`${what}: ${errorMessage(err)}`, errorCode(err), err);
  }
  let ino: number;
  try {
    chmodSync(path, mode);
    ino = statSync(path).ino;
  } catch (err) {
    closeSync(fd);
    removeQuietly(path);
    throw sourceError(
      `${what}: cannot make it writable by other users (chmod ${mode.toString(8).padStart(4, '0')}): ${errorMessage(err)}`,
      errorCode(err),
      err,
    );
  }

  const unlinkOnClose = options.unlinkOnClose ?? true;
  let reader;
  try {
    reader = nativeReaderSource(binding, fd, o, () => {
      if (unlinkOnClose && statSync(path, { throwIfNoEntry: false })?.ino === ino) removeQuietly(path);
    });
  } catch (err) {
    closeSync(fd);
    removeQuietly(path);
    throw err;
  }
  return { transport: 'uds', implementation: 'native', path, ...reader };
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or never ours to remove
  }
}

/**
 * Sends datagrams to the Unix datagram socket at `path` without blocking; returns how many went
 * out before the receiver's queue filled. For tests and tools; throws without the addon.
 */
export function sendUnixDatagram(path: string, data: Uint8Array | readonly Uint8Array[]): number {
  const { binding, reason } = loadNative();
  if (!binding) {
    const why = `kennel's native addon is not loaded: ${reason}`;
    throw sourceError(`cannot send to the Unix socket ${path}: ${why}`, 'ERR_KENNEL_NATIVE_UNAVAILABLE');
  }
  return binding.sendUnixDatagram(path, data);
}
