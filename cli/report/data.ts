/** The data a run report embeds: taken from the journal's model only (so already bounded and redacted). */
import { autopsy, type Autopsy } from '../../engine/journal/autopsy.js';
import type { RunModel } from '../../engine/journal/model.js';
import type { PlannedPlaybookInfo } from '../../engine/journal/format.js';

export interface ReportData {
  runId: string;
  kind: string;
  outcome: string;
  message?: string;
  start: string;
  end: string;
  durationMs: number;
  user: string;
  hostname: string;
  version: string;
  command: string;
  git?: string;
  parent?: string;
  hosts: string[];
  stages: { name: string; index: number; total: number; start?: string; end?: string; outcome?: string }[];
  plan: PlannedPlaybookInfo[];
  tasks: {
    playbook: string;
    stage?: string;
    play: string;
    taskId: string;
    task: string;
    module?: string;
    host: string;
    status: string;
    start?: string;
    end?: string;
    durationMs?: number;
    rc?: number;
    msg?: string;
    restored?: string;
  }[];
  decisions: { time: string; host?: string; task?: string; message: string }[];
  decisionsOmitted: number;
  autopsy: Autopsy;
}

const MAX_DECISIONS = 400;
const MSG_MAX = 400;

const clip = (s: string | undefined, n: number) => (s === undefined ? undefined : s.length > n ? s.slice(0, n) + '…' : s);

export function reportData(m: RunModel): ReportData {
  const meta = m.journal.meta;
  return {
    runId: m.runId,
    kind: meta.kind,
    outcome: m.outcome,
    message: m.message,
    start: m.start,
    end: m.end,
    durationMs: m.durationMs,
    user: meta.user,
    hostname: meta.hostname,
    version: meta.tsplayVersion,
    command: `tsplay ${meta.argv.join(' ')}`,
    git: meta.git ? `${meta.git.commit.slice(0, 12)}${meta.git.dirty ? ' (dirty)' : ''}` : undefined,
    parent: meta.parent?.runId,
    hosts: m.hosts,
    stages: m.stages.map((s) => ({ name: s.name, index: s.index, total: s.total, start: s.start, end: s.end, outcome: s.outcome })),
    plan: meta.plan.map((pb) => ({ ...pb, absPath: '' })),
    tasks: m.tasks.map((t) => ({
      playbook: t.playbook,
      stage: t.stage,
      play: t.play,
      taskId: t.taskId,
      task: t.task,
      module: t.module,
      host: t.host,
      status: t.status ?? 'in flight',
      start: t.start,
      end: t.end,
      durationMs: t.durationMs,
      rc: t.rc,
      msg: clip(t.msg?.split('\n')[0], MSG_MAX),
      restored: t.restoredFrom,
    })),
    decisions: m.decisions.slice(-MAX_DECISIONS).map((d) => ({ time: d.time, host: d.host, task: d.task, message: clip(d.message, MSG_MAX)! })),
    decisionsOmitted: Math.max(0, m.decisions.length - MAX_DECISIONS),
    autopsy: autopsy(m),
  };
}
