/** tsplay autopsy RUN: why a recorded run failed, from its journal alone. */
import type { Command } from 'commander';
import { autopsy, type Autopsy } from '../../engine/journal/autopsy.js';
import { buildModel, describeOutcome, type RunModel } from '../../engine/journal/model.js';
import { defaultRunsDir } from '../../engine/journal/read.js';
import { makeChalk, seconds } from '../reporters/style.js';
import { addRunsDirOption, journalWarnings, openJournal, runsDirFlag } from '../journal-options.js';

export function resumeCommand(m: RunModel, runsDir: string): string {
  const secrets = m.journal.meta.options.secretExtraVars ?? [];
  return `tsplay resume ${m.runId}${runsDirFlag(runsDir)}${secrets.map((n) => ` -e ${n}=…`).join('')}`;
}

function clock(t?: string): string {
  return t ? t.slice(11, 23) : '            ';
}

export function formatAutopsy(a: Autopsy, m: RunModel, resume: string | undefined, out: NodeJS.WritableStream): string[] {
  const c = makeChalk(out);
  const meta = m.journal.meta;
  const L: string[] = [];
  L.push(c.bold(`autopsy of ${meta.kind} ${a.runId}: ${describeOutcome(m)}`));
  L.push(`  started ${meta.start} by ${meta.user}@${meta.hostname}, ran ${seconds(m.durationMs)}; tsplay ${meta.tsplayVersion}${meta.git ? `; playbooks at git ${meta.git.commit.slice(0, 12)}${meta.git.dirty ? ' (with uncommitted changes)' : ''}` : ''}`);
  L.push(`  command: tsplay ${meta.argv.join(' ')}`);
  if (meta.parent) L.push(`  resumes run ${meta.parent.runId}${meta.parent.forced.length ? ` (forced past ${meta.parent.forced.length} changed file${meta.parent.forced.length === 1 ? '' : 's'})` : ''}`);
  if (a.message) L.push(`  ${a.message}`);
  if (a.stages.length) {
    L.push('', c.bold('stages'));
    for (const s of a.stages) {
      const col = s.outcome === 'ok' ? c.green : s.outcome === 'failed' ? c.red : s.outcome === 'not run' || s.outcome === 'not selected' ? c.dim : c.yellow;
      L.push(col(`  ${s.index}/${a.stages.length} ${s.name.padEnd(24)} ${s.outcome}${s.durationMs !== undefined ? ` in ${seconds(s.durationMs)}` : ''}`));
    }
  }
  const f = a.firstFailure;
  if (f) {
    L.push('', c.bold(c.red('first failure')));
    L.push(`  host:     ${f.host}${f.status === 'unreachable' ? ' (unreachable)' : ''}`);
    L.push(`  task:     '${f.task}' (play '${f.play}'${f.stage ? `, stage ${f.stage}` : ''})`);
    L.push(`  at:       ${f.file}${f.line ? `:${f.line}${f.column ? `:${f.column}` : ''}` : ''}`);
    if (f.module) L.push(`  module:   ${f.module}`);
    if (f.command) L.push(`  command:  ${f.command.split('\n').join('\n            ')}`);
    if (f.rc !== undefined) L.push(`  rc:       ${f.rc}`);
    if (f.attempts !== undefined) L.push(`  attempts: ${f.attempts}`);
    if (f.code) L.push(`  rule:     ${f.code}`);
    if (f.msg) L.push(`  msg:      ${f.msg.split('\n').join('\n            ')}`);
    if (f.stderrTail.length) {
      L.push(`  stderr (last ${f.stderrTail.length} line${f.stderrTail.length === 1 ? '' : 's'}):`);
      for (const l of f.stderrTail) L.push(c.red(`    | ${l}`));
    } else if (f.stdoutTail.length) {
      L.push(`  stdout (last ${f.stdoutTail.length} line${f.stdoutTail.length === 1 ? '' : 's'}):`);
      for (const l of f.stdoutTail) L.push(`    | ${l}`);
    }
    L.push('', c.bold(`what happened on ${f.host} up to there`));
    if (a.chainOmitted) L.push(c.dim(`  … ${a.chainOmitted} earlier entries`));
    for (const e of a.chain) {
      if (e.kind === 'decision') L.push(c.cyan(`  ${clock(e.time)}  decision  ${e.task ? `'${e.task}': ` : ''}${e.message}`));
      else if (e.kind === 'restored') L.push(c.dim(`  ${clock(e.time)}  ${(e.status ?? '').padEnd(9)} '${e.task}' (${e.message})`));
      else {
        const col = e.status === 'failed' || e.status === 'unreachable' ? c.red : e.status === 'changed' ? c.yellow : e.status === 'skipped' ? c.dim : c.green;
        L.push(col(`  ${clock(e.time)}  ${(e.status ?? '').padEnd(9)} '${e.task}'${e.durationMs !== undefined ? ` ${seconds(e.durationMs)}` : ''}${e.message && e.status !== 'ok' && e.status !== 'changed' ? ` — ${e.message}` : ''}`));
      }
    }
  } else if (m.outcome !== 'ok') {
    L.push('', m.outcome === 'incomplete' ? 'no task failed before the journal stops' : 'no task failed');
  }
  if (a.otherFailures.length) {
    L.push('', c.bold('other failures'));
    for (const o of a.otherFailures) L.push(`  ${o.host} failed '${o.task}'${o.msg ? ` — ${o.msg}` : ''}`);
  }
  L.push('', c.bold('unreachable hosts'));
  if (a.unreachable.length === 0) L.push('  none');
  for (const u of a.unreachable) L.push(c.red(`  ${u.host} at '${u.task}'${u.msg ? ` — ${u.msg}` : ''}`));
  if (a.inFlight.length) {
    L.push('', c.bold('in flight when the journal stops'));
    for (const t of a.inFlight) L.push(c.yellow(`  ${t.host}: '${t.task}'${t.since ? ` since ${clock(t.since)}` : ''}`));
  }
  if (resume) L.push('', c.bold('resume it with'), `  ${resume}`);
  return L;
}

export function registerAutopsy(program: Command): void {
  const cmd = program
    .command('autopsy')
    .description('explain a recorded run: the first failure (host, task, place, command, exit code, stderr), the decisions that led there, unreachable hosts, and the command that resumes it')
    .argument('<run>', 'run id, a unique start of one, or `last`')
    .option('--json', 'the autopsy as one JSON object', false);
  addRunsDirOption(cmd);
  cmd.action((ref: string, o: { runsDir?: string; json: boolean }) => {
    const runsDir = defaultRunsDir(o.runsDir);
    const j = openJournal(runsDir, ref);
    for (const w of journalWarnings(j)) process.stderr.write(`tsplay: warning: ${w}\n`);
    const m = buildModel(j);
    const a = autopsy(m);
    const resume = m.outcome === 'ok' || m.outcome === 'running' ? undefined : resumeCommand(m, runsDir);
    if (o.json) {
      process.stdout.write(JSON.stringify({ ...a, resume }, null, 2) + '\n');
      return;
    }
    if (m.outcome === 'ok') {
      process.stdout.write(`run ${m.runId} finished ok in ${seconds(m.durationMs)}: nothing failed\n`);
      return;
    }
    process.stdout.write(formatAutopsy(a, m, resume, process.stdout).join('\n') + '\n');
  });
}
