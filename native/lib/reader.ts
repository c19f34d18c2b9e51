import type { NativeBinding, NativeDatagramReader } from './binding.js';
import type { DatagramSource } from './source.js';
import type { ResolvedOptions } from './source.js';

/** The parts of a native source shared by UDP and UDS: a reader over an already bound `fd`. */
export function nativeReaderSource(
  binding: NativeBinding,
  fd: number,
  o: ResolvedOptions,
  afterClose: () => void = () => {},
): Pick<DatagramSource, 'stats' | 'receiveBufferSize' | 'ref' | 'unref' | 'close'> {
  const { bufferSize, batchSize, maxBatchesPerWake, onBatch } = o;
  const reader: NativeDatagramReader = new binding.DatagramReader(fd, bufferSize, batchSize, maxBatchesPerWake, onBatch);
  let closing: Promise<void> | null = null;
  return {
    stats: () => {
      const { packets, bytes, truncated, readErrors, batches } = reader.stats();
      return { packets, bytes, truncated, readErrors, batches };
    },
    receiveBufferSize: () => (reader.closed ? 0 : binding.receiveBufferSize(reader.fd)),
    ref: () => void reader.ref(),
    unref: () => void reader.unref(),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        reader.close(() => {
          afterClose();
          resolve();
        });
      })),
  };
}
