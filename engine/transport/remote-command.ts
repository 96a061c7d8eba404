/**
 * The POSIX shell text the SSH transport sends to a host. Pure functions: no I/O here.
 *
 * Every value that comes from a playbook (argv elements, env values, paths) goes through
 * shellQuote, so it reaches the host as one literal word.
 */
import path from 'node:path';
import { shellQuote, type Command } from './transport.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface WrapOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Where the command's process-group id is written (and removed when it exits). */
  pidFile: string;
  /**
   * Exported to the command as TSPLAY_EXEC_ID: every process it starts inherits it, even one that
   * leaves the process group (setsid, a daemon), so a kill can find them all.
   */
  execId: string;
  /** The host has util-linux `setsid -w` (else we rely on sshd starting each session in its own group). */
  setsid: boolean;
  /**
   * Leave the pid file when the command ends (default: remove it). The long-lived remote shell
   * keeps its commands' pid files under a prefix of its own and removes them when it ends, which
   * spares a `rm` per command and lets the wrapper hand its process over to the command.
   */
  keepPidFile?: boolean;
  /**
   * The wrapper runs in a subshell of the long-lived shell on a host with /proc and util-linux
   * setsid (with keepPidFile): an argv command is then started by `exec setsid` from that subshell,
   * without a /bin/sh of its own in between. One exec fewer per command, which is most of what a
   * short check costs on the host. See directArgv for how kills stay sound.
   */
  direct?: boolean;
}

/** The variable that marks every process of one exec (see WrapOptions.execId). */
export const EXEC_ID_VAR = 'TSPLAY_EXEC_ID';

/**
 * The command line itself: a string through `/bin/sh -c`; argv quoted word by word and run with
 * `exec` in a subshell, so argv[0] is always a program from PATH (never a shell keyword, builtin
 * or `NAME=value` assignment), as when spawned directly.
 */
export function commandLine(command: Command): string {
  return typeof command === 'string' ? `/bin/sh -c ${shellQuote(command)}` : `(${execArgv(command)})`;
}

/** `exec` and the argv words, each quoted: argv[0] is always looked up as a program. */
function execArgv(argv: readonly string[]): string {
  return `exec ${argvWords(argv)}`;
}

/** The argv words, each quoted; an empty argv is refused. */
function argvWords(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError('exec: the argv array is empty');
  return argv.map(shellQuote).join(' ');
}

/**
 * Wraps a command so that it leads its own process group, whose id is written to `pidFile`
 * before anything else runs. The exit status of the command is preserved.
 */
export function wrapCommand(command: Command, opts: WrapOptions): string {
  if (!/^[0-9a-f]+$/.test(opts.execId)) throw new TypeError(`exec: bad exec id ${JSON.stringify(opts.execId)}`);
  if (opts.direct && opts.keepPidFile && opts.setsid && typeof command !== 'string') return directArgv(command, opts);
  const f = shellQuote(opts.pidFile);
  const lines = [
    // With setsid, fd 2 of the wrapper is /dev/null (it reports our own kills) and the real
    // stderr waits on fd 3.
    ...(opts.setsid ? ['exec 2>&3 3>&-'] : []),
    // A pid file that already exists was claimed by a kill that came first: do not start at all.
    // Release the claim before saying so: tsplay may be gone, and writing to its closed pipe kills us.
    `set -C; { echo $$ >${f}; } 2>/dev/null || { rm -f ${f}; echo "tsplay: not started: cannot create ${opts.pidFile} (stopped before it started, or /tmp is not writable)" >&2; exit 125; }; set +C`,
    // Stopped by a signal (a kill, a host shutting down): tidy up as on a normal exit. PIPE too:
    // the shell reports a killed child on stderr, and when sshd is gone that write would kill it.
    `trap 'rm -f ${f}; exit 143' TERM; trap 'rm -f ${f}; exit 129' HUP; trap 'rm -f ${f}; exit 141' PIPE`,
    `export ${EXEC_ID_VAR}=${opts.execId}`,
  ];
  lines.push(...cwdAndEnv(opts));
  if (opts.keepPidFile) {
    // Nothing to do afterwards: the command takes over the wrapper's process (same pid, group and
    // exit status). A string is evaluated by this very shell, as `/bin/sh -c` would; argv goes
    // through `exec`, so argv[0] is always a program.
    lines.push(typeof command === 'string' ? `eval ${shellQuote(command)}` : execArgv(command));
  } else {
    lines.push(commandLine(command));
    lines.push(`rc=$?; rm -f ${f}; exit $rc`);
  }
  const script = shellQuote(lines.join('\n'));
  return opts.setsid ? `exec setsid -w /bin/sh -c ${script} 3>&2 2>/dev/null` : `exec /bin/sh -c ${script}`;
}

/**
 * An argv command run straight from the long-lived shell's subshell. The subshell learns its own
 * pid (a subshell's `$$` is the shell's) by changing into /proc/self, which the kernel resolves to
 * /proc/PID, and back: builtins only, a handful of system calls (dash's `read` of
 * /proc/self/stat took one per byte, ~300). It claims the pid file with that pid and the
 * shell's pid, exports the exec id and execs `setsid` with the argv: setsid makes it the leader of
 * a new session and group with that same pid (a subshell never leads a group, so setsid does not
 * fork), then execs the command, which keeps the pid. The pid file thus names the group before the
 * group exists; killGroupScript kills the subshell itself in that short window, after checking that
 * the process is still the shell's child and leads no group (so a pid reused since is left alone).
 * A command that cannot be executed exits 127 (not found) or 126, with setsid's message on stderr.
 */
function directArgv(argv: readonly string[], opts: WrapOptions): string {
  const f = shellQuote(opts.pidFile);
  const lines = [
    // Never an empty pid: the file would then name the shell's own group. `cd` without -P back to
    // the old directory restores $PWD as it was, symlinks and all.
    `p=; if cd -P /proc/self >/dev/null 2>&1; then p=\${PWD#/proc/}; cd -- "$OLDPWD" >/dev/null 2>&1 || p=; fi`,
    `case $p in '' | *[!0-9]*) echo "tsplay: not started: cannot learn its pid from /proc/self (or return to $OLDPWD)" >&2; exit 125;; esac`,
    `set -C; { echo "$p $$" >${f}; } 2>/dev/null || { rm -f ${f}; echo "tsplay: not started: cannot create ${opts.pidFile} (stopped before it started, or /tmp is not writable)" >&2; exit 125; }; set +C`,
    `export ${EXEC_ID_VAR}=${opts.execId}`,
  ];
  lines.push(...cwdAndEnv(opts), `exec setsid ${argvWords(argv)}`);
  return lines.join('\n');
}

/** The `cd` into opts.cwd and an export per opts.env variable, values quoted. */
function cwdAndEnv(opts: WrapOptions): string[] {
  const lines = opts.cwd === undefined ? [] : [`cd -- ${shellQuote(opts.cwd)} || exit 1`];
  for (const [name, value] of Object.entries(opts.env ?? {})) {
    if (!ENV_NAME.test(name)) throw new TypeError(`exec: invalid environment variable name ${JSON.stringify(name)}`);
    lines.push(`export ${name}=${shellQuote(value)}`);
  }
  return lines;
}

/**
 * Stops everything one exec started: its process group (from `pidFile`) and every process whose
 * environment carries its exec id (those that left the group). TERM, then KILL for whatever is
 * left after ~0.6 s, so an interrupted tsplay can exit within 2 s. Without /proc only the group
 * is found. A group of zombies still answers `kill -0`; it merely costs the full wait and a
 * harmless KILL.
 *
 * The kill may reach the host before the command has started (a slow login shell): then it
 * creates the pid file itself, and the wrapper, finding it taken, exits without running anything.
 * If the command had already finished, that empty claim is left behind in /tmp.
 */
export function killGroupScript(pidFile: string, execId: string): string {
  if (!/^[0-9a-f]+$/.test(execId)) throw new TypeError(`exec: bad exec id ${JSON.stringify(execId)}`);
  const f = shellQuote(pidFile);
  return [
    `pg=; claimed=; if (set -C; : >${f}) 2>/dev/null; then claimed=1; else`,
    // Taken by the wrapper, which may be between creating it and writing its pid.
    `  i=0; while [ ! -s ${f} ] && [ $i -lt 20 ]; do sleep 0.05; i=$((i+1)); done`,
    // "PGID", or "PID SHELLPID" from a direct command (directArgv), whose group may not exist yet.
    `  { read -r pg psh <${f}; } 2>/dev/null`,
    `fi`,
    `case $pg in *[!0-9]*) pg=;; esac`,
    `case $psh in *[!0-9]*) psh=;; esac`,
    // The pid file goes only once the group has been dealt with: a kill cut short (its session
    // dropped) leaves it for the operator. A claim stays, to turn a late wrapper away.
    `done_() { [ -n "$claimed" ] || rm -f ${f}; exit 0; }`,
    // One whole NUL-separated entry (-z -x), so a variable that merely mentions the id (sshd's
    // SSH_ORIGINAL_COMMAND under ForceCommand holds this very script) does not count. Zombies have
    // an empty environ, so only live processes match.
    `tagged() { grep -l -a -z -x -F -e '${EXEC_ID_VAR}=${execId}' /proc/[0-9]*/environ 2>/dev/null | sed -n 's#^/proc/\\([0-9]*\\)/environ$#\\1#p'; }`,
    // A direct command between claiming its pid file and setsid: still the shell's child, no group
    // of its own yet. Fields 4 and 5 of /proc/PID/stat (after the command name) are ppid and pgrp.
    `unformed() { [ -n "$psh" ] || return 1; st=$(cat /proc/$pg/stat 2>/dev/null) || return 1; set -- \${st##*) }; [ "$2" = "$psh" ] && [ "$3" != "$pg" ]; }`,
    `send() { [ -n "$pg" ] && kill -s $1 -- -$pg 2>/dev/null; unformed && kill -s $1 $pg 2>/dev/null; t=$(tagged); [ -n "$t" ] && kill -s $1 $t 2>/dev/null; return 0; }`,
    `alive() { { [ -n "$pg" ] && kill -s 0 -- -$pg 2>/dev/null; } || unformed || [ -n "$(tagged)" ]; }`,
    `alive || done_`,
    `send TERM`,
    `i=0; while alive && [ $i -lt 12 ]; do sleep 0.05; i=$((i+1)); done`,
    `if alive; then send KILL; fi; done_`,
  ].join('\n');
}

/**
 * Probes for util-linux `setsid`, which has -w (busybox's has neither -w nor --version). One exec:
 * the probe runs once per host, and every exec counts on a host driving a build.
 */
export const SETSID_PROBE = 'setsid --version >/dev/null 2>&1';

/**
 * Writes stdin to a temp file next to `target`, sets its mode, renames it over `target`.
 * With no mode, an existing file keeps its mode and a new file gets 0644.
 */
export function putScript(target: string, mode?: number): string {
  const t = shellQuote(target);
  const template = shellQuote(path.posix.join(path.posix.dirname(target), `.${path.posix.basename(target)}.tsplay-XXXXXX`));
  const chmod =
    mode === undefined
      ? `m=644; if [ -e ${t} ]; then m=$(stat -c %a -- ${t} 2>/dev/null) || m=644; fi`
      : `m=${(mode & 0o7777).toString(8)}`;
  return [
    'umask 077',
    chmod,
    `tmp=$(mktemp ${template}) || exit 1`,
    `if cat >"$tmp" && chmod "$m" "$tmp" && mv -f -- "$tmp" ${t}; then exit 0; fi`,
    `rm -f "$tmp"; exit 1`,
  ].join('\n');
}

/** Exit status of getScript when the file does not exist. */
export const GET_MISSING_RC = 44;

export function getScript(target: string): string {
  const t = shellQuote(target);
  return `if [ ! -e ${t} ]; then exit ${GET_MISSING_RC}; fi; exec cat -- ${t}`;
}
