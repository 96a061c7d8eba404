/**
 * Arguments that may be templates. The engine validates a task's arguments against the module's
 * schema at parse time, before any value is known, so `port: "{{ ansible_port }}"` must pass there;
 * the rendered value is validated against the strict schema at run time, where numeric and boolean
 * strings ("3632", "true") are coerced. One strict schema is the source of both.
 */
import type { ErrorObject } from 'ajv';
import { validatorFor } from '../../engine/validate/precompiled.js';
import type { JsonSchema } from '../../engine/module-types.js';

/** A string holding a template tag: checked after rendering, at run time. */
export const TEMPLATED = { type: 'string', pattern: '\\{\\{' } as const;

/**
 * The parse-time schema: each property of `strict` may also be a template. Description and
 * default stay on the property itself (the generated docs read them there).
 */
export function allowTemplates(strict: JsonSchema): JsonSchema {
  strictSchemas.add(strict);
  const props = (strict.properties ?? {}) as Record<string, JsonSchema>;
  const out: Record<string, JsonSchema> = {};
  for (const [name, p] of Object.entries(props)) {
    const { description, default: dflt, ...rest } = p as { description?: string; default?: unknown };
    out[name] = { anyOf: [rest, TEMPLATED], ...(dflt !== undefined ? { default: dflt } : {}), ...(description ? { description } : {}) };
  }
  return { ...strict, properties: out };
}

/** Every strict schema a module declared through allowTemplates: the build precompiles them. */
const strictSchemas = new Set<JsonSchema>();
export function renderedSchemas(): readonly JsonSchema[] {
  return [...strictSchemas];
}

function describeError(e: ErrorObject): string {
  const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'arguments';
  if (e.keyword === 'enum') return `${where} must be ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(' or ')}`;
  return `${where} ${e.message}`;
}

/**
 * The rendered arguments checked against the strict schema (coercing "3632" to 3632 and "true" to
 * true, filling defaults), or a message naming every problem and the value it got.
 */
export function checkRendered<A>(strict: JsonSchema, rendered: Record<string, unknown>): { ok: true; args: A } | { ok: false; msg: string } {
  const validate = validatorFor('rendered', strict);
  const args = structuredClone(rendered);
  if (validate(args)) return { ok: true, args: args as A };
  const problems = (validate.errors ?? []).map((e) => {
    const key = e.instancePath.split('/')[1];
    const got = key !== undefined ? ` (got ${JSON.stringify(rendered[key])})` : '';
    return describeError(e) + got;
  });
  return { ok: false, msg: `invalid arguments after rendering: ${[...new Set(problems)].join('; ')}` };
}
