import { DogStatsDCodec } from '@kennel/dogstatsd';
import type { Series, SketchSeries } from '@kennel/core';
import { Aggregator } from '../src/index.js';
import type { AggregatorRuntimeOptions } from '../src/index.js';

const enc = new TextEncoder();

/** An aggregator fed by the real codec, with arrival times set by the test. */
export function harness(options: AggregatorRuntimeOptions = {}) {
  const agg = new Aggregator({ threads: false, ...options });
  const codec = new DogStatsDCodec();
  const visitor = { onMetric: (m: Parameters<Aggregator['addMetric']>[0]) => agg.addMetric(m), onEvent() {}, onServiceCheck() {}, onError() {} };
  return {
    agg,
    codec,
    send(at: number, packet: string) {
      agg.now = at;
      const b = enc.encode(packet);
      codec.decode(b, 0, b.length, visitor);
    },
  };
}

/** A series as a compact, comparable row. */
export function row(s: Series): string {
  return `${s.name}|${s.host}|${[...s.tags].join(',')}|${s.type}|${s.interval}|${s.points.map((p) => `${p.timestamp}=${p.value}`).join(';')}`;
}

export function rows(series: readonly Series[]): string[] {
  return series.map(row).sort();
}

export function sketchRow(s: SketchSeries): string {
  return `${s.name}|${s.host}|${[...s.tags].join(',')}|${s.points
    .map((p) => `${p.timestamp}:${p.count}:${p.min}:${p.max}:${p.sum}:${Array.from(p.keys).join('/')}:${Array.from(p.counts).join('/')}`)
    .join(';')}`;
}
