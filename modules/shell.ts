/** shell: runs a command line through /bin/sh on the host. Quote templated values: {{#quote}}{{ path }}{{/quote}}. */
import type { ModuleDef, TaskContext, TaskResult } from '../engine/module-types.js';
import { scanJobs } from '../engine/doctrine/scan.js';
import { creationGuard, runResult } from './lib/run-command.js';

export interface ShellArgs {
  cmd: string;
  chdir?: string;
  creates?: string;
  removes?: string;
  stdin?: string;
}

export const shell: ModuleDef<ShellArgs> = {
  name: 'shell',
  description: 'Run a command line through /bin/sh on the host (pipes, redirections, &&). Put templated values inside {{#quote}}…{{/quote}} so they stay one literal word.',
  freeForm: 'cmd',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['cmd'],
    properties: {
      cmd: { type: 'string', minLength: 1, description: 'The shell command line.' },
      chdir: { type: 'string', description: 'Run in this directory.' },
      creates: { type: 'string', description: 'Skip when this path exists on the host.' },
      removes: { type: 'string', description: 'Skip unless this path exists on the host.' },
      stdin: { type: 'string', description: 'Written to the command’s standard input.' },
    },
  },
  parallelism(args) {
    return scanJobs(args.cmd ?? '').map((t) => ({ jobs: t.jobs, raw: t.raw, arg: 'cmd', offset: t.offset }));
  },
  examples: '```yaml\n- name: Count stale pump dirs\n  shell: ls -d /tmp/distcc-pump.* 2>/dev/null | wc -l\n  register: stale\n```',
  async run(ctx: TaskContext, args: ShellArgs): Promise<TaskResult> {
    const skip = await creationGuard(ctx, args);
    if (skip) return skip;
    if (ctx.check) return { changed: false, skipped: true, msg: 'not run in check mode (shell has no way to know what it would change)' };
    const r = await ctx.transport.exec(args.cmd, { cwd: args.chdir, env: ctx.environment, stdin: args.stdin, timeoutMs: ctx.timeoutMs, signal: ctx.signal, onStdout: (s) => ctx.output('stdout', s), onStderr: (s) => ctx.output('stderr', s) });
    return runResult(r, args.cmd);
  },
};
