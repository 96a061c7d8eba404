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
  const shapeDiags = schemaDiagnostics(compile(playbookSchema), value, source, undefined, { codePrefix: 'playbook' });
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
      hosts: Array.isArray(p.hosts) ? (p.hosts as string[]).join(':') : String(p.hosts ?? ''),
      vars: (p.vars as Record<string, unknown>) ?? {},
      tasks,
      handlers,
      tags: toList(p.tags),
      anyErrorsFatal: p.any_errors_fatal === true,
      gatherFacts: p.gather_facts === true,
      environment: (p.environment as Record<string, unknown>) ?? {},
      experimental: p.experimental as ExperimentalDecl | undefined,
      raw: p,
    });
    checkNotify(plays[plays.length - 1], source, diags);
    checkTemplates(p.vars, source, diags);
    checkTemplates(p.environment, source, diags);
  });
  const playbook: PlaybookSpec = { path: file, absPath, dir: path.dirname(absPath), source, plays };
  return { playbook, diagnostics: diags };
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
        looksLikeModule || UNSUPPORTED_HINTS[key] ? 'task/unknown-module' : 'task/unknown-key',
        looksLikeModule ? `unknown module \`${key}\`` : `unknown task key \`${key}\``,
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
      const src = typeof c === 'boolean' ? String(c) : String(c);
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
    register: t.register as string | undefined,
    loop: t.loop as unknown[] | string | undefined,
    loopVar: loopControl.loop_var ?? 'item',
    loopLabel: loopControl.label,
    retries: typeof t.retries === 'number' ? t.retries : until.length ? 3 : 0,
    delay: typeof t.delay === 'number' ? t.delay : until.length ? 5 : 0,
    ignoreErrors: t.ignore_errors === true,
    notify: toList(t.notify),
    listen: toList(t.listen),
    tags: toList(t.tags),
    runOnce: t.run_once === true,
    delegateTo: t.delegate_to as string | undefined,
    environment: (t.environment as Record<string, unknown>) ?? {},
    timeout: t.timeout as number | undefined,
    noLog: t.no_log === true,
    vars: (t.vars as Record<string, unknown>) ?? {},
    build: t.build === true || buildFlag,
    experimental: t.experimental as ExperimentalDecl | undefined,
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
    diags.push(source.diag(e.code, `${what}: ${e.message}`, source.locateInValue(container, key, e.offset ?? 0), e.hint));
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
        const e = err as { code?: string; offset?: number; message: string };
        if (!e.code) throw err;
        diags.push(source.diag(e.code, e.message, source.locateInValue(value, k, e.offset ?? 0), 'close every `{{` with `}}` and every `{{#section}}` with `{{/section}}`'));
      }
    } else if (v && typeof v === 'object') checkTemplates(v, source, diags);
  }
}

function checkNotify(play: PlaySpec, source: SourceFile, diags: Diagnostic[]): void {
  const names = new Set<string>();
  for (const h of play.handlers) {
    names.add(h.name);
    h.listen.forEach((l) => names.add(l));
  }
  for (const t of [...play.tasks, ...play.handlers]) {
    for (const n of t.notify) {
      if (!names.has(n)) {
        diags.push(source.diag('task/unknown-handler', `task "${t.name}" notifies "${n}", but play "${play.name}" has no handler of that name`, source.locate(t.raw, 'notify'), didYouMean(n, names) ?? (names.size ? `handlers: ${[...names].join(', ')}` : 'add it under `handlers:`')));
      }
    }
  }
}

function toList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v.map(String) : [String(v)];
}
