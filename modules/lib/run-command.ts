/** What command and shell share: the creates/removes guard and turning an exec into a result. */
import type { TaskContext, TaskResult } from '../../engine/module-types.js';
import type { ExecResult } from '../../engine/transport/transport.js';
import { shellQuote } from '../../engine/transport/transport.js';

export async function creationGuard(ctx: TaskContext, args: { creates?: string; removes?: string; chdir?: string }): Promise<TaskResult | undefined> {
  if (!args.creates && !args.removes) return undefined;
  const path = (p: string) => (p.startsWith('/') || !args.chdir ? p : `${args.chdir}/${p}`);
  if (args.creates) {
    const r = await ctx.transport.exec(`test -e ${shellQuote(path(args.creates))}`, { signal: ctx.signal });
    if (r.rc === 0) return { changed: false, skipped: true, msg: `skipped, since ${args.creates} exists` };
  }
  if (args.removes) {
    const r = await ctx.transport.exec(`test -e ${shellQuote(path(args.removes))}`, { signal: ctx.signal });
    if (r.rc !== 0) return { changed: false, skipped: true, msg: `skipped, since ${args.removes} does not exist` };
  }
  return undefined;
}

export function runResult(r: ExecResult, what: string): TaskResult {
  const failed = r.rc !== 0;
  let msg: string | undefined;
  if (r.timedOut) msg = `timed out: \`${what}\` was killed (with its process group)`;
  else if (r.aborted) msg = `interrupted: \`${what}\` was killed (with its process group)`;
  else if (failed) msg = `\`${what}\` exited with ${r.rc}${r.stderr.trim() ? `: ${lastLines(r.stderr, 3)}` : ''}`;
  return { changed: true, failed, rc: r.rc, stdout: r.stdout, stderr: r.stderr, msg, data: { cmd: what, timed_out: r.timedOut === true } };
}

export function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}
