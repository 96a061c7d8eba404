/** Plain lines, for logs, CI and pipes (chosen automatically when stdout is not a TTY). */
import type { EngineEvent } from '../../engine/events.js';
import type { Reporter, ReporterOptions } from './reporter.js';
import { makeChalk, seconds, statusColour } from './style.js';
import { formatRecap, stageLines } from './recap.js';

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
      case 'stage.start':
      case 'stage.end':
        for (const l of stageLines(c, e)) this.w(l);
        break;
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
        // Output without a final newline belongs to this result, not to the next task's.
        for (const stream of ['stdout', 'stderr']) {
          const key = `${e.host}\0${stream}`;
          const rest = this.partial.get(key);
          if (rest) this.w(c.dim(`  [${e.host}] ${rest}`));
          this.partial.delete(key);
        }
        const col = statusColour(c, e.status);
        const item = e.item !== undefined ? ` => (item=${typeof e.item === 'string' ? e.item : JSON.stringify(e.item)})` : '';
        let line = col(`${e.status}: [${e.host}]${item}`) + c.dim(` ${seconds(e.durationMs)}`);
        if (e.msg && (e.status !== 'skipped' || this.opts.verbose >= 1)) line += ` ${e.status === 'failed' || e.status === 'unreachable' ? col(e.msg) : e.msg}`;
        this.w(line);
        if (e.code && (e.status === 'failed' || e.status === 'unreachable')) this.w(c.dim(`  rule: ${e.code}`));
        if ((e.status === 'failed' || this.opts.verbose >= 2) && e.stderr) for (const l of tail(e.stderr, 8)) this.w(c.red(`  stderr: ${l}`));
        if (this.opts.verbose >= 2 && e.stdout) for (const l of tail(e.stdout, 20)) this.w(`  stdout: ${l}`);
        if (e.diff) for (const l of diffLines(c, e.diff)) this.w(l);
        break;
      }
      case 'decision':
        if (this.opts.verbose >= 1 || /throttl|experimental|unreachable|any_errors_fatal|interrupt|already done|resum|retrying/.test(e.message)) this.w(c.dim(`  note${e.host ? ` [${e.host}]` : ''}: ${e.message}`));
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
  return text.replace(/^\n+|\n+$/g, '').split('\n').slice(-n);
}

/** The --diff block of one result, coloured, indented under it. */
export function diffLines(c: ReturnType<typeof makeChalk>, diff: { path?: string; before: string; after: string }): string[] {
  const where = diff.path ? `: ${diff.path}` : '';
  return [
    c.dim(`  --- before${where}`),
    c.dim(`  +++ after${where}`),
    ...simpleDiff(diff.before, diff.after).map((l) => (l.startsWith('+') ? c.green(`  ${l}`) : l.startsWith('-') ? c.red(`  ${l}`) : `  ${l}`)),
  ];
}

/** A line diff good enough for config files (longest common subsequence). */
export function simpleDiff(before: string, after: string): string[] {
  // A file's final newline ends its last line; it is not an empty line of its own.
  const lines = (t: string) => (t === '' ? [] : t.replace(/\n$/, '').split('\n'));
  const a = lines(before);
  const b = lines(after);
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
    } else if (i < a.length && (j === b.length || dp[i + 1][j] >= dp[i][j + 1])) out.push(`- ${a[i++]}`);
    else out.push(`+ ${b[j++]}`);
  }
  return out;
}
