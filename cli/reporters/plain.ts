/** Plain lines, for logs, CI and pipes (chosen automatically when stdout is not a TTY). */
import type { EngineEvent } from '../../engine/events.js';
import type { Reporter, ReporterOptions } from './reporter.js';
import { makeChalk, seconds, statusColour } from './style.js';
import { formatRecap } from './recap.js';

export class PlainReporter implements Reporter {
  private readonly c;
  private readonly partial = new Map<string, string>();
  constructor(private readonly opts: ReporterOptions) {
    this.c = makeChalk(opts.out);
  }
  private w(line: string) {
    this.opts.out.write(line + '\n');
  }
  onEvent(e: EngineEvent): void {
    const c = this.c;
    switch (e.type) {
      case 'play.start':
        this.w('');
        this.w(c.bold(`PLAY [${e.play}] ${'*'.repeat(Math.max(3, 60 - e.play.length))}`));
        break;
      case 'task.start':
        this.w('');
        this.w(c.bold(`${e.handler ? 'RUNNING HANDLER' : 'TASK'} [${e.task}] ${'*'.repeat(Math.max(3, 56 - e.task.length))}`));
        break;
      case 'host.output': {
        if (this.opts.verbose < 1) break;
        const key = `${e.host}\0${e.stream}`;
        const text = (this.partial.get(key) ?? '') + e.text;
        const lines = text.split('\n');
        this.partial.set(key, lines.pop() ?? '');
        for (const l of lines) this.w(c.dim(`  [${e.host}] ${l}`));
        break;
      }
      case 'host.result': {
        const col = statusColour(c, e.status);
        const item = e.item !== undefined ? ` => (item=${typeof e.item === 'string' ? e.item : JSON.stringify(e.item)})` : '';
        let line = col(`${e.status}: [${e.host}]${item}`) + c.dim(` ${seconds(e.durationMs)}`);
        if (e.msg && (e.status !== 'skipped' || this.opts.verbose >= 1)) line += ` ${e.status === 'failed' || e.status === 'unreachable' ? col(e.msg) : e.msg}`;
        this.w(line);
        if (e.code && (e.status === 'failed' || e.status === 'unreachable')) this.w(c.dim(`  rule: ${e.code}`));
        if ((e.status === 'failed' || this.opts.verbose >= 2) && e.stderr) for (const l of tail(e.stderr, 8)) this.w(c.red(`  stderr: ${l}`));
        if (this.opts.verbose >= 2 && e.stdout) for (const l of tail(e.stdout, 20)) this.w(`  stdout: ${l}`);
        if (e.diff) {
          this.w(c.dim(`  --- before${e.diff.path ? `: ${e.diff.path}` : ''}`));
          this.w(c.dim(`  +++ after${e.diff.path ? `: ${e.diff.path}` : ''}`));
          for (const l of simpleDiff(e.diff.before, e.diff.after)) this.w(l.startsWith('+') ? c.green(`  ${l}`) : l.startsWith('-') ? c.red(`  ${l}`) : `  ${l}`);
        }
        break;
      }
      case 'decision':
        if (this.opts.verbose >= 1 || /throttl|experimental|unreachable|any_errors_fatal|interrupt/.test(e.message)) this.w(c.dim(`  note${e.host ? ` [${e.host}]` : ''}: ${e.message}`));
        break;
      case 'run.end':
        for (const l of formatRecap(c, e.recap, e.outcome, e.durationMs)) this.w(l);
        break;
      default:
        break;
    }
  }
  async finish(): Promise<void> {}
}

function tail(text: string, n: number): string[] {
  return text.replace(/\n$/, '').split('\n').slice(-n);
}

/** A line diff good enough for config files (longest common subsequence). */
export function simpleDiff(before: string, after: string): string[] {
  const a = before.split('\n');
  const b = after.split('\n');
  if (a.length * b.length > 4_000_000) return [`- (${a.length} lines)`, `+ (${b.length} lines)`];
  const dp: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (j < b.length && (i === a.length || dp[i][j + 1] >= dp[i + 1][j])) out.push(`+ ${b[j++]}`);
    else out.push(`- ${a[i++]}`);
  }
  return out;
}
