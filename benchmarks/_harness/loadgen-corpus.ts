/**
 * The corpus file `e2e-dogstatsd/loadgen.c` replays: a 12-byte head (`KDSC`, version 1, packet
 * count), then per packet a 12-byte head (bytes, lines, samples) and the packet. Shared by the
 * e2e-dogstatsd and soak benchmarks.
 */

/** Values a server counts for one line: kennel's `MetricPackets` counts each value of `a:1:2:3|d`; a set counts once. */
export function samplesOf(line: Buffer, start: number, end: number): number {
  const colon = line.indexOf(0x3a, start);
  const pipe = line.indexOf(0x7c, start);
  if (colon < 0 || pipe < 0 || pipe > end) return 1;
  if (line[pipe + 1] === 0x73 && (line[pipe + 2] === 0x7c || pipe + 2 >= end)) return 1; // |s
  let n = 1;
  for (let i = colon + 1; i < pipe; i++) if (line[i] === 0x3a) n++;
  return n;
}

/** The file's bytes, and the lines, samples and packet bytes it holds. */
export function encodeLoadgenCorpus(packets: readonly Buffer[]): { file: Buffer; lines: number; samples: number; bytes: number } {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(12);
  head.write('KDSC', 0, 'latin1');
  head.writeUInt32LE(1, 4);
  head.writeUInt32LE(packets.length, 8);
  parts.push(head);
  let lines = 0;
  let samples = 0;
  let bytes = 0;
  for (const p of packets) {
    let l = 0;
    let s = 0;
    let start = 0;
    while (start <= p.length) {
      let end = p.indexOf(0x0a, start);
      if (end < 0) end = p.length;
      l++;
      s += samplesOf(p, start, end);
      start = end + 1;
    }
    const h = Buffer.alloc(12);
    h.writeUInt32LE(p.length, 0);
    h.writeUInt32LE(l, 4);
    h.writeUInt32LE(s, 8);
    parts.push(h, p);
    lines += l;
    samples += s;
    bytes += p.length;
  }
  return { file: Buffer.concat(parts), lines, samples, bytes };
}
