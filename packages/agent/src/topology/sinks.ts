import { LocalIntake, LocalWeb, histogramSuffixes } from '@kennel/intake';
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

export interface LocalSinkOptions {
  /** The window the local intake keeps (`local_intake.max_age_seconds`), ms. @defaultValue 30 minutes */
  readonly maxAgeMs?: number;
  /** `local_intake.max_bytes`. @defaultValue 256 MiB */
  readonly maxBytes?: number;
  /** Series suffixes of a histogram, for the page to group them (from `histogram_aggregates` and `histogram_percentiles`). */
  readonly histogramSuffixes?: readonly string[];
}

/**
 * Local mode: payloads are decoded into an in-process store instead of being sent, and the
 * status port serves the local page and its JSON API over that store.
 */
export class LocalSink implements MetricsSink {
  readonly mode = 'local' as const;
  readonly intake: LocalIntake;
  /** The local page and `/api`, once `routes` put them on the status port. */
  web: LocalWeb | null = null;
  private rejected = 0;
  private readonly options: LocalSinkOptions;

  constructor(options: LocalSinkOptions = {}) {
    this.options = options;
    this.intake = new LocalIntake({
      storeOptions: {
        ...(options.maxAgeMs !== undefined ? { maxAgeMs: options.maxAgeMs } : {}),
        ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
      },
    });
  }

  /** Serves the local page at `/` and the JSON API at `/api/...` on the status port. */
  routes(server: StatusServer): void {
    this.web?.close();
    const web = new LocalWeb({
      store: this.intake.store,
      status: () => server.source.status(),
      health: () => server.source.health(),
      ...(this.options.histogramSuffixes !== undefined ? { histogramSuffixes: this.options.histogramSuffixes } : {}),
    });
    this.web = web;
    server.handle((req, res) => web.handle(req, res));
  }

  send(p: IntakePayload): void {
    const r = this.intake.submit({ endpoint: p.endpoint, contentEncoding: p.contentEncoding, body: p.body });
    if (!r.ok) this.rejected++;
  }

  status(): Record<string, unknown> {
    const c = this.intake.store.counts();
    const kinds: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(c.kinds)) kinds[k] = v;
    let droppedPayloads = 0;
    let droppedItems = 0;
    let droppedBytes = 0;
    for (const v of Object.values(c.kinds)) {
      droppedPayloads += v.DroppedPayloads;
      droppedItems += v.DroppedItems;
      droppedBytes += v.DroppedBytes;
    }
    const store = this.intake.store;
    return {
      localIntakeStats: {
        WindowSeconds: Math.round(store.maxAgeMs / 1000),
        MaxBytes: store.maxBytes,
        StoredPayloads: c.stored.payloads,
        StoredItems: c.stored.items,
        StoredBytes: c.stored.bytes,
        DroppedPayloads: droppedPayloads,
        DroppedItems: droppedItems,
        DroppedBytes: droppedBytes,
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
  async close(): Promise<void> {
    this.web?.close();
  }
  describe(): string {
    return 'the local intake';
  }
}

export async function createSink(c: Config, log: (line: string) => void): Promise<MetricsSink> {
  void log;
  if (c.string('api_key') === '') {
    return new LocalSink({
      maxAgeMs: c.int('local_intake.max_age_seconds') * 1000,
      maxBytes: c.int('local_intake.max_bytes'),
      histogramSuffixes: histogramSuffixes(c.list('histogram_aggregates'), c.list('histogram_percentiles')),
    });
  }
  const { ForwarderSink } = await import('./forwarder-sink.js');
  return new ForwarderSink(c, log);
}
