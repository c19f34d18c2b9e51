/**
 * @kennel/native: the Unix datagram socket Node lacks, and batched datagram reads (recvmmsg) for
 * DogStatsD over UDS and UDP, with a `node:dgram` twin for UDP where the addon is not built or is
 * switched off (`KENNEL_DISABLE_NATIVE=1`). Every source calls back once per batch with the same
 * {@link BatchCallback} signature. Also the DogStatsD tokenizer (`tokenize`, with its JavaScript
 * twin), which codecs import from `@kennel/native/tokenize` to stay clear of the socket modules,
 * and the batch context keyer shards import from `@kennel/native/context-key`.
 */
export { isNativeAccelerationEnabled, loadNative } from './load.js';
export type { NativeLoadResult } from './load.js';
export type {
  BatchCallback,
  DatagramReaderStats,
  NativeBinding,
  NativeDatagramReader,
  NativeDatagramReaderConstructor,
  NativeReaderStats,
  NativeSystemError,
  NativeThreadedDatagramReader,
  NativeThreadedDatagramReaderConstructor,
  ThreadedReaderStats,
} from './binding.js';
export type {
  DatagramSource,
  DatagramSourceOptions,
  UdpDatagramSource,
  UdpSourceOptions,
  UdsDatagramSource,
} from './source.js';
export { DEFAULT_BATCH_SIZE, DEFAULT_BUFFER_SIZE, DEFAULT_MAX_BATCHES_PER_WAKE, DEFAULT_RING_SIZE, DEFAULT_SLAB_SIZE } from './source.js';
export { openUdpDatagramSource, openNativeUdpSource } from './udp.js';
export type { OpenUdpOptions } from './udp.js';
export { openDgramUdpSource } from './fallback.js';
export {
  loadTokenizer,
  nativeTokenizer,
  nativeTokenizerKernels,
  tokenizeJs,
  TOKEN_COLON,
  TOKEN_COMMA,
  TOKEN_NEWLINE,
  TOKEN_PIPE,
  TOKENIZE_MAX_END,
} from './tokenize.js';
export type { Tokenize, TokenizerLoadResult } from './tokenize.js';
export { nativeKeyBatch } from './context-key.js';
export { trimMemory } from './memory.js';
export type { KeyBatch } from './context-key.js';
export { openUdsDatagramSource, sendUnixDatagram, AGENT_SOCKET_MODE, DEFAULT_UDS_PATH } from './uds.js';
export type { UdsSourceOptions } from './uds.js';
