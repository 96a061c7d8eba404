/**
 * ajv, used for what it is for: every schema under schemas/ and every module's argument schema is
 * compiled once; validation errors are data (instancePath) that we turn into diagnostics with the
 * file, line and column of the offending node.
 */
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Diagnostic } from '../diagnostics.js';
import type { SourceFile } from '../yaml/source.js';
import { didYouMean } from '../util/suggest.js';

let ajv: Ajv | undefined;
export function getAjv(): Ajv {
  ajv ??= new Ajv({ allErrors: true, useDefaults: true, strict: false, allowUnionTypes: true });
  return ajv;
}

const cache = new WeakMap<object, ValidateFunction>();
export function compile(schema: object): ValidateFunction {
  let v = cache.get(schema);
  if (!v) {
    v = getAjv().compile(schema);
    cache.set(schema, v);
  }
  return v;
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
  const errors = prune(validate.errors ?? []);
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    let { container, key } = resolvePointer(value, e.instancePath);
    if (e.instancePath === '' && base) {
      container = base.container;
      key = base.key;
    }
    const what = ctx.what ? `${ctx.what}: ` : '';
    const path = e.instancePath ? `${e.instancePath.slice(1).replace(/\//g, '.')}` : '';
    let d: Diagnostic;
    if (e.keyword === 'additionalProperties') {
      const extra = String((e.params as { additionalProperty: string }).additionalProperty);
      const target = e.instancePath === '' && base ? base.container && (base.container as Record<string, unknown>)[base.key as string] : resolveValue(value, e.instancePath);
      const allowed = Object.keys(((e.parentSchema as { properties?: object })?.properties ?? {}) as object);
      d = source.diag(`${prefix}/unknown-key`, `${what}unknown key \`${extra}\`${path ? ` in ${path}` : ''}`, source.locate(target, extra, 'key'), didYouMean(extra, allowed) ?? (allowed.length ? `allowed keys: ${allowed.join(', ')}` : undefined));
    } else if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      const target = resolveValue(value, e.instancePath) ?? (base ? (base.container as Record<string, unknown>)[base.key as string] : undefined);
      d = source.diag(`${prefix}/missing-key`, `${what}missing required key \`${missing}\`${path ? ` in ${path}` : ''}`, source.locate(target) ?? (base ? source.locate(base.container, base.key) : undefined));
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
    } else {
      d = source.diag(`${prefix}/${e.keyword.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`, `${what}${path || 'value'} ${e.message}`, locateKey(source, container, key));
    }
    const sig = `${d.code}|${d.line}|${d.column}|${d.message}`;
    if (!seen.has(sig)) {
      seen.add(sig);
      out.push(d);
    }
  }
  return out;
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

/** Drops anyOf/oneOf umbrella errors when a more specific error exists at the same path. */
function prune(errors: ErrorObject[]): ErrorObject[] {
  const specific = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.keyword !== 'if');
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of specific) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  const out: ErrorObject[] = [];
  for (const [, list] of byPath) {
    // When an anyOf branch failed on type and another on something else, keep one type error.
    const types = list.filter((e) => e.keyword === 'type');
    const others = list.filter((e) => e.keyword !== 'type');
    if (others.length) out.push(...others);
    else if (types.length) {
      const merged = { ...types[0], params: { type: [...new Set(types.flatMap((t) => [(t.params as { type: string | string[] }).type].flat()))] } };
      out.push(merged as ErrorObject);
    }
  }
  if (!out.length) return errors.slice(0, 1);
  return out;
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
