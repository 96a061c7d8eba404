/** Rendering a task's arguments and environment for one host (templates resolved, secrets intact). */
import { renderValue } from '../template/index.js';

export function renderArgs(args: Record<string, unknown>, scope: Record<string, unknown>, noRender: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) out[k] = noRender.includes(k) ? v : renderValue(v, scope);
  return out;
}

export function renderEnvironment(env: Record<string, unknown>, scope: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    const r = renderValue(v, scope);
    out[k] = typeof r === 'string' ? r : JSON.stringify(r);
  }
  return out;
}

/** Renders a vars block in order, each value seeing the ones before it. */
export function renderVars(vars: Record<string, unknown>, below: Record<string, unknown>): Record<string, unknown> {
  const scope = { ...below };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(vars)) {
    out[k] = renderValue(v, scope);
    scope[k] = out[k];
  }
  return out;
}
