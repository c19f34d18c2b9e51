/**
 * The deliberately naive DogStatsD parser: the baseline the codec benchmark measures against.
 *
 * This is how typical JavaScript statsd servers parse (etsy/statsd's `stats.js`, and the style
 * anchors' "pattern to avoid", 6.4): decode the whole datagram to a string, `split('\n')`,
 * `split('|')`, `split(':')`, `split(',')` for tags, `parseFloat` for numbers, and one object per
 * metric holding strings. It is correct only on valid input; it does not follow the agent's
 * grammar on malformed lines (for example `parseFloat('12abc')` is 12). The benchmark checks
 * that it agrees with the codec on its valid corpus before timing anything.
 */

/** One parsed metric, the way a naive server holds it: strings and a fresh array per line. */
export interface NaiveMetric {
  name: string;
  /** Wire type: `g`, `c`, `h`, `ms`, `d` or `s`. */
  type: string;
  /** Numeric values; empty for sets. */
  values: number[];
  /** The set member for `s`, otherwise null. */
  setMember: string | null;
  sampleRate: number;
  tags: string[];
}

export type NaiveVisitor = (metric: NaiveMetric) => void;

/** Parses one datagram and calls `visit` once per metric line. Events and service checks are skipped. */
export function naiveParse(packet: Buffer, visit: NaiveVisitor): void {
  // Plain indexed loops over the split arrays (not slice/filter/map chains) keep the baseline
  // honest: this is the string-splitting design at its reasonable best, not a strawman.
  const lines = packet.toString().split('\n');
  for (let l = 0; l < lines.length; l++) {
    const line = lines[l]!;
    if (line === '' || line.startsWith('_e{') || line.startsWith('_sc')) continue;
    const fields = line.split('|');
    if (fields.length < 2) continue;
    const nameAndValues = fields[0]!.split(':');
    const name = nameAndValues[0]!;
    const type = fields[1]!;
    const values: number[] = [];
    let setMember: string | null = null;
    if (type === 's') {
      setMember = fields[0]!.substring(name.length + 1);
    } else {
      for (let i = 1; i < nameAndValues.length; i++) {
        const v = nameAndValues[i]!;
        if (v !== '') values.push(parseFloat(v));
      }
    }
    let sampleRate = 1;
    let tags: string[] = [];
    for (let f = 2; f < fields.length; f++) {
      const field = fields[f]!;
      if (field.startsWith('#')) tags = field.substring(1).split(',');
      else if (field.startsWith('@')) sampleRate = parseFloat(field.substring(1));
    }
    visit({ name, type, values, setMember, sampleRate, tags });
  }
}
