/**
 * Is pump mode really working? A live include-server process and its socket are not enough:
 * Debian 12's distcc-pump 3.4 include server starts fine under Python 3.11, then dies on the first
 * compile ("PY_SSIZE_T_CLEAN macro must be defined for '#' formats") and distcc silently falls back
 * to preprocessing locally. So health also runs a probe compile through distcc with the session's
 * variables and DISTCC_VERBOSE=1, and calls pump healthy only when the include server handed back
 * the probe's own header and the compile ran on a worker.
 *
 * The remote scripts are read-only apart from the probe's temp dir; classify() is pure.
 */
import type { Transport } from '../../engine/transport/transport.js';
import { shellQuote } from '../../engine/transport/transport.js';
import { envRecord, parseExports, toPumpEnv, type PumpEnv } from './pump-env.js';

export type PumpState = 'off' | 'healthy' | 'degraded';

/** The host fact `tsplay_pump`, read by make-jobserver's `pump: auto`. */
export interface PumpFact {
  state: PumpState;
  cause?: string;
  env_file: string;
  distcc_hosts: string | null;
}

export const PUMP_FACT = 'tsplay_pump';

/** The probe's header: the include server must name it for pump to count as serving includes. */
export const PROBE_HEADER = 'tsplay_pump_probe.h';

export interface ServerStatus {
  /** A live (non-zombie) process with that pid whose command line runs include_server.py. */
  alive: boolean;
  cmdline: string;
  socket: boolean;
  /** The tail of the include server's stderr (pump --startup redirects it into INCLUDE_SERVER_DIR). */
  stderr: string;
}

export interface ProbeResult {
  rc: number;
  /** distcc's verbose log (stderr) and the compiler's messages. */
  log: string;
}

export interface HealthReport {
  state: PumpState;
  cause?: string;
  /** What an operator can do about the cause. */
  hint?: string;
  env?: PumpEnv;
  server?: ServerStatus;
  probe?: {
    ran: boolean;
    rc?: number;
    includes_served: boolean;
    /** The worker the probe compiled on, or null when it compiled locally. */
    compiled_on: string | null;
    /** distcc's fallback warnings, verbatim. */
    fallback: string[];
  };
}

const MARK = '--- include server stderr';

function statusScript(env: PumpEnv): string {
  const pid = /^[0-9]+$/.test(env.INCLUDE_SERVER_PID) ? env.INCLUDE_SERVER_PID : '0';
  return [
    `pid=${pid}; dir=${shellQuote(env.INCLUDE_SERVER_DIR)}; port=${shellQuote(env.INCLUDE_SERVER_PORT)}`,
    // A zombie's cmdline is empty, so an include server that died unreaped does not count as alive.
    `alive=0; cmd=''`,
    `if [ "$pid" != 0 ] && [ -r /proc/$pid/cmdline ]; then cmd=$(tr '\\0' ' ' </proc/$pid/cmdline 2>/dev/null); case $cmd in *include_server.py*) alive=1;; esac; fi`,
    `sock=0; [ -S "$port" ] && sock=1`,
    `printf 'alive\\t%s\\ncmdline\\t%s\\nsocket\\t%s\\n' "$alive" "$cmd" "$sock"`,
    `echo ${shellQuote(MARK)}`,
    `[ -f "$dir/stderr" ] && tail -c 16384 "$dir/stderr"`,
    'exit 0',
  ].join('\n');
}

export function parseStatus(stdout: string): ServerStatus {
  const at = stdout.indexOf(MARK);
  const head = at >= 0 ? stdout.slice(0, at) : stdout;
  const stderr = at >= 0 ? stdout.slice(at + MARK.length).replace(/^\n/, '') : '';
  const kv = new Map<string, string>();
  for (const line of head.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) kv.set(line.slice(0, tab), line.slice(tab + 1));
  }
  return { alive: kv.get('alive') === '1', cmdline: (kv.get('cmdline') ?? '').trim(), socket: kv.get('socket') === '1', stderr };
}

const PROBE_SCRIPT = [
  'd=$(mktemp -d /tmp/tsplay-pump-probe.XXXXXX) || exit 90',
  'cd "$d" || exit 90',
  `printf '#define TSPLAY_PUMP_PROBE 42\\n' >${PROBE_HEADER}`,
  `printf '#include "${PROBE_HEADER}"\\nint tsplay_pump_probe(void) { return TSPLAY_PUMP_PROBE; }\\n' >probe.c`,
  'distcc gcc -c probe.c -o probe.o; rc=$?',
  'cd / && rm -rf "$d"',
  'exit $rc',
].join('\n');

export async function serverStatus(t: Transport, env: PumpEnv, signal?: AbortSignal): Promise<ServerStatus> {
  const r = await t.exec(statusScript(env), { signal, timeoutMs: 20000 });
  return parseStatus(r.stdout);
}

/** The probe runs with the task's environment (a PATH to another distcc, say) under the session's variables. */
export async function runProbe(t: Transport, env: PumpEnv, signal?: AbortSignal, taskEnv: Record<string, string> = {}): Promise<ProbeResult> {
  const r = await t.exec(PROBE_SCRIPT, { env: { ...taskEnv, ...envRecord(env), DISTCC_VERBOSE: '1' }, signal, timeoutMs: 120000 });
  return { rc: r.rc, log: `${r.stderr}\n${r.stdout}` };
}

const FALLBACK = /failed to get includes from include server|include server gave up analyzing|INCLUDE_SERVER_PORT not set|failed to connect to UNIX-DOMAIN|preprocessing locally|include server failed|running unpumped/;

/** What the include server's own log says went wrong, as one line, and a hint when it is a known problem. */
export function serverCause(stderr: string): { cause: string; hint?: string } | undefined {
  const internal = /Include server internal error: '<class '([^']+)'>: \((["'])(.*?)\2,?\)'/.exec(stderr);
  if (internal) {
    const cause = `include server internal error: ${internal[1]}: ${internal[3]}`;
    if (/PY_SSIZE_T_CLEAN/.test(internal[3])) {
      return {
        cause: `${cause} — Debian 12's distcc-pump 3.4 include server is broken under Python 3.11; every compile falls back to local preprocessing`,
        hint: 'pump mode gives no benefit on this host: build with plain distcc (make-jobserver does when pump is not healthy), or install a distcc-pump built with PY_SSIZE_T_CLEAN',
      };
    }
    return { cause };
  }
  const generic = /Include server internal error: (.*)/.exec(stderr);
  if (generic) return { cause: `include server internal error: ${generic[1].trim()}` };
  // A Python traceback: its last line names the exception.
  const tb = stderr.lastIndexOf('Traceback (most recent call last)');
  if (tb >= 0) {
    const last = stderr.slice(tb).trim().split('\n').filter((l) => /^\w[\w.]*(Error|Exception)\b/.test(l)).pop();
    if (last) return { cause: `include server crashed: ${last.trim()}` };
  }
  return undefined;
}

export interface Evidence {
  env?: PumpEnv;
  /** Why there is no usable env (missing file, missing names). */
  envProblem?: string;
  server?: ServerStatus;
  /** The status read again after the probe (the probe can kill a broken include server). */
  after?: ServerStatus;
  probe?: ProbeResult;
}

/** The truth table (README: pump → health → the truth table): evidence in, state and cause out. */
export function classify(e: Evidence): HealthReport {
  if (!e.env) return { state: 'off', cause: e.envProblem ?? 'pump has not been started (no env file)' };
  const server = e.after ?? e.server!;
  const known = serverCause(server.stderr) ?? (e.server ? serverCause(e.server.stderr) : undefined);
  const base = { env: e.env, server };
  if (!e.probe) {
    const probe = { ran: false, includes_served: false, compiled_on: null, fallback: [] };
    if (known) return { ...base, probe, state: 'degraded', ...known };
    if (!e.server!.alive) return { ...base, probe, state: 'degraded', cause: `the include server (pid ${e.env.INCLUDE_SERVER_PID}) is not running`, hint: 'run pump start again' };
    return { ...base, probe, state: 'degraded', cause: `the include server's socket ${e.env.INCLUDE_SERVER_PORT} is missing`, hint: 'run pump stop, then pump start' };
  }
  const log = e.probe.log;
  const fallback = log.split('\n').filter((l) => FALLBACK.test(l)).map((l) => l.trim());
  const served = /\(dcc_r_argv\) reading [1-9][0-9]* arguments/.test(log) && log.split('\n').some((l) => l.includes('(dcc_r_argv)') && l.includes(PROBE_HEADER));
  const compiledOn = /compile probe\.c on (\S+) completed ok/.exec(log)?.[1] ?? null;
  const remote = compiledOn !== null && !/^localhost\b/.test(compiledOn) ? compiledOn.replace(/[:/,].*$/, '') : null;
  const probe = { ran: true, rc: e.probe.rc, includes_served: served, compiled_on: remote, fallback };
  if (served && fallback.length === 0 && remote && e.probe.rc === 0) return { ...base, probe, state: 'healthy' };
  if (known) return { ...base, probe, state: 'degraded', ...known };
  if (fallback.length) return { ...base, probe, state: 'degraded', cause: `distcc fell back to local preprocessing: ${fallback.map(stripPrefix).join('; ')}` };
  if (e.probe.rc !== 0) return { ...base, probe, state: 'degraded', cause: `the probe compile failed (exit ${e.probe.rc}): ${lastLines(log, 2)}` };
  if (served && !remote) return { ...base, probe, state: 'degraded', cause: 'the include server served the includes, but the probe did not compile on a worker (are the workers reachable?)' };
  return { ...base, probe, state: 'degraded', cause: 'the probe compile did not show the include server serving includes' };
}

function stripPrefix(line: string): string {
  return line.replace(/^distcc\[\d+\]\s*(\([a-z_]+\)\s*)?/, '');
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).map(stripPrefix).join(' | ');
}

/** Reads the env file and decides; runs the probe only when there is a live server to probe. */
export async function checkHealth(t: Transport, envFile: string, signal?: AbortSignal, taskEnv: Record<string, string> = {}): Promise<HealthReport> {
  const loaded = await readPumpEnv(t, envFile);
  if (!loaded.env) return classify({ envProblem: loaded.problem });
  const server = await serverStatus(t, loaded.env, signal);
  if (!server.alive || !server.socket) return classify({ env: loaded.env, server });
  const probe = await runProbe(t, loaded.env, signal, taskEnv);
  const after = await serverStatus(t, loaded.env, signal);
  return classify({ env: loaded.env, server, probe, after });
}

export async function readPumpEnv(t: Transport, envFile: string): Promise<{ env?: PumpEnv; problem?: string }> {
  const buf = await t.get(envFile);
  if (buf === null) return { problem: `pump has not been started (no ${envFile})` };
  const r = toPumpEnv(parseExports(buf.toString('utf8')));
  if ('missing' in r) return { problem: `${envFile} lacks ${r.missing.join(', ')}` };
  return { env: r.env };
}

export function toFact(r: HealthReport, envFile: string): PumpFact {
  const f: PumpFact = { state: r.state, env_file: envFile, distcc_hosts: r.env?.DISTCC_HOSTS ?? null };
  if (r.cause) f.cause = r.cause;
  return f;
}
