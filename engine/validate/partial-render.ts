/**
 * Rendering at parse time, when registered results and facts do not exist yet. A string whose
 * variables are all known renders normally; otherwise each unresolved tag becomes UNRESOLVED so
 * that checks (the doctrine) can tell "depends on a run-time value" from a real value.
 */
import { renderValue, hasTemplate } from '../template/index.js';

export const UNRESOLVED = '\u0001';

export function partialRender(value: unknown, scope: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    if (!hasTemplate(value)) return value;
    try {
      return renderValue(value, scope);
    } catch {
      return value.replace(/\{\{[^}]*\}\}/g, UNRESOLVED);
    }
  }
  if (Array.isArray(value)) return value.map((v) => partialRender(v, scope));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = partialRender(v, scope);
    return out;
  }
  return value;
}

export function isUnresolved(v: unknown): boolean {
  return typeof v === 'string' && v.includes(UNRESOLVED);
}

/** Renders a vars block in order, each value seeing the ones before it (Ansible renders vars lazily). */
export function renderVarsBlock(vars: Record<string, unknown>, below: Record<string, unknown>): Record<string, unknown> {
  const scope = { ...below };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(vars)) {
    out[k] = partialRender(v, scope);
    scope[k] = out[k];
  }
  return out;
}
