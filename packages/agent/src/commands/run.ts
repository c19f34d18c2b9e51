import { DogStatsDCodec } from '@kennel/dogstatsd';
import type { DogStatsDVisitor } from '@kennel/dogstatsd';
import { UdpSource } from '@kennel/dogstatsd/source';
import type { Env } from '../config/env.js';
import { resolveDogStatsDConfig } from '../config/env.js';
import { loadConfig } from '../config/load.js';

export interface RunIo {
  log(s: string): void;
}

/** Counts what the codec yields; the aggregator replaces it in the next stage of the pipeline. */
class CountingSink implements DogStatsDVisitor {
  onMetric(): void {}
  onEvent(): void {}
  onServiceCheck(): void {}
  onError(): void {}
}

export interface RunningAgent {
  /** The UDP address bound, or null when UDP is off (`DD_DOGSTATSD_PORT=0`). */
  readonly udpAddress: { address: string; port: number } | null;
  /** The agent's status counters, by section, with the agent's key names. */
  stats(): { dogstatsdStats: Record<string, number> };
  stop(): Promise<void>;
}

/**
 * Starts the agent. For now it listens for DogStatsD on UDP and decodes and counts every
 * message; aggregation and forwarding come with the aggregator and forwarder packages.
 */
export async function startAgent(env: Env, io: RunIo, configFile?: string): Promise<RunningAgent> {
  const cfg = resolveDogStatsDConfig(loadConfig(env, configFile));
  const codec = new DogStatsDCodec({
    noAggregationPipeline: cfg.noAggregationPipeline,
    originDetectionClient: cfg.originDetectionClient,
  });
  const sink = new CountingSink();
  const eolUdp = cfg.eolRequired.includes('udp');
  let udp: UdpSource | null = null;
  let udpAddress: RunningAgent['udpAddress'] = null;
  if (cfg.port > 0) {
    udp = new UdpSource({
      host: cfg.nonLocalTraffic ? '0.0.0.0' : '127.0.0.1',
      port: cfg.port,
      bufferSize: cfg.bufferSize,
      receiveBufferSize: cfg.soRcvbuf,
      onPacket: (buf, start, end) => codec.decode(buf, start, end, sink, eolUdp),
    });
    const a = await udp.start();
    udpAddress = { address: a.address, port: a.port };
    io.log(`kennel: DogStatsD listening on udp ${a.address}:${a.port}`);
  } else {
    io.log('kennel: DogStatsD UDP is off (DD_DOGSTATSD_PORT=0)');
  }
  if (!env.DD_API_KEY) {
    io.log('kennel: no DD_API_KEY: local mode (nothing leaves this machine)');
  }
  return {
    udpAddress,
    stats() {
      const d = codec.counters.snapshot() as Record<string, number>;
      if (udp) {
        const u = udp.counters.snapshot();
        d.UdpPackets = u.Packets;
        d.UdpBytes = u.Bytes;
        d.UdpPacketReadingErrors = u.PacketReadingErrors;
      }
      return { dogstatsdStats: d };
    },
    async stop() {
      if (udp) await udp.stop();
    },
  };
}

/** `kennel run`: starts, then on SIGTERM or SIGINT stops and prints the final counters. */
export async function runCommand(env: Env, io: RunIo, configFile?: string): Promise<number> {
  const agent = await startAgent(env, io, configFile);
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
  await agent.stop();
  io.log(`kennel: stopped; ${JSON.stringify(agent.stats())}`);
  return 0;
}
