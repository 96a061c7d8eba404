import type { ChalkInstance } from 'chalk';
import type { HostRecap } from '../../engine/events.js';
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
