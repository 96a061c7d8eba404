/**
 * A failed run explained from its journal (fester's "failure autopsy"): the first failure with its
 * place in the playbook, the chain of decisions and results on that host that led there, the
 * unreachable hosts, what was still in flight when the journal stops, and how to resume.
 */
import type { RunModel, TaskRun } from './model.js';

export interface ChainEntry {
  seq: number;
  time?: string;
  kind: 'result' | 'decision' | 'restored';
  task?: string;
  status?: string;
  message?: string;
  durationMs?: number;
}

export interface FailureReport {
  host: string;
  status: 'failed' | 'unreachable';
  task: string;
  taskId: string;
  play: string;
  stage?: string;
  playbook: string;
  file: string;
  line?: number;
  column?: number;
  module?: string;
  command?: string;
  rc?: number;
  msg?: string;
  code?: string;
  attempts?: number;
  stderrTail: string[];
  stdoutTail: string[];
}

export interface Autopsy {
  runId: string;
  kind: string;
  outcome: string;
  message?: string;
  firstFailure?: FailureReport;
  /** What happened on the failing host up to the failure, oldest first. */
  chain: ChainEntry[];
  chainOmitted: number;
  otherFailures: { host: string; task: string; status: string; msg?: string }[];
  unreachable: { host: string; task: string; msg?: string }[];
  inFlight: { host: string; task: string; since?: string }[];
  stages: { index: number; name: string; outcome: string; durationMs?: number }[];
}

const CHAIN_MAX = 40;
const TAIL_LINES = 20;

function tailLines(s: string | undefined, n: number): string[] {
  if (!s) return [];
  return s.replace(/\n$/, '').split('\n').slice(-n);
}

function failureReport(m: RunModel, t: TaskRun): FailureReport {
  const pb = m.journal.meta.plan.find((p) => p.path === t.playbook);
  return {
    host: t.host,
    status: t.status as 'failed' | 'unreachable',
    task: t.task,
    taskId: t.taskId,
    play: t.play,
    stage: t.stage,
    playbook: t.playbook,
    file: pb?.path ?? t.playbook,
    line: t.info?.line,
    column: t.info?.column,
    module: t.module,
    command: t.command,
    rc: t.rc,
    msg: t.msg,
    code: t.code,
    attempts: t.attempts,
    stderrTail: tailLines(t.stderr, TAIL_LINES),
    stdoutTail: tailLines(t.stdout, 5),
  };
}

export function autopsy(m: RunModel): Autopsy {
  const first = m.firstFailure;
  const chain: ChainEntry[] = [];
  if (first) {
    const host = first.host;
    const limitSeq = first.resultSeq ?? first.seq;
    for (const t of m.tasks) {
      if (t.host !== host) continue;
      if (t.restoredFrom) chain.push({ seq: t.seq, kind: 'restored', task: t.task, status: t.status, message: `done in run ${t.restoredFrom}` });
      else if (t.status !== undefined && t.resultSeq !== undefined && t.resultSeq <= limitSeq) {
        chain.push({ seq: t.resultSeq, time: t.end, kind: 'result', task: t.task, status: t.status, durationMs: t.durationMs, message: t.status === 'skipped' ? undefined : t.msg?.split('\n')[0] });
      }
    }
    for (const d of m.decisions) {
      if (d.seq > limitSeq) continue;
      if (d.host !== undefined && d.host !== host) continue;
      chain.push({ seq: d.seq, time: d.time, kind: 'decision', task: d.task, message: d.message });
    }
    chain.sort((a, b) => a.seq - b.seq);
  }
  const omitted = Math.max(0, chain.length - CHAIN_MAX);
  const live = m.tasks.filter((t) => !t.restoredFrom);
  return {
    runId: m.runId,
    kind: m.journal.meta.kind,
    outcome: m.outcome,
    message: m.message,
    firstFailure: first && failureReport(m, first),
    chain: chain.slice(omitted),
    chainOmitted: omitted,
    otherFailures: live.filter((t) => t !== first && t.status === 'failed').map((t) => ({ host: t.host, task: t.task, status: 'failed', msg: t.msg?.split('\n')[0] })),
    unreachable: live.filter((t) => t.status === 'unreachable').map((t) => ({ host: t.host, task: t.task, msg: t.msg?.split('\n')[0] })),
    inFlight: m.inFlight.map((t) => ({ host: t.host, task: t.task, since: t.start })),
    stages: (m.journal.meta.stages ?? []).map((s) => {
      const r = m.stages.find((x) => x.name === s.name);
      return { index: s.index, name: s.name, outcome: r?.outcome ?? (r ? 'in flight' : s.selected ? 'not run' : 'not selected'), durationMs: r?.durationMs };
    }),
  };
}
