/** ping: proves the host answers over its transport and can run a shell. */
import type { ModuleDef } from '../engine/module-types.js';

export const ping: ModuleDef<{ data?: string }> = {
  name: 'ping',
  description: 'Connect to the host and run a trivial command; `pong` back means the host is usable.',
  schema: { type: 'object', additionalProperties: false, properties: { data: { type: 'string', default: 'pong', description: 'What the host must echo back (registered as `ping`).' } } },
  examples: '```yaml\n- ping:\n```',
  async run(ctx, args) {
    const r = await ctx.transport.exec(['printf', '%s', args.data ?? 'pong'], { signal: ctx.signal, timeoutMs: ctx.timeoutMs });
    if (r.rc !== 0) return { changed: false, failed: true, rc: r.rc, msg: `ping failed: ${r.stderr.trim()}` };
    return { changed: false, data: { ping: r.stdout } };
  },
};
