/**
 * pump: distcc's pump mode on the build host, as the lifecycle seed's `pumpctl` — preflight (clear
 * stale include servers and pump dirs, report the toolchain), start (`pump --startup` with
 * DISTCC_HOSTS from the manifest, session kept in an owner-only env file), health (a probe compile
 * that proves the include server serves includes) and stop (`pump --shutdown`).
 *
 * Every action sets the host fact `tsplay_pump` ({state: off|healthy|degraded, cause?, env_file,
 * distcc_hosts}); make-jobserver's `pump: auto` reads it.
 */
import path from 'node:path';
import type { ModuleDef, TaskContext, TaskResult } from '../engine/module-types.js';
import { ArgError, boolArg, numberArg, orTemplate, sleep } from './lib/args.js';
import { checkManifestStatically, describeProblems, fetchManifest, manifestPath, renderDistccHosts, MANIFEST_VAR } from './lib/distcc-manifest.js';
import { DEFAULT_ENV_FILE, parseExports, renderPumpEnv, toPumpEnv, type PumpEnv } from './lib/pump-env.js';
import { checkHealth, readPumpEnv, serverStatus, toFact, PUMP_FACT, type HealthReport, type PumpFact } from './lib/pump-health.js';
import { locatePumpScript, parsePreflight, preflightScript, shutdownScript, startupCommand } from './lib/pump-scripts.js';
import { shellQuote } from '../engine/transport/transport.js';

export type PumpAction = 'preflight' | 'start' | 'health' | 'stop';

export interface PumpArgs {
  action: PumpAction;
  manifest?: string;
  env_file?: string;
  settle_seconds?: number | string;
  verbose?: boolean | string;
  require_healthy?: boolean | string;
  pump_command?: string;
}

interface Opts {
  envFile: string;
  settleMs: number;
  verbose: boolean;
  requireHealthy: boolean;
}

function offFact(envFile: string, cause?: string): PumpFact {
  return { state: 'off', env_file: envFile, distcc_hosts: null, ...(cause ? { cause } : {}) };
}

async function findPump(ctx: TaskContext, named?: string): Promise<string | undefined> {
  const r = await ctx.transport.exec(locatePumpScript(named), { env: ctx.environment, signal: ctx.signal, timeoutMs: 20000 });
  return /^pump\t(.+)$/m.exec(r.stdout)?.[1];
}

async function preflight(ctx: TaskContext, o: Opts): Promise<TaskResult> {
  const r = await ctx.transport.exec(preflightScript({ apply: !ctx.check, envFile: o.envFile }), { env: ctx.environment, signal: ctx.signal, timeoutMs: 60000 });
  if (r.rc !== 0) return { changed: false, failed: true, rc: r.rc, stderr: r.stderr, msg: `preflight failed on ${ctx.host.name} (exit ${r.rc}): ${r.stderr.trim()}` };
  const p = parsePreflight(r.stdout);
  const survived = p.servers.filter((s) => !ctx.check && !s.killed);
  const acted = p.servers.length + p.dirs.length + p.files.length + (p.envFile ? 1 : 0) > 0;
  const verb = ctx.check ? 'would ' : '';
  const parts: string[] = [];
  if (p.servers.length) parts.push(`${verb}kill ${p.servers.length} stale include server${p.servers.length > 1 ? 's' : ''} (pid ${p.servers.map((s) => s.pid).join(', ')})`);
  if (p.dirs.length + p.files.length) parts.push(`${verb}remove ${[...p.dirs, ...p.files].join(', ')}`);
  if (p.envFile) parts.push(`${verb}remove the stale env file ${p.envFile}`);
  const pumpPath = p.tools.pump ?? p.tools['distcc-pump'] ?? null;
  const missing = ['gcc', 'distcc'].filter((t) => !p.tools[t]);
  if (!pumpPath) missing.push('pump (or distcc-pump)');
  const tools = `gcc ${p.tools.gcc ? (p.versions.gcc ?? 'yes') : 'MISSING'}, distcc ${p.tools.distcc ? 'yes' : 'MISSING'}, pump ${pumpPath ?? 'MISSING'}`;
  const env = `PATH=${p.path}; CC=${p.cc ?? '(unset)'}; HOSTCC=${p.hostcc ?? '(unset)'}`;
  const msg = `${parts.length ? parts.join('; ') : 'nothing stale'}. ${env}. Toolchain: ${tools}${missing.length ? ` — missing: ${missing.join(', ')}` : ''}`;
  ctx.decision(`pump preflight: ${parts.length ? parts.join('; ') : 'nothing stale to clear'}`, { servers: p.servers, dirs: p.dirs, files: p.files });
  const data = {
    killed: ctx.check ? [] : p.servers.filter((s) => s.killed).map((s) => ({ pid: s.pid, cmdline: s.cmdline })),
    stale_servers: p.servers.map((s) => ({ pid: s.pid, cmdline: s.cmdline })),
    removed: ctx.check ? [] : [...p.dirs, ...p.files, ...(p.envFile ? [p.envFile] : [])],
    stale_paths: [...p.dirs, ...p.files, ...(p.envFile ? [p.envFile] : [])],
    PATH: p.path,
    CC: p.cc,
    HOSTCC: p.hostcc,
    tools: { gcc: p.tools.gcc ?? null, distcc: p.tools.distcc ?? null, pump: pumpPath, make: p.tools.make ?? null },
    versions: p.versions,
    toolchain_ok: missing.length === 0,
  };
  if (survived.length) {
    return { changed: true, failed: true, msg: `could not kill include server pid ${survived.map((s) => s.pid).join(', ')}: ${msg}`, data, facts: { [PUMP_FACT]: offFact(o.envFile) } };
  }
  return { changed: acted, msg, data, facts: { [PUMP_FACT]: offFact(o.envFile) } };
}

function healthResult(ctx: TaskContext, h: HealthReport, o: Opts, prefix: string, changed: boolean, extra: Record<string, unknown> = {}): TaskResult {
  const fact = toFact(h, o.envFile);
  const what =
    h.state === 'healthy'
      ? `pump is healthy: the include server (pid ${h.env!.INCLUDE_SERVER_PID}) served the probe's includes and it compiled on ${h.probe!.compiled_on}`
      : h.state === 'off'
        ? `pump is off: ${h.cause}`
        : `pump is DEGRADED: ${h.cause}`;
  ctx.decision(`pump: ${h.state}${h.cause ? ` — ${h.cause}` : ''}`, { state: h.state, cause: h.cause ?? null });
  const failed = o.requireHealthy && h.state !== 'healthy';
  const data: Record<string, unknown> = {
    ...extra,
    state: h.state,
    cause: h.cause ?? null,
    hint: h.hint ?? null,
    env_file: o.envFile,
    distcc_hosts: h.env?.DISTCC_HOSTS ?? null,
    include_server: h.env
      ? { pid: Number(h.env.INCLUDE_SERVER_PID), dir: h.env.INCLUDE_SERVER_DIR, socket: h.env.INCLUDE_SERVER_PORT, alive: h.server?.alive ?? false, socket_present: h.server?.socket ?? false }
      : null,
    probe: h.probe ?? null,
  };
  const msg = `${prefix}${what}${failed ? ' (require_healthy: true)' : ''}${h.hint && h.state !== 'healthy' ? `. ${h.hint}` : ''}`;
  return { changed, failed, msg, data, facts: { [PUMP_FACT]: fact } };
}

async function health(ctx: TaskContext, o: Opts): Promise<TaskResult> {
  const h = await checkHealth(ctx.transport, o.envFile, ctx.signal, ctx.environment);
  return healthResult(ctx, h, o, '', false);
}

async function start(ctx: TaskContext, args: PumpArgs, o: Opts): Promise<TaskResult> {
  const file = manifestPath(args.manifest, ctx.vars, ctx.playbookDir);
  if (!file) return { changed: false, failed: true, msg: `pump start needs the distcc manifest: set \`manifest:\` or the variable ${MANIFEST_VAR}` };
  const m = await fetchManifest(ctx.controller, file);
  if (!m.ok) return { changed: false, failed: true, msg: `invalid distcc manifest: ${describeProblems(m.diagnostics)}` };
  const hosts = renderDistccHosts(m.manifest, 'pump');
  if (!m.manifest.workers.some((w) => w.options.includes('cpp'))) {
    return { changed: false, failed: true, msg: `no worker in ${file} has the \`cpp\` option, so none can take pump-mode compiles (pump --startup would refuse)`, data: { distcc_hosts: hosts } };
  }

  // Already running with this manifest's hosts: nothing to start (idempotent); anything else left
  // by an earlier start is shut down first, so start always ends with one fresh session.
  const prev = await readPumpEnv(ctx.transport, o.envFile);
  let restarted: string | undefined;
  if (prev.env) {
    const st = await serverStatus(ctx.transport, prev.env, ctx.signal);
    const same = prev.env.DISTCC_HOSTS === hosts && (prev.env.DISTCC_VERBOSE === '1') === o.verbose;
    if (st.alive && st.socket && same) {
      ctx.decision(`pump start: already running (include server pid ${prev.env.INCLUDE_SERVER_PID}) with the manifest's hosts; not restarted`);
      const h = await checkHealth(ctx.transport, o.envFile, ctx.signal, ctx.environment);
      return healthResult(ctx, h, o, 'already started; ', false, { started: false, restarted: false });
    }
    restarted = !st.alive ? `its include server (pid ${prev.env.INCLUDE_SERVER_PID}) is not running` : !same ? 'the manifest or verbose setting changed' : 'its socket is missing';
  }
  if (ctx.check) {
    return { changed: true, msg: `would ${restarted ? `restart pump (${restarted})` : 'start pump'} with DISTCC_HOSTS="${hosts}" and write ${o.envFile}`, data: { distcc_hosts: hosts } };
  }
  const pumpCmd = await findPump(ctx, args.pump_command);
  if (!pumpCmd) {
    return { changed: false, failed: true, msg: `${args.pump_command ?? 'pump (or distcc-pump)'} not found on ${ctx.host.name}; install distcc-pump (Debian: apt-get install distcc-pump)` };
  }
  if (prev.env) {
    const st = await serverStatus(ctx.transport, prev.env, ctx.signal);
    await ctx.transport.exec(shutdownScript(pumpCmd, prev.env, st.alive), { signal: ctx.signal, timeoutMs: 60000 });
    ctx.decision(`pump start: restarting, since ${restarted}`);
  }
  const dir = path.posix.dirname(o.envFile);
  const mk = await ctx.transport.exec(`mkdir -p -- ${shellQuote(dir)}`, { signal: ctx.signal, timeoutMs: 20000 });
  if (mk.rc !== 0) return { changed: false, failed: true, msg: `cannot create ${dir} on ${ctx.host.name}: ${mk.stderr.trim()}` };
  const su = await ctx.transport.exec(startupCommand(pumpCmd), {
    env: { ...ctx.environment, DISTCC_HOSTS: hosts, DISTCC_POTENTIAL_HOSTS: '' },
    signal: ctx.signal,
    timeoutMs: 60000,
    onStderr: (s) => ctx.output('stderr', s),
  });
  const vars = parseExports(su.stdout);
  const parsed = toPumpEnv({ ...vars, DISTCC_HOSTS: vars.DISTCC_HOSTS ?? hosts });
  if (su.rc !== 0 || 'missing' in parsed) {
    const why = su.stderr.trim() || su.stdout.trim() || `exit ${su.rc}`;
    return { changed: false, failed: true, rc: su.rc, stdout: su.stdout, stderr: su.stderr, msg: `\`${pumpCmd} --startup\` failed on ${ctx.host.name}: ${why}` };
  }
  const env: PumpEnv = { ...parsed.env, DISTCC_HOSTS: hosts };
  if (o.verbose) env.DISTCC_VERBOSE = '1';
  await ctx.transport.put(o.envFile, renderPumpEnv(env, file), 0o600);
  ctx.decision(`pump start: include server pid ${env.INCLUDE_SERVER_PID} on ${env.INCLUDE_SERVER_PORT}; DISTCC_HOSTS="${hosts}"; env in ${o.envFile} (0600); settling ${o.settleMs / 1000}s before the health check`);
  await sleep(o.settleMs, ctx.signal);
  const h = await checkHealth(ctx.transport, o.envFile, ctx.signal, ctx.environment);
  return healthResult(ctx, h, o, `started (pid ${env.INCLUDE_SERVER_PID}, env ${o.envFile}); `, true, { started: true, restarted: restarted !== undefined, pump_command: pumpCmd });
}

async function stop(ctx: TaskContext, args: PumpArgs, o: Opts): Promise<TaskResult> {
  const buf = await ctx.transport.get(o.envFile);
  if (buf === null) return { changed: false, msg: `pump is not running (no ${o.envFile})`, data: { stopped: false }, facts: { [PUMP_FACT]: offFact(o.envFile) } };
  const parsed = toPumpEnv(parseExports(buf.toString('utf8')));
  if (ctx.check) return { changed: true, msg: `would stop pump and remove ${o.envFile}` };
  let note = '';
  let serverLog = '';
  if (!('missing' in parsed)) {
    const st = await serverStatus(ctx.transport, parsed.env, ctx.signal);
    const pumpCmd = st.alive ? await findPump(ctx, args.pump_command) : 'pump';
    if (st.alive && !pumpCmd) return { changed: false, failed: true, msg: `${args.pump_command ?? 'pump (or distcc-pump)'} not found on ${ctx.host.name}, so the include server (pid ${parsed.env.INCLUDE_SERVER_PID}) cannot be shut down` };
    const r = await ctx.transport.exec(shutdownScript(pumpCmd!, parsed.env, st.alive), { signal: ctx.signal, timeoutMs: 60000 });
    serverLog = r.stderr;
    if (/^survived\t/m.test(r.stdout)) return { changed: true, failed: true, msg: `the include server (pid ${parsed.env.INCLUDE_SERVER_PID}) survived pump --shutdown and SIGKILL`, stdout: r.stdout, stderr: r.stderr };
    note = st.alive ? `include server (pid ${parsed.env.INCLUDE_SERVER_PID}) shut down` : `include server (pid ${parsed.env.INCLUDE_SERVER_PID}) was already gone`;
  } else note = `${o.envFile} was incomplete (lacked ${parsed.missing.join(', ')})`;
  const rm = await ctx.transport.exec(`rm -f -- ${shellQuote(o.envFile)}`, { signal: ctx.signal, timeoutMs: 20000 });
  if (rm.rc !== 0) return { changed: true, failed: true, msg: `${note}, but ${o.envFile} could not be removed: ${rm.stderr.trim()}` };
  ctx.decision(`pump stop: ${note}; removed ${o.envFile}`);
  return { changed: true, msg: `${note}; removed ${o.envFile}`, data: { stopped: true, server_log: serverLog }, facts: { [PUMP_FACT]: offFact(o.envFile) } };
}

export const pump: ModuleDef<PumpArgs> = {
  name: 'pump',
  description:
    'distcc pump mode on the build host (the lifecycle’s pumpctl): `preflight` clears stale include servers and /tmp/distcc-pump.* and reports the toolchain; `start` runs `pump --startup` with DISTCC_HOSTS from the manifest and keeps the session in an owner-only env file; `health` proves with a probe compile that the include server serves includes (degraded, with the cause, when distcc falls back to local preprocessing); `stop` runs `pump --shutdown`. Sets the host fact `tsplay_pump`.',
  providesFacts: [PUMP_FACT],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['action'],
    properties: {
      action: { enum: ['preflight', 'start', 'health', 'stop'], description: 'What to do.' },
      manifest: { type: 'string', minLength: 1, description: `The distcc manifest on the controller (start). Default: the variable \`${MANIFEST_VAR}\`.` },
      env_file: { type: 'string', pattern: '^/', default: DEFAULT_ENV_FILE, description: 'The session’s environment file on the host (mode 0600).' },
      settle_seconds: orTemplate({ type: 'number', minimum: 0, maximum: 120 }, { default: 2, description: 'start: seconds to let the include server settle before the health check.' }),
      verbose: orTemplate({ type: 'boolean' }, { default: false, description: 'start: put DISTCC_VERBOSE=1 in the env file.' }),
      require_healthy: orTemplate({ type: 'boolean' }, { default: false, description: 'start/health: fail the task unless pump is healthy (default: a degraded pump is a result, not a failure).' }),
      pump_command: { type: 'string', minLength: 1, description: 'The pump script to run. Default: `pump`, else Debian’s `distcc-pump`, from PATH.' },
    },
  },
  staticCheck(args, ctx) {
    if (args.action === 'start') return checkManifestStatically(args.manifest, ctx.vars, ctx.playbookDir, true);
    if (args.manifest !== undefined) return checkManifestStatically(args.manifest, ctx.vars, ctx.playbookDir, false);
    return [];
  },
  examples: [
    '```yaml',
    '- name: Clear stale include servers and pump dirs',
    '  pump: { action: preflight }',
    '',
    '- name: Start pump mode from the manifest',
    '  pump: { action: start, manifest: /opt/ansible-k3s-cluster/manifest/distcc-hosts.yml }',
    '',
    '- name: Is pump really serving includes?',
    '  pump: { action: health }',
    '  register: pump_health',
    '```',
  ].join('\n'),
  async run(ctx: TaskContext, args: PumpArgs): Promise<TaskResult> {
    let o: Opts;
    try {
      o = {
        envFile: args.env_file ?? DEFAULT_ENV_FILE,
        settleMs: numberArg('settle_seconds', args.settle_seconds ?? 2, 0, 120) * 1000,
        verbose: boolArg('verbose', args.verbose ?? false),
        requireHealthy: boolArg('require_healthy', args.require_healthy ?? false),
      };
      if (!o.envFile.startsWith('/')) throw new ArgError(`env_file must be an absolute path, not ${JSON.stringify(o.envFile)}`);
    } catch (err) {
      if (err instanceof ArgError) return { changed: false, failed: true, msg: err.message };
      throw err;
    }
    switch (args.action) {
      case 'preflight':
        return preflight(ctx, o);
      case 'start':
        return start(ctx, args, o);
      case 'health':
        return health(ctx, o);
      case 'stop':
        return stop(ctx, args, o);
    }
  },
};
