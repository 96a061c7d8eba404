/** Colours via chalk, honouring NO_COLOR (https://no-color.org), FORCE_COLOR and non-TTY output. */
import { Chalk, type ChalkInstance, type ColorSupportLevel } from 'chalk';
import type { HostStatus } from '../../engine/events.js';

/**
 * A chalk for `stream`, its colour level decided now. Not chalk's default instance: that one
 * decides when chalk is loaded, and in tsplay's start-up snapshot (cli/snapshot-entry.ts) chalk is
 * loaded while the snapshot is built, with no terminal in sight.
 */
export function makeChalk(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): ChalkInstance {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return new Chalk({ level: 0 });
  if (env.FORCE_COLOR !== undefined) return new Chalk({ level: forcedLevel(env.FORCE_COLOR) });
  const tty = stream as NodeJS.WriteStream;
  return new Chalk({ level: tty.isTTY && typeof tty.getColorDepth === 'function' ? depthLevel(tty.getColorDepth(env)) : 0 });
}

/** FORCE_COLOR as chalk reads it: '' or 'true' → 16 colours, 'false' → none, 0–3 → that level. */
function forcedLevel(value: string): ColorSupportLevel {
  if (value === '' || value === 'true') return 1;
  if (value === 'false') return 0;
  const n = Number.parseInt(value, 10);
  return (Number.isInteger(n) ? Math.max(0, Math.min(3, n)) : 1) as ColorSupportLevel;
}

/** A terminal's colour depth in bits (Node's tty getColorDepth) as a chalk level. */
function depthLevel(bits: number): ColorSupportLevel {
  return bits >= 24 ? 3 : bits >= 8 ? 2 : bits >= 4 ? 1 : 0;
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
