/**
 * The trace-agent's receiver counters, per client (`pkg/trace/info/stats.go`): one `TagStats`
 * per language, language version, interpreter, vendor, tracer version and endpoint version,
 * with the agent's field names, so `kennel status --json` shows them as the agent's
 * `/debug/vars` `receiver` list does.
 *
 * @remarks
 * The receiver counts what it sees of a request (traces and bytes received, payloads accepted
 * or refused, decode failures); the pipeline adds what processing found (spans received,
 * chunks dropped by normalisation, spans fixed, priorities) to the same `TagStats`, as the
 * agent's `Process` does with `Receiver.Stats.GetTagStats`. No I/O here.
 */

/** The agent's `info.Tags`: who sent a payload (the `Datadog-Meta-*` headers) and to which endpoint. */
export interface ReceiverTags {
  readonly Lang: string;
  readonly LangVersion: string;
  readonly Interpreter: string;
  readonly LangVendor: string;
  readonly TracerVersion: string;
  readonly EndpointVersion: string;
}

/** `info.TracesDropped`: why whole payloads or chunks were dropped. */
export const TRACES_DROPPED_FIELDS = [
  'DecodingError',
  'PayloadTooLarge',
  'EmptyTrace',
  'TraceIDZero',
  'SpanIDZero',
  'ForeignSpan',
  'Timeout',
  'EOF',
  'MSGPShortBytes',
] as const;
export type TracesDroppedField = (typeof TRACES_DROPPED_FIELDS)[number];

/** `info.SpansMalformed`: the fixes normalisation made. */
export const SPANS_MALFORMED_FIELDS = [
  'DuplicateSpanID',
  'ServiceEmpty',
  'ServiceTruncate',
  'ServiceInvalid',
  'PeerServiceTruncate',
  'PeerServiceInvalid',
  'BaseServiceTruncate',
  'BaseServiceInvalid',
  'SpanNameEmpty',
  'SpanNameTruncate',
  'SpanNameInvalid',
  'ResourceEmpty',
  'TypeTruncate',
  'InvalidStartDate',
  'InvalidDuration',
  'InvalidHTTPStatusCode',
] as const;
export type SpansMalformedField = (typeof SPANS_MALFORMED_FIELDS)[number];

/** The `reason:` tag of each `TracesDropped` field (`tagValues`), as the processor counts them. */
export const TRACES_DROPPED_REASONS: Readonly<Record<TracesDroppedField, string>> = Object.freeze({
  DecodingError: 'decoding_error',
  PayloadTooLarge: 'payload_too_large',
  EmptyTrace: 'empty_trace',
  TraceIDZero: 'trace_id_zero',
  SpanIDZero: 'span_id_zero',
  ForeignSpan: 'foreign_span',
  Timeout: 'timeout',
  EOF: 'unexpected_eof',
  MSGPShortBytes: 'msgp_short_bytes',
});

/** The `reason:` tag of each `SpansMalformed` field. */
export const SPANS_MALFORMED_REASONS: Readonly<Record<SpansMalformedField, string>> = Object.freeze({
  DuplicateSpanID: 'duplicate_span_id',
  ServiceEmpty: 'service_empty',
  ServiceTruncate: 'service_truncate',
  ServiceInvalid: 'service_invalid',
  PeerServiceTruncate: 'peer_service_truncate',
  PeerServiceInvalid: 'peer_service_invalid',
  BaseServiceTruncate: 'base_service_truncate',
  BaseServiceInvalid: 'base_service_invalid',
  SpanNameEmpty: 'span_name_empty',
  SpanNameTruncate: 'span_name_truncate',
  SpanNameInvalid: 'span_name_invalid',
  ResourceEmpty: 'resource_empty',
  TypeTruncate: 'type_truncate',
  InvalidStartDate: 'invalid_start_date',
  InvalidDuration: 'invalid_duration',
  InvalidHTTPStatusCode: 'invalid_http_status_code',
});

/** `info.Stats`: the scalar counters of one client. */
export const TAG_STATS_FIELDS = [
  'TracesReceived',
  'TracesFiltered',
  'TracesPriorityNone',
  'TracesPriorityNeg',
  'TracesPriority0',
  'TracesPriority1',
  'TracesPriority2',
  'TracesBytes',
  'SpansReceived',
  'SpansDropped',
  'SpansFiltered',
  'EventsExtracted',
  'EventsSampled',
  'PayloadAccepted',
  'PayloadRefused',
  'ClientDroppedP0Traces',
  'ClientDroppedP0Spans',
] as const;
export type TagStatsField = (typeof TAG_STATS_FIELDS)[number];

/** One client's counters, in the agent's JSON layout (`TagStats` embeds `Tags` and `Stats`). */
export type TagStatsJson = ReceiverTags &
  Record<TagStatsField, number> & {
    TracesDropped: Record<TracesDroppedField, number>;
    SpansMalformed: Record<SpansMalformedField, number>;
  };

function zeros<K extends string>(names: readonly K[]): Record<K, number> {
  const o = {} as Record<K, number>;
  for (const n of names) o[n] = 0;
  return o;
}

/** The counters of one client (`info.TagStats`). Fields are bumped directly. */
export class TagStats {
  readonly tags: ReceiverTags;
  readonly stats: Record<TagStatsField, number> = zeros(TAG_STATS_FIELDS);
  readonly tracesDropped: Record<TracesDroppedField, number> = zeros(TRACES_DROPPED_FIELDS);
  readonly spansMalformed: Record<SpansMalformedField, number> = zeros(SPANS_MALFORMED_FIELDS);

  constructor(tags: ReceiverTags) {
    this.tags = tags;
  }

  /** True when nothing was counted (the agent leaves such clients out of status). */
  isEmpty(): boolean {
    for (const k of TAG_STATS_FIELDS) if (this.stats[k] !== 0) return false;
    for (const k of TRACES_DROPPED_FIELDS) if (this.tracesDropped[k] !== 0) return false;
    for (const k of SPANS_MALFORMED_FIELDS) if (this.spansMalformed[k] !== 0) return false;
    return true;
  }

  /** Adds another client's counts (same tags) into this one. */
  add(o: TagStats): void {
    for (const k of TAG_STATS_FIELDS) this.stats[k] += o.stats[k];
    for (const k of TRACES_DROPPED_FIELDS) this.tracesDropped[k] += o.tracesDropped[k];
    for (const k of SPANS_MALFORMED_FIELDS) this.spansMalformed[k] += o.spansMalformed[k];
  }

  reset(): void {
    for (const k of TAG_STATS_FIELDS) this.stats[k] = 0;
    for (const k of TRACES_DROPPED_FIELDS) this.tracesDropped[k] = 0;
    for (const k of SPANS_MALFORMED_FIELDS) this.spansMalformed[k] = 0;
  }

  toJSON(): TagStatsJson {
    return { ...this.tags, ...this.stats, TracesDropped: { ...this.tracesDropped }, SpansMalformed: { ...this.spansMalformed } };
  }

  /** The agent's `WarnString`: dropped and malformed counts, `reason:n` joined by `, `, or `''`. */
  warnString(): string {
    const dropped = reasons(this.tracesDropped, TRACES_DROPPED_REASONS);
    const malformed = reasons(this.spansMalformed, SPANS_MALFORMED_REASONS);
    const parts: string[] = [];
    if (dropped !== '') parts.push(`traces_dropped(${dropped})`);
    if (malformed !== '') parts.push(`spans_malformed(${malformed})`);
    return parts.join(', ');
  }
}

function reasons<K extends string>(counts: Record<K, number>, names: Readonly<Record<K, string>>): string {
  const out: string[] = [];
  for (const k of (Object.keys(names) as K[]).sort((a, b) => (names[a] < names[b] ? -1 : 1))) {
    if (counts[k] > 0) out.push(`${names[k]}:${counts[k]}`);
  }
  return out.join(', ');
}

/** Most distinct clients kept; past this, new ones share the last entry's counters (bounded memory). */
export const MAX_RECEIVER_CLIENTS = 1000;

/** `info.ReceiverStats`: `TagStats` by client tags. */
export class ReceiverStats {
  private readonly byKey = new Map<string, TagStats>();

  /** The counters of a client, created on first use (`GetTagStats`). */
  get(tags: ReceiverTags): TagStats {
    const key = `${tags.Lang}\0${tags.LangVersion}\0${tags.Interpreter}\0${tags.LangVendor}\0${tags.TracerVersion}\0${tags.EndpointVersion}`;
    let s = this.byKey.get(key);
    if (s !== undefined) return s;
    if (this.byKey.size >= MAX_RECEIVER_CLIENTS) {
      // Counted as "unknown clients" of that endpoint rather than growing without bound.
      const overflowKey = `\0\0\0\0\0${tags.EndpointVersion}`;
      s = this.byKey.get(overflowKey);
      if (s === undefined) {
        s = new TagStats({ Lang: '', LangVersion: '', Interpreter: '', LangVendor: '', TracerVersion: '', EndpointVersion: tags.EndpointVersion });
        this.byKey.set(overflowKey, s);
      }
      return s;
    }
    s = new TagStats(tags);
    this.byKey.set(key, s);
    return s;
  }

  /** Every client with something counted. */
  list(): TagStats[] {
    return [...this.byKey.values()].filter((s) => !s.isEmpty());
  }

  /** Adds every client of `recent` into this one (`Acc`). */
  accumulate(recent: ReceiverStats): void {
    for (const s of recent.byKey.values()) if (!s.isEmpty()) this.get(s.tags).add(s);
  }

  /** Zeroes every client and forgets the ones with nothing counted (`Reset`). */
  reset(): void {
    for (const [k, s] of this.byKey) {
      if (s.isEmpty()) this.byKey.delete(k);
      s.reset();
    }
  }

  /** The sorted languages seen (`Languages`), for `X-Datadog-Reported-Languages`. */
  languages(): string[] {
    const set = new Set<string>();
    for (const s of this.byKey.values()) if (s.tags.Lang !== '') set.add(s.tags.Lang);
    return [...set].sort();
  }

  toJSON(): TagStatsJson[] {
    return this.list().map((s) => s.toJSON());
  }
}
