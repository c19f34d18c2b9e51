// Compares kennel's key mapping with Go's; reads main.go's output on stdin. Build first
// (`npx tsc -b packages/aggregator`). Prints the number of mismatches; exits 1 on any.
import { createInterface } from 'node:readline';
import { sketchKey, sketchKeyLowerBound } from '../../../dist/src/index.js';

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
const bits = (x) => ((f64[0] = x), u64[0].toString(16));
const fromHex = (h) => ((u64[0] = BigInt('0x' + h)), f64[0]);

let keys = 0;
let keyMismatches = 0;
let bounds = 0;
let boundMismatches = 0;
for await (const line of createInterface({ input: process.stdin })) {
  const [kind, a, b] = line.split(' ');
  if (kind === 'F') {
    bounds++;
    if (bits(sketchKeyLowerBound(Number(a))) !== b) boundMismatches++;
  } else if (kind === 'K') {
    keys++;
    const v = fromHex(a);
    if (sketchKey(v) !== Number(b)) {
      keyMismatches++;
      if (keyMismatches <= 10) console.log(`key(${v}) = ${sketchKey(v)}, Go: ${b}`);
    }
  }
}
console.log({ keys, keyMismatches, bounds, boundMismatches });
process.exit(keyMismatches + boundMismatches === 0 && keys > 0 ? 0 : 1);
