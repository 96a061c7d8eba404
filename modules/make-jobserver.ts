/**
 * make-jobserver: runs GNU make on the build host with a doctrine-checked job count, under a
 * jobserver shared by every make tsplay starts there (/dev/steve when the host has it, else
 * tsplay's own token pool — modules/lib/jobserver.ts), through distcc: in pump mode when pump is
 * healthy, else plain distcc with DISTCC_HOSTS from the manifest. A throttled host (the thermal
 * module's fact) gets the doctrine's diagnostic value instead.
 */
import type { ModuleDef, ParallelismUse, TaskContext, TaskResult } from '../engine/module-types.js';
import type { JobsLevel } from '../engine/doctrine-types.js';
import { scanJobs } from '../engine/doctrine/scan.js';
import { ArgError, intArg, numberArg, orTemplate } from './lib/args.js';
import { checkManifestStatically, describeProblems, fetchManifest, manifestPath, renderDistccHosts, MANIFEST_VAR } from './lib/distcc-manifest.js';
import { DEFAULT_ENV_FILE, envRecord, parseExports, toPumpEnv } from './lib/pump-env.js';
import { checkHealth, PUMP_FACT, type PumpFact } from './lib/pump-health.js';
import { ErrorLines, foreignFlags, launcherScript, parseProbe, takesFifo, LAUNCH_FAILED, POOL_FIFO, PROBE_SCRIPT, STEVE, type JobserverKind } from './lib/jobserver.js';

export interface MakeJobserverArgs {
  chdir: string;
  target?: string | string[];
  jobs?: number | string;
  load?: number | string;
  variables?: Record<string, string | number | boolean>;
  pump?: 'auto' | 'on' | 'off';
  manifest?: string;
  make?: string;
  env_file?: string;
  jobserver?: 'auto' | 'steve' | 'pool';
}

/** What the thermal module leaves on the host (modules/thermal.ts, fact `tsplay_thermal`). */
interface ThermalFact {
  throttled?: boolean;
  celsius?: number | null;
  threshold_c?: number;
}

const MAKE_VARS = ['MAKEFLAGS', 'MAKEOPTS'];

function levelOf(jobs: number, ctx: TaskContext): JobsLevel | 'other' {
  const l = ctx.doctrine.levels;
  return jobs === l.production ? 'production' : jobs === l.diagnostic ? 'diagnostic' : jobs === l.experimental ? 'experimental' : 'other';
}

interface PumpChoice {
  used: boolean;
  env: Record<string, string>;
  distccHosts: string | null;
  why: string;
}

async function choosePump(ctx: TaskContext, args: MakeJobserverArgs, envFile: string): Promise<PumpChoice | { fail: string }> {
  const mode = args.pump ?? 'auto';
  let state: PumpFact['state'] | undefined;
  let cause: string | undefined;
  if (mode !== 'off') {
    const fact = ctx.vars[PUMP_FACT] as Partial<PumpFact> | undefined;
    if (fact && typeof fact === 'object' && typeof fact.state === 'string' && (fact.env_file ?? envFile) === envFile) {
      state = fact.state;
      cause = fact.cause;
    } else {
      // No pump task earlier in this run: ask the host (the same probe pump health runs).
      const h = await checkHealth(ctx.transport, envFile, ctx.signal, ctx.environment);
      state = h.state;
      cause = h.cause;
      ctx.decision(`pump: no ${PUMP_FACT} fact in this run, so checked ${envFile} now: ${h.state}${h.cause ? ` — ${h.cause}` : ''}`, { state: h.state, cause: h.cause ?? null });
    }
    if (state === 'healthy') {
      const buf = await ctx.transport.get(envFile);
      const parsed = buf ? toPumpEnv(parseExports(buf.toString('utf8'))) : { missing: ['the file'] };
      if (!('missing' in parsed)) {
        return { used: true, env: envRecord(parsed.env), distccHosts: parsed.env.DISTCC_HOSTS, why: `pump is healthy: pump mode with the session in ${envFile}` };
      }
      state = 'degraded';
      cause = `${envFile} vanished or is incomplete`;
    }
    if (mode === 'on') return { fail: `pump: on, but pump is ${state}${cause ? `: ${cause}` : ''}` };
  }
  const why = mode === 'off' ? 'pump: off' : `pump not used: it is ${state}${cause ? ` (${cause})` : ''}`;
  const file = manifestPath(args.manifest, ctx.vars, ctx.playbookDir);
  if (!file) return { used: false, env: {}, distccHosts: null, why: `${why}; no manifest (no \`manifest:\`, no ${MANIFEST_VAR}), so distcc uses its own hosts file` };
  const m = await fetchManifest(ctx.controller, file);
  if (!m.ok) return { fail: `invalid distcc manifest: ${describeProblems(m.diagnostics)}` };
  const hosts = renderDistccHosts(m.manifest, 'plain');
  return { used: false, env: { DISTCC_HOSTS: hosts }, distccHosts: hosts, why: `${why}; plain distcc with DISTCC_HOSTS from ${file}` };
}

function targets(t: MakeJobserverArgs['target']): string[] {
  const list = t === undefined ? [] : Array.isArray(t) ? t : [t];
  for (const x of list) if (typeof x !== 'string' || x === '' || x.startsWith('-')) throw new ArgError(`target must be make targets, not options: ${JSON.stringify(x)}`);
  return list;
}

export const makeJobserver: ModuleDef<MakeJobserverArgs> = {
  name: 'make-jobserver',
  description:
    'Run GNU make on the build host with a doctrine-checked job count (default: production, -j14) under a jobserver every tsplay make on that host shares (/dev/steve when present, else a token pool tsplay keeps in /run/tsplay/jobserver), with a load limit, through distcc — in pump mode when pump is healthy, else plain distcc with DISTCC_HOSTS from the manifest. Throttled hosts drop to the diagnostic value. Output streams live; the result has rc, duration, jobs and the first error lines.',
  build: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['chdir'],
    properties: {
      chdir: { type: 'string', minLength: 1, description: 'The directory to run make in (the tree’s top).' },
      target: {
        anyOf: [
          { type: 'string', minLength: 1, pattern: '^[^-]' },
          { type: 'array', items: { type: 'string', minLength: 1, pattern: '^[^-]' } },
        ],
        description: 'Make target(s). Default: make’s default goal.',
      },
      jobs: orTemplate({ type: 'integer', minimum: 1 }, { description: 'Jobs (tokens in the pool). Checked against the doctrine before the run. Default: the doctrine’s production value (14).' }),
      load: orTemplate({ type: 'number', minimum: 0 }, { description: 'make -l: start no new job above this load average. Default: the job count; 0 for none.' }),
      variables: {
        type: 'object',
        propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
        additionalProperties: { type: ['string', 'number', 'boolean'] },
        description: 'Make variables, passed on make’s command line (e.g. CC: "distcc gcc").',
      },
      pump: { enum: ['auto', 'on', 'off'], default: 'auto', description: '`auto`: pump mode when pump is healthy (fact tsplay_pump, else checked now), plain distcc otherwise; `on`: fail unless healthy; `off`: plain distcc.' },
      manifest: { type: 'string', minLength: 1, description: `The distcc manifest on the controller, for DISTCC_HOSTS without pump. Default: the variable \`${MANIFEST_VAR}\`.` },
      make: { type: 'string', minLength: 1, default: 'make', description: 'The GNU make to run.' },
      env_file: { type: 'string', pattern: '^/', default: DEFAULT_ENV_FILE, description: 'The pump env file (see pump).' },
      jobserver: { enum: ['auto', 'steve', 'pool'], default: 'auto', description: '`auto`: /dev/steve when the host has it, else tsplay’s pool; `pool`: always tsplay’s pool (its size is the doctrine’s value; steve’s is its own).' },
    },
  },
  parallelism(args): ParallelismUse[] {
    const out: ParallelismUse[] = [];
    if (args.jobs !== undefined) {
      const v = args.jobs;
      const n = typeof v === 'number' ? v : /^[0-9]+$/.test(String(v).trim()) ? Number(String(v).trim()) : Number.NaN;
      out.push({ jobs: n, raw: `jobs: ${String(v)}`, arg: 'jobs' });
    }
    for (const [k, v] of Object.entries(args.variables ?? {})) {
      if (!MAKE_VARS.includes(k)) continue;
      for (const t of scanJobs(String(v))) out.push({ jobs: t.jobs, raw: `${k}=${t.raw}`, arg: 'variables' });
    }
    return out;
  },
  staticCheck(args, ctx) {
    const problems = args.manifest !== undefined || args.pump !== 'on' ? checkManifestStatically(args.manifest, ctx.vars, ctx.playbookDir, false) : [];
    for (const k of Object.keys(args.variables ?? {})) {
      if (k === 'MAKEFLAGS') problems.push({ code: 'args/makeflags-variable', arg: 'variables', message: 'variables.MAKEFLAGS would be on make’s command line and replace the jobserver make-jobserver sets up', hint: 'set `jobs:`/`load:`; other make flags can go in the task’s environment MAKEFLAGS (its -j/-l are dropped)' });
    }
    return problems;
  },
  examples: [
    '```yaml',
    '- name: Build the kernel through distcc (pump when healthy), -j14 under the jobserver',
    '  make-jobserver:',
    '    chdir: /srv/build/linux',
    '    target: [olddefconfig, bzImage]',
    '    variables: { CC: "distcc gcc" }',
    '  register: build',
    '```',
  ].join('\n'),
  async run(ctx: TaskContext, args: MakeJobserverArgs): Promise<TaskResult> {
    const started = Date.now();
    let jobs: number;
    let load: number;
    let goals: string[];
    try {
      jobs = args.jobs === undefined ? ctx.doctrine.levels.production : intArg('jobs', args.jobs, 1);
      if (jobs >= ctx.doctrine.forbidden_from) throw new ArgError(`jobs: ${jobs} is forbidden on ${ctx.host.hardwareClass} hardware (-j${ctx.doctrine.forbidden_from} and above)`);
      goals = targets(args.target);
    } catch (err) {
      if (err instanceof ArgError) return { changed: false, failed: true, msg: err.message };
      throw err;
    }

    // Thermal: a throttled host builds at the diagnostic value (PARALLELISM.md §4).
    const thermal = ctx.vars.tsplay_thermal as ThermalFact | undefined;
    const throttled = thermal?.throttled === true;
    if (throttled && jobs > ctx.doctrine.levels.diagnostic) {
      const was = jobs;
      jobs = ctx.doctrine.levels.diagnostic;
      const temp = typeof thermal!.celsius === 'number' ? `${thermal!.celsius}°C` : 'temperature unknown';
      const limit = typeof thermal!.threshold_c === 'number' ? ` ≥ ${thermal!.threshold_c}°C` : '';
      ctx.decision(`thermal: ${ctx.host.name} is throttled (${temp}${limit}): -j${jobs} (diagnostic) instead of -j${was}`, { jobs, was, celsius: thermal!.celsius ?? null, threshold_c: thermal!.threshold_c ?? null });
    }
    try {
      load = args.load === undefined ? jobs : numberArg('load', args.load, 0);
    } catch (err) {
      if (err instanceof ArgError) return { changed: false, failed: true, msg: err.message };
      throw err;
    }

    const makeCmd = args.make ?? 'make';
    const probe = await ctx.transport.exec(PROBE_SCRIPT(makeCmd), { signal: ctx.signal, timeoutMs: 30000 });
    const tools = parseProbe(probe.stdout);
    if (!tools.makeVersion) return { changed: false, failed: true, msg: `\`${makeCmd}\` on ${ctx.host.name} is not GNU make (or is missing): make-jobserver needs GNU make's jobserver` };
    const mode = args.jobserver ?? 'auto';
    let kind: JobserverKind;
    if (mode === 'steve' || (mode === 'auto' && tools.steve)) {
      if (!tools.steve) return { changed: false, failed: true, msg: `jobserver: steve, but ${ctx.host.name} has no ${STEVE}` };
      kind = 'steve';
    } else {
      if (!tools.flock || !tools.gnuFind) {
        return { changed: false, failed: true, msg: `tsplay's token pool needs flock (util-linux) and GNU find on ${ctx.host.name}; missing: ${[!tools.flock && 'flock', !tools.gnuFind && 'GNU find'].filter(Boolean).join(', ')}` };
      }
      kind = 'pool';
    }
    const fifoStyle = takesFifo(tools);
    const jobserver = kind === 'steve' ? `fifo:${STEVE}` : `tsplay-pool:${POOL_FIFO}`;

    const envFile = args.env_file ?? DEFAULT_ENV_FILE;
    const pumpChoice = await choosePump(ctx, args, envFile);
    if ('fail' in pumpChoice) return { changed: false, failed: true, msg: pumpChoice.fail };
    ctx.decision(pumpChoice.why, { pump: pumpChoice.used, distcc_hosts: pumpChoice.distccHosts });

    const flags = foreignFlags(ctx.environment.MAKEFLAGS);
    if (flags.dropped.length) ctx.decision(`MAKEFLAGS from the task environment: dropped ${flags.dropped.join(' ')} (make-jobserver sets the jobserver and -l itself)`);
    if (args.variables && 'MAKEFLAGS' in args.variables) return { changed: false, failed: true, msg: 'variables.MAKEFLAGS would replace the jobserver on make’s command line; use jobs/load, or the task environment’s MAKEFLAGS' };
    const vars = Object.entries(args.variables ?? {}).map(([k, v]) => `${k}=${String(v)}`);
    const argv = [makeCmd, ...vars, ...goals];
    const level = levelOf(jobs, ctx);
    ctx.decision(
      `make: -j${jobs}${level !== 'other' ? ` (${level})` : ''} under ${jobserver}${kind === 'pool' ? ` (${jobs} tokens, one held for make's implicit slot)` : ` (steve's own pool size applies)`}, ${load > 0 ? `-l${load}` : 'no load limit'}, ${tools.makeVersion}${fifoStyle ? '' : ' (jobserver by descriptors)'}, ${pumpChoice.used ? 'pump mode' : 'plain distcc'}`,
      { jobs, load, level, jobserver, make_version: tools.makeVersion, pump: pumpChoice.used, throttled },
    );
    const baseData = { jobs, load, level, jobserver, make_version: tools.makeVersion, pump: pumpChoice.used, distcc_hosts: pumpChoice.distccHosts, throttled, chdir: args.chdir, argv };
    if (ctx.check) return { changed: false, skipped: true, msg: `would run \`${argv.join(' ')}\` in ${args.chdir} with -j${jobs} under ${jobserver}`, data: baseData };

    const script = launcherScript({ kind, jobs, load, fifoStyle, argv, extraFlags: flags.kept });
    const env: Record<string, string> = { ...ctx.environment, ...pumpChoice.env };
    delete env.MAKEFLAGS;
    delete env.MAKEOPTS;
    if (!pumpChoice.used) {
      // Left over from a pump session in the caller's environment, these would send distcc to a dead include server.
      env.INCLUDE_SERVER_PORT = '';
    }
    const errors = new ErrorLines();
    const r = await ctx.transport.exec(script, {
      cwd: args.chdir,
      env,
      signal: ctx.signal,
      timeoutMs: ctx.timeoutMs,
      onStdout: (s) => {
        errors.push(s);
        ctx.output('stdout', s);
      },
      onStderr: (s) => {
        errors.push(s);
        ctx.output('stderr', s);
      },
    });
    const errorLines = errors.end();
    const duration = Math.round((Date.now() - started) / 100) / 10;
    const data = { ...baseData, rc: r.rc, duration_s: duration, error_lines: errorLines };
    const what = `make -j${jobs}${goals.length ? ' ' + goals.join(' ') : ''} in ${args.chdir}`;
    if (r.timedOut) return { changed: true, failed: true, rc: r.rc, stdout: r.stdout, stderr: r.stderr, data, msg: `timed out: ${what} was killed with every compiler it started` };
    if (r.aborted) return { changed: true, failed: true, rc: r.rc, stdout: r.stdout, stderr: r.stderr, data, msg: `interrupted: ${what} was killed with every compiler it started` };
    if (r.rc === LAUNCH_FAILED && /\[tsplay jobserver\]/.test(r.stderr) && !/make started with/.test(r.stderr)) {
      const why = r.stderr.split('\n').filter((l) => l.startsWith('[tsplay jobserver]')).pop() ?? '';
      return { changed: false, failed: true, rc: r.rc, stderr: r.stderr, data, msg: `make did not start: ${why.replace('[tsplay jobserver] ', '')}` };
    }
    if (r.rc !== 0) {
      return { changed: true, failed: true, rc: r.rc, stdout: r.stdout, stderr: r.stderr, data, msg: `${what} failed (exit ${r.rc}) after ${duration}s${errorLines.length ? `: ${errorLines.slice(0, 5).join(' | ')}` : ''}` };
    }
    return { changed: true, rc: 0, stdout: r.stdout, stderr: r.stderr, data, msg: `${what} ok in ${duration}s (${jobserver}, ${pumpChoice.used ? 'pump' : 'plain distcc'})` };
  },
};
