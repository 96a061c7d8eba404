/**
 * The linear strategy: each task runs on all of its play's hosts concurrently (bounded by forks),
 * then the next task. A failed host leaves the play (unless ignore_errors); an unreachable host is
 * reported and the others go on; handlers run once at the end of the play on the hosts that
 * notified them. Everything the engine does is reported as events; nothing is printed here.
 */
import { setMaxListeners } from 'node:events';
import type { Doctrine } from '../doctrine-types.js';
import { EventBus, now, type HostRecap, type HostStatus, type TaskState } from '../events.js';
import type { Inventory } from '../inventory/model.js';
import type { ModuleDef, TaskContext, TaskResult } from '../module-types.js';
import type { PlaySpec, TaskSpec } from '../playbook/model.js';
import type { Plan, PlannedPlay } from '../validate/check.js';
import { findModule } from '../../modules/index.js';
import { UnreachableError } from '../transport/transport.js';
import type { ConnectRetry } from '../transport/ssh.js';
import { renderValue } from '../template/index.js';
import { buildScope, magicVars } from '../vars/scope.js';
import { Connections, type TransportFactory } from './connections.js';
import { allTrue, firstFalse } from './conditions.js';
import { forEachLimited } from './pool.js';
import { Redactor, secretValues } from './redact.js';
import { renderArgs, renderEnvironment, renderVars } from './render.js';
import { skippedResult, toRegistered, type RegisteredResult } from './result.js';

export interface RunOptions {
  runId: string;
  check: boolean;
  diff: boolean;
  forks: number;
  tags: string[];
  skipTags: string[];
  startAtTask?: string;
  extraVars: Record<string, unknown>;
  trustNewHostKeys: boolean;
  knownHostsFile?: string;
  connectTimeoutMs?: number;
  signal: AbortSignal;
  transportFactory?: TransportFactory;
  /** Bound on stdout/stderr kept per result in events (bytes). */
  outputLimit?: number;
  /** Resume support: host facts to start from, and tasks (ids) to skip per host. */
  restoreFacts?: Record<string, Record<string, unknown>>;
  /** A task already done on the host in the resumed run: not run again; a recorded change still notifies its handlers. */
  skipDone?: (play: PlaySpec, task: TaskSpec, host: string, playbook: string) => { changed: boolean } | undefined;
  onlyHosts?: Set<string>;
  /** Stop launching tasks (commands in flight finish); e.g. the journal can no longer be written. */
  halt?: AbortSignal;
}

export interface RunSummary {
  outcome: 'ok' | 'failed' | 'interrupted';
  recap: Record<string, HostRecap>;
  durationMs: number;
  facts: Record<string, Record<string, unknown>>;
}

interface HostState {
  facts: Record<string, unknown>;
  failed: boolean;
  unreachable: boolean;
  recap: HostRecap;
  first?: number;
  last?: number;
  notified: Set<string>;
  redactor: Redactor;
}

interface HostOutcome {
  status: HostStatus;
  registered: RegisteredResult;
  facts?: Record<string, unknown>;
}

const DEFAULT_OUTPUT_LIMIT = 64 * 1024;
const WAIT_FOR_CONNECTION = 'wait-for-connection';
/** How long after a task's timeout its signal is aborted (the hard guard is at timeout + 5 s). */
const SIGNAL_AFTER_TIMEOUT_MS = 1000;

export class Runner {
  private readonly hosts = new Map<string, HostState>();
  private readonly conns: Connections;
  private startReached: boolean;
  /**
   * One for the run: every host's secrets are masked in every host's output, since a task on one
   * host can reach another's variables through hostvars.
   */
  private readonly redactor: Redactor;

  constructor(
    private readonly plan: Plan,
    private readonly inv: Inventory,
    private readonly doctrine: Doctrine,
    private readonly opts: RunOptions,
    private readonly bus: EventBus,
  ) {
    // Retries are decisions too: the log says why a host took long to connect.
    // Every host in flight listens for the run's abort: more than Node's default 10 is no leak.
    setMaxListeners(0, opts.signal);
    const onConnectRetry = (r: ConnectRetry) =>
      this.bus.emit({ type: 'decision', time: now(), host: r.host, message: `${r.message}; retrying (attempt ${r.attempt} of ${r.attempts}) in ${(r.delayMs / 1000).toFixed(1)} s`, data: { attempt: r.attempt, attempts: r.attempts, delay_ms: r.delayMs, code: r.code } });
    this.conns = new Connections(inv, { trustNewHostKeys: opts.trustNewHostKeys, knownHostsFile: opts.knownHostsFile, connectTimeoutMs: opts.connectTimeoutMs, onConnectRetry }, opts.transportFactory);
    this.startReached = opts.startAtTask === undefined;
    const secretNames = [...new Set([...inv.hosts.values()].flatMap((h) => h.secretVars))];
    this.redactor = new Redactor([...inv.hosts.values()].flatMap((h) => secretValues(h.vars, h.secretVars)));
    this.redactor.add(secretValues(opts.extraVars, secretNames));
  }

  /** True once the run must not launch anything new (interrupted, or halted). */
  private stopped(): boolean {
    return this.opts.signal.aborted || this.opts.halt?.aborted === true;
  }

  async run(): Promise<RunSummary> {
    const t0 = Date.now();
    this.bus.emit({ type: 'run.start', time: now(), runId: this.opts.runId, playbooks: [...new Set(this.plan.plays.map((p) => p.playbook.path))], check: this.opts.check });
    try {
      for (const pp of this.plan.plays) {
        if (this.stopped()) break;
        await this.runPlay(pp);
      }
    } finally {
      await this.conns.closeAll();
    }
    const recap: Record<string, HostRecap> = {};
    let failed = false;
    for (const [name, s] of this.hosts) {
      recap[name] = { ...s.recap, durationMs: s.first !== undefined ? (s.last ?? s.first) - s.first : 0 };
      if (s.recap.failed > 0 || s.recap.unreachable > 0) failed = true;
    }
    const outcome = this.stopped() ? 'interrupted' : failed ? 'failed' : 'ok';
    const durationMs = Date.now() - t0;
    this.bus.emit({ type: 'run.end', time: now(), runId: this.opts.runId, outcome, durationMs, recap });
    const facts: Record<string, Record<string, unknown>> = {};
    for (const [n, s] of this.hosts) facts[n] = s.facts;
    return { outcome, recap, durationMs, facts };
  }

  private state(name: string): HostState {
    let s = this.hosts.get(name);
    if (!s) {
      const h = this.conns.host(name);
      s = {
        facts: { ...(this.opts.restoreFacts?.[name] ?? {}) },
        failed: false,
        unreachable: false,
        recap: { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, ignored: 0, durationMs: 0 },
        notified: new Set(),
        redactor: this.redactor,
      };
      this.hosts.set(name, s);
    }
    return s;
  }

  private async runPlay(pp: PlannedPlay): Promise<void> {
    const { play } = pp;
    let active = pp.hosts.filter((h) => !this.opts.onlyHosts || this.opts.onlyHosts.has(h));
    active.forEach((h) => this.state(h));
    active = active.filter((h) => !this.state(h).failed && !this.state(h).unreachable);
    this.bus.emit({ type: 'play.start', time: now(), play: play.name, playIndex: play.index, hosts: active, playbook: pp.playbook.path });
    if (active.length === 0) {
      this.bus.emit({ type: 'decision', time: now(), message: `play "${play.name}": no hosts left to run on` });
    }
    for (const task of play.tasks) {
      if (this.stopped()) break;
      if (!this.startReached) {
        if (task.name !== this.opts.startAtTask) continue;
        this.startReached = true;
      }
      if (!this.selectedByTags(play, task)) continue;
      // With no host left, a later wait-for-connection may still bring unreachable ones back.
      const { hosts, note } = this.withReturning(pp, task, active);
      if (hosts.length === 0) continue;
      active = await this.runTask(pp, task, hosts, note);
      // any_errors_fatal stopped the play: no wait-for-connection brings anyone back.
      if (pp.play.anyErrorsFatal && active.length < hosts.length) break;
    }
    // Handlers: once, at the end of the play, on the hosts that notified them.
    for (const handler of play.handlers) {
      if (this.stopped()) break;
      const names = [handler.name, ...handler.listen];
      const notified = active.filter((h) => names.some((n) => this.state(h).notified.has(n)));
      if (notified.length === 0) continue;
      await this.runTask(pp, handler, notified);
    }
    for (const h of active) this.state(h).notified.clear();
    this.bus.emit({ type: 'play.end', time: now(), play: play.name, playIndex: play.index });
  }

  /**
   * wait-for-connection is the task that waits for a host to come back, so it also runs on the
   * play's hosts that were found unreachable earlier (Ansible would drop them for good); a host
   * that answers rejoins the play. Hosts that failed a task stay out.
   */
  private withReturning(pp: PlannedPlay, task: TaskSpec, active: string[]): { hosts: string[]; note?: string } {
    if (task.module !== WAIT_FOR_CONNECTION) return { hosts: active };
    const back = pp.hosts.filter((h) => !active.includes(h) && this.state(h).unreachable && !this.state(h).failed && (!this.opts.onlyHosts || this.opts.onlyHosts.has(h)));
    if (back.length === 0) return { hosts: active };
    return { hosts: pp.hosts.filter((h) => active.includes(h) || back.includes(h)), note: `wait-for-connection also waits for ${back.join(', ')}, found unreachable earlier` };
  }

  private selectedByTags(play: PlaySpec, task: TaskSpec): boolean {
    const tags = new Set([...play.tags, ...task.tags]);
    if (this.opts.skipTags.some((t) => tags.has(t))) return false;
    if (tags.has('never') && !this.opts.tags.some((t) => tags.has(t))) return false;
    if (this.opts.tags.length === 0 || this.opts.tags.includes('all')) return true;
    if (tags.has('always')) return true;
    return this.opts.tags.some((t) => tags.has(t));
  }

  /** Runs one task on the active hosts; returns the hosts still active afterwards. */
  private async runTask(pp: PlannedPlay, task: TaskSpec, active: string[], note?: string): Promise<string[]> {
    const mod = findModule(task.module)!;
    const targets = task.runOnce ? active.slice(0, 1) : active;
    this.bus.emit({ type: 'task.start', time: now(), play: pp.play.name, task: task.name, taskIndex: task.index, module: task.module, hosts: targets, handler: task.isHandler || undefined, taskId: task.id });
    if (note) this.bus.emit({ type: 'decision', time: now(), task: task.name, taskIndex: task.index, taskId: task.id, message: note });
    const outcomes = new Map<string, HostOutcome>();
    await forEachLimited(targets, this.opts.forks, async (host) => {
      if (this.stopped()) return;
      const done = this.opts.skipDone?.(pp.play, task, host, pp.playbook.path);
      if (done) {
        if (done.changed && task.notify.length) task.notify.forEach((n) => this.state(host).notified.add(n));
        this.bus.emit({ type: 'decision', time: now(), task: task.name, taskIndex: task.index, taskId: task.id, host, message: `already done in the resumed run: not run again` });
        return;
      }
      outcomes.set(host, await this.runOnHost(pp, task, mod, host));
    });
    if (task.runOnce && targets.length && outcomes.has(targets[0])) {
      // run_once: the one result (and its facts) stand for every host of the play.
      const o = outcomes.get(targets[0])!;
      for (const h of active.slice(1)) {
        const s = this.state(h);
        if (task.register) s.facts[task.register] = o.registered;
        if (o.facts) Object.assign(s.facts, o.facts);
      }
    }
    this.bus.emit({ type: 'task.end', time: now(), task: task.name, taskIndex: task.index });
    let still = active.filter((h) => {
      const o = outcomes.get(h);
      return !o || (o.status !== 'failed' && o.status !== 'unreachable');
    });
    if (pp.play.anyErrorsFatal && still.length < active.length) {
      this.bus.emit({ type: 'decision', time: now(), task: task.name, taskIndex: task.index, taskId: task.id, message: `any_errors_fatal: a host failed "${task.name}", so play "${pp.play.name}" stops for every host` });
      still = [];
    }
    return still;
  }

  private scopeFor(pp: PlannedPlay, task: TaskSpec, host: string): Record<string, unknown> {
    const h = this.conns.host(host);
    const s = this.state(host);
    const magic = magicVars(h, this.inv, pp.playbook.dir, this.opts.check);
    const below = { ...h.vars, ...this.opts.extraVars, ...magic };
    const play = renderVars(pp.play.vars, below);
    const taskVars = renderVars(task.vars, { ...h.vars, ...play, ...s.facts, ...this.opts.extraVars, ...magic });
    return buildScope({ host: h.vars, play, task: taskVars, facts: s.facts, extra: this.opts.extraVars, magic });
  }

  private async runOnHost(pp: PlannedPlay, task: TaskSpec, mod: ModuleDef, host: string): Promise<HostOutcome> {
    const s = this.state(host);
    const t0 = Date.now();
    s.first ??= t0;
    this.bus.emit({ type: 'host.start', time: now(), task: task.name, taskIndex: task.index, host, taskId: task.id });
    let outcome: HostOutcome;
    let command: string | undefined;
    let code: string | undefined;
    try {
      const scope = this.scopeFor(pp, task, host);
      if (task.loop === undefined) {
        const r = await this.runItem(pp, task, mod, host, scope, undefined);
        command = r.command;
        outcome = r.outcome;
      } else {
        const items = renderValue(task.loop, scope);
        if (!Array.isArray(items)) throw new TaskInputError('task/loop-not-a-list', `loop must be a list, got ${typeof items}`);
        const results: RegisteredResult[] = [];
        let facts: Record<string, unknown> | undefined;
        let unreachable: HostOutcome | undefined;
        for (const item of items) {
          if (this.stopped()) break;
          const r = await this.runItem(pp, task, mod, host, { ...scope, [task.loopVar]: item }, item);
          results.push(r.outcome.registered);
          if (r.outcome.facts) facts = { ...(facts ?? {}), ...r.outcome.facts };
          if (r.outcome.status === 'unreachable') {
            unreachable = r.outcome;
            break;
          }
        }
        const failedItems = results.filter((r) => r.failed);
        const registered: RegisteredResult = {
          changed: results.some((r) => r.changed),
          failed: failedItems.length > 0,
          skipped: results.length > 0 && results.every((r) => r.skipped),
          results,
          msg: failedItems.length ? `${failedItems.length} of ${results.length} items failed: ${failedItems.map((r) => r.msg).filter(Boolean)[0] ?? ''}` : `${results.length} items`,
        };
        outcome = unreachable ?? { status: statusOf(registered, task.ignoreErrors), registered, facts };
      }
    } catch (err) {
      const e = err as { code?: string; message: string };
      code = e.code ?? 'task/error';
      if (!e.code) code = 'internal/error';
      outcome = { status: task.ignoreErrors ? 'ignored' : 'failed', registered: { changed: false, failed: true, skipped: false, msg: e.message } };
    }
    if (outcome.status === 'unreachable') code = outcome.registered.code as string | undefined;
    // Record.
    if (task.register) s.facts[task.register] = outcome.registered;
    if (outcome.facts) Object.assign(s.facts, outcome.facts);
    if (outcome.status === 'changed' && task.notify.length) task.notify.forEach((n) => s.notified.add(n));
    const rec = s.recap;
    if (outcome.status === 'ok') rec.ok++;
    else if (outcome.status === 'changed') {
      rec.ok++;
      rec.changed++;
    } else if (outcome.status === 'skipped') rec.skipped++;
    else if (outcome.status === 'ignored') rec.ignored++;
    else if (outcome.status === 'failed') {
      rec.failed++;
      s.failed = true;
    } else if (outcome.status === 'unreachable') {
      rec.unreachable++;
      s.unreachable = true;
    }
    // The host answered wait-for-connection: it is back (its earlier unreachable stays in the recap).
    if (mod.name === WAIT_FOR_CONNECTION && (outcome.status === 'ok' || outcome.status === 'changed')) s.unreachable = false;
    s.last = Date.now();
    this.emitResult(task, host, outcome, command, code, Date.now() - t0, s.redactor);
    return outcome;
  }

  private emitResult(task: TaskSpec, host: string, o: HostOutcome, command: string | undefined, code: string | undefined, durationMs: number, red: Redactor): void {
    const r = o.registered;
    const limit = this.opts.outputLimit ?? DEFAULT_OUTPUT_LIMIT;
    // The tail is kept: the end of a failing command's output is where its error is.
    const bound = (x: unknown) => (typeof x === 'string' ? (x.length > limit ? `… (${x.length - limit} earlier bytes)\n` + x.slice(x.length - limit) : x) : undefined);
    const hidden = task.noLog;
    const state: TaskState | undefined =
      !task.register && !o.facts ? undefined : hidden ? { register: task.register, withheld: 'no_log' } : { register: task.register, registered: task.register ? red.value(r) : undefined, facts: o.facts ? red.value(o.facts) : undefined };
    this.bus.emit({
      type: 'host.result',
      time: now(),
      task: task.name,
      taskIndex: task.index,
      taskId: task.id,
      host,
      status: o.status,
      changed: r.changed,
      msg: hidden ? 'the output has been hidden due to no_log: true' : red.text(r.msg),
      rc: r.rc,
      stdout: hidden ? undefined : red.text(bound(r.stdout)),
      stderr: hidden ? undefined : red.text(bound(r.stderr)),
      command: hidden ? undefined : red.text(command),
      diff: hidden || !r.diff ? undefined : red.value(r.diff as { before: string; after: string; path?: string }),
      durationMs,
      attempts: r.attempts,
      item: r.results ? undefined : hidden ? undefined : red.value(r.item),
      code,
      state,
    });
  }

  private async runItem(pp: PlannedPlay, task: TaskSpec, mod: ModuleDef, host: string, scope: Record<string, unknown>, item: unknown): Promise<{ outcome: HostOutcome; command?: string }> {
    const s = this.state(host);
    // Play and task vars, facts and loop items named like secrets count too, once rendered.
    s.redactor.add(secretValues(scope, this.conns.host(host).secretVars));
    const decide = (message: string, data?: Record<string, unknown>) =>
      this.bus.emit({ type: 'decision', time: now(), task: task.name, taskIndex: task.index, taskId: task.id, host, message: s.redactor.text(message), data: data && s.redactor.value(data) });
    const falseCond = firstFalse(task.when, scope);
    if (falseCond !== undefined) {
      decide(`skipped: when \`${falseCond}\` was false`);
      return { outcome: { status: 'skipped', registered: skippedResult(`Conditional result was False: ${falseCond}`, item) } };
    }
    let actingName = host;
    if (task.delegateTo !== undefined) actingName = String(renderValue(task.delegateTo, scope));
    const acting = this.conns.host(actingName);
    const cls = this.doctrine.classes[acting.hardwareClass];
    const transport = this.conns.get(actingName);

    // Experimental parallelism: the host must have booted recently (PARALLELISM.md §3).
    const expJobs = this.plan.experimental.get(task.id)?.get(actingName);
    if (expJobs !== undefined && !this.opts.check) {
      try {
        const r = await transport.exec('cat /proc/uptime', { signal: this.opts.signal, timeoutMs: 15000 });
        const up = Number.parseFloat(r.stdout);
        const minutes = up / 60;
        if (!Number.isFinite(up) || minutes > cls.experimental_max_uptime_minutes) {
          const msg = `experimental -j${expJobs} refused on ${actingName}: it booted ${Number.isFinite(up) ? Math.round(minutes) + ' min' : 'an unknown time'} ago, the doctrine allows experiments only within ${cls.experimental_max_uptime_minutes} min of a reboot`;
          decide(msg, { jobs: expJobs, uptime_minutes: minutes });
          return { outcome: { status: task.ignoreErrors ? 'ignored' : 'failed', registered: { changed: false, failed: true, skipped: false, msg, code: 'doctrine/experimental-stale-boot' } } };
        }
        decide(`experimental -j${expJobs} allowed on ${actingName}: booted ${Math.round(minutes)} min ago (≤ ${cls.experimental_max_uptime_minutes}), reason: ${(task.experimental ?? pp.play.experimental)?.reason}`, { jobs: expJobs, uptime_minutes: minutes });
      } catch (err) {
        if (err instanceof UnreachableError) return { outcome: unreachableOutcome(err, decide) };
        throw err;
      }
    }

    const attemptsMax = task.until.length ? task.retries + 1 : 1;
    let registered: RegisteredResult = { changed: false, failed: false, skipped: false };
    let facts: Record<string, unknown> | undefined;
    let command: string | undefined;
    for (let attempt = 1; attempt <= attemptsMax; attempt++) {
      const args = renderArgs(task.args, scope, mod.noRender);
      const environment = renderEnvironment({ ...pp.play.environment, ...task.environment }, scope);
      command = typeof args.cmd === 'string' ? args.cmd : Array.isArray(args.argv) ? (args.argv as string[]).join(' ') : undefined;
      let result: TaskResult;
      try {
        result = await this.invoke(pp, task, mod, host, acting, transport, scope, args, environment, decide);
      } catch (err) {
        if (err instanceof UnreachableError) return { outcome: unreachableOutcome(err, decide), command };
        throw err;
      }
      registered = toRegistered(result, { attempts: task.until.length ? attempt : undefined, item });
      facts = result.facts;
      const selfScope = task.register ? { ...scope, ...(facts ?? {}), [task.register]: registered } : { ...scope, ...(facts ?? {}) };
      if (task.changedWhen.length) registered.changed = allTrue(task.changedWhen, selfScope);
      if (task.failedWhen.length) registered.failed = allTrue(task.failedWhen, selfScope);
      if (!task.until.length) break;
      if (allTrue(task.until, selfScope)) break;
      if (attempt < attemptsMax) {
        decide(`until not met (attempt ${attempt} of ${attemptsMax}); retrying in ${task.delay}s`);
        await sleep(task.delay * 1000, this.opts.signal);
      } else {
        registered.failed = true;
        registered.msg = `retries exhausted: until \`${task.until.join(' and ')}\` still false after ${attemptsMax} attempts${registered.msg ? ` (${registered.msg})` : ''}`;
      }
    }
    return { outcome: { status: statusOf(registered, task.ignoreErrors), registered, facts }, command };
  }

  private async invoke(
    pp: PlannedPlay,
    task: TaskSpec,
    mod: ModuleDef,
    host: string,
    acting: ReturnType<Connections['host']>,
    transport: ReturnType<Connections['get']>,
    scope: Record<string, unknown>,
    args: Record<string, unknown>,
    environment: Record<string, string>,
    decide: (m: string, d?: Record<string, unknown>) => void,
  ): Promise<TaskResult> {
    const s = this.state(host);
    const abort = new AbortController();
    const onRunAbort = () => abort.abort(this.opts.signal.reason ?? 'interrupted');
    this.opts.signal.addEventListener('abort', onRunAbort, { once: true });
    const timeoutMs = task.timeout !== undefined ? task.timeout * 1000 : undefined;
    let timer: NodeJS.Timeout | undefined;
    let hardTimer: NodeJS.Timeout | undefined;
    const ctx: TaskContext = {
      host: { name: acting.name, hardwareClass: acting.hardwareClass, vars: acting.vars },
      forHost: host,
      transport,
      check: this.opts.check,
      diff: this.opts.diff,
      vars: scope,
      doctrine: this.doctrine.classes[acting.hardwareClass],
      environment,
      timeoutMs,
      signal: abort.signal,
      output: (stream, text) => {
        if (!task.noLog) this.bus.emit({ type: 'host.output', time: now(), task: task.name, taskIndex: task.index, taskId: task.id, host, stream, text: s.redactor.text(text) });
      },
      decision: decide,
      controller: this.conns.controller(),
      playbookDir: pp.playbook.dir,
      reconnect: (o) => this.conns.reconnect(acting.name, o),
    };
    try {
      const work = mod.run(ctx, args);
      if (timeoutMs === undefined) return await work;
      // The module's own timeout (ctx.timeoutMs) goes first so it can report a timeout, not an
      // interruption; the signal follows for modules that only honour it, and a module that
      // ignores both (a dead link) still cannot hold the run past timeout + grace.
      const guard = new Promise<TaskResult>((resolve) => {
        timer = setTimeout(() => abort.abort('timeout'), timeoutMs + SIGNAL_AFTER_TIMEOUT_MS);
        hardTimer = setTimeout(() => resolve({ changed: false, failed: true, rc: 124, msg: `task timed out after ${task.timeout}s (the host did not answer the kill)` }), timeoutMs + 5000);
      });
      const r = await Promise.race([work, guard]);
      if (abort.signal.aborted && abort.signal.reason === 'timeout' && !r.failed) return r;
      if (abort.signal.aborted && abort.signal.reason === 'timeout' && r.data?.timed_out !== true) return { ...r, failed: true, msg: `task timed out after ${task.timeout}s${r.msg ? `: ${r.msg}` : ''}` };
      return r;
    } finally {
      if (timer) clearTimeout(timer);
      if (hardTimer) clearTimeout(hardTimer);
      this.opts.signal.removeEventListener('abort', onRunAbort);
    }
  }

}

class TaskInputError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function unreachableOutcome(err: UnreachableError, decide: (m: string) => void): HostOutcome {
  decide(`unreachable: ${err.message}`);
  return { status: 'unreachable', registered: { changed: false, failed: true, skipped: false, unreachable: true, msg: err.message + (err.hint ? ` (${err.hint})` : ''), code: err.code } };
}

function statusOf(r: RegisteredResult, ignoreErrors: boolean): HostStatus {
  if (r.failed) return ignoreErrors ? 'ignored' : 'failed';
  if (r.skipped) return 'skipped';
  return r.changed ? 'changed' : 'ok';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
