/**
 * fast-check arbitraries for valid DogStatsD messages, and the formatters that write them.
 *
 * Two shapes are generated:
 * - a {@link DecodedMessage} in canonical form, written by {@link formatMessage} (the shortest
 *   wire text that decodes back to it);
 * - a *plan* ({@link MessagePlan}): a message as a client could spell it, with numbers written
 *   in several ways (`String(x)`, `toExponential`, `toFixed`, `+5`, `inf`...), fields in any
 *   order, repeated fields, empty and unknown fields. {@link formatPlan} writes it and
 *   {@link expectedMessage} says what the agent decodes from it (last field wins, gated fields
 *   ignored), following `/work/shared/spec/dogstatsd.md` §2-§5.
 *
 * Strings never start with U+FEFF: the codec drops a leading BOM (see the
 * "leading U+FEFF" tests in codec.test.ts), and the properties here check everything else.
 */
import fc from 'fast-check';
import type {
  DecodedEvent,
  DecodedMessage,
  DecodedMetric,
  DecodedServiceCheck,
  DogStatsDCodecOptions,
  MetricTypeName,
} from '../src/index.js';

/** Codec options as the generators see them: both flags set. */
export interface GenOptions {
  readonly noAggregationPipeline: boolean;
  readonly originDetectionClient: boolean;
}

/** Knobs for the generators. */
export interface GenConfig {
  /** Largest integer written in a `|T` or `d:` field. 2^53 - 1 unless told. */
  readonly maxInt?: number;
}

export const codecOptionsArb: fc.Arbitrary<GenOptions> = fc.record({
  noAggregationPipeline: fc.boolean(),
  originDetectionClient: fc.boolean(),
});

export function toCodecOptions(o: GenOptions): DogStatsDCodecOptions {
  return { noAggregationPipeline: o.noAggregationPipeline, originDetectionClient: o.originDetectionClient };
}

// ---------------------------------------------------------------------------------------------
// Characters and strings

const PRINTABLE_ASCII: string[] = [];
for (let c = 0x20; c <= 0x7e; c++) PRINTABLE_ASCII.push(String.fromCharCode(c));

/** Non-ASCII characters of 2, 3 and 4 UTF-8 bytes (astral ones are two UTF-16 units). */
export const UNICODE_SAMPLES = [
  ...['é', 'ü', 'ß', 'ñ', 'Ж', 'Ω', '\u00a0'], // 2 bytes
  ...['中', '文', '\u200b', '€'], // 3 bytes
  ...['😀', '🐕', '𝄞'], // 4 bytes
] as const;

function charArb(excluded: string): fc.Arbitrary<string> {
  const ascii = PRINTABLE_ASCII.filter((c) => !excluded.includes(c));
  return fc.oneof(
    { weight: 20, arbitrary: fc.constantFrom(...ascii) },
    { weight: 1, arbitrary: fc.constantFrom(...UNICODE_SAMPLES) },
  );
}

function stringOf(unit: fc.Arbitrary<string>, minLength: number, maxLength: number): fc.Arbitrary<string> {
  // size 'max': without it fast-check keeps strings to about 10 units whatever maxLength says.
  return fc.string({ unit, minLength, maxLength, size: 'max' });
}

/** Metric names: printable ASCII without `:` and `|`, plus some unicode; never `_e{…` or `_sc…`. */
export const metricNameArb: fc.Arbitrary<string> = stringOf(charArb(':|'), 1, 24).filter(
  (n) => !n.startsWith('_e{') && !n.startsWith('_sc'),
);

/** A tag: anything but `,` and `|` (colons are kept verbatim); may be empty. */
export const tagArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: stringOf(charArb(',|'), 0, 16) },
  { weight: 1, arbitrary: fc.constantFrom('env:prod', 'host:a', 'a:b:c', 'device:sda1', '') },
);
export const tagListArb: fc.Arbitrary<string[]> = fc.array(tagArb, { maxLength: 6 });

/** A field value: anything but `|`. */
export const fieldTextArb: fc.Arbitrary<string> = stringOf(charArb('|'), 0, 16);
/** A set member: anything but `|`, colons included, at least one character. */
export const setMemberArb: fc.Arbitrary<string> = stringOf(charArb('|'), 1, 20);

/** Event title or text, as decoded: anything but CR (newlines are written as `\n`). */
function eventStringArb(minLength: number): fc.Arbitrary<string> {
  const unit = fc.oneof({ weight: 12, arbitrary: charArb('') }, { weight: 1, arbitrary: fc.constant('\n') });
  // A backslash before an `n` would read back as a newline, so the decoded form never holds one.
  return stringOf(unit, minLength, 30).filter((s) => !s.includes('\\n'));
}

// ---------------------------------------------------------------------------------------------
// Numbers

/** A number as it is written on the wire, and the double it denotes. */
export interface SpelledNumber {
  readonly text: string;
  readonly value: number;
}

/** `String(x)`, but `-0` keeps its sign. */
export function jsNumberText(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

function decimal(text: string): SpelledNumber {
  return { text, value: Number(text) };
}

const finiteDoubleArb = fc.double({ noNaN: true, noDefaultInfinity: true });

/** Go's `inf`/`infinity` (any case, signed or not) and `nan` (any case, unsigned). */
const SPECIALS: readonly SpelledNumber[] = [
  { text: 'inf', value: Infinity },
  { text: '+Inf', value: Infinity },
  { text: '-inf', value: -Infinity },
  { text: 'Infinity', value: Infinity },
  { text: '-INFINITY', value: -Infinity },
  { text: 'nan', value: NaN },
  { text: 'NaN', value: NaN },
];

/**
 * Doubles written in the ways clients write them. Values that do not fit a double (`2e+308`
 * from `toExponential(0)` of a huge number) are left out: Go rejects them (range error).
 */
export const spelledNumberArb: fc.Arbitrary<SpelledNumber> = fc
  .oneof(
    { weight: 4, arbitrary: fc.double().map((x) => ({ text: jsNumberText(x), value: x })) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(finiteDoubleArb, fc.integer({ min: 0, max: 20 }))
        .map(([x, k]) => decimal(x.toExponential(k))),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.double({ noNaN: true, min: -1e25, max: 1e25 }), fc.integer({ min: 0, max: 20 }))
        .map(([x, k]) => decimal(x.toFixed(k))),
    },
    { weight: 3, arbitrary: fc.integer({ min: -1_000_000, max: 1_000_000 }).map((n) => decimal(String(n))) },
    {
      weight: 1,
      arbitrary: fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }).map((n) => decimal(n.toString())),
    },
    {
      weight: 2,
      arbitrary: fc
        .stringMatching(/^[+-]?(\d{1,22}(\.\d{0,22})?|\.\d{1,22})([eE][+-]?\d{1,3})?$/, { size: 'max' })
        .map(decimal),
    },
    { weight: 1, arbitrary: fc.constantFrom(...SPECIALS) },
  )
  .filter((n) => Number.isFinite(n.value) || !/^[+-]?[\d.]/.test(n.text));

/** A base-10 integer as Go's `ParseInt` reads it: plain, with `+`, or with leading zeros. */
function spelledIntArb(min: number, max: number): fc.Arbitrary<SpelledNumber> {
  const realistic = fc.integer({ min: Math.max(min, 1_000_000_000), max: Math.min(max, 2_000_000_000) });
  const any = fc.integer({ min, max });
  const n = min <= 2_000_000_000 && max >= 1_000_000_000 ? fc.oneof(realistic, any) : any;
  return fc.tuple(n, fc.constantFrom('plain', 'plain', 'plus', 'zeros')).map(([v, style]) => {
    const digits = String(Math.abs(v));
    const sign = v < 0 ? '-' : style === 'plus' ? '+' : '';
    return { text: sign + (style === 'zeros' ? '00' : '') + digits, value: v };
  });
}

// ---------------------------------------------------------------------------------------------
// Plans

export type MetricFieldPlan =
  | { readonly kind: 'tags'; readonly tags: readonly string[] }
  | { readonly kind: 'rate'; readonly rate: SpelledNumber }
  /** `value` is what the field holds when timestamps are read (null: the field is malformed). */
  | { readonly kind: 'timestamp'; readonly text: string; readonly value: number | null }
  | { readonly kind: 'containerId' | 'externalData' | 'cardinality'; readonly value: string }
  /** An empty or unknown field: skipped. `text` is the whole field. */
  | { readonly kind: 'raw'; readonly text: string };

export interface MetricPlan {
  readonly kind: 'metric';
  readonly name: string;
  readonly type: MetricTypeName;
  /** The raw value as written (`1::2:`, a set member...). */
  readonly valueText: string;
  /** What the value decodes to. */
  readonly values: readonly number[] | readonly [string];
  readonly fields: readonly MetricFieldPlan[];
}

export type EventFieldPlan =
  /** `value` null: an invalid `d:`, logged and ignored by the agent. */
  | { readonly kind: 'timestamp'; readonly text: string; readonly value: number | null }
  | { readonly kind: 'hostname' | 'aggregationKey' | 'sourceType'; readonly value: string }
  /** Any text: only `normal`/`low` (resp. the four alert types) take effect. */
  | { readonly kind: 'priority' | 'alertType'; readonly text: string }
  | { readonly kind: 'tags'; readonly tags: readonly string[] }
  | { readonly kind: 'raw'; readonly text: string };

export interface EventPlan {
  readonly kind: 'event';
  /** Decoded title and text; written with newlines as `\n`. */
  readonly title: string;
  readonly text: string;
  /** How the header lengths are written (Go `Atoi` takes `+7` and `007`). */
  readonly lengthStyle: 'plain' | 'plus' | 'zeros';
  readonly fields: readonly EventFieldPlan[];
}

export type ServiceCheckFieldPlan =
  | { readonly kind: 'timestamp'; readonly text: string; readonly value: number | null }
  | { readonly kind: 'hostname' | 'message'; readonly value: string }
  | { readonly kind: 'tags'; readonly tags: readonly string[] }
  | { readonly kind: 'raw'; readonly text: string };

export interface ServiceCheckPlan {
  readonly kind: 'service_check';
  readonly name: string;
  readonly status: 0 | 1 | 2 | 3;
  readonly fields: readonly ServiceCheckFieldPlan[];
}

export type MessagePlan = MetricPlan | EventPlan | ServiceCheckPlan;

const METRIC_TYPES: readonly (readonly [string, MetricTypeName])[] = [
  ['g', 'gauge'],
  ['c', 'counter'],
  ['h', 'histogram'],
  ['d', 'distribution'],
  ['s', 'set'],
  ['ms', 'timing'],
];
const SYMBOL_BY_TYPE = new Map<MetricTypeName, string>(METRIC_TYPES.map(([s, t]) => [t, s]));

/** `name:` values: one spelled number, or a `:` list with empty entries here and there. */
const numericValuesArb: fc.Arbitrary<{ valueText: string; values: number[] }> = fc
  .array(spelledNumberArb, { minLength: 1, maxLength: 5 })
  .chain((nums) =>
    fc
      .record({
        seps: fc.array(fc.constantFrom(':', ':', ':', '::'), {
          minLength: nums.length - 1,
          maxLength: nums.length - 1,
        }),
        lead: fc.constantFrom('', '', '', ':'),
        trail: fc.constantFrom('', '', '', ':', '::'),
      })
      .map(({ seps, lead, trail }) => {
        let text = lead + nums[0]!.text;
        for (let i = 1; i < nums.length; i++) text += seps[i - 1]! + nums[i]!.text;
        text += trail;
        return { valueText: text, values: nums.map((n) => n.value) };
      }),
  );

/** Unknown or empty metric fields: never `#`, `@`, `T`, `c:`, `e:` or `card:`. */
const unknownMetricFieldArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    ...['', 'f:x', 'm:meta', 'x', '!', 'd:5', 'h:host', 't123'],
    ...['c', 'e', 'ex', 'env', 'card', 'ca', 'cardx', 'C:upper', 'E:x', 'cx:y'],
  ),
  fieldTextArb.filter((f) => !/^[#@T]/.test(f) && !/^(c:|e:|card:)/.test(f)),
);

function metricFieldArb(opts: GenOptions, cfg: GenConfig): fc.Arbitrary<MetricFieldPlan> {
  const maxInt = cfg.maxInt ?? Number.MAX_SAFE_INTEGER;
  const timestamp: fc.Arbitrary<MetricFieldPlan> = opts.noAggregationPipeline
    ? spelledIntArb(1, maxInt).map((n) => ({ kind: 'timestamp' as const, text: n.text, value: n.value }))
    : fc.oneof(
        spelledIntArb(1, maxInt).map((n) => ({ kind: 'timestamp' as const, text: n.text, value: n.value })),
        fc
          .constantFrom('', '0', '-5', 'abc', '1.5', ' 1', '1e9')
          .map((t) => ({ kind: 'timestamp' as const, text: t, value: null })),
      );
  return fc.oneof(
    { weight: 4, arbitrary: tagListArb.map((tags) => ({ kind: 'tags' as const, tags })) },
    { weight: 2, arbitrary: spelledNumberArb.map((rate) => ({ kind: 'rate' as const, rate })) },
    { weight: 2, arbitrary: timestamp },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constantFrom('containerId' as const, 'externalData' as const, 'cardinality' as const),
        value: fc.oneof(
          fieldTextArb,
          fc.constantFrom('ci-abc123', 'in-42', 'it-false,cn-web,pu-1234', 'low', 'orchestrator'),
        ),
      }),
    },
    { weight: 2, arbitrary: unknownMetricFieldArb.map((text) => ({ kind: 'raw' as const, text })) },
  );
}

export function metricPlanArb(opts: GenOptions, cfg: GenConfig = {}): fc.Arbitrary<MetricPlan> {
  return fc
    .record({
      name: metricNameArb,
      typ: fc.constantFrom(...METRIC_TYPES),
      fields: fc.array(metricFieldArb(opts, cfg), { maxLength: 7 }),
    })
    .chain(({ name, typ, fields }) => {
      const type = typ[1];
      const values: fc.Arbitrary<{ valueText: string; values: number[] | [string] }> =
        type === 'set' ? setMemberArb.map((m) => ({ valueText: m, values: [m] as [string] })) : numericValuesArb;
      return values.map((v) => ({ kind: 'metric' as const, name, type, ...v, fields }));
    });
}

function eventTimestampArb(cfg: GenConfig): fc.Arbitrary<{ kind: 'timestamp'; text: string; value: number | null }> {
  const maxInt = cfg.maxInt ?? Number.MAX_SAFE_INTEGER;
  return fc.oneof(
    { weight: 4, arbitrary: spelledIntArb(-maxInt, maxInt).map((n) => ({ kind: 'timestamp' as const, ...n })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('abc', '', '1.5', '1e3', ' 5', '0x10', '1_000', '99999999999999999999')
        .map((text) => ({ kind: 'timestamp' as const, text, value: null })),
    },
  );
}

const unknownEventFieldArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', 'c:ci-abc', 'e:it-true', 'card:high', 'f:x', 'm:msg', 'D:5', 'H:x', 'x', 'tags'),
  fieldTextArb.filter((f) => !/^(d:|h:|k:|p:|s:|t:|#)/.test(f)),
);

function eventFieldArb(cfg: GenConfig): fc.Arbitrary<EventFieldPlan> {
  return fc.oneof(
    { weight: 2, arbitrary: eventTimestampArb(cfg) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constantFrom('hostname' as const, 'aggregationKey' as const, 'sourceType' as const),
        value: fieldTextArb,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('priority' as const),
        text: fc.constantFrom('normal', 'low', 'low', 'urgent', 'LOW', ''),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('alertType' as const),
        text: fc.constantFrom('error', 'warning', 'info', 'success', 'test', 'Error', ''),
      }),
    },
    { weight: 2, arbitrary: tagListArb.map((tags) => ({ kind: 'tags' as const, tags })) },
    { weight: 2, arbitrary: unknownEventFieldArb.map((text) => ({ kind: 'raw' as const, text })) },
  );
}

export function eventPlanArb(cfg: GenConfig = {}): fc.Arbitrary<EventPlan> {
  return fc.record({
    kind: fc.constant('event' as const),
    title: eventStringArb(1),
    text: eventStringArb(0),
    lengthStyle: fc.constantFrom('plain' as const, 'plain' as const, 'plus' as const, 'zeros' as const),
    fields: fc.array(eventFieldArb(cfg), { maxLength: 8 }),
  });
}

const unknownServiceCheckFieldArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', 'c:ci-abc', 'e:it-true', 'card:low', 'k:key', 'M:x', 'x', 's:src'),
  fieldTextArb.filter((f) => !/^(d:|h:|m:|#)/.test(f)),
);

function serviceCheckFieldArb(cfg: GenConfig): fc.Arbitrary<ServiceCheckFieldPlan> {
  return fc.oneof(
    { weight: 2, arbitrary: eventTimestampArb(cfg) },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constantFrom('hostname' as const, 'message' as const), value: fieldTextArb }),
    },
    { weight: 2, arbitrary: tagListArb.map((tags) => ({ kind: 'tags' as const, tags })) },
    { weight: 2, arbitrary: unknownServiceCheckFieldArb.map((text) => ({ kind: 'raw' as const, text })) },
  );
}

export function serviceCheckPlanArb(cfg: GenConfig = {}): fc.Arbitrary<ServiceCheckPlan> {
  return fc.record({
    kind: fc.constant('service_check' as const),
    name: stringOf(charArb('|'), 1, 24),
    status: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const),
    fields: fc.array(serviceCheckFieldArb(cfg), { maxLength: 6 }),
  });
}

export function messagePlanArb(opts: GenOptions, cfg: GenConfig = {}): fc.Arbitrary<MessagePlan> {
  return fc.oneof(
    { weight: 6, arbitrary: metricPlanArb(opts, cfg) },
    { weight: 2, arbitrary: eventPlanArb(cfg) },
    { weight: 2, arbitrary: serviceCheckPlanArb(cfg) },
  );
}

// ---------------------------------------------------------------------------------------------
// Writing plans, and what they decode to

const utf8 = new TextEncoder();

/** Bytes in the UTF-8 encoding of `s` (what the event header counts). */
export function utf8Length(s: string): number {
  return utf8.encode(s).length;
}

function escapeEventText(s: string): string {
  return s.replaceAll('\n', '\\n');
}

function writeLength(n: number, style: EventPlan['lengthStyle']): string {
  return style === 'plus' ? `+${n}` : style === 'zeros' ? `00${n}` : String(n);
}

function metricFieldText(f: MetricFieldPlan): string {
  switch (f.kind) {
    case 'tags':
      return '#' + f.tags.join(',');
    case 'rate':
      return '@' + f.rate.text;
    case 'timestamp':
      return 'T' + f.text;
    case 'containerId':
      return 'c:' + f.value;
    case 'externalData':
      return 'e:' + f.value;
    case 'cardinality':
      return 'card:' + f.value;
    case 'raw':
      return f.text;
  }
}

function eventFieldText(f: EventFieldPlan): string {
  switch (f.kind) {
    case 'timestamp':
      return 'd:' + f.text;
    case 'hostname':
      return 'h:' + f.value;
    case 'aggregationKey':
      return 'k:' + f.value;
    case 'sourceType':
      return 's:' + f.value;
    case 'priority':
      return 'p:' + f.text;
    case 'alertType':
      return 't:' + f.text;
    case 'tags':
      return '#' + f.tags.join(',');
    case 'raw':
      return f.text;
  }
}

function serviceCheckFieldText(f: ServiceCheckFieldPlan): string {
  switch (f.kind) {
    case 'timestamp':
      return 'd:' + f.text;
    case 'hostname':
      return 'h:' + f.value;
    case 'message':
      return 'm:' + f.value;
    case 'tags':
      return '#' + f.tags.join(',');
    case 'raw':
      return f.text;
  }
}

/** Writes a plan as one wire line (no newline). */
export function formatPlan(p: MessagePlan): string {
  switch (p.kind) {
    case 'metric':
      const fields = p.fields.map((f) => `|${metricFieldText(f)}`).join('');
      return `${p.name}:${p.valueText}|${SYMBOL_BY_TYPE.get(p.type)!}${fields}`;
    case 'event': {
      const title = escapeEventText(p.title);
      const text = escapeEventText(p.text);
      const tl = writeLength(utf8Length(title), p.lengthStyle);
      const xl = writeLength(utf8Length(text), p.lengthStyle);
      const header = `_e{${tl},${xl}}`;
      return `${header}:${title}|${text}` + p.fields.map((f) => '|' + eventFieldText(f)).join('');
    }
    case 'service_check':
      return `_sc|${p.name}|${p.status}` + p.fields.map((f) => '|' + serviceCheckFieldText(f)).join('');
  }
}

/** A `#` field's tags: `#` alone is no tags (so a lone empty tag cannot be written). */
function tagsOf(tags: readonly string[]): string[] {
  const joined = tags.join(',');
  return joined === '' ? [] : [...tags];
}

const PRIORITIES = new Set(['normal', 'low']);
const ALERT_TYPES = new Set(['error', 'warning', 'info', 'success']);

/** What the agent decodes from `formatPlan(p)`: fields applied in order, so the last one wins. */
export function expectedMessage(p: MessagePlan, opts: GenOptions): DecodedMetric | DecodedEvent | DecodedServiceCheck {
  switch (p.kind) {
    case 'metric': {
      let tags: string[] = [];
      let sampleRate = 1;
      let timestamp: number | null = null;
      let containerId: string | null = null;
      let externalData: string | null = null;
      let cardinality: string | null = null;
      for (const f of p.fields) {
        switch (f.kind) {
          case 'tags':
            tags = tagsOf(f.tags);
            break;
          case 'rate':
            sampleRate = f.rate.value;
            break;
          case 'timestamp':
            if (opts.noAggregationPipeline) {
              if (f.value === null) throw new Error('a malformed T field was generated with timestamps read');
              timestamp = f.value;
            }
            break;
          case 'containerId':
            if (opts.originDetectionClient) containerId = f.value;
            break;
          case 'externalData':
            if (opts.originDetectionClient) externalData = f.value;
            break;
          case 'cardinality':
            if (opts.originDetectionClient) cardinality = f.value;
            break;
          case 'raw':
            break;
        }
      }
      return {
        kind: 'metric',
        name: p.name,
        type: p.type,
        values: [...p.values] as number[] | [string],
        sampleRate,
        tags,
        timestamp,
        containerId,
        externalData,
        cardinality,
      };
    }
    case 'event': {
      const e = {
        kind: 'event' as const,
        title: p.title,
        text: p.text,
        timestamp: 0,
        hostname: '',
        aggregationKey: '',
        priority: 'normal' as DecodedEvent['priority'],
        sourceType: '',
        alertType: 'info' as DecodedEvent['alertType'],
        tags: [] as string[],
      };
      for (const f of p.fields) {
        switch (f.kind) {
          case 'timestamp':
            if (f.value !== null) e.timestamp = f.value;
            break;
          case 'hostname':
            e.hostname = f.value;
            break;
          case 'aggregationKey':
            e.aggregationKey = f.value;
            break;
          case 'sourceType':
            e.sourceType = f.value;
            break;
          case 'priority':
            if (PRIORITIES.has(f.text)) e.priority = f.text as DecodedEvent['priority'];
            break;
          case 'alertType':
            if (ALERT_TYPES.has(f.text)) e.alertType = f.text as DecodedEvent['alertType'];
            break;
          case 'tags':
            e.tags = tagsOf(f.tags);
            break;
          case 'raw':
            break;
        }
      }
      return e;
    }
    case 'service_check': {
      const sc = {
        kind: 'service_check' as const,
        name: p.name,
        status: p.status,
        timestamp: 0,
        hostname: '',
        message: '',
        tags: [] as string[],
      };
      for (const f of p.fields) {
        switch (f.kind) {
          case 'timestamp':
            if (f.value !== null) sc.timestamp = f.value;
            break;
          case 'hostname':
            sc.hostname = f.value;
            break;
          case 'message':
            sc.message = f.value;
            break;
          case 'tags':
            sc.tags = tagsOf(f.tags);
            break;
          case 'raw':
            break;
        }
      }
      return sc;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Canonical decoded messages and their formatter

/** Tag lists that survive a round trip: a lone empty tag cannot be written. */
const writableTagsArb = tagListArb.filter((t) => !(t.length === 1 && t[0] === ''));

/** Decoded messages, in the shapes `parsePacket` returns, that can be decoded with `opts`. */
export function decodedMessageArb(opts: GenOptions): fc.Arbitrary<DecodedMetric | DecodedEvent | DecodedServiceCheck> {
  const originArb = opts.originDetectionClient ? fc.option(fieldTextArb, { nil: null }) : fc.constant(null);
  const metric: fc.Arbitrary<DecodedMetric> = fc
    .record({
      name: metricNameArb,
      typ: fc.constantFrom(...METRIC_TYPES),
      numbers: fc.array(fc.double(), { minLength: 1, maxLength: 4 }),
      member: setMemberArb,
      sampleRate: fc.oneof(fc.constant(1), fc.double()),
      tags: writableTagsArb,
      timestamp: opts.noAggregationPipeline
        ? fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), { nil: null })
        : fc.constant(null),
      containerId: originArb,
      externalData: originArb,
      cardinality: originArb,
    })
    .map((r) => ({
      kind: 'metric' as const,
      name: r.name,
      type: r.typ[1],
      values: r.typ[1] === 'set' ? ([r.member] as [string]) : r.numbers,
      sampleRate: r.sampleRate,
      tags: r.tags,
      timestamp: r.timestamp,
      containerId: r.containerId,
      externalData: r.externalData,
      cardinality: r.cardinality,
    }));
  const int = fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
  const event: fc.Arbitrary<DecodedEvent> = fc.record({
    kind: fc.constant('event' as const),
    title: eventStringArb(1),
    text: eventStringArb(0),
    timestamp: fc.oneof(fc.constant(0), int),
    hostname: fieldTextArb,
    aggregationKey: fieldTextArb,
    priority: fc.constantFrom('normal' as const, 'low' as const),
    sourceType: fieldTextArb,
    alertType: fc.constantFrom('error' as const, 'warning' as const, 'info' as const, 'success' as const),
    tags: writableTagsArb,
  }).map((r) => ({ ...r })); // fc.record builds null-prototype objects; parsePacket does not
  const check: fc.Arbitrary<DecodedServiceCheck> = fc.record({
    kind: fc.constant('service_check' as const),
    name: stringOf(charArb('|'), 1, 24),
    status: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const),
    timestamp: fc.oneof(fc.constant(0), int),
    hostname: fieldTextArb,
    message: fieldTextArb,
    tags: writableTagsArb,
  }).map((r) => ({ ...r }));
  return fc.oneof({ weight: 3, arbitrary: metric }, { weight: 1, arbitrary: event }, { weight: 1, arbitrary: check });
}

/**
 * Writes a decoded message as the shortest wire line that decodes back to it: values with
 * `String(x)` (`-0` keeps its sign; `NaN` and `Infinity` are words Go reads), fields left out
 * when they hold their defaults. Errors cannot be written.
 */
export function formatMessage(m: DecodedMessage): string {
  switch (m.kind) {
    case 'metric': {
      const value =
        m.type === 'set' ? (m.values[0] as string) : (m.values as readonly number[]).map(jsNumberText).join(':');
      let s = `${m.name}:${value}|${SYMBOL_BY_TYPE.get(m.type)!}`;
      if (!Object.is(m.sampleRate, 1)) s += '|@' + jsNumberText(m.sampleRate);
      if (m.tags.length > 0) s += '|#' + m.tags.join(',');
      if (m.timestamp !== null) s += '|T' + String(m.timestamp);
      if (m.containerId !== null) s += '|c:' + m.containerId;
      if (m.externalData !== null) s += '|e:' + m.externalData;
      if (m.cardinality !== null) s += '|card:' + m.cardinality;
      return s;
    }
    case 'event': {
      const title = escapeEventText(m.title);
      const text = escapeEventText(m.text);
      let s = `_e{${utf8Length(title)},${utf8Length(text)}}:${title}|${text}`;
      if (m.timestamp !== 0) s += '|d:' + String(m.timestamp);
      if (m.hostname !== '') s += '|h:' + m.hostname;
      if (m.aggregationKey !== '') s += '|k:' + m.aggregationKey;
      if (m.priority !== 'normal') s += '|p:' + m.priority;
      if (m.sourceType !== '') s += '|s:' + m.sourceType;
      if (m.alertType !== 'info') s += '|t:' + m.alertType;
      if (m.tags.length > 0) s += '|#' + m.tags.join(',');
      return s;
    }
    case 'service_check': {
      let s = `_sc|${m.name}|${m.status}`;
      if (m.timestamp !== 0) s += '|d:' + String(m.timestamp);
      if (m.hostname !== '') s += '|h:' + m.hostname;
      if (m.message !== '') s += '|m:' + m.message;
      if (m.tags.length > 0) s += '|#' + m.tags.join(',');
      return s;
    }
    case 'error':
      throw new TypeError('an error message has no wire form');
  }
}

// ---------------------------------------------------------------------------------------------
// Byte soups and line noise (for the never-throws and framing properties)

/** Bytes biased towards the protocol's punctuation. */
export const SOUP_BYTES = [...':|#@,\n\r_e{}sc0123456789.'].map((c) => c.charCodeAt(0));

/** Byte soup: mostly protocol punctuation, some other bytes (high bytes included). */
export const byteSoupArb: fc.Arbitrary<Uint8Array> = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...SOUP_BYTES) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
    ),
    { maxLength: 600, size: 'max' },
  )
  .map((a) => Uint8Array.from(a));

/** Protocol tokens that reach the deeper branches of the codec more often than single bytes. */
const TOKENS = [
  '_e{', '_sc', '|', '|', ':', ':', '#', '@', 'T', 'c:', 'e:', 'card:', ',', '\n', '\r\n', '\r', 'g', 'c', 'ms', 's',
  'h', 'd', 'd:', 'h:', 'k:', 'p:', 't:', 'm:', '}', '{', '1', '0', '3', '10', '-1', '1.5', '1e5', '.', '-', '+',
  'inf', 'NaN', '0x1p4', '1_0', '\\n', 'é', '😀', 'name', ' ', '99999999999999999999', '1e400',
];
export const tokenSoupArb: fc.Arbitrary<string> = fc
  .array(fc.constantFrom(...TOKENS), { maxLength: 80, size: 'max' })
  .map((a) => a.join(''));

/** A line without `\n`: protocol noise of any kind. */
export const noiseLineArb: fc.Arbitrary<string> = fc
  .oneof(
    tokenSoupArb,
    fc.string({ unit: 'grapheme', maxLength: 40, size: 'max' }),
    fc.string({ unit: 'binary', maxLength: 40, size: 'max' }),
  )
  .map((s) => s.replaceAll('\n', ''));
