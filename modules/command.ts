/** command: runs a program with arguments, no shell. `make -j14` works; `a | b`, `>` and `$VAR` do not (use shell). */
import { parse as shellParse } from 'shell-quote';
import type { ModuleDef, TaskContext, TaskResult } from '../engine/module-types.js';
import { scanJobs } from '../engine/doctrine/scan.js';
import { creationGuard, runResult } from './lib/run-command.js';

export interface CommandArgs {
  cmd?: string;
  argv?: string[];
  chdir?: string;
  creates?: string;
  removes?: string;
  stdin?: string;
}

export function splitCommand(cmd: string): { argv?: string[]; operator?: string } {
  const parsed = shellParse(cmd, (name) => `$${name}`);
  const argv: string[] = [];
  for (const p of parsed) {
    if (typeof p === 'string') argv.push(p);
    else if ('op' in p && p.op === 'glob') argv.push((p as { pattern: string }).pattern);
    else if ('op' in p) return { operator: String(p.op) };
    else if ('comment' in p) break;
  }
  return { argv };
}

export const command: ModuleDef<CommandArgs> = {
  name: 'command',
  description: 'Run a program with its arguments on the host, without a shell (no pipes, redirections or variable expansion). Values stay literal arguments.',
  freeForm: 'cmd',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      cmd: { type: 'string', minLength: 1, description: 'The command line, split into words like a shell would (quotes respected) but never run by one.' },
      argv: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'The program and its arguments, one per item.' },
      chdir: { type: 'string', description: 'Run in this directory.' },
      creates: { type: 'string', description: 'Skip when this path exists on the host.' },
      removes: { type: 'string', description: 'Skip unless this path exists on the host.' },
      stdin: { type: 'string', description: 'Written to the command’s standard input.' },
    },
    oneOf: [{ required: ['cmd'] }, { required: ['argv'] }],
  },
  parallelism(args) {
    const text = args.cmd ?? (args.argv ?? []).join(' ');
    return scanJobs(text).map((t) => ({ jobs: t.jobs, raw: t.raw, arg: args.cmd !== undefined ? 'cmd' : 'argv', offset: t.offset }));
  },
  examples: '```yaml\n- name: Show the kernel\n  command: uname -r\n  register: kernel\n```',
  async run(ctx: TaskContext, args: CommandArgs): Promise<TaskResult> {
    let argv = args.argv;
    if (!argv) {
      const split = splitCommand(args.cmd!);
      if (split.operator) {
        return { changed: false, failed: true, msg: `command does not run a shell, so \`${split.operator}\` would be passed as a plain argument; use the shell module for pipes, redirections and && (and quote values with {{#quote}}…{{/quote}})` };
      }
      argv = split.argv!;
    }
    const skip = await creationGuard(ctx, args);
    if (skip) return skip;
    if (ctx.check) return { changed: false, skipped: true, msg: 'not run in check mode (command has no way to know what it would change)' };
    const r = await ctx.transport.exec(argv, { cwd: args.chdir, env: ctx.environment, stdin: args.stdin, timeoutMs: ctx.timeoutMs, signal: ctx.signal, onStdout: (s) => ctx.output('stdout', s), onStderr: (s) => ctx.output('stderr', s) });
    return runResult(r, argv.join(' '));
  },
};
