/**
 * The application of the APM integration tests: the real dd-trace (5.x) sends nested spans with
 * errors, tags, metrics and resources to the agent at `DD_TRACE_AGENT_URL` (`http://...` or
 * `unix:///...`), prints what it created (one JSON line on stdout: every span's ids, name,
 * service, resource and error), waits for the tracer to flush, and exits.
 *
 * `ORDERS`: how many requests (default 4); the third one fails, the second one's query fails.
 */
import tracer from 'dd-trace';

tracer.init({
  flushInterval: 50,
  startupLogs: false,
  plugins: false,
  runtimeMetrics: false,
});

interface Made {
  name: string;
  service: string;
  resource: string;
  traceId: string;
  spanId: string;
  parent: string | null;
  error: boolean;
}

const made: Made[] = [];
const ids = (span: unknown): { traceId: string; spanId: string } => {
  const c = (span as { context(): { toTraceId(): string; toSpanId(): string } }).context();
  return { traceId: c.toTraceId(), spanId: c.toSpanId() };
};

function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // a span with a real duration
  }
}

const service = process.env.DD_SERVICE ?? 'shop';
const orders = Number(process.env.ORDERS ?? 4);
for (let i = 0; i < orders; i++) {
  tracer.trace('web.request', { resource: 'GET /orders/:id', type: 'web' }, (root) => {
    root!.setTag('http.method', 'GET');
    root!.setTag('http.status_code', i === 2 ? '500' : '200');
    root!.setTag('order.id', String(i));
    root!.setTag('order.total', 10.5 * (i + 1));
    const r = ids(root);
    const rootMade: Made = { name: 'web.request', service, resource: 'GET /orders/:id', ...r, parent: null, error: i === 2 };
    made.push(rootMade);
    tracer.trace('pg.query', { service: `${service}-db`, resource: 'SELECT * FROM orders WHERE id = $1', type: 'sql' }, (q) => {
      const qi = ids(q);
      made.push({ name: 'pg.query', service: `${service}-db`, resource: 'SELECT * FROM orders WHERE id = $1', ...qi, parent: r.spanId, error: i === 1 });
      tracer.trace('pg.parse', { service: `${service}-db`, resource: 'parse' }, (p) => {
        made.push({ name: 'pg.parse', service: `${service}-db`, resource: 'parse', ...ids(p), parent: qi.spanId, error: false });
        busy(1);
      });
      busy(2);
      if (i === 1) q!.setTag('error', new Error('deadlock detected'));
    });
    tracer.trace('template.render', { resource: 'order.html' }, (t) => {
      made.push({ name: 'template.render', service, resource: 'order.html', ...ids(t), parent: r.spanId, error: false });
      busy(1);
    });
    if (i === 2) root!.setTag('error', new Error('payment declined'));
  });
}
process.stdout.write(JSON.stringify(made) + '\n');
// The tracer flushes every 50 ms; give it time, over TCP or the Unix socket.
setTimeout(() => process.exit(0), 1500);
