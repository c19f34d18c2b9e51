import type { Config } from './load.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** The DogStatsD part of the configuration (`pkg/config/setup/config.go` defaults). */
export interface DogStatsDConfig {
  /** `dogstatsd_port`: 8125; 0 turns UDP off. */
  readonly port: number;
  /** `dogstatsd_socket`: the Unix datagram socket; empty turns it off. */
  readonly socket: string;
  /** `dogstatsd_non_local_traffic`: false binds 127.0.0.1. */
  readonly nonLocalTraffic: boolean;
  /** `dogstatsd_buffer_size`: 8192 bytes read per datagram. */
  readonly bufferSize: number;
  /** `dogstatsd_so_rcvbuf`: 0 keeps the OS default. */
  readonly soRcvbuf: number;
  /** `dogstatsd_packet_buffer_size`: datagrams read per batch. */
  readonly packetBufferSize: number;
  /** `dogstatsd_no_aggregation_pipeline`: true reads `|T` timestamps. */
  readonly noAggregationPipeline: boolean;
  /** `dogstatsd_origin_detection_client`: false ignores `|c:`, `|e:`, `|card:`. */
  readonly originDetectionClient: boolean;
  /** `dogstatsd_eol_required`: transports (`udp`, `uds`, `named_pipe`) whose last line needs a newline. */
  readonly eolRequired: readonly string[];
}

export function resolveDogStatsDConfig(c: Config): DogStatsDConfig {
  return Object.freeze({
    port: c.int('dogstatsd_port'),
    socket: c.string('dogstatsd_socket'),
    nonLocalTraffic: c.bool('dogstatsd_non_local_traffic'),
    bufferSize: c.int('dogstatsd_buffer_size'),
    soRcvbuf: c.int('dogstatsd_so_rcvbuf'),
    packetBufferSize: c.int('dogstatsd_packet_buffer_size'),
    noAggregationPipeline: c.bool('dogstatsd_no_aggregation_pipeline'),
    originDetectionClient: c.bool('dogstatsd_origin_detection_client'),
    eolRequired: c.list('dogstatsd_eol_required'),
  });
}
