import type { LogEntry } from './api.js';
import { h, replace } from './dom.js';
import { connect } from './live.js';
import { EventsView } from './view-events.js';
import { LogsView } from './view-logs.js';
import { MetricsView } from './view-metrics.js';
import { ServicesView } from './view-services.js';
import { StatusView } from './view-status.js';
import { TracesView } from './view-traces.js';
import { parseRoute, type View } from './view.js';

/** kennel's local page: tabs, the hash router and the live stream. */

const TABS: readonly (readonly [string, string, () => View])[] = [
  ['metrics', 'Metrics', () => new MetricsView()],
  ['events', 'Events & checks', () => new EventsView()],
  ['traces', 'Traces', () => new TracesView()],
  ['services', 'Services', () => new ServicesView()],
  ['logs', 'Logs', () => new LogsView()],
  ['status', 'Status', () => new StatusView()],
];

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
const live = document.getElementById('live')!;
const agentEl = document.getElementById('agent')!;
let current: { name: string; view: View } | null = null;

replace(
  nav,
  TABS.map(([name, label]) => h('a', { href: `#/${name}`, data: { tab: name } }, label)),
);

function route(): void {
  const r = parseRoute(location.hash);
  const tab = TABS.find((t) => t[0] === r.view) ?? TABS[0]!;
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('on', a.dataset.tab === tab[0]);
  if (current?.name === tab[0]) {
    current.view.update(r);
    return;
  }
  current?.view.unmount();
  replace(main);
  const view = tab[2]();
  current = { name: tab[0], view };
  document.title = `kennel · ${tab[1]}`;
  view.mount(main, r);
}

window.addEventListener('hashchange', route);
route();

connect({
  changed: (kinds) => current?.view.changed?.(kinds),
  logs: (entries: LogEntry[]) => current?.view.logs?.(entries),
  status: (doc) => {
    const a = doc.agent as Record<string, unknown> | undefined;
    if (a) agentEl.textContent = `v${String(a.version)} · ${String(a.hostname)} · ${String(a.mode)} mode`;
    current?.view.status?.(doc);
  },
  connection: (open) => {
    live.classList.toggle('on', open);
    live.textContent = open ? '● live' : '○ reconnecting';
    document.body.dataset.live = String(open);
  },
});
