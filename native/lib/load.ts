import { createRequire } from 'node:module';
import type { NativeBinding } from './binding.js';

/** Where `node scripts/build.mjs` puts the addon, relative to this file in `dist/lib/`. */
const ADDON_PATH = new URL('../../build/Release/kennel_native.node', import.meta.url);

export type NativeLoadResult =
  | { readonly binding: NativeBinding; readonly reason: null }
  | { readonly binding: null; readonly reason: string };

let loaded: NativeLoadResult | undefined;

/** `KENNEL_DISABLE_NATIVE=1` (or `true`) turns the addon off, as msgpackr and undici allow. */
function disabledByEnv(): boolean {
  const v = process.env['KENNEL_DISABLE_NATIVE'];
  return v === '1' || v === 'true';
}

/**
 * The addon, or `null` with the reason it is not available. The kill switch is read on every
 * call; the load itself happens once per thread (each worker loads its own instance).
 */
export function loadNative(): NativeLoadResult {
  if (disabledByEnv()) return { binding: null, reason: 'disabled by KENNEL_DISABLE_NATIVE=1' };
  if (loaded) return loaded;
  if (process.platform !== 'linux') {
    loaded = { binding: null, reason: `not built for ${process.platform} (Linux only)` };
    return loaded;
  }
  try {
    const require = createRequire(import.meta.url);
    loaded = { binding: require(ADDON_PATH.pathname) as NativeBinding, reason: null };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason =
      e.code === 'MODULE_NOT_FOUND'
        ? `${ADDON_PATH.pathname} is not built (run \`pnpm build\` with a C++ toolchain)`
        : `cannot load ${ADDON_PATH.pathname}: ${e.message.split('\n')[0]}`;
    loaded = { binding: null, reason };
  }
  return loaded;
}

/** True when the native addon is loaded and not switched off by `KENNEL_DISABLE_NATIVE`. */
export function isNativeAccelerationEnabled(): boolean {
  return loadNative().binding !== null;
}
