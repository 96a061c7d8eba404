/**
 * wait-for-connection's retry logic, over a transport that is down for a number of attempts.
 * (The integration tests run it against a real sshd that comes up during the run.)
 */
import type { Command, ExecOptions, ExecResult, Transport } from '../../engine/transport/transport.js';
import { HostKeyError, UnreachableError } from '../../engine/transport/transport.js';
import { waitForConnection } from '../../modules/wait-for-connection.js';
import { moduleContext } from '../helpers/module-context.js';

/** Unreachable until `downFor` connections have been tried; each reconnect is a new connection. */
class FlakyHost implements Transport {
  readonly host = 'flaky';
  attempts = 0;
  commands: Command[] = [];
  constructor(
    private readonly downFor: number,
    private readonly error: () => Error = () => new UnreachableError('ssh to flaky: connection refused', 'host/connection-refused'),
  ) {}
  async connect(): Promise<void> {}
  async exec(command: Command, _opts?: ExecOptions): Promise<ExecResult> {
    this.attempts++;
    if (this.attempts <= this.downFor) throw this.error();
    this.commands.push(command);
    return { rc: 0, stdout: 'pong', stderr: '' };
  }
  async put(): Promise<void> {}
  async get(): Promise<Buffer | null> {
    return null;
  }
  async close(): Promise<void> {}
}

test('retries over a fresh connection each time until the host answers', async () => {
  const t = new FlakyHost(2);
  const ctx = moduleContext({}, t);
  const r = await waitForConnection.run(ctx, { timeout: 30, sleep: 0 });
  expect(r).toMatchObject({ changed: false, data: { attempts: 3 } });
  expect(r.failed).toBeFalsy();
  expect(r.msg).toMatch(/^flaky answered after .*s \(attempt 3\)$/);
  expect(ctx.record.reconnects).toBe(3);
  expect(t.commands).toEqual([['printf', '%s', 'pong']]);
  expect(ctx.record.decisions).toHaveLength(2);
  expect(ctx.record.decisions[0]).toContain('attempt 1 failed (ssh to flaky: connection refused)');
});

test('fails after the timeout, naming the last error', async () => {
  const t = new FlakyHost(Number.MAX_SAFE_INTEGER);
  const r = await waitForConnection.run(moduleContext({}, t), { timeout: 1, sleep: 0.2 });
  expect(r.failed).toBe(true);
  expect(r.msg).toMatch(/^flaky did not answer within 1s \(\d+ attempts\); last error: ssh to flaky: connection refused$/);
  expect(t.attempts).toBeGreaterThan(1);
});

test('a host key problem fails at once: waiting cannot fix it', async () => {
  const t = new FlakyHost(Number.MAX_SAFE_INTEGER, () => new HostKeyError('ssh to flaky: HOST KEY CHANGED', 'ssh/changed-host-key', 'compare the fingerprints'));
  const r = await waitForConnection.run(moduleContext({}, t), { timeout: 30, sleep: 0 });
  expect(r).toMatchObject({ failed: true, msg: 'ssh to flaky: HOST KEY CHANGED (compare the fingerprints)' });
  expect(t.attempts).toBe(1);
});

test('other errors are not swallowed', async () => {
  const t = new FlakyHost(1, () => new TypeError('a bug'));
  await expect(waitForConnection.run(moduleContext({}, t), { timeout: 5, sleep: 0 })).rejects.toThrow('a bug');
});

test('rendered arguments must be numbers of seconds', async () => {
  const r = await waitForConnection.run(moduleContext({}, new FlakyHost(0)), { timeout: 'soon', sleep: '-1' });
  expect(r).toMatchObject({ failed: true });
  expect(r.msg).toBe('wait-for-connection: timeout must be a number of seconds ≥ 1, not "soon"; sleep must be a number of seconds ≥ 0, not "-1"');
  const ok = await waitForConnection.run(moduleContext({}, new FlakyHost(0)), { timeout: '10', delay: '0' });
  expect(ok.failed).toBeFalsy();
});

test('an interrupted wait stops', async () => {
  const abort = new AbortController();
  const t = new FlakyHost(Number.MAX_SAFE_INTEGER);
  const ctx = moduleContext({ signal: abort.signal, decision: () => abort.abort() }, t);
  const r = await waitForConnection.run(ctx, { timeout: 60, sleep: 30 });
  expect(r).toMatchObject({ failed: true });
  expect(r.msg).toContain('interrupted while waiting for flaky');
});

test('staticCheck: values known at parse time must be numbers of seconds', () => {
  expect(waitForConnection.staticCheck!({ timeout: 'soon', sleep: 2, delay: '\u0001' }, { playbookDir: '/' })).toEqual([
    { code: 'args/invalid-value', arg: 'timeout', message: 'timeout must be a number of seconds ≥ 1, not "soon"' },
  ]);
  expect(waitForConnection.staticCheck!({ timeout: '30', connect_timeout: 0 }, { playbookDir: '/' })).toMatchObject([{ arg: 'connect_timeout' }]);
});

test('an attempt that hangs (a half-dead host holding the handshake) is cut off at its budget', async () => {
  let calls = 0;
  const hanging: Transport = {
    host: 'stuck',
    connect: async () => undefined,
    // Ignores its signal and timeout, as a connect that never completes does.
    exec: () => {
      calls++;
      return new Promise<ExecResult>(() => undefined);
    },
    put: async () => undefined,
    get: async () => null,
    close: async () => undefined,
  };
  const r = await waitForConnection.run(moduleContext({}, hanging), { timeout: 2, sleep: 0, connect_timeout: 1 });
  expect(r).toMatchObject({ failed: true });
  expect(r.msg).toMatch(/^stuck did not answer within 2s \(\d+ attempts?\); last error: no answer within \d(\.\d)?s$/);
  expect(calls).toBeGreaterThanOrEqual(1);
});
