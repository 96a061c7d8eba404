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
import { scanJobs, scanMakeflags } from '../doctrine/scan.js';
import { judgeJobs, type JobsValue } from '../doctrine/rules.js';
import { MAGIC_VARS, magicVars } from '../vars/scope.js';
import { isUnresolved, partialRender, renderVarsBlock, UNRESOLVED } from './partial-render.js';
import { didYouMean } from '../util/suggest.js';
import { templateVariables, hasTemplate } from '../template/index.js';
import { compileExpression } from '../expr/index.js';
import type { ParallelismUse } from '../module-types.js';
import { getMember, UNDEFINED } from '../expr/values.js';
import { HostMerger } from './host-merge.js';

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
    // As ansible-playbook does: a limit that leaves nothing to target is a mistake, not a quiet success.
    if (!r.hosts.length && !r.unknown.length && !r.invalid.length) diags.push({ code: 'cli/limit-no-hosts', severity: 'error', message: `--limit "${opts.limit}" matches no host in ${inv.path}`, hint: `hosts: ${[...inv.hosts.keys()].join(', ')}` });
  }
  // Names known per host as plays go by (registered results and facts persist across plays of a run).
  const runtimeNames = new Map<string, Set<string>>();
  for (const pb of playbooks) {
    for (const play of pb.plays) {
      if (play.hosts.trim() === '') continue; // an empty or ill-typed `hosts:` was reported by the schema
      const r = resolvePattern(play.hosts, inv);
      for (const u of r.unknown) {
        diags.push(pb.source.diag('pattern/unknown', `play "${play.name}": hosts pattern names "${u}", which is no host or group in ${inv.path}`, locatePatternTerm(pb.source, play, u), didYouMean(u, [...inv.hosts.keys(), ...inv.groups.keys(), 'all']) ?? `groups: ${[...inv.groups.keys()].join(', ')}`));
      }
      for (const i of r.invalid) diags.push(pb.source.diag('pattern/invalid', `play "${play.name}": hosts pattern "${i.term}": ${i.why}`, locatePatternTerm(pb.source, play, i.term)));
      const hosts = limitHosts ? r.hosts.filter((h) => limitHosts!.has(h)) : r.hosts;
      plan.plays.push({ playbook: pb, play, hosts });
      for (const h of hosts) if (!runtimeNames.has(h)) runtimeNames.set(h, new Set());
      checkPlay(pb, play, hosts, inv, doctrine, opts, runtimeNames, plan, diags);
    }
  }
  return { plan, diagnostics: diags };
}

/** The caret on the pattern term itself: inside `hosts: "workers:&x86"` or on its item in a list. */
function locatePatternTerm(src: PlaybookSpec['source'], play: PlaySpec, term: string) {
  const raw = play.raw.hosts;
  const offsetIn = (pattern: string): number | undefined => {
    let pos = 0;
    for (const part of pattern.split(/([:,])/)) {
      const name = part.trim().replace(/^[!&]/, '');
      if (part !== ':' && part !== ',' && name === term) return pos + part.indexOf(name);
      pos += part.length;
    }
    return undefined;
  };
  if (typeof raw === 'string') {
    const off = offsetIn(raw);
    if (off !== undefined) return src.locateInValue(play.raw, 'hosts', off);
  } else if (Array.isArray(raw)) {
    for (let i = 0; i < raw.length; i++) {
      const off = typeof raw[i] === 'string' ? offsetIn(raw[i]) : undefined;
      if (off !== undefined) return src.locateInValue(raw, i, off);
    }
  }
  return src.locate(play.raw, 'hosts');
}

function safeTemplateVariables(s: string): ReturnType<typeof templateVariables> {
  try {
    return templateVariables(s);
  } catch {
    return [];
  }
}

/** A parallelism value a task can reach, where it is written, and who writes it (for messages). */
type JobsUse = { value: JobsValue; at: ReturnType<PlaybookSpec['source']['locate']>; who: string };

/** Whether a string anywhere in `value` holds a template. */
function holdsTemplate(value: unknown): boolean {
  if (typeof value === 'string') return hasTemplate(value);
  if (Array.isArray(value)) return value.some(holdsTemplate);
  if (value && typeof value === 'object') return Object.values(value).some(holdsTemplate);
  return false;
}

function hostOf(inv: Inventory, name: string): InventoryHost | undefined {
  return inv.hosts.get(name) ?? (name === 'localhost' ? inv.localhost : undefined);
}

function checkPlay(pb: PlaybookSpec, play: PlaySpec, hosts: string[], inv: Inventory, doctrine: Doctrine, opts: CheckOptions, runtimeNames: Map<string, Set<string>>, plan: Plan, diags: Diagnostic[]): void {
  const src = pb.source;
  const merger = new HostMerger(diags);
  // Handlers run after the tasks: they see every name registered in the play.
  const allTasks = [...play.tasks, ...play.handlers];
  const playRegistered = new Set<string>();
  for (const t of allTasks) {
    if (t.register) playRegistered.add(t.register);
    for (const f of factNames(t)) playRegistered.add(f);
  }
  // A task that failed to load (its error is reported) still registers its result: uses of it later
  // are not a second mistake.
  const loadedRaw = new Set<unknown>(allTasks.map((t) => t.raw));
  const unloadedRegisters = [play.raw.tasks, play.raw.handlers]
    .flatMap((list) => (Array.isArray(list) ? list : []))
    .filter((t): t is Record<string, unknown> => !!t && typeof t === 'object' && !loadedRaw.has(t))
    .map((t) => t.register)
    .filter((r): r is string => typeof r === 'string');
  // What a host's scope holds whatever the task: made once per host, not once per host and task.
  const perHost = new Map(
    hosts.map((hostName) => {
      const host = hostOf(inv, hostName)!;
      const magic = magicVars(host, inv, pb.dir, opts.check);
      const base: Record<string, unknown> = { ...host.vars };
      const playVars = renderVarsBlock(play.vars, { ...base, ...opts.extraVars, ...magic });
      // The scope of a task without vars of its own (most tasks): read-only, shared by those tasks.
      const scope: Record<string, unknown> = { ...base, ...playVars, ...opts.extraVars, ...magic };
      return [hostName, { host, magic, base, playVars, scope }] as const;
    }),
  );
  for (const task of allTasks) {
    const mod = findModule(task.module)!;
    // Arguments without a template render alike for every host: their -j values are scanned once.
    const argsStatic = !holdsTemplate(task.args);
    let staticArgUses: JobsUse[] | undefined;
    for (const hostName of hosts) {
      const report = (d: Diagnostic) => merger.add(d, hostName);
      const { host, magic, base, playVars, scope: hostScope } = perHost.get(hostName)!;
      const known = runtimeNames.get(hostName)!;
      let scope = hostScope;
      if (Object.keys(task.vars).length > 0) {
        const taskVars = renderVarsBlock(task.vars, hostScope);
        scope = { ...base, ...playVars, ...taskVars, ...opts.extraVars, ...magic };
      }
      const runtime = new Set<string>([...known, ...unloadedRegisters, ...(task.isHandler ? playRegistered : []), ...(task.loop !== undefined ? [task.loopVar] : [])]);

      // Undefined variables in templates and expressions.
      const definedHere = (root: string, selfRegister: boolean) =>
        root in scope || runtime.has(root) || root === 'quote' || (selfRegister && task.register === root) || (MAGIC_VARS as readonly string[]).includes(root);
      const guards = guardedNames(task.when);
      // `lazy` strings (play and task vars, play environment) render when a task uses them, so any
      // name registered in the play may be meant.
      const checkStrings = (value: unknown, container: unknown, key: string | number, who: string, lazy = false) => {
        if (typeof value === 'string') {
          if (!hasTemplate(value)) return;
          let vars: ReturnType<typeof templateVariables>;
          try {
            vars = templateVariables(value);
          } catch {
            return; // syntax errors were reported by the loader
          }
          for (const v of vars) {
            if (v.inverted || guards.has(v.root) || (lazy && playRegistered.has(v.root))) continue;
            if (!definedHere(v.root, false)) {
              report(src.diag('template/undefined-variable', `${who}: \`${v.name}\` is not defined for host ${hostName}`, src.locateInValue(container, key, v.offset), hintFor(v.root, scope, runtime)));
              continue;
            }
            const why = runtime.has(v.root) ? undefined : missingMember(v.name, scope);
            if (why) report(src.diag('template/undefined-variable', `${who}: \`${v.name}\` is not defined for host ${hostName}: ${why}`, src.locateInValue(container, key, v.offset), 'check the spelling of each part of the dotted name'));
          }
        } else if (Array.isArray(value)) value.forEach((v, i) => checkStrings(v, value, i, who, lazy));
        else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) checkStrings(v, value, k, who, lazy);
      };
      const taskWho = `task "${task.name}"`;
      if (task === allTasks[0]) {
        checkStrings(play.vars, play.vars, '', `play "${play.name}"`, true);
        checkStrings(play.environment, play.environment, '', `play "${play.name}"`, true);
      }
      checkStrings(task.vars, task.vars, '', taskWho, true);
      checkStrings(task.args, task.args, '', taskWho);
      checkStrings(task.environment, task.environment, '', taskWho);
      if (typeof task.delegateTo === 'string') checkStrings(task.delegateTo, task.raw, 'delegate_to', taskWho);
      if (typeof task.loop === 'string') checkStrings(task.loop, task.raw, 'loop', taskWho);
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
          // Where it runs matters only for a build or a -j value; an undefined name was reported above.
          const usesJobs = (mod.parallelism?.(partialRender(task.args, scope) as Record<string, unknown>) ?? []).length > 0 || MAKE_VARS.some((k) => k in task.environment || k in play.environment || k in task.vars || k in play.vars);
          const undefinedName = safeTemplateVariables(task.delegateTo).some((v) => !definedHere(v.root, false));
          if ((task.build || usesJobs) && !undefinedName) report(src.diag('placement/unresolved', `task "${task.name}": delegate_to depends on a run-time value, so where this build runs cannot be checked before the run`, src.locate(task.raw, 'delegate_to'), 'name the host (or a variable known from the inventory, play or -e)'));
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
      // `who` names where the value is written: a play's environment or vars is reported once for the play.
      const taskLabel = `task "${task.name}"`;
      const playLabel = `play "${play.name}"`;
      const uses: JobsUse[] = [];
      const args = partialRender(task.args, scope) as Record<string, unknown>;
      let argUses = argsStatic ? staticArgUses : undefined;
      if (!argUses) {
        argUses = (mod.parallelism?.(args) ?? []).map((u) => {
          const at = u.offset !== undefined && u.arg in task.args ? locateToken(src, task.args, u.arg, args[u.arg], u.offset) : src.locate(task.args, u.arg) ?? src.locate(task.raw, task.moduleKey);
          return { value: useToValue(u), at, who: taskLabel };
        });
        if (argsStatic) staticArgUses = argUses;
      }
      uses.push(...argUses);
      const env = { ...play.environment, ...task.environment };
      for (const [k, v] of Object.entries(env)) {
        if (!MAKE_VARS.includes(k)) continue;
        const rendered = String(partialRender(v, scope));
        const fromTask = k in task.environment;
        const container = fromTask ? task.environment : play.environment;
        for (const tok of scanMakeflags(rendered)) {
          uses.push({ value: { jobs: tok.jobs, kind: tok.raw.includes(UNRESOLVED) ? 'dynamic' : tok.kind, raw: `${k}=${tok.raw}` }, at: locateToken(src, container, k, rendered, tok.offset, scanMakeflags), who: fromTask ? taskLabel : playLabel });
        }
      }
      for (const [k, container] of [
        ['task', task.vars],
        ['play', play.vars],
      ] as const) {
        for (const mk of MAKE_VARS) {
          if (!(mk in container)) continue;
          const rendered = String(partialRender(container[mk], scope));
          for (const tok of scanMakeflags(rendered)) {
            uses.push({ value: { jobs: tok.jobs, kind: tok.raw.includes(UNRESOLVED) ? 'dynamic' : tok.kind, raw: `${mk}=${tok.raw} (${k} vars)` }, at: locateToken(src, container, mk, rendered, tok.offset, scanMakeflags), who: k === 'task' ? taskLabel : playLabel });
          }
        }
      }
      for (const p of mod.staticCheck?.(args, { playbookDir: pb.dir, host: hostName, vars: scope, isDefined: (root) => guards.has(root) || definedHere(root, false) }) ?? []) {
        const at = src.locate(task.args, p.arg) ?? src.locate(task.raw, task.moduleKey);
        report(p.file ? { code: p.code, severity: 'error', message: `task "${task.name}": ${p.message}`, file: p.file, line: p.line, column: p.column, sourceLine: p.sourceLine, hint: p.hint } : src.diag(p.code, `task "${task.name}": ${p.message}`, at, p.hint));
      }
      // An ill-formed declaration (`experimental: yes`) is reported by the schema; the doctrine does not repeat it.
      const declared = task.experimental ?? play.experimental ?? ('experimental' in task.raw || 'experimental' in play.raw ? {} : undefined);
      for (const { value, at, who } of uses) {
        if (value.raw.includes(UNRESOLVED)) {
          report(src.diag('doctrine/unresolved', `${who}: a parallelism value (${value.raw.replace(/\u0001/g, '{{…}}')}) depends on a run-time value on host ${hostName}; the doctrine must be checked before anything runs`, at, 'use a number, or a variable from the inventory, the play or -e'));
          continue;
        }
        const verdict = judgeJobs(value, cls, acting.hardwareClass, acting.name, declared !== undefined);
        if (!verdict.ok) {
          report(src.diag(verdict.code, `${who}: ${verdict.message}`, at, verdict.hint));
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

/**
 * Where a -j token found in a rendered value is written. Inside the value when the text as written
 * has the same tokens (templates after the flag, as in `-j{{ jobs }}`), on the argv item that holds
 * it, else the value as a whole.
 */
function locateToken(src: PlaybookSpec['source'], container: Record<string, unknown>, key: string, rendered: unknown, offset: number, scan = scanJobs) {
  const raw = container[key];
  if (typeof raw === 'string') {
    if (!hasTemplate(raw)) return src.locateInValue(container, key, offset);
    const asWritten = scan(raw);
    const found = scan(String(rendered));
    const i = found.findIndex((t) => t.offset === offset);
    if (i >= 0 && asWritten.length === found.length) return src.locateInValue(container, key, asWritten[i].offset);
  } else if (Array.isArray(raw) && Array.isArray(rendered)) {
    let start = 0;
    for (let i = 0; i < rendered.length; i++) {
      const end = start + String(rendered[i]).length;
      if (offset <= end) return src.locate(raw, i);
      start = end + 1;
    }
  }
  return src.locate(container, key);
}

/**
 * For a dotted name whose root is known before the run (inventory, play, task or -e vars), why a
 * later part is missing; undefined when the whole path exists or depends on a run-time value.
 */
function missingMember(name: string, scope: Record<string, unknown>): string | undefined {
  const parts = name.split('.');
  let value: unknown = scope[parts[0]];
  for (let i = 1; i < parts.length; i++) {
    if (typeof value === 'string' && value.includes(UNRESOLVED)) return undefined;
    const next = getMember(value, parts[i]);
    if (next === UNDEFINED) return `'${parts.slice(0, i).join('.')}' ${value === null ? 'is null' : `has no '${parts[i]}'`}`;
    value = next;
  }
  return undefined;
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
