/** Options and helpers shared by the commands that write or read run journals. */
import path from 'node:path';
import type { Command } from 'commander';
import { shellQuote } from '../engine/transport/transport.js';
import { defaultRunsDir, JournalReadError, readJournal, resolveRun, type Journal } from '../engine/journal/read.js';
import { UsageError } from './exit-codes.js';

export function addRunsDirOption(cmd: Command): Command {
  return cmd.option('--runs-dir <dir>', 'where run journals live (default: $TSPLAY_RUNS_DIR, else ./runs)');
}

export function addRecordingOptions(cmd: Command): Command {
  return addRunsDirOption(cmd).option('--metrics-file <path>', 'write Prometheus metrics of the run here (node_exporter textfile collector; written atomically)');
}

/** ` --runs-dir DIR` when DIR is not what the commands find by default, for commands we print. */
export function runsDirFlag(runsDir: string): string {
  if (path.resolve(runsDir) === defaultRunsDir()) return '';
  const rel = path.relative(process.cwd(), runsDir);
  return ` --runs-dir ${shellQuote(rel && !rel.startsWith('..') ? rel : path.resolve(runsDir))}`;
}

/** Reads the journal RUN names; lookup problems become usage errors with a hint. */
export function openJournal(runsDir: string, ref: string): Journal {
  try {
    return readJournal(resolveRun(runsDir, ref));
  } catch (err) {
    if (err instanceof JournalReadError) throw new UsageError(err.code, err.message, err.hint);
    throw err;
  }
}

/** Warnings about a journal cut short, for the commands that read one. */
export function journalWarnings(j: Journal): string[] {
  const out: string[] = [];
  if (j.tornTail) out.push(`the last line of ${j.file} is incomplete (written when the controller died); it was ignored`);
  if (j.badLines.length) out.push(`${j.file}: line${j.badLines.length === 1 ? '' : 's'} ${j.badLines.slice(0, 5).join(', ')} could not be read and ${j.badLines.length === 1 ? 'was' : 'were'} ignored`);
  return out;
}
