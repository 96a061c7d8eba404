/**
 * Rendering over the compiled tree: no HTML escaping, undefined variables are errors, values are
 * turned into text one way (toText), and `{{#quote}}…{{/quote}}` shell-quotes what it encloses.
 */
import { UndefinedVariableError } from '../expr/errors.js';
import { UNDEFINED, getMember, isPlainObject, isTruthy, lookupKey, toText } from '../expr/values.js';
import type { Lookup } from '../expr/values.js';
import { shellQuote } from '../transport/transport.js';
import { compileTemplate } from './compile.js';
import type { TemplateNode } from './compile.js';

/** The context stack: the scope, then each enclosing section's value (innermost last). */
type Stack = readonly unknown[];

/**
 * Resolves a tag name. The first part is looked up from the innermost context outwards; the rest
 * strictly inside what it found. Strict mode throws naming the path up to the missing part.
 */
export function lookupName(parts: string[], stack: Stack, offset: number, soft: boolean): Lookup {
  if (parts[0] === '.') return stack[stack.length - 1];
  let value: Lookup = UNDEFINED;
  for (let i = stack.length - 1; i >= 0 && value === UNDEFINED; i--) {
    const ctx = stack[i];
    if (isPlainObject(ctx)) value = lookupKey(ctx, parts[0]);
  }
  if (value === UNDEFINED) {
    if (soft) return UNDEFINED;
    throw new UndefinedVariableError(parts[0], offset, undefined, 'define it in vars, inventory or a registered result');
  }
  for (let i = 1; i < parts.length; i++) {
    const next = getMember(value, parts[i]);
    if (next === UNDEFINED) {
      if (soft) return UNDEFINED;
      const path = parts.slice(0, i + 1).join('.');
      const parent = parts.slice(0, i).join('.');
      const why = value === null ? `'${parent}' is null` : `'${parent}' has no '${parts[i]}'`;
      throw new UndefinedVariableError(path, offset, `'${path}' is undefined: ${why}${parts.length > i + 1 ? ` (in '${parts.join('.')}')` : ''}`);
    }
    value = next;
  }
  return value;
}

function renderNodes(nodes: TemplateNode[], stack: Stack): string {
  let out = '';
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        out += node.text;
        break;
      case 'var':
        out += toText(lookupName(node.parts, stack, node.offset, false));
        break;
      case 'section':
        out += renderSection(node, stack);
        break;
    }
  }
  return out;
}

function renderSection(node: Extract<TemplateNode, { kind: 'section' }>, stack: Stack): string {
  if (node.quote) return shellQuote(renderNodes(node.children, stack));
  if (node.inverted) {
    const v = lookupName(node.parts, stack, node.offset, true);
    return isTruthy(v) ? '' : renderNodes(node.children, stack);
  }
  const v = lookupName(node.parts, stack, node.offset, false);
  if (Array.isArray(v)) return v.map((item) => renderNodes(node.children, [...stack, item])).join('');
  return isTruthy(v) ? renderNodes(node.children, [...stack, v]) : '';
}

/** Renders a template to text. Throws UndefinedVariableError or TemplateSyntaxError. */
export function renderTemplate(tpl: string, scope: Record<string, unknown>): string {
  if (!tpl.includes('{{')) return tpl;
  return renderNodes(compileTemplate(tpl).nodes, [scope]);
}

/**
 * Renders every string inside a value (arrays and plain objects are copied, keys untouched).
 * A string that is exactly one tag returns the variable's own value, keeping its type.
 */
export function renderValue(value: unknown, scope: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    if (!value.includes('{{')) return value;
    const compiled = compileTemplate(value);
    const only = compiled.nodes[0];
    if (compiled.single && only.kind === 'var') return lookupName(only.parts, [scope], only.offset, false);
    return renderNodes(compiled.nodes, [scope]);
  }
  if (Array.isArray(value)) return value.map((v) => renderValue(v, scope));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderValue(v, scope);
    return out;
  }
  return value;
}
