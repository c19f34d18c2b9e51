import { ContextKeyBuilder, Hash64 } from '@kennel/core';

const encoder = new TextEncoder();
const COMMA = 0x2c;
const INTERNAL = 'dd.internal.';

/**
 * Computes a sample's context key the agent's way: the last `host:` tag is the host (else the
 * default host) and leaves the key's tags, as do `dd.internal.entity_id:`, `dd.internal.card:` and
 * `dd.internal.jmx_check_name:` (`enrich.go`); the rest are a set (order and duplicates do not
 * matter). The same key comes from tag offsets (the codec's view, in the router) or from the raw
 * comma-separated tag list (a batch, in a shard), so either side can compute it.
 */
export class ContextKeyer {
  /** Low and high halves of the last key. */
  lo = 0;
  hi = 0;
  private readonly key = new ContextKeyBuilder();
  private readonly defaultHost: Uint8Array;
  /** The default host's hash, computed once: most samples carry no `host:` tag. */
  private readonly defaultHostHash = new Hash64();

  constructor(defaultHost: string) {
    this.defaultHost = encoder.encode(defaultHost);
    this.key.hashHost(this.defaultHost, 0, this.defaultHost.length, this.defaultHostHash);
  }

  /** The default host's hash (what `@kennel/native`'s `keyBatch` takes for it). */
  get defaultHostKey(): { readonly lo: number; readonly hi: number } {
    return this.defaultHostHash;
  }

  /** Keys a sample whose tags are `buf[starts[i], ends[i])`. */
  fromTagOffsets(buf: Uint8Array, nameStart: number, nameEnd: number, starts: Uint32Array, ends: Uint32Array, n: number): void {
    const key = this.key;
    key.reset();
    let hostStart = -1;
    let hostEnd = -1;
    for (let i = 0; i < n; i++) {
      const s = starts[i]!;
      const e = ends[i]!;
      if (isHostTag(buf, s, e)) {
        hostStart = s + 5;
        hostEnd = e;
        continue;
      }
      if (buf[s] === 0x64 /* d */ && e - s > 12 && isInternalOriginTag(buf, s, e)) continue;
      key.addTag(buf, s, e);
    }
    this.finish(buf, nameStart, nameEnd, hostStart, hostEnd);
  }

  /** Keys a sample whose tags are the raw comma-separated list `buf[tagsOff, tagsOff + tagsLen)`. */
  fromRawTags(buf: Uint8Array, nameOff: number, nameLen: number, tagsOff: number, tagsLen: number): void {
    const key = this.key;
    key.reset();
    let hostStart = -1;
    let hostEnd = -1;
    if (tagsLen > 0) {
      const end = tagsOff + tagsLen;
      let s = tagsOff;
      for (let j = tagsOff; j <= end; j++) {
        if (j < end && buf[j] !== COMMA) continue;
        const e = j;
        if (isHostTag(buf, s, e)) {
          hostStart = s + 5;
          hostEnd = e;
        } else if (!(buf[s] === 0x64 && e - s > 12 && isInternalOriginTag(buf, s, e))) {
          key.addTag(buf, s, e);
        }
        s = j + 1;
      }
    }
    this.finish(buf, nameOff, nameOff + nameLen, hostStart, hostEnd);
  }

  private finish(buf: Uint8Array, nameStart: number, nameEnd: number, hostStart: number, hostEnd: number): void {
    const key = this.key;
    if (hostStart >= 0) key.finish(buf, nameStart, nameEnd, buf, hostStart, hostEnd);
    else key.finishWithHostHash(buf, nameStart, nameEnd, this.defaultHostHash);
    this.lo = key.lo;
    this.hi = key.hi;
  }
}

function isHostTag(buf: Uint8Array, s: number, e: number): boolean {
  return e - s >= 5 && buf[s] === 0x68 && buf[s + 1] === 0x6f && buf[s + 2] === 0x73 && buf[s + 3] === 0x74 && buf[s + 4] === 0x3a;
}

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
