/**
 * The checks that need the inventory, run before any host is contacted:
 * host patterns, delegate_to targets, the parallelism doctrine (every -j value reachable from a
 * play, against the hardware class of every host that would run it), placement (no build on a
 * class that must never build) and undefined template variables. Pure: it returns a plan and
 * diagnostics; nothing is executed.
 */
import type { Diagnostic } from '../diagnostics.js';
import type { Doctrine } from '../doctrine-types.js';
import type { Inventory, InventoryHost } from '../inventory/model.js';
import { resolvePattern } from '../inventory/pattern.js';
import type { PlaybookSpec, PlaySpec, TaskSpec } from '../playbook/model.js';
import { findModule } from '../../modules/index.js';
import { scanJobs } from '../doctrine/scan.js';
import { judgeJobs, type JobsValue } from '../doctrine/rules.js';
import { MAGIC_VARS, magicVars } from '../vars/scope.js';
import { isUnresolved, partialRender, renderVarsBlock, UNRESOLVED } from './partial-render.js';
import { didYouMean } from '../util/suggest.js';
import { templateVariables, hasTemplate } from '../template/index.js';
import { compileExpression } from '../expr/index.js';
import type { ParallelismUse } from '../module-types.js';

export interface PlannedPlay {
  playbook: PlaybookSpec;
  play: PlaySpec;
  hosts: string[];
}

export interface Plan {
  plays: PlannedPlay[];
  /** task id → host → the experimental jobs value that needs a fresh-boot check at run time. */
  experimental: Map<string, Map<string, number>>;
}

export interface CheckOptions {
  limit?: string;
  extraVars: Record<string, unknown>;
  check: boolean;
}

const MAKE_VARS = ['MAKEFLAGS', 'MAKEOPTS'];

export function checkPlan(playbooks: PlaybookSpec[], inv: Inventory, doctrine: Doctrine, opts: CheckOptions): { plan: Plan; diagnostics: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const plan: Plan = { plays: [], experimental: new Map() };
  let limitHosts: Set<string> | undefined;
  if (opts.limit) {
    const r = resolvePattern(opts.limit, inv);
    for (const u of r.unknown) diags.push({ code: 'cli/unknown-limit', severity: 'error', message: `--limit names "${u}", which is no host or group in ${inv.path}`, hint: didYouMean(u, [...inv.hosts.keys(), ...inv.groups.keys()]) });
    for (const i of r.invalid) diags.push({ code: 'cli/bad-limit', severity: 'error', message: `--limit "${i.term}": ${i.why}` });
    limitHosts = new Set(r.hosts);
  }
  // Names known per host as plays go by (registered results and facts persist across plays of a run).
  const runtimeNames = new Map<string, Set<string>>();
  for (const pb of playbooks) {
    for (const play of pb.plays) {
      const r = resolvePattern(play.hosts, inv);
      const at = pb.source.locate(play.raw, 'hosts');
      for (const u of r.unknown) {
        diags.push(pb.source.diag('pattern/unknown', `play "${play.name}": hosts pattern names "${u}", which is no host or group in ${inv.path}`, at, didYouMean(u, [...inv.hosts.keys(), ...inv.groups.keys(), 'all']) ?? `groups: ${[...inv.groups.keys()].join(', ')}`));
      }
      for (const i of r.invalid) diags.push(pb.source.diag('pattern/invalid', `play "${play.name}": hosts pattern "${i.term}": ${i.why}`, at));
      const hosts = limitHosts ? r.hosts.filter((h) => limitHosts!.has(h)) : r.hosts;
      plan.plays.push({ playbook: pb, play, hosts });
      for (const h of hosts) if (!runtimeNames.has(h)) runtimeNames.set(h, new Set());
      checkPlay(pb, play, hosts, inv, doctrine, opts, runtimeNames, plan, diags);
    }
  }
  return { plan, diagnostics: diags };
}

function hostOf(inv: Inventory, name: string): InventoryHost | undefined {
  return inv.hosts.get(name) ?? (name === 'localhost' ? inv.localhost : undefined);
}

function checkPlay(pb: PlaybookSpec, play: PlaySpec, hosts: string[], inv: Inventory, doctrine: Doctrine, opts: CheckOptions, runtimeNames: Map<string, Set<string>>, plan: Plan, diags: Diagnostic[]): void {
  const src = pb.source;
  const reported = new Set<string>();
  const report = (d: Diagnostic) => {
    const sig = `${d.code}|${d.file}|${d.line}|${d.column}|${d.message}`;
    if (!reported.has(sig)) {
      reported.add(sig);
      diags.push(d);
    }
  };
  // Handlers run after the tasks: they see every name registered in the play.
  const allTasks = [...play.tasks, ...play.handlers];
  const playRegistered = new Set<string>();
  for (const t of allTasks) {
    if (t.register) playRegistered.add(t.register);
    for (const f of factNames(t)) playRegistered.add(f);
  }
  for (const task of allTasks) {
    const mod = findModule(task.module)!;
    for (const hostName of hosts) {
      const host = hostOf(inv, hostName)!;
      const known = runtimeNames.get(hostName)!;
      const magic = magicVars(host, inv, pb.dir, opts.check);
      const base: Record<string, unknown> = { ...host.vars };
      const playVars = renderVarsBlock(play.vars, { ...base, ...opts.extraVars, ...magic });
      const taskVars = renderVarsBlock(task.vars, { ...base, ...playVars, ...opts.extraVars, ...magic });
      const scope: Record<string, unknown> = { ...base, ...playVars, ...taskVars, ...opts.extraVars, ...magic };
      const runtime = new Set<string>([...known, ...(task.isHandler ? playRegistered : []), ...(task.loop !== undefined ? [task.loopVar] : [])]);

      // Undefined variables in templates and expressions.
      const definedHere = (root: string, selfRegister: boolean) =>
        root in scope || runtime.has(root) || root === 'quote' || (selfRegister && task.register === root) || (MAGIC_VARS as readonly string[]).includes(root);
      const guards = guardedNames(task.when);
      const checkStrings = (value: unknown, container: unknown, key: string | number) => {
        if (typeof value === 'string') {
          if (!hasTemplate(value)) return;
          let vars: ReturnType<typeof templateVariables>;
          try {
            vars = templateVariables(value);
          } catch {
            return; // syntax errors were reported by the loader
          }
          for (const v of vars) {
            if (v.inverted || guards.has(v.root) || definedHere(v.root, false)) continue;
            report(src.diag('template/undefined-variable', `task "${task.name}": \`${v.name}\` is not defined for host ${hostName}`, src.locateInValue(container, key, v.offset), hintFor(v.root, scope, runtime)));
          }
        } else if (Array.isArray(value)) value.forEach((v, i) => checkStrings(v, value, i));
        else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) checkStrings(v, value, k);
      };
      checkStrings(task.args, task.args, '');
      checkStrings(task.environment, task.environment, '');
      if (typeof task.delegateTo === 'string') checkStrings(task.delegateTo, task.raw, 'delegate_to');
      if (typeof task.loop === 'string') checkStrings(task.loop, task.raw, 'loop');
      const exprLists: [string, string[], boolean][] = [
        ['when', task.when, false],
        ['until', task.until, true],
        ['changed_when', task.changedWhen, true],
        ['failed_when', task.failedWhen, true],
      ];
      for (const [key, list, self] of exprLists) {
        list.forEach((e, i) => {
          let roots: string[];
          try {
            roots = compileExpression(e).roots;
          } catch {
            return;
          }
          const container = Array.isArray(task.raw[key]) ? task.raw[key] : task.raw;
          const ckey = Array.isArray(task.raw[key]) ? i : key;
          for (const r of roots) {
            if (definedHere(r, self)) continue;
            report(src.diag('template/undefined-variable', `task "${task.name}": ${key} uses \`${r}\`, which is not defined for host ${hostName}`, src.locateInValue(container, ckey, Math.max(0, e.indexOf(r))), hintFor(r, scope, runtime)));
          }
        });
      }

      // Where does it run?
      let acting = host;
      if (task.delegateTo !== undefined) {
        const d = partialRender(task.delegateTo, scope);
        if (isUnresolved(d)) {
          if (task.build || mod.parallelism) report(src.diag('placement/unresolved', `task "${task.name}": delegate_to depends on a run-time value, so where this build runs cannot be checked before the run`, src.locate(task.raw, 'delegate_to'), 'name the host (or a variable known from the inventory, play or -e)'));
        } else {
          const target = hostOf(inv, String(d));
          if (!target) {
            report(src.diag('task/unknown-delegate', `task "${task.name}": delegate_to "${d}" is no host in ${inv.path}`, src.locate(task.raw, 'delegate_to'), didYouMean(String(d), [...inv.hosts.keys(), 'localhost'])));
            continue;
          }
          acting = target;
        }
      }
      const cls = doctrine.classes[acting.hardwareClass];

      // Placement: never build where the class must not build.
      if (task.build && !cls.may_build) {
        report(
          src.diag(
            'placement/build-on-orchestrator',
            `task "${task.name}" is a build and would run on ${acting.name}${acting.name !== hostName ? ` (delegated from ${hostName})` : ''}, a ${acting.hardwareClass} host: ${cls.description}`,
            src.locate(task.raw, task.delegateTo !== undefined ? 'delegate_to' : task.moduleKey, 'key') ?? src.locate(play.raw, 'hosts'),
            `run builds on a host whose class may build (${Object.entries(doctrine.classes).filter(([, c]) => c.may_build).map(([n]) => n).join(', ')}), e.g. hosts: builders`,
          ),
        );
      }

      // The doctrine: every parallelism value this task can reach on this host.
      const uses: { value: JobsValue; at: ReturnType<typeof src.locate> }[] = [];
      const args = partialRender(task.args, scope) as Record<string, unknown>;
      for (const u of mod.parallelism?.(args) ?? []) {
        uses.push({ value: useToValue(u), at: locateUse(src, task, u) });
      }
      const env = { ...play.environment, ...task.environment };
      for (const [k, v] of Object.entries(env)) {
        if (!MAKE_VARS.includes(k)) continue;
        const rendered = String(partialRender(v, scope));
        const fromTask = k in task.environment;
        for (const tok of scanJobs(rendered)) {
          uses.push({ value: { jobs: tok.jobs, kind: tok.raw.includes(UNRESOLVED) ? 'dynamic' : tok.kind, raw: `${k}=${tok.raw}` }, at: fromTask ? src.locate(task.environment, k) : src.locate(play.environment, k) });
        }
      }
      for (const [k, container] of [
        ['task', task.vars],
        ['play', play.vars],
      ] as const) {
        for (const mk of MAKE_VARS) {
          if (!(mk in container)) continue;
          const rendered = String(partialRender(container[mk], scope));
          for (const tok of scanJobs(rendered)) uses.push({ value: { jobs: tok.jobs, kind: tok.kind, raw: `${mk}=${tok.raw} (${k} vars)` }, at: src.locate(container, mk) });
        }
      }
      for (const p of mod.staticCheck?.(args, { playbookDir: pb.dir }) ?? []) {
        const at = src.locate(task.args, p.arg) ?? src.locate(task.raw, task.moduleKey);
        report(p.file ? { code: p.code, severity: 'error', message: `task "${task.name}": ${p.message}`, file: p.file, line: p.line, column: p.column, sourceLine: p.sourceLine, hint: p.hint } : src.diag(p.code, `task "${task.name}": ${p.message}`, at, p.hint));
      }
      const declared = task.experimental ?? play.experimental;
      for (const { value, at } of uses) {
        if (value.raw.includes(UNRESOLVED)) {
          report(src.diag('doctrine/unresolved', `task "${task.name}": a parallelism value (${value.raw.replace(/\u0001/g, '{{…}}')}) depends on a run-time value on host ${hostName}; the doctrine must be checked before anything runs`, at, 'use a number, or a variable from the inventory, the play or -e'));
          continue;
        }
        const verdict = judgeJobs(value, cls, acting.hardwareClass, acting.name, declared !== undefined);
        if (!verdict.ok) {
          report(src.diag(verdict.code, `task "${task.name}": ${verdict.message}`, at, verdict.hint));
        } else if (verdict.level === 'experimental') {
          const m = plan.experimental.get(task.id) ?? new Map<string, number>();
          m.set(acting.name, verdict.jobs);
          plan.experimental.set(task.id, m);
        }
      }
      if (task.register) known.add(task.register);
      for (const f of factNames(task)) known.add(f);
    }
  }
}

function useToValue(u: ParallelismUse): JobsValue {
  if (u.raw.includes(UNRESOLVED)) return { jobs: null, kind: 'dynamic', raw: u.raw };
  const tok = scanJobs(u.raw)[0];
  if (tok) return { jobs: tok.jobs, kind: tok.kind, raw: u.raw };
  if (u.jobs === null) return { jobs: null, kind: 'unbounded', raw: u.raw };
  return { jobs: u.jobs, kind: Number.isInteger(u.jobs) && u.jobs > 0 ? 'number' : 'malformed', raw: u.raw };
}

function locateUse(src: PlaybookSpec['source'], task: TaskSpec, u: ParallelismUse) {
  const rawValue = task.args[u.arg];
  if (typeof rawValue === 'string' && !hasTemplate(rawValue) && u.offset !== undefined) return src.locateInValue(task.args, u.arg, u.offset);
  return src.locate(task.args, u.arg) ?? src.locate(task.raw, task.moduleKey);
}

function factNames(t: TaskSpec): string[] {
  const mod = findModule(t.module);
  const out = [...(mod?.providesFacts ?? [])];
  if (t.module === 'set-fact') out.push(...Object.keys(t.args).filter((k) => k !== 'cacheable'));
  return out;
}

/** Names tested with `is defined` / `default(...)` in a when: templates may use them under that guard. */
function guardedNames(when: string[]): Set<string> {
  const out = new Set<string>();
  for (const w of when) {
    for (const m of w.matchAll(/([A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z0-9_]+)*\s+is\s+defined/g)) out.add(m[1]);
  }
  return out;
}

function hintFor(root: string, scope: Record<string, unknown>, runtime: Set<string>): string {
  return didYouMean(root, [...Object.keys(scope), ...runtime]) ?? 'define it in the inventory, the play `vars:`, the task `vars:`, register it in an earlier task, or pass -e';
}
