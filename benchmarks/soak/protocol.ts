/** What the soak's harness (index.ts) and its intake process (intake.ts) agree on. */

/** Trace ids are `TRACE_ID_BASE + n`, n the trace's number in the run (a dd-trace id is a random 64-bit number; these stay in its range). */
export const TRACE_ID_BASE = 0x5000_0000_0000_0000n;
export const MARKER_METRIC = 'soak.marker';
export const LOG_PREFIX = 'soak:';

export interface IntakeReport {
  readonly type: 'report';
  readonly requests: number;
  readonly byStatus: Record<string, number>;
  readonly byOutcome: Record<string, number>;
  readonly payloads: Record<string, number>;
  readonly decodeErrors: number;
  readonly marker: Record<string, number>;
  readonly seriesPoints: number;
  readonly sketchPoints: number;
  readonly traces: { distinct: number; duplicates: number; spans: number; foreign: number; max: number; missing: number | null };
  readonly logs: { distinct: number; duplicates: number; foreign: number; max: number; missing: number | null };
  readonly statsPayloads: number;
  readonly rssBytes: number;
  readonly cpuMs: number;
  /** Date.now() of the last payload of each kind. */
  readonly lastAt: Record<string, number>;
}

