/**
 * The live tree on a TTY: listr2 renders each task as a list of hosts running concurrently, with
 * the last line of each host's output under it. The engine's events drive the Listr tasks.
 */
import { Listr, type ListrTaskWrapper } from 'listr2';
import type { EngineEvent } from '../../engine/events.js';
import type { Reporter, ReporterOptions } from './reporter.js';
import { makeChalk, seconds } from './style.js';
import { formatRecap, stageLines } from './recap.js';
import { diffLines } from './plain.js';

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
  wrapper?: ListrTaskWrapper<unknown, any, any>;
  title: string;
}

export class ListrReporter implements Reporter {
  private readonly c;
  private current?: { hosts: Map<string, Pending>; run: Promise<unknown>; diffs: string[] };
  private queue: Promise<unknown> = Promise.resolve();
  constructor(private readonly opts: ReporterOptions) {
    this.c = makeChalk(opts.out);
  }

  onEvent(e: EngineEvent): void {
    const c = this.c;
    switch (e.type) {
      case 'stage.start':
      case 'stage.end': {
        const lines = stageLines(c, e);
        this.queue = this.queue.then(() => this.opts.out.write(lines.join('\n') + '\n'));
        break;
      }
      case 'play.start':
        this.queue = this.queue.then(() => this.opts.out.write('\n' + c.bold(`PLAY [${e.play}]`) + c.dim(` on ${e.hosts.join(', ') || 'no hosts'}`) + '\n'));
        break;
      case 'task.start': {
        const hosts = new Map<string, Pending>();
        const tasks = e.hosts.map((h) => {
          let resolve!: () => void;
          let reject!: (err: Error) => void;
          const done = new Promise<void>((res, rej) => {
            resolve = res;
            reject = rej;
          });
          const p: Pending = { resolve, reject, title: h };
          hosts.set(h, p);
          return {
            title: h,
            task: async (_ctx: unknown, wrapper: ListrTaskWrapper<unknown, any, any>) => {
              p.wrapper = wrapper;
              await done;
            },
          };
        });
        const list = new Listr(
          [{ title: `${e.handler ? 'HANDLER' : 'TASK'} [${e.task}]`, task: (_ctx, t) => t.newListr(tasks, { concurrent: true, exitOnError: false, rendererOptions: { collapseSubtasks: false } }) }],
          { concurrent: false, exitOnError: false, rendererOptions: { collapseSubtasks: false, collapseErrors: false, showErrorMessage: true }, collectErrors: false },
        );
        const run = this.queue.then(() => list.run().catch(() => undefined));
        this.current = { hosts, run, diffs: [] };
        this.queue = run;
        break;
      }
      case 'host.output': {
        const p = this.current?.hosts.get(e.host);
        const last = e.text.trim().split('\n').pop();
        if (p?.wrapper && last) p.wrapper.output = last.slice(0, 120);
        break;
      }
      case 'host.result': {
        const p = this.current?.hosts.get(e.host);
        if (!p) break;
        if (e.diff) this.current!.diffs.push(`${e.host}:`, ...diffLines(c, e.diff));
        const label = `${e.host}: ${e.status}${e.item !== undefined ? ` (item=${typeof e.item === 'string' ? e.item : JSON.stringify(e.item)})` : ''} ${c.dim(seconds(e.durationMs))}${e.msg && e.status !== 'skipped' ? ` — ${e.msg.split('\n')[0].slice(0, 160)}` : ''}`;
        if (p.wrapper) {
          p.wrapper.title = label;
          if (e.status === 'skipped') p.wrapper.skip(label);
        }
        if (e.status === 'failed' || e.status === 'unreachable') {
          const tailLines = (e.stderr ?? '').trim().split('\n').slice(-3).filter(Boolean);
          p.reject(new Error([label + (e.code ? ` [${e.code}]` : ''), ...tailLines.map((l) => `  stderr: ${l}`)].join('\n')));
        } else p.resolve();
        break;
      }
      case 'task.end':
        // Hosts that never reported (interrupted, skipped by resume) must not hang the renderer.
        for (const p of this.current?.hosts.values() ?? []) p.resolve();
        // --diff: printed under the task once its live list is done.
        if (this.current?.diffs.length) {
          const text = this.current.diffs.join('\n') + '\n';
          this.queue = this.queue.then(() => this.opts.out.write(text));
        }
        break;
      case 'decision':
        if (this.opts.verbose >= 1 || /throttl|experimental|unreachable|any_errors_fatal|interrupt|already done|resum/.test(e.message)) {
          this.queue = this.queue.then(() => this.opts.out.write(c.dim(`  note${e.host ? ` [${e.host}]` : ''}: ${e.message}\n`)));
        }
        break;
      case 'run.end':
        this.queue = this.queue.then(() => this.opts.out.write(formatRecap(c, e.recap, e.outcome, e.durationMs).join('\n') + '\n'));
        break;
      default:
        break;
    }
  }

  async finish(): Promise<void> {
    for (const p of this.current?.hosts.values() ?? []) p.resolve();
    await this.queue;
  }
}
