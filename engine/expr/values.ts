/**
 * Value helpers shared by expressions and templates: safe property lookup, Jinja-like truthiness
 * and equality, and the one way a value is turned into text.
 */

/** Marks "no such variable/attribute" during evaluation; never escapes to callers. */
export const UNDEFINED: unique symbol = Symbol('undefined');
export type Lookup = unknown | typeof UNDEFINED;

const hasOwn = Object.prototype.hasOwnProperty;

function isIndexable(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}

/**
 * Own-property lookup that also walks prototypes created by the caller (layered scopes built with
 * Object.create) but never reaches Object.prototype, so `constructor`, `__proto__` or `toString`
 * are never variables. A property holding `undefined` counts as missing.
 */
export function lookupKey(obj: object, key: string): Lookup {
  let o: object | null = obj;
  while (o !== null && o !== Object.prototype && o !== Array.prototype) {
    if (hasOwn.call(o, key)) {
      const v = (o as Record<string, unknown>)[key];
      return v === undefined ? UNDEFINED : v;
    }
    o = Object.getPrototypeOf(o) as object | null;
  }
  return UNDEFINED;
}

/**
 * `value.key` / `value[key]`: object keys, list and string indices (negative counts from the end,
 * like Python). Anything else is undefined.
 */
export function getMember(value: unknown, key: unknown): Lookup {
  if (Array.isArray(value) || typeof value === 'string') {
    const i = typeof key === 'number' ? key : typeof key === 'string' && /^-?\d+$/.test(key) ? Number(key) : NaN;
    if (!Number.isInteger(i)) return UNDEFINED;
    const j = i < 0 ? value.length + i : i;
    if (j < 0 || j >= value.length) return UNDEFINED;
    const v = value[j];
    return v === undefined ? UNDEFINED : v;
  }
  if (isIndexable(value) && (typeof key === 'string' || typeof key === 'number')) {
    return lookupKey(value, String(key));
  }
  return UNDEFINED;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (!isIndexable(v) || Array.isArray(v)) return false;
  // Plain, null-prototype, or layered over plain objects with Object.create; not class instances.
  let p = Object.getPrototypeOf(v) as object | null;
  while (p !== null && p !== Object.prototype) {
    if (hasOwn.call(p, 'constructor')) return false;
    p = Object.getPrototypeOf(p) as object | null;
  }
  return true;
}

/** Jinja truthiness: empty string/list/mapping, 0, null, false (and undefined) are false. */
export function isTruthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === UNDEFINED) return false;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string' || Array.isArray(v)) return v.length > 0;
  if (isPlainObject(v)) {
    for (const k in v) if (v[k] !== undefined) return true;
    return false;
  }
  return true;
}

/** Python-like `==`: structural for lists and mappings, no coercion between types. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => hasOwn.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * The text form of a value, used by templates and the `string` filter: strings as-is, null as
 * the empty string, numbers and booleans in their JS form, lists and mappings as JSON.
 */
export function toText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined || v === UNDEFINED) return '';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? '';
}

/** A short type name for error messages. */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (isPlainObject(v)) return 'mapping';
  return typeof v;
}
