export { DogStatsDCodec, DOGSTATSD_COUNTERS, parseTagStrings } from './codec/codec.js';
export type { DogStatsDVisitor, DogStatsDCounterName } from './codec/codec.js';
export { MetricView } from './codec/metric-view.js';
export { MetricType, MetricTypeName, MetricTypeSymbol } from './codec/types.js';
export type {
  DecodedMetric,
  DecodedEvent,
  DecodedServiceCheck,
  DecodedError,
  DecodedMessage,
  DogStatsDCodecOptions,
  FramingOptions,
} from './codec/types.js';
export {
  NumberStatus,
  numberResult,
  parseFloatBytes,
  parseIntBytes,
  goParseFloat,
  goParseInt,
} from './codec/numbers.js';
export { parsePacket, metricViewToDecoded, CollectingVisitor, toJsonValue, jsonNumber } from './codec/convenience.js';
