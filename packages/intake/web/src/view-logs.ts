import { get, type LogEntry, type LogsAnswer } from './api.js';
import { debounce, h, replace } from './dom.js';
import { clock } from './fmt.js';
import { href, type Route, type View } from './view.js';

/** Logs: a live tail with status colours, filters by service, status and text, and links to traces. */

const KEEP = 2000;
const MESSAGE_CHARS = 4000;

function statusClass(s: string): string {
  if (['emergency', 'alert', 'critical', 'error', 'fatal'].includes(s)) return 'error';
  if (s === 'warn') return 'warn';
  if (['debug', 'trace'].includes(s)) return 'debug';
  if (['ok', 'success'].includes(s)) return 'ok';
  return 'info';
}

export class LogsView implements View {
  private serviceSel!: HTMLSelectElement;
  private statusSel!: HTMLSelectElement;
  private qInput!: HTMLInputElement;
  private pauseBtn!: HTMLButtonElement;
  private countEl!: HTMLElement;
  private traceChip!: HTMLElement;
  private list!: HTMLElement;
  private route!: Route;
  private lastId = 0;
  private loading = false;
  private pending: LogEntry[] = [];
  private paused = false;
  private shown = 0;
  private gen = 0;
  private ownHash = '';

  mount(root: HTMLElement, route: Route): void {
    this.serviceSel = h('select', { 'aria-label': 'service' }, h('option', { value: '' }, 'all services'));
    this.statusSel = h('select', { 'aria-label': 'status' }, h('option', { value: '' }, 'all statuses'));
    this.qInput = h('input', { type: 'search', placeholder: 'filter by text (or /regex/)', 'aria-label': 'text filter' });
    this.pauseBtn = h('button', { on: { click: () => this.togglePause() } }, 'pause');
    this.countEl = h('span', { class: 'muted' });
    this.traceChip = h('span', null);
    const go = (): void => {
      location.hash = href('logs', '', { service: this.serviceSel.value, status: this.statusSel.value, q: this.qInput.value, trace_id: this.route.query.get('trace_id') ?? undefined });
      this.ownHash = location.hash;
    };
    this.serviceSel.addEventListener('change', go);
    this.statusSel.addEventListener('change', go);
    this.qInput.addEventListener('input', debounce(go, 250));
    this.list = h('div', { class: 'log-list', id: 'log-list' });
    root.append(h('div', { class: 'filters' }, this.serviceSel, this.statusSel, this.qInput, this.pauseBtn, this.traceChip, this.countEl), this.list);
    this.update(route);
  }

  update(route: Route): void {
    this.route = route;
    const q = route.query;
    this.ensure(this.serviceSel, q.get('service') ?? '');
    this.serviceSel.value = q.get('service') ?? '';
    this.ensure(this.statusSel, q.get('status') ?? '');
    this.statusSel.value = q.get('status') ?? '';
    if (location.hash !== this.ownHash) this.qInput.value = q.get('q') ?? '';
    const trace = q.get('trace_id');
    replace(
      this.traceChip,
      trace ? h('span', { class: 'chip' }, 'trace ', h('a', { href: href('traces', trace), class: 'mono' }, trace), ' ', h('a', { href: href('logs', '', { service: q.get('service') ?? undefined, status: q.get('status') ?? undefined, q: q.get('q') ?? undefined }), title: 'all traces' }, '×')) : null,
    );
    void this.load();
  }

  unmount(): void {}

  private ensure(sel: HTMLSelectElement, v: string): void {
    if (v === '' || [...sel.options].some((o) => o.value === v)) return;
    sel.append(h('option', { value: v }, v));
  }

  private togglePause(): void {
    this.paused = !this.paused;
    this.pauseBtn.textContent = this.paused ? 'resume' : 'pause';
    this.pauseBtn.classList.toggle('on', this.paused);
    if (!this.paused) void this.load();
  }

  private query(): Record<string, string> {
    const q = this.route.query;
    const out: Record<string, string> = {};
    for (const k of ['service', 'status', 'q', 'trace_id']) {
      const v = q.get(k);
      if (v) out[k] = v;
    }
    return out;
  }

  private async load(): Promise<void> {
    const gen = ++this.gen;
    this.loading = true;
    this.pending = [];
    try {
      const r = await get<LogsAnswer>('logs', { ...this.query(), limit: 1000 });
      if (gen !== this.gen) return;
      for (const s of Object.keys(r.facets.services)) if (s !== '') this.ensure(this.serviceSel, s);
      for (const s of Object.keys(r.facets.statuses)) this.ensure(this.statusSel, s);
      this.lastId = r.lastId;
      this.shown = 0;
      replace(this.list);
      if (r.logs.length === 0) this.list.append(h('p', { class: 'empty', id: 'logs-empty' }, 'No logs match. Run your app as `kennel run -- your-command` to collect its stdout and stderr.'));
      this.append(r.logs, true);
      const late = this.pending.filter((e) => e.id > r.lastId);
      this.pending = [];
      this.loading = false;
      this.logs(late);
    } finally {
      if (gen === this.gen) this.loading = false;
    }
  }

  /** New entries from the stream. */
  logs(entries: readonly LogEntry[]): void {
    if (this.loading) {
      this.pending.push(...entries);
      return;
    }
    if (this.paused) return;
    const fresh = entries.filter((e) => e.id > this.lastId && this.matches(e));
    for (const e of entries) if (e.id > this.lastId) this.lastId = e.id;
    for (const e of entries) if (e.service) this.ensure(this.serviceSel, e.service);
    if (fresh.length > 0) this.append(fresh, false);
  }

  private matches(e: LogEntry): boolean {
    const q = this.route.query;
    const service = q.get('service');
    if (service && e.service !== service) return false;
    const status = q.get('status');
    if (status && e.status !== status) return false;
    const trace = q.get('trace_id');
    if (trace && e.traceId !== trace && e.traceIdRaw !== trace) return false;
    const text = q.get('q');
    if (text) {
      const re = /^\/(.+)\/([imsu]*)$/.exec(text);
      if (re) {
        try {
          if (!new RegExp(re[1]!, re[2]).test(e.message)) return false;
        } catch {
          if (!e.message.toLowerCase().includes(text.toLowerCase())) return false;
        }
      } else if (!e.message.toLowerCase().includes(text.toLowerCase())) return false;
    }
    return true;
  }

  private append(entries: readonly LogEntry[], initial: boolean): void {
    const atBottom = initial || this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 40;
    if (entries.length > 0) document.getElementById('logs-empty')?.remove();
    const frag = document.createDocumentFragment();
    for (const e of entries) frag.append(this.row(e));
    this.list.append(frag);
    this.shown += entries.length;
    while (this.shown > KEEP && this.list.firstElementChild) {
      this.list.firstElementChild.remove();
      this.shown--;
    }
    this.countEl.textContent = `${this.shown} line${this.shown === 1 ? '' : 's'}${this.paused ? ' (paused)' : ''}`;
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
  }

  private row(e: LogEntry): HTMLElement {
    const cls = statusClass(e.status);
    const msg = e.message.length > MESSAGE_CHARS ? `${e.message.slice(0, MESSAGE_CHARS)}…` : e.message;
    return h(
      'div',
      { class: `log-row lvl-${cls}`, data: { id: String(e.id), status: e.status } },
      h('span', { class: 'log-time mono', title: new Date(e.timestamp).toISOString() }, clock(e.timestamp, true)),
      h('span', { class: `badge status-${cls}` }, e.status),
      h('span', { class: 'log-service' }, e.service),
      h('span', { class: 'log-msg mono' }, msg),
      e.traceId ? h('a', { class: 'trace-link', href: href('traces', e.traceId), title: `trace ${e.traceIdRaw ?? e.traceId}` }, 'trace ↗') : null,
    );
  }
}
