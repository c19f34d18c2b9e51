/**
 * The context keys of a batch of DogStatsD samples in one native call (`src/context_key.h`): the
 * key `ContextKeyer.fromRawTags` (`@kennel/aggregator`) computes, bit for bit, for every sample
 * of the batch that asks for one. A shard worker calls it once per batch instead of keying each
 * line in JavaScript. The JavaScript keyer is the reference it is tested against
 * (`packages/aggregator/test/native-keys.prop.test.ts`), and what runs when the addon is not loaded.
 *
 * This module loads nothing but the addon: no socket code (`@kennel/native/context-key`).
 */
import { loadNative } from './load.js';

/**
 * Keys the samples of a batch. Sample `k`'s fields are `ints[k * stride + i]` for the indices in
 * `layout`, a Uint32Array of
 * `[stride, iKeyLo, iKeyHi, iType, iBytes, iNameLen, iTagsLen, flag, defaultHostLo, defaultHostHi]`.
 * For each of the first `count` samples whose type has `flag` set, the key of the name
 * `bytes[off, +nameLen)` and the raw comma-separated tag list `bytes[off + nameLen, +tagsLen)` goes
 * to `iKeyLo`/`iKeyHi` and `flag` is cleared from the type. The default host is given by its hash
 * (`ContextKeyBuilder.hashHost`). Returns the number of samples keyed.
 *
 * Throws a `TypeError` for arguments of the wrong type, and a `RangeError` when a field index is
 * not below the stride, `count * stride` exceeds `ints.length`, or a sample's bytes lie outside
 * `bytes` (the samples before it are keyed by then).
 */
export type KeyBatch = (bytes: Uint8Array, ints: Uint32Array, count: number, layout: Uint32Array) => number;

/** The native batch keyer, or `null` when the addon is not loaded or is switched off (`KENNEL_DISABLE_NATIVE`). */
export function nativeKeyBatch(): KeyBatch | null {
  const { binding } = loadNative();
  return binding === null ? null : binding.keyBatch;
}
