/**
 * Resuming a run from its journal: which tasks are done on which hosts (never run again), the
 * registered results and facts they left (restored), which hosts go on, and for a lifecycle the
 * stage to start from. Pure: it reads a model, it runs nothing.
 */
import type { PlaySpec, TaskSpec } from '../playbook/model.js';
import type { RunModel, TaskRun } from './model.js';
import { withDerivedLines } from './writer.js';

export interface ResumePlan {
  /** Tasks done per host (and run_once tasks done for the play); playbooks as the run named them (resume runs in its cwd). */
  done: TaskRun[];
  facts: Record<string, Record<string, unknown>>;
  /** Hosts that go on in the first resumed playbook/stage; undefined = every host of the plan. */
  onlyHosts?: Set<string>;
  /** lifecycle: the first stage to run (the stages before it succeeded). */
  fromStage?: string;
  /** Done tasks whose registered result was withheld from the journal (no_log): restored without data. */
  withheld: TaskRun[];
  /** Why these hosts were chosen, for the run's decisions. */
  reason: string;
}

const DONE = new Set(['ok', 'changed', 'skipped', 'ignored']);

export function isDone(t: TaskRun): boolean {
  return t.status !== undefined && DONE.has(t.status);
}

/** Undefined when there is nothing to resume (the reason is returned instead). */
export function planResume(m: RunModel): ResumePlan | { nothing: string } {
  if (m.outcome === 'ok') return { nothing: `run ${m.runId} finished ok: there is nothing to resume` };
  if (m.outcome === 'running') return { nothing: `run ${m.runId} is still running (pid ${m.journal.meta.pid} on ${m.journal.meta.hostname})` };
  const meta = m.journal.meta;
  const done = m.tasks.filter(isDone);

  let fromStage: string | undefined;
  if (meta.kind === 'lifecycle') {
    // A resumed lifecycle selects only the stages it runs, so a resume of a resume starts right.
    const selected = (meta.stages ?? []).filter((s) => s.selected);
    const ok = new Set(m.stages.filter((s) => s.outcome === 'ok').map((s) => s.name));
    fromStage = selected.find((s) => !ok.has(s.name))?.name;
    if (!fromStage) return { nothing: `run ${m.runId}: every stage it was asked to run succeeded` };
  }

  // Hosts: after an ordinary failure the other hosts finished; otherwise (interrupted, killed,
  // any_errors_fatal) every host may have work left, and the done tasks are skipped.
  const fatal = m.decisions.some((d) => d.message.startsWith('any_errors_fatal'));
  let onlyHosts: Set<string> | undefined;
  let reason: string;
  if (m.outcome === 'failed' && !fatal) {
    const inStage = (t: TaskRun) => meta.kind !== 'lifecycle' || t.stage === fromStage;
    const hosts = m.tasks.filter((t) => !t.restoredFrom && inStage(t) && (t.status === 'failed' || t.status === 'unreachable')).map((t) => t.host);
    onlyHosts = new Set(hosts);
    reason = `resuming ${[...onlyHosts].join(', ') || 'no host'}: ${onlyHosts.size === 1 ? 'the host that failed or was unreachable' : 'the hosts that failed or were unreachable'} in run ${m.runId}`;
  } else {
    reason =
      m.outcome === 'failed'
        ? `resuming every host: run ${m.runId} stopped every host (any_errors_fatal); tasks already done are not run again`
        : `resuming every host: run ${m.runId} was ${m.outcome === 'interrupted' ? 'interrupted' : 'cut short (its journal stops)'}; tasks already done are not run again`;
  }

  // Facts, in the order the tasks finished; run_once results stand for every host of their play.
  const facts: Record<string, Record<string, unknown>> = {};
  const withheld: TaskRun[] = [];
  const playHosts = (t: TaskRun): string[] => {
    const pb = meta.plan.find((p) => p.path === t.playbook);
    return pb?.plays.find((p) => p.tasks.some((x) => x.id === t.taskId))?.hosts ?? [t.host];
  };
  for (const t of done) {
    const st = t.state;
    if (!st) continue;
    if (st.withheld) withheld.push(t);
    const targets = t.info?.runOnce ? playHosts(t) : [t.host];
    for (const h of targets) {
      const f = (facts[h] ??= {});
      if (st.register) {
        f[st.register] = st.withheld
          ? { changed: t.changed ?? false, failed: false, skipped: t.status === 'skipped', msg: 'the output has been hidden due to no_log: true (not kept in the journal)' }
          : withDerivedLines(st.registered);
      }
      if (st.facts) Object.assign(f, st.facts);
    }
  }
  return { done, facts, onlyHosts, fromStage, withheld, reason };
}

/** The runner's skipDone hook for a resume plan: a task is done when its id and name match a done record. */
export function skipDoneFor(plan: ResumePlan): (play: PlaySpec, task: TaskSpec, host: string, playbook: string) => { changed: boolean } | undefined {
  const perHost = new Map<string, TaskRun>();
  const once = new Map<string, TaskRun>();
  for (const t of plan.done) {
    perHost.set(`${t.playbook}\0${t.taskId}\0${t.host}`, t);
    if (t.info?.runOnce) once.set(`${t.playbook}\0${t.taskId}`, t);
  }
  return (_play, task, host, playbook) => {
    const t = perHost.get(`${playbook}\0${task.id}\0${host}`) ?? (task.runOnce ? once.get(`${playbook}\0${task.id}`) : undefined);
    // Matching the name as well: after `resume --force` on an edited playbook, ids may point elsewhere.
    if (!t || t.task !== task.name) return undefined;
    return { changed: t.changed === true };
  };
}
