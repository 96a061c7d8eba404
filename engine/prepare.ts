/**
 * Everything that happens before a host is contacted, in one pass: load and check every playbook,
 * the inventory and the doctrine, resolve host patterns and check the plan. `tsplay check` stops
 * here; `tsplay run` goes on only when there are no errors.
 */
import type { Diagnostic } from './diagnostics.js';
import type { Doctrine } from './doctrine-types.js';
import { loadDoctrine } from './doctrine/load.js';
import type { Inventory } from './inventory/model.js';
import { loadInventory } from './inventory/load.js';
import type { PlaybookSpec } from './playbook/model.js';
import { loadPlaybook } from './playbook/load.js';
import { checkPlan, type Plan } from './validate/check.js';

export interface PrepareOptions {
  playbooks: string[];
  inventory: string;
  limit?: string;
  extraVars: Record<string, unknown>;
  check: boolean;
  startAtTask?: string;
}

export interface Prepared {
  diagnostics: Diagnostic[];
  errors: number;
  playbooks: PlaybookSpec[];
  inventory?: Inventory;
  doctrine: Doctrine;
  plan?: Plan;
}

export function prepare(opts: PrepareOptions): Prepared {
  const doctrine = loadDoctrine();
  const diagnostics: Diagnostic[] = [];
  const playbooks: PlaybookSpec[] = [];
  for (const file of opts.playbooks) {
    const r = loadPlaybook(file);
    diagnostics.push(...r.diagnostics);
    if (r.playbook) playbooks.push(r.playbook);
  }
  const inv = loadInventory(opts.inventory, doctrine);
  diagnostics.push(...inv.diagnostics);
  let plan: Plan | undefined;
  // Playbook errors do not stop the plan checks: every problem is reported in one pass.
  if (inv.inventory) {
    const checked = checkPlan(playbooks, inv.inventory, doctrine, { limit: opts.limit, extraVars: opts.extraVars, check: opts.check });
    diagnostics.push(...checked.diagnostics);
    plan = checked.plan;
    if (opts.startAtTask !== undefined && !playbooks.some((pb) => pb.plays.some((p) => p.tasks.some((t) => t.name === opts.startAtTask)))) {
      diagnostics.push({ code: 'cli/unknown-start-task', severity: 'error', message: `--start-at-task "${opts.startAtTask}" names no task in ${opts.playbooks.join(', ')}` });
    }
  }
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  return { diagnostics, errors, playbooks, inventory: inv.inventory, doctrine, plan: errors ? undefined : plan };
}
