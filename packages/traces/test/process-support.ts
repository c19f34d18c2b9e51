import { PRIORITY_NONE } from '@kennel/core';
import type { Span, TraceChunk, TracerPayload } from '@kennel/core';

/** The agent's `newTestSpan()` (pkg/trace/agent/normalizer_test.go), with a fixed span id. */
export function testSpan(overrides: Partial<Span> = {}): Span {
  return {
    duration: 10_000_000,
    error: 0,
    resource: 'GET /some/raclette',
    service: 'django',
    name: 'django.controller',
    spanId: 42n,
    start: 1448466874000000000n,
    traceId: 424242n,
    meta: { user: 'leo', pool: 'fondue' },
    metrics: { cheese_weight: 100000.0 },
    parentId: 1111n,
    type: 'http',
    metaStruct: {},
    spanLinks: [],
    spanEvents: [],
    ...overrides,
  };
}

/** A bare span: ids, service and metrics only. */
export function span(spanId: bigint, parentId: bigint, service: string, extra: Partial<Span> = {}): Span {
  return testSpan({ traceId: 1n, spanId, parentId, service, meta: {}, metrics: {}, ...extra });
}

export function chunk(spans: Span[], extra: Partial<TraceChunk> = {}): TraceChunk {
  return { priority: PRIORITY_NONE, origin: '', spans, tags: {}, droppedTrace: false, ...extra };
}

export function tracerPayload(chunks: TraceChunk[], extra: Partial<TracerPayload> = {}): TracerPayload {
  return {
    containerId: '',
    languageName: 'nodejs',
    languageVersion: 'v20.20.0',
    tracerVersion: '5.0.0',
    runtimeId: 'rt-1',
    chunks,
    tags: {},
    env: '',
    hostname: '',
    appVersion: '',
    ...extra,
  };
}

/** 2025-01-01T00:00:00Z in nanoseconds. */
export const NOW_NS = 1_735_689_600_000_000_000n;
