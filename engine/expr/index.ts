/**
 * The expression language of `when`, `until`, `changed_when`, `failed_when` and `assert.that`:
 * Jinja-like syntax parsed by jsep, evaluated by a safe tree walk. Compiled expressions are cached
 * by source, since the same `when` is evaluated for every host.
 */
import type { ExprNode } from './ast.js';
import { isPath } from './ast.js';
import { evaluateNode } from './evaluate.js';
import { parseExpression } from './parse.js';

export type { ExprError } from './errors.js';
export { ExprEvalError, ExprSyntaxError, UndefinedVariableError } from './errors.js';
export { isTruthy, toText } from './values.js';
export { FILTERS } from './filters.js';
export { TESTS } from './is-tests.js';

export type CompiledExpr = {
  source: string;
  ast: unknown;
  /** Root variable names referenced outside `is defined`/`is undefined` subjects and `default` inputs. */
  roots: string[];
};

const MAX_CACHED = 10_000;
const cache = new Map<string, CompiledExpr>();

/** Parses (or returns the cached parse of) an expression. Throws ExprSyntaxError with an offset. */
export function compileExpression(source: string): CompiledExpr {
  const hit = cache.get(source);
  if (hit) return hit;
  const ast = parseExpression(source);
  const compiled: CompiledExpr = Object.freeze({ source, ast, roots: collectRoots(ast) }) as CompiledExpr;
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(source, compiled);
  return compiled;
}

/**
 * Evaluates against a scope. Throws UndefinedVariableError for a missing variable or attribute,
 * ExprEvalError for a type or value problem, ExprSyntaxError when given unparsable source.
 */
export function evaluateExpression(expr: CompiledExpr | string, scope: Record<string, unknown>): unknown {
  const compiled = typeof expr === 'string' ? compileExpression(expr) : expr;
  return evaluateNode(compiled.ast as ExprNode, scope);
}

function collectRoots(ast: ExprNode): string[] {
  const roots = new Set<string>();
  const visit = (n: ExprNode, soft: boolean): void => {
    switch (n.kind) {
      case 'literal':
        return;
      case 'var':
        if (!soft) roots.add(n.name);
        return;
      case 'member':
        visit(n.object, soft);
        if (typeof n.property !== 'string') visit(n.property, false);
        return;
      case 'array':
        n.elements.forEach((e) => visit(e, false));
        return;
      case 'unary':
        visit(n.arg, false);
        return;
      case 'logical':
      case 'binary':
        visit(n.left, false);
        visit(n.right, false);
        return;
      case 'conditional':
        visit(n.test, false);
        visit(n.then, false);
        visit(n.otherwise, false);
        return;
      case 'filter':
        visit(n.input, n.def.softInput === true && isPath(n.input));
        n.args.forEach((a) => visit(a, false));
        return;
      case 'test':
        visit(n.subject, n.def.softSubject === true && isPath(n.subject));
        n.args.forEach((a) => visit(a, false));
        return;
    }
  };
  visit(ast, false);
  return [...roots];
}
