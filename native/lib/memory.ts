import { loadNative } from './load.js';

/**
 * Gives the pages of freed `malloc` memory back to the system (glibc's `malloc_trim(0)`), as the
 * Go runtime's scavenger does for the Datadog Agent. glibc keeps a freed chunk's pages resident
 * unless it sits at the top of a heap, and Node's Buffers live in `malloc`: without a trim, the
 * memory a burst of traffic used stays in RSS after it is freed. Returns true when some went
 * back, false when none did, and null when it cannot trim here (addon not loaded or switched
 * off, or a C library other than glibc).
 *
 * It walks every arena under its lock, so it takes about a millisecond per few hundred MiB of
 * heap on the calling thread; call it every few tens of seconds, not per request.
 */
export function trimMemory(): boolean | null {
  const { binding } = loadNative();
  if (binding === null) return null;
  const r = binding.trimMemory();
  return r === undefined ? null : r;
}
