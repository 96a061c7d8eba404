/** tsplay run: validate everything, then run the plays against the inventory. */
import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { prepare, type Prepared } from '../../engine/prepare.js';
import { EventBus } from '../../engine/events.js';
import { Runner, type RunSummary } from '../../engine/run/runner.js';
import { EXIT } from '../exit-codes.js';
import { parseExtraVars } from '../extra-vars.js';
import { addInventoryOptions, addRunOptions } from '../options.js';
import { printDiagnostics } from '../diagnostics-output.js';
import { chooseReporter } from '../reporters/choose.js';

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
}

export function newRunId(): string {
  const d = new Date();
  const stamp = d.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
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

/** Runs a prepared plan with the reporter and signal handling of the CLI. */
export async function executePrepared(prepared: Prepared, o: RunCliOptions, extraVars: Record<string, unknown>, extra: { runId?: string; bus?: EventBus } = {}): Promise<{ summary: RunSummary; code: number }> {
  const bus = extra.bus ?? new EventBus();
  const reporter = await chooseReporter({ json: o.json, verbose: o.verbose });
  bus.on((e) => reporter.onEvent(e));
  const abort = new AbortController();
  let signalName: string | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalName) process.exit(sig === 'SIGTERM' ? EXIT.SIGTERM : EXIT.SIGINT);
    signalName = sig;
    process.stderr.write(`\ntsplay: ${sig} — stopping the commands started on the hosts…\n`);
    bus.emit({ type: 'decision', time: new Date().toISOString(), message: `interrupted by ${sig}: stopping remote commands` });
    abort.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const runner = new Runner(prepared.plan!, prepared.inventory!, prepared.doctrine, {
      runId: extra.runId ?? newRunId(),
      check: o.check,
      diff: o.diff,
      forks: o.forks,
      tags: o.tags,
      skipTags: o.skipTags,
      startAtTask: o.startAtTask,
      extraVars,
      trustNewHostKeys: o.trustNewHostKeys,
      knownHostsFile: o.knownHosts,
      connectTimeoutMs: o.connectTimeout ? o.connectTimeout * 1000 : undefined,
      signal: abort.signal,
    }, bus);
    const summary = await runner.run();
    await reporter.finish();
    return { summary, code: summaryExitCode(summary, signalName) };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function registerRun(program: Command): void {
  const cmd = program
    .command('run')
    .description('validate the playbooks (nothing runs if anything is wrong), then run them against the inventory')
    .argument('<playbook...>', 'playbook files, run in order');
  addInventoryOptions(cmd);
  addRunOptions(cmd);
  cmd.action(async (playbooks: string[], o: RunCliOptions) => {
    const extraVars = parseExtraVars(o.extraVars);
    const prepared = prepareOrReport(playbooks, o, extraVars);
    if (!prepared) return void (process.exitCode = EXIT.INVALID);
    const { code } = await executePrepared(prepared, o, extraVars);
    process.exitCode = code;
  });
}
