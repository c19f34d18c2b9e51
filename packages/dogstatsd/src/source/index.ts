export { UdpSource, UDP_COUNTERS } from './udp.js';
export type { UdpSourceOptions, UdpCounterName } from './udp.js';
export { DogStatsDSources, UDS_COUNTERS } from './datagram-sources.js';
export type { DogStatsDSourcesOptions, DatagramBatchHandler, DatagramTransport, UdsCounterName } from './datagram-sources.js';
