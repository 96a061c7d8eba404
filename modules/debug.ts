/** debug: prints a message or a variable. Runs on the controller. */
import type { ModuleDef } from '../engine/module-types.js';

export const debug: ModuleDef<{ msg?: unknown; var?: string }> = {
  name: 'debug',
  description: 'Print a message (`msg`, templated) or the value of a variable (`var`). Touches no host.',
  controllerOnly: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      msg: { description: 'What to print (any value; strings are templated).' },
      var: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_.]*$', description: 'A variable name (dotted paths allowed) whose value to print.' },
    },
    not: { required: ['msg', 'var'] },
  },
  examples: '```yaml\n- debug:\n    msg: "{{ inventory_hostname }} runs {{ hardware_class }}"\n```',
  async run(ctx, args) {
    if (args.var !== undefined) {
      let v: unknown = ctx.vars;
      for (const part of args.var.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
      if (v === undefined) return { changed: false, failed: true, msg: `variable \`${args.var}\` is not defined` };
      return { changed: false, msg: `${args.var} = ${typeof v === 'string' ? v : JSON.stringify(v)}`, data: { [args.var]: v } };
    }
    const m = args.msg === undefined ? 'Hello world!' : args.msg;
    return { changed: false, msg: typeof m === 'string' ? m : JSON.stringify(m) };
  },
};
