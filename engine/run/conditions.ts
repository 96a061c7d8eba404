/** when / until / changed_when / failed_when: a list of expressions, all of which must be true. */
import { evaluateExpression, isTruthy } from '../expr/index.js';

/** Returns the first condition that is false, or undefined when all hold. */
export function firstFalse(conditions: string[], scope: Record<string, unknown>): string | undefined {
  for (const c of conditions) {
    if (c === 'true' || c === 'True') continue;
    if (c === 'false' || c === 'False') return c;
    if (!isTruthy(evaluateExpression(c, scope))) return c;
  }
  return undefined;
}

export function allTrue(conditions: string[], scope: Record<string, unknown>): boolean {
  return firstFalse(conditions, scope) === undefined;
}
