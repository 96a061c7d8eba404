/**
 * A journal read back into the shape the commands need: every task run per host (with its place in
 * the playbook), the decisions, the stages, the hosts that failed or were unreachable, the first
 * failure and what was still in flight when the journal stops.
 */
import os from 'node:os';
import type { HostStatus, TaskState } from '../events.js';
import type { PlannedTaskInfo, RunOutcome } from './format.js';
import { stillRunning, type Journal } from './read.js';

export interface TaskRun {
  /** The line that started it (host.start, or journal.restored). */
  seq: number;
  /** The line that recorded its result. */
  resultSeq?: number;
  playbook: string;
  stage?: string;
  play: string;
  playIndex: number;
  taskId: string;
  task: string;
  module?: string;
  handler: boolean;
  host: string;
  /** Undefined while in flight (no result recorded). */
  status?: HostStatus;
  start?: string;
  end?: string;
  durationMs?: number;
  changed?: boolean;
  rc?: number;
  command?: string;
  stdout?: string;
  stderr?: string;
  msg?: string;
  code?: string;
  attempts?: number;
  state?: TaskState;
  /** Carried over from the resumed run, not run in this one. */
  restoredFrom?: string;
  info?: PlannedTaskInfo;
}

export interface DecisionRecord {
  seq: number;
  time: string;
  playbook?: string;
  stage?: string;
  task?: string;
  taskId?: string;
  host?: string;
  message: string;
  data?: Record<string, unknown>;
}

export interface StageRecord {
  name: string;
  index: number;
  total: number;
  playbook: string;
  start?: string;
  end?: string;
  outcome?: 'ok' | 'failed' | 'interrupted';
  durationMs?: number;
  message?: string;
}

export type ModelOutcome = RunOutcome | 'incomplete' | 'running';

export interface RunModel {
  journal: Journal;
  runId: string;
  outcome: ModelOutcome;
  exitCode?: number;
  message?: string;
  start: string;
  /** The end line's time, or the last event's when the journal stops short. */
  end: string;
  durationMs: number;
  tasks: TaskRun[];
  decisions: DecisionRecord[];
  stages: StageRecord[];
  hosts: string[];
  failedHosts: string[];
  unreachableHosts: string[];
  firstFailure?: TaskRun;
  inFlight: TaskRun[];
}

export function taskKey(playbook: string, taskId: string, host: string): string {
  return `${playbook}\u0000${taskId}\u0000${host}`;
}

export function buildModel(j: Journal, hostname = os.hostname()): RunModel {
  const meta = j.meta;
  const tasks: TaskRun[] = [];
  const open = new Map<string, TaskRun>();
  const decisions: DecisionRecord[] = [];
  const stages: StageRecord[] = [];
  const hosts = new Set<string>();
  const infoByPlaybook = new Map(meta.plan.map((pb) => [pb.path, pb]));
  let playbook = meta.plan[0]?.path ?? '';
  let stage: string | undefined;
  let play = '';
  let playIndex = 0;
  let lastTime = meta.start;
  const modules = new Map<string, { module: string; handler: boolean }>();
  const info = (pbPath: string, taskId: string) => {
    const pb = infoByPlaybook.get(pbPath);
    for (const p of pb?.plays ?? []) for (const t of p.tasks) if (t.id === taskId) return t;
    return undefined;
  };
  const entry = (taskId: string, task: string, host: string, seq: number): TaskRun => {
    const k = taskKey(playbook, taskId, host);
    let r = open.get(k);
    if (!r) {
      const m = modules.get(`${playbook}\u0000${taskId}`);
      r = { seq, playbook, stage, play, playIndex, taskId, task, host, module: m?.module, handler: m?.handler ?? false, info: info(playbook, taskId) };
      r.module ??= r.info?.module;
      open.set(k, r);
      tasks.push(r);
    }
    return r;
  };

  for (const l of j.lines) {
    if ('time' in l && typeof l.time === 'string') lastTime = l.time;
    switch (l.type) {
      case 'stage.start':
        stage = l.stage;
        playbook = l.playbook;
        stages.push({ name: l.stage, index: l.index, total: l.total, playbook: l.playbook, start: l.time });
        break;
      case 'stage.end': {
        const s = stages.find((x) => x.name === l.stage && x.end === undefined);
        if (s) Object.assign(s, { end: l.time, outcome: l.outcome, durationMs: l.durationMs, message: l.message });
        break;
      }
      case 'play.start':
        if (l.playbook) playbook = l.playbook;
        play = l.play;
        playIndex = l.playIndex;
        l.hosts.forEach((h) => hosts.add(h));
        break;
      case 'task.start':
        if (l.taskId) modules.set(`${playbook}\u0000${l.taskId}`, { module: l.module, handler: l.handler === true });
        break;
      case 'host.start': {
        const r = entry(l.taskId ?? `#${l.taskIndex}`, l.task, l.host, l.seq);
        r.start = l.time;
        hosts.add(l.host);
        break;
      }
      case 'host.result': {
        const r = entry(l.taskId ?? `#${l.taskIndex}`, l.task, l.host, l.seq);
        Object.assign(r, {
          resultSeq: l.seq,
          status: l.status,
          end: l.time,
          durationMs: l.durationMs,
          changed: l.changed,
          rc: l.rc,
          command: l.command,
          stdout: l.stdout,
          stderr: l.stderr,
          msg: l.msg,
          code: l.code,
          attempts: l.attempts,
          state: l.state,
        });
        r.start ??= new Date(Date.parse(l.time) - l.durationMs).toISOString();
        hosts.add(l.host);
        break;
      }
      case 'decision':
        decisions.push({ seq: l.seq, time: l.time, playbook, stage, task: l.task, taskId: l.taskId, host: l.host, message: l.message, data: l.data });
        break;
      case 'journal.restored': {
        const r: TaskRun = {
          seq: l.seq,
          playbook: l.playbook,
          stage: meta.plan.find((p) => p.path === l.playbook)?.stage,
          play: '',
          playIndex: 0,
          taskId: l.taskId,
          task: l.task,
          host: l.host,
          handler: false,
          status: l.status,
          changed: l.changed,
          durationMs: l.durationMs,
          state: l.state,
          restoredFrom: l.fromRun,
          info: info(l.playbook, l.taskId),
        };
        r.module = r.info?.module;
        r.handler = r.info?.handler ?? false;
        for (const p of infoByPlaybook.get(l.playbook)?.plays ?? []) {
          if (p.tasks.some((t) => t.id === l.taskId)) {
            r.play = p.name;
            r.playIndex = p.index;
          }
        }
        tasks.push(r);
        hosts.add(l.host);
        break;
      }
      default:
        break;
    }
  }
  const failed = tasks.filter((t) => !t.restoredFrom && t.status === 'failed');
  const unreachable = tasks.filter((t) => !t.restoredFrom && t.status === 'unreachable');
  const firstFailure = tasks.filter((t) => !t.restoredFrom && (t.status === 'failed' || t.status === 'unreachable')).sort((a, b) => (a.resultSeq ?? a.seq) - (b.resultSeq ?? b.seq))[0];
  const end = j.end;
  const outcome: ModelOutcome = end ? end.outcome : stillRunning(meta, hostname) ? 'running' : 'incomplete';
  const endTime = end?.time ?? lastTime;
  return {
    journal: j,
    runId: meta.runId,
    outcome,
    exitCode: end?.exitCode,
    message: end?.message,
    start: meta.start,
    end: endTime,
    durationMs: end?.durationMs ?? Math.max(0, Date.parse(endTime) - Date.parse(meta.start)),
    tasks,
    decisions,
    stages,
    hosts: [...hosts],
    failedHosts: [...new Set(failed.map((t) => t.host))],
    unreachableHosts: [...new Set(unreachable.map((t) => t.host))],
    firstFailure,
    inFlight: tasks.filter((t) => !t.restoredFrom && t.status === undefined),
  };
}

export function describeOutcome(m: RunModel): string {
  switch (m.outcome) {
    case 'incomplete':
      return 'incomplete (the journal stops: the controller died)';
    case 'running':
      return 'still running';
    default:
      return m.outcome;
  }
}
