/**
 * ajv, used for what it is for: every schema under schemas/ and every module's argument schema is
 * compiled once; validation errors are data (instancePath) that we turn into diagnostics with the
 * file, line and column of the offending node.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { validatorFor } from './precompiled.js';
import type { Diagnostic } from '../diagnostics.js';
import type { SourceFile } from '../yaml/source.js';
import { closest, didYouMean } from '../util/suggest.js';

/** The parse-time validator of `schema` (precompiled by the build when it can be; see precompiled.ts). */
export function compile(schema: object): ValidateFunction {
  return validatorFor('check', schema);
}

/** Resolves a JSON pointer against `root`, returning the container and key of the target. */
function resolvePointer(root: unknown, pointer: string): { container: unknown; key?: string | number } {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let container: unknown = root;
  let key: string | number | undefined;
  let cur: unknown = root;
  for (const part of parts) {
    container = cur;
    key = Array.isArray(cur) ? Number(part) : part;
    cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[part] : undefined;
  }
  return { container, key };
}

export interface SchemaContext {
  /** Prefix for messages, e.g. `task "Start distccd": systemd` */
  what?: string;
  /** Rule id prefix (default `schema`). */
  codePrefix?: string;
  /** Names a JSON pointer for people, e.g. `/0/tasks/2/retries` → `play 1, task 3: retries`. */
  describePath?: (pointer: string) => string;
  /**
   * Where the value at a pointer was written, when `value` is assembled from several places (an
   * inventory host's variables come from groups, the host and group_vars/ files).
   */
  origin?: (pointer: string) => { source: SourceFile; container: unknown; key: string | number } | undefined;
}

/**
 * Validates `value` (found at `container[key]` in `source`, or the document root) and returns one
 * diagnostic per distinct problem. anyOf/oneOf noise is reduced to the most useful branch error.
 */
export function schemaDiagnostics(
  validate: ValidateFunction,
  value: unknown,
  source: SourceFile,
  base?: { container: unknown; key: string | number },
  ctx: SchemaContext = {},
): Diagnostic[] {
  if (validate(value)) return [];
  const prefix = ctx.codePrefix ?? 'schema';
  const out: Diagnostic[] = [];
  const { rest, problems } = exclusiveKeys(validate.errors ?? [], validate.schema);
  for (const p of problems) {
    const target = resolveValue(value, p.instancePath, base);
    const what = ctx.what ? `${ctx.what}: ` : '';
    const names = p.keys.map((k) => `\`${k}\``).join(' or ');
    if (p.given.length === 0) {
      // An unknown key that is a misspelling of one of them (`cmdd`) is reported on its own.
      const unknown = rest.filter((e) => e.keyword === 'additionalProperties' && e.instancePath === p.instancePath)
        .map((e) => String((e.params as { additionalProperty: string }).additionalProperty));
      if (unknown.some((u) => closest(u, p.keys) !== undefined)) continue;
      // Point at the key that holds the incomplete mapping (`command:`), not at its first entry.
      let { container, key } = resolvePointer(value, p.instancePath);
      if (p.instancePath === '' && base) ({ container, key } = base);
      const at = (key !== undefined ? source.locate(container, key, 'key') : undefined) ?? source.locate(target);
      out.push(source.diag(`${prefix}/missing-key`, `${what}needs one of ${names}`, at));
      continue;
    }
    out.push(
      source.diag(`${prefix}/exclusive-keys`, `${what}takes only one of ${names}, not ${p.given.map((k) => `\`${k}\``).join(' and ')} together`, source.locate(target, p.given[1], 'key')),
    );
  }
  const errors = rest.length ? prune(rest) : [];
  const seen = new Set<string>();
  for (const e of errors) {
    let { container, key } = resolvePointer(value, e.instancePath);
    if (e.instancePath === '' && base) {
      container = base.container;
      key = base.key;
    }
    const what = ctx.what ? `${ctx.what}: ` : '';
    const path = !e.instancePath ? '' : ctx.describePath ? ctx.describePath(e.instancePath) : e.instancePath.slice(1).replace(/\//g, '.');
    let d: Diagnostic;
    if (e.keyword === 'additionalProperties') {
      const extra = String((e.params as { additionalProperty: string }).additionalProperty);
      const target = e.instancePath === '' && base ? base.container && (base.container as Record<string, unknown>)[base.key as string] : resolveValue(value, e.instancePath);
      const allowed = Object.keys(((e.parentSchema as { properties?: object })?.properties ?? {}) as object);
      d = source.diag(`${prefix}/unknown-key`, `${what}${path ? `${path}: ` : ''}unknown key \`${extra}\``, source.locate(target, extra, 'key'), didYouMean(extra, allowed) ?? (allowed.length ? `allowed keys: ${allowed.join(', ')}` : undefined));
    } else if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      const target = resolveValue(value, e.instancePath) ?? (base ? (base.container as Record<string, unknown>)[base.key as string] : undefined);
      // Point at the key that holds the incomplete mapping (`experimental:`), not at its first entry.
      const at = (key !== undefined ? source.locate(container, key, 'key') : undefined) ?? source.locate(target);
      d = source.diag(`${prefix}/missing-key`, `${what}${path ? `${path}: ` : ''}missing required key \`${missing}\``, at);
    } else if (e.keyword === 'type') {
      const expected = (e.params as { type: string | string[] }).type;
      d = source.diag(`${prefix}/wrong-type`, `${what}${path || 'value'} must be ${article(expected)}, not ${describe(resolveValue(value, e.instancePath, base))}`, locateKey(source, container, key));
    } else if (e.keyword === 'enum' || e.keyword === 'const') {
      const allowed = e.keyword === 'enum' ? ((e.params as { allowedValues: unknown[] }).allowedValues) : [(e.params as { allowedValue: unknown }).allowedValue];
      const got = resolveValue(value, e.instancePath, base);
      d = source.diag(
        `${prefix}/invalid-value`,
        `${what}${path || 'value'} must be ${allowed.map((a) => JSON.stringify(a)).join(' or ')}, not ${JSON.stringify(got)}`,
        locateKey(source, container, key),
        typeof got === 'string' ? didYouMean(got, allowed.map(String)) : undefined,
      );
    } else if (e.propertyName !== undefined) {
      // A propertyNames rule: the key itself is malformed.
      const target = resolveValue(value, e.instancePath, base);
      d = source.diag(`${prefix}/bad-key`, `${what}${path ? `${path}: ` : ''}\`${e.propertyName}\` is not a valid name here (${humanMessage(e)})`, source.locate(target, e.propertyName, 'key') ?? locateKey(source, container, key));
    } else if (e.keyword === 'not' && Array.isArray((e.schema as { required?: unknown })?.required)) {
      // `not: { required: [a, b] }` is how a schema says "a and b cannot be used together".
      const both = (e.schema as { required: string[] }).required;
      const target = resolveValue(value, e.instancePath, base);
      d = source.diag(`${prefix}/exclusive-keys`, `${what}${path ? `${path}: ` : ''}${both.map((k) => `\`${k}\``).join(' and ')} cannot be used together`, source.locate(target, both[both.length - 1], 'key') ?? locateKey(source, container, key), `keep one of ${both.join(', ')}`);
    } else {
      d = source.diag(`${prefix}/${e.keyword.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`, `${what}${path || 'value'} ${humanMessage(e)}`, locateKey(source, container, key));
    }
    if (d.line === undefined && e.instancePath === '' && !base && source.root) d = source.diag(d.code, d.message, source.root, d.hint);
    const from = e.instancePath ? ctx.origin?.(e.instancePath) : undefined;
    if (from) d = from.source.diag(d.code, d.message, from.source.locate(from.container, from.key, e.propertyName !== undefined ? 'key' : 'value'), d.hint);
    const sig = `${d.code}|${d.file}|${d.line}|${d.column}|${d.message}`;
    if (!seen.has(sig)) {
      seen.add(sig);
      out.push(d);
    }
  }
  return out;
}

/** ajv's messages ("must NOT have fewer than 10 characters") in plainer words where it helps. */
function humanMessage(e: ErrorObject): string {
  const p = e.params as { limit?: number; pattern?: string };
  switch (e.keyword) {
    case 'minLength':
      return p.limit === 1 ? 'must not be empty' : `must be at least ${p.limit} characters long`;
    case 'maxLength':
      return `must be at most ${p.limit} characters long`;
    case 'minimum':
      return `must be at least ${p.limit}`;
    case 'maximum':
      return `must be at most ${p.limit}`;
    case 'minItems':
      return p.limit === 1 ? 'must not be an empty list' : `must have at least ${p.limit} items`;
    case 'pattern':
      return `must match ${p.pattern}`;
    default:
      return e.message ?? 'is invalid';
  }
}

function locateKey(source: SourceFile, container: unknown, key: string | number | undefined) {
  return key === undefined ? source.locate(container) : source.locate(container, key);
}

function resolveValue(root: unknown, pointer: string, base?: { container: unknown; key: string | number }): unknown {
  if (pointer === '' && base) return (base.container as Record<string, unknown>)[base.key as string];
  const { container, key } = resolvePointer(root, pointer);
  if (key === undefined) return container;
  return container && typeof container === 'object' ? (container as Record<string, unknown>)[key as string] : undefined;
}

/**
 * `oneOf: [{required: [a]}, {required: [b]}]` means "exactly one of a and b". ajv reports it as
 * one `required` error per branch (neither given) or a bare oneOf error (both given); say it plainly.
 */
function exclusiveKeys(errors: ErrorObject[], root: unknown): { rest: ErrorObject[]; problems: { instancePath: string; keys: string[]; given: string[] }[] } {
  const problems: { instancePath: string; keys: string[]; given: string[] }[] = [];
  const dropped = new Set<ErrorObject>();
  for (const e of errors) {
    if (e.keyword !== 'oneOf') continue;
    const branches = schemaAt(root, e.schemaPath);
    if (!Array.isArray(branches)) continue;
    const keys = (branches as { required?: unknown }[]).map((b) => (b && typeof b === 'object' && Object.keys(b).length === 1 && Array.isArray(b.required) && b.required.length === 1 ? String(b.required[0]) : undefined));
    if (keys.length < 2 || keys.some((k) => k === undefined)) continue;
    const passing = ((e.params as { passingSchemas?: number[] | null }).passingSchemas ?? []) as number[];
    problems.push({ instancePath: e.instancePath, keys: keys as string[], given: passing.map((i) => keys[i]!) });
    dropped.add(e);
    for (const r of errors) if (r.keyword === 'required' && r.instancePath === e.instancePath && r.schemaPath.startsWith(`${e.schemaPath}/`)) dropped.add(r);
  }
  return { rest: errors.filter((e) => !dropped.has(e)), problems };
}

/** The schema node at an ajv schemaPath (`#/properties/x/oneOf`) of the root schema. */
function schemaAt(root: unknown, schemaPath: string): unknown {
  if (!schemaPath.startsWith('#')) return undefined;
  let cur = root;
  for (const part of schemaPath.slice(1).split('/').slice(1)) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

/**
 * Drops anyOf/oneOf umbrella errors when a more specific error exists at the same path, merges
 * "one of these keys is required" alternatives, and drops a missing key that an unknown key at the
 * same place is a misspelling of (`cmdd` is reported; "missing `cmd`" would only repeat it).
 */
function prune(errors: ErrorObject[]): ErrorObject[] {
  const specific = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.keyword !== 'if' && e.keyword !== 'propertyNames');
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of specific) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  const out: ErrorObject[] = [];
  for (const [, all] of byPath) {
    const unknown = all.filter((e) => e.keyword === 'additionalProperties').map((e) => String((e.params as { additionalProperty: string }).additionalProperty));
    const misspelt = (e: ErrorObject) => unknown.some((u) => closest(u, [missingOf(e)]) !== undefined);
    const isAlternative = (e: ErrorObject) => e.keyword === 'required' && /\/(oneOf|anyOf)\//.test(e.schemaPath);
    let alternatives = all.filter(isAlternative);
    if (alternatives.some(misspelt)) alternatives = [];
    const list = all.filter((e) => !isAlternative(e) && (e.keyword !== 'required' || !misspelt(e)));
    // When an anyOf branch failed on type and another on something else, keep one type error.
    const types = list.filter((e) => e.keyword === 'type');
    const others = list.filter((e) => e.keyword !== 'type');
    if (alternatives.length > 1) {
      const names = [...new Set(alternatives.map(missingOf))];
      others.push({ ...alternatives[0], params: { missingProperty: names.join('` or `') } });
    } else others.push(...alternatives);
    if (others.length) out.push(...others);
    else if (types.length) {
      const merged = { ...types[0], params: { type: [...new Set(types.flatMap((t) => [(t.params as { type: string | string[] }).type].flat()))] } };
      out.push(merged as ErrorObject);
    }
  }
  if (!out.length) return errors.slice(0, 1);
  return out;
}

function missingOf(e: ErrorObject): string {
  return (e.params as { missingProperty: string }).missingProperty;
}

function article(t: string | string[]): string {
  const list = Array.isArray(t) ? t : [t];
  return list.map((x) => (x === 'array' || x === 'object' || x === 'integer' ? `an ${x}` : `a ${x}`)).join(' or ');
}

export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'empty';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}
