/**
 * What a worker shard's flush of N contexts costs to get to the encoder: the shard's flush, the
 * trip to the main thread, and the v2 series encoder with zstd. Two forms, from two shards fed
 * the same samples, in the same run:
 *   objects  ShardCore.flush, Series[] posted (structured clone), encodeAll over the array (kennel before 2026-12-01 22:40)
 *   flat     ShardCore.flushWire, SeriesWire posted, encodeAll over seriesOfWire (series made one at a time)
 * The post goes through a MessageChannel in one thread: the same structured clone a worker's
 * answer takes, without the second thread's scheduling.
 *
 *   node --expose-gc benchmarks/dist/flush-worker/index.js [contexts] [rounds]
 */
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { InlineShard, Router, resolveAggregatorConfig, seriesOfWire } from '@kennel/aggregator';
import type { SeriesWire } from '@kennel/aggregator';
import type { Series } from '@kennel/core';
import { DogStatsDCodec } from '@kennel/dogstatsd';
import type { MetricView } from '@kennel/dogstatsd';
import { SeriesV2Encoder, encodeAll, loadCompression, resolveSerializerConfig } from '@kennel/forwarder';
import { printEnvironment } from '../_harness/env.js';

const contexts = Number(process.argv[2] ?? 1_000_000);
const rounds = Number(process.argv[3] ?? 3);
const T = 1_700_000_000;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const mib = (b: number) => (b / 1048576).toFixed(0);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

printEnvironment();
const enc = new TextEncoder();
const packets: Uint8Array[] = [];
let lines: string[] = [];
for (let i = 0; i < contexts; i++) {
  lines.push(`app.requests.total:${1 + (i % 7)}|c|#env:prod,service:web,endpoint:/api/v${i % 3}/items,request_id:${i}`);
  if (lines.length === 14) {
    packets.push(enc.encode(lines.join('\n')));
    lines = [];
  }
}
if (lines.length) packets.push(enc.encode(lines.join('\n')));

const serializer = resolveSerializerConfig({ compressorKind: 'zstd' });
const zstd = await loadCompression(serializer);

function filledShard(): InlineShard {
  const shard = new InlineShard(resolveAggregatorConfig({ contextLimit: contexts + 10 }));
  const router = new Router([shard], 'bench-host');
  const codec = new DogStatsDCodec();
  const visitor = { onMetric: (m: MetricView) => router.addMetric(m), onEvent() {}, onServiceCheck() {}, onError() {} };
  router.now = T + 1;
  for (const p of packets) codec.decode(p, 0, p.length, visitor);
  router.dispatchAll();
  return shard;
}

interface Run {
  flush: number;
  post: number;
  encode: number;
  heapGrowth: number;
  payloads: number;
  bytes: number;
}

function run(kind: 'objects' | 'flat'): Run {
  const shard = filledShard();
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  let peak = heap0;
  const { port1, port2 } = new MessageChannel();
  const t0 = performance.now();
  let message: unknown;
  if (kind === 'objects') message = shard.core.flush(T + 16).series;
  else message = shard.core.flushWire(T + 16).wire;
  const t1 = performance.now();
  port1.postMessage(message);
  message = null;
  const got = receiveMessageOnPort(port2)!.message as Series[] | SeriesWire;
  const t2 = performance.now();
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  const series: Iterable<Series> = kind === 'objects' ? (got as Series[]) : { [Symbol.iterator]: () => seriesOfWire(got as SeriesWire) };
  const payloads = encodeAll(new SeriesV2Encoder(serializer, zstd), series);
  const t3 = performance.now();
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  port1.close();
  let bytes = 0;
  for (const p of payloads) bytes += p.body.length;
  return { flush: t1 - t0, post: t2 - t1, encode: t3 - t2, heapGrowth: peak - heap0, payloads: payloads.length, bytes };
}

const out: Record<'objects' | 'flat', Run[]> = { objects: [], flat: [] };
for (let r = 0; r < rounds; r++) {
  for (const kind of ['flat', 'objects'] as const) {
    out[kind].push(run(kind));
    gc();
  }
}
console.log(`contexts ${contexts.toLocaleString('en-US')} (counters, 4 tags each, one bucket), ${rounds} rounds, medians`);
const totals: Record<string, number> = {};
for (const kind of ['objects', 'flat'] as const) {
  const rs = out[kind];
  const f = median(rs.map((x) => x.flush));
  const p = median(rs.map((x) => x.post));
  const e = median(rs.map((x) => x.encode));
  totals[kind] = median(rs.map((x) => x.flush + x.post + x.encode));
  console.log(
    `${kind.padEnd(8)} flush ${f.toFixed(0)} ms, post ${p.toFixed(0)} ms, encode+zstd ${e.toFixed(0)} ms, total ${totals[kind]!.toFixed(0)} ms; ` +
      `heap growth (sampled after post and after encode) ${mib(median(rs.map((x) => x.heapGrowth)))} MiB; ${rs[0]!.payloads} payloads, ${(rs[0]!.bytes / 1e6).toFixed(2)} MB`,
  );
}
console.log(`flat is ${(totals.objects! / totals.flat!).toFixed(2)}x faster than objects`);
