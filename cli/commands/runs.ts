/** tsplay runs: the recorded runs, newest first. */
import path from 'node:path';
import type { Command } from 'commander';
import { defaultRunsDir, JournalReadError, readJournal, runIds } from '../../engine/journal/read.js';
import { buildModel, type RunModel } from '../../engine/journal/model.js';
import { JOURNAL_FILE } from '../../engine/journal/format.js';
import { makeChalk, seconds } from '../reporters/style.js';
import { addRunsDirOption } from '../journal-options.js';

export interface RunRow {
  id: string;
  kind: string;
  outcome: string;
  start: string;
  durationMs: number;
  failed: string[];
  unreachable: string[];
  playbooks: string;
  parent?: string;
  stage?: string;
}

export function rowOf(m: RunModel): RunRow {
  const meta = m.journal.meta;
  const stopped = m.stages.find((s) => s.outcome && s.outcome !== 'ok') ?? m.stages.find((s) => !s.outcome);
  return {
    id: m.runId,
    kind: meta.kind,
    outcome: m.outcome,
    start: meta.start,
    durationMs: m.durationMs,
    failed: m.failedHosts,
    unreachable: m.unreachableHosts,
    playbooks: meta.kind === 'lifecycle' ? `${meta.options.playbooksDir ?? ''}` : meta.options.playbooks.join(' '),
    parent: meta.parent?.runId,
    stage: meta.kind === 'lifecycle' && m.outcome !== 'ok' && stopped ? `${stopped.index}/${stopped.total} ${stopped.name}` : undefined,
  };
}

export function registerRuns(program: Command): void {
  const cmd = program.command('runs').description('list the recorded runs, newest first (outcome, duration, hosts that failed or were unreachable)');
  addRunsDirOption(cmd);
  cmd.option('--json', 'one JSON object per run', false).option('-n, --limit <n>', 'show at most this many runs', (v: string) => Number.parseInt(v, 10));
  cmd.action((o: { runsDir?: string; json: boolean; limit?: number }) => {
    const dir = defaultRunsDir(o.runsDir);
    const ids = runIds(dir).slice(0, o.limit && o.limit > 0 ? o.limit : undefined);
    const rows: RunRow[] = [];
    const warnings: string[] = [];
    for (const id of ids) {
      try {
        rows.push(rowOf(buildModel(readJournal(path.join(dir, id, JOURNAL_FILE)))));
      } catch (err) {
        if (!(err instanceof JournalReadError)) throw err;
        warnings.push(`${id}: ${err.message}`);
      }
    }
    for (const w of warnings) process.stderr.write(`tsplay: warning: ${w}\n`);
    if (o.json) {
      for (const r of rows) process.stdout.write(JSON.stringify(r) + '\n');
      return;
    }
    if (rows.length === 0) {
      process.stdout.write(`no recorded runs in ${dir}\n`);
      return;
    }
    const c = makeChalk(process.stdout);
    const table = rows.map((r) => [
      r.id,
      r.kind + (r.parent ? ' (resume)' : ''),
      r.outcome + (r.stage ? ` @${r.stage}` : ''),
      seconds(r.durationMs),
      r.failed.join(',') || '-',
      r.unreachable.join(',') || '-',
      r.playbooks,
    ]);
    const head = ['RUN', 'KIND', 'OUTCOME', 'DURATION', 'FAILED', 'UNREACHABLE', 'PLAYBOOKS'];
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
    const line = (cells: string[]) => cells.map((x, i) => (i === cells.length - 1 ? x : x.padEnd(widths[i]))).join('  ');
    process.stdout.write(c.bold(line(head)) + '\n');
    for (const [i, row] of table.entries()) {
      const o2 = rows[i].outcome;
      const col = o2 === 'ok' ? c.green : o2 === 'running' ? c.cyan : o2 === 'interrupted' || o2 === 'incomplete' ? c.yellow : c.red;
      process.stdout.write(col(line(row)) + '\n');
    }
  });
}
