/**
 * Errors of the expression language. Each carries a stable `code` and an `offset` into the
 * expression's source, so the loader can turn it into a Diagnostic pointing into the YAML.
 */
export interface ExprError {
  code: string;
  message: string;
  /** 0-based offset into the expression source. */
  offset: number;
  hint?: string;
}

/** The expression cannot be parsed, or names an unknown filter/test (then `code` says which). */
export class ExprSyntaxError extends Error implements ExprError {
  readonly code: string;
  readonly offset: number;
  readonly hint?: string;
  constructor(message: string, offset: number, hint?: string, code = 'expr/syntax') {
    super(message);
    this.name = 'ExprSyntaxError';
    this.code = code;
    this.offset = offset;
    this.hint = hint;
  }
}

/** Evaluation failed on a value: wrong operand types (`expr/type`) or a bad value (`expr/value`). */
export class ExprEvalError extends Error implements ExprError {
  readonly code: string;
  readonly offset: number;
  readonly hint?: string;
  constructor(code: 'expr/type' | 'expr/value', message: string, offset: number, hint?: string) {
    super(message);
    this.name = 'ExprEvalError';
    this.code = code;
    this.offset = offset;
    this.hint = hint;
  }
}

/**
 * A variable (or an attribute/index of one) is not defined. Shared by expressions and templates.
 * `name` is the path up to and including the missing part, e.g. `result.rcc`.
 */
export class UndefinedVariableError extends Error {
  readonly code = 'template/undefined-variable';
  readonly name: string;
  readonly offset?: number;
  readonly hint?: string;
  constructor(name: string, offset?: number, message?: string, hint?: string) {
    super(message ?? `'${name}' is undefined`);
    // `name` is the variable, so the error class is identified by `code` and instanceof.
    this.name = name;
    this.offset = offset;
    this.hint = hint;
  }
}
