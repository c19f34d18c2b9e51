import type { LogEntry } from './api.js';

/** Where the page is: `#/<view>/<arg>?<query>`. */
export interface Route {
  readonly view: string;
  readonly arg: string;
  readonly query: URLSearchParams;
}

/** One tab of the page. */
export interface View {
  /** Builds the view into `root` (empty) for `route`. */
  mount(root: HTMLElement, route: Route): void;
  /** The route changed within this view. */
  update(route: Route): void;
  unmount(): void;
  /** Payloads of these store kinds arrived. */
  changed?(kinds: readonly string[]): void;
  logs?(entries: readonly LogEntry[]): void;
  status?(doc: Record<string, unknown>): void;
}

export function href(view: string, arg?: string, query?: Record<string, string | undefined>): string {
  let s = `#/${view}`;
  if (arg !== undefined && arg !== '') s += `/${encodeURIComponent(arg)}`;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, v);
    const qs = q.toString();
    if (qs) s += `?${qs}`;
  }
  return s;
}

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#\/?/, '');
  const qi = h.indexOf('?');
  const path = qi >= 0 ? h.slice(0, qi) : h;
  const query = new URLSearchParams(qi >= 0 ? h.slice(qi + 1) : '');
  const slash = path.indexOf('/');
  const view = (slash >= 0 ? path.slice(0, slash) : path) || 'metrics';
  let arg = slash >= 0 ? path.slice(slash + 1) : '';
  try {
    arg = decodeURIComponent(arg);
  } catch {
    // keep it as it is
  }
  return { view, arg, query };
}

export const METRIC_KINDS = ['series_v2', 'series_v1', 'sketches'];
