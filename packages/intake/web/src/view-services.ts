import { get, type Figures, type ServiceRow } from './api.js';
import { h, replace, throttle } from './dom.js';
import { colourOf, duration, num } from './fmt.js';
import { href, type Route, type View } from './view.js';

/** Services: hits, errors and latency percentiles, from the APM stats (or the held spans). */

export class ServicesView implements View {
  private body!: HTMLElement;
  private open = new Set<string>();
  private gen = 0;
  private readonly refresh = throttle(() => void this.load(), 2000);

  mount(root: HTMLElement, route: Route): void {
    this.body = h('div', { id: 'services' });
    root.append(this.body);
    this.update(route);
  }

  update(route: Route): void {
    if (route.arg !== '') this.open.add(route.arg);
    void this.load();
  }

  unmount(): void {}

  changed(kinds: readonly string[]): void {
    if (kinds.includes('stats') || kinds.includes('traces')) this.refresh();
  }

  private async load(): Promise<void> {
    const gen = ++this.gen;
    const r = await get<{ services: ServiceRow[] }>('services');
    if (gen !== this.gen) return;
    if (r.services.length === 0) {
      replace(this.body, h('p', { class: 'empty' }, 'No services yet: they come from the APM stats and the spans of the traces received.'));
      return;
    }
    const cells = (f: Figures): HTMLElement[] => [
      h('td', { class: 'num' }, num(f.hits)),
      h('td', { class: 'num' }, f.errors > 0 ? h('span', { class: 'err-text' }, num(f.errors)) : '0'),
      h('td', { class: 'num' }, f.hits > 0 ? `${((f.errors / f.hits) * 100).toFixed(1)} %` : '–'),
      h('td', { class: 'num' }, duration(f.avgDuration)),
      h('td', { class: 'num' }, duration(f.p50)),
      h('td', { class: 'num' }, duration(f.p75)),
      h('td', { class: 'num' }, duration(f.p95)),
      h('td', { class: 'num' }, duration(f.p99)),
    ];
    const rows: HTMLElement[] = [];
    for (const s of r.services) {
      const isOpen = this.open.has(s.service);
      rows.push(
        h(
          'tr',
          {
            class: 'service-row',
            data: { service: s.service },
            on: {
              click: () => {
                if (isOpen) this.open.delete(s.service);
                else this.open.add(s.service);
                void this.load();
              },
            },
          },
          h('td', null, isOpen ? '▾ ' : '▸ ', h('span', { class: 'dot', style: `background:${colourOf(s.service)}` }), h('strong', null, s.service || '(no service)')),
          h('td', null, h('span', { class: `badge src-${s.source}`, title: s.source === 'stats' ? 'from the APM stats' : 'computed from the top-level spans held' }, s.source)),
          ...cells(s),
          h('td', { class: 'num' }, h('a', { href: href('traces', '', { service: s.service }), on: { click: (e) => e.stopPropagation() } }, num(s.traces))),
          h('td', { class: 'num' }, num(s.spans)),
        ),
      );
      if (isOpen) {
        for (const res of s.resources.slice(0, 50)) {
          rows.push(h('tr', { class: 'resource-row' }, h('td', { class: 'mono', colspan: 2 }, `   ${res.resource}`, h('span', { class: 'muted' }, ` ${res.name}`)), ...cells(res), h('td', null, ''), h('td', null, '')));
        }
      }
    }
    replace(
      this.body,
      h(
        'table',
        { class: 'grid', id: 'services-table' },
        h('thead', null, h('tr', null, ['service', 'source', 'hits', 'errors', 'error rate', 'avg', 'p50', 'p75', 'p95', 'p99', 'traces', 'spans'].map((c, i) => h('th', { class: i >= 2 ? 'num' : '' }, c)))),
        h('tbody', null, rows),
      ),
    );
  }
}
