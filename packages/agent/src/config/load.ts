import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ErrorCode, KennelError } from '@kennel/core';
import { KEYS, KEY_BY_NAME, envName } from './schema.js';
import type { KeyDef } from './schema.js';
import type { Env } from './env.js';

/** Where a value came from, for `kennel status` and error messages. */
export type ValueSource = 'default' | 'file' | 'env';

/** A loaded configuration: typed lookups by the agent's key names. */
export class Config {
  private readonly values: ReadonlyMap<string, unknown>;
  private readonly sources: ReadonlyMap<string, ValueSource>;
  /** Keys in the file that kennel does not read (the agent's file has many; they are ignored). */
  readonly unknownFileKeys: readonly string[];
  readonly file: string | null;

  constructor(values: Map<string, unknown>, sources: Map<string, ValueSource>, unknownFileKeys: string[], file: string | null) {
    this.values = values;
    this.sources = sources;
    this.unknownFileKeys = Object.freeze(unknownFileKeys);
    this.file = file;
  }

  private get(key: string): unknown {
    if (!KEY_BY_NAME.has(key)) throw new KennelError(ErrorCode.CONFIG_UNKNOWN_KEY, `no configuration key ${key}`);
    return this.values.get(key);
  }
  bool(key: string): boolean {
    return this.get(key) as boolean;
  }
  int(key: string): number {
    return this.get(key) as number;
  }
  float(key: string): number {
    return this.get(key) as number;
  }
  string(key: string): string {
    return this.get(key) as string;
  }
  list(key: string): readonly string[] {
    return this.get(key) as readonly string[];
  }
  /** A `json` key: the parsed value (a YAML value from the file, `JSON.parse` of the variable). */
  json(key: string): unknown {
    return this.get(key);
  }
  source(key: string): ValueSource {
    return this.sources.get(key) ?? 'default';
  }
}

function fail(where: string, _def: KeyDef, expected: string, got: unknown): never {
  const shown = typeof got === 'string' ? JSON.stringify(got) : JSON.stringify(got) ?? String(got);
  throw new KennelError(ErrorCode.CONFIG_INVALID, `${where}: expected ${expected}, got ${shown}`);
}

function describeRange(def: KeyDef): string {
  return `a ${def.type === 'int' ? 'whole number' : 'number'} from ${def.min ?? '-∞'} to ${def.max ?? '∞'}`;
}

/** Converts a raw value (a string from the environment, or any YAML value) to the key's type. */
function coerce(def: KeyDef, raw: unknown, where: string, fromEnv: boolean): unknown {
  switch (def.type) {
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const s = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' ? String(raw) : null;
      // Go's strconv.ParseBool forms, which the agent's config reader accepts.
      if (s !== null && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(s)) return true;
      if (s !== null && ['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(s)) return false;
      return fail(where, def, 'a boolean (true or false)', raw);
    }
    case 'int':
    case 'float': {
      let n: number;
      if (typeof raw === 'number') n = raw;
      else if (typeof raw === 'string' && raw.trim() !== '' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw.trim())) n = Number(raw.trim());
      else return fail(where, def, describeRange(def), raw);
      if (!Number.isFinite(n) || (def.type === 'int' && !Number.isInteger(n))) return fail(where, def, describeRange(def), raw);
      if ((def.min !== undefined && n < def.min) || (def.max !== undefined && n > def.max)) return fail(where, def, describeRange(def), raw);
      return n;
    }
    case 'string': {
      if (typeof raw === 'number' || typeof raw === 'boolean') raw = String(raw);
      if (typeof raw !== 'string') return fail(where, def, 'a string', raw);
      if (def.oneOf && !def.oneOf.includes(raw)) return fail(where, def, `one of ${def.oneOf.join(', ')}`, raw);
      return raw;
    }
    case 'list': {
      let items: string[];
      if (typeof raw === 'string') {
        // Lists from the environment are space-separated, as the agent reads them; a JSON array is also accepted.
        const t = raw.trim();
        if (fromEnv && t.startsWith('[')) {
          try {
            const j: unknown = JSON.parse(t);
            if (Array.isArray(j)) items = j.map(String);
            else return fail(where, def, 'a space-separated list or a JSON array', raw);
          } catch {
            return fail(where, def, 'a space-separated list or a JSON array', raw);
          }
        } else {
          items = t === '' ? [] : t.split(/\s+/);
        }
      } else if (Array.isArray(raw)) {
        items = raw.map((x) => (typeof x === 'string' ? x : String(x)));
      } else {
        return fail(where, def, 'a list', raw);
      }
      if (def.oneOf) for (const i of items) if (!def.oneOf.includes(i)) fail(where, def, `a list of ${def.oneOf.join(', ')}`, i);
      return Object.freeze(items);
    }
    case 'json': {
      if (typeof raw === 'string' && fromEnv) {
        try {
          return JSON.parse(raw);
        } catch {
          return fail(where, def, 'a JSON value', raw);
        }
      }
      return raw;
    }
  }
}

/** Reads `a.b.c` from a parsed YAML document; also accepts a flat `a.b: v` key. */
function lookup(doc: Record<string, unknown>, key: string): { found: boolean; value: unknown } {
  if (Object.hasOwn(doc, key)) return { found: true, value: doc[key] };
  const parts = key.split('.');
  let cur: unknown = doc;
  for (const p of parts) {
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, p)) return { found: false, value: undefined };
    cur = (cur as Record<string, unknown>)[p];
  }
  return { found: true, value: cur };
}

function fileKeys(doc: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(doc)) {
    const full = prefix + k;
    if (KEY_BY_NAME.has(full)) out.push(full);
    else if (typeof v === 'object' && v !== null && !Array.isArray(v)) out.push(...fileKeys(v as Record<string, unknown>, full + '.'));
    else out.push(full);
  }
  return out;
}

/**
 * Loads the configuration: `DD_*` variables win over the file (`-c datadog.yaml`), which wins over
 * the agent's defaults. A malformed value throws a `KennelError` naming the variable or key and
 * what was expected; keys kennel does not read are listed in `unknownFileKeys`.
 */
export function loadConfig(env: Env, file?: string): Config {
  let doc: Record<string, unknown> = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new KennelError(ErrorCode.CONFIG_INVALID, `cannot read the configuration file ${file}: ${(e as Error).message}`, { cause: e });
    }
    try {
      const parsed: unknown = parseYaml(text);
      if (parsed !== null && parsed !== undefined) {
        if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the top level must be a mapping of keys');
        doc = parsed as Record<string, unknown>;
      }
    } catch (e) {
      throw new KennelError(ErrorCode.CONFIG_INVALID, `${file} is not valid YAML: ${(e as Error).message}`, { cause: e });
    }
  }
  const values = new Map<string, unknown>();
  const sources = new Map<string, ValueSource>();
  for (const def of KEYS) {
    const names = [envName(def.key), ...(def.aliases ?? [])];
    const envHit = names.find((n) => env[n] !== undefined);
    if (envHit !== undefined) {
      values.set(def.key, coerce(def, env[envHit], envHit, true));
      sources.set(def.key, 'env');
      continue;
    }
    const f = lookup(doc, def.key);
    if (f.found && f.value !== null && f.value !== undefined) {
      values.set(def.key, coerce(def, f.value, `${file}: ${def.key}`, false));
      sources.set(def.key, 'file');
      continue;
    }
    values.set(def.key, def.default);
    sources.set(def.key, 'default');
  }
  const unknown = fileKeys(doc).filter((k) => !KEY_BY_NAME.has(k));
  return new Config(values, sources, unknown, file ?? null);
}

/** The API key as status and logs may show it: only its last 5 characters. */
export function redactApiKey(key: string): string {
  if (key === '') return '(none)';
  return `***************************${key.slice(-5)}`;
}
