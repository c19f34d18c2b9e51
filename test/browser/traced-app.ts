/**
 * The application of the browser tests: dd-trace spans to kennel's APM receiver
 * (`DD_TRACE_AGENT_PORT`), and log lines on stdout and stderr that carry `dd.trace_id` the way
 * dd-trace's log injection writes it. It keeps running until it is stopped, as a service would.
 *
 * `KENNEL_TEST_MARKER`: a file it creates when it starts (so a test can tell whether
 * `kennel run -- CMD` started it).
 */
import { writeFileSync } from 'node:fs';
import tracer from 'dd-trace';

tracer.init({
  service: 'shop',
  env: 'browser-test',
  version: '1.2.3',
  hostname: '127.0.0.1',
  port: Number(process.env.DD_TRACE_AGENT_PORT ?? 8126),
  flushInterval: 200,
  startupLogs: false,
  plugins: false,
});

const marker = process.env.KENNEL_TEST_MARKER;
if (marker) writeFileSync(marker, String(process.pid));

function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // spin: a span with a real duration
  }
}

const orders = Number(process.env.ORDERS ?? 3);
for (let i = 0; i < orders; i++) {
  tracer.trace('web.request', { resource: `GET /orders/${i}`, type: 'web' }, (span) => {
    span?.setTag('http.method', 'GET');
    span?.setTag('http.status_code', i === 2 ? '500' : '200');
    tracer.trace('pg.query', { service: 'shop-db', resource: 'SELECT * FROM orders WHERE id = $1', type: 'sql' }, () => busy(3));
    tracer.trace('template.render', { resource: 'order.html' }, () => busy(1));
    const ctx = span!.context() as unknown as { toTraceId(full?: boolean): string; toSpanId(): string };
    const line = { level: i === 2 ? 'error' : 'info', msg: `order ${i} served`, dd: { trace_id: ctx.toTraceId(true), span_id: ctx.toSpanId(), service: 'shop' } };
    if (i === 2) {
      span?.setTag('error', new Error('payment declined'));
      console.error(JSON.stringify(line));
    } else {
      console.log(JSON.stringify(line));
    }
  });
}
console.error('warning: stock is low');

setInterval(() => {}, 1000);
process.on('SIGTERM', () => process.exit(0));
