import { ContextKeyBuilder, Hash64, MetricType, hashBytes64 } from '@kennel/core';
import type { MetricSampleView } from '@kennel/core';
import type { SampleBatch } from './wire/sample-batch.js';
import { InlineShard } from './shard/shard-handle.js';
import type { ShardHandle } from './shard/shard-handle.js';
import type { ShardCore } from './shard/shard-core.js';

const encoder = new TextEncoder();

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
  private readonly key = new ContextKeyBuilder();
  private readonly setHash = new Hash64();
  private readonly defaultHost: Uint8Array;
  /** The default host's hash, computed once: most samples carry no `host:` tag. */
  private readonly defaultHostHash = new Hash64();

  constructor(shards: readonly ShardHandle[], defaultHost: string) {
    this.shards = shards;
    this.batches = shards.map((s) => s.acquire());
    this.direct = shards.map((s) => (s instanceof InlineShard ? s.core : null));
    this.defaultHost = encoder.encode(defaultHost);
    this.key.hashHost(this.defaultHost, 0, this.defaultHost.length, this.defaultHostHash);
  }

  /** Routes one decoded metric line (all its values). The view is read, not kept. */
  addMetric(v: MetricSampleView): void {
    const buf = v.buf;
    const key = this.key;
    key.reset();
    let hostStart = -1;
    let hostEnd = -1;
    const n = v.tagCount;
    const starts = v.tagStarts;
    const ends = v.tagEnds;
    for (let i = 0; i < n; i++) {
      const s = starts[i]!;
      const e = ends[i]!;
      const c0 = buf[s];
      if (c0 === 0x68 /* h */ && e - s >= 5 && buf[s + 1] === 0x6f && buf[s + 2] === 0x73 && buf[s + 3] === 0x74 && buf[s + 4] === 0x3a) {
        hostStart = s + 5;
        hostEnd = e;
        continue;
      }
      if (c0 === 0x64 /* d */ && e - s > 12 && isInternalOriginTag(buf, s, e)) continue;
      key.addTag(buf, s, e);
    }
    if (hostStart >= 0) key.finish(buf, v.nameStart, v.nameEnd, buf, hostStart, hostEnd);
    else key.finishWithHostHash(buf, v.nameStart, v.nameEnd, this.defaultHostHash);
    const lo = key.lo;
    const hi = key.hi;
    const shard = this.shards.length === 1 ? 0 : hi % this.shards.length;

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
      batch.push(lo, hi, v.type, off, nameLen, tagsLen, this.setMember(v), rate, ts, now);
    } else {
      const values = v.values;
      for (let k = 0; k < count; k++) batch.push(lo, hi, v.type, off, nameLen, tagsLen, values[k]!, rate, ts, now);
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

const INTERNAL = 'dd.internal.';

function isInternalOriginTag(buf: Uint8Array, s: number, e: number): boolean {
  for (let i = 0; i < INTERNAL.length; i++) if (buf[s + i] !== INTERNAL.charCodeAt(i)) return false;
  return (
    startsWithAt(buf, s + 12, e, 'entity_id:') || startsWithAt(buf, s + 12, e, 'card:') || startsWithAt(buf, s + 12, e, 'jmx_check_name:')
  );
}

function startsWithAt(buf: Uint8Array, s: number, e: number, word: string): boolean {
  if (e - s < word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[s + i] !== word.charCodeAt(i)) return false;
  return true;
}
