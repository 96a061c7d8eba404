/**
 * Shared by the pump and make-jobserver tests: playbooks written to a scratch dir and run with the
 * real CLI (--json) against the lab, and small readers of its event stream.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runTsplay, type CliResult } from '../helpers/cli.js';
import { TSPLAY, ROOT } from '../helpers/paths.js';

export interface Ev {
  type: string;
  task?: string;
  host?: string;
  status?: string;
  msg?: string;
  message?: string;
  stdout?: string;
  stderr?: string;
  rc?: number;
  text?: string;
  changed?: boolean;
  data?: Record<string, unknown>;
  code?: string;
}

export function scratch(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `tsplay-${prefix}-`));
}

export function writePlay(dir: string, name: string, yaml: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

export function events(stdout: string): Ev[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Ev);
}

export async function runPlay(inventory: string, playbook: string, extra: string[] = []): Promise<{ r: CliResult; ev: Ev[] }> {
  const r = await runTsplay(['run', '-i', inventory, playbook, '--json', ...extra], { timeoutMs: 170_000 });
  return { r, ev: events(r.stdout) };
}

/** Fails with what went wrong (failed or unreachable hosts and their messages) unless the run exited 0. */
export function expectOk(run: { r: CliResult; ev: Ev[] }): void {
  if (run.r.code === 0) return;
  const bad = run.ev.filter((e) => e.type === 'host.result' && (e.status === 'failed' || e.status === 'unreachable')).map((e) => `${e.host} ${e.task}: ${e.status}: ${e.msg}`);
  throw new Error(`tsplay exited ${run.r.code}\n${bad.join('\n')}\n--- stderr\n${run.r.stderr.slice(-2000)}`);
}

/** The host.result of task `task` on `host`. */
export function result(ev: Ev[], task: string, host = 'builder'): Ev {
  const e = ev.find((x) => x.type === 'host.result' && x.task === task && x.host === host);
  if (!e) throw new Error(`no result for task "${task}" on ${host}; events:\n${ev.map((x) => JSON.stringify(x)).join('\n')}`);
  return e;
}

/** A registered variable, printed by a `debug: {var: NAME}` task named `show NAME`. */
export function shown<T = Record<string, unknown>>(ev: Ev[], name: string, host = 'builder'): T {
  const e = result(ev, `show ${name}`, host);
  const prefix = `${name} = `;
  if (!e.msg?.startsWith(prefix)) throw new Error(`unexpected debug output: ${e.msg}`);
  return JSON.parse(e.msg.slice(prefix.length)) as T;
}

export function decisions(ev: Ev[], task: string): Ev[] {
  return ev.filter((x) => x.type === 'decision' && x.task === task);
}

/** Runs a shell script on a lab host through tsplay and returns its stdout (fails loudly otherwise). */
export async function onHost(inventory: string, host: string, script: string, dir: string): Promise<string> {
  const file = writePlay(dir, `sh-${Date.now()}-${Math.random().toString(16).slice(2)}.yml`, `- name: helper\n  hosts: ${host}\n  tasks:\n    - name: sh\n      shell: ${JSON.stringify(script)}\n`);
  const { r, ev } = await runPlay(inventory, file);
  const res = ev.find((x) => x.type === 'host.result' && x.task === 'sh');
  if (r.code !== 0 || !res) throw new Error(`shell on ${host} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return res.stdout ?? '';
}

/** A tsplay run in the background, for interrupting it or running two at once. */
export function startPlay(inventory: string, playbook: string, extra: string[] = []) {
  const child = spawn(TSPLAY, ['run', '-i', inventory, playbook, '--json', ...extra], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string; ev: Ev[] }>((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr, ev: events(stdout) }));
  });
  return { child, done, output: () => stdout };
}

/** Max number of [start, end] intervals open at once, from `start NS TAG` / `end NS TAG` log lines. */
export function maxConcurrency(log: string): { max: number; overlapped: Set<string>; byTag: Map<string, number> } {
  const rows = log
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => (f[0] === 'start' || f[0] === 'end') && f.length >= 3)
    .map((f) => ({ kind: f[0], t: BigInt(f[1]), tag: f[2].split('-')[0] }));
  // Ends before starts at the same instant: a job that ended is not running any more.
  rows.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.kind === 'end' ? -1 : 1));
  let cur = 0;
  let max = 0;
  const open = new Map<string, number>();
  const byTag = new Map<string, number>();
  const overlapped = new Set<string>();
  for (const r of rows) {
    const d = r.kind === 'start' ? 1 : -1;
    cur += d;
    open.set(r.tag, (open.get(r.tag) ?? 0) + d);
    if (r.kind === 'start') byTag.set(r.tag, (byTag.get(r.tag) ?? 0) + 1);
    max = Math.max(max, cur);
    const live = [...open.entries()].filter(([, n]) => n > 0).map(([t]) => t);
    if (live.length > 1) live.forEach((t) => overlapped.add(t));
  }
  return { max, overlapped, byTag };
}

/** A Makefile (recipe prefix `>`, so YAML needs no tabs) of `n` jobs that each log start/end and sleep. */
export function sleepMakefile(n: number, seconds: number, log: string): string {
  return [
    '.RECIPEPREFIX = >',
    `N := $(shell seq 1 ${n})`,
    'all: $(addprefix j,$(N))',
    'j%:',
    `> @echo "start $$(date +%s%N) $(TAG)-$@" >> ${log}`,
    `> @sleep ${seconds}`,
    `> @echo "end $$(date +%s%N) $(TAG)-$@" >> ${log}`,
    '',
  ].join('\n');
}

/** YAML block scalar body, indented. */
export function block(text: string, indent: number): string {
  const pad = ' '.repeat(indent);
  return text
    .split('\n')
    .map((l) => (l ? pad + l : l))
    .join('\n');
}
