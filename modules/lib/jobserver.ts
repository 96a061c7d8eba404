/**
 * The shell that runs make on the build host under a jobserver, so that every make tsplay starts
 * on that host draws from one pool of job tokens (seed 002: steve, "one jobserver to rule them all").
 *
 * - With /dev/steve (a system-wide jobserver), make gets `--jobserver-auth=fifo:/dev/steve`.
 * - Otherwise tsplay keeps its own pool on the host: a FIFO /run/tsplay/jobserver/pool.fifo holding
 *   N one-byte tokens. Joining happens under flock(1). A pool nobody holds open is (re)filled with
 *   exactly N tokens; a pool in use is joined only when it has the same N, otherwise the newcomer
 *   waits for it to drain — so the tokens in use never exceed the N of any make sharing them.
 *   A FIFO forgets its bytes when its last holder closes it, so a crashed make can shrink a busy
 *   pool but never grow it, and the next idle fill starts clean.
 * - GNU make gives every make one job for free (the "implicit slot"). The launcher pays for it by
 *   taking one token before starting make and returning it after, so N counts every job.
 * - make 4.3 reads the pool through inherited descriptors (`--jobserver-auth=R,W`); make 4.4 opens
 *   `fifo:PATH` itself. Both get it through MAKEFLAGS: a `-j` on make's command line would make it
 *   start a private jobserver instead.
 * - On TERM/INT/HUP (tsplay aborting or timing out kills the process group) the launcher kills every
 *   descendant of itself — including compilers distcc moves into process groups of their own — so
 *   no make or cc1 outlives the task, then returns its token.
 */
import { shellQuote } from '../../engine/transport/transport.js';

export const POOL_DIR = '/run/tsplay/jobserver';
export const POOL_FIFO = `${POOL_DIR}/pool.fifo`;
export const STEVE = '/dev/steve';

/** Exit status of the launcher when it could not set up the pool (make never ran). */
export const LAUNCH_FAILED = 120;

export type JobserverKind = 'steve' | 'pool';

export interface LaunchSpec {
  kind: JobserverKind;
  /** Tokens in the pool (pool) — the doctrine's value for this make. */
  jobs: number;
  /** make's -l; 0 for none. */
  load: number;
  /** GNU make >= 4.4 takes `fifo:PATH`; older ones take descriptors. */
  fifoStyle: boolean;
  /** make and its arguments (targets, VAR=value). */
  argv: string[];
  /** Extra MAKEFLAGS words (never -j/-l/--jobserver-*). */
  extraFlags: string[];
}

/** The host facts make-jobserver needs before deciding anything. */
export const PROBE_SCRIPT = (make: string) =>
  [
    `printf 'make\\t%s\\n' "$(${shellQuote(make)} --version 2>/dev/null | sed -n 1p)"`,
    `[ -c ${STEVE} ] && printf 'steve\\t1\\n'`,
    `command -v flock >/dev/null 2>&1 && printf 'flock\\t1\\n'`,
    `find /dev/null -maxdepth 0 -printf '' >/dev/null 2>&1 && printf 'gnufind\\t1\\n'`,
    'exit 0',
  ].join('\n');

export interface HostTools {
  makeVersion: string | null;
  major: number;
  minor: number;
  steve: boolean;
  flock: boolean;
  gnuFind: boolean;
}

export function parseProbe(stdout: string): HostTools {
  const kv = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const t = line.indexOf('\t');
    if (t > 0) kv.set(line.slice(0, t), line.slice(t + 1));
  }
  const first = kv.get('make') ?? '';
  const m = /^GNU Make (\d+)\.(\d+)/.exec(first);
  return {
    makeVersion: m ? first.trim() : null,
    major: m ? Number(m[1]) : 0,
    minor: m ? Number(m[2]) : 0,
    steve: kv.get('steve') === '1',
    flock: kv.get('flock') === '1',
    gnuFind: kv.get('gnufind') === '1',
  };
}

/** `make --version` says 4.4 or later: the jobserver can be named as `fifo:PATH`. */
export function takesFifo(t: HostTools): boolean {
  return t.major > 4 || (t.major === 4 && t.minor >= 4);
}

/** Drops what make-jobserver sets itself from a user's MAKEFLAGS (parallelism is the module's job). */
export function foreignFlags(makeflags: string | undefined): { kept: string[]; dropped: string[] } {
  const kept: string[] = [];
  const dropped: string[] = [];
  const words = (makeflags ?? '').split(/\s+/).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (/^(-j|--jobs|-l|--load-average|--max-load|--jobserver-auth|--jobserver-fds|--jobserver-style)/.test(w) || /^-[A-Za-z]*[jl]/.test(w)) {
      dropped.push(w);
      // `-j 14` / `-l 14`: the number is the flag's.
      if (/^(-j|-l|--jobs|--load-average|--max-load)$/.test(w) && /^[0-9.]+$/.test(words[i + 1] ?? '')) dropped.push(words[++i]);
    } else kept.push(w);
  }
  return { kept, dropped };
}

export function makeflagsFor(spec: LaunchSpec, path: string): string {
  const auth = spec.fifoStyle ? `--jobserver-auth=fifo:${path}` : '--jobserver-auth=3,4';
  return [auth, ...(spec.load > 0 ? [`-l${spec.load}`] : []), ...spec.extraFlags].join(' ');
}

/** The launcher: join (or create) the pool, take the implicit-slot token, run make, give it back. */
export function launcherScript(spec: LaunchSpec): string {
  const path = spec.kind === 'steve' ? STEVE : POOL_FIFO;
  const flags = makeflagsFor(spec, path);
  const make = spec.argv.map(shellQuote).join(' ');
  const join =
    spec.kind === 'steve'
      ? [`exec 3<>${STEVE} || { say "cannot open ${STEVE}"; exit ${LAUNCH_FAILED}; }`, 'exec 4>&3']
      : [
          `n=${spec.jobs}; pool=${POOL_DIR}; fifo=${POOL_FIFO}; sizef=${POOL_DIR}/pool.size`,
          `mkdir -p "$pool" && chmod 700 "$pool" || { say "cannot create $pool"; exit ${LAUNCH_FAILED}; }`,
          `exec 9>>"$pool/pool.lock" || { say "cannot open $pool/pool.lock"; exit ${LAUNCH_FAILED}; }`,
          'waited=0',
          'while :; do',
          `  flock 9 || { say "flock failed"; exit ${LAUNCH_FAILED}; }`,
          `  [ -p "$fifo" ] || { rm -f "$fifo"; mkfifo -m 600 "$fifo"; } || { say "cannot create $fifo"; exit ${LAUNCH_FAILED}; }`,
          // Opened before looking for other holders, so the pool cannot vanish between the two.
          `  exec 3<>"$fifo" || { say "cannot open $fifo"; exit ${LAUNCH_FAILED}; }`,
          '  exec 4>&3',
          `  id=$(stat -L -c '%d %i' "$fifo") || exit ${LAUNCH_FAILED}`,
          '  dev=${id% *}; ino=${id#* }',
          // Every open descriptor of the FIFO on the host, but this shell's. (find and awk get no copy.)
          `  find -L /proc/[0-9]*/fd -mindepth 1 -maxdepth 1 -inum "$ino" -printf '%D %p\\n' 2>/dev/null 3<&- 4<&- >"$pool/scan.$$"`,
          `  others=$(awk -v d="$dev" -v me="/proc/$$/" '$1 == d && index($2, me) != 1' "$pool/scan.$$" 3<&- 4<&- | wc -l)`,
          '  rm -f "$pool/scan.$$"',
          '  cur=$(cat "$sizef" 2>/dev/null || echo 0)',
          '  if [ "$others" -eq 0 ]; then',
          // Idle: whatever bytes a last leaver put back are dropped, then exactly n tokens.
          '    dd if="$fifo" iflag=nonblock bs=65536 count=1 of=/dev/null 2>/dev/null 3<&- 4<&-',
          `    printf "%\${n}s" '' | tr ' ' '+' >&4 || exit ${LAUNCH_FAILED}`,
          '    echo "$n" >"$sizef"',
          '    say "pool $fifo: $n tokens (filled)"',
          '    break',
          '  elif [ "$cur" = "$n" ]; then',
          '    say "pool $fifo: $n tokens (joined, shared with $others open descriptors)"',
          '    break',
          '  fi',
          '  exec 3<&- 4<&-',
          '  flock -u 9',
          '  [ $waited = 1 ] || say "pool $fifo is in use with $cur tokens; waiting for it to drain before starting make with $n"',
          '  waited=1',
          '  sleep 1',
          'done',
          'flock -u 9; exec 9>&-',
        ];
  return [
    'set -u',
    `say() { printf '[tsplay jobserver] %s\\n' "$*" >&2; }`,
    ...join,
    'tok=""',
    'giveback() { if [ -n "$tok" ]; then printf %s "$tok" >&4; tok=""; fi; }',
    // A snapshot of the tree below this shell, taken before anything is killed: once make dies its
    // children are re-parented and no longer look like ours.
    `tree() { ps -e -o pid= -o ppid= 2>/dev/null | awk -v root=$$ '{ p[$1] = $2 } END { for (x in p) { y = x; while (y in p && y != root && y > 1) y = p[y]; if (y == root && x != root) print x } }'; }`,
    'stop() {',
    "  trap '' TERM INT HUP",
    '  kids=$(tree)',
    '  [ -n "$kids" ] && kill -s TERM $kids 2>/dev/null',
    '  sleep 0.3',
    '  [ -n "$kids" ] && kill -s KILL $kids 2>/dev/null',
    '  giveback',
    '  exit $1',
    '}',
    "trap 'stop 143' TERM; trap 'stop 130' INT; trap 'stop 129' HUP",
    // The implicit slot's token (blocks while the pool is empty).
    'tok=$(dd bs=1 count=1 2>/dev/null <&3)',
    `[ -n "$tok" ] || { say "could not take a token from the pool"; exit ${LAUNCH_FAILED}; }`,
    `say ${shellQuote(`make started with MAKEFLAGS=${flags}`)}`,
    spec.fifoStyle ? `MAKEFLAGS=${shellQuote(flags)} ${make} 3<&- 4<&- &` : `MAKEFLAGS=${shellQuote(flags)} ${make} &`,
    'wait $!; rc=$?',
    'giveback',
    'exit $rc',
  ].join('\n');
}

/** Lines worth showing when a build fails: compiler errors and make's own `***` lines. */
export class ErrorLines {
  readonly lines: string[] = [];
  private partial = '';
  constructor(private readonly max = 10) {}
  push(chunk: string): void {
    const text = this.partial + chunk;
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const l of parts) this.take(l);
  }
  end(): string[] {
    if (this.partial) this.take(this.partial);
    this.partial = '';
    return this.lines;
  }
  private take(line: string): void {
    if (this.lines.length >= this.max) return;
    if (/\berror:|Error \d+|\*\*\*/.test(line)) this.lines.push(line.trimEnd());
  }
}
