// The agent's DDSketch variant (DogStatsD distributions).
export { AgentSketch } from './sketch/agent-sketch.js';
export { AGENT_SKETCH_CONFIG, sketchKey, sketchKeyLowerBound } from './sketch/config.js';
export type { AgentSketchConfig } from './sketch/config.js';
export { Aggregator } from './aggregator.js';
export type { AggregatorFlush, AggregatorFlushStream, AggregatorRuntimeOptions, AggregatorStats } from './aggregator.js';
export { resolveAggregatorConfig, HISTOGRAM_AGGREGATES } from './config.js';
export type { AggregatorOptions, ResolvedAggregatorConfig, HistogramAggregate } from './config.js';
export { Router } from './router.js';
export { ShardCore, SHARD_COUNTERS } from './shard/shard-core.js';
export type { FlushResult, ShardCounterName } from './shard/shard-core.js';
export { InlineShard, WorkerShard } from './shard/shard-handle.js';
export type { ShardHandle, ShardFlush, PendingBuckets } from './shard/shard-handle.js';
export { SampleBatch, batchViews } from './wire/sample-batch.js';
export type { SampleBatchData } from './wire/sample-batch.js';
export { encodeSeriesWire, decodeSeriesWire, seriesOfWire } from './wire/series-wire.js';
export type { SeriesWire } from './wire/series-wire.js';
export { ContextTable } from './shard/context-table.js';
