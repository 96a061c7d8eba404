/** Colours via chalk, honouring NO_COLOR (https://no-color.org) and non-TTY output. */
import chalk, { Chalk, type ChalkInstance } from 'chalk';
import type { HostStatus } from '../../engine/events.js';

export function makeChalk(stream: NodeJS.WritableStream): ChalkInstance {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return new Chalk({ level: 0 });
  if (process.env.FORCE_COLOR !== undefined) return chalk;
  return (stream as NodeJS.WriteStream).isTTY ? chalk : new Chalk({ level: 0 });
}

export function statusColour(c: ChalkInstance, status: HostStatus): (s: string) => string {
  switch (status) {
    case 'ok':
      return c.green;
    case 'changed':
      return c.yellow;
    case 'failed':
    case 'unreachable':
      return c.red;
    case 'skipped':
      return c.cyan;
    case 'ignored':
      return c.magenta;
  }
}

export function seconds(ms: number): string {
  return ms < 1000 ? `${ms}ms` : ms < 60000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60000)}m${Math.round((ms % 60000) / 1000)}s`;
}
