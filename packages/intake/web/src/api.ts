/** The JSON API of the status port (see the package README) and the shapes the page reads. */

export type MetricType = 'gauge' | 'rate' | 'count' | 'distribution' | 'histogram';

export interface Latest {
  timestamp: number;
  value: number;
}

export interface SketchStats {
  timestamp: number;
  count: number;
  min: number;
  max: number;
  sum: number;
  avg: number;
  p50: number;
  p75: number;
  p95: number;
  p99: number;
}

export interface MetricSummary {
  name: string;
  type: MetricType;
  contexts: number;
  lastReceivedAt: number;
  latest?: Latest;
  range?: [number, number];
  stats?: SketchStats;
  aggregates?: (MetricSummary & { stat: string })[];
}

export interface ContextDetail {
  host: string;
  device?: string;
  tags: string[];
  points: number;
  lastReceivedAt: number;
  latest?: Latest;
  stats?: SketchStats;
  aggregates?: Record<string, Latest>;
}

export interface MetricDetail {
  name: string;
  type: MetricType;
  stats?: string[];
  members?: string[];
  contextCount: number;
  truncated: boolean;
  contexts: ContextDetail[];
}

export interface MetricPoints {
  name: string;
  type: MetricType;
  stat?: string;
  stats?: string[];
  contextCount: number;
  truncated: boolean;
  contexts: { host: string; device?: string; tags: string[]; points: [number, number][] }[];
}

export interface MetricEvent {
  title: string;
  text: string;
  timestamp: number;
  host: string;
  aggregationKey: string;
  priority: string;
  sourceTypeName: string;
  alertType: string;
  tags: string[];
  receivedAt: number;
}

export interface ServiceCheck {
  name: string;
  host: string;
  timestamp: number;
  status: number;
  message: string;
  tags: string[];
  receivedAt: number;
}

export interface TraceSummary {
  traceId: string;
  traceIdHex?: string;
  service: string;
  name: string;
  resource: string;
  type: string;
  env?: string;
  start: string;
  startMs: number;
  duration: number;
  spanCount: number;
  errors: number;
  error: boolean;
  services: string[];
  hasRoot: boolean;
  receivedAt: number;
}

export interface SpanJson {
  traceId: string;
  spanId: string;
  parentId: string;
  service: string;
  name: string;
  resource: string;
  type: string;
  start: string;
  duration: number;
  error: number;
  meta: Record<string, string>;
  metrics: Record<string, number>;
  depth: number;
  offset: number;
  [extra: string]: unknown;
}

export interface TraceDetail extends TraceSummary {
  spans: SpanJson[];
}

export interface Figures {
  hits: number;
  errors: number;
  topLevelHits?: number;
  avgDuration: number | null;
  p50: number | null;
  p75: number | null;
  p95: number | null;
  p99: number | null;
}

export interface ServiceRow extends Figures {
  service: string;
  source: 'stats' | 'spans';
  spans: number;
  traces: number;
  resources: (Figures & { resource: string; name: string })[];
}

export interface LogEntry {
  id: number;
  receivedAt: number;
  timestamp: number;
  status: string;
  message: string;
  service: string;
  ddsource: string;
  hostname: string;
  ddtags: string;
  traceId?: string;
  traceIdRaw?: string;
  spanId?: string;
  attributes?: Record<string, unknown>;
}

export interface LogsAnswer {
  total: number;
  lastId: number;
  logs: LogEntry[];
  facets: { services: Record<string, number>; statuses: Record<string, number> };
}

export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** GETs `/api/<path>` with the given query (empty values left out). */
export async function get<T>(path: string, query: Record<string, string | number | boolean | undefined> = {}): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '' && v !== false) q.set(k, String(v));
  const qs = q.toString();
  const res = await fetch(`/api/${path}${qs ? `?${qs}` : ''}`, { headers: { accept: 'application/json' } });
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new HttpError(res.status, body.error ?? res.statusText);
  return body;
}
