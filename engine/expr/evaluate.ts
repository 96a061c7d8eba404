/**
 * The evaluator: a plain walk over ExprNode. No `eval`, no `Function`, no access to prototypes.
 * Variables come only from the scope object; a missing one is an UndefinedVariableError except
 * where Jinja tolerates it (the subject of `is defined`/`is undefined`, the input of `default`).
 */
import type { BinaryOp, ExprNode } from './ast.js';
import { isPath } from './ast.js';
import { ExprEvalError, UndefinedVariableError } from './errors.js';
import { FilterFailure } from './filters.js';
import type { FilterArgs } from './filters.js';
import { UNDEFINED, deepEqual, getMember, isPlainObject, isTruthy, lookupKey, typeName } from './values.js';
import type { Lookup } from './values.js';

type Scope = Record<string, unknown>;

export function evaluateNode(node: ExprNode, scope: Scope): unknown {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'var':
    case 'member':
      return resolvePath(node, scope, false);
    case 'array':
      return node.elements.map((e) => evaluateNode(e, scope));
    case 'unary':
      return unary(node.op, evaluateNode(node.arg, scope), node.start);
    case 'logical': {
      const left = evaluateNode(node.left, scope);
      if (node.op === 'and') return isTruthy(left) ? evaluateNode(node.right, scope) : left;
      return isTruthy(left) ? left : evaluateNode(node.right, scope);
    }
    case 'conditional':
      return isTruthy(evaluateNode(node.test, scope)) ? evaluateNode(node.then, scope) : evaluateNode(node.otherwise, scope);
    case 'binary':
      return binary(node.op, evaluateNode(node.left, scope), evaluateNode(node.right, scope), node.right.start, node.start);
    case 'filter': {
      const input = node.def.softInput && isPath(node.input) ? resolvePath(node.input, scope, true) : evaluateNode(node.input, scope);
      const memo: unknown[] = [];
      const args: FilterArgs = {
        length: node.args.length,
        get: (i) => (i in memo ? memo[i] : (memo[i] = evaluateNode(node.args[i], scope))),
      };
      try {
        return node.def.apply(input, args);
      } catch (e) {
        throw asEvalError(e, `filter '${node.name}'`, node.start);
      }
    }
    case 'test': {
      const subject = node.def.softSubject && isPath(node.subject) ? resolvePath(node.subject, scope, true) : evaluateNode(node.subject, scope);
      const args = node.args.map((a) => evaluateNode(a, scope));
      try {
        return node.def.apply(subject, args) !== node.negated;
      } catch (e) {
        throw asEvalError(e, `test '${node.name}'`, node.start);
      }
    }
  }
}

function asEvalError(e: unknown, where: string, at: number): unknown {
  if (e instanceof FilterFailure) return new ExprEvalError(e.code, `${where}: ${e.message}`, at);
  return e;
}

/**
 * Resolves `a`, `a.b`, `a[i].c`. Strict: a missing part throws, naming the path up to it.
 * Soft: a missing part (or a part of null) yields UNDEFINED; index expressions stay strict.
 */
function resolvePath(node: ExprNode, scope: Scope, soft: boolean): Lookup {
  return walk(node, scope, soft).value;
}

function walk(node: ExprNode, scope: Scope, soft: boolean): { value: Lookup; path: string; root: ExprNode } {
  if (node.kind === 'var') {
    const value = lookupKey(scope, node.name);
    if (value === UNDEFINED && !soft) throw new UndefinedVariableError(node.name, node.start);
    return { value, path: node.name, root: node };
  }
  if (node.kind !== 'member') return { value: evaluateNode(node, scope), path: '(…)', root: node };
  const parent = walk(node.object, scope, soft);
  const key = typeof node.property === 'string' ? node.property : evaluateNode(node.property, scope);
  const path = `${parent.path}${formatKey(key, typeof node.property === 'string')}`;
  if (parent.value === UNDEFINED) return { value: UNDEFINED, path, root: parent.root };
  const value = getMember(parent.value, key);
  if (value === UNDEFINED && !soft) {
    const why = parent.value === null ? `'${parent.path}' is null` : `'${parent.path}' (a ${typeName(parent.value)}) has no ${typeof key === 'number' ? 'index' : 'attribute'} ${JSON.stringify(key)}`;
    throw new UndefinedVariableError(path, parent.root.start, `'${path}' is undefined: ${why}`);
  }
  return { value, path, root: parent.root };
}

function formatKey(key: unknown, dotted: boolean): string {
  if (dotted) return `.${String(key)}`;
  return `[${JSON.stringify(key) ?? String(key)}]`;
}

function typeError(message: string, at: number): ExprEvalError {
  return new ExprEvalError('expr/type', message, at);
}

function unary(op: 'not' | '-' | '+', v: unknown, at: number): unknown {
  if (op === 'not') return !isTruthy(v);
  if (typeof v !== 'number') throw typeError(`unary ${op} expects a number, got ${typeName(v)}`, at);
  return op === '-' ? -v : v;
}

function contains(container: unknown, item: unknown, at: number): boolean {
  if (typeof container === 'string') {
    if (typeof item !== 'string') throw typeError(`'in <string>' requires a string on the left, got ${typeName(item)}`, at);
    return container.includes(item);
  }
  if (Array.isArray(container)) return container.some((x) => deepEqual(x, item));
  if (isPlainObject(container)) {
    if (typeof item !== 'string' && typeof item !== 'number') return false;
    return lookupKey(container, String(item)) !== UNDEFINED;
  }
  throw typeError(`'in' expects a string, list or mapping on the right, got ${typeName(container)}`, at);
}

function compare(op: '<' | '<=' | '>' | '>=', a: unknown, b: unknown, at: number): boolean {
  const bothNumbers = typeof a === 'number' && typeof b === 'number';
  const bothStrings = typeof a === 'string' && typeof b === 'string';
  if (!bothNumbers && !bothStrings) {
    throw typeError(`cannot compare ${typeName(a)} ${op} ${typeName(b)}`, at, );
  }
  const x = a as number | string;
  const y = b as number | string;
  switch (op) {
    case '<': return x < y;
    case '<=': return x <= y;
    case '>': return x > y;
    case '>=': return x >= y;
  }
}

function binary(op: BinaryOp, a: unknown, b: unknown, rightAt: number, at: number): unknown {
  switch (op) {
    case '==': return deepEqual(a, b);
    case '!=': return !deepEqual(a, b);
    case 'in': return contains(b, a, rightAt);
    case 'not in': return !contains(b, a, rightAt);
    case '<': case '<=': case '>': case '>=': return compare(op, a, b, at);
    case '+':
      if (typeof a === 'number' && typeof b === 'number') return a + b;
      if (typeof a === 'string' && typeof b === 'string') return a + b;
      if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
      throw typeError(`cannot add ${typeName(a)} and ${typeName(b)}`, at);
    case '*':
      if (typeof a === 'number' && typeof b === 'number') return a * b;
      if (typeof a === 'string' && Number.isInteger(b)) return a.repeat(Math.max(0, b as number));
      throw typeError(`cannot multiply ${typeName(a)} by ${typeName(b)}`, at);
    case '-': case '/': case '%': {
      if (typeof a !== 'number' || typeof b !== 'number') throw typeError(`cannot apply ${op} to ${typeName(a)} and ${typeName(b)}`, at);
      if (op === '-') return a - b;
      if (b === 0) throw new ExprEvalError('expr/value', op === '/' ? 'division by zero' : 'modulo by zero', rightAt);
      if (op === '/') return a / b;
      return ((a % b) + b) % b; // Python's %: the result has the sign of the divisor
    }
  }
}
