import { get, HttpError, type ServiceRow, type SpanJson, type TraceDetail, type TraceSummary } from './api.js';
import { clear, debounce, h, replace, throttle } from './dom.js';
import { clock, colourOf, duration, num } from './fmt.js';
import { href, type Route, type View } from './view.js';

/** Traces: the recent ones, and a waterfall of one with each span's meta and metrics. */

const ROW = 24;

export class TracesView implements View {
  private root!: HTMLElement;
  private serviceSel!: HTMLSelectElement;
  private qInput!: HTMLInputElement;
  private errOnly!: HTMLInputElement;
  private body!: HTMLElement;
  private route!: Route;
  private gen = 0;
  private waterfall: Waterfall | null = null;
  private ownHash = '';
  private readonly refresh = throttle(() => void this.load(), 1000);

  mount(root: HTMLElement, route: Route): void {
    this.root = root;
    this.serviceSel = h('select', { 'aria-label': 'service' }, h('option', { value: '' }, 'all services'));
    this.qInput = h('input', { type: 'search', placeholder: 'filter by resource or operation', 'aria-label': 'text filter' });
    this.errOnly = h('input', { type: 'checkbox', 'aria-label': 'errors only' });
    const go = (): void => {
      location.hash = href('traces', '', { service: this.serviceSel.value, q: this.qInput.value, error: this.errOnly.checked ? '1' : undefined });
      this.ownHash = location.hash;
    };
    this.serviceSel.addEventListener('change', go);
    this.errOnly.addEventListener('change', go);
    this.qInput.addEventListener('input', debounce(go, 250));
    this.body = h('div', { id: 'traces-body' });
    root.append(h('div', { class: 'filters', id: 'trace-filters' }, this.serviceSel, this.qInput, h('label', null, this.errOnly, ' errors only')), this.body);
    this.update(route);
  }

  update(route: Route): void {
    this.route = route;
    (this.root.querySelector('#trace-filters') as HTMLElement).hidden = route.arg !== '';
    if (location.hash !== this.ownHash) this.qInput.value = route.query.get('q') ?? '';
    this.errOnly.checked = route.query.get('error') === '1';
    this.ensureService(route.query.get('service') ?? '');
    this.serviceSel.value = route.query.get('service') ?? '';
    if (route.arg === '' && this.waterfall !== null) {
      this.waterfall = null;
      clear(this.body);
    }
    void this.load();
  }

  unmount(): void {
    this.waterfall = null;
  }

  changed(kinds: readonly string[]): void {
    if (kinds.includes('traces')) this.refresh();
  }

  private ensureService(s: string): void {
    if (s === '' || [...this.serviceSel.options].some((o) => o.value === s)) return;
    this.serviceSel.append(h('option', { value: s }, s));
  }

  private async load(): Promise<void> {
    const gen = ++this.gen;
    const r = this.route;
    try {
      if (r.arg !== '') {
        const t = await get<TraceDetail>(`traces/${encodeURIComponent(r.arg)}`);
        if (gen !== this.gen) return;
        if (this.waterfall === null || this.waterfall.id !== t.traceId) {
          clear(this.body);
          this.waterfall = new Waterfall(this.body, t, r.query.get('span') ?? '');
        } else this.waterfall.update(t);
        return;
      }
      const [list, services] = await Promise.all([
        get<{ total: number; traces: TraceSummary[] }>('traces', { service: r.query.get('service') ?? '', q: r.query.get('q') ?? '', error: r.query.get('error') === '1' ? 'true' : undefined, limit: 200 }),
        get<{ services: ServiceRow[] }>('services'),
      ]);
      if (gen !== this.gen) return;
      for (const s of services.services) this.ensureService(s.service);
      this.renderList(list.traces, list.total);
    } catch (e) {
      if (gen !== this.gen) return;
      this.waterfall = null;
      const msg = e instanceof HttpError && e.status === 404 ? `Trace ${r.arg} is not held (it may not have arrived yet, or it left the window).` : (e as Error).message;
      replace(this.body, h('p', { class: 'empty' }, msg), h('p', null, h('a', { href: '#/traces' }, '← all traces')));
    }
  }

  private renderList(traces: TraceSummary[], total: number): void {
    if (traces.length === 0) {
      replace(this.body, h('p', { class: 'empty' }, 'No traces yet. Point a tracer at the APM receiver (http://127.0.0.1:8126).'));
      return;
    }
    const rows = traces.map((t) =>
      h(
        'tr',
        { data: { trace: t.traceId }, on: { click: () => (location.hash = href('traces', t.traceId)) } },
        h('td', { class: 'mono' }, clock(t.startMs, true)),
        h('td', null, h('span', { class: 'dot', style: `background:${colourOf(t.service)}` }), t.service),
        h('td', { class: 'mono' }, t.resource),
        h('td', { class: 'mono muted' }, t.name),
        h('td', { class: 'num' }, duration(t.duration)),
        h('td', { class: 'num' }, num(t.spanCount)),
        h('td', null, t.error ? h('span', { class: 'badge status-error' }, `${t.errors} error${t.errors === 1 ? '' : 's'}`) : ''),
        h('td', { class: 'mono muted' }, h('a', { href: href('traces', t.traceId) }, t.traceId)),
      ),
    );
    replace(
      this.body,
      h('p', { class: 'muted' }, `${total} trace${total === 1 ? '' : 's'}${total > traces.length ? `, the newest ${traces.length} shown` : ''}`),
      h(
        'table',
        { class: 'grid', id: 'trace-list' },
        h('thead', null, h('tr', null, ['start', 'service', 'resource', 'operation', 'duration', 'spans', 'error', 'trace id'].map((c) => h('th', { class: c === 'duration' || c === 'spans' ? 'num' : '' }, c)))),
        h('tbody', null, rows),
      ),
    );
  }
}

/** A trace's spans on a time line, drawn row by row as they scroll into view (10,000 spans stay smooth). */
class Waterfall {
  readonly id: string;
  private t: TraceDetail;
  private readonly head: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly rows: HTMLElement;
  private readonly panel: HTMLElement;
  private selected: string;
  private drawn = '';

  constructor(root: HTMLElement, t: TraceDetail, selected: string) {
    this.id = t.traceId;
    this.t = t;
    this.selected = selected;
    this.head = h('div', { class: 'trace-head' });
    this.rows = h('div', { class: 'wf-rows' });
    this.spacer = h('div', { class: 'wf-spacer' }, this.rows);
    this.scroller = h('div', { class: 'waterfall', id: 'waterfall', tabindex: '0' }, this.spacer);
    this.panel = h('section', { class: 'span-panel', id: 'span-panel' });
    root.append(h('p', null, h('a', { href: '#/traces' }, '← all traces')), this.head, h('div', { class: 'wf-axis', id: 'wf-axis' }), this.scroller, this.panel);
    this.scroller.addEventListener('scroll', () => this.draw());
    new ResizeObserver(() => this.draw(true)).observe(this.scroller);
    this.update(t);
  }

  update(t: TraceDetail): void {
    this.t = t;
    const s = t;
    replace(
      this.head,
      h('h2', null, h('span', { class: 'dot', style: `background:${colourOf(s.service)}` }), `${s.service} · `, h('span', { class: 'mono' }, s.resource)),
      h(
        'p',
        { class: 'muted' },
        `${s.name} · ${duration(s.duration)} · ${num(s.spanCount)} spans · ${s.services.length} service${s.services.length === 1 ? '' : 's'} · started ${new Date(s.startMs).toLocaleString()} · trace id `,
        h('span', { class: 'mono', id: 'trace-id' }, s.traceId),
        s.traceIdHex ? h('span', { class: 'mono muted' }, ` (${s.traceIdHex})`) : null,
        ' · ',
        h('a', { href: href('logs', '', { trace_id: s.traceId }) }, 'logs of this trace'),
        s.error ? h('span', { class: 'badge status-error' }, ` ${s.errors} error${s.errors === 1 ? '' : 's'}`) : null,
      ),
    );
    const axis = document.getElementById('wf-axis');
    if (axis) replace(axis, h('div', { class: 'wf-label' }, 'span'), h('div', { class: 'wf-track' }, [0, 0.25, 0.5, 0.75, 1].map((f) => h('span', { class: 'tick', style: `left:${f * 100}%` }, duration(f * s.duration)))));
    this.spacer.style.height = `${t.spans.length * ROW}px`;
    this.scroller.style.height = `${Math.min(t.spans.length * ROW + 2, Math.max(240, Math.round(window.innerHeight * 0.55)))}px`;
    this.draw(true);
    const sel = t.spans.find((x) => x.spanId === this.selected) ?? t.spans[0];
    if (sel) this.showSpan(sel);
  }

  private draw(force = false): void {
    const spans = this.t.spans;
    const top = this.scroller.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW) - 20);
    const last = Math.min(spans.length, Math.ceil((top + (this.scroller.clientHeight || 600)) / ROW) + 20);
    const key = `${first}:${last}:${this.selected}:${spans.length}`;
    if (!force && key === this.drawn) return;
    this.drawn = key;
    const total = Math.max(1, this.t.duration);
    const out: HTMLElement[] = [];
    for (let i = first; i < last; i++) {
      const s = spans[i]!;
      const left = (s.offset / total) * 100;
      const width = Math.max(0.15, (s.duration / total) * 100);
      const c = colourOf(s.service);
      out.push(
        h(
          'div',
          {
            class: `wf-row${s.spanId === this.selected ? ' selected' : ''}${s.error ? ' err' : ''}`,
            style: `top:${i * ROW}px`,
            data: { span: s.spanId },
            on: { click: () => this.select(s) },
          },
          h(
            'div',
            { class: 'wf-label', style: `padding-left:${6 + Math.min(s.depth, 40) * 14}px`, title: `${s.service} ${s.name} ${s.resource}` },
            h('span', { class: 'dot', style: `background:${c}` }),
            h('span', { class: 'svc' }, s.service),
            ' ',
            h('span', { class: 'mono' }, s.name),
          ),
          h(
            'div',
            { class: 'wf-track' },
            h('div', { class: 'wf-bar', style: `left:${left}%;width:${width}%;background:${c}` }),
            h('span', { class: 'wf-dur', style: left > 70 ? `right:${100 - left + 0.5}%` : `left:${Math.min(99, left + width) + 0.5}%` }, `${duration(s.duration)} ${s.resource !== s.name ? s.resource : ''}`),
          ),
        ),
      );
    }
    replace(this.rows, out);
  }

  private select(s: SpanJson): void {
    this.selected = s.spanId;
    history.replaceState(null, '', href('traces', this.id, { span: s.spanId }));
    this.draw(true);
    this.showSpan(s);
  }

  private showSpan(s: SpanJson): void {
    const kv = (o: Record<string, unknown>): HTMLElement =>
      h(
        'table',
        { class: 'kv' },
        h(
          'tbody',
          null,
          Object.keys(o)
            .sort()
            .map((k) => h('tr', null, h('th', { class: 'mono' }, k), h('td', { class: 'mono pre' }, typeof o[k] === 'object' ? JSON.stringify(o[k]) : String(o[k])))),
        ),
      );
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s)) if (!['traceId', 'spanId', 'parentId', 'service', 'name', 'resource', 'type', 'start', 'duration', 'error', 'meta', 'metrics', 'depth', 'offset'].includes(k)) extra[k] = v;
    const startNs = BigInt(s.start);
    replace(
      this.panel,
      h('h3', null, h('span', { class: 'dot', style: `background:${colourOf(s.service)}` }), `${s.service} · ${s.name}`, s.error ? h('span', { class: 'badge status-error' }, 'error') : null),
      kv({
        resource: s.resource,
        type: s.type,
        duration: duration(s.duration),
        start: `${new Date(Number(startNs / 1_000_000n)).toISOString()} (+${duration(s.offset)})`,
        span_id: s.spanId,
        parent_id: s.parentId,
        trace_id: s.traceId,
        error: s.error,
      }),
      h('h4', null, `meta (${Object.keys(s.meta).length})`),
      kv(s.meta),
      h('h4', null, `metrics (${Object.keys(s.metrics).length})`),
      kv(s.metrics),
      Object.keys(extra).length > 0 ? [h('h4', null, 'more'), kv(extra)] : null,
    );
  }
}
