/** assert: every expression in `that` must be true. Expressions are not templated: write `result.rc == 0`. */
import type { ModuleDef } from '../engine/module-types.js';
import { evaluateExpression, isTruthy } from '../engine/expr/index.js';

export interface AssertArgs {
  that: string | string[];
  fail_msg?: string;
  msg?: string;
  success_msg?: string;
  quiet?: boolean;
}

export const assert: ModuleDef<AssertArgs> = {
  name: 'assert',
  description: 'Check that every expression in `that` is true (same language as `when`); fail with `fail_msg` otherwise.',
  controllerOnly: true,
  noRender: ['that'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['that'],
    properties: {
      that: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }], description: 'Expressions that must all be true.' },
      fail_msg: { type: 'string', description: 'Message when an expression is false (templated).' },
      msg: { type: 'string', description: 'Alias of fail_msg.' },
      success_msg: { type: 'string', description: 'Message when all are true.' },
      quiet: { type: 'boolean', default: false, description: 'Say nothing when all are true.' },
    },
  },
  examples: "```yaml\n- assert:\n    that:\n      - distccd.stdout == 'active'\n      - \"'3632' in ports.stdout\"\n    fail_msg: distccd is not serving\n```",
  async run(ctx, args) {
    const list = Array.isArray(args.that) ? args.that : [args.that];
    for (const e of list) {
      if (!isTruthy(evaluateExpression(e, ctx.vars))) {
        return { changed: false, failed: true, msg: `${args.fail_msg ?? args.msg ?? 'Assertion failed'} (false: ${e})`, data: { assertion: e, evaluated_to: false } };
      }
    }
    return { changed: false, msg: args.quiet ? undefined : (args.success_msg ?? 'All assertions passed') };
  },
};
