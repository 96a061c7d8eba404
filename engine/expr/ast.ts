/**
 * The expression AST tsplay evaluates: jsep's tree converted into a closed set of node kinds,
 * with filters and tests resolved and every node carrying its offset into the source.
 */
import type { FilterDef } from './filters.js';
import type { TestDef } from './is-tests.js';

export type BinaryOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%' | 'in' | 'not in';
export type LogicalOp = 'and' | 'or';
export type UnaryOp = 'not' | '-' | '+';

interface At {
  /** 0-based offset into the expression source. */
  start: number;
}

export type ExprNode =
  | (At & { kind: 'literal'; value: unknown })
  | (At & { kind: 'var'; name: string })
  | (At & { kind: 'member'; object: ExprNode; property: ExprNode | string })
  | (At & { kind: 'array'; elements: ExprNode[] })
  | (At & { kind: 'unary'; op: UnaryOp; arg: ExprNode; paren: boolean })
  | (At & { kind: 'binary'; op: BinaryOp; left: ExprNode; right: ExprNode })
  | (At & { kind: 'logical'; op: LogicalOp; left: ExprNode; right: ExprNode })
  | (At & { kind: 'conditional'; test: ExprNode; then: ExprNode; otherwise: ExprNode })
  | (At & { kind: 'filter'; name: string; def: FilterDef; input: ExprNode; args: ExprNode[] })
  | (At & { kind: 'test'; name: string; def: TestDef; subject: ExprNode; args: ExprNode[]; negated: boolean });

/** A variable path (`a`, `a.b`, `a[0].c`): the only operand `is defined` and `default` treat softly. */
export function isPath(n: ExprNode): boolean {
  return n.kind === 'var' || (n.kind === 'member' && isPath(n.object));
}
