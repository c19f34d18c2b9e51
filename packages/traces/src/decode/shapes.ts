/**
 * Building `meta` and `metrics` objects fast: a tree of the key sequences seen so far, each with
 * a generated object literal.
 *
 * @remarks
 * A span's `meta` is a plain object with string keys that differ by integration but repeat from
 * span to span (the same ten or so keys in the same order for every Express request, every pg
 * query, ...). Adding them one by one (`m[k] = v`) costs a megamorphic keyed store and a hidden
 * class transition per key, which profiling showed to be most of the decode time after strings.
 * So, like msgpackr's records, we compile one function per key sequence,
 * `v => ({ "env": v[0], "version": v[1], ... })`, and build each object with a single literal
 * allocation whose hidden class is fixed.
 *
 * The sequences form a tree (like V8's own hidden-class transitions): a node is a key sequence,
 * its children are the sequences one key longer. Each node remembers the child it went to last,
 * with that key's bytes as words, so the reader can recognise a key with a few integer compares
 * before it decodes anything, and a map whose keys follow the last path decodes no key at all.
 *
 * Keys are embedded with `JSON.stringify`, so any key is a valid, inert property name; a
 * sequence containing `__proto__` (which a literal would treat as the prototype) is never
 * compiled. A function is generated the second time a key sequence is seen, so one-off key sets
 * (high-cardinality tag names) cost no compilation. The tree holds at most `MAX_NODES` nodes and
 * starts over when full. Maps of more than `MAX_KEYS` keys, and the maps read while a tree starts
 * over, are built key by key. The result is the same either way: properties in first-seen order,
 * and a repeated key keeps its last value.
 *
 * `KENNEL_TRACES_NO_CODEGEN=1` turns the generated functions off (no `new Function`); so does a
 * runtime that refuses code generation from strings (the first refusal switches it off).
 */

/** Longest key sequence that gets a node (and a generated function). */
export const MAX_KEYS = 64;
/** Most nodes a tree holds; a full tree starts over (see `child`). */
const MAX_NODES = 8192;
/** Children of a node that the reader compares by bytes (the rest are found by their string). */
const MAX_SCANNED = 8;

let codegen = process.env['KENNEL_TRACES_NO_CODEGEN'] !== '1';

type Build<T> = (v: readonly T[]) => Record<string, T>;

/** A key sequence: the path from the root to this node. */
export class ShapeNode<T> {
  readonly key: string;
  readonly parent: ShapeNode<T> | null;
  /** The key's byte length and words (see `reader.ts` `kw0`), filled by the byte reader. */
  len = -1;
  w0 = 0;
  wL = 0;
  wM = 0;
  /** The key's bytes 8 to len-4, for keys longer than 12 bytes (null until known). */
  mid: Uint8Array | null = null;
  /** The child this node went to last. */
  next: ShapeNode<T> | null = null;
  children: Map<string, ShapeNode<T>> | null = null;
  /** The first `MAX_SCANNED` children, scanned by their bytes before a key is decoded. */
  readonly kids: ShapeNode<T>[] = [];
  /**
   * The value last read at this node, as words (string trees only; see `reader.ts` `readStrAt`):
   * its length (-1: none yet), bytes 0-3, the last four, bytes 4-7 and bytes 8-11.
   */
  pLen = -1;
  p0 = 0;
  pL = 0;
  pM = 0;
  pN = 0;
  pStr = '';
  build: Build<T> | null = null;
  /** True when `build` cannot be generated (codegen off, or `__proto__` on the path). */
  byKey = false;
  /** Maps that ended here: a function is generated on the second, so one-off key sets cost none. */
  ends = 0;

  constructor(key: string, parent: ShapeNode<T> | null) {
    this.key = key;
    this.parent = parent;
  }
}

/** The key-sequence tree of one value type, with the scratch arrays a map is read into. */
export class ShapeTree<T> {
  root = new ShapeNode<T>('', null);
  readonly keys: string[] = [];
  readonly vals: T[] = [];
  nodes = 0;
  /** Generated functions so far, and times the tree was full and started over (for tests). */
  compiled = 0;
  resets = 0;

  constructor(fill: T) {
    // Give the scratch arrays their element kind up front.
    for (let i = 0; i < MAX_KEYS; i++) {
      this.keys.push('');
      this.vals.push(fill);
    }
  }

  /**
   * The child of `node` for key `k`, created when new. When the tree is full it starts over
   * (memory stays bounded, and the key sets in use now are learnt again) and returns null: the
   * map being read is built key by key.
   */
  child(node: ShapeNode<T>, k: string): ShapeNode<T> | null {
    let c = node.children?.get(k);
    if (c === undefined) {
      if (this.nodes >= MAX_NODES) {
        this.root = new ShapeNode<T>('', null);
        this.nodes = 0;
        this.resets++;
        return null;
      }
      c = new ShapeNode<T>(k, node);
      (node.children ??= new Map()).set(k, c);
      if (node.kids.length < MAX_SCANNED) node.kids.push(c);
      this.nodes++;
    }
    node.next = c;
    return c;
  }

  /** Builds the object for the sequence ending at `node` from the first `n` scratch values. */
  build(node: ShapeNode<T>, n: number): Record<string, T> {
    const f = node.build;
    if (f !== null) return f(this.vals);
    if (!node.byKey && ++node.ends >= 2) {
      const keys: string[] = [];
      for (let p: ShapeNode<T> | null = node; p !== null && p.parent !== null; p = p.parent) keys.push(p.key);
      keys.reverse();
      if (!codegen || keys.includes('__proto__')) {
        node.byKey = true;
      } else {
        const body = `return {${keys.map((k, i) => `${JSON.stringify(k)}: v[${i}]`).join(', ')}};`;
        let g: Build<T>;
        try {
          g = new Function('v', body) as Build<T>;
        } catch {
          // Code generation from strings is disabled (--disallow-code-generation-from-strings,
          // a CSP-like embedder policy): build every object key by key from now on.
          codegen = false;
          node.byKey = true;
          return byKey(this.keys, this.vals, n);
        }
        node.build = g;
        this.compiled++;
        return g(this.vals);
      }
    }
    return byKey(this.keys, this.vals, n);
  }

  /** Shrinks the scratch arrays back after a map longer than `MAX_KEYS`. */
  trim(): void {
    this.keys.length = MAX_KEYS;
    this.vals.length = MAX_KEYS;
  }
}

/** An object from pairs, key by key. */
export function byKey<T>(keys: readonly string[], vals: readonly T[], n: number): Record<string, T> {
  const m: Record<string, T> = {};
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    if (k === '__proto__') Object.defineProperty(m, k, { value: vals[i], writable: true, enumerable: true, configurable: true });
    else m[k] = vals[i]!;
  }
  return m;
}

/** The tree of string-valued maps (meta, tags, span link attributes). */
export const stringShapes = new ShapeTree<string>('');
/** The tree of number-valued maps (metrics). */
export const numberShapes = new ShapeTree<number>(0);
