import { Forwarder } from '@kennel/forwarder';
import type { IntakePayload } from '@kennel/forwarder';
import type { Config } from '../config/load.js';
import type { MetricsSink } from './sinks.js';

/** Forward mode: payloads go to the Datadog intake through the retrying HTTP forwarder. */
export class ForwarderSink implements MetricsSink {
  readonly mode = 'forward' as const;
  readonly forwarder: Forwarder;

  constructor(c: Config, log: (line: string) => void) {
    this.forwarder = new Forwarder({
      apiKey: c.string('api_key'),
      ddUrl: c.string('dd_url'),
      site: c.string('site'),
      timeout: c.int('forwarder_timeout'),
      maxConcurrentRequests: c.int('forwarder_max_concurrent_requests'),
      retryQueuePayloadsMaxSize: c.int('forwarder_retry_queue_payloads_max_size'),
      backoffBase: c.float('forwarder_backoff_base'),
      backoffFactor: c.float('forwarder_backoff_factor'),
      backoffMax: c.float('forwarder_backoff_max'),
      recoveryInterval: c.int('forwarder_recovery_interval'),
      storageMaxSizeInBytes: c.int('forwarder_storage_max_size_in_bytes'),
      storageMaxDiskRatio: c.float('forwarder_storage_max_disk_ratio'),
      outdatedFileInDays: c.int('forwarder_outdated_file_in_days'),
      flushToDiskMemRatio: c.float('forwarder_flush_to_disk_mem_ratio'),
      storagePath: c.string('forwarder_storage_path'),
      runPath: c.string('run_path'),
      stopTimeout: c.int('forwarder_stop_timeout'),
      log: (line, level) => {
        if (level !== 'info') log(`kennel: forwarder: ${line}`);
      },
    });
  }

  send(p: IntakePayload): void {
    this.forwarder.send(p);
  }

  status(): Record<string, unknown> {
    return { forwarderStats: this.forwarder.stats() as unknown as Record<string, unknown> };
  }

  async drain(deadlineMs: number): Promise<void> {
    await this.forwarder.drain(deadlineMs);
  }

  async close(): Promise<void> {
    await this.forwarder.close();
  }

  describe(): string {
    return this.forwarder.config.url;
  }
}
