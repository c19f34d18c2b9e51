import { get } from './api.js';
import { h, replace } from './dom.js';
import { bytes, num, title } from './fmt.js';
import type { Route, View } from './view.js';

/** Status: the counters `kennel status` prints, as they change. */

type Doc = Record<string, unknown>;

function isObj(v: unknown): v is Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function value(k: string, v: unknown): string {
  if (typeof v === 'number') return /Bytes$/.test(k) && v >= 1024 ? `${num(v)} (${bytes(v)})` : num(v);
  if (Array.isArray(v)) return v.join(', ') || '(none)';
  return String(v);
}

function kvTable(o: Doc, skipZero = false): HTMLElement {
  const rows: HTMLElement[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (skipZero && v === 0) continue;
    if (isObj(v)) {
      rows.push(h('tr', null, h('th', null, title(k)), h('td', null, Object.keys(v).length === 0 ? '(none)' : kvTable(v))));
      continue;
    }
    rows.push(h('tr', { data: { key: k } }, h('th', null, title(k)), h('td', { class: 'num mono' }, value(k, v))));
  }
  return h('table', { class: 'kv' }, h('tbody', null, rows));
}

/** A table with one row per kind and one column per counter (the local intake's `ByKind`). */
function byKindTable(o: Doc): HTMLElement {
  const kinds = Object.keys(o);
  const cols = [...new Set(kinds.flatMap((k) => (isObj(o[k]) ? Object.keys(o[k]) : [])))];
  return h(
    'table',
    { class: 'grid compact' },
    h('thead', null, h('tr', null, h('th', null, 'kind'), cols.map((c) => h('th', { class: 'num' }, title(c))))),
    h(
      'tbody',
      null,
      kinds.map((k) => h('tr', null, h('th', { class: 'mono' }, k), cols.map((c) => h('td', { class: 'num' }, num(((o[k] as Doc)[c] as number) ?? 0))))),
    ),
  );
}

function block(name: string, ...body: (HTMLElement | null)[]): HTMLElement {
  return h('section', { class: 'status-block', data: { block: name } }, h('h2', null, name), ...body);
}

export class StatusView implements View {
  private body!: HTMLElement;

  mount(root: HTMLElement, route: Route): void {
    this.body = h('div', { id: 'status', class: 'status-grid' });
    root.append(this.body);
    this.update(route);
  }

  update(_route: Route): void {
    void get<Doc>('status').then((d) => this.status(d));
  }

  unmount(): void {}

  status(s: Doc): void {
    const parts: HTMLElement[] = [];
    const a = isObj(s.agent) ? s.agent : null;
    if (a) {
      parts.push(
        block(
          `Agent (kennel v${String(a.version)})`,
          kvTable({ 'Status date': a.now, Pid: a.pid, Uptime: `${String(a.uptimeSeconds)} seconds`, Hostname: a.hostname, Mode: a.mode, 'API key': a.apiKey }),
        ),
      );
    }
    const health = isObj(s.health) ? s.health : null;
    if (health) {
      const bad = Array.isArray(health.Unhealthy) ? (health.Unhealthy as string[]) : [];
      parts.push(block('Health', h('p', { class: bad.length === 0 ? 'ok-text' : 'err-text' }, bad.length === 0 ? 'PASS' : 'FAIL'), kvTable(health)));
    }
    if (isObj(s.forwarderStats)) parts.push(block('Forwarder', kvTable(s.forwarderStats)));
    if (isObj(s.dogstatsdStats)) {
      const sorted: Doc = {};
      for (const k of Object.keys(s.dogstatsdStats).sort()) sorted[k] = s.dogstatsdStats[k];
      const reasons = isObj(s.dogstatsdErrorReasons) && Object.keys(s.dogstatsdErrorReasons).length > 0 ? s.dogstatsdErrorReasons : null;
      parts.push(block('DogStatsD', kvTable(sorted), reasons ? h('h3', null, 'Parse errors by reason') : null, reasons ? kvTable(reasons) : null));
    }
    if (isObj(s.aggregatorStats)) parts.push(block('Aggregator', kvTable(s.aggregatorStats, true)));
    if (isObj(s.localIntakeStats)) {
      const { ByKind, ...rest } = s.localIntakeStats;
      parts.push(block('Local Intake', kvTable(rest), isObj(ByKind) ? h('h3', null, 'By kind (held now, received, dropped by the window)') : null, isObj(ByKind) ? byKindTable(ByKind) : null));
    }
    for (const [k, v] of Object.entries(s)) {
      if (['agent', 'health', 'forwarderStats', 'dogstatsdStats', 'dogstatsdErrorReasons', 'aggregatorStats', 'localIntakeStats', 'intake'].includes(k)) continue;
      if (isObj(v)) parts.push(block(title(k.replace(/Stats$/, '')), kvTable(v)));
    }
    replace(this.body, parts);
  }
}
