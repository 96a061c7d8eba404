/** fail: fails the host with a message (usually under `when`). */
import type { ModuleDef } from '../engine/module-types.js';

export const fail: ModuleDef<{ msg?: string }> = {
  name: 'fail',
  description: 'Fail the host with a message; use it with `when:`.',
  controllerOnly: true,
  schema: { type: 'object', additionalProperties: false, properties: { msg: { type: 'string', description: 'Why.' } } },
  examples: '```yaml\n- fail:\n    msg: "distccd is not running on {{ inventory_hostname }}"\n  when: distccd.rc != 0\n```',
  async run(_ctx, args) {
    return { changed: false, failed: true, msg: args.msg ?? 'Failed as requested from task' };
  },
};
