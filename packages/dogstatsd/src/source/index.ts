export { UdpSource, UDP_COUNTERS } from './udp.js';
export type { UdpSourceOptions, UdpCounterName } from './udp.js';
