import { get, type ContextDetail, type MetricDetail, type MetricPoints, type MetricSummary } from './api.js';
import { TimeChart } from './chart.js';
import { clear, debounce, h, replace, throttle } from './dom.js';
import { ago, colour, num } from './fmt.js';
import { href, METRIC_KINDS, type Route, type View } from './view.js';

/** Metrics: every name with its type, contexts and latest value; a chart and the contexts of one. */

const LIST_ROWS = 300;
const CHART_CONTEXTS = 50;
const SKETCH_COLUMNS = ['count', 'min', 'max', 'avg', 'p50', 'p75', 'p95', 'p99'] as const;

function typeBadge(t: string): HTMLElement {
  return h('span', { class: `badge type-${t}` }, t);
}

function contextLabel(c: { host: string; device?: string; tags: readonly string[] }): string {
  const parts = [...c.tags];
  if (c.device) parts.unshift(`device:${c.device}`);
  if (c.host) parts.unshift(`host:${c.host}`);
  return parts.length > 0 ? parts.join(', ') : '(no tags)';
}

function latestCell(m: MetricSummary): string {
  if (m.type === 'distribution' && m.stats) return `p50 ${num(m.stats.p50)} · p99 ${num(m.stats.p99)}`;
  if (m.type === 'histogram' && m.aggregates) {
    const pick = m.aggregates.filter((a) => a.stat === 'avg' || a.stat === 'max');
    return (pick.length > 0 ? pick : m.aggregates.slice(0, 2)).map((a) => `${a.stat} ${a.latest ? num(a.latest.value) : '–'}`).join(' · ');
  }
  if (!m.latest) return '–';
  if (m.contexts > 1 && m.range && m.range[0] !== m.range[1]) return `${num(m.range[0])} … ${num(m.range[1])}`;
  return num(m.latest.value);
}

export class MetricsView implements View {
  private nameInput!: HTMLInputElement;
  private tagInput!: HTMLInputElement;
  private listEl!: HTMLElement;
  private countEl!: HTMLElement;
  private detailEl!: HTMLElement;
  private chart: TimeChart | null = null;
  private selected = '';
  private stat = '';
  private detailName = '';
  private gen = 0;
  private readonly refresh = throttle(() => void this.load(), 1000);

  mount(root: HTMLElement, route: Route): void {
    this.nameInput = h('input', { type: 'search', placeholder: 'filter by name (text or /regex/)', value: route.query.get('name') ?? '', 'aria-label': 'metric name filter' });
    this.tagInput = h('input', { type: 'search', placeholder: 'filter by tag: env:prod service:web', value: route.query.get('tag') ?? '', 'aria-label': 'tag filter' });
    const onInput = debounce(() => this.navigate(), 250);
    this.nameInput.addEventListener('input', onInput);
    this.tagInput.addEventListener('input', onInput);
    this.countEl = h('span', { class: 'muted' });
    this.listEl = h('div', { class: 'list', id: 'metric-list' });
    this.detailEl = h('section', { class: 'detail', id: 'metric-detail' });
    root.append(
      h('div', { class: 'split' }, h('section', { class: 'side' }, h('div', { class: 'filters' }, this.nameInput, this.tagInput, this.countEl), this.listEl), this.detailEl),
    );
    this.update(route);
  }

  /** The hash this view set itself (while typing): its inputs already say what it holds. */
  private ownHash = '';

  private navigate(): void {
    location.hash = href('metrics', this.selected, { name: this.nameInput.value, tag: this.tagInput.value, stat: this.stat || undefined });
    this.ownHash = location.hash;
  }

  update(route: Route): void {
    if (location.hash !== this.ownHash) {
      this.nameInput.value = route.query.get('name') ?? '';
      this.tagInput.value = route.query.get('tag') ?? '';
    }
    this.selected = route.arg;
    this.stat = route.query.get('stat') ?? '';
    void this.load();
  }

  unmount(): void {
    this.chart?.destroy();
    this.chart = null;
  }

  changed(kinds: readonly string[]): void {
    if (kinds.some((k) => METRIC_KINDS.includes(k))) this.refresh();
  }

  private async load(): Promise<void> {
    const gen = ++this.gen;
    const name = this.nameInput.value.trim();
    const tag = this.tagInput.value.trim();
    try {
      const list = await get<{ total: number; metrics: MetricSummary[] }>('metrics', { name, tag });
      if (gen !== this.gen) return;
      this.renderList(list.metrics, list.total);
      if (this.selected === '' && list.metrics.length > 0) this.selected = list.metrics[0]!.name;
      if (this.selected !== '') await this.loadDetail(gen, tag);
      else replace(this.detailEl, h('p', { class: 'empty' }, 'No metrics yet. Send some to DogStatsD (udp 127.0.0.1:8125): they show up after the next flush (every 15 s).'));
    } catch (e) {
      if (gen === this.gen) replace(this.listEl, h('p', { class: 'error' }, (e as Error).message));
    }
  }

  private renderList(metrics: MetricSummary[], total: number): void {
    this.countEl.textContent = `${total} metric${total === 1 ? '' : 's'}`;
    if (metrics.length === 0) {
      replace(this.listEl, h('p', { class: 'empty' }, this.nameInput.value || this.tagInput.value ? 'Nothing matches the filter.' : 'No metrics yet.'));
      return;
    }
    const rows = metrics.slice(0, LIST_ROWS).map((m) =>
      h(
        'tr',
        {
          class: m.name === this.selected ? 'selected' : '',
          data: { metric: m.name },
          on: {
            click: () => {
              this.selected = m.name;
              this.stat = '';
              this.navigate();
            },
          },
        },
        h('td', { class: 'mono name' }, m.name),
        h('td', null, typeBadge(m.type)),
        h('td', { class: 'num' }, num(m.contexts)),
        h('td', { class: 'num mono latest' }, latestCell(m)),
      ),
    );
    replace(
      this.listEl,
      h('table', { class: 'grid' }, h('thead', null, h('tr', null, h('th', null, 'name'), h('th', null, 'type'), h('th', { class: 'num' }, 'contexts'), h('th', { class: 'num' }, 'latest'))), h('tbody', null, rows)),
      metrics.length > LIST_ROWS ? h('p', { class: 'muted' }, `${metrics.length - LIST_ROWS} more: narrow the filter to see them.`) : null,
    );
  }

  private async loadDetail(gen: number, tag: string): Promise<void> {
    const name = this.selected;
    let detail: MetricDetail;
    try {
      detail = await get<MetricDetail>(`metrics/${encodeURIComponent(name)}`, { tag, limit: 500 });
    } catch (e) {
      if (gen !== this.gen) return;
      this.chart?.destroy();
      this.chart = null;
      this.detailName = '';
      replace(this.detailEl, h('p', { class: 'empty' }, `${name}: ${(e as Error).message}`));
      return;
    }
    const stat = this.stat !== '' && detail.stats?.includes(this.stat) ? this.stat : detail.type === 'histogram' ? (detail.stats?.includes('avg') ? 'avg' : (detail.stats?.[0] ?? '')) : detail.type === 'distribution' ? 'p50' : '';
    const points = await get<MetricPoints>(`metrics/${encodeURIComponent(name)}/points`, { tag, stat, max_contexts: CHART_CONTEXTS });
    if (gen !== this.gen) return;
    this.renderDetail(detail, points, stat);
  }

  private renderDetail(d: MetricDetail, p: MetricPoints, stat: string): void {
    if (this.detailName !== d.name || this.chart === null) {
      this.chart?.destroy();
      clear(this.detailEl);
      this.detailName = d.name;
      const head = h('div', { class: 'detail-head' });
      const chartEl = h('div', { id: 'metric-chart' });
      const note = h('p', { class: 'muted chart-note' });
      const table = h('div', { class: 'contexts' });
      this.detailEl.append(head, chartEl, note, table);
      this.chart = new TimeChart(chartEl);
    }
    const [head, , note, table] = [...this.detailEl.children] as HTMLElement[];
    const stats = d.stats ?? [];
    replace(
      head!,
      h('h2', { class: 'mono' }, d.name),
      typeBadge(d.type),
      h('span', { class: 'muted' }, ` ${num(d.contextCount)} context${d.contextCount === 1 ? '' : 's'}`),
      stats.length > 0
        ? h(
            'div',
            { class: 'stats-pick', role: 'group', 'aria-label': 'statistic' },
            stats.map((s) =>
              h(
                'button',
                {
                  class: s === stat ? 'on' : '',
                  on: {
                    click: () => {
                      this.stat = s;
                      this.navigate();
                    },
                  },
                },
                s,
              ),
            ),
          )
        : null,
      h('button', { class: 'link', title: 'drag across the chart to zoom; double-click to zoom out', on: { click: () => this.chart?.resetZoom() } }, 'reset zoom'),
    );
    this.chart!.set(p.contexts.map((c, i) => ({ label: contextLabel(c), colour: colour(i), points: c.points })));
    note!.textContent = p.truncated ? `The chart shows the ${p.contexts.length} contexts with the highest latest ${stat || 'value'} of ${p.contextCount}; filter by tag to narrow.` : stat ? `Chart: ${stat}.` : '';
    const colourOf = new Map(p.contexts.map((c, i) => [contextLabel(c), colour(i)]));
    replace(table!, this.contextTable(d, colourOf));
  }

  private contextTable(d: MetricDetail, colours: Map<string, string>): HTMLElement {
    const cols: string[] = d.type === 'distribution' ? [...SKETCH_COLUMNS] : d.type === 'histogram' ? (d.stats ?? []) : ['latest'];
    const cell = (c: ContextDetail, col: string): string => {
      if (d.type === 'distribution') return num(c.stats ? c.stats[col as (typeof SKETCH_COLUMNS)[number]] : null);
      if (d.type === 'histogram') return num(c.aggregates?.[col]?.value ?? null);
      return num(c.latest?.value ?? null);
    };
    const rows = d.contexts.map((c) => {
      const label = contextLabel(c);
      const sw = colours.get(label);
      return h(
        'tr',
        null,
        h('td', null, sw ? h('span', { class: 'swatch', style: `background:${sw}` }) : null),
        h('td', { class: 'mono tags' }, label),
        ...cols.map((col) => h('td', { class: 'num mono' }, cell(c, col))),
        h('td', { class: 'num muted' }, ago(c.lastReceivedAt)),
      );
    });
    return h(
      'div',
      null,
      h('table', { class: 'grid' }, h('thead', null, h('tr', null, h('th', null, ''), h('th', null, 'context'), ...cols.map((c) => h('th', { class: 'num' }, c)), h('th', { class: 'num' }, 'seen'))), h('tbody', null, rows)),
      d.truncated ? h('p', { class: 'muted' }, `${d.contextCount - d.contexts.length} more contexts: filter by tag to see them.`) : null,
      d.members ? h('p', { class: 'muted' }, `Histogram aggregates, one series each: ${d.members.join(', ')}.`) : null,
    );
  }
}
