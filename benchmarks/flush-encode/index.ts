/**
 * Flush + encode + compress time for 100,000 series: 100k counter contexts aggregated in one
 * bucket, then the shard flush, the v2 series protobuf encoder, and zstd (level 1) or zlib
 * compression into payloads within the intake's limits. Medians of several rounds.
 *
 *   node benchmarks/dist/flush-encode/index.js [contexts]
 */
import { Aggregator } from '@kennel/aggregator';
import { DogStatsDCodec } from '@kennel/dogstatsd';
import type { MetricView } from '@kennel/dogstatsd';
import { SeriesV2Encoder, encodeAll, loadCompression, resolveSerializerConfig } from '@kennel/forwarder';
import { printEnvironment } from '../_harness/env.js';

const contexts = Number(process.argv[2] ?? 100_000);
const rounds = 7;
const T = 1_700_000_000;

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

const results: Record<string, number[]> = { flush: [], encodeZstd: [], encodeZlib: [] };
let payloadsZstd = 0;
let bytesZstd = 0;
let payloadsZlib = 0;
let bytesZlib = 0;
const zstd = await loadCompression(resolveSerializerConfig({ compressorKind: 'zstd' }));
const zlib = await loadCompression(resolveSerializerConfig({ compressorKind: 'zlib' }));
for (let r = 0; r < rounds; r++) {
  const agg = new Aggregator({ threads: false, contextLimit: contexts + 10 });
  const codec = new DogStatsDCodec();
  const visitor = { onMetric: (m: MetricView) => agg.addMetric(m), onEvent() {}, onServiceCheck() {}, onError() {} };
  agg.now = T + 1;
  for (const p of packets) codec.decode(p, 0, p.length, visitor);
  const t0 = performance.now();
  const f = await agg.flush(T + 16);
  const t1 = performance.now();
  const pz = encodeAll(new SeriesV2Encoder(resolveSerializerConfig({ compressorKind: 'zstd' }), zstd), f.series);
  const t2 = performance.now();
  const pl = encodeAll(new SeriesV2Encoder(resolveSerializerConfig({ compressorKind: 'zlib' }), zlib), f.series);
  const t3 = performance.now();
  if (f.series.length !== contexts) throw new Error(`expected ${contexts} series, got ${f.series.length}`);
  results.flush!.push(t1 - t0);
  results.encodeZstd!.push(t2 - t1);
  results.encodeZlib!.push(t3 - t2);
  payloadsZstd = pz.length;
  bytesZstd = pz.reduce((a, p) => a + p.body.length, 0);
  payloadsZlib = pl.length;
  bytesZlib = pl.reduce((a, p) => a + p.body.length, 0);
  await agg.stop(T + 16);
}
const fl = median(results.flush!);
const ez = median(results.encodeZstd!);
const el = median(results.encodeZlib!);
console.log(`series      ${contexts.toLocaleString('en-US')} (one bucket, counters, 4 tags each), ${rounds} rounds, medians`);
console.log(`flush       ${fl.toFixed(1)} ms`);
console.log(`encode+zstd ${ez.toFixed(1)} ms -> ${payloadsZstd} payloads, ${(bytesZstd / 1e6).toFixed(2)} MB compressed`);
console.log(`encode+zlib ${el.toFixed(1)} ms -> ${payloadsZlib} payloads, ${(bytesZlib / 1e6).toFixed(2)} MB compressed`);
console.log(`total       ${(fl + ez).toFixed(1)} ms with zstd (${((fl + ez) / contexts * 1000).toFixed(2)} µs per series)`);
