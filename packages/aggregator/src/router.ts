import { Hash64, MetricType, hashBytes64 } from '@kennel/core';
import { ContextKeyer } from './context-keyer.js';
import { KEY_IN_SHARD } from './wire/sample-batch.js';
import type { MetricSampleView } from '@kennel/core';
import type { SampleBatch } from './wire/sample-batch.js';
import { InlineShard } from './shard/shard-handle.js';
import type { ShardHandle } from './shard/shard-handle.js';
import type { ShardCore } from './shard/shard-core.js';


/**
 * The router: hashes each sample's context (name + host + the set of tags) and appends the
 * sample to that shard's batch. It runs in the thread that decodes; it keeps no per-context
 * state, so it is as cheap for a new context as for a known one.
 *
 * @remarks
 * The host is the last `host:` tag, or the default host; `host:` and the agent's
 * `dd.internal.entity_id:`, `dd.internal.card:` and `dd.internal.jmx_check_name:` tags are left
 * out of the key, as the agent removes them before building its key (`enrich.go`).
 */
export class Router {
  /** Arrival time for the next samples, Unix seconds. Set it once per packet or batch of packets. */
  now = 0;
  /** Samples handed to shards (a multi-value line counts once per value). */
  samples = 0;
  private readonly shards: readonly ShardHandle[];
  private readonly batches: SampleBatch[];
  /** Shards in this thread take samples straight from the packet: no batch, no copy. */
  private readonly direct: (ShardCore | null)[];
  private readonly keyer: ContextKeyer;
  private readonly setHash = new Hash64();
  /** One shard, in a worker thread: it keys the samples itself. */
  private readonly keyInShard: boolean;

  constructor(shards: readonly ShardHandle[], defaultHost: string) {
    this.shards = shards;
    this.batches = shards.map((s) => s.acquire());
    this.direct = shards.map((s) => (s instanceof InlineShard ? s.core : null));
    this.keyer = new ContextKeyer(defaultHost);
    this.keyInShard = shards.length === 1 && this.direct[0] === null;
  }

  /** Routes one decoded metric line (all its values). The view is read, not kept. */
  addMetric(v: MetricSampleView): void {
    const buf = v.buf;
    const n = v.tagCount;
    const starts = v.tagStarts;
    const ends = v.tagEnds;
    // With one shard in another thread nothing needs the key here: the shard computes it from the
    // batch's bytes, so keying runs on the shard's core, not on the thread that reads sockets.
    let lo = 0;
    let hi = 0;
    let type: number = v.type;
    let shard = 0;
    if (this.keyInShard) {
      type |= KEY_IN_SHARD;
    } else {
      this.keyer.fromTagOffsets(buf, v.nameStart, v.nameEnd, starts, ends, n);
      lo = this.keyer.lo;
      hi = this.keyer.hi;
      shard = this.shards.length === 1 ? 0 : hi % this.shards.length;
    }

    const isSet = v.type === MetricType.SET;
    const count = isSet ? 1 : v.valueCount;
    const nameLen = v.nameEnd - v.nameStart;
    const tagsStart = n > 0 ? starts[0]! : 0;
    const tagsLen = n > 0 ? ends[n - 1]! - tagsStart : 0;
    const rate = v.sampleRate;
    const ts = v.timestamp;
    const now = this.now;
    this.samples += count;
    const core = this.direct[shard]!;
    if (core !== null) {
      if (isSet) {
        core.addSample(lo, hi, v.type, this.setMember(v), rate, ts, now, buf, v.nameStart, nameLen, tagsStart, tagsLen);
      } else {
        const values = v.values;
        for (let k = 0; k < count; k++) core.addSample(lo, hi, v.type, values[k]!, rate, ts, now, buf, v.nameStart, nameLen, tagsStart, tagsLen);
      }
      return;
    }
    let batch = this.batches[shard]!;
    if (!batch.fits(count, nameLen + tagsLen)) {
      this.dispatch(shard);
      batch = this.batches[shard]!;
      // A line too large for an empty batch cannot be carried; the codec's buffer size keeps
      // lines far below the batch size, so this is only a guard.
      if (!batch.fits(count, nameLen + tagsLen)) return;
    }
    const off = batch.appendBytes(buf, v.nameStart, v.nameEnd);
    if (tagsLen > 0) batch.appendBytes(buf, tagsStart, tagsStart + tagsLen);
    if (isSet) {
      batch.push(lo, hi, type, off, nameLen, tagsLen, this.setMember(v), rate, ts, now);
    } else {
      const values = v.values;
      for (let k = 0; k < count; k++) batch.push(lo, hi, type, off, nameLen, tagsLen, values[k]!, rate, ts, now);
    }
  }

  /** 52 bits of the member's hash stand for the member: the shard counts distinct values. */
  private setMember(v: MetricSampleView): number {
    hashBytes64(v.buf, v.setStart, v.setEnd, 0x5e7, 0x5e75e7, this.setHash);
    return this.setHash.lo + (this.setHash.hi & 0xfffff) * 4294967296;
  }

  /** Sends every partial batch to its shard. */
  dispatchAll(): void {
    for (let i = 0; i < this.batches.length; i++) if (this.batches[i]!.count > 0) this.dispatch(i);
  }

  private dispatch(shard: number): void {
    const s = this.shards[shard]!;
    s.ingest(this.batches[shard]!);
    this.batches[shard] = s.acquire();
  }
}
