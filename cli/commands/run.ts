/** tsplay run: validate everything, then run the plays against the inventory, recording the run in its journal. */
import type { Command } from 'commander';
import { gitInfoAsync } from '../../engine/journal/fingerprint.js';
import { playbooksDirOf } from '../../engine/journal/meta.js';
import { prepare, type Prepared } from '../../engine/prepare.js';
import type { RunSummary } from '../../engine/run/runner.js';
import { defaultRunsDir } from '../../engine/journal/read.js';
import type { RecordedOptions } from '../../engine/journal/format.js';
import { EXIT } from '../exit-codes.js';
import { parseExtraVars } from '../extra-vars.js';
import { addInventoryOptions, addRunOptions } from '../options.js';
import { printDiagnostics } from '../diagnostics-output.js';
import { addRecordingOptions } from '../journal-options.js';
import { Session } from '../session.js';
export { newRunId } from '../run-id.js';

export interface RunCliOptions {
  inventory: string;
  limit?: string;
  extraVars: string[];
  tags: string[];
  skipTags: string[];
  check: boolean;
  diff: boolean;
  startAtTask?: string;
  forks: number;
  json: boolean;
  verbose: number;
  trustNewHostKeys: boolean;
  knownHosts?: string;
  connectTimeout?: number;
  runsDir?: string;
  metricsFile?: string;
}

export function summaryExitCode(s: RunSummary, signal?: string): number {
  if (s.outcome === 'interrupted') return signal === 'SIGTERM' ? EXIT.SIGTERM : EXIT.SIGINT;
  const hosts = Object.values(s.recap);
  if (hosts.some((h) => h.failed > 0)) return EXIT.HOST_FAILED;
  if (hosts.some((h) => h.unreachable > 0)) return EXIT.HOST_UNREACHABLE;
  return EXIT.OK;
}

/** Prepares (validation; nothing contacted) and prints diagnostics; undefined when there were errors. */
export function prepareOrReport(playbooks: string[], o: RunCliOptions, extraVars: Record<string, unknown>): Prepared | undefined {
  const prepared = prepare({ playbooks, inventory: o.inventory, limit: o.limit, extraVars, check: o.check, startAtTask: o.startAtTask });
  printDiagnostics(prepared.diagnostics);
  return prepared.errors ? undefined : prepared;
}

/** What the journal records of the command line, so that `tsplay resume` can run the same thing. */
export function recordedOptions(playbooks: string[], o: RunCliOptions, extraVars: Record<string, unknown>): Omit<RecordedOptions, 'secretExtraVars'> {
  return {
    playbooks,
    inventory: o.inventory,
    limit: o.limit,
    extraVars,
    tags: o.tags,
    skipTags: o.skipTags,
    check: o.check,
    diff: o.diff,
    startAtTask: o.startAtTask,
    forks: o.forks,
    trustNewHostKeys: o.trustNewHostKeys,
    knownHosts: o.knownHosts,
    connectTimeout: o.connectTimeout,
  };
}

export function registerRun(program: Command): void {
  const cmd = program
    .command('run')
    .description('validate the playbooks (nothing runs if anything is wrong), then run them against the inventory; the run is recorded in runs/<id>/journal.jsonl')
    .argument('<playbook...>', 'playbook files, run in order');
  addInventoryOptions(cmd);
  addRunOptions(cmd);
  addRecordingOptions(cmd);
  cmd.action(async (playbooks: string[], o: RunCliOptions) => {
    const extraVars = parseExtraVars(o.extraVars);
    // The journal records the playbooks' git state: ask git now, while validation keeps us busy.
    void gitInfoAsync(playbooksDirOf({ playbooks }));
    const prepared = prepareOrReport(playbooks, o, extraVars);
    if (!prepared) return void (process.exitCode = EXIT.INVALID);
    const session = await Session.open({
      kind: 'run',
      runsDir: defaultRunsDir(o.runsDir),
      metricsFile: o.metricsFile,
      json: o.json,
      verbose: o.verbose,
      options: recordedOptions(playbooks, o, extraVars),
      prepared,
      extraVars,
    });
    if (typeof session === 'number') return void (process.exitCode = session);
    const summary = await session.runPlan(prepared.plan!);
    process.exitCode = await session.finish(summary.outcome, session.exitCodeOf(summary));
  });
}
