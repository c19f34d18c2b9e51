import type { Span, TraceChunk } from '@kennel/core';
import { PRIORITY_NONE } from '@kennel/core';

/**
 * Trace helpers: root, top-level, measured, partial snapshots, env and version lookup, and the
 * chunk attributes taken from the root.
 *
 * @remarks
 * Rules restated from `DataDog/datadog-agent` `pkg/trace/traceutil/span.go` (`HasTopLevelMetrics`,
 * `UpdateTracerTopLevel`, `IsMeasuredMetrics`, `IsPartialSnapshotMetrics`), `trace.go`
 * (`GetRoot`, `ComputeTopLevel`, `GetEnv`) and `pkg/trace/agent/normalizer.go`
 * (`setChunkAttributes`); Apache-2.0.
 */

/** The metric the agent sets on top-level spans. */
export const TOP_LEVEL_KEY = '_top_level';
/** The metric tracers set on the spans they computed as top-level. */
export const TRACER_TOP_LEVEL_KEY = '_dd.top_level';
/** The metric that asks for stats on a span that is not top-level. */
export const MEASURED_KEY = '_dd.measured';
/** The metric a partial snapshot of a long-running span carries. */
export const PARTIAL_VERSION_KEY = '_dd.partial_version';
/** The sampling priority metric older tracers set on the root (and on other spans). */
export const SAMPLING_PRIORITY_KEY = '_sampling_priority_v1';
/** The sampling decision maker tag, promoted to a chunk tag. */
export const DECISION_MAKER_KEY = '_dd.p.dm';
/** The chunk origin older tracers set on the root. */
export const ORIGIN_KEY = '_dd.origin';
/** The tracer's host name older tracers set on the root. */
export const HOSTNAME_KEY = '_dd.hostname';

/** `_top_level == 1` or `_dd.top_level == 1`. */
export function hasTopLevel(metrics: Readonly<Record<string, number>>): boolean {
  return metrics[TOP_LEVEL_KEY] === 1 || metrics[TRACER_TOP_LEVEL_KEY] === 1;
}

/** `_dd.measured == 1`. */
export function isMeasured(metrics: Readonly<Record<string, number>>): boolean {
  return metrics[MEASURED_KEY] === 1;
}

/** `_dd.partial_version` present and `>= 0`. */
export function isPartialSnapshot(metrics: Readonly<Record<string, number>>): boolean {
  const v = metrics[PARTIAL_VERSION_KEY];
  return v !== undefined && v >= 0;
}

/** Copies the tracer's `_dd.top_level = 1` to `_top_level` (when the client computed top-level). */
export function updateTracerTopLevel(span: Span): void {
  if (span.metrics[TRACER_TOP_LEVEL_KEY] === 1) span.metrics[TOP_LEVEL_KEY] = 1;
}

/**
 * Marks `_top_level = 1` on every top-level span: a root (`parentId == 0`), a span whose parent
 * is not in the chunk, or a span whose parent has another service. Other spans are left as
 * they are (the agent never clears the mark).
 */
export function computeTopLevel(spans: readonly Span[]): void {
  const byId = new Map<bigint, Span>();
  for (let i = 0; i < spans.length; i++) byId.set(spans[i]!.spanId, spans[i]!);
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    if (s.parentId === 0n) {
      s.metrics[TOP_LEVEL_KEY] = 1;
      continue;
    }
    const parent = byId.get(s.parentId);
    if (parent === undefined || parent.service !== s.service) s.metrics[TOP_LEVEL_KEY] = 1;
  }
}

/**
 * The root span: the last span with `parentId == 0`; else the first span whose parent is not
 * in the chunk; else the last span. Undefined for an empty chunk.
 *
 * @remarks
 * With several orphans the agent picks one through Go map iteration (random); we pick the first,
 * which is what the agent picks when there is one orphan parent.
 */
export function getRoot(spans: readonly Span[]): Span | undefined {
  const n = spans.length;
  if (n === 0) return undefined;
  for (let j = n - 1; j >= 0; j--) if (spans[j]!.parentId === 0n) return spans[j];
  const ids = new Set<bigint>();
  for (let i = 0; i < n; i++) ids.add(spans[i]!.spanId);
  for (let i = 0; i < n; i++) if (!ids.has(spans[i]!.parentId)) return spans[i];
  return spans[n - 1];
}

/** The first value of meta `key`, searched on the root first, then on the other spans (`GetEnv`). */
export function getMetaFromTrace(root: Span, spans: readonly Span[], key: string): string {
  const v = root.meta[key];
  if (v !== undefined) return v;
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    if (s.spanId === root.spanId) continue;
    const w = s.meta[key];
    if (w !== undefined) return w;
  }
  return '';
}

/**
 * Fills the chunk from its root (`setChunkAttributes`): the priority from `_sampling_priority_v1`
 * of the root, else of the first span that has it (only when the chunk has none); the origin from
 * the root's `_dd.origin` (only when the chunk has none); and the chunk tag `_dd.p.dm` from the
 * first span that has it (only when the chunk has none).
 */
export function setChunkAttributes(chunk: TraceChunk, root: Span): void {
  if (chunk.priority === PRIORITY_NONE) {
    let p = root.metrics[SAMPLING_PRIORITY_KEY];
    if (p === undefined) {
      for (let i = 0; i < chunk.spans.length && p === undefined; i++) p = chunk.spans[i]!.metrics[SAMPLING_PRIORITY_KEY];
    }
    // Go's int32(float64): truncation toward zero (NaN and out-of-range values are unspecified
    // in Go; we map them to 0).
    if (p !== undefined) chunk.priority = Number.isFinite(p) ? Math.trunc(p) | 0 : 0;
  }
  if (chunk.origin === '') chunk.origin = root.meta[ORIGIN_KEY] ?? '';
  if (chunk.tags[DECISION_MAKER_KEY] === undefined) {
    for (let i = 0; i < chunk.spans.length; i++) {
      const dm = chunk.spans[i]!.meta[DECISION_MAKER_KEY];
      if (dm !== undefined) {
        chunk.tags[DECISION_MAKER_KEY] = dm;
        break;
      }
    }
  }
}
