/**
 * What template and copy share before touching a host: their common argument schema, the file
 * mode (which must mean exactly what the operator wrote), and finding `src` on the controller.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { JsonSchema, StaticProblem } from '../../engine/module-types.js';
import { UNRESOLVED } from '../../engine/validate/partial-render.js';

export const FILE_TARGET_PROPERTIES: Record<string, JsonSchema> = {
  dest: { type: 'string', minLength: 1, description: 'Absolute path of the file on the host. Its directory must exist. An existing file is replaced atomically (temp file + rename).' },
  mode: {
    // Checked after parse-time rendering (staticCheck) and again at run time: it may be templated.
    type: ['string', 'integer'],
    description: "Octal permissions as a quoted string, e.g. '0600'. The content goes to a private (0600) temporary file, which gets this mode and is then renamed into place, so a secret is never readable by others, not even briefly. Without it, an existing file keeps its mode and a new one gets 0644. An unquoted number is refused: YAML reads 0600 as six hundred.",
  },
  owner: { type: 'string', minLength: 1, description: 'User (name or uid) that should own the file (chown; needs the right to do so).' },
  group: { type: 'string', minLength: 1, description: 'Group (name or gid) of the file.' },
  backup: { type: 'boolean', default: false, description: 'Before replacing different content, keep a copy of the old file next to it as `DEST.YYYY-MM-DD@HH:MM:SS~` (mode and owner preserved).' },
};

export class ModeError extends Error {
  readonly code = 'args/bad-mode';
  readonly hint = "write the mode as a quoted octal string, e.g. mode: '0600'";
}

/** The numeric mode, or undefined when none was given. Throws ModeError for anything ambiguous. */
export function parseMode(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') throw new ModeError(`mode ${v} is a number: YAML reads an unquoted 0600 as the decimal 600 (and 0o600 as 384), so tsplay cannot know which permissions were meant`);
  const s = String(v);
  if (!/^0?[0-7]{3,4}$/.test(s)) throw new ModeError(`mode "${s}" is not an octal mode like '0644' or '0600'`);
  return Number.parseInt(s, 8);
}

/** Parse-time check of `mode` (skipped when it depends on a run-time value). */
export function modeProblems(mode: unknown): StaticProblem[] {
  if (mode === undefined || unresolved(mode)) return [];
  try {
    parseMode(mode);
    return [];
  } catch (e) {
    if (!(e instanceof ModeError)) throw e;
    return [{ code: e.code, arg: 'mode', message: e.message, hint: e.hint }];
  }
}

export function formatMode(m: number): string {
  return '0' + (m & 0o7777).toString(8).padStart(3, '0');
}

export interface SrcLookup {
  /** Absolute path of the file found, or undefined. */
  found?: string;
  /** Every place looked at, in order (for the error message). */
  tried: string[];
}

/**
 * Finds `src` on the controller: an absolute path as is; a relative one in the playbook's
 * directory, then in its `templates/` (template) or `files/` (copy) folder, as Ansible does.
 */
export function findSrc(src: string, playbookDir: string, folder: 'templates' | 'files'): SrcLookup {
  const tried = path.isAbsolute(src) ? [src] : [path.join(playbookDir, src), path.join(playbookDir, folder, src)];
  for (const p of tried) {
    if (existsSync(p) && statSync(p).isFile()) return { found: p, tried };
  }
  return { tried };
}

/** How a controller path is shown in messages: relative to the working directory when inside it. */
export function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

/** At parse time: true when a rendered argument still depends on a run-time value. */
export function unresolved(v: unknown): boolean {
  return typeof v === 'string' && v.includes(UNRESOLVED);
}
