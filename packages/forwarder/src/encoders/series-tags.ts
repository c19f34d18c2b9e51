import type { Series } from '@kennel/core';

/**
 * The tags the agent moves out of a series at serialisation (`pkg/metrics/series.go`):
 * `device:<name>` becomes the series' device (`PopulateDeviceField`; the last one wins), and
 * `dd.internal.resource:<type>:<name>` becomes a v2 resource (`PopulateResources`; one without
 * a non-empty type and name is dropped). Neither stays in the tags.
 */
export const DEVICE_TAG_PREFIX = 'device:';
export const RESOURCE_TAG_PREFIX = 'dd.internal.resource:';

/** Bit flags from {@link scanSpecialTags}. */
export const HAS_DEVICE_TAG = 1;
export const HAS_RESOURCE_TAG = 2;

/** Which special tags a series carries; the index of its last device tag is in `lastDeviceTag`. */
export function scanSpecialTags(tags: readonly string[], out: { lastDeviceTag: number }): number {
  let flags = 0;
  out.lastDeviceTag = -1;
  for (let i = 0; i < tags.length; i++) {
    const t = tags[i]!;
    // 'd' starts both prefixes; most tags are rejected by this one comparison.
    if (t.charCodeAt(0) !== 0x64) continue;
    if (t.startsWith(DEVICE_TAG_PREFIX)) {
      flags |= HAS_DEVICE_TAG;
      out.lastDeviceTag = i;
    } else if (t.startsWith(RESOURCE_TAG_PREFIX)) {
      flags |= HAS_RESOURCE_TAG;
    }
  }
  return flags;
}

/** Is this tag moved out of the tags (given the flags of its series)? */
export function isSpecialTag(t: string, flags: number): boolean {
  return (
    flags !== 0 &&
    t.charCodeAt(0) === 0x64 &&
    (((flags & HAS_DEVICE_TAG) !== 0 && t.startsWith(DEVICE_TAG_PREFIX)) ||
      ((flags & HAS_RESOURCE_TAG) !== 0 && t.startsWith(RESOURCE_TAG_PREFIX)))
  );
}

/** The device a series is sent with: its last `device:` tag if it has one, else `series.device`. */
export function deviceOf(series: Series, flags: number, lastDeviceTag: number): string {
  if ((flags & HAS_DEVICE_TAG) !== 0) return series.tags[lastDeviceTag]!.slice(DEVICE_TAG_PREFIX.length);
  return series.device ?? '';
}

/**
 * Splits a `dd.internal.resource:` tag into type and name, or returns -1 when the agent drops
 * it (`commaIdx > 0 && commaIdx < len(tagVal)-1`). The split is at the first `:` after the prefix.
 */
export function resourceSplit(tag: string): number {
  const i = tag.indexOf(':', RESOURCE_TAG_PREFIX.length);
  return i > RESOURCE_TAG_PREFIX.length && i < tag.length - 1 ? i : -1;
}
