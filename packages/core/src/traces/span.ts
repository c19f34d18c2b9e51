/**
 * APM spans and the payloads that carry them, as the trace-agent models them
 * (`libdd-trace-protobuf/src/pb/span.proto`, `tracer_payload.proto`, `agent_payload.proto`;
 * see `shared/spec/traces.md` §a, §d). Shared by the trace decoder, the trace encoders and the
 * intake decoders.
 *
 * 64-bit ids and the start time are `bigint`s so they stay lossless (a double holds 53 bits);
 * the duration is a `number` (nanoseconds; exact below 2^53 ns, about 104 days).
 */

/** `AttributeAnyValue.type` (span.proto). */
export const AttributeValueType = { STRING: 0, BOOL: 1, INT: 2, DOUBLE: 3, ARRAY: 4 } as const;
export type AttributeValueType = (typeof AttributeValueType)[keyof typeof AttributeValueType];

export interface AttributeArrayValue {
  readonly type: 0 | 1 | 2 | 3;
  readonly stringValue?: string;
  readonly boolValue?: boolean;
  readonly intValue?: bigint;
  readonly doubleValue?: number;
}

export interface AttributeAnyValue {
  readonly type: AttributeValueType;
  readonly stringValue?: string;
  readonly boolValue?: boolean;
  readonly intValue?: bigint;
  readonly doubleValue?: number;
  readonly arrayValue?: readonly AttributeArrayValue[];
}

export interface SpanLink {
  readonly traceId: bigint;
  /** High 64 bits of a 128-bit trace id; 0n when absent. */
  readonly traceIdHigh: bigint;
  readonly spanId: bigint;
  readonly attributes: Readonly<Record<string, string>>;
  readonly tracestate: string;
  /** W3C trace flags; when set, bit 31 is set too (span.proto). */
  readonly flags: number;
}

export interface SpanEvent {
  readonly timeUnixNano: bigint;
  readonly name: string;
  readonly attributes: Readonly<Record<string, AttributeAnyValue>>;
}

export interface Span {
  service: string;
  name: string;
  resource: string;
  /** Low 64 bits of the trace id (the high 64 bits travel in meta `_dd.p.tid`). */
  traceId: bigint;
  spanId: bigint;
  /** 0n for a root span. */
  parentId: bigint;
  /** Nanoseconds since the Unix epoch. */
  start: bigint;
  /** Nanoseconds. */
  duration: number;
  /** 0 or 1 (int32 on the wire). */
  error: number;
  type: string;
  meta: Record<string, string>;
  metrics: Record<string, number>;
  /** Each value is a msgpack-encoded object, kept as bytes. */
  metaStruct: Record<string, Uint8Array>;
  spanLinks: SpanLink[];
  spanEvents: SpanEvent[];
}

/** `TraceChunk` (tracer_payload.proto). */
export interface TraceChunk {
  /** Sampling priority; -128 (PriorityNone) when the tracer did not set one. */
  priority: number;
  origin: string;
  spans: Span[];
  tags: Record<string, string>;
  droppedTrace: boolean;
}

/** `TracerPayload` (tracer_payload.proto). */
export interface TracerPayload {
  containerId: string;
  languageName: string;
  languageVersion: string;
  tracerVersion: string;
  runtimeId: string;
  chunks: TraceChunk[];
  tags: Record<string, string>;
  env: string;
  hostname: string;
  appVersion: string;
}

/** `AgentPayload` (agent_payload.proto): what `/api/v0.2/traces` receives. */
export interface AgentPayload {
  hostName: string;
  env: string;
  tracerPayloads: TracerPayload[];
  tags: Record<string, string>;
  agentVersion: string;
  targetTPS: number;
  errorTPS: number;
  rareSamplerEnabled: boolean;
}

/** PriorityNone: no sampling decision on the chunk. */
export const PRIORITY_NONE = -128;
