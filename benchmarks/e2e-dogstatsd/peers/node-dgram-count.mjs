// The floor for a Node.js DogStatsD server: a node:dgram socket with an 8 MiB receive buffer
// whose 'message' handler only counts lines (1 + the number of '\n'). No parsing, no
// aggregation. Serves its counts as JSON on http://127.0.0.1:<HTTP_PORT>/. Benchmark-only.
//
//   node node-dgram-count.mjs UDP_PORT HTTP_PORT
import dgram from 'node:dgram';
import http from 'node:http';

const udpPort = Number(process.argv[2]);
const httpPort = Number(process.argv[3]);
let packets = 0;
let lines = 0;
let bytes = 0;
const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
sock.on('message', (msg) => {
  packets++;
  bytes += msg.length;
  let n = 1;
  let i = msg.indexOf(10);
  while (i !== -1) {
    n++;
    i = msg.indexOf(10, i + 1);
  }
  lines += n;
});
sock.bind(udpPort, '127.0.0.1', () => {
  http
    .createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ packets, lines, bytes, rcvbuf: sock.getRecvBufferSize() }));
    })
    .listen(httpPort, '127.0.0.1');
});
process.on('SIGTERM', () => process.exit(0));
