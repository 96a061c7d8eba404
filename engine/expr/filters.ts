/**
 * Filters (`value | name(args)`): one small definition each, in an explicit registry.
 * `apply` gets its arguments lazily so `default(x)` only evaluates `x` when it is needed.
 */
import { shellQuote } from '../transport/transport.js';
import { pythonRegex } from './regex.js';
import { UNDEFINED, isPlainObject, toText, typeName } from './values.js';

export interface FilterArgs {
  readonly length: number;
  get(i: number): unknown;
}

export interface FilterDef {
  minArgs: number;
  maxArgs: number;
  /** The input may be an undefined variable path (only `default`). */
  softInput?: boolean;
  /** Indices of arguments that are regular expressions: checked at compile time when literal. */
  regexArgs?: number[];
  /** Throws FilterFailure; the evaluator adds the position. */
  apply(input: unknown, args: FilterArgs): unknown;
}

/** A filter rejected its input; the evaluator turns it into an ExprEvalError at the filter. */
export class FilterFailure extends Error {
  constructor(readonly code: 'expr/type' | 'expr/value', message: string) {
    super(message);
  }
}

const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const INF_RE = /^[+-]?(inf|infinity|nan)$/i;

/** Python's float(str): decimal text, or inf/nan; undefined when not a number. */
function parseFloatStrict(s: string): number | undefined {
  const t = s.trim();
  if (FLOAT_RE.test(t)) return Number(t);
  if (INF_RE.test(t)) {
    const neg = t.startsWith('-');
    if (/nan/i.test(t)) return NaN;
    return neg ? -Infinity : Infinity;
  }
  return undefined;
}

/** Jinja's `int`: integers, numeric text (truncated), booleans; anything else gives the default (0). */
function toInt(v: unknown, dflt: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : dflt;
  if (typeof v === 'string') {
    const t = v.trim();
    if (INT_RE.test(t)) return Number.parseInt(t, 10);
    const f = parseFloatStrict(t);
    return f !== undefined && Number.isFinite(f) ? Math.trunc(f) : dflt;
  }
  return dflt;
}

function toFloat(v: unknown, dflt: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return parseFloatStrict(v) ?? dflt;
  return dflt;
}

/** Ansible's `bool`: true for true, 1, and 'yes', 'y', 'on', 'true', 't', '1' in any case. */
function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v === 1;
  if (typeof v === 'string') return ['yes', 'y', 'on', 'true', 't', '1'].includes(v.trim().toLowerCase());
  return false;
}

function requireString(filter: string, v: unknown, what = 'input'): string {
  if (typeof v !== 'string') throw new FilterFailure('expr/type', `${filter} expects a string ${what}, got ${typeName(v)}`);
  return v;
}

function length(v: unknown): number {
  if (typeof v === 'string' || Array.isArray(v)) return v.length;
  if (isPlainObject(v)) return Object.keys(v).length;
  throw new FilterFailure('expr/type', `length expects a string, list or mapping, got ${typeName(v)}`);
}

function pick(which: 'first' | 'last', v: unknown): unknown {
  if (typeof v !== 'string' && !Array.isArray(v)) {
    throw new FilterFailure('expr/type', `${which} expects a list or string, got ${typeName(v)}`);
  }
  if (v.length === 0) throw new FilterFailure('expr/value', `${which} of an empty ${typeName(v) === 'string' ? 'string' : 'list'}`);
  return which === 'first' ? v[0] : v[v.length - 1];
}

/** Ansible's regex_search: the match, or with `'\\1'` / `'\\g<name>'` arguments the list of those groups; null when no match. */
function regexSearch(input: unknown, args: FilterArgs): unknown {
  const pattern = requireString('regex_search', args.get(0), 'pattern');
  let re: RegExp;
  try {
    re = pythonRegex(pattern);
  } catch (e) {
    throw new FilterFailure('expr/value', `invalid regular expression: ${(e as Error).message}`);
  }
  const groups: (number | string)[] = [];
  for (let i = 1; i < args.length; i++) {
    const g = requireString('regex_search', args.get(i), 'group argument');
    const named = /^\\g<(\w+)>$/.exec(g);
    const numbered = /^\\(\d+)$/.exec(g);
    if (named) groups.push(named[1]);
    else if (numbered) groups.push(Number(numbered[1]));
    else throw new FilterFailure('expr/value', `regex_search group arguments look like '\\\\1' or '\\\\g<name>', got '${g}'`);
  }
  if (groups.length > 0) {
    // An alternative matching the empty string reveals the pattern's groups without the input.
    const shape = new RegExp(`${re.source}|`, re.flags).exec('') as RegExpExecArray;
    for (const g of groups) {
      if (typeof g === 'number' ? g >= shape.length : !(shape.groups && g in shape.groups)) {
        throw new FilterFailure('expr/value', `regex_search: the pattern has no group ${typeof g === 'number' ? g : `'${g}'`}`);
      }
    }
  }
  const m = re.exec(toText(input));
  if (!m) return null;
  if (groups.length === 0) return m[0];
  return groups.map((g) => (typeof g === 'number' ? m[g] : m.groups?.[g]) ?? null);
}

function split(input: unknown, args: FilterArgs): string[] {
  const s = requireString('split', input);
  if (args.length === 0) return s.split(/\s+/).filter((x) => x !== '');
  const sep = requireString('split', args.get(0), 'separator');
  if (sep === '') throw new FilterFailure('expr/value', 'split: empty separator');
  return s.split(sep);
}

const defaultFilter: FilterDef = {
  minArgs: 0,
  maxArgs: 2,
  softInput: true,
  apply(input, args) {
    const useDefault = input === UNDEFINED || (args.length > 1 && args.get(1) === true && !input);
    if (!useDefault) return input;
    return args.length > 0 ? args.get(0) : '';
  },
};

export const FILTERS: Readonly<Record<string, FilterDef>> = {
  int: { minArgs: 0, maxArgs: 1, apply: (v, a) => toInt(v, a.length > 0 ? a.get(0) : 0) },
  float: { minArgs: 0, maxArgs: 1, apply: (v, a) => toFloat(v, a.length > 0 ? a.get(0) : 0) },
  string: { minArgs: 0, maxArgs: 0, apply: (v) => toText(v) },
  bool: { minArgs: 0, maxArgs: 0, apply: (v) => toBool(v) },
  length: { minArgs: 0, maxArgs: 0, apply: (v) => length(v) },
  count: { minArgs: 0, maxArgs: 0, apply: (v) => length(v) },
  lower: { minArgs: 0, maxArgs: 0, apply: (v) => toText(v).toLowerCase() },
  upper: { minArgs: 0, maxArgs: 0, apply: (v) => toText(v).toUpperCase() },
  trim: { minArgs: 0, maxArgs: 0, apply: (v) => toText(v).trim() },
  default: defaultFilter,
  d: defaultFilter,
  join: {
    minArgs: 0,
    maxArgs: 1,
    apply(v, a) {
      if (!Array.isArray(v)) throw new FilterFailure('expr/type', `join expects a list, got ${typeName(v)}`);
      const sep = a.length > 0 ? toText(a.get(0)) : '';
      return v.map(toText).join(sep);
    },
  },
  first: { minArgs: 0, maxArgs: 0, apply: (v) => pick('first', v) },
  last: { minArgs: 0, maxArgs: 0, apply: (v) => pick('last', v) },
  quote: { minArgs: 0, maxArgs: 0, apply: (v) => shellQuote(toText(v)) },
  regex_search: { minArgs: 1, maxArgs: 10, regexArgs: [0], apply: regexSearch },
  split: { minArgs: 0, maxArgs: 1, apply: split },
};

export function getFilter(name: string): FilterDef | undefined {
  return Object.prototype.hasOwnProperty.call(FILTERS, name) ? FILTERS[name] : undefined;
}
