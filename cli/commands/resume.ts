/**
 * tsplay resume RUN: continue a failed, interrupted or killed run from where it stopped — the done
 * tasks are not run again, their registered results and facts are restored from the journal, and
 * (after an ordinary failure) only the hosts that failed or were unreachable go on. Refuses when a
 * file the run depended on changed since, unless --force. Writes its own journal, linked to RUN.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { prepare } from '../../engine/prepare.js';
import { buildModel, type TaskRun } from '../../engine/journal/model.js';
import { defaultRunsDir } from '../../engine/journal/read.js';
import { planResume, skipDoneFor } from '../../engine/journal/resume.js';
import { compareFingerprints, fingerprint } from '../../engine/journal/fingerprint.js';
import type { FileChange, RecordedOptions } from '../../engine/journal/format.js';
import { LIFECYCLE_STAGES } from '../../engine/run/lifecycle.js';
import { now } from '../../engine/events.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { parseExtraVars } from '../extra-vars.js';
import { collect } from '../options.js';
import { printDiagnostics } from '../diagnostics-output.js';
import { addRecordingOptions, journalWarnings, openJournal } from '../journal-options.js';
import { Session } from '../session.js';
import { prepareLifecycle, runLifecycle, stageMeta, type LifecycleCliOptions } from './lifecycle.js';

interface ResumeCliOptions {
  force: boolean;
  extraVars: string[];
  json: boolean;
  verbose: number;
  runsDir?: string;
  metricsFile?: string;
}

function formatChanges(changes: FileChange[]): string[] {
  const out: string[] = [];
  for (const c of changes) {
    out.push(`  ${c.change === 'new' ? 'new file' : c.change}: ${c.path}`);
    out.push(`    recorded sha256 ${c.old ?? '(none)'}`);
    out.push(`    now      sha256 ${c.new ?? '(missing)'}`);
  }
  return out;
}

/** The parent's options as the CLI options object prepareLifecycle takes. */
function cliOptions(r: RecordedOptions, o: ResumeCliOptions): LifecycleCliOptions {
  return {
    inventory: r.inventory,
    limit: r.limit,
    extraVars: [],
    tags: r.tags,
    skipTags: r.skipTags,
    check: r.check,
    diff: r.diff,
    startAtTask: r.startAtTask,
    forks: r.forks,
    json: o.json,
    verbose: o.verbose,
    trustNewHostKeys: r.trustNewHostKeys,
    knownHosts: r.knownHosts,
    connectTimeout: r.connectTimeout,
    playbooks: r.playbooksDir,
    from: r.from,
    to: r.to,
  };
}

export function registerResume(program: Command): void {
  const cmd = program
    .command('resume')
    .description('continue a failed or interrupted run from the failed task, for the hosts that did not finish, with registered results and facts restored from its journal')
    .argument('<run>', 'run id, a unique start of one, or `last`')
    .option('--force', 'resume even though a playbook, inventory or referenced file changed since the run (tasks are matched by position and name)', false)
    .option('-e, --extra-vars <vars>', 'give again the secret extra variables the journal does not keep (name=value, repeatable)', collect, [])
    .option('--json', 'print one JSON event per line instead of the live display', false)
    .option('-v, --verbose', 'more output (-vv for command output)', (_: string, prev: number) => prev + 1, 0);
  addRecordingOptions(cmd);
  cmd.action(async (ref: string, o: ResumeCliOptions) => {
    const runsDir = defaultRunsDir(o.runsDir);
    const metricsFile = o.metricsFile === undefined ? undefined : path.resolve(o.metricsFile);
    const j = openJournal(runsDir, ref);
    for (const w of journalWarnings(j)) process.stderr.write(`tsplay: warning: ${w}\n`);
    const m = buildModel(j);
    const meta = j.meta;
    const rp = planResume(m);
    if ('nothing' in rp) {
      process.stderr.write(`tsplay: ${rp.nothing}\n`);
      return void (process.exitCode = m.outcome === 'ok' ? EXIT.OK : EXIT.USAGE);
    }

    // The run's paths are relative to where it ran.
    if (!existsSync(meta.cwd)) throw new UsageError('resume/cwd-gone', `run ${meta.runId} ran in ${meta.cwd}, which no longer exists`);
    process.chdir(meta.cwd);

    const given = parseExtraVars(o.extraVars);
    const recorded = meta.options;
    const missing = recorded.secretExtraVars.filter((n) => !(n in given));
    if (missing.length) {
      throw new UsageError(
        'resume/secret-needed',
        `run ${meta.runId} had secret extra variable${missing.length === 1 ? '' : 's'} ${missing.join(', ')}, which the journal does not keep`,
        `give ${missing.length === 1 ? 'it' : 'them'} again: tsplay resume ${meta.runId} ${missing.map((n) => `-e ${n}=…`).join(' ')}`,
      );
    }
    const extraVars = { ...recorded.extraVars, ...given };
    const co = cliOptions(recorded, o);

    let prepared;
    let lifecycle: ReturnType<typeof prepareLifecycle>;
    if (meta.kind === 'lifecycle') {
      lifecycle = prepareLifecycle(co, extraVars);
      prepared = lifecycle?.prepared;
    } else {
      prepared = prepare({ playbooks: recorded.playbooks, inventory: recorded.inventory, limit: recorded.limit, extraVars, check: recorded.check, startAtTask: recorded.startAtTask });
      printDiagnostics(prepared.diagnostics);
      if (prepared.errors) prepared = undefined;
    }
    if (!prepared) return void (process.exitCode = EXIT.INVALID);

    const changes = compareFingerprints(meta.files, fingerprint(prepared.plan!, prepared.inventory!, extraVars));
    if (changes.length && !o.force) {
      process.stderr.write(
        [
          `tsplay: error resume/changed: run ${meta.runId} cannot be resumed as recorded: ${changes.length} file${changes.length === 1 ? '' : 's'} it depended on changed since`,
          ...formatChanges(changes),
          `  hint: restore ${changes.length === 1 ? 'it' : 'them'}, or resume anyway with --force (done tasks are matched by their place and name in the playbooks); nothing was run`,
          '',
        ].join('\n'),
      );
      return void (process.exitCode = EXIT.INVALID);
    }
    if (changes.length) process.stderr.write(['tsplay: warning: resuming with --force although files changed since the run:', ...formatChanges(changes), ''].join('\n'));

    const fromIndex = lifecycle ? (LIFECYCLE_STAGES as readonly string[]).indexOf(rp.fromStage!) : 0;
    const session = await Session.open({
      kind: meta.kind,
      runsDir,
      metricsFile,
      json: o.json,
      verbose: o.verbose,
      options: { ...recorded, extraVars },
      prepared,
      extraVars,
      stages: lifecycle ? stageMeta(lifecycle, fromIndex) : undefined,
      stageOf: lifecycle ? (pb) => lifecycle!.stages.find((s) => s.playbook === pb.path)?.name : undefined,
      parent: { runId: meta.runId, forced: changes, fromStage: rp.fromStage },
    });
    if (typeof session === 'number') return void (process.exitCode = session);
    session.restored(
      rp.done.map((t: TaskRun) => ({
        time: t.end ?? meta.start,
        fromRun: t.restoredFrom ?? meta.runId,
        playbook: t.playbook,
        taskId: t.taskId,
        task: t.task,
        host: t.host,
        status: t.status!,
        changed: t.changed ?? false,
        durationMs: t.durationMs ?? 0,
        state: t.state,
      })),
    );
    const decide = (message: string) => session.bus.emit({ type: 'decision', time: now(), message });
    decide(rp.reason);
    if (rp.fromStage) decide(`lifecycle resumes at stage ${fromIndex + 1}/${LIFECYCLE_STAGES.length} ${rp.fromStage}: the stages before it succeeded in run ${meta.runId}`);
    for (const t of rp.withheld) decide(`'${t.task}' on ${t.host}: its registered result was not journaled (no_log); restored without its data`);
    if (changes.length) decide(`resumed with --force although ${changes.length} file(s) changed: ${changes.map((c) => c.path).join(', ')}`);
    const skipDone = skipDoneFor(rp);
    if (lifecycle) {
      process.exitCode = await runLifecycle(session, lifecycle, fromIndex, { skipDone, onlyHosts: rp.onlyHosts, facts: rp.facts });
    } else {
      const summary = await session.runPlan(prepared.plan!, { restoreFacts: rp.facts, skipDone, onlyHosts: rp.onlyHosts });
      process.exitCode = await session.finish(summary.outcome, session.exitCodeOf(summary));
    }
  });
}
