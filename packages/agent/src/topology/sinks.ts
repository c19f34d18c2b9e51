import { LocalIntake } from '@kennel/intake';
import type { IntakePayload } from '@kennel/forwarder';
import type { Config } from '../config/load.js';
import type { PayloadSink } from './metrics-pipeline.js';
import type { StatusServer } from './status-server.js';

/** Where the pipeline's payloads end: the Datadog intake (forward) or the local intake (local mode). */
export interface MetricsSink extends PayloadSink {
  readonly mode: 'local' | 'forward';
  /** Status sections this sink adds (`forwarderStats`, `localIntakeStats`). */
  status(): Record<string, unknown>;
  /** Sends what is queued, until done or the deadline. */
  drain(deadlineMs: number): Promise<void>;
  close(): Promise<void>;
  describe(): string;
  /** Adds this sink's routes to the status server (local mode's API). */
  routes?(server: StatusServer): void;
}

/** Local mode: payloads are decoded into an in-process store instead of being sent. */
export class LocalSink implements MetricsSink {
  readonly mode = 'local' as const;
  readonly intake: LocalIntake;
  private rejected = 0;

  constructor() {
    this.intake = new LocalIntake();
  }

  send(p: IntakePayload): void {
    const r = this.intake.submit({ endpoint: p.endpoint, contentEncoding: p.contentEncoding, body: p.body });
    if (!r.ok) this.rejected++;
  }

  status(): Record<string, unknown> {
    const c = this.intake.store.counts();
    const kinds: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(c.kinds)) kinds[k] = v;
    return {
      localIntakeStats: {
        StoredPayloads: c.stored.payloads,
        StoredItems: c.stored.items,
        StoredBytes: c.stored.bytes,
        Series: (c.kinds.series_v2?.StoredItems ?? 0) + (c.kinds.series_v1?.StoredItems ?? 0),
        Sketches: c.kinds.sketches?.StoredItems ?? 0,
        Events: c.kinds.events?.StoredItems ?? 0,
        ServiceChecks: c.kinds.check_runs?.StoredItems ?? 0,
        Rejected: this.rejected,
        DecodeErrors: c.decodeErrors,
        ByKind: kinds,
      },
    };
  }

  async drain(): Promise<void> {}
  async close(): Promise<void> {}
  describe(): string {
    return 'the local intake';
  }
}

export async function createSink(c: Config, log: (line: string) => void): Promise<MetricsSink> {
  void log;
  if (c.string('api_key') === '') return new LocalSink();
  const { ForwarderSink } = await import('./forwarder-sink.js');
  return new ForwarderSink(c, log);
}
