import { ErrorCode, KennelError } from '@kennel/core';
import { GoRegexp, GoRegexpSyntaxError } from './go-regexp.js';

/** The processing rule types (`comp/logs/agent/config/processing_rules.go`). */
export const ProcessingRuleType = {
  EXCLUDE_AT_MATCH: 'exclude_at_match',
  INCLUDE_AT_MATCH: 'include_at_match',
  MASK_SEQUENCES: 'mask_sequences',
  MULTI_LINE: 'multi_line',
  EXCLUDE_TRUNCATED: 'exclude_truncated',
  REMAP_SOURCE: 'remap_source',
} as const;
export type ProcessingRuleType = (typeof ProcessingRuleType)[keyof typeof ProcessingRuleType];

/** One rule as configured (`log_processing_rules` entries, `logs_config.processing_rules`). */
export interface ProcessingRuleConfig {
  readonly type?: unknown;
  readonly name?: unknown;
  readonly pattern?: unknown;
  readonly replace_placeholder?: unknown;
  readonly matching?: unknown;
}

/** A validated, compiled rule. */
export interface ProcessingRule {
  readonly type: ProcessingRuleType;
  readonly name: string;
  readonly pattern: string;
  /** The compiled pattern; `multi_line` patterns get Go's leading `^`. Absent for `exclude_truncated` and `remap_source`. */
  readonly regex: GoRegexp | undefined;
  /** `mask_sequences` only: the replacement, expanded as Go's `Regexp.Expand` (`${1}`). */
  readonly placeholder: string;
  /** The counter key the agent uses for this rule: `type:name`. */
  readonly designation: string;
}

const KNOWN = new Set<string>(Object.values(ProcessingRuleType));
const JQ_TYPES = new Set(['exclude_at_gojq_match', 'include_at_gojq_match', 'mask_gojq']);

/**
 * Validates and compiles rules, in order, as the agent's `ValidateProcessingRules` and
 * `CompileProcessingRules` do.
 *
 * @param where - the configuration key the rules came from, named in every error
 *   (`logs_config.processing_rules`, `logs[0].log_processing_rules`).
 * @throws KennelError `ERR_CONFIG_INVALID`, naming the key, the rule's index and name, and what
 *   is wrong (a missing name, type or pattern; an unknown type; a pattern Go's RE2 rejects, with
 *   Go's reason).
 */
export function compileProcessingRules(rules: unknown, where: string): ProcessingRule[] {
  if (rules === undefined || rules === null) return [];
  if (!Array.isArray(rules)) throw invalid(`${where} must be a list of rules, got ${typeof rules}`);
  const out: ProcessingRule[] = [];
  rules.forEach((raw: unknown, i: number) => {
    const at = `${where}[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(`${at} must be a mapping with type, name and pattern`);
    const r = raw as ProcessingRuleConfig;
    const name = r.name;
    if (typeof name !== 'string' || name === '') throw invalid(`${at}: all processing rules must have a name`);
    const type = r.type;
    if (type === undefined || type === null || type === '') throw invalid(`${at}: type must be set for processing rule \`${name}\``);
    if (typeof type !== 'string') throw invalid(`${at}: the type of processing rule \`${name}\` must be a string`);
    if (JQ_TYPES.has(type)) throw invalid(`${at}: type ${type} of processing rule \`${name}\` is not supported by kennel`);
    if (!KNOWN.has(type)) throw invalid(`${at}: type ${type} is not supported for processing rule \`${name}\``);
    const t = type as ProcessingRuleType;
    const placeholder = r.replace_placeholder;
    if (placeholder !== undefined && placeholder !== null && typeof placeholder !== 'string') {
      throw invalid(`${at}: replace_placeholder of processing rule \`${name}\` must be a string`);
    }
    let regex: GoRegexp | undefined;
    let pattern = '';
    if (t === 'exclude_at_match' || t === 'include_at_match' || t === 'mask_sequences' || t === 'multi_line') {
      if (typeof r.pattern !== 'string' || r.pattern === '') throw invalid(`${at}: no pattern provided for processing rule: ${name}`);
      pattern = r.pattern;
      try {
        // Validation compiles the pattern as written; multi_line then gets the leading ^ (CompileProcessingRules).
        regex = new GoRegexp(pattern);
        if (t === 'multi_line') regex = new GoRegexp('^' + pattern);
      } catch (e) {
        if (e instanceof GoRegexpSyntaxError) throw invalid(`${at}: invalid pattern ${pattern} for processing rule: ${name} (${e.message}; patterns are Go RE2: no lookaround, no backreferences)`);
        throw e;
      }
    } else if (t === 'remap_source') {
      const m = r.matching;
      if (!Array.isArray(m) || m.length === 0) throw invalid(`${at}: no matching entries provided for processing rule: ${name}`);
      m.forEach((e: unknown, j: number) => {
        const entry = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
        for (const k of ['attribute', 'value', 'new_source']) {
          if (typeof entry[k] !== 'string' || entry[k] === '') throw invalid(`${at}: match ${j} has empty ${k} in processing rule: ${name}`);
        }
      });
    }
    out.push(Object.freeze({ type: t, name, pattern, regex, placeholder: typeof placeholder === 'string' ? placeholder : '', designation: `${t}:${name}` }));
  });
  return out;
}

/**
 * Reads rules given as a JSON string, as `DD_LOGS_CONFIG_PROCESSING_RULES` carries them.
 * @throws KennelError `ERR_CONFIG_INVALID` naming `key` when the JSON is malformed or a rule is invalid.
 */
export function parseProcessingRulesJson(json: string, key = 'DD_LOGS_CONFIG_PROCESSING_RULES'): ProcessingRule[] {
  if (json.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    throw invalid(`${key} must be a JSON list of processing rules: ${(e as Error).message}`);
  }
  return compileProcessingRules(parsed, key);
}

/** The source's multi-line rule: the last `multi_line` rule wins, as in the agent's `buildLineHandler`. */
export function multiLineRule(rules: readonly ProcessingRule[]): ProcessingRule | undefined {
  let found: ProcessingRule | undefined;
  for (const r of rules) if (r.type === 'multi_line') found = r;
  return found;
}

function invalid(message: string): KennelError {
  return new KennelError(ErrorCode.CONFIG_INVALID, message);
}
