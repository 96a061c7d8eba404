/**
 * Arguments that may be written as a template (`jobs: "{{ build_jobs }}"`): the load-time schema
 * accepts the template string, the run-time value (rendered, possibly a native number or boolean)
 * is checked here, with a message naming the argument.
 */
import type { JsonSchema } from '../../engine/module-types.js';

/** `schema`, or a string holding a template. */
export function orTemplate(schema: JsonSchema, extra: JsonSchema = {}): JsonSchema {
  return { ...extra, anyOf: [schema, { type: 'string', pattern: '\\{\\{' }] };
}

export class ArgError extends Error {}

export function intArg(name: string, v: unknown, min: number, max?: number): number {
  const n = typeof v === 'string' && /^-?[0-9]+$/.test(v.trim()) ? Number(v.trim()) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new ArgError(`${name} must be an integer, not ${JSON.stringify(v)}`);
  if (n < min || (max !== undefined && n > max)) throw new ArgError(`${name} must be between ${min} and ${max ?? '∞'}, not ${n}`);
  return n;
}

export function numberArg(name: string, v: unknown, min: number, max?: number): number {
  const n = typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new ArgError(`${name} must be a number, not ${JSON.stringify(v)}`);
  if (n < min || (max !== undefined && n > max)) throw new ArgError(`${name} must be between ${min} and ${max ?? '∞'}, not ${n}`);
  return n;
}

export function boolArg(name: string, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True' || v === 'yes') return true;
  if (v === 'false' || v === 'False' || v === 'no') return false;
  throw new ArgError(`${name} must be true or false, not ${JSON.stringify(v)}`);
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
