/** set-fact: sets variables on the host for the rest of the run (above play vars, below -e). */
import type { ModuleDef } from '../engine/module-types.js';

export const setFact: ModuleDef<Record<string, unknown>> = {
  name: 'set-fact',
  description: 'Set variables (facts) on the host for the rest of the run. Precedence: above play and task vars, below extra vars (-e).',
  controllerOnly: true,
  schema: {
    type: 'object',
    minProperties: 1,
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
  },
  examples: '```yaml\n- set_fact:\n    build_jobs: 14\n```',
  async run(_ctx, args) {
    const facts = { ...args };
    delete facts.cacheable;
    return { changed: false, facts, msg: `set ${Object.keys(facts).join(', ')}` };
  },
};
