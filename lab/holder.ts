import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, readlink, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabPaths } from './paths.js';
import { hostPaths } from './paths.js';
import type { LabHost } from './topology.js';
import { environmentError } from './errors.js';
import { netnsInode, netnsPids } from './network.js';
import { must, sleep, waitFor } from './exec.js';

/**
 * The holder: one long-lived bash per host, started as
 *   ip netns exec tsplay-H unshare --mount --uts --propagation private bash holder.sh ...
 * It names the host, bind-mounts the host's private trees, says it is ready by writing its pid,
 * then keeps the host's /proc/uptime current. Everything else on the host is nsenter'd into it.
 *
 * Mount order matters: every source lives under the lab dir, so the lab dir must not sit under
 * a path mounted over here (checked by `checkLabDirPlacement`).
 */
export const HOLDER_SCRIPT = `#!/usr/bin/bash
# tsplay lab holder: $1 host name, $2 host dir, $3 systemctl script, $4 1 if the host has /srv/build
set -eu
name=$1 dir=$2 systemctl=$3 build=$4
hostname "$name"
mount --bind "$systemctl" /usr/bin/systemctl
# ip netns exec mounted a fresh sysfs on /sys; the sensor goes over it.
mount --bind "$dir/thermal" /sys/class/thermal
mount --bind "$dir/uptime" /proc/uptime
mount --bind "$dir/systemd" /etc/systemd/system
if [ "$build" = 1 ]; then
  mount --bind "$dir/srv" /srv
  mount --bind "$dir/build" /srv/build
fi
mount --bind "$dir/log" /var/log
mount --bind "$dir/run" /run
mount --bind "$dir/tmp" /tmp
# A private, empty home: the controller's root dotfiles (a .bashrc running pyenv, say) stay out of
# the hosts, as on real machines, and each host's ~/.ssh is its own.
mount --bind "$dir/root" /root
echo $$ > "$dir/holder.pid.new"
mv "$dir/holder.pid.new" "$dir/holder.pid"
trap 'exit 0' TERM INT
# Seconds since this host was (re)started, rewritten in place: the bind-mounted inode must stay.
while :; do
  printf '%d.00 0.00\\n' "$SECONDS" 1<>"$dir/uptime"
  sleep 3 & wait $!
done
`;

/** Paths the holder mounts over; the lab dir must not be under any of them. */
export const MOUNTED_OVER = ['/usr/bin/systemctl', '/sys', '/proc', '/etc/systemd/system', '/srv', '/var/log', '/run', '/var/run', '/tmp', '/root'];

export function holderScriptPath(paths: LabPaths): string {
  return path.join(paths.dir, 'holder.sh');
}

export async function writeHolderScript(paths: LabPaths): Promise<void> {
  await writeFile(holderScriptPath(paths), HOLDER_SCRIPT, { mode: 0o755 });
}

/** `nsenter` arguments that run `cmd` inside the host: its mounts, hostname and network. */
export function nsenterArgs(holderPid: number, cmd: readonly string[]): string[] {
  return ['-t', String(holderPid), '-m', '-u', '-n', ...cmd];
}

/** The environment of processes started on a host: what a fresh login would have, nothing of ours. */
export function hostEnv(): NodeJS.ProcessEnv {
  return { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' };
}

/** True when process `pid` exists and lives in the named network namespace. */
export async function processInNetns(pid: number, netns: string): Promise<boolean> {
  const ino = await netnsInode(netns);
  if (ino === undefined) return false;
  try {
    return (await readlink(`/proc/${pid}/ns/net`)) === `net:[${ino}]`;
  } catch {
    return false;
  }
}

/** The pid of the host's live holder, or undefined when the host is powered off. */
export async function holderPid(paths: LabPaths, host: LabHost): Promise<number | undefined> {
  const hp = hostPaths(paths, host.name);
  const pid = Number((await readFile(hp.holderPid, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (!(await processInNetns(pid, host.netns))) return undefined;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.includes(holderScriptPath(paths)) ? pid : undefined;
}

/**
 * Puts the systemctl script back over /usr/bin/systemctl when its bind mount is gone. A package
 * upgrade on the controller that replaces /usr/bin/systemctl (any apt-get that pulls a new systemd)
 * silently drops that mount in every host — the kernel unmounts whatever sits on a file that is
 * renamed over — and the hosts then see systemd's own systemctl, which cannot run without systemd
 * as PID 1. Returns true when it had to mount it again.
 */
export async function ensureSystemctlMount(paths: LabPaths, pid: number): Promise<boolean> {
  const mounts = await readFile(`/proc/${pid}/mounts`, 'utf8').catch(() => '');
  if (mounts.split('\n').some((l) => l.split(' ')[1] === '/usr/bin/systemctl')) return false;
  await must('nsenter', nsenterArgs(pid, ['mount', '--bind', paths.systemctlScript, '/usr/bin/systemctl']), { env: hostEnv() });
  return true;
}

/** Mounts the host's private /root into a running host booted before /root was private; true if it did. */
export async function ensureRootMount(paths: LabPaths, host: LabHost, pid: number): Promise<boolean> {
  const mounts = await readFile(`/proc/${pid}/mounts`, 'utf8').catch(() => '');
  if (mounts.split('\n').some((l) => l.split(' ')[1] === '/root')) return false;
  await must('nsenter', nsenterArgs(pid, ['mount', '--bind', path.join(hostPaths(paths, host.name).dir, 'root'), '/root']), { env: hostEnv() });
  return true;
}

/** Starts a new holder for the host and waits until its mounts are in place; returns its pid. */
export async function startHolder(paths: LabPaths, host: LabHost): Promise<number> {
  const hp = hostPaths(paths, host.name);
  await rm(hp.holderPid, { force: true });
  const logFd = openSync(hp.holderLog, 'a');
  let exited: string | undefined;
  let child;
  try {
    child = spawn(
      'ip',
      ['netns', 'exec', host.netns, 'unshare', '--mount', '--uts', '--propagation', 'private',
        '/usr/bin/bash', holderScriptPath(paths), host.name, hp.dir, paths.systemctlScript, host.buildMount ? '1' : '0'],
      { detached: true, stdio: ['ignore', logFd, logFd], env: hostEnv() },
    );
  } finally {
    closeSync(logFd);
  }
  child.on('exit', (code, signal) => (exited = signal ?? String(code)));
  child.on('error', (err) => (exited = err.message));
  child.unref();
  const spawned = child.pid;
  return waitFor(`the holder of ${host.name}`, 15000, async () => {
    if (exited !== undefined) {
      const log = (await readFile(hp.holderLog, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' | ');
      throw environmentError('lab/holder-failed', `the holder of ${host.name} exited (${exited}): ${log}`, `see ${hp.holderLog}`);
    }
    const pid = Number((await readFile(hp.holderPid, 'utf8').catch(() => '')).trim());
    return pid > 0 && pid === spawned ? pid : undefined;
  });
}

/**
 * Powers the host off: SIGKILL to every process in its network namespace until none is left.
 * A TERM and a short grace come first: lab hosts share the machine's filesystem, and a shell
 * killed outright leaves its locks there for every other host (a login's `pyenv rehash` lock
 * under /root stalls every later SSH login by 60 s). `lab stop` pulls the cable first, so the
 * grace is invisible from the controller.
 */
export async function killHostProcesses(host: LabHost): Promise<void> {
  for (const pid of await netnsPids(host.netns)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 6 && (await netnsPids(host.netns)).length > 0; i++) await sleep(50);
  const deadline = Date.now() + 10000;
  for (;;) {
    const pids = await netnsPids(host.netns);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (Date.now() > deadline) {
      throw environmentError('lab/stop-failed', `processes of ${host.name} survive SIGKILL: ${pids.join(' ')}`);
    }
    await sleep(50);
  }
}
