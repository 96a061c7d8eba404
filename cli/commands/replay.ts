/**
 * tsplay replay RUN: the recorded events again, through the same reporters, with the original
 * timing scaled by --speed. Reads the journal only; no host is contacted.
 */
import type { Command } from 'commander';
import type { EngineEvent } from '../../engine/events.js';
import { isEventLine, type JournalLine } from '../../engine/journal/format.js';
import { defaultRunsDir } from '../../engine/journal/read.js';
import { UsageError } from '../exit-codes.js';
import { addRunsDirOption, journalWarnings, openJournal } from '../journal-options.js';
import { chooseReporter } from '../reporters/choose.js';

function parseSpeed(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError('cli/bad-speed', `--speed takes a number ≥ 0 (1 = as recorded, 10 = ten times faster, 0 = no waiting), not "${v}"`);
  return n;
}

/** The engine event a journal line stands for (restored tasks become decisions), or undefined. */
export function replayEvent(l: JournalLine): EngineEvent | undefined {
  if (isEventLine(l)) {
    const { seq: _seq, ...event } = l;
    return event as EngineEvent;
  }
  if (l.type === 'journal.restored') {
    return { type: 'decision', time: l.time, task: l.task, taskId: l.taskId, host: l.host, message: `already done in run ${l.fromRun} (${l.status}): not run again` };
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function registerReplay(program: Command): void {
  const cmd = program
    .command('replay')
    .description('print a recorded run again through the same reporters, with its original timing (contacts no host)')
    .argument('<run>', 'run id, a unique start of one, or `last`')
    .option('--speed <x>', 'timing factor: 1 as recorded, 10 ten times faster, 0 without waiting', parseSpeed, 1)
    .option('--json', 'print the recorded events as JSON lines', false)
    .option('-v, --verbose', 'more output (-vv for command output)', (_: string, prev: number) => prev + 1, 0);
  addRunsDirOption(cmd);
  cmd.action(async (ref: string, o: { speed: number; json: boolean; verbose: number; runsDir?: string }) => {
    const j = openJournal(defaultRunsDir(o.runsDir), ref);
    for (const w of journalWarnings(j)) process.stderr.write(`tsplay: warning: ${w}\n`);
    const m = j.meta;
    if (!o.json) process.stderr.write(`tsplay: replaying ${m.kind} ${m.runId} recorded ${m.start} by ${m.user}@${m.hostname}${o.speed === 1 ? '' : o.speed === 0 ? ', without waiting' : `, ${o.speed}× speed`} — no host is contacted\n`);
    const reporter = await chooseReporter({ json: o.json, verbose: o.verbose });
    let prev: number | undefined;
    let sawRunEnd = false;
    for (const line of j.lines) {
      const e = replayEvent(line);
      if (!e) continue;
      const t = Date.parse(e.time);
      if (o.speed > 0 && prev !== undefined && t > prev) await sleep((t - prev) / o.speed);
      if (Number.isFinite(t)) prev = t;
      if (e.type === 'run.end') sawRunEnd = true;
      reporter.onEvent(e);
    }
    await reporter.finish();
    if (!j.end) {
      const last = j.lines[j.lines.length - 1] as { time?: string };
      process.stderr.write(`tsplay: the journal stops at ${last.time ?? m.start}${sawRunEnd ? '' : ' before the run ended'}: the controller died (killed or crashed); \`tsplay autopsy ${m.runId}\` shows what was in flight\n`);
    }
  });
}
