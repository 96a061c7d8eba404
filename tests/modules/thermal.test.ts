/**
 * thermal against the lab's w2, whose sensor `tsplay lab heat` sets, through the real CLI; and a
 * host with no sensor at all: the controller itself (connection: local) inside a private mount
 * namespace whose /sys/class/thermal is an empty tmpfs. w2 is always put back to 45 °C.
 */
import { spawn } from 'node:child_process';
import { EXIT } from '../../cli/exit-codes.js';
import { ensureLab, lab as labCmd, type Lab } from '../helpers/lab.js';
import { ROOT, TSPLAY } from '../helpers/paths.js';
import { events, exitCode, play, scratchFile, type Ev } from './run-play.js';

let lab: Lab;
const on = (hosts: string, extra: string[] = []) => ({ inventory: lab.inventory, hosts, extra });

beforeAll(async () => {
  lab = await ensureLab(2);
}, 600_000);

afterAll(async () => {
  await labCmd('heat', 'w2', '45');
});

test('read: every zone, the hottest reading and the doctrine threshold become the fact tsplay_thermal', async () => {
  await labCmd('heat', 'w2', '45');
  const p = await play(
    [
      { name: 'read', thermal: {} },
      { name: 'fact', debug: { var: 'tsplay_thermal' } },
    ],
    on('w2'),
  );
  exitCode(p, 0);
  expect(p.result('read')).toMatchObject({ status: 'ok', changed: false, msg: 'w2 at 45.0°C, threshold 85°C' });
  expect(p.shown('tsplay_thermal')).toEqual({
    celsius: 45,
    threshold_c: 85,
    throttled: false,
    sensor: true,
    above_threshold: false,
    mode: 'read',
    zones: [{ zone: 'thermal_zone0', celsius: 45, type: 'x86_pkg_temp' }],
    source: '/sys/class/thermal/thermal_zone0',
  });
});

test('at 90 °C: assert fails naming 90°C, throttle sets throttled and says -j12, wait gives up at its timeout', async () => {
  try {
    await labCmd('heat', 'w2', '90');
    const p = await play(
      [
        { name: 'assert', thermal: { mode: 'assert' }, ignore_errors: true },
        { name: 'throttle', thermal: { mode: 'throttle' } },
        { name: 'fact', debug: { var: 'tsplay_thermal' } },
        { name: 'wait', thermal: { mode: 'wait', timeout: 2, interval: 1 } },
      ],
      on('w2'),
    );
    exitCode(p, EXIT.HOST_FAILED);
    expect(p.result('assert')).toMatchObject({ status: 'ignored', msg: 'w2 at 90.0°C, above the 85°C threshold' });
    expect(p.result('throttle')).toMatchObject({ status: 'ok', changed: false });
    expect(p.result('throttle').msg).toBe('w2 at 90.0°C ≥ 85°C: throttled, make-jobserver will use the diagnostic -j12');
    expect(p.decisions).toContain('thermal: w2 at 90.0°C ≥ 85°C: throttled, make-jobserver will use the diagnostic -j12');
    expect(p.shown('tsplay_thermal')).toMatchObject({ celsius: 90, throttled: true, above_threshold: true, sensor: true, mode: 'throttle' });
    expect(p.result('wait').status).toBe('failed');
    expect(p.result('wait').msg).toMatch(/^w2 at 90\.0°C after waiting \d+s: still above the 85°C threshold \(timeout 2s\)$/);
  } finally {
    await labCmd('heat', 'w2', '45');
  }
});

test('the throttle decision is shown by the plain reporter too', async () => {
  try {
    await labCmd('heat', 'w2', '90');
    const file = scratchFile('throttle.yml', JSON.stringify([{ hosts: 'w2', tasks: [{ name: 'gate', thermal: { mode: 'throttle' } }] }]));
    const r = await run(['run', '-i', lab.inventory, file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/note \[w2\]: thermal: w2 at 90\.0°C ≥ 85°C: throttled, make-jobserver will use the diagnostic -j12/);
  } finally {
    await labCmd('heat', 'w2', '45');
  }
});

test('an explicit threshold_c overrides the doctrine; below it nothing is throttled', async () => {
  await labCmd('heat', 'w2', '45');
  const p = await play(
    [
      { name: 'hot for 40', thermal: { mode: 'throttle', threshold_c: 40 } },
      { name: 'cool for 85', thermal: { mode: 'throttle' } },
      { name: 'fact', debug: { var: 'tsplay_thermal' } },
      { name: 'assert 40', thermal: { mode: 'assert', threshold_c: '{{ limit }}' }, ignore_errors: true },
    ],
    on('w2', ['-e', 'limit=40']),
  );
  exitCode(p, 0);
  expect(p.result('hot for 40').msg).toBe('w2 at 45.0°C ≥ 40°C: throttled, make-jobserver will use the diagnostic -j12');
  expect(p.result('cool for 85').msg).toBe('w2 at 45.0°C < 85°C: not throttled');
  // The later reading replaces the earlier one: the fact is not stuck at throttled.
  expect(p.shown('tsplay_thermal')).toMatchObject({ throttled: false, threshold_c: 85 });
  expect(p.result('assert 40').msg).toBe('w2 at 45.0°C, above the 40°C threshold');
});

test('wait: polls while the host is hot and passes once it has cooled', async () => {
  try {
    await labCmd('heat', 'w2', '90');
    const file = scratchFile('wait.yml', JSON.stringify([{ hosts: 'w2', tasks: [{ name: 'cool down', thermal: { mode: 'wait', timeout: 120, interval: 1 } }] }]));
    const seen: Ev[] = [];
    // Cool the host only once the run has reported that it is waiting, so the wait is real.
    const r = await run(['run', '-i', lab.inventory, file, '--json'], async (line) => {
      const e = JSON.parse(line) as Ev;
      seen.push(e);
      if (e.type === 'decision' && /waiting up to 120s/.test(e.message ?? '')) await labCmd('heat', 'w2', '45');
    });
    expect(r.code).toBe(0);
    const all = events(r.stdout);
    expect(all.some((e) => e.type === 'decision' && e.message === 'thermal: w2 at 90.0°C > 85°C: waiting up to 120s for it to cool')).toBe(true);
    const result = all.find((e) => e.type === 'host.result' && e.task === 'cool down');
    expect(result).toMatchObject({ status: 'ok' });
    expect(result?.msg).toMatch(/^w2 at 45\.0°C ≤ 85°C/);
  } finally {
    await labCmd('heat', 'w2', '45');
  }
});

test('after cooling to 45 °C, assert passes', async () => {
  await labCmd('heat', 'w2', '45');
  const p = await play([{ name: 'assert', thermal: { mode: 'assert' } }], on('w2'));
  exitCode(p, 0);
  expect(p.result('assert')).toMatchObject({ status: 'ok', msg: 'w2 at 45.0°C ≤ 85°C' });
});

describe('a host without a thermal sensor', () => {
  // The controller, seen through a mount namespace where /sys/class/thermal is empty: honest
  // whatever sensors this machine has.
  const wrap = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tsplay-no-sensor /sys/class/thermal && exec "$@"', 'sh'];
  let inventory: string;
  beforeAll(() => {
    inventory = scratchFile('local.yml', 'all:\n  hosts:\n    ctl:\n      connection: local\n      hardware_class: x86_64\n');
  });

  test('read is a clear ok result; assert and wait pass but record that the gate was not applied; throttle does not throttle', async () => {
    const p = await play(
      [
        { name: 'read', thermal: {} },
        { name: 'fact', debug: { var: 'tsplay_thermal' } },
        { name: 'assert', thermal: { mode: 'assert' } },
        { name: 'wait', thermal: { mode: 'wait', timeout: 5 } },
        { name: 'throttle', thermal: { mode: 'throttle' } },
        { name: 'throttled', debug: { var: 'tsplay_thermal.throttled' } },
      ],
      { inventory, hosts: 'ctl', wrap },
    );
    exitCode(p, 0);
    expect(p.result('read')).toMatchObject({ status: 'ok', msg: 'no thermal sensor on ctl' });
    expect(p.shown('tsplay_thermal')).toEqual({ celsius: null, threshold_c: 85, throttled: false, sensor: false, above_threshold: false, mode: 'read', zones: [], source: 'none' });
    expect(p.result('assert')).toMatchObject({ status: 'ok', msg: 'no thermal sensor on ctl: the assert gate (≤ 85°C) could not be applied' });
    expect(p.result('wait')).toMatchObject({ status: 'ok', msg: 'no thermal sensor on ctl: the wait gate (≤ 85°C) could not be applied' });
    expect(p.decisions).toContain('thermal: the assert gate (≤ 85°C) could not be applied: no thermal sensor on ctl');
    expect(p.decisions).toContain('thermal: the wait gate (≤ 85°C) could not be applied: no thermal sensor on ctl');
    expect(p.result('throttle')).toMatchObject({ status: 'ok', msg: 'no thermal sensor on ctl' });
    expect(p.shown('tsplay_thermal.throttled')).toBe(false);
  });
});

/** The CLI with live stdout lines (JSON events) handed to `onLine` as they come. */
function run(args: string[], onLine?: (line: string) => Promise<void>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSPLAY, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    const work: Promise<void>[] = [];
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      pending += d;
      let i: number;
      while ((i = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 1);
        if (onLine && line.startsWith('{')) work.push(onLine(line));
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      Promise.all(work).then(() => resolve({ code, stdout, stderr }), reject);
    });
  });
}
