import { get, type MetricEvent, type ServiceCheck } from './api.js';
import { debounce, h, replace, throttle } from './dom.js';
import { clock } from './fmt.js';
import { href, type Route, type View } from './view.js';

/** Events and service checks, newest first. */

const CHECK_NAMES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'];

export class EventsView implements View {
  private qInput!: HTMLInputElement;
  private tagInput!: HTMLInputElement;
  private checksEl!: HTMLElement;
  private eventsEl!: HTMLElement;
  private gen = 0;
  private ownHash = '';
  private readonly refresh = throttle(() => void this.load(), 1000);

  mount(root: HTMLElement, route: Route): void {
    this.qInput = h('input', { type: 'search', placeholder: 'filter by text', 'aria-label': 'text filter' });
    this.tagInput = h('input', { type: 'search', placeholder: 'filter by tag', 'aria-label': 'tag filter' });
    const go = debounce(() => {
      location.hash = href('events', '', { q: this.qInput.value, tag: this.tagInput.value });
      this.ownHash = location.hash;
    }, 250);
    this.qInput.addEventListener('input', go);
    this.tagInput.addEventListener('input', go);
    this.checksEl = h('div', { id: 'checks' });
    this.eventsEl = h('div', { id: 'events' });
    root.append(
      h('div', { class: 'filters' }, this.qInput, this.tagInput),
      h('h2', null, 'Service checks (latest per check, host and tags)'),
      this.checksEl,
      h('h2', null, 'Events'),
      this.eventsEl,
    );
    this.update(route);
  }

  update(route: Route): void {
    if (location.hash !== this.ownHash) {
      this.qInput.value = route.query.get('q') ?? '';
      this.tagInput.value = route.query.get('tag') ?? '';
    }
    void this.load();
  }

  unmount(): void {}

  changed(kinds: readonly string[]): void {
    if (kinds.includes('events') || kinds.includes('check_runs')) this.refresh();
  }

  private async load(): Promise<void> {
    const gen = ++this.gen;
    const q = this.qInput.value.trim();
    const tag = this.tagInput.value.trim();
    const [checks, events] = await Promise.all([
      get<{ total: number; serviceChecks: ServiceCheck[] }>('service_checks', { name: q, tag, latest: 1, limit: 500 }),
      get<{ total: number; events: MetricEvent[] }>('events', { q, tag, limit: 500 }),
    ]);
    if (gen !== this.gen) return;
    replace(
      this.checksEl,
      checks.serviceChecks.length === 0
        ? h('p', { class: 'empty' }, 'No service checks.')
        : h(
            'table',
            { class: 'grid' },
            h('thead', null, h('tr', null, ['time', 'status', 'check', 'host', 'message', 'tags'].map((c) => h('th', null, c)))),
            h(
              'tbody',
              null,
              checks.serviceChecks.map((c) =>
                h(
                  'tr',
                  null,
                  h('td', { class: 'mono' }, clock((c.timestamp || c.receivedAt / 1000) * 1000)),
                  h('td', null, h('span', { class: `badge check-${c.status}` }, CHECK_NAMES[c.status] ?? String(c.status))),
                  h('td', { class: 'mono' }, c.name),
                  h('td', null, c.host),
                  h('td', null, c.message),
                  h('td', { class: 'mono tags' }, c.tags.join(', ')),
                ),
              ),
            ),
          ),
    );
    replace(
      this.eventsEl,
      events.events.length === 0
        ? h('p', { class: 'empty' }, 'No events.')
        : h(
            'table',
            { class: 'grid' },
            h('thead', null, h('tr', null, ['time', 'type', 'title', 'text', 'priority', 'host', 'tags'].map((c) => h('th', null, c)))),
            h(
              'tbody',
              null,
              events.events.map((e) =>
                h(
                  'tr',
                  null,
                  h('td', { class: 'mono' }, clock((e.timestamp || e.receivedAt / 1000) * 1000)),
                  h('td', null, h('span', { class: `badge alert-${e.alertType}` }, e.alertType)),
                  h('td', null, h('strong', null, e.title)),
                  h('td', { class: 'pre' }, e.text),
                  h('td', null, e.priority),
                  h('td', null, e.host),
                  h('td', { class: 'mono tags' }, e.tags.join(', ')),
                ),
              ),
            ),
          ),
      events.total > events.events.length ? h('p', { class: 'muted' }, `${events.total - events.events.length} older events not shown.`) : null,
    );
  }
}
