/**
 * A seeded generator of realistic DogStatsD traffic, for benchmarks.
 *
 * The corpus models what a Datadog client library (datadog-go, dd-trace, datadog-py) sends from a
 * fleet of services: a fixed population of contexts (a metric name with a type and a tag set),
 * each emitted many times with fresh values, packed into datagrams the way client-side buffering
 * does (`\n` between messages, no trailing `\n`, no message split across datagrams). Everything
 * is derived from one seed with a private PRNG, never `Math.random`, so two runs, and two
 * benchmarks in one run, parse the same bytes.
 *
 * Shape (defaults):
 * - 10,000 contexts (distinct name and tag set). Names such as `app.http.request.duration` or `svc.cache.hits`; 2 to 8 tags
 *   each (mostly 3 to 5) from keys such as `env`, `service`, `version`, `region`, `pod_name`,
 *   `status_code`; no `host:` tag (the agent adds the host).
 * - Types by context: counters 40 %, gauges 25 %, histograms 10 %, timings 10 %,
 *   distributions 10 %, sets 5 %.
 * - About 15 % of counter, histogram and timing contexts are sampled (`|@0.5`, `|@0.25`,
 *   `|@0.1`); about 3 % of histogram, timing and distribution lines pack 2 to 5 values
 *   (`name:1.5:2.25:3|d`, protocol v1.1).
 * - Every context appears at least once; after that, contexts are drawn with a skew (a few hot
 *   contexts, a long tail), as real traffic is.
 * - Values look like what clients print: counters mostly `1`, gauges with 0 to 3 decimals,
 *   timings and distributions with up to 6 decimals.
 *
 * Not modelled: events, service checks, `|T` timestamps and origin fields (`|c:`, `|e:`,
 * `|card:`); the micro benchmarks per datagram shape cover those.
 */

/** mulberry32: a tiny, fast 32-bit PRNG (public domain, Tommy Ettinger). Returns [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface CorpusOptions {
  /** PRNG seed. */
  readonly seed: number;
  /** Number of distinct contexts (name + type + tag set). */
  readonly contexts: number;
  /** Approximate total size of all lines, in bytes (the corpus stops at the first line past it). */
  readonly targetBytes: number;
}

export interface Corpus {
  /** Datagrams, each its own allocation, as a socket would hand them over. */
  readonly packets: Buffer[];
  /** Number of metric lines across all packets. */
  readonly lines: number;
  /** Total payload bytes across all packets (separators included). */
  readonly bytes: number;
  /** Largest allowed packet size used to pack this corpus. */
  readonly maxPacketBytes: number;
  /** What a correct parser must find, computed by the generator. */
  readonly expected: CorpusExpectation;
}

export interface CorpusExpectation {
  readonly lines: number;
  /** Number of numeric values (multi-value lines count each value; sets count none). */
  readonly values: number;
  /** Number of set lines (each carries one member). */
  readonly setLines: number;
  /** Sum of tag counts over all lines. */
  readonly tags: number;
  /** Number of lines with a sample rate. */
  readonly sampledLines: number;
}

/** The lines of a corpus before packing: the same lines pack into UDP- or UDS-sized packets. */
export interface CorpusLines {
  readonly lines: readonly string[];
  readonly expected: CorpusExpectation;
  readonly contexts: number;
}

type Rng = () => number;

const enum_ = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

const SERVICES = [
  'web', 'api', 'worker', 'billing', 'checkout', 'auth', 'search', 'cart', 'payments',
  'notifications', 'inventory', 'gateway', 'ingest', 'scheduler', 'profile', 'media',
] as const;
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2', 'ap-northeast-1'] as const;
const ENDPOINTS = [
  '/api/v1/users', '/api/v1/users/{id}', '/api/v1/orders', '/api/v1/orders/{id}', '/api/v2/search',
  '/api/v2/cart/items', '/healthz', '/login', '/checkout/confirm', '/graphql', '/api/v1/payments/intent',
] as const;
const STATUS = ['200', '200', '200', '200', '201', '204', '301', '304', '400', '401', '403', '404', '429', '500', '502', '503'] as const;
const HEX = '0123456789abcdef';
const ALNUM = 'bcdfghjklmnpqrstvwxz2456789';

function randStr(rng: Rng, alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rng() * alphabet.length)];
  return s;
}

/** Tag keys with value generators; `service` is passed so pod and container names match it. */
const TAG_KEYS: ReadonlyArray<readonly [string, (rng: Rng, service: string) => string]> = [
  ['env', (r) => enum_(r, ['prod', 'prod', 'prod', 'staging', 'dev', 'qa'])],
  ['service', (_r, s) => s],
  ['version', (r) => `${1 + Math.floor(r() * 4)}.${Math.floor(r() * 30)}.${Math.floor(r() * 12)}`],
  ['region', (r) => enum_(r, REGIONS)],
  ['availability-zone', (r) => `${enum_(r, REGIONS)}${enum_(r, ['a', 'b', 'c'])}`],
  ['pod_name', (r, s) => `${s}-${randStr(r, HEX, 9)}-${randStr(r, ALNUM, 5)}`],
  ['kube_namespace', (r) => enum_(r, ['default', 'payments', 'platform', 'storefront', 'data'])],
  ['kube_deployment', (_r, s) => s],
  ['container_name', (_r, s) => s],
  ['image_tag', (r) => `v${1 + Math.floor(r() * 4)}.${Math.floor(r() * 30)}.${Math.floor(r() * 12)}`],
  ['status_code', (r) => enum_(r, STATUS)],
  ['http.method', (r) => enum_(r, ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH'])],
  ['endpoint', (r) => enum_(r, ENDPOINTS)],
  ['team', (r) => enum_(r, ['core', 'growth', 'infra', 'data', 'sre', 'commerce'])],
  ['db.instance', (r) => `${enum_(r, ['orders', 'users', 'catalog', 'ledger'])}-${Math.floor(r() * 8)}`],
  ['cache', (r) => enum_(r, ['redis', 'memcached', 'local'])],
  ['customer_tier', (r) => enum_(r, ['free', 'pro', 'enterprise'])],
  ['queue', (r) => enum_(r, ['emails', 'webhooks', 'exports', 'thumbnails', 'billing-events'])],
  ['error.type', (r) => enum_(r, ['timeout', 'connection_refused', 'validation', 'not_found'])],
  ['runtime', (r) => enum_(r, ['go1.22', 'node20', 'python3.11', 'jvm17'])],
];
const FIRST_KEYS = 3; // env, service, version: clients put their global tags first

const PREFIXES = ['app', 'svc', 'web', 'api', 'worker', 'db', 'cache', 'queue', 'rpc', 'jobs', 'trace', 'runtime'] as const;
const COMPONENTS = [
  'http', 'grpc', 'cache', 'db', 'kafka', 'redis', 'sql', 'auth', 'session', 'payment', 'search',
  'upload', 'render', 'export', 'import', 'email', 'webhook', 'checkout', 'cart', 'feed', 'pool', 'gc',
] as const;
const NAMES_BY_TYPE: Readonly<Record<string, readonly string[]>> = {
  c: ['requests', 'hits', 'misses', 'errors', 'retries', 'count', 'sent', 'received', 'dropped', 'request.count', 'timeouts', 'evictions'],
  g: ['queue.depth', 'connections.active', 'memory.rss', 'heap.used', 'pool.size', 'lag', 'threads', 'open_files', 'backlog', 'cpu.percent'],
  h: ['response.size', 'batch.size', 'payload.bytes', 'rows', 'items', 'attempts'],
  ms: ['request.duration', 'latency', 'duration', 'query.time', 'render.time', 'handshake.time'],
  d: ['request.duration', 'latency.seconds', 'payload.size', 'processing.time', 'ttfb'],
  s: ['unique_users', 'unique_ips', 'active_sessions', 'unique_customers'],
};

interface Context {
  readonly head: string; // `name`
  readonly identity: string; // `name|sorted tags`: what the agent's context key identifies
  readonly type: string; // wire letter(s)
  readonly tail: string; // `|@rate|#tags`, or `|#tags`
  readonly tagCount: number;
  readonly sampled: boolean;
}

function pickType(rng: Rng): string {
  const u = rng() * 100;
  if (u < 40) return 'c';
  if (u < 65) return 'g';
  if (u < 75) return 'h';
  if (u < 85) return 'ms';
  if (u < 95) return 'd';
  return 's';
}

function pickTagCount(rng: Rng): number {
  // 2..8, mostly 3..5.
  const u = rng();
  if (u < 0.1) return 2;
  if (u < 0.35) return 3;
  if (u < 0.6) return 4;
  if (u < 0.8) return 5;
  if (u < 0.9) return 6;
  if (u < 0.96) return 7;
  return 8;
}

function makeContext(rng: Rng): Context {
  const type = pickType(rng);
  const service = enum_(rng, SERVICES);
  const name = `${enum_(rng, PREFIXES)}.${enum_(rng, COMPONENTS)}.${enum_(rng, NAMES_BY_TYPE[type]!)}`;
  const n = pickTagCount(rng);
  const tags: string[] = [];
  const used = new Set<number>();
  // The first tags are the client's global tags, in the order clients send them.
  for (let i = 0; i < FIRST_KEYS && tags.length < n; i++) {
    used.add(i);
    const [k, gen] = TAG_KEYS[i]!;
    tags.push(`${k}:${gen(rng, service)}`);
  }
  while (tags.length < n) {
    const i = FIRST_KEYS + Math.floor(rng() * (TAG_KEYS.length - FIRST_KEYS));
    if (used.has(i)) continue;
    used.add(i);
    const [k, gen] = TAG_KEYS[i]!;
    tags.push(`${k}:${gen(rng, service)}`);
  }
  const sampled = (type === 'c' || type === 'h' || type === 'ms') && rng() < 0.15;
  const rate = sampled ? `|@${enum_(rng, ['0.5', '0.5', '0.25', '0.1'])}` : '';
  const identity = `${name}|${[...tags].sort().join(',')}`;
  return { head: name, identity, type, tail: `${rate}|#${tags.join(',')}`, tagCount: n, sampled };
}

/** A decimal with up to `maxDecimals` digits after the point, as client libraries print floats. */
function decimal(rng: Rng, max: number, maxDecimals: number): string {
  const d = Math.floor(rng() * (maxDecimals + 1));
  const x = rng() * max;
  if (d === 0) return String(Math.floor(x));
  // toFixed then strip trailing zeros: `12.500` is printed `12.5` by shortest-repr formatters.
  let s = x.toFixed(d);
  while (s.endsWith('0')) s = s.slice(0, -1);
  if (s.endsWith('.')) s = s.slice(0, -1);
  return s;
}

function value(rng: Rng, type: string): string {
  switch (type) {
    case 'c':
      return rng() < 0.7 ? '1' : String(1 + Math.floor(rng() * 100));
    case 'g':
      return decimal(rng, 10000, 3);
    case 'h':
      return String(Math.floor(rng() * 65536));
    case 'ms':
      return decimal(rng, 2000, 6);
    case 'd':
      return decimal(rng, 5, 6);
    default:
      throw new Error(`no numeric values for type ${type}`);
  }
}

function setMember(rng: Rng): string {
  return rng() < 0.5
    ? `user_${Math.floor(rng() * 1e6)}`
    : `10.${Math.floor(rng() * 256)}.${Math.floor(rng() * 256)}.${Math.floor(rng() * 256)}`;
}

/** Generates the corpus lines: every context once (shuffled), then skewed draws up to `targetBytes`. */
export function generateLines(options: CorpusOptions): CorpusLines {
  const rng = mulberry32(options.seed);
  const contexts: Context[] = [];
  const seen = new Set<string>();
  while (contexts.length < options.contexts) {
    const c = makeContext(rng);
    // Distinct by name and tag set (the agent's context identity), so the corpus has exactly
    // `contexts` aggregation contexts.
    if (seen.has(c.identity)) continue;
    seen.add(c.identity);
    contexts.push(c);
  }
  const lines: string[] = [];
  let bytes = 0;
  let values = 0;
  let setLines = 0;
  let tags = 0;
  let sampledLines = 0;
  const emit = (c: Context): void => {
    let v: string;
    if (c.type === 's') {
      v = setMember(rng);
      setLines++;
    } else if ((c.type === 'h' || c.type === 'ms' || c.type === 'd') && rng() < 0.03) {
      const k = 2 + Math.floor(rng() * 4);
      v = value(rng, c.type);
      for (let i = 1; i < k; i++) v += `:${value(rng, c.type)}`;
      values += k;
    } else {
      v = value(rng, c.type);
      values++;
    }
    const line = `${c.head}:${v}|${c.type}${c.tail}`;
    lines.push(line);
    bytes += line.length + 1;
    tags += c.tagCount;
    if (c.sampled) sampledLines++;
  };
  // Every context at least once, in a shuffled order.
  const order = contexts.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  for (const i of order) emit(contexts[i]!);
  // Then a skewed draw: u^2 puts about a third of the traffic on the hottest 10 % of contexts.
  while (bytes < options.targetBytes) {
    const u = rng();
    emit(contexts[Math.floor(u * u * contexts.length)]!);
  }
  return {
    lines,
    contexts: contexts.length,
    expected: { lines: lines.length, values, setLines, tags, sampledLines },
  };
}

/**
 * Packs lines greedily into datagrams of at most `maxPacketBytes`, `\n` between lines and none
 * after the last, as datadog-go's buffered client does. A line never spans two datagrams.
 */
export function packLines(corpus: CorpusLines, maxPacketBytes: number): Corpus {
  const packets: Buffer[] = [];
  let current: string[] = [];
  let currentBytes = 0;
  let total = 0;
  const flush = (): void => {
    if (current.length === 0) return;
    const text = current.join('\n');
    // Each datagram is its own allocation, as `dgram` hands them to a listener.
    const buf = Buffer.allocUnsafeSlow(Buffer.byteLength(text, 'latin1'));
    buf.write(text, 'latin1');
    packets.push(buf);
    total += buf.length;
    current = [];
    currentBytes = 0;
  };
  for (const line of corpus.lines) {
    const extra = current.length === 0 ? line.length : line.length + 1;
    if (line.length > maxPacketBytes) throw new Error(`line of ${line.length} bytes does not fit a ${maxPacketBytes}-byte packet`);
    if (currentBytes + extra > maxPacketBytes) flush();
    currentBytes += current.length === 0 ? line.length : line.length + 1;
    current.push(line);
  }
  flush();
  return { packets, lines: corpus.lines.length, bytes: total, maxPacketBytes, expected: corpus.expected };
}

/** Convenience: generate and pack in one call. */
export function buildCorpus(options: CorpusOptions, maxPacketBytes: number): Corpus {
  return packLines(generateLines(options), maxPacketBytes);
}
