/**
 * The real CLI in the background, for fault tests that act while it runs: send it a signal, pull a
 * host's cable once a task has started. Output is watched as it arrives.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { TSPLAY, ROOT } from './paths.js';
import type { CliResult } from './cli.js';

export interface Background {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the CLI has exited (the harness SIGKILLs it after `timeoutMs`: code null). */
  done: Promise<CliResult>;
  /** Resolves once `pred(stdout, stderr)` holds; rejects if the CLI exits first or after `ms`. */
  until(pred: (stdout: string, stderr: string) => boolean, ms?: number): Promise<void>;
}

export function startTsplay(args: string[], opts: { timeoutMs?: number; env?: Record<string, string | undefined> } = {}): Background {
  const started = Date.now();
  const child = spawn(TSPLAY, args, {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  const poke = (): void => watchers.forEach((w) => w());
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    poke();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    poke();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 170_000);
  let exited = false;
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      exited = true;
      poke();
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
  const until = (pred: (o: string, e: string) => boolean, ms = 60_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const give = setTimeout(() => finish(new Error(`not seen within ${ms} ms\n--- stdout\n${stdout}\n--- stderr\n${stderr}`)), ms);
      const check = (): void => {
        if (pred(stdout, stderr)) finish();
        else if (exited) finish(new Error(`tsplay exited first\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
      };
      const finish = (err?: Error): void => {
        clearTimeout(give);
        watchers.delete(check);
        if (err) reject(err);
        else resolve();
      };
      watchers.add(check);
      check();
    });
  return { child, stdout: () => stdout, stderr: () => stderr, done, until };
}

/** Live (non-zombie) processes in a lab host's network namespace whose command line contains `marker`. */
export function hostProcesses(host: string, marker: string): Array<{ pid: number; args: string }> {
  const ino = statSync(`/run/netns/tsplay-${host}`).ino;
  const found: Array<{ pid: number; args: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/net`) !== `net:[${ino}]`) continue;
      if (/^State:\s+Z/m.test(readFileSync(`/proc/${entry}/status`, 'utf8'))) continue;
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (args.includes(marker)) found.push({ pid: Number(entry), args });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * Kills (by pid) what a test left behind on a host, so one failure does not leak into the next.
 * With `leavesOnly`, only processes whose program is `leavesOnly` (e.g. sleep): their parents
 * then exit normally and tidy up (tsplay's pid file).
 */
export function reapHost(host: string, marker: string, leavesOnly?: string): void {
  for (const p of hostProcesses(host, marker)) {
    if (leavesOnly !== undefined && !p.args.startsWith(`${leavesOnly} `)) continue;
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** Polls `fn` until it returns true or `ms` pass; returns its last answer. */
export async function eventually(fn: () => boolean, ms: number, stepMs = 100): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (fn()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** The JSON-lines events of a `--json` run. */
export function events(stdout: string): Array<Record<string, unknown> & { type: string }> {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown> & { type: string });
}
