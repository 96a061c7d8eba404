import type { ChalkInstance } from 'chalk';
import type { EngineEvent, HostRecap } from '../../engine/events.js';
import { seconds } from './style.js';

/** The PLAY RECAP block, one line per host, as ansible-playbook prints it (plus a duration). */
export function formatRecap(c: ChalkInstance, recap: Record<string, HostRecap>, outcome: string, durationMs: number): string[] {
  const names = Object.keys(recap);
  const width = Math.max(4, ...names.map((n) => n.length));
  const lines = ['', c.bold(`PLAY RECAP ${'*'.repeat(60)}`)];
  for (const n of names) {
    const r = recap[n];
    const colour = r.failed || r.unreachable ? c.red : r.changed ? c.yellow : c.green;
    const field = (k: string, v: number, col: (s: string) => string) => (v ? col(`${k}=${v}`) : `${k}=${v}`);
    lines.push(
      `${colour(n.padEnd(width))} : ${field('ok', r.ok, c.green)}  ${field('changed', r.changed, c.yellow)}  ${field('unreachable', r.unreachable, c.red)}  ${field('failed', r.failed, c.red)}  ${field('skipped', r.skipped, c.cyan)}  ${field('ignored', r.ignored, c.magenta)}  ${c.dim(seconds(r.durationMs))}`,
    );
  }
  lines.push('', `${outcome === 'ok' ? c.green('run ok') : outcome === 'interrupted' ? c.yellow('run interrupted') : c.red('run failed')} in ${seconds(durationMs)}`);
  return lines;
}

/** The lifecycle's stage banner and stage result lines. */
export function stageLines(c: ChalkInstance, e: Extract<EngineEvent, { type: 'stage.start' | 'stage.end' }>): string[] {
  if (e.type === 'stage.start') {
    const title = ` STAGE ${e.index}/${e.total} ${e.stage} `;
    return ['', c.bold.blue(`${'═'.repeat(4)}${title}${'═'.repeat(Math.max(4, 66 - title.length))}`), c.dim(`  ${e.playbook}`)];
  }
  if (e.outcome === 'ok') return ['', c.green(`stage ${e.index}/${e.total} ${e.stage} ok`) + c.dim(` in ${seconds(e.durationMs)}`)];
  return ['', (e.outcome === 'interrupted' ? c.yellow : c.red)(e.message ?? `stage ${e.index}/${e.total} ${e.stage} ${e.outcome}`)];
}
