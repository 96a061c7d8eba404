/**
 * Module documentation generated from each module's JSON Schema (the schema is the single source
 * of truth): `tsplay doc` prints it, and README's module reference is this output.
 */
import type { JsonSchema, ModuleDef } from '../module-types.js';

interface PropSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  items?: PropSchema;
  oneOf?: PropSchema[];
  anyOf?: PropSchema[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
}

function typeOf(s: PropSchema): string {
  // TEMPLATED (modules/lib): a string that must hold a template tag, checked after rendering.
  if (s.type === 'string' && s.pattern === '\\{\\{') return 'template';
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' | ');
  if (s.const !== undefined) return `\`${String(s.const)}\``;
  const alts = s.oneOf ?? s.anyOf;
  if (alts) return alts.map(typeOf).join(' or ');
  const t = Array.isArray(s.type) ? s.type.join(' or ') : s.type ?? 'any';
  if (t === 'array' && s.items) return `list of ${typeOf(s.items)}`;
  const range = s.minimum !== undefined || s.maximum !== undefined ? ` (${s.minimum ?? ''}…${s.maximum ?? ''})` : '';
  return t + range;
}

function requiredOf(schema: JsonSchema): Set<string> {
  const req = new Set<string>((schema.required as string[] | undefined) ?? []);
  return req;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** One module's reference section in markdown: description, arguments table, examples. */
export function moduleMarkdown(m: ModuleDef, level = 3): string {
  const h = '#'.repeat(level);
  const props = (m.schema.properties ?? {}) as Record<string, PropSchema>;
  const required = requiredOf(m.schema);
  const out = [`${h} \`${m.name}\``, '', m.description, ''];
  const traits = [
    m.build ? 'a **build task**: placement refuses it on hardware classes that may not build (cm3plus)' : undefined,
    m.parallelism ? 'its parallelism values are checked against the doctrine before anything runs' : undefined,
    m.controllerOnly ? 'runs on the controller; contacts no host' : undefined,
    m.freeForm ? `takes a free-form string as \`${m.freeForm}\`` : undefined,
    m.providesFacts?.length ? `sets facts: ${m.providesFacts.map((f) => `\`${f}\``).join(', ')}` : undefined,
  ].filter(Boolean);
  if (traits.length) out.push(...traits.map((t) => `- ${t}`), '');
  const names = Object.keys(props);
  if (names.length) {
    out.push('| argument | type | default | description |', '|---|---|---|---|');
    for (const name of names) {
      const p = props[name]!;
      const def = p.default === undefined ? (required.has(name) ? '*required*' : '') : `\`${JSON.stringify(p.default)}\``;
      out.push(`| \`${name}\` | ${cell(typeOf(p))} | ${cell(def)} | ${cell(p.description ?? '')} |`);
    }
    out.push('');
  }
  if (m.examples) out.push(m.examples.trim(), '');
  return out.join('\n');
}

/** The reference for every module, in registry order. */
export function modulesMarkdown(modules: readonly ModuleDef[], level = 3): string {
  return modules.map((m) => moduleMarkdown(m, level)).join('\n');
}
