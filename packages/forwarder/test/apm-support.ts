import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { decompress as zstdDecompress } from 'fzstd';
import protobuf from 'protobufjs';
import { PRIORITY_NONE } from '@kennel/core';
import type { Span, TraceChunk, TracerPayload } from '@kennel/core';
import { gzipApmCompression, loadTraceCompression, type ApmCompression, type ApmPayload } from '../src/index.js';

/** zstd through the real binding; the tests fail loudly if it falls back. */
export const zstdApm: ApmCompression = await loadTraceCompression();
if (zstdApm.contentEncoding !== 'zstd') throw new Error('zstd did not load');
export const gzipApm = gzipApmCompression;

/** The body as the intake reads it, decompressed with libraries independent of the encoder. */
export function inflate(p: Pick<ApmPayload, 'body' | 'contentEncoding'>): Uint8Array {
  return p.contentEncoding === 'zstd' ? zstdDecompress(p.body) : new Uint8Array(gunzipSync(p.body));
}

export const tracePb = protobuf.parse(readFileSync(new URL('../../test/fixtures/trace_payload.proto', import.meta.url), 'utf8')).root;
export const AgentPayloadPb = tracePb.lookupType('pb.AgentPayload');
export const pbObject = { longs: String, enums: Number, bytes: Array, defaults: true, arrays: true, objects: true } as const;

export function apmSpan(extra: Partial<Span> = {}): Span {
  return {
    service: 'web',
    name: 'http.request',
    resource: 'GET /',
    traceId: 1n,
    spanId: 2n,
    parentId: 0n,
    start: 1_700_000_000_000_000_000n,
    duration: 1500,
    error: 0,
    type: 'web',
    meta: {},
    metrics: {},
    metaStruct: {},
    spanLinks: [],
    spanEvents: [],
    ...extra,
  };
}

export function apmChunk(spans: Span[], extra: Partial<TraceChunk> = {}): TraceChunk {
  return { priority: PRIORITY_NONE, origin: '', spans, tags: {}, droppedTrace: false, ...extra };
}

export function apmTracerPayload(chunks: TraceChunk[], extra: Partial<TracerPayload> = {}): TracerPayload {
  return {
    containerId: '',
    languageName: '',
    languageVersion: '',
    tracerVersion: '',
    runtimeId: '',
    chunks,
    tags: {},
    env: '',
    hostname: '',
    appVersion: '',
    ...extra,
  };
}
