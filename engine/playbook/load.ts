/**
 * Loads a playbook: YAML with positions → playbook schema → task shape (one module, known keys) →
 * each module's argument schema → expression and template syntax. Every problem is collected in
 * one pass; nothing here touches a host.
 */
import path from 'node:path';
import type { Diagnostic } from '../diagnostics.js';
import { loadYamlFile, type SourceFile } from '../yaml/source.js';
import { compile, schemaDiagnostics } from '../validate/schema.js';
import { didYouMean } from '../util/suggest.js';
import { TASK_KEYWORDS, UNSUPPORTED_HINTS, canonicalModuleName } from './keywords.js';
import type { ExperimentalDecl, PlaySpec, PlaybookSpec, TaskSpec } from './model.js';
import { findModule, moduleNames } from '../../modules/index.js';
import { compileExpression } from '../expr/index.js';
import { templateVariables } from '../template/index.js';
import playbookSchema from '../../schemas/playbook.schema.json' with { type: 'json' };

const taskKeywordSet = new Set<string>(TASK_KEYWORDS);

export interface LoadResult {
  playbook?: PlaybookSpec;
  diagnostics: Diagnostic[];
}

export function loadPlaybook(file: string): LoadResult {
  const absPath = path.resolve(file);
  const { value, source, diagnostics } = loadYamlFile(absPath, file);
  if (diagnostics.length) return { diagnostics };
  if (value === null || value === undefined) {
    return { diagnostics: [source.diag('playbook/empty', `${file} is empty: a playbook is a list of plays`, { line: 1, column: 1 })] };
  }
  const diags: Diagnostic[] = [];
  const tooMany = countLimits(value, source);
  if (tooMany.length) return { diagnostics: tooMany };
  const shapeDiags = schemaDiagnostics(compile(playbookSchema), value, source, undefined, { codePrefix: 'playbook', describePath: (ptr) => describePlaybookPath(value, ptr) });
  // Top-level shape errors make the rest meaningless.
  if (shapeDiags.some((d) => !Array.isArray(value) || d.message.includes('must be an array'))) return { diagnostics: shapeDiags };
  diags.push(...shapeDiags.map(tidyPlaybookDiag));
  const plays: PlaySpec[] = [];
  (value as unknown[]).forEach((rawPlay, pi) => {
    if (!rawPlay || typeof rawPlay !== 'object' || Array.isArray(rawPlay)) return;
    const p = rawPlay as Record<string, unknown>;
    const playName = typeof p.name === 'string' ? p.name : `play ${pi + 1}`;
    const tasks = loadTasks(p.tasks, source, pi, false, diags);
    const handlers = loadTasks(p.handlers, source, pi, true, diags);
    plays.push({
      index: pi,
      name: playName,
      // Empty when ill-typed (the schema reported it): no pattern is resolved for such a play.
      hosts: typeof p.hosts === 'string' ? p.hosts : Array.isArray(p.hosts) && p.hosts.every((h) => typeof h === 'string') ? p.hosts.join(':') : '',
      vars: mapping(p.vars),
      tasks,
      handlers,
      tags: toList(p.tags),
      anyErrorsFatal: p.any_errors_fatal === true,
      gatherFacts: p.gather_facts === true,
      environment: mapping(p.environment),
      experimental: isMapping(p.experimental) ? (p.experimental as unknown as ExperimentalDecl) : undefined,
      raw: p,
    });
    checkNotify(plays[plays.length - 1], p.handlers, source, diags);
    checkTemplates(p.vars, source, diags);
    checkTemplates(p.environment, source, diags);
  });
  const playbook: PlaybookSpec = { path: file, absPath, dir: path.dirname(absPath), source, plays };
  return { playbook, diagnostics: diags };
}

/**
 * Plays and tasks per playbook are limited before the schema runs: ajv's errors for a long list of
 * bad items cost time quadratic in their number, and no real playbook comes near the limit.
 */
export const MAX_LIST_ITEMS = 10_000;

function countLimits(value: unknown, source: SourceFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  const over = (list: unknown, container: unknown, key: string | number, what: string) => {
    if (Array.isArray(list) && list.length > MAX_LIST_ITEMS) {
      out.push(source.diag('playbook/too-many', `${list.length} ${what}: tsplay reads up to ${MAX_LIST_ITEMS} per list`, source.locate(container, key, 'key') ?? source.root, 'split the playbook'));
    }
  };
  if (Array.isArray(value) && value.length > MAX_LIST_ITEMS) {
    out.push(source.diag('playbook/too-many', `${value.length} plays: tsplay reads up to ${MAX_LIST_ITEMS} per playbook`, source.root, 'split the playbook'));
    return out;
  }
  for (const play of Array.isArray(value) ? value : []) {
    if (!isMapping(play)) continue;
    over(play.tasks, play, 'tasks', 'tasks');
    over(play.handlers, play, 'handlers', 'handlers');
  }
  return out;
}

/** `/0/tasks/2/retries` → `play 1, task 3 ("Build"): retries`. */
function describePlaybookPath(root: unknown, pointer: string): string {
  const parts = pointer.split('/').slice(1);
  const out: string[] = [];
  let cur: unknown = root;
  const named = (v: unknown) => (v && typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string' ? ` ("${(v as { name: string }).name}")` : '');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const next = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[p] : undefined;
    if (i === 0 && /^\d+$/.test(p)) out.push(`play ${Number(p) + 1}${named(next)}`);
    else if ((p === 'tasks' || p === 'handlers') && /^\d+$/.test(parts[i + 1] ?? '')) {
      const item = (next as unknown[] | undefined)?.[Number(parts[i + 1])];
      out.push(`${p === 'tasks' ? 'task' : 'handler'} ${Number(parts[i + 1]) + 1}${named(item)}`);
      cur = item;
      i++;
      continue;
    } else out.push(out.length && !/^\d+$/.test(p) ? p : `[${p}]`);
    cur = next;
  }
  const [head, ...rest] = out.reduce<string[]>((acc, seg) => {
    if (/^(play|task|handler) /.test(seg)) acc.push(seg);
    else if (acc.length && !/^(play|task|handler) /.test(acc[acc.length - 1])) acc[acc.length - 1] += seg.startsWith('[') ? seg : `.${seg}`;
    else acc.push(seg);
    return acc;
  }, []).join(', ').split(/, (?=[^,]*$)/);
  return rest.length ? `${head}: ${rest[0]}` : head;
}

function tidyPlaybookDiag(d: Diagnostic): Diagnostic {
  // "unknown key `whn`" on a play gets the did-you-mean from the play keywords already; add Ansible hints.
  const m = /unknown key `([^`]+)`/.exec(d.message);
  if (m && UNSUPPORTED_HINTS[m[1]]) return { ...d, hint: UNSUPPORTED_HINTS[m[1]] };
  return d;
}

function loadTasks(list: unknown, source: SourceFile, pi: number, isHandler: boolean, diags: Diagnostic[]): TaskSpec[] {
  if (!Array.isArray(list)) return [];
  const out: TaskSpec[] = [];
  list.forEach((rawTask, ti) => {
    if (!rawTask || typeof rawTask !== 'object' || Array.isArray(rawTask)) return;
    const t = rawTask as Record<string, unknown>;
    const spec = loadTask(t, source, pi, ti, isHandler, diags);
    if (spec) out.push(spec);
  });
  return out;
}

function loadTask(t: Record<string, unknown>, source: SourceFile, pi: number, ti: number, isHandler: boolean, diags: Diagnostic[]): TaskSpec | undefined {
  const moduleKeys: string[] = [];
  let unknownKeys = 0;
  for (const key of Object.keys(t)) {
    if (taskKeywordSet.has(key)) continue;
    if (findModule(canonicalModuleName(key))) {
      moduleKeys.push(key);
      continue;
    }
    const hint = UNSUPPORTED_HINTS[key] ?? didYouMean(key, [...TASK_KEYWORDS, ...moduleNames()]) ?? `task keys: ${TASK_KEYWORDS.join(', ')}; modules: ${moduleNames().join(', ')}`;
    unknownKeys++;
    const looksLikeModule = t[key] !== null && typeof t[key] === 'object' && !Array.isArray(t[key]);
    diags.push(
      source.diag(
        UNSUPPORTED_HINTS[key] ? 'task/unsupported-key' : looksLikeModule ? 'task/unknown-module' : 'task/unknown-key',
        UNSUPPORTED_HINTS[key] ? `\`${key}\` is an Ansible keyword tsplay does not support` : looksLikeModule ? `unknown module \`${key}\`` : `unknown task key \`${key}\``,
        source.locate(t, key, 'key'),
        hint,
      ),
    );
  }
  const label = typeof t.name === 'string' ? `task "${t.name}"` : `task ${ti + 1}`;
  if (moduleKeys.length === 0) {
    if (unknownKeys === 0) {
      diags.push(source.diag('task/no-module', `${label} names no module`, source.locate(t), `add one module key, e.g. \`command: ...\`; modules: ${moduleNames().join(', ')}`));
    }
    return undefined;
  }
  if (moduleKeys.length > 1) {
    diags.push(source.diag('task/multiple-modules', `${label} names ${moduleKeys.length} modules (${moduleKeys.join(', ')}); a task runs exactly one`, source.locate(t, moduleKeys[1], 'key'), 'split it into one task per module'));
    return undefined;
  }
  const moduleKey = moduleKeys[0];
  const mod = findModule(canonicalModuleName(moduleKey))!;
  let args: Record<string, unknown>;
  const rawArgs = t[moduleKey];
  if (rawArgs === null || rawArgs === undefined) args = {};
  else if (typeof rawArgs === 'string' || typeof rawArgs === 'number') {
    if (!mod.freeForm) {
      diags.push(source.diag('args/not-a-mapping', `${label}: module \`${mod.name}\` takes a mapping of arguments, not a string`, source.locate(t, moduleKey), `write it as:\n    ${moduleKey}:\n      key: value`));
      return undefined;
    }
    args = { [mod.freeForm]: String(rawArgs) };
    // Later passes point into the free-form string as if it were written under the argument's name.
    source.alias(args, mod.freeForm, t, moduleKey);
  } else if (typeof rawArgs === 'object' && !Array.isArray(rawArgs)) args = rawArgs as Record<string, unknown>;
  else {
    diags.push(source.diag('args/not-a-mapping', `${label}: the arguments of \`${mod.name}\` must be a mapping`, source.locate(t, moduleKey)));
    return undefined;
  }
  diags.push(...schemaDiagnostics(compile(mod.schema), args, source, { container: t, key: moduleKey }, { codePrefix: 'args', what: `${label}: ${mod.name}` }));

  const conds = (key: string): string[] => {
    const v = t[key];
    const list = v === undefined ? [] : Array.isArray(v) ? v : [v];
    const out: string[] = [];
    list.forEach((c, i) => {
      if (typeof c !== 'string' && typeof c !== 'boolean') return; // the schema reported it
      const src = String(c);
      const container = Array.isArray(v) ? v : t;
      const ckey = Array.isArray(v) ? i : key;
      checkExpression(src, source, container, ckey, diags, key);
      out.push(src);
    });
    return out;
  };
  const when = conds('when');
  const until = conds('until');
  const changedWhen = conds('changed_when');
  const failedWhen = conds('failed_when');
  if (mod.name === 'assert' && Array.isArray((args as { that?: unknown }).that)) {
    ((args as { that: unknown[] }).that).forEach((c, i) => typeof c === 'string' && checkExpression(c, source, (args as { that: unknown[] }).that, i, diags, 'assert'));
  } else if (mod.name === 'assert' && typeof (args as { that?: unknown }).that === 'string') {
    checkExpression((args as { that: string }).that, source, args, 'that', diags, 'assert');
  }
  checkTemplates(args, source, diags);
  checkTemplates(t.environment, source, diags);
  checkTemplates(t.vars, source, diags);
  if (typeof t.delegate_to === 'string') checkTemplates(t, source, diags, ['delegate_to']);
  if (typeof t.loop === 'string') checkTemplates(t, source, diags, ['loop']);

  const loopControl = (t.loop_control as { loop_var?: string; label?: string } | undefined) ?? {};
  const buildFlag = typeof mod.build === 'function' ? mod.build(args) : mod.build === true;
  return {
    id: `p${pi}.${isHandler ? 'h' : 't'}${ti}`,
    index: ti,
    name: typeof t.name === 'string' ? t.name : `${mod.name}`,
    module: mod.name,
    moduleKey,
    args,
    when,
    until,
    changedWhen,
    failedWhen,
    register: typeof t.register === 'string' ? t.register : undefined,
    loop: Array.isArray(t.loop) || typeof t.loop === 'string' ? t.loop : undefined,
    loopVar: loopControl.loop_var ?? 'item',
    loopLabel: loopControl.label,
    retries: typeof t.retries === 'number' ? t.retries : until.length ? 3 : 0,
    delay: typeof t.delay === 'number' ? t.delay : until.length ? 5 : 0,
    ignoreErrors: t.ignore_errors === true,
    notify: toList(t.notify),
    listen: toList(t.listen),
    tags: toList(t.tags),
    runOnce: t.run_once === true,
    delegateTo: typeof t.delegate_to === 'string' ? t.delegate_to : undefined,
    environment: mapping(t.environment),
    timeout: typeof t.timeout === 'number' ? t.timeout : undefined,
    noLog: t.no_log === true,
    vars: mapping(t.vars),
    build: t.build === true || buildFlag,
    experimental: isMapping(t.experimental) ? (t.experimental as unknown as ExperimentalDecl) : undefined,
    isHandler,
    raw: t,
  };
}

function checkExpression(src: string, source: SourceFile, container: unknown, key: string | number, diags: Diagnostic[], what: string): void {
  try {
    compileExpression(src);
  } catch (err) {
    const e = err as { code?: string; offset?: number; message: string; hint?: string };
    if (!e.code) throw err;
    const hint = e.hint ?? (src.includes('{{') ? `${what} is an expression, not a template: write the names bare, e.g. \`jobs == 14\`` : undefined);
    diags.push(source.diag(e.code, `${what}: ${e.message}`, source.locateInValue(container, key, e.offset ?? 0), hint));
  }
}

/** Template syntax (unclosed tags, mismatched sections) in every string below `value`. */
export function checkTemplates(value: unknown, source: SourceFile, diags: Diagnostic[], onlyKeys?: string[]): void {
  if (!value || typeof value !== 'object') return;
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [k, v] of entries) {
    if (onlyKeys && !onlyKeys.includes(String(k))) continue;
    if (typeof v === 'string') {
      if (!v.includes('{{')) continue;
      try {
        templateVariables(v);
      } catch (err) {
        const e = err as { code?: string; offset?: number; message: string; hint?: string };
        if (!e.code) throw err;
        diags.push(source.diag(e.code, e.message, source.locateInValue(value, k, e.offset ?? 0), e.hint ?? 'close every `{{` with `}}` and every `{{#section}}` with `{{/section}}`'));
      }
    } else if (v && typeof v === 'object') checkTemplates(v, source, diags);
  }
}

function checkNotify(play: PlaySpec, rawHandlers: unknown, source: SourceFile, diags: Diagnostic[]): void {
  const names = new Set<string>();
  for (const h of play.handlers) {
    names.add(h.name);
    h.listen.forEach((l) => names.add(l));
  }
  // A handler that did not load (its own error is reported) still answers to its name.
  for (const raw of Array.isArray(rawHandlers) ? rawHandlers : []) {
    if (!isMapping(raw)) continue;
    if (typeof raw.name === 'string') names.add(raw.name);
    toList(raw.listen).forEach((l) => names.add(l));
  }
  for (const t of [...play.tasks, ...play.handlers]) {
    for (const n of t.notify) {
      if (!names.has(n)) {
        diags.push(source.diag('task/unknown-handler', `task "${t.name}" notifies "${n}", but play "${play.name}" has no handler of that name`, source.locate(t.raw, 'notify'), didYouMean(n, names) ?? (names.size ? `handlers: ${[...names].join(', ')}` : 'add it under `handlers:`')));
      }
    }
  }
}

// The schema has already reported a value of the wrong type; the typed spec takes only well-typed values
// so that later passes (plan checks, the doctrine) never trip over them.
function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function mapping(v: unknown): Record<string, unknown> {
  return isMapping(v) ? v : {};
}

function toList(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
