// A statsd backend that keeps running totals of statsd's own `statsd.metrics_received`,
// `statsd.packets_received` and `statsd.bad_lines_seen` counters across flushes (statsd resets
// them at every flush) and reports them through the management port's `stats` command as
// `kennelbench.metrics_received: N`. It does no per-packet work. Benchmark-only.
'use strict';

exports.init = function (startupTime, config, events) {
  const prefix = config.prefixStats || 'statsd';
  const totals = { metrics_received: 0, packets_received: 0, bad_lines_seen: 0, flushes: 0 };
  events.on('flush', (ts, metrics) => {
    const c = metrics.counters;
    totals.metrics_received += c[`${prefix}.metrics_received`] || 0;
    totals.packets_received += c[`${prefix}.packets_received`] || 0;
    totals.bad_lines_seen += c[`${prefix}.bad_lines_seen`] || 0;
    totals.flushes++;
  });
  events.on('status', (write) => {
    for (const k of Object.keys(totals)) write(null, 'kennelbench', k, totals[k]);
  });
  return true;
};
