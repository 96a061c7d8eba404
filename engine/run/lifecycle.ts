/**
 * The kernel-build lifecycle: five playbooks run in order, each a stage. Every stage is validated
 * before the first runs (one plan for all five); a stage runs only when the one before it
 * succeeded, and registered results and facts carry from stage to stage as they do between the
 * plays of one run. The first failing stage stops the lifecycle, named in its stage.end event.
 */
import { EventBus, now, type EngineEvent } from '../events.js';
import type { Plan } from '../validate/check.js';
import type { RunSummary } from './runner.js';

export const LIFECYCLE_STAGES = ['power-on', 'post-power-on-validate', 'pump-preflight', 'pump-start', 'kernel-build'] as const;
export type StageName = (typeof LIFECYCLE_STAGES)[number];

export interface StagePlan {
  name: string;
  /** 1-based position among all stages. */
  index: number;
  total: number;
  /** The playbook as given to prepare (its plays' `playbook.path`). */
  playbook: string;
  plan: Plan;
}

export interface StageResult {
  stage: StagePlan;
  summary: RunSummary;
  message?: string;
}

export interface LifecycleSummary {
  outcome: 'ok' | 'failed' | 'interrupted';
  results: StageResult[];
  /** The stage the lifecycle stopped at (failed or interrupted). */
  stoppedAt?: StageResult;
  facts: Record<string, Record<string, unknown>>;
}

/** The plays of one plan, split by the stage playbook they come from. */
export function splitStages(plan: Plan, stages: { name: string; playbook: string }[]): StagePlan[] {
  return stages.map((s, i) => ({
    name: s.name,
    index: i + 1,
    total: stages.length,
    playbook: s.playbook,
    plan: { plays: plan.plays.filter((pp) => pp.playbook.path === s.playbook), experimental: plan.experimental },
  }));
}

/** "builder failed task 'X'" — the first host that failed or was unreachable in a stream of events. */
export function firstFailureWatcher(bus: EventBus): { stop(): void; describe(): string | undefined } {
  const failures: Extract<EngineEvent, { type: 'host.result' }>[] = [];
  const off = bus.on((e) => {
    if (e.type === 'host.result' && (e.status === 'failed' || e.status === 'unreachable')) failures.push(e);
  });
  return {
    stop: off,
    describe() {
      const f = failures[0];
      if (!f) return undefined;
      const hosts = new Set(failures.map((x) => x.host));
      const more = hosts.size > 1 ? ` (${hosts.size - 1} more host${hosts.size > 2 ? 's' : ''} failed or unreachable)` : '';
      return f.status === 'unreachable' ? `${f.host} was unreachable at task '${f.task}'${more}` : `${f.host} failed task '${f.task}'${more}`;
    },
  };
}

export async function runStages(
  stages: StagePlan[],
  bus: EventBus,
  runStage: (stage: StagePlan, facts: Record<string, Record<string, unknown>>) => Promise<RunSummary>,
  initialFacts: Record<string, Record<string, unknown>> = {},
): Promise<LifecycleSummary> {
  const results: StageResult[] = [];
  let facts = initialFacts;
  for (const stage of stages) {
    const t0 = Date.now();
    bus.emit({ type: 'stage.start', time: now(), stage: stage.name, index: stage.index, total: stage.total, playbook: stage.playbook });
    const watch = firstFailureWatcher(bus);
    let summary: RunSummary;
    try {
      summary = await runStage(stage, facts);
    } finally {
      watch.stop();
    }
    facts = mergeFacts(facts, summary.facts);
    const where = `stage ${stage.index}/${stage.total} ${stage.name}`;
    const message =
      summary.outcome === 'ok' ? undefined : summary.outcome === 'interrupted' ? `lifecycle interrupted at ${where}` : `lifecycle stopped at ${where}: ${watch.describe() ?? 'a host failed'}`;
    bus.emit({ type: 'stage.end', time: now(), stage: stage.name, index: stage.index, total: stage.total, outcome: summary.outcome, durationMs: Date.now() - t0, message });
    const result = { stage, summary, message };
    results.push(result);
    if (summary.outcome !== 'ok') return { outcome: summary.outcome, results, stoppedAt: result, facts };
  }
  return { outcome: 'ok', results, facts };
}

function mergeFacts(a: Record<string, Record<string, unknown>>, b: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [h, f] of Object.entries(a)) out[h] = { ...f };
  for (const [h, f] of Object.entries(b)) out[h] = { ...(out[h] ?? {}), ...f };
  return out;
}
