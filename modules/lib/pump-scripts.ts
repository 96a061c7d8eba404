/**
 * The POSIX shell pump runs on the build host, as pure functions of their inputs, and the parsers
 * of what they print (tab-separated `kind<TAB>value` lines).
 *
 * Precision matters on a shared host: a stale include server is a process whose argv *runs*
 * include_server.py (python … include_server.py …), not any command line that mentions it, and it
 * must live in this host's mount namespace — where /tmp/distcc-pump.* is — so a container's (or,
 * in the lab, another namespace host's) include server is never touched.
 */
import { shellQuote } from '../../engine/transport/transport.js';
import type { PumpEnv } from './pump-env.js';

/** Prints `pump<TAB>path` for the pump script: the one named, else `pump`, else Debian's `distcc-pump`. */
export function locatePumpScript(named?: string): string {
  const candidates = named ? [named] : ['pump', 'distcc-pump'];
  return [...candidates.map((c) => `p=$(command -v ${shellQuote(c)} 2>/dev/null) && { printf 'pump\\t%s\\n' "$p"; exit 0; }`), 'exit 3'].join('\n');
}

/**
 * Lists (and with apply=true, kills) stale include servers, lists (and removes) pump's temp dirs
 * and files, and the env file; then reports the toolchain. Reads first: with apply=false nothing
 * changes (check mode).
 */
export function preflightScript(opts: { apply: boolean; envFile: string }): string {
  const apply = opts.apply ? 1 : 0;
  return [
    'set -u',
    `apply=${apply}; envfile=${shellQuote(opts.envFile)}`,
    'me=$(readlink /proc/self/ns/mnt)',
    'pids=""',
    // grep -l prefilters cheaply; each candidate's argv is then checked word by word.
    `for f in $(grep -las 'include_server\\.py' /proc/[0-9]*/cmdline 2>/dev/null); do`,
    '  d=${f%/cmdline}; pid=${d#/proc/}',
    '  [ "$pid" = "$$" ] && continue',
    '  [ "$(readlink "$d/ns/mnt" 2>/dev/null)" = "$me" ] || continue',
    `  a0=$(tr '\\0' '\\n' <"$f" 2>/dev/null | sed -n 1p); a1=$(tr '\\0' '\\n' <"$f" 2>/dev/null | sed -n 2p); a2=$(tr '\\0' '\\n' <"$f" 2>/dev/null | sed -n 3p)`,
    '  is=0',
    '  case ${a0##*/} in',
    '    include_server.py) is=1 ;;',
    '    python*) [ "${a1##*/}" = include_server.py ] && is=1; case $a1 in -*) [ "${a2##*/}" = include_server.py ] && is=1 ;; esac ;;',
    '  esac',
    '  [ $is = 1 ] || continue',
    `  printf 'server\\t%s\\t%s\\n' "$pid" "$(tr '\\0' ' ' <"$f" 2>/dev/null)"`,
    '  pids="$pids $pid"',
    'done',
    'if [ $apply = 1 ] && [ -n "$pids" ]; then',
    '  kill -s TERM $pids 2>/dev/null',
    // Gone, or a zombie (empty cmdline): either way it no longer serves.
    `  live() { [ -n "$(tr -d '\\0' </proc/$1/cmdline 2>/dev/null)" ]; }`,
    '  i=0; while [ $i -lt 40 ]; do left=""; for p in $pids; do live $p && left="$left $p"; done; [ -z "$left" ] && break; sleep 0.05; i=$((i+1)); done',
    '  for p in $pids; do live $p && kill -s KILL $p 2>/dev/null; done',
    '  sleep 0.1',
    `  for p in $pids; do if live $p; then printf 'survived\\t%s\\n' $p; else printf 'killed\\t%s\\n' $p; fi; done`,
    'fi',
    'for d in /tmp/distcc-pump.*; do',
    '  [ -d "$d" ] && [ ! -L "$d" ] || continue',
    `  printf 'dir\\t%s\\n' "$d"`,
    '  [ $apply = 1 ] && rm -rf -- "$d"',
    'done',
    'for f in /tmp/distcc-pump-pid.* /tmp/distcc-pump-hosts.*; do',
    '  [ -f "$f" ] && [ ! -L "$f" ] || continue',
    `  printf 'file\\t%s\\n' "$f"`,
    '  [ $apply = 1 ] && rm -f -- "$f"',
    'done',
    `if [ -e "$envfile" ]; then printf 'envfile\\t%s\\n' "$envfile"; [ $apply = 1 ] && rm -f -- "$envfile"; fi`,
    `printf 'PATH\\t%s\\n' "$PATH"`,
    `if [ "\${CC+set}" = set ]; then printf 'CC\\t%s\\n' "$CC"; fi`,
    `if [ "\${HOSTCC+set}" = set ]; then printf 'HOSTCC\\t%s\\n' "$HOSTCC"; fi`,
    `for t in gcc distcc pump distcc-pump make; do printf 'tool\\t%s\\t%s\\n' "$t" "$(command -v $t 2>/dev/null)"; done`,
    `command -v gcc >/dev/null 2>&1 && printf 'version\\tgcc\\t%s\\n' "$(gcc -dumpfullversion 2>/dev/null)"`,
    `command -v distcc >/dev/null 2>&1 && printf 'version\\tdistcc\\t%s\\n' "$(distcc --version 2>/dev/null | sed -n 1p)"`,
    `command -v make >/dev/null 2>&1 && printf 'version\\tmake\\t%s\\n' "$(make --version 2>/dev/null | sed -n 1p)"`,
    // pump runs the include server with the interpreter named in its own script.
    `for t in pump distcc-pump; do s=$(command -v $t 2>/dev/null) || continue; py=$(sed -n 's/^PYTHON=//p' "$s" | sed -n 1p); [ -n "$py" ] && printf 'version\\tpython\\t%s\\n' "$("$py" --version 2>&1)"; break; done`,
    'exit 0',
  ].join('\n');
}

export interface PreflightReport {
  servers: { pid: number; cmdline: string; killed: boolean }[];
  dirs: string[];
  files: string[];
  envFile: string | null;
  path: string;
  cc: string | null;
  hostcc: string | null;
  tools: Record<string, string | null>;
  versions: Record<string, string>;
}

export function parsePreflight(stdout: string): PreflightReport {
  const r: PreflightReport = { servers: [], dirs: [], files: [], envFile: null, path: '', cc: null, hostcc: null, tools: {}, versions: {} };
  const killed = new Set<number>();
  for (const line of stdout.split('\n')) {
    const f = line.split('\t');
    switch (f[0]) {
      case 'server':
        r.servers.push({ pid: Number(f[1]), cmdline: (f[2] ?? '').trim(), killed: false });
        break;
      case 'killed':
        killed.add(Number(f[1]));
        break;
      case 'dir':
        r.dirs.push(f[1]);
        break;
      case 'file':
        r.files.push(f[1]);
        break;
      case 'envfile':
        r.envFile = f[1];
        break;
      case 'PATH':
        r.path = f.slice(1).join('\t');
        break;
      case 'CC':
        r.cc = f.slice(1).join('\t');
        break;
      case 'HOSTCC':
        r.hostcc = f.slice(1).join('\t');
        break;
      case 'tool':
        r.tools[f[1]] = f[2] ? f[2] : null;
        break;
      case 'version':
        if (f[2]) r.versions[f[1]] = f[2];
        break;
    }
  }
  for (const s of r.servers) s.killed = killed.has(s.pid);
  return r;
}

/**
 * Stops a pump session: `pump --shutdown` with the session's variables when its include server is
 * alive (bounded: pump's own wait loop never ends on a process that cannot be reaped), then makes
 * sure the server is gone and its directory removed. Prints `stopped`/`survived` and `removed`.
 */
export function shutdownScript(pump: string, env: PumpEnv, alive: boolean): string {
  const pid = /^[0-9]+$/.test(env.INCLUDE_SERVER_PID) ? env.INCLUDE_SERVER_PID : '0';
  return [
    `pid=${pid}; dir=${shellQuote(env.INCLUDE_SERVER_DIR)}`,
    `live() { [ "$pid" != 0 ] && case "$(tr '\\0' ' ' </proc/$pid/cmdline 2>/dev/null)" in *include_server.py*) true ;; *) false ;; esac; }`,
    alive ? `INCLUDE_SERVER_PID=$pid INCLUDE_SERVER_DIR="$dir" timeout 20 ${shellQuote(pump)} --shutdown` : ':',
    'if live; then kill -s KILL $pid 2>/dev/null; sleep 0.2; fi',
    `if live; then printf 'survived\\t%s\\n' $pid; else printf 'stopped\\t%s\\n' $pid; fi`,
    // pump --shutdown removes the dir; when the server was already dead it was not run.
    `case $dir in /*/distcc-pump.*) if [ -d "$dir" ]; then rm -rf -- "$dir"; printf 'removed\\t%s\\n' "$dir"; fi ;; esac`,
    'exit 0',
  ].join('\n');
}

/** `pump --startup` with DISTCC_HOSTS (DISTCC_POTENTIAL_HOSTS emptied so pump takes DISTCC_HOSTS as given). */
export function startupCommand(pump: string): string {
  return `${shellQuote(pump)} --startup`;
}
