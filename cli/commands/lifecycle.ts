/**
 * tsplay lifecycle: the five stage playbooks (power-on → post-power-on-validate → pump-preflight →
 * pump-start → kernel-build), all validated before the first runs, then run in order; the first
 * failing stage stops it, and its exit code is the lifecycle's.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Diagnostic } from '../../engine/diagnostics.js';
import { prepare, type Prepared } from '../../engine/prepare.js';
import { LIFECYCLE_STAGES, runStages, splitStages, type StagePlan } from '../../engine/run/lifecycle.js';
import { defaultRunsDir } from '../../engine/journal/read.js';
import type { JournalMeta } from '../../engine/journal/format.js';
import { installRoot } from '../../engine/util/install.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { parseExtraVars } from '../extra-vars.js';
import { addInventoryOptions, addRunOptions } from '../options.js';
import { printDiagnostics } from '../diagnostics-output.js';
import { addRecordingOptions } from '../journal-options.js';
import { Session, type ResumeHooks } from '../session.js';
import { recordedOptions, type RunCliOptions } from './run.js';

/** The shipped playbooks: <install root>/playbooks. */
export const DEFAULT_PLAYBOOKS_DIR = path.join(installRoot(), 'playbooks');

export interface LifecycleCliOptions extends RunCliOptions {
  playbooks?: string;
  from?: string;
  to?: string;
}

export function stageFiles(dir: string): { name: string; playbook: string }[] {
  return LIFECYCLE_STAGES.map((name) => ({ name, playbook: path.join(dir, `${name}.yml`) }));
}

function stageIndex(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const byNumber = /^[1-5]$/.test(value) ? Number(value) - 1 : -1;
  const i = byNumber >= 0 ? byNumber : (LIFECYCLE_STAGES as readonly string[]).indexOf(value);
  if (i < 0) throw new UsageError('cli/unknown-stage', `${flag} "${value}" is not a lifecycle stage`, `stages: ${LIFECYCLE_STAGES.join(', ')} (or 1-5)`);
  return i;
}

export interface LifecycleSetup {
  dir: string;
  stages: { name: string; playbook: string }[];
  from: number;
  to: number;
  prepared: Prepared;
}

/** Validates every stage playbook (one plan, every problem reported in one pass); undefined when nothing may run. */
export function prepareLifecycle(o: LifecycleCliOptions, extraVars: Record<string, unknown>): LifecycleSetup | undefined {
  const dir = path.resolve(o.playbooks ?? DEFAULT_PLAYBOOKS_DIR);
  const from = stageIndex('--from', o.from, 0);
  const to = stageIndex('--to', o.to, LIFECYCLE_STAGES.length - 1);
  if (from > to) throw new UsageError('cli/bad-stage-range', `--from ${LIFECYCLE_STAGES[from]} comes after --to ${LIFECYCLE_STAGES[to]}`);
  const stages = stageFiles(dir);
  const missing: Diagnostic[] = stages
    .filter((s) => !existsSync(s.playbook))
    .map((s) => ({ code: 'lifecycle/missing-stage', severity: 'error', message: `stage ${s.name}: ${s.playbook} does not exist`, hint: `the lifecycle needs ${LIFECYCLE_STAGES.map((n) => `${n}.yml`).join(', ')} in ${dir} (--playbooks DIR)` }));
  if (missing.length) {
    printDiagnostics(missing);
    return undefined;
  }
  const prepared = prepare({ playbooks: stages.map((s) => s.playbook), inventory: o.inventory, limit: o.limit, extraVars, check: o.check, startAtTask: o.startAtTask });
  printDiagnostics(prepared.diagnostics);
  if (prepared.errors) return undefined;
  return { dir, stages, from, to, prepared };
}

export function stageMeta(setup: LifecycleSetup, from = setup.from): JournalMeta['stages'] {
  return setup.stages.map((s, i) => ({ name: s.name, index: i + 1, playbook: s.playbook, selected: i >= from && i <= setup.to }));
}

/**
 * Runs stages [from..to] of a prepared lifecycle in a session. For a resume, done tasks are skipped
 * in every stage, and only `onlyHosts` go on in the first stage run (later stages run for all).
 */
export async function runLifecycle(session: Session, setup: LifecycleSetup, from: number, resume?: { skipDone: ResumeHooks['skipDone']; onlyHosts?: Set<string>; facts: Record<string, Record<string, unknown>> }): Promise<number> {
  const plans = splitStages(setup.prepared.plan!, setup.stages).slice(from, setup.to + 1);
  const first = plans[0];
  const summary = await runStages(
    plans,
    session.bus,
    (stage: StagePlan, facts) => session.runPlan(stage.plan, { restoreFacts: facts, skipDone: resume?.skipDone, onlyHosts: stage === first ? resume?.onlyHosts : undefined }),
    resume?.facts ?? {},
  );
  const last = summary.results[summary.results.length - 1];
  const code = last ? session.exitCodeOf(last.summary) : EXIT.OK;
  return session.finish(summary.outcome, code, summary.stoppedAt?.message ?? `lifecycle ok: stages ${from + 1}-${setup.to + 1} of ${setup.stages.length}`);
}

export function registerLifecycle(program: Command): void {
  const cmd = program
    .command('lifecycle')
    .description(`run the kernel-build lifecycle: ${LIFECYCLE_STAGES.join(' → ')}; every stage is validated before the first runs, and the first failing stage stops it`)
    .option('--playbooks <dir>', 'directory holding the five stage playbooks (<stage>.yml)', DEFAULT_PLAYBOOKS_DIR)
    .option('--from <stage>', 'first stage to run (name or 1-5)')
    .option('--to <stage>', 'last stage to run (name or 1-5)');
  addInventoryOptions(cmd);
  addRunOptions(cmd);
  addRecordingOptions(cmd);
  cmd.action(async (o: LifecycleCliOptions) => {
    const extraVars = parseExtraVars(o.extraVars);
    const setup = prepareLifecycle(o, extraVars);
    if (!setup) return void (process.exitCode = EXIT.INVALID);
    const session = await Session.open({
      kind: 'lifecycle',
      runsDir: defaultRunsDir(o.runsDir),
      metricsFile: o.metricsFile,
      json: o.json,
      verbose: o.verbose,
      options: { ...recordedOptions(setup.stages.map((s) => s.playbook), o, extraVars), playbooksDir: setup.dir, from: o.from, to: o.to },
      prepared: setup.prepared,
      extraVars,
      stages: stageMeta(setup),
      stageOf: (pb) => setup.stages.find((s) => s.playbook === pb.path)?.name,
    });
    if (typeof session === 'number') return void (process.exitCode = session);
    process.exitCode = await runLifecycle(session, setup, setup.from);
  });
}
