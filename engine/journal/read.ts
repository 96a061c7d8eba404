/**
 * Reading journals back. A journal may end abruptly (the controller was killed): a torn last line
 * is dropped and reported, and the run counts as incomplete. Nothing here contacts a host.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { JOURNAL_FILE, type EndLine, type JournalLine, type JournalMeta } from './format.js';

export interface Journal {
  file: string;
  meta: JournalMeta;
  lines: JournalLine[];
  end?: EndLine;
  /** The last line could not be parsed (written when the controller died). */
  tornTail: boolean;
  /** Lines other than the last that could not be parsed (1-based line numbers). */
  badLines: number[];
}

export class JournalReadError extends Error {
  constructor(
    readonly code: 'journal/not-found' | 'journal/ambiguous' | 'journal/unreadable' | 'journal/no-runs',
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function defaultRunsDir(cli?: string): string {
  return path.resolve(cli ?? process.env.TSPLAY_RUNS_DIR ?? path.join(process.cwd(), 'runs'));
}

export function readJournal(file: string): Journal {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new JournalReadError('journal/unreadable', `cannot read ${file}: ${(err as Error).message}`);
  }
  const raw = text.split('\n');
  const lastComplete = text.endsWith('\n');
  if (raw[raw.length - 1] === '') raw.pop();
  const lines: JournalLine[] = [];
  const badLines: number[] = [];
  let tornTail = false;
  raw.forEach((l, i) => {
    if (l.trim() === '') return;
    try {
      lines.push(JSON.parse(l) as JournalLine);
    } catch {
      if (i === raw.length - 1 && !lastComplete) tornTail = true;
      else badLines.push(i + 1);
    }
  });
  const meta = lines[0];
  if (!meta || meta.type !== 'journal.meta') throw new JournalReadError('journal/unreadable', `${file} is not a tsplay journal (its first line is not the run's metadata)`);
  const last = lines[lines.length - 1];
  return { file, meta, lines, end: last?.type === 'journal.end' ? last : undefined, tornTail, badLines };
}

/** Run ids under the runs directory that hold a journal, newest first (ids start with a UTC timestamp). */
export function runIds(runsDir: string): string[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir)
    .filter((d) => {
      try {
        return statSync(path.join(runsDir, d, JOURNAL_FILE)).isFile();
      } catch {
        return false;
      }
    })
    .sort()
    .reverse();
}

/** RUN as the commands take it: an id, a unique prefix of one, `last`, or a path to a journal file or run directory. */
export function resolveRun(runsDir: string, ref: string): string {
  if (ref.includes('/') && existsSync(ref)) {
    const p = statSync(ref).isDirectory() ? path.join(ref, JOURNAL_FILE) : ref;
    if (existsSync(p)) return path.resolve(p);
  }
  const ids = runIds(runsDir);
  if (ids.length === 0) throw new JournalReadError('journal/no-runs', `no recorded runs in ${runsDir}`, 'runs are recorded by `tsplay run` and `tsplay lifecycle`; pass --runs-dir (or TSPLAY_RUNS_DIR) if they went elsewhere');
  let id: string | undefined;
  if (ref === 'last' || ref === 'latest') id = ids[0];
  else if (ids.includes(ref)) id = ref;
  else {
    const matches = ids.filter((i) => i.startsWith(ref));
    if (matches.length > 1) throw new JournalReadError('journal/ambiguous', `"${ref}" is the start of ${matches.length} run ids: ${matches.slice(0, 5).join(', ')}${matches.length > 5 ? ', …' : ''}`, 'give more of the id');
    id = matches[0];
  }
  if (!id) throw new JournalReadError('journal/not-found', `no run "${ref}" in ${runsDir}`, '`tsplay runs` lists the recorded runs; `last` names the newest');
  return path.join(runsDir, id, JOURNAL_FILE);
}

/** True when the run's controller is still alive: same machine, and its pid is a live tsplay process. */
export function stillRunning(meta: JournalMeta, hostname: string): boolean {
  if (meta.hostname !== hostname || meta.pid === process.pid) return false;
  try {
    process.kill(meta.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A pid is reused once its process is gone: make sure it is still a tsplay.
  try {
    return readFileSync(`/proc/${meta.pid}/cmdline`, 'utf8').includes('tsplay');
  } catch {
    return true; // no /proc: trust the pid
  }
}
