/** The first line of a journal: who ran what, from which files, and the plan (tasks with their place in the YAML). */
import os from 'node:os';
import path from 'node:path';
import type { Inventory } from '../inventory/model.js';
import type { PlaybookSpec } from '../playbook/model.js';
import type { Plan } from '../validate/check.js';
import { MASK, Redactor, secretValues } from '../run/redact.js';
import { fingerprint, gitInfoAsync, type GitInfo } from './fingerprint.js';
import { JOURNAL_FORMAT, type JournalMeta, type PlannedPlaybookInfo, type RecordedOptions, type RunKind } from './format.js';

export function planInfo(plan: Plan, stageOf?: (pb: PlaybookSpec) => string | undefined): PlannedPlaybookInfo[] {
  const out: PlannedPlaybookInfo[] = [];
  for (const pp of plan.plays) {
    let pb = out.find((p) => p.absPath === pp.playbook.absPath);
    if (!pb) {
      pb = { path: pp.playbook.path, absPath: pp.playbook.absPath, stage: stageOf?.(pp.playbook), plays: [] };
      out.push(pb);
    }
    const src = pp.playbook.source;
    pb.plays.push({
      index: pp.play.index,
      name: pp.play.name,
      hosts: pp.hosts,
      tasks: [...pp.play.tasks, ...pp.play.handlers].map((t) => {
        const at = src.locate(t.raw);
        return { id: t.id, name: t.name, module: t.module, handler: t.isHandler, runOnce: t.runOnce, register: t.register, noLog: t.noLog, line: at?.line, column: at?.column };
      }),
    });
  }
  return out;
}

/** Every secret value the run could print: secret inventory variables of every host, and secret extra vars. */
export function runRedactor(inv: Inventory, extraVars: Record<string, unknown>): Redactor {
  const values: unknown[] = [];
  const names = new Set<string>();
  for (const h of inv.hosts.values()) {
    values.push(...secretValues(h.vars, h.secretVars));
    h.secretVars.forEach((n) => names.add(n));
  }
  values.push(...secretValues(extraVars, [...names]));
  return new Redactor(values);
}

/** Names of extra vars that are secret (by name, or named in some host's secret_vars). */
export function secretExtraVarNames(inv: Inventory, extraVars: Record<string, unknown>): string[] {
  const names = new Set<string>();
  for (const h of inv.hosts.values()) h.secretVars.forEach((n) => names.add(n));
  return Object.keys(extraVars).filter((k) => secretValues({ [k]: extraVars[k] }, [...names]).length > 0);
}

export function maskExtraVars(extraVars: Record<string, unknown>, secret: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(extraVars)) out[k] = secret.includes(k) ? MASK : v;
  return out;
}

/** The command line as recorded: secret values masked even when shorter than the redactor's minimum. */
export function maskArgv(argv: string[], secretNames: string[], red: Redactor): string[] {
  return argv.map((a) => {
    let s = red.text(a);
    for (const n of secretNames) s = s.replace(new RegExp(`(^|[\\s{,"'])(${n})(["']?\\s*[=:]\\s*["']?)([^\\s,}"']*)`, 'g'), (_m, pre, name, sep) => `${pre}${name}${sep}${MASK}`);
    return s;
  });
}

export interface MetaInput {
  runId: string;
  kind: RunKind;
  version: string;
  argv: string[];
  options: RecordedOptions;
  plan: Plan;
  inventory: Inventory;
  extraVars: Record<string, unknown>;
  redactor: Redactor;
  stages?: JournalMeta['stages'];
  stageOf?: (pb: PlaybookSpec) => string | undefined;
  parent?: JournalMeta['parent'];
}

/** The directory whose git state a run records: where its playbooks are. */
export function playbooksDirOf(options: { playbooksDir?: string; playbooks: string[] }, plan?: Plan): string {
  return options.playbooksDir ?? (plan?.plays[0] ? plan.plays[0].playbook.dir : path.dirname(path.resolve(options.playbooks[0] ?? '.')));
}

export async function buildMeta(m: MetaInput): Promise<JournalMeta> {
  const secret = m.options.secretExtraVars;
  const git: GitInfo = await gitInfoAsync(playbooksDirOf(m.options, m.plan));
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  return {
    type: 'journal.meta',
    seq: 0,
    format: JOURNAL_FORMAT,
    runId: m.runId,
    kind: m.kind,
    tsplayVersion: m.version,
    argv: maskArgv(m.argv, secret, m.redactor),
    cwd: process.cwd(),
    user,
    hostname: os.hostname(),
    pid: process.pid,
    start: new Date().toISOString(),
    options: { ...m.options, extraVars: maskExtraVars(m.options.extraVars, secret) },
    stages: m.stages,
    git,
    files: fingerprint(m.plan, m.inventory, m.extraVars),
    plan: planInfo(m.plan, m.stageOf),
    parent: m.parent,
  };
}
