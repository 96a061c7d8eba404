/**
 * systemd against the lab's workers, through the real CLI: distccd.service under Debian's
 * systemctl script. w1 is only read; w2's distccd is stopped, started, restarted, disabled and
 * enabled — and always left active and enabled (afterAll), as the lab had it.
 */
import { EXIT } from '../../cli/exit-codes.js';
import { ensureLab, type Lab } from '../helpers/lab.js';
import { exitCode, play, scratchFile } from './run-play.js';
import { runTsplay } from '../helpers/cli.js';

let lab: Lab;
const on = (hosts: string, extra: { check?: boolean; extra?: string[] } = {}) => ({ inventory: lab.inventory, hosts, ...extra });

/** Puts w2's distccd back the way the lab runs it, without going through the module under test. */
async function restoreW2(): Promise<void> {
  const p = await play([{ name: 'restore', shell: 'systemctl enable distccd.service >/dev/null; systemctl is-active -q distccd.service || systemctl start distccd.service' }], on('w2'));
  exitCode(p, 0);
}

beforeAll(async () => {
  lab = await ensureLab(2);
  await restoreW2();
}, 600_000);

afterAll(async () => {
  await restoreW2();
}, 120_000);

test('verify: active on w1’s distccd passes, reports the unit’s states and changes nothing', async () => {
  const p = await play(
    [
      { name: 'verify', systemd: { name: 'distccd', verify: 'active' }, register: 'v' },
      { name: 'show', debug: { var: 'v' } },
    ],
    on('w1'),
  );
  exitCode(p, 0);
  expect(p.result('verify').status).toBe('ok');
  expect(p.result('verify').changed).toBe(false);
  expect(p.result('verify').msg).toMatch(/distccd\.service is active \(running\) on w1/);
  expect(p.shown('v')).toMatchObject({ name: 'distccd.service', active_state: 'active', sub_state: 'running', enabled_state: 'enabled' });
});

test('verify: inactive on a running unit fails with its real state and changes nothing', async () => {
  const p = await play([{ name: 'must be stopped', systemd: { name: 'distccd', verify: 'inactive' } }, { name: 'still up', 'port-check': { port: 3632 } }], on('w1'));
  exitCode(p, EXIT.HOST_FAILED);
  expect(p.result('must be stopped').status).toBe('failed');
  expect(p.result('must be stopped').msg).toMatch(/^w1: distccd\.service is active \(running\), expected inactive/);
  const after = await play([{ name: 'still up', systemd: { name: 'distccd', verify: 'active' } }], on('w1'));
  exitCode(after, 0);
});

test('an unknown unit fails clearly, in verify and in state mode', async () => {
  const p = await play(
    [
      { name: 'verify unknown', systemd: { name: 'tsplay-no-such-unit', verify: 'active' }, ignore_errors: true },
      { name: 'start unknown', systemd: { name: 'tsplay-no-such-unit.service', state: 'started' } },
    ],
    on('w1'),
  );
  exitCode(p, EXIT.HOST_FAILED);
  expect(p.result('verify unknown').status).toBe('ignored');
  expect(p.result('verify unknown').msg).toMatch(/w1: unit tsplay-no-such-unit(\.service)? not found/);
  expect(p.result('start unknown').status).toBe('failed');
  expect(p.result('start unknown').msg).toMatch(/w1: unit tsplay-no-such-unit\.service not found/);
});

test('stopped, then started, on w2: changed only when something changed; 3632 closes and reopens', async () => {
  try {
    const stop = await play(
      [
        { name: 'stop', systemd: { name: 'distccd', state: 'stopped' }, register: 's' },
        { name: 'show stop', debug: { var: 's' } },
        { name: 'stop again', systemd: { name: 'distccd', state: 'stopped' } },
        { name: 'not listening', 'port-check': { port: 3632 }, ignore_errors: true },
        { name: 'closed from the controller', 'port-check': { port: 3632, state: 'closed', from: 'controller' } },
        { name: 'is inactive', systemd: { name: 'distccd', verify: 'inactive' } },
      ],
      on('w2'),
    );
    exitCode(stop, 0);
    expect(stop.result('stop')).toMatchObject({ status: 'changed', changed: true });
    expect(stop.shown('s')).toMatchObject({ active_state: 'inactive', enabled_state: 'enabled' });
    expect(stop.result('stop again')).toMatchObject({ status: 'ok', changed: false });
    expect(stop.result('not listening').msg).toBe('w2: nothing listens on 3632 (expected listening)');
    expect(stop.result('closed from the controller').msg).toMatch(/10\.177\.0\.102:3632 is closed \(connection refused\)/);

    const start = await play(
      [
        { name: 'start', systemd: { name: 'distccd', state: 'started' } },
        { name: 'start again', systemd: { name: 'distccd', state: 'started' } },
        { name: 'listening', 'port-check': { port: 3632 } },
        { name: 'open from the controller', 'port-check': { port: 3632, state: 'open', from: 'controller' } },
      ],
      on('w2'),
    );
    exitCode(start, 0);
    expect(start.result('start')).toMatchObject({ status: 'changed', changed: true });
    expect(start.result('start').msg).toMatch(/start distccd\.service: now active/);
    expect(start.result('start again')).toMatchObject({ status: 'ok', changed: false });
    expect(start.result('listening').msg).toBe('w2: 10.177.0.102:3632 listening');
  } finally {
    await restoreW2();
  }
});

test('restarted always acts: a new main process, still active', async () => {
  try {
    const p = await play(
      [
        { name: 'before', systemd: { name: 'distccd' }, register: 'a' },
        { name: 'restart', systemd: { name: 'distccd', state: 'restarted' }, register: 'b' },
        { name: 'show a', debug: { var: 'a' } },
        { name: 'show b', debug: { var: 'b' } },
      ],
      on('w2'),
    );
    exitCode(p, 0);
    expect(p.result('before')).toMatchObject({ status: 'ok', changed: false });
    expect(p.result('restart')).toMatchObject({ status: 'changed', changed: true });
    const a = p.shown('a') as { main_pid: number };
    const b = p.shown('b') as { main_pid: number; active_state: string };
    expect(b.active_state).toBe('active');
    expect(typeof a.main_pid).toBe('number');
    expect(b.main_pid).not.toBe(a.main_pid);
  } finally {
    await restoreW2();
  }
});

test('enabled: false, then true — each changes once, then is a no-op', async () => {
  try {
    const p = await play(
      [
        { name: 'disable', systemd: { name: 'distccd', enabled: false }, register: 'd' },
        { name: 'disable again', systemd: { name: 'distccd', enabled: false } },
        { name: 'show d', debug: { var: 'd' } },
        { name: 'enable', systemd: { name: 'distccd', enabled: true }, register: 'e' },
        { name: 'enable again', systemd: { name: 'distccd', enabled: true } },
        { name: 'show e', debug: { var: 'e' } },
      ],
      on('w2'),
    );
    exitCode(p, 0);
    expect(p.result('disable')).toMatchObject({ status: 'changed', changed: true });
    expect(p.shown('d')).toMatchObject({ enabled_state: 'disabled', active_state: 'active' });
    expect(p.result('disable again')).toMatchObject({ status: 'ok', changed: false });
    expect(p.result('enable')).toMatchObject({ status: 'changed', changed: true });
    expect(p.shown('e')).toMatchObject({ enabled_state: 'enabled' });
    expect(p.result('enable again')).toMatchObject({ status: 'ok', changed: false });
  } finally {
    await restoreW2();
  }
});

test('check mode says what it would do and changes nothing', async () => {
  try {
    const p = await play(
      [
        { name: 'would stop', systemd: { name: 'distccd', state: 'stopped', enabled: false } },
        { name: 'would restart', systemd: { name: 'distccd', state: 'restarted' } },
        { name: 'already started', systemd: { name: 'distccd', state: 'started' } },
      ],
      on('w2', { check: true }),
    );
    exitCode(p, 0);
    expect(p.result('would stop')).toMatchObject({ status: 'changed', changed: true });
    expect(p.result('would stop').msg).toMatch(/^would disable, then stop distccd\.service .*check mode changed nothing/);
    expect(p.result('would restart').msg).toMatch(/^would restart distccd\.service/);
    expect(p.result('already started')).toMatchObject({ status: 'ok', changed: false });
    const after = await play(
      [
        { name: 'still active', systemd: { name: 'distccd', verify: 'active' }, register: 'v' },
        { name: 'show', debug: { var: 'v' } },
      ],
      on('w2'),
    );
    exitCode(after, 0);
    expect(after.shown('v')).toMatchObject({ active_state: 'active', enabled_state: 'enabled' });
  } finally {
    await restoreW2();
  }
});

test('templated arguments are checked after rendering', async () => {
  const p = await play(
    [
      { name: 'templated', systemd: { name: '{{ unit }}', verify: '{{ want }}' } },
      { name: 'bad value', systemd: { name: 'distccd', verify: '{{ nonsense }}' } },
    ],
    on('w1', { extra: ['-e', 'unit=distccd', '-e', 'want=active', '-e', 'nonsense=running'] }),
  );
  exitCode(p, EXIT.HOST_FAILED);
  expect(p.result('templated').status).toBe('ok');
  expect(p.result('bad value').msg).toBe('invalid arguments after rendering: verify must be "active" or "inactive" (got "running")');
});

test('verify with state is refused before anything runs, with the place and a hint', async () => {
  const file = scratchFile('exclusive.yml', ['- hosts: w1', '  tasks:', '    - name: both', '      systemd:', '        name: distccd', '        state: started', '        verify: active', ''].join('\n'));
  const r = await runTsplay(['run', '-i', lab.inventory, file]);
  expect(r.code).toBe(EXIT.INVALID);
  expect(r.stdout + r.stderr).toMatch(/exclusive\.yml:7:\d+: error args\/exclusive: task "both": systemd: `verify` only reads the unit, so it cannot be combined with `state`/);
  expect(r.stdout + r.stderr).toMatch(/hint: use two tasks/);
  expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
});

test('a unit that dies at once is not reported as started: the failure carries its state and last log lines', async () => {
  const unit = (name: string, exec: string) =>
    `printf '[Unit]\\nDescription=tsplay module test\\n[Service]\\nType=simple\\nExecStart=${exec}\\n' > /etc/systemd/system/${name}.service`;
  try {
    const p = await play(
      [
        { name: 'units', shell: `${unit('tsplay-test-crash', '/bin/sh -c "echo tsplay-crash-says-goodbye >&2; exit 3"')}; ${unit('tsplay-test-quick', '/bin/true')}` },
        { name: 'crash', systemd: { name: 'tsplay-test-crash', state: 'started', daemon_reload: true }, ignore_errors: true },
        { name: 'quick', systemd: { name: 'tsplay-test-quick', state: 'started' }, ignore_errors: true },
        { name: 'crash state', systemd: { name: 'tsplay-test-crash' }, register: 'c' },
        { name: 'show', debug: { var: 'c' } },
      ],
      on('w2'),
    );
    exitCode(p, 0);
    expect(p.result('crash').status).toBe('ignored');
    expect(p.result('crash').msg).toMatch(/^w2: `systemctl start tsplay-test-crash\.service` exited with \d+.*last log lines: .*tsplay-crash-says-goodbye/);
    expect(p.result('quick').status).toBe('ignored');
    expect(p.result('quick').msg).toMatch(/^w2: (after `systemctl start` tsplay-test-quick\.service is (inactive|failed).*, not started|`systemctl start tsplay-test-quick\.service` exited with)/);
    expect(p.shown('c')).toMatchObject({ active_state: 'failed' });
  } finally {
    const clean = await play([{ name: 'clean', shell: 'rm -f /etc/systemd/system/tsplay-test-crash.service /etc/systemd/system/tsplay-test-quick.service; systemctl daemon-reload >/dev/null 2>&1; true' }], on('w2'));
    exitCode(clean, 0);
  }
});
