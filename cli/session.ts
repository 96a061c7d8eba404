/**
 * One recorded run as the CLI drives it (`run`, `lifecycle`, `resume`): the event bus, the journal
 * (opened — and so probed — before any host is contacted), the reporter, SIGINT/SIGTERM handling,
 * and at the end the journal's last line and the metrics file.
 */
import { unlinkSync, writeFileSync } from 'node:fs';
import { EventBus } from '../engine/events.js';
import type { Prepared } from '../engine/prepare.js';
import { Runner, type RunOptions, type RunSummary } from '../engine/run/runner.js';
import type { Plan } from '../engine/validate/check.js';
import type { JournalMeta, RecordedOptions, RestoredLine, RunKind, RunOutcome } from '../engine/journal/format.js';
import { buildMeta, runRedactor, secretExtraVarNames } from '../engine/journal/meta.js';
import { JournalError, JournalWriter } from '../engine/journal/writer.js';
import { buildModel } from '../engine/journal/model.js';
import { renderMetrics, writeMetricsFile } from '../engine/journal/metrics.js';
import type { PlaybookSpec } from '../engine/playbook/model.js';
import { tsplayVersion } from '../engine/util/install.js';
import { EXIT } from './exit-codes.js';
import { chooseReporter } from './reporters/choose.js';
import type { Reporter } from './reporters/reporter.js';
import { newRunId } from './run-id.js';
import { runsDirFlag } from './journal-options.js';

export interface SessionInit {
  kind: RunKind;
  runsDir: string;
  metricsFile?: string;
  json: boolean;
  verbose: number;
  /** Recorded options (extra vars unmasked here; the journal masks the secret ones). */
  options: Omit<RecordedOptions, 'secretExtraVars'>;
  prepared: Prepared;
  extraVars: Record<string, unknown>;
  stages?: JournalMeta['stages'];
  stageOf?: (pb: PlaybookSpec) => string | undefined;
  parent?: JournalMeta['parent'];
  argv?: string[];
}

export type ResumeHooks = Pick<RunOptions, 'restoreFacts' | 'skipDone' | 'onlyHosts'>;

/** After SIGINT/SIGTERM, tsplay exits by this time even if a host never confirms the kill. */
const STOP_DEADLINE_MS = 1800;

export class Session {
  readonly bus = new EventBus();
  readonly runId: string;
  private readonly abort = new AbortController();
  private readonly halt = new AbortController();
  private signalName: string | undefined;
  private readonly t0 = Date.now();
  private journal!: JournalWriter;
  private reporter!: Reporter;
  /** Hosts that had a command running when the signal came (their exec reported 130). */
  private readonly stoppedOn = new Set<string>();
  private readonly onSignal = (sig: NodeJS.Signals) => {
    const code = sig === 'SIGTERM' ? EXIT.SIGTERM : EXIT.SIGINT;
    if (this.signalName) process.exit(code);
    this.signalName = sig;
    process.stderr.write(`\ntsplay: ${sig} — stopping the commands started on the hosts…\n`);
    this.bus.emit({ type: 'decision', time: new Date().toISOString(), message: `interrupted by ${sig}: stopping remote commands` });
    this.abort.abort(sig);
    // The kill scripts are on the hosts by now and finish there without us; a slow or dead host
    // must not hold the operator's terminal. The journal gets its last line first.
    setTimeout(() => {
      process.stderr.write(`tsplay: ${sig} — gave up waiting for the hosts after ${STOP_DEADLINE_MS / 1000} s; whatever was still running was sent TERM, then KILL\n`);
      try {
        this.journal.end({ type: 'journal.end', time: new Date().toISOString(), runId: this.runId, outcome: 'interrupted', durationMs: Date.now() - this.t0, exitCode: code, message: `${sig}: stopped waiting for the hosts` });
        this.journal.close();
      } catch {
        // The journal already says as much as it can; exiting on time matters more.
      }
      process.exit(code);
    }, STOP_DEADLINE_MS).unref();
  };

  private constructor(private readonly init: SessionInit) {
    this.runId = newRunId();
  }

  /**
   * Opens the journal (the probe write) and the metrics file's directory; on failure prints why
   * and returns the exit code — nothing has been contacted yet.
   */
  static async open(init: SessionInit): Promise<Session | number> {
    const s = new Session(init);
    const { prepared, extraVars } = init;
    const inv = prepared.inventory!;
    const redactor = runRedactor(inv, extraVars);
    const secretExtraVars = secretExtraVarNames(inv, extraVars);
    if (init.metricsFile) {
      const probe = `${init.metricsFile}.tmp`;
      try {
        writeFileSync(probe, '');
        unlinkSync(probe);
      } catch (err) {
        process.stderr.write(`tsplay: error journal/metrics-unwritable: --metrics-file ${init.metricsFile}: cannot write ${probe}: ${(err as Error).message}\n  nothing was run\n`);
        return EXIT.JOURNAL;
      }
    }
    const meta = await buildMeta({
      runId: s.runId,
      kind: init.kind,
      version: tsplayVersion(),
      argv: init.argv ?? process.argv.slice(2),
      options: { ...init.options, secretExtraVars },
      plan: prepared.plan!,
      inventory: inv,
      extraVars,
      redactor,
      stages: init.stages,
      stageOf: init.stageOf,
      parent: init.parent,
    });
    try {
      s.journal = JournalWriter.open(init.runsDir, meta, redactor, (err) => s.journalFailed(err));
    } catch (err) {
      if (!(err instanceof JournalError)) throw err;
      process.stderr.write(`tsplay: error ${err.code}: ${err.message}\n  hint: record runs elsewhere with --runs-dir DIR or TSPLAY_RUNS_DIR; nothing was run\n`);
      return EXIT.JOURNAL;
    }
    s.bus.on((e) => s.journal.event(e));
    s.reporter = await chooseReporter({ json: init.json, verbose: init.verbose });
    s.bus.on((e) => s.reporter.onEvent(e));
    s.bus.on((e) => {
      if (s.signalName && e.type === 'host.result' && e.rc === EXIT.SIGINT) s.stoppedOn.add(e.host);
    });
    process.on('SIGINT', s.onSignal);
    process.on('SIGTERM', s.onSignal);
    return s;
  }

  get journalFile(): string {
    return this.journal.file;
  }

  private journalFailed(err: JournalError): void {
    process.stderr.write(`\ntsplay: error ${err.code}: ${err.message}\n  no new task will be started; commands already running on hosts finish; the journal holds the run up to here\n`);
    this.halt.abort(err);
  }

  /** Carries the tasks a resumed run does not run again into its journal. */
  restored(lines: Omit<RestoredLine, 'seq' | 'type'>[]): void {
    for (const l of lines) this.journal.restored({ type: 'journal.restored', ...l });
  }

  async runPlan(plan: Plan, resume: ResumeHooks = {}): Promise<RunSummary> {
    const o = this.init.options;
    const runner = new Runner(plan, this.init.prepared.inventory!, this.init.prepared.doctrine, {
      runId: this.runId,
      check: o.check,
      diff: o.diff,
      forks: o.forks,
      tags: o.tags,
      skipTags: o.skipTags,
      startAtTask: o.startAtTask,
      extraVars: this.init.extraVars,
      trustNewHostKeys: o.trustNewHostKeys,
      knownHostsFile: o.knownHosts,
      connectTimeoutMs: o.connectTimeout ? o.connectTimeout * 1000 : undefined,
      signal: this.abort.signal,
      halt: this.halt.signal,
      ...resume,
    }, this.bus);
    return runner.run();
  }

  /** The exit code a run summary maps to (interrupted by which signal, failed, unreachable). */
  exitCodeOf(s: RunSummary): number {
    if (this.journal.error) return EXIT.JOURNAL;
    if (s.outcome === 'interrupted') return this.signalName === 'SIGTERM' ? EXIT.SIGTERM : EXIT.SIGINT;
    const hosts = Object.values(s.recap);
    if (hosts.some((h) => h.failed > 0)) return EXIT.HOST_FAILED;
    if (hosts.some((h) => h.unreachable > 0)) return EXIT.HOST_UNREACHABLE;
    return EXIT.OK;
  }

  /** Writes the journal's last line and the metrics; returns the exit code to use. */
  async finish(outcome: RunOutcome, exitCode: number, message?: string): Promise<number> {
    try {
      await this.reporter.finish();
      if (this.signalName) {
        const hosts = [...this.stoppedOn].sort();
        process.stderr.write(hosts.length > 0
          ? `tsplay: ${this.signalName} — stopped the commands running on ${hosts.join(', ')} (killed with their process groups)\n`
          : `tsplay: ${this.signalName} — stopped before any command was running\n`);
      }
      this.journal.end({ type: 'journal.end', time: new Date().toISOString(), runId: this.runId, outcome, durationMs: Date.now() - this.t0, exitCode, message });
      this.journal.close();
      let code = this.journal.error ? EXIT.JOURNAL : exitCode;
      if (this.init.metricsFile) {
        const lines = this.journal.lines;
        const last = lines[lines.length - 1];
        const model = buildModel({ file: this.journal.file, meta: lines[0] as JournalMeta, lines, end: last?.type === 'journal.end' ? last : undefined, tornTail: false, badLines: [] });
        try {
          writeMetricsFile(this.init.metricsFile, renderMetrics(model));
        } catch (err) {
          process.stderr.write(`tsplay: error journal/metrics-unwritable: --metrics-file ${this.init.metricsFile}: ${(err as Error).message}\n`);
          if (code === EXIT.OK) code = EXIT.JOURNAL;
        }
      }
      if (outcome !== 'ok') {
        const runsFlag = runsDirFlag(this.init.runsDir);
        process.stderr.write(`tsplay: run ${this.runId} ${outcome}; \`tsplay autopsy ${this.runId}${runsFlag}\` explains it, \`tsplay resume ${this.runId}${runsFlag}\` continues it\n`);
      }
      return code;
    } finally {
      process.off('SIGINT', this.onSignal);
      process.off('SIGTERM', this.onSignal);
    }
  }
}
