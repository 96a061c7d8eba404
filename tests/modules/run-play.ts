/**
 * For module tests: write a one-play playbook, run it with the real CLI (`tsplay run --json`) and
 * read the JSON events back — results, decisions, and registered values shown by `debug: var`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runTsplay, type CliResult } from '../helpers/cli.js';
import { ROOT, TSPLAY } from '../helpers/paths.js';

export interface Ev {
  type: string;
  task?: string;
  host?: string;
  status?: string;
  changed?: boolean;
  msg?: string;
  message?: string;
  data?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface PlayRun {
  r: CliResult;
  events: Ev[];
  /** host.result events, in order. */
  results: Ev[];
  /** decision messages, in order. */
  decisions: string[];
  /** The result of the task named `name` (on the one host, or on `host`). */
  result(name: string, host?: string): Ev;
  /** A value printed by a `debug: { var: NAME }` task. */
  shown(name: string, host?: string): unknown;
}

export function events(stdout: string): Ev[] {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Ev);
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'tsplay-modtest-'));
let n = 0;

export function scratchFile(name: string, text: string): string {
  const p = path.join(scratch, `${++n}-${name}`);
  writeFileSync(p, text);
  return p;
}

export interface PlayOptions {
  inventory: string;
  hosts: string;
  check?: boolean;
  extra?: string[];
  /** Run the CLI through this wrapper (argv prefix), e.g. unshare. */
  wrap?: string[];
}

/** Runs `tasks` (plain objects; JSON is YAML) as one play on `hosts`. */
export async function play(tasks: object[], o: PlayOptions): Promise<PlayRun> {
  const file = scratchFile('play.yml', JSON.stringify([{ name: 'module test', hosts: o.hosts, tasks }], null, 2));
  const args = ['run', '-i', o.inventory, file, '--json', ...(o.check ? ['--check'] : []), ...(o.extra ?? [])];
  const r = o.wrap ? await runWrapped(o.wrap, args) : await runTsplay(args, { timeoutMs: 170_000 });
  const ev = events(r.stdout);
  const results = ev.filter((e) => e.type === 'host.result');
  const find = (name: string, host?: string): Ev => {
    const hit = results.find((e) => e.task === name && (host === undefined || e.host === host));
    if (!hit) throw new Error(`no result for task "${name}"${host ? ` on ${host}` : ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
    return hit;
  };
  return {
    r,
    events: ev,
    results,
    decisions: ev.filter((e) => e.type === 'decision').map((e) => e.message ?? ''),
    result: find,
    shown(name, host) {
      const hit = results.find((e) => typeof e.msg === 'string' && e.msg.startsWith(`${name} = `) && (host === undefined || e.host === host));
      if (!hit) throw new Error(`no debug output for ${name}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
      const text = hit.msg!.slice(name.length + 3);
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    },
  };
}

/** The CLI under a wrapper command (same environment as runTsplay). */
function runWrapped(wrap: string[], args: string[]): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(wrap[0]!, [...wrap.slice(1), TSPLAY, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Fails with the whole output unless the run exited with `code`. */
export function exitCode(p: PlayRun, code: number): void {
  if (p.r.code !== code) throw new Error(`tsplay exited ${p.r.code ?? p.r.signal}, expected ${code}\n--- stdout\n${p.r.stdout}\n--- stderr\n${p.r.stderr}`);
}
