/**
 * Runs one command the way the suite times it: under GNU time (for the kernel's exact peak RSS of the
 * largest process), with stdout and stderr going to files (no pipe a lingering ssh master could hold
 * open), wall time measured here from spawn to exit. Optionally samples the process tree from /proc
 * for the summed RSS of every process and the main process's VmHWM (Ansible forks one worker per host
 * and one ssh per worker, so its largest single process says little).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Sample } from './report.js';

export interface MeasureOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Where stdout, stderr and GNU time's report go: `<logBase>.out`, `.err`, `.time`. */
  logBase: string;
  /** Sample /proc every this many ms for tree and main-process RSS (0: do not sample). */
  sampleEveryMs?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface Measured extends Sample {
  stdoutFile: string;
  stderrFile: string;
}

export const GNU_TIME = '/usr/bin/time';

export function measure(argv: readonly string[], o: MeasureOptions): Promise<Measured> {
  const outFile = `${o.logBase}.out`;
  const errFile = `${o.logBase}.err`;
  const timeFile = `${o.logBase}.time`;
  rmSync(timeFile, { force: true });
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  return new Promise<Measured>((resolve, reject) => {
    const busyBefore = machineBusyMs();
    const start = process.hrtime.bigint();
    const child = spawn(GNU_TIME, ['-f', '%M %U %S', '-o', timeFile, '--', ...argv], {
      cwd: o.cwd,
      env: o.env,
      stdio: ['ignore', out, err],
      detached: true,
    });
    closeSync(out);
    closeSync(err);
    const sampler = o.sampleEveryMs && child.pid ? new TreeSampler(child.pid, o.sampleEveryMs) : undefined;
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = o.timeoutMs ? setTimeout(kill, o.timeoutMs) : undefined;
    o.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (e) => {
      sampler?.stop();
      reject(e);
    });
    child.on('exit', (code, sig) => {
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      const busyAfter = machineBusyMs();
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', kill);
      const tree = sampler?.stop();
      const time = readTime(timeFile);
      resolve({
        wallMs,
        exitCode: code ?? (sig ? 128 : 255),
        maxRssKb: time?.maxRssKb,
        cpuMs: time?.cpuMs,
        treeRssKb: tree?.treeKb,
        mainRssKb: tree?.mainKb,
        machineCpuMs: busyBefore !== undefined && busyAfter !== undefined ? busyAfter - busyBefore : undefined,
        stdoutFile: outFile,
        stderrFile: errFile,
      });
    });
  });
}

/**
 * GNU time's `%M %U %S` line (it writes `Command exited with non-zero status N` before it when the
 * command fails). CPU is user + system seconds of the command and every child it waited for.
 */
function readTime(file: string): { maxRssKb?: number; cpuMs?: number } | undefined {
  try {
    const last = readFileSync(file, 'utf8').trim().split('\n').pop() ?? '';
    const [kb, user, sys] = last.trim().split(/\s+/).map(Number);
    return {
      maxRssKb: Number.isFinite(kb) && kb! > 0 ? kb : undefined,
      cpuMs: Number.isFinite(user) && Number.isFinite(sys) ? Math.round((user! + sys!) * 1000) : undefined,
    };
  } catch {
    return undefined;
  }
}

/**
 * Non-idle CPU time of every core since boot, ms: user, nice, system, irq, softirq and steal of the
 * `cpu` line of /proc/stat (idle and iowait left out). In USER_HZ ticks, 100 a second on Linux.
 */
export function machineBusyMs(stat?: string): number | undefined {
  try {
    const line = (stat ?? readFileSync('/proc/stat', 'utf8')).split('\n').find((l) => l.startsWith('cpu '));
    if (!line) return undefined;
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const ticks = [user, nice, system, irq, softirq, steal].reduce<number>((sum, x) => sum + (Number.isFinite(x) ? x! : 0), 0);
    return ticks * 10;
  } catch {
    return undefined;
  }
}

/** Reads a `Key:   123 kB` field of /proc/PID/status. */
function statusKb(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** pid → child pids, from every /proc/PID/stat (this kernel has no /proc/PID/task/TID/children). */
function childMap(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 (ppid) follows the command name, which is in parentheses and may hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = map.get(ppid) ?? [];
      list.push(Number(name));
      map.set(ppid, list);
    } catch {
      // exited while we looked
    }
  }
  return map;
}

/**
 * Samples the tree under GNU time's pid: the measured command is its only child ("main"), and the
 * tree sum counts every descendant (not time itself).
 */
class TreeSampler {
  private treeKb = 0;
  private mainKb = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly timePid: number,
    everyMs: number,
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private sample(): void {
    const kids = childMap();
    const main = kids.get(this.timePid)?.[0];
    if (main === undefined) return;
    this.mainKb = Math.max(this.mainKb, statusKb(main, 'VmHWM'));
    let sum = 0;
    const queue = [main];
    const seen = new Set<number>();
    while (queue.length) {
      const pid = queue.shift()!;
      if (seen.has(pid)) continue;
      seen.add(pid);
      sum += statusKb(pid, 'VmRSS');
      queue.push(...(kids.get(pid) ?? []));
    }
    this.treeKb = Math.max(this.treeKb, sum);
  }

  stop(): { treeKb?: number; mainKb?: number } {
    clearInterval(this.timer);
    return { treeKb: this.treeKb || undefined, mainKb: this.mainKb || undefined };
  }
}

export function logPath(dir: string, ...parts: (string | number)[]): string {
  return path.join(dir, parts.join('-'));
}
