/**
 * wait-for-connection: waits until the host answers over a fresh connection (after a power-on or
 * a reboot). Each attempt drops the cached connection and opens a new one, then runs a trivial
 * command; an unreachable host is what this task expects, so it retries instead of giving up —
 * until `timeout`, when it fails naming the last error. The runner also runs it on hosts found
 * unreachable earlier in the run; a host that answers rejoins the play.
 */
import type { ModuleDef, TaskContext, TaskResult } from '../engine/module-types.js';
import { HostKeyError, UnreachableError, type ExecResult } from '../engine/transport/transport.js';
import { unresolved } from './lib/file-args.js';

export interface WaitForConnectionArgs {
  timeout?: number | string;
  delay?: number | string;
  sleep?: number | string;
  connect_timeout?: number | string;
}

// A string is allowed so the value may be templated; it is checked once rendered.
const seconds = (description: string, dflt: number, minimum: number) => ({ type: ['number', 'string'], minimum, default: dflt, description });

const MINIMUM = { timeout: 1, delay: 0, sleep: 0, connect_timeout: 1 } as const;

/** A rendered seconds argument, or why it is not one. */
function num(name: string, v: unknown, minimum: number): number | string {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < minimum) return `${name} must be a number of seconds ≥ ${minimum}, not ${JSON.stringify(v)}`;
  return n;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      signal.removeEventListener('abort', done);
      clearTimeout(t);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * One attempt: connect and run `printf pong`, all within `budget` ms. The transport connects before
 * the command's own timeout starts, and a half-dead host can hold a handshake for a long time, so
 * the whole attempt is raced against a timer; a late answer is dropped with its connection.
 */
async function bounded(ctx: TaskContext, budget: number): Promise<ExecResult | 'no-answer'> {
  const stop = new AbortController();
  const onOuter = () => stop.abort();
  ctx.signal.addEventListener('abort', onOuter, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'no-answer'>((resolve) => {
    timer = setTimeout(() => {
      stop.abort();
      resolve('no-answer');
    }, budget);
  });
  const work = ctx.transport.exec(['printf', '%s', 'pong'], { signal: stop.signal, timeoutMs: budget });
  work.catch(() => undefined); // settles after the race was lost: nothing is waiting for it then
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onOuter);
  }
}

const s1 = (ms: number) => `${Math.round(ms / 100) / 10}s`;

export const waitForConnection: ModuleDef<WaitForConnectionArgs> = {
  name: 'wait-for-connection',
  description:
    'Wait until the host can be reached again: each attempt opens a fresh connection and runs a trivial command. Use it after powering a host on or rebooting it. Also runs on hosts found unreachable earlier in the run; a host that answers rejoins the play. Changes nothing, so it runs in --check too.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      timeout: seconds('Give up (the task fails) after this many seconds in all.', 60, 1),
      delay: seconds('Seconds to wait before the first attempt.', 0, 0),
      sleep: seconds('Seconds between attempts.', 1, 0),
      connect_timeout: seconds('Seconds one attempt may take to connect; it gets 2 s more to answer, then the next attempt starts on a new connection.', 5, 1),
    },
  },
  staticCheck(args) {
    return Object.entries(MINIMUM).flatMap(([name, min]) => {
      const v = args[name as keyof WaitForConnectionArgs];
      if (v === undefined || unresolved(v)) return [];
      const why = num(name, v, min);
      return typeof why === 'string' ? [{ code: 'args/invalid-value', arg: name, message: why }] : [];
    });
  },
  examples: '```yaml\n- name: Power on\n  command: "{{ power_on }}"\n  delegate_to: localhost\n- name: Wait for sshd\n  wait-for-connection:\n    timeout: 120\n```',
  async run(ctx: TaskContext, args: WaitForConnectionArgs): Promise<TaskResult> {
    const given = [num('timeout', args.timeout ?? 60, MINIMUM.timeout), num('delay', args.delay ?? 0, MINIMUM.delay), num('sleep', args.sleep ?? 1, MINIMUM.sleep), num('connect_timeout', args.connect_timeout ?? 5, MINIMUM.connect_timeout)];
    const bad = given.filter((g): g is string => typeof g === 'string');
    if (bad.length) return { changed: false, failed: true, msg: `wait-for-connection: ${bad.join('; ')}` };
    const [timeoutMs, delayMs, sleepMs, connectMs] = (given as number[]).map((g) => g * 1000);
    const host = ctx.host.name;
    const t0 = Date.now();
    const deadline = t0 + timeoutMs;
    await pause(Math.min(delayMs, timeoutMs), ctx.signal);
    let last = 'no attempt was made';
    for (let attempt = 1; ; attempt++) {
      if (ctx.signal.aborted) return { changed: false, failed: true, msg: `interrupted while waiting for ${host} (${attempt - 1} attempts)` };
      ctx.reconnect?.({ connectTimeoutMs: connectMs });
      const budget = Math.max(1000, Math.min(connectMs + 2000, deadline - Date.now()));
      try {
        const r = await bounded(ctx, budget);
        if (r === 'no-answer') {
          last = `no answer within ${s1(budget)}`;
        } else if (r.rc === 0 && r.stdout === 'pong') {
          const elapsed = Date.now() - t0;
          return { changed: false, msg: `${host} answered after ${s1(elapsed)} (attempt ${attempt})`, data: { elapsed: Math.round(elapsed / 1000), attempts: attempt } };
        } else if (r.aborted && ctx.signal.aborted) {
          return { changed: false, failed: true, msg: `interrupted while waiting for ${host} (${attempt} attempts)` };
        } else {
          last = r.timedOut || r.aborted ? `no answer within ${s1(budget)}` : `the test command exited ${r.rc}${r.stderr.trim() ? `: ${r.stderr.trim()}` : ''}`;
        }
      } catch (err) {
        // A host key problem does not go away by waiting: refuse at once.
        if (err instanceof HostKeyError) return { changed: false, failed: true, msg: `${err.message} (${err.hint})` };
        if (!(err instanceof UnreachableError)) throw err;
        last = err.message;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        return {
          changed: false,
          failed: true,
          msg: `${host} did not answer within ${s1(timeoutMs)} (${attempt} attempt${attempt > 1 ? 's' : ''}); last error: ${last}`,
          data: { elapsed: Math.round((Date.now() - t0) / 1000), attempts: attempt },
        };
      }
      ctx.decision(`waiting for ${host}: attempt ${attempt} failed (${last}); next in ${s1(Math.min(sleepMs, left))}, ${s1(left)} left`, { attempt });
      // The last attempt starts at the deadline at the latest.
      await pause(Math.min(sleepMs, left), ctx.signal);
    }
  },
};
