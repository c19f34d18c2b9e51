import { CounterMap, CounterSet } from '@kennel/core';
import type { LogMessage } from '../types.js';
import type { ProcessingRule } from './rules.js';

/** The counters the sources and the processing stage bump (a subset of the agent's `logs-agent` expvar map). */
export const LOGS_SOURCE_COUNTERS = ['LogsDecoded', 'LogsProcessed', 'LogsTruncated', 'BytesMissed'] as const;
export type LogsSourceCounterName = (typeof LOGS_SOURCE_COUNTERS)[number];

/**
 * Where the counters go. A `CounterSet` whose names include these fits (the sender's
 * `logs-agent` set does), so one set can be shared by every stage.
 */
export interface LogsSourceCounterSink {
  add(name: LogsSourceCounterName, n?: number): void;
}

/** The counters of the collection and processing stages. */
export interface LogsPipelineCounters {
  /** `LogsDecoded`, `LogsProcessed`, `LogsTruncated`, `BytesMissed`. */
  readonly counters: LogsSourceCounterSink;
  /**
   * Matches per rule, keyed `type:name` as the agent's `ProcessingInfo` does: an
   * `exclude_at_match` rule counts the lines it dropped, an `include_at_match` rule the lines it
   * kept, a `mask_sequences` rule the lines it changed, `exclude_truncated` the lines it dropped.
   */
  readonly rules: CounterMap;
}

/** A fresh set of counters for the sources and processing (a `logs-agent` group). */
export function createLogsPipelineCounters(): LogsPipelineCounters & { readonly counters: CounterSet<LogsSourceCounterName> } {
  return { counters: new CounterSet('logs-agent', LOGS_SOURCE_COUNTERS), rules: new CounterMap() };
}

/** Options of a {@link Processor}. */
export interface ProcessorOptions {
  /** `logs_config.processing_rules` (`DD_LOGS_CONFIG_PROCESSING_RULES`), compiled; they run first. */
  readonly globalRules?: readonly ProcessingRule[];
  /** The source's `log_processing_rules`, compiled; they run after the global ones. */
  readonly sourceRules?: readonly ProcessingRule[];
  /** Tags added to every message after the source's own (`DD_TAGS`). @defaultValue `[]` */
  readonly globalTags?: readonly string[];
  readonly counters: LogsPipelineCounters;
  /**
   * Sets the status from a JSON log's `status` or `level` attribute. The agent does not do this
   * (it sends stdout as `info`, stderr as `error`, and the intake's status remapper reads those
   * attributes); turn it on when the messages go to an intake without that remapper.
   * @defaultValue `false`
   */
  readonly detectJsonStatus?: boolean;
}

/**
 * The processing stage of one source (the agent's `Processor.applyRedactingRules`): global rules,
 * then the source's, in order; the first `exclude_at_match` that matches or `include_at_match` that
 * does not drops the line; masks apply one after the other. Then the global tags.
 *
 * @remarks
 * Content is decoded to a string only when a rule or the JSON status detection has to read it.
 * A JSON line's `dd.trace_id` / `dd.span_id` (what `DD_LOGS_INJECTION` writes) stay in the
 * message as it is sent: the intake reads them.
 */
export class Processor {
  private readonly rules: readonly ProcessingRule[];
  private readonly globalTags: readonly string[];
  private readonly counters: LogsPipelineCounters;
  private readonly detectJsonStatus: boolean;
  private readonly needsText: boolean;
  private readonly tagCache = new WeakMap<readonly string[], readonly string[]>();

  constructor(options: ProcessorOptions) {
    // multi_line rules belong to the decoder; the processor skips them, as the agent's does.
    this.rules = [...(options.globalRules ?? []), ...(options.sourceRules ?? [])].filter((r) => r.type !== 'multi_line' && r.type !== 'remap_source');
    this.globalTags = options.globalTags ?? [];
    this.counters = options.counters;
    this.detectJsonStatus = options.detectJsonStatus ?? false;
    this.needsText = this.rules.some((r) => r.type !== 'exclude_truncated') || this.detectJsonStatus;
  }

  /**
   * Applies the rules to `msg` (changed in place) and returns it, or `null` when a rule dropped
   * it. `truncated` says whether the decoder cut it (for `exclude_truncated`).
   */
  process(msg: LogMessage, truncated = false): LogMessage | null {
    const c = this.counters;
    c.counters.add('LogsDecoded');
    if (this.rules.length > 0 || this.detectJsonStatus) {
      let text = this.needsText ? contentText(msg.content) : '';
      let changed = false;
      for (const rule of this.rules) {
        switch (rule.type) {
          case 'exclude_at_match':
            if (rule.regex!.test(text)) {
              c.rules.add(rule.designation);
              return null;
            }
            break;
          case 'include_at_match':
            if (!rule.regex!.test(text)) return null;
            c.rules.add(rule.designation);
            break;
          case 'mask_sequences': {
            const next = rule.regex!.replaceAll(text, rule.placeholder);
            if (next !== text) {
              c.rules.add(rule.designation);
              text = next;
              changed = true;
            }
            break;
          }
          case 'exclude_truncated':
            if (truncated) {
              c.rules.add(rule.designation);
              return null;
            }
            break;
          default:
            break;
        }
      }
      if (changed || this.needsText) msg.content = text;
      if (this.detectJsonStatus) {
        const s = jsonStatus(text);
        if (s !== '') msg.status = s;
      }
    }
    if (this.globalTags.length > 0) msg.tags = this.withGlobalTags(msg.tags);
    c.counters.add('LogsProcessed');
    return msg;
  }

  private withGlobalTags(tags: readonly string[]): readonly string[] {
    // Sources reuse one tag array per input, so the joined list is built once per input.
    let joined = this.tagCache.get(tags);
    if (joined === undefined) {
      joined = Object.freeze([...tags, ...this.globalTags]);
      this.tagCache.set(tags, joined);
    }
    return joined;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

function contentText(content: Uint8Array | string): string {
  return typeof content === 'string' ? content : utf8.decode(content);
}

/**
 * The status a JSON log names in `status` (or else `level`), mapped as the Datadog status
 * remapper maps values: a syslog severity number 0–7, or a word by its start (`emerg`/`f` →
 * emergency, `a` → alert, `c` → critical, `e` → error, `w` → warn, `n` → notice, `i` → info,
 * `d`/`trace`/`verbose` → debug, `o`/`s`/`ok`/`success` → ok). `''` when there is none.
 */
export function jsonStatus(text: string): string {
  let i = 0;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  if (text[i] !== '{') return '';
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return '';
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return '';
  const o = obj as Record<string, unknown>;
  const v = o['status'] ?? o['level'];
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 7) {
    return ['emergency', 'alert', 'critical', 'error', 'warn', 'notice', 'info', 'debug'][v]!;
  }
  if (typeof v !== 'string' || v === '') return '';
  const s = v.toLowerCase();
  if (/^[0-7]$/.test(s)) return ['emergency', 'alert', 'critical', 'error', 'warn', 'notice', 'info', 'debug'][Number(s)]!;
  if (s.startsWith('emerg') || s.startsWith('f')) return 'emergency';
  if (s.startsWith('a')) return 'alert';
  if (s.startsWith('c')) return 'critical';
  if (s.startsWith('e')) return 'error';
  if (s.startsWith('w')) return 'warn';
  if (s.startsWith('n')) return 'notice';
  if (s.startsWith('i')) return 'info';
  if (s.startsWith('d') || s.startsWith('trace') || s.startsWith('verbose')) return 'debug';
  if (s.startsWith('o') || s.startsWith('s') || s === 'ok' || s === 'success') return 'ok';
  return '';
}
