/**
 * systemd: brings a unit to a state (started, stopped, restarted, reloaded), enables or disables it,
 * or only verifies that it is active/inactive. Uses the host's own `systemctl`, so it works with
 * systemd and with Debian's `systemctl` script (systemctl.py) alike: reads go through
 * `systemctl show UNIT` without `-p`, because systemctl.py honours only one `-p` at a time.
 */
import type { ModuleDef, TaskContext, TaskResult } from '../engine/module-types.js';
import { shellQuote } from '../engine/transport/transport.js';
import { lastLines } from './lib/run-command.js';
import { allowTemplates, checkRendered } from './lib/templated-args.js';

export type UnitState = 'started' | 'stopped' | 'restarted' | 'reloaded';

export interface SystemdArgs {
  name: string;
  state?: UnitState;
  enabled?: boolean;
  verify?: 'active' | 'inactive';
  daemon_reload?: boolean;
}

/** What `systemctl show` says about a unit. */
export interface UnitStatus {
  id: string;
  load: string;
  active: string;
  sub: string;
  /** UnitFileState; empty for units without a unit file (transient). */
  enabled: string;
  mainPid?: number;
  loadError?: string;
}

/** UnitFileStates that `systemctl is-enabled` reports with exit 0: nothing to enable. */
const ENABLED_LIKE = new Set(['enabled', 'enabled-runtime', 'alias', 'indirect', 'generated', 'static', 'linked', 'linked-runtime']);
/** UnitFileStates that `enable` cannot change (no [Install] section, made by a generator...). */
const NOT_ENABLEABLE = new Set(['static', 'generated', 'indirect', 'transient', 'alias']);
/** ActiveStates in which the unit is up or on its way up. */
const UP = new Set(['active', 'activating', 'reloading']);
/** ActiveStates that count as "not running" for `stopped` and `verify: inactive`. */
const DOWN = new Set(['inactive', 'failed']);

export function parseShow(text: string, name: string): UnitStatus {
  const p = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0 && !p.has(line.slice(0, i))) p.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  const pid = Number(p.get('MainPID'));
  return {
    id: p.get('Id') || name,
    load: p.get('LoadState') ?? '',
    active: p.get('ActiveState') ?? '',
    sub: p.get('SubState') ?? '',
    enabled: p.get('UnitFileState') ?? '',
    mainPid: Number.isFinite(pid) && pid > 0 ? pid : undefined,
    loadError: p.get('LoadError') || undefined,
  };
}

type Read = { ok: true; status: UnitStatus } | { ok: false; result: TaskResult };

async function readUnit(ctx: TaskContext, name: string): Promise<Read> {
  const r = await ctx.transport.exec(['systemctl', 'show', name], { env: ctx.environment, signal: ctx.signal, timeoutMs: ctx.timeoutMs });
  const where = ctx.host.name;
  if (r.rc === 127) return { ok: false, result: { changed: false, failed: true, rc: r.rc, msg: `${where}: there is no systemctl on this host (is systemd installed?)` } };
  if (r.rc !== 0) return { ok: false, result: { changed: false, failed: true, rc: r.rc, stderr: r.stderr, msg: `${where}: \`systemctl show ${name}\` exited with ${r.rc}: ${lastLines(r.stderr, 3) || 'no message'}` } };
  const status = parseShow(r.stdout, name);
  if (status.load === 'not-found' || status.load === '') {
    return {
      ok: false,
      result: { changed: false, failed: true, msg: `${where}: unit ${status.id} not found (LoadState=${status.load || 'missing'}); \`systemctl list-unit-files\` shows the units the host knows`, data: statusData(status) },
    };
  }
  if (status.load === 'error' || status.load === 'bad-setting') {
    return { ok: false, result: { changed: false, failed: true, msg: `${where}: unit ${status.id} failed to load (${status.load}${status.loadError ? `: ${status.loadError}` : ''})`, data: statusData(status) } };
  }
  return { ok: true, status };
}

/**
 * The unit's last log lines, when they are cheap to get: the journal (systemd), else the per-unit
 * log that systemctl.py keeps under /var/log/journal. Never fails.
 */
async function recentLog(ctx: TaskContext, id: string): Promise<string> {
  const q = shellQuote(id);
  const script =
    `journalctl -u ${q} -n 5 --no-pager -q 2>/dev/null | grep -v '^-- No entries --$'; ` +
    `f=/var/log/journal/${q}.log; [ -s "$f" ] && tail -n 5 "$f"; true`;
  const r = await ctx.transport.exec(script, { signal: ctx.signal, timeoutMs: 10000 }).catch(() => undefined);
  return r?.stdout.trim() ?? '';
}

function statusData(s: UnitStatus): Record<string, unknown> {
  return { name: s.id, active_state: s.active, sub_state: s.sub, enabled_state: s.enabled || 'unknown', load_state: s.load, main_pid: s.mainPid ?? null };
}

function describeState(s: UnitStatus): string {
  return `${s.active}${s.sub ? ` (${s.sub})` : ''}`;
}

/** The systemctl verbs that bring the unit where the arguments say, in order. Pure. */
export function plan(s: UnitStatus, args: SystemdArgs): { verbs: string[]; notes: string[] } {
  const verbs: string[] = [];
  const notes: string[] = [];
  if (args.enabled === true && !ENABLED_LIKE.has(s.enabled)) verbs.push('enable');
  if (args.enabled === false && (s.enabled === 'enabled' || s.enabled === 'enabled-runtime')) verbs.push('disable');
  if (args.enabled !== undefined && NOT_ENABLEABLE.has(s.enabled)) {
    notes.push(`${s.id} is ${s.enabled}: enabled=${args.enabled} does not apply to it`);
  }
  switch (args.state) {
    case 'started':
      if (!UP.has(s.active)) verbs.push('start');
      break;
    case 'stopped':
      if (!DOWN.has(s.active)) verbs.push('stop');
      break;
    case 'restarted':
      verbs.push('restart');
      break;
    case 'reloaded':
      // A unit that is not running has nothing to reload: start it (Ansible does the same).
      verbs.push(s.active === 'active' ? 'reload' : 'start');
      break;
    case undefined:
      break;
  }
  return { verbs, notes };
}

async function verify(ctx: TaskContext, s: UnitStatus, want: 'active' | 'inactive'): Promise<TaskResult> {
  const data = statusData(s);
  const ok = want === 'active' ? s.active === 'active' : DOWN.has(s.active);
  if (ok) return { changed: false, msg: `${s.id} is ${describeState(s)} on ${ctx.host.name}, as expected`, data };
  const log = await recentLog(ctx, s.id);
  return {
    changed: false,
    failed: true,
    msg: `${ctx.host.name}: ${s.id} is ${describeState(s)}, expected ${want}${log ? `; last log lines: ${lastLines(log, 5)}` : ' (no log lines found)'}`,
    data: { ...data, log },
  };
}

/** Arguments given together with `verify`, which only reads. */
function exclusive(args: Partial<SystemdArgs>): string[] {
  if (args.verify === undefined) return [];
  return (['state', 'enabled'] as const).filter((k) => args[k] !== undefined);
}

/** The arguments after rendering; at parse time each may also be a template (allowTemplates). */
const STRICT = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: {
      type: 'string',
      // Unit names never start with '-', so a name can never be read as a systemctl option.
      pattern: '^[A-Za-z0-9:_.@\\\\][A-Za-z0-9:_.@\\\\-]*$',
      description: 'The unit, e.g. `distccd` or `distccd.service` (systemctl implies `.service` when there is no suffix).',
    },
    state: { enum: ['started', 'stopped', 'restarted', 'reloaded'], description: '`started`/`stopped` change the unit only when needed; `restarted` and `reloaded` always act (reloading a stopped unit starts it).' },
    enabled: { type: 'boolean', description: 'Whether the unit starts at boot (`systemctl enable`/`disable`, only when needed).' },
    verify: { enum: ['active', 'inactive'], description: 'Read-only: fail unless the unit is in this state (`inactive` also accepts `failed`). Cannot be combined with `state` or `enabled`.' },
    daemon_reload: { type: 'boolean', default: false, description: 'Run `systemctl daemon-reload` first (after editing unit files). Not done in check mode; does not count as a change.' },
  },
};

export const systemd: ModuleDef<SystemdArgs> = {
  name: 'systemd',
  description:
    'Manage a unit with the host’s systemctl: start, stop, restart or reload it, enable or disable it, or only verify that it is active or inactive. Reports `changed` only when something changed; in check mode it says what it would do and does nothing.',
  schema: allowTemplates(STRICT),
  staticCheck(args) {
    return exclusive(args).map((other) => ({
      code: 'args/exclusive',
      message: `systemd: \`verify\` only reads the unit, so it cannot be combined with \`${other}\``,
      hint: `use two tasks: one with \`${other}\`, then one with \`verify\``,
      arg: 'verify',
    }));
  },
  examples: [
    '```yaml',
    '- name: distccd must be running (read-only)',
    '  systemd:',
    '    name: distccd',
    '    verify: active',
    '',
    '- name: Start distccd and start it at boot',
    '  systemd:',
    '    name: distccd.service',
    '    state: started',
    '    enabled: true',
    '```',
  ].join('\n'),
  async run(ctx, rendered) {
    const checked = checkRendered<SystemdArgs>(STRICT, rendered as unknown as Record<string, unknown>);
    if (!checked.ok) return { changed: false, failed: true, msg: checked.msg };
    const args = checked.args;
    const clash = exclusive(args);
    if (clash.length) return { changed: false, failed: true, msg: `systemd: \`verify\` only reads the unit, so it cannot be combined with \`${clash.join('` or `')}\`` };
    if (args.daemon_reload && !ctx.check) {
      const r = await ctx.transport.exec(['systemctl', 'daemon-reload'], { env: ctx.environment, signal: ctx.signal, timeoutMs: ctx.timeoutMs });
      if (r.rc !== 0) return { changed: false, failed: true, rc: r.rc, stderr: r.stderr, msg: `${ctx.host.name}: systemctl daemon-reload exited with ${r.rc}: ${lastLines(r.stderr, 3)}` };
    }
    const first = await readUnit(ctx, args.name);
    if (!first.ok) return first.result;
    const before = first.status;
    if (args.verify) return verify(ctx, before, args.verify);

    const wanted = args.state === 'started' || args.state === 'restarted' || args.state === 'reloaded';
    if (before.load === 'masked' && (wanted || args.enabled === true)) {
      return { changed: false, failed: true, msg: `${ctx.host.name}: ${before.id} is masked, so it cannot be ${args.enabled === true ? 'enabled' : 'started'}; \`systemctl unmask ${before.id}\` first`, data: statusData(before) };
    }
    const { verbs, notes } = plan(before, args);
    for (const n of notes) ctx.decision(`systemd: ${n}`);
    if (verbs.length === 0) {
      return { changed: false, msg: `${before.id} is ${describeState(before)}, ${before.enabled || 'unknown'}: nothing to do`, data: statusData(before) };
    }
    if (ctx.check) {
      return { changed: true, msg: `would ${verbs.join(', then ')} ${before.id} (it is ${describeState(before)}, ${before.enabled || 'unknown'}); check mode changed nothing`, data: statusData(before) };
    }
    for (const verb of verbs) {
      ctx.decision(`systemd: ${verb} ${before.id} on ${ctx.host.name} (it was ${describeState(before)}, ${before.enabled || 'unknown'})`);
      const r = await ctx.transport.exec(['systemctl', verb, before.id], { env: ctx.environment, signal: ctx.signal, timeoutMs: ctx.timeoutMs });
      if (r.rc !== 0) {
        const log = await recentLog(ctx, before.id);
        return {
          changed: verbs.indexOf(verb) > 0,
          failed: true,
          rc: r.rc,
          stderr: r.stderr,
          msg: `${ctx.host.name}: \`systemctl ${verb} ${before.id}\` exited with ${r.rc}${r.stderr.trim() ? `: ${lastLines(r.stderr, 3)}` : ''}${log ? `; last log lines: ${lastLines(log, 5)}` : ''}`,
          data: { ...statusData(before), log },
        };
      }
    }
    const again = await readUnit(ctx, before.id);
    if (!again.ok) return { ...again.result, changed: true };
    const after = again.status;
    // systemctl may return 0 for a unit whose process dies at once (Type=simple): believe the state.
    const stuck = (wanted && !UP.has(after.active)) || (args.state === 'stopped' && !DOWN.has(after.active));
    if (stuck) {
      const log = await recentLog(ctx, after.id);
      return {
        changed: true,
        failed: true,
        msg: `${ctx.host.name}: after \`systemctl ${verbs.join('`, `systemctl ')}\` ${after.id} is ${describeState(after)}, not ${args.state}${log ? `; last log lines: ${lastLines(log, 5)}` : ''}`,
        data: { ...statusData(after), log },
      };
    }
    return { changed: true, msg: `${verbs.join(', ')} ${after.id}: now ${describeState(after)}, ${after.enabled || 'unknown'}`, data: statusData(after) };
  },
};
