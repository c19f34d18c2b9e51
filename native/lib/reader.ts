import type { NativeBinding, NativeDatagramReader, NativeThreadedDatagramReader } from './binding.js';
import type { DatagramSource } from './source.js';
import type { ResolvedOptions } from './source.js';

/** The parts of a native source shared by UDP and UDS: a reader over an already bound `fd`. */
export function nativeReaderSource(
  binding: NativeBinding,
  fd: number,
  o: ResolvedOptions,
  afterClose: () => void = () => {},
): Pick<DatagramSource, 'readerThread' | 'stats' | 'receiveBufferSize' | 'pause' | 'resume' | 'ref' | 'unref' | 'close'> {
  const { bufferSize, batchSize, maxBatchesPerWake, onBatch } = o;
  let reader: NativeDatagramReader | NativeThreadedDatagramReader;
  let stats: DatagramSource['stats'];
  if (o.readerThread) {
    const threaded = new binding.ThreadedDatagramReader(fd, bufferSize, batchSize, o.slabSize, o.slabCount, onBatch);
    reader = threaded;
    stats = () => {
      const { packets, bytes, truncated, readErrors, batches, ringFullWaits, maxReadySlabs } = threaded.stats();
      return { packets, bytes, truncated, readErrors, batches, ringFullWaits, maxReadySlabs };
    };
  } else {
    const polled = new binding.DatagramReader(fd, bufferSize, batchSize, maxBatchesPerWake, onBatch);
    reader = polled;
    stats = () => {
      const { packets, bytes, truncated, readErrors, batches } = polled.stats();
      return { packets, bytes, truncated, readErrors, batches };
    };
  }
  let closing: Promise<void> | null = null;
  return {
    readerThread: o.readerThread,
    stats,
    receiveBufferSize: () => (reader.closed ? 0 : binding.receiveBufferSize(reader.fd)),
    pause: () => void reader.pause(),
    resume: () => void reader.resume(),
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
