/**
 * Parsing: jsep configured for the Jinja-like operators, then its tree converted into ExprNode —
 * `|` becomes a filter, `is` a test, `not` rescoped over comparisons — with every node's offset.
 */
import jsep from 'jsep';
import type { BinaryOp, ExprNode } from './ast.js';
import { ExprSyntaxError } from './errors.js';
import { getFilter } from './filters.js';
import type { FilterDef } from './filters.js';
import { getTest } from './is-tests.js';
import type { TestDef } from './is-tests.js';
import { pythonRegex } from './regex.js';

type JsepNode = jsep.Expression & { __start?: number; __paren?: boolean };
type ParserState = jsep.HookScope & { __starts?: number[] };

/** Precedences (higher binds tighter). `not` (a prefix) is rescoped to sit between `and` and comparisons. */
const PREC = { or: 1, and: 2, eq: 6, rel: 7, add: 9, mul: 10, is: 19, filter: 20 } as const;

let configured = false;

function configureJsep(): void {
  if (configured) return;
  configured = true;
  for (const op of Object.keys(jsep.binary_ops)) jsep.removeBinaryOp(op);
  for (const op of Object.keys(jsep.unary_ops)) jsep.removeUnaryOp(op);
  const ops: [string, number][] = [
    ['or', PREC.or], ['and', PREC.and],
    ['==', PREC.eq], ['!=', PREC.eq],
    ['<', PREC.rel], ['<=', PREC.rel], ['>', PREC.rel], ['>=', PREC.rel], ['in', PREC.rel], ['not in', PREC.rel],
    ['+', PREC.add], ['-', PREC.add], ['*', PREC.mul], ['/', PREC.mul], ['%', PREC.mul],
    ['is', PREC.is], ['|', PREC.filter],
  ];
  for (const [op, prec] of ops) jsep.addBinaryOp(op, prec);
  for (const op of ['not', '-', '+']) jsep.addUnaryOp(op);
  for (const [name, value] of [['True', true], ['False', false], ['none', null], ['None', null]] as const) {
    jsep.addLiteral(name, value);
  }
  // `this` is an ordinary variable name here. jsep reads this_str from its class, not the function.
  (jsep as unknown as { Jsep: { this_str: string } }).Jsep.this_str = '\u0000this';

  // jsep keeps no positions: record where each token starts (a stack, since tokens nest).
  jsep.hooks.add('gobble-token', function (this: ParserState, env) {
    (this.__starts ??= []).push(this.index);
    const ch = this.code;
    // Numbers bypass 'after-token' in jsep; parse them here so the stack stays balanced.
    if ((ch >= 48 && ch <= 57) || ch === 46) env.node = this.gobbleNumericLiteral();
  });
  jsep.hooks.add('after-token', function (this: ParserState, env) {
    const start = this.__starts?.pop();
    const node = env.node as JsepNode | undefined;
    if (node && start !== undefined) {
      node.__start = start;
      if (this.expr.charCodeAt(start) === 40) node.__paren = true;
    }
  });
}

const BINARY: ReadonlySet<string> = new Set<BinaryOp>(['==', '!=', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', 'in', 'not in']);

const HINTS: Record<string, string> = {
  '&&': 'use `and`', '||': 'use `or`', '!': 'use `not`', '===': 'use `==`', '!==': 'use `!=`',
};

/** A hint for common non-Jinja spellings; the offset moves back onto `||` or `&&` when jsep stopped inside it. */
function jsepErrorHint(source: string, index: number): { hint?: string; at: number } {
  const at = (i: number, tok: string): boolean => i >= 0 && source.startsWith(tok, i) && !(tok === '!' && source[i + 1] === '=');
  // Longest spellings first, so that `===` is recognised where jsep stopped on its third character.
  for (const [tok, hint] of Object.entries(HINTS).sort(([a], [b]) => b.length - a.length)) {
    for (let back = 0; back < tok.length; back++) if (at(index - back, tok)) return { hint, at: index - back };
  }
  if (/\bnot\s{2,}in\b/.test(source)) return { hint: 'write `not in` with a single space', at: index };
  if (/\bif\b.*\belse\b/.test(source)) return { hint: 'inline `x if c else y` is not supported: use `c ? x : y`', at: index };
  return { at: index };
}

/**
 * jsep reports an unclosed bracket or quote at the end of the input; the opener is where to look.
 * Returns its offset (the innermost one left open), or undefined for other errors.
 */
function unclosedOpener(source: string, description: string): number | undefined {
  if (!/^Unclosed (\(|\[|quote)/.test(description)) return undefined;
  const open: number[] = [];
  let quote: number | undefined;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === source[quote]) quote = undefined;
    } else if (c === '"' || c === "'") quote = i;
    else if (c === '(' || c === '[') open.push(i);
    else if (c === ')' || c === ']') open.pop();
  }
  return quote ?? open.at(-1);
}

/** Parses and converts an expression; throws ExprSyntaxError with the offset of the problem. */
export function parseExpression(source: string): ExprNode {
  configureJsep();
  if (source.trim() === '') throw new ExprSyntaxError('empty expression', 0);
  let tree: JsepNode;
  try {
    tree = jsep(source) as JsepNode;
  } catch (e) {
    const err = e as Error & { index?: number; description?: string };
    const description = err.description ?? err.message;
    const opener = unclosedOpener(source, description);
    if (opener !== undefined) throw new ExprSyntaxError(`${description}: this ${source[opener]} is never closed`, opener);
    const { hint, at } = jsepErrorHint(source, typeof err.index === 'number' ? err.index : 0);
    throw new ExprSyntaxError(description, at, hint);
  }
  return new Converter(source).convert(tree, 0);
}

class Converter {
  constructor(private readonly source: string) {}

  private fail(message: string, at: number, hint?: string, code?: string): never {
    throw new ExprSyntaxError(message, at, hint, code);
  }

  convert(n: JsepNode, inherited: number): ExprNode {
    const start = n.__start ?? inherited;
    switch (n.type) {
      case 'Literal': {
        const lit = n as unknown as jsep.Literal;
        if (lit.value instanceof RegExp) this.fail('regular expression literals are not supported', start);
        return { kind: 'literal', value: lit.value, start };
      }
      case 'Identifier':
        return { kind: 'var', name: (n as unknown as jsep.Identifier).name, start };
      case 'ArrayExpression': {
        const elements = (n as unknown as jsep.ArrayExpression).elements.map((e) => {
          if (!e) this.fail('empty list element', start);
          return this.convert(e as JsepNode, start);
        });
        return { kind: 'array', elements, start };
      }
      case 'MemberExpression': {
        const m = n as unknown as jsep.MemberExpression;
        if (m.optional) this.fail('optional chaining `?.` is not supported', start, 'use `x.y is defined` or `x.y | default(...)`');
        const object = this.convert(m.object as JsepNode, start);
        if (!m.computed) return { kind: 'member', object, property: (m.property as jsep.Identifier).name, start };
        return { kind: 'member', object, property: this.convert(m.property as JsepNode, start), start };
      }
      case 'UnaryExpression': {
        const u = n as unknown as jsep.UnaryExpression;
        const op = u.operator as 'not' | '-' | '+';
        return { kind: 'unary', op, arg: this.convert(u.argument as JsepNode, start), paren: n.__paren === true, start };
      }
      case 'ConditionalExpression': {
        const c = n as unknown as jsep.ConditionalExpression;
        const test = this.convert(c.test as JsepNode, start);
        return {
          kind: 'conditional',
          test,
          then: this.convert(c.consequent as JsepNode, start),
          otherwise: this.convert(c.alternate as JsepNode, start),
          start: n.__start ?? test.start,
        };
      }
      case 'BinaryExpression':
        return this.binary(n as unknown as jsep.BinaryExpression & JsepNode, inherited);
      case 'CallExpression': {
        const callee = (n as unknown as jsep.CallExpression).callee as JsepNode;
        const name = callee.type === 'Identifier' ? (callee as unknown as jsep.Identifier).name : 'a method';
        return this.fail(`calling ${name} is not supported`, start, 'functions and methods are not available: use a filter, e.g. `x | lower`');
      }
      case 'Compound': {
        const second = (n as unknown as jsep.Compound).body[1] as JsepNode | undefined;
        const word = second?.type === 'Identifier' ? (second as unknown as jsep.Identifier).name : undefined;
        if (word && ['and', 'or', 'in', 'is', 'not'].includes(word)) {
          return this.fail(`expected an expression after '${word}'`, second?.__start ?? start);
        }
        const { hint, at } = jsepErrorHint(this.source, second?.__start ?? start);
        return this.fail('unexpected text after the expression', at, hint);
      }
      case 'SequenceExpression':
        return this.fail('a comma-separated sequence is not an expression', start);
      default:
        return this.fail(`unsupported syntax (${n.type})`, start);
    }
  }

  private binary(b: jsep.BinaryExpression & JsepNode, inherited: number): ExprNode {
    const left = this.convert(b.left as JsepNode, b.__start ?? inherited);
    const start = b.__start ?? left.start;
    const rightNode = b.right as JsepNode;
    const op = b.operator;
    if (op === 'and' || op === 'or') {
      return { kind: 'logical', op, left, right: this.convert(rightNode, start), start };
    }
    if (op === '|') return liftNot(left, (input) => this.filter(input, rightNode, start));
    if (op === 'is') return liftNot(left, (subject) => this.test(subject, rightNode, start));
    if (BINARY.has(op)) {
      const right = this.convert(rightNode, start);
      return liftNot(left, (l) => ({ kind: 'binary', op: op as BinaryOp, left: l, right, start: l.start }));
    }
    return this.fail(`unknown operator ${op}`, start);
  }

  /** `| name` or `| name(args)`: the right side of `|` must be a known filter. */
  private filter(input: ExprNode, right: JsepNode, inherited: number): ExprNode {
    const { name, args, at } = this.nameAndArgs(right, inherited, 'filter', 'a filter name, e.g. `x | int`');
    const def = getFilter(name);
    if (!def) this.fail(`unknown filter '${name}'`, at, undefined, 'expr/unknown-filter');
    this.checkArity('filter', name, def, args.length, at);
    this.checkRegexArgs(def, args);
    return { kind: 'filter', name, def, input, args, start: at };
  }

  /** `is name`, `is not name`, `is name(args)`; `none`, `true`, `false` arrive as literals. */
  private test(subject: ExprNode, right: JsepNode, inherited: number): ExprNode {
    let target = right;
    let negated = false;
    if (target.type === 'UnaryExpression' && (target as unknown as jsep.UnaryExpression).operator === 'not') {
      negated = true;
      target = (target as unknown as jsep.UnaryExpression).argument as JsepNode;
    }
    if (target.type === 'Literal') {
      const raw = (target as unknown as jsep.Literal).raw;
      const named = ({ none: 'none', None: 'none', null: 'none', true: 'true', True: 'true', false: 'false', False: 'false' } as Record<string, string>)[raw];
      if (!named) this.fail(`expected a test name after 'is', got ${raw}`, target.__start ?? inherited);
      return { kind: 'test', name: named, def: getTest(named) as TestDef, subject, args: [], negated, start: target.__start ?? inherited };
    }
    const { name, args, at } = this.nameAndArgs(target, right.__start ?? inherited, 'test', 'a test name, e.g. `x is defined`');
    const def = getTest(name);
    if (!def) this.fail(`unknown test '${name}'`, at, undefined, 'expr/unknown-test');
    this.checkArity('test', name, def, args.length, at);
    this.checkRegexArgs(def, args);
    return { kind: 'test', name, def, subject, args, negated, start: at };
  }

  private nameAndArgs(n: JsepNode, inherited: number, what: string, expected: string): { name: string; args: ExprNode[]; at: number } {
    const at = n.__start ?? inherited;
    if (n.type === 'Identifier') return { name: (n as unknown as jsep.Identifier).name, args: [], at };
    if (n.type === 'CallExpression') {
      const call = n as unknown as jsep.CallExpression;
      if (call.callee.type === 'Identifier') {
        const args = call.arguments.map((a) => this.convert(a as JsepNode, at));
        return { name: (call.callee as jsep.Identifier).name, args, at };
      }
    }
    return this.fail(`expected ${expected}`, at, `the ${what} must be a name or a call like name(args)`);
  }

  private checkArity(what: string, name: string, def: { minArgs: number; maxArgs: number }, count: number, at: number): void {
    if (count < def.minArgs || count > def.maxArgs) {
      const want = def.minArgs === def.maxArgs ? `${def.minArgs}` : `${def.minArgs} to ${def.maxArgs}`;
      this.fail(`${what} '${name}' takes ${want} argument${def.maxArgs === 1 && def.minArgs === 1 ? '' : 's'}, got ${count}`, at);
    }
  }

  private checkRegexArgs(def: FilterDef | TestDef, args: ExprNode[]): void {
    for (const i of def.regexArgs ?? []) {
      const a = args[i];
      if (a?.kind === 'literal' && typeof a.value === 'string') {
        try {
          pythonRegex(a.value);
        } catch (e) {
          this.fail(`invalid regular expression: ${(e as Error).message}`, a.start);
        }
      }
    }
  }
}

/**
 * Jinja's `not` takes a whole comparison (`not x in y` is `not (x in y)`), but jsep binds a
 * prefix operator to the next token. Move an unparenthesised `not` from the left operand of any
 * operator binding tighter than `and` up over that operator.
 */
function liftNot(left: ExprNode, build: (left: ExprNode) => ExprNode): ExprNode {
  if (left.kind === 'unary' && left.op === 'not' && !left.paren) {
    return { kind: 'unary', op: 'not', arg: liftNot(left.arg, build), paren: false, start: left.start };
  }
  return build(left);
}
