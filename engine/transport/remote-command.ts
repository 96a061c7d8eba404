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
  /** The host has util-linux `setsid -w` (else we rely on sshd starting each session in its own group). */
  setsid: boolean;
}

/**
 * The command line itself: a string through `/bin/sh -c`; argv quoted word by word and run with
 * `exec` in a subshell, so argv[0] is always a program from PATH (never a shell keyword, builtin
 * or `NAME=value` assignment), as when spawned directly.
 */
export function commandLine(command: Command): string {
  if (typeof command === 'string') return `/bin/sh -c ${shellQuote(command)}`;
  if (command.length === 0) throw new TypeError('exec: the argv array is empty');
  return `(exec ${command.map(shellQuote).join(' ')})`;
}

/**
 * Wraps a command so that it leads its own process group, whose id is written to `pidFile`
 * before anything else runs. The exit status of the command is preserved.
 */
export function wrapCommand(command: Command, opts: WrapOptions): string {
  const lines = [
    // With setsid, fd 2 of the wrapper is /dev/null (it reports our own kills) and the real
    // stderr waits on fd 3.
    ...(opts.setsid ? ['exec 2>&3 3>&-'] : []),
    `set -C; echo $$ >${shellQuote(opts.pidFile)} || exit 125; set +C`,
  ];
  if (opts.cwd !== undefined) lines.push(`cd -- ${shellQuote(opts.cwd)} || exit 1`);
  for (const [name, value] of Object.entries(opts.env ?? {})) {
    if (!ENV_NAME.test(name)) throw new TypeError(`exec: invalid environment variable name ${JSON.stringify(name)}`);
    lines.push(`export ${name}=${shellQuote(value)}`);
  }
  lines.push(commandLine(command));
  lines.push(`rc=$?; rm -f ${shellQuote(opts.pidFile)}; exit $rc`);
  const script = shellQuote(lines.join('\n'));
  return opts.setsid ? `exec setsid -w /bin/sh -c ${script} 3>&2 2>/dev/null` : `exec /bin/sh -c ${script}`;
}

/**
 * Kills the process group recorded in `pidFile`: TERM, then KILL if anything is left after ~1 s.
 * Waits up to ~1 s for the pid file in case the command is only just starting. Zombies (already
 * dead, waiting for init to reap them) do not count as left; without a usable `ps`, every
 * member does.
 */
export function killGroupScript(pidFile: string): string {
  const f = shellQuote(pidFile);
  return [
    `i=0; while [ ! -s ${f} ] && [ $i -lt 20 ]; do sleep 0.05; i=$((i+1)); done`,
    `[ -s ${f} ] || exit 0`,
    `pg=$(cat ${f}); rm -f ${f}`,
    `case $pg in ''|*[!0-9]*) exit 0;; esac`,
    `alive() { kill -s 0 -- -$pg 2>/dev/null || return 1; s=$(ps -e -o pgid= -o stat= 2>/dev/null) || return 0; printf '%s\\n' "$s" | grep -q "^ *$pg  *[^Z]"; }`,
    `kill -s TERM -- -$pg 2>/dev/null || exit 0`,
    `i=0; while alive && [ $i -lt 20 ]; do sleep 0.05; i=$((i+1)); done`,
    `if alive; then kill -s KILL -- -$pg 2>/dev/null; fi; exit 0`,
  ].join('\n');
}

/** Probes for util-linux `setsid -w` (busybox's setsid has no -w). */
export const SETSID_PROBE = 'setsid -w true >/dev/null 2>&1';

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
