import { parseErrorByCode } from '@kennel/core';
import { DogStatsDCodec, metricViewToDecoded, toJsonValue } from '@kennel/dogstatsd';
import type { DecodedEvent, DecodedMessage, DecodedServiceCheck, DogStatsDVisitor, MetricView } from '@kennel/dogstatsd';
import type { Env } from '../config/env.js';
import { resolveDogStatsDConfig } from '../config/env.js';
import { loadConfig } from '../config/load.js';

/** Where `kennel decode` reads and writes; injectable for tests. */
export interface DecodeIo {
  readonly stdin: AsyncIterable<Uint8Array | string>;
  write(s: string): void;
  warn(s: string): void;
}

export interface DecodeOptions {
  /** Raw DogStatsD text instead of JSON lines. */
  readonly raw: boolean;
  /** Print only counts (by kind and by error reason). */
  readonly count: boolean;
  /** The transport the datagrams came over, for `dogstatsd_eol_required`. */
  readonly transport: 'udp' | 'uds';
}

/** Counts by kind, and by reason for errors, the way `--count` prints them. */
class CountingVisitor implements DogStatsDVisitor {
  metric = 0;
  event = 0;
  serviceCheck = 0;
  error = 0;
  onMetric(): void {
    this.metric++;
  }
  onEvent(): void {
    this.event++;
  }
  onServiceCheck(): void {
    this.serviceCheck++;
  }
  onError(): void {
    this.error++;
  }
}

/** Writes one JSON object per message, tagged with its input line. */
class PrintingVisitor implements DogStatsDVisitor {
  packet = 0;
  private readonly io: DecodeIo;
  constructor(io: DecodeIo) {
    this.io = io;
  }
  private print(m: DecodedMessage): void {
    this.io.write(JSON.stringify({ packet: this.packet, ...toJsonValue(m) }) + '\n');
  }
  onMetric(view: MetricView): void {
    this.print(metricViewToDecoded(view));
  }
  onEvent(event: DecodedEvent): void {
    this.print(event);
  }
  onServiceCheck(check: DecodedServiceCheck): void {
    this.print(check);
  }
  onError(code: number): void {
    const e = parseErrorByCode(code);
    this.print({ kind: 'error', reason: e.reason, counter: e.counter });
  }
}

/** Splits a byte stream into lines (without `\n`), keeping a partial last line between chunks. */
async function* lines(stdin: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  const enc = new TextEncoder();
  let carry: Uint8Array = new Uint8Array(0);
  for await (const chunk of stdin) {
    const bytes = typeof chunk === 'string' ? enc.encode(chunk) : chunk;
    let buf: Uint8Array;
    if (carry.length > 0) {
      buf = new Uint8Array(carry.length + bytes.length);
      buf.set(carry);
      buf.set(bytes, carry.length);
    } else {
      buf = bytes;
    }
    let ls = 0;
    for (let i = 0; i < buf.length; i++) {
      if (buf[i] === 0x0a) {
        yield buf.subarray(ls, i);
        ls = i + 1;
      }
    }
    carry = buf.slice(ls);
  }
  if (carry.length > 0) yield carry;
}

/**
 * `kennel decode`: DogStatsD in, one JSON object per message out, for checking what a client
 * sends and for conformance tests. Input is JSON lines, each a JSON string holding one datagram
 * (cut to `dogstatsd_buffer_size` bytes as the listener would cut it), or with `--raw`, plain
 * DogStatsD text, one message per line. Returns the exit code: 1 if an input line was not a JSON
 * string (it is reported and skipped), else 0.
 */
export async function decodeCommand(io: DecodeIo, options: DecodeOptions, env: Env, configFile?: string): Promise<number> {
  const cfg = resolveDogStatsDConfig(loadConfig(env, configFile));
  const codec = new DogStatsDCodec({
    noAggregationPipeline: cfg.noAggregationPipeline,
    originDetectionClient: cfg.originDetectionClient,
  });
  const eolRequired = cfg.eolRequired.includes(options.transport);
  const counting = new CountingVisitor();
  const printing = new PrintingVisitor(io);
  const visitor: DogStatsDVisitor = options.count ? counting : printing;
  const enc = new TextEncoder();
  let packet = 0;
  let badInput = 0;
  let truncated = 0;
  for await (let line of lines(io.stdin)) {
    const index = packet++;
    printing.packet = index;
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    if (options.raw) {
      if (line.length > 0) codec.decodeLine(line, 0, line.length, visitor);
      continue;
    }
    if (line.length === 0) continue;
    let datagram: unknown;
    try {
      datagram = JSON.parse(new TextDecoder().decode(line));
    } catch {
      datagram = undefined;
    }
    if (typeof datagram !== 'string') {
      badInput++;
      io.warn(`kennel decode: input line ${index} is not a JSON string; skipped\n`);
      continue;
    }
    let bytes = enc.encode(datagram);
    if (bytes.length > cfg.bufferSize) {
      bytes = bytes.subarray(0, cfg.bufferSize);
      truncated++;
    }
    codec.decode(bytes, 0, bytes.length, visitor, eolRequired);
  }
  if (options.count) {
    const counts = {
      messages: counting.metric + counting.event + counting.serviceCheck + counting.error,
      metric: counting.metric,
      event: counting.event,
      service_check: counting.serviceCheck,
      error: counting.error,
      errors: codec.errorsByReason(),
      counters: codec.counters.snapshot(),
      ...(options.raw ? {} : { truncatedDatagrams: truncated, invalidInputLines: badInput }),
    };
    io.write(JSON.stringify(counts) + '\n');
  }
  return badInput > 0 ? 1 : 0;
}
