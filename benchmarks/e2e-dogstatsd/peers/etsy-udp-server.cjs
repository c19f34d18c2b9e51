// Etsy statsd's own servers/udp.js (statsd 0.9.0), plus the one option it lacks: the socket's
// receive buffer (recvBufferSize, as netdata and the Datadog agent ask for). Loaded by statsd
// through its `servers: [{ server: <this path> }]` setting. Benchmark-only.
'use strict';
const dgram = require('dgram');

exports.start = function (config, callback) {
  const server = dgram.createSocket({
    type: config.address_ipv6 ? 'udp6' : 'udp4',
    recvBufferSize: Number(config.recvBufferSize || 0) || undefined,
  });
  server.on('message', callback);
  server.on('listening', () => {
    let granted = -1;
    try {
      granted = server.getRecvBufferSize();
    } catch {
      // not bound yet on very old Node; the harness reads the socket from /proc anyway
    }
    process.stdout.write(`kennel-bench: etsy udp listening on ${config.address}:${config.port}, SO_RCVBUF ${granted}\n`);
  });
  server.bind(config.port || 8125, config.address || undefined);
  this.server = server;
  return true;
};
