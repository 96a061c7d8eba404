/**
 * A worker dropping out mid-run ("handle node dropouts as first-class events"): `lab stop w2`
 * while a play runs on w1 and w2. w2 is reported unreachable (not failed), w1 finishes the play,
 * tsplay exits 3 without hanging, and after `lab start w2` the same run succeeds.
 * Only w2 is ever stopped, and it is always started again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expectExit, runTsplay } from '../helpers/cli.js';
import { lab, ensureLab, type Lab } from '../helpers/lab.js';
import { events, startTsplay } from '../helpers/background.js';

let l: Lab;
let dir: string;
let playbook: string;

beforeAll(async () => {
  l = await ensureLab();
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-dropout-'));
  playbook = path.join(dir, 'dropout.yml');
  writeFileSync(
    playbook,
    `- name: dropout
  hosts: w1,w2
  tasks:
    - name: first
      command: hostname
    - name: slow
      shell: echo started; sleep 4; echo slept
    - name: third
      command: hostname
    - name: fourth
      shell: sleep 1; echo fine
`,
  );
});

afterAll(async () => {
  await lab('start', 'w2');
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the playbook and powers w2 off once both hosts are inside the slow task. */
async function runWithDropout(extra: string[]) {
  const bg = startTsplay(['run', '-i', l.inventory, '-vv', ...extra, playbook], { timeoutMs: 120_000 });
  try {
    await bg.until((out) => /\[w2\] started/.test(out) || /"host":"w2","stream":"stdout","text":"started/.test(out));
    await lab('stop', 'w2');
    return await bg.done;
  } finally {
    await lab('start', 'w2');
  }
}

test('w2 powered off mid-task: reported unreachable in the recap, w1 finishes, exit 3, no hang', async () => {
  const r = await runWithDropout([]);
  expectExit(r, 3);
  const recap = r.stdout.slice(r.stdout.indexOf('PLAY RECAP'));
  expect(recap).toMatch(/w1\s+: ok=4\s+changed=4\s+unreachable=0\s+failed=0/);
  expect(recap).toMatch(/w2\s+: ok=1\s+changed=1\s+unreachable=1\s+failed=0/);
  expect(r.stdout).toMatch(/unreachable: \[w2\].*ssh to w2 \(10\.177\.0\.102:22\): the connection was lost/);
  expect(r.stdout).toContain('rule: host/connection-lost');
  // w1 ran the tasks after the one w2 dropped out of; w2 was not tried again.
  expect(r.stdout).toMatch(/TASK \[fourth\][^]*changed: \[w1\]/);
  expect(r.stdout.slice(r.stdout.indexOf('TASK [third]'))).not.toMatch(/\[w2\]/);
  expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
});

test('--json: the dropout is a host.result with status unreachable and its code, and run.end says failed', async () => {
  const r = await runWithDropout(['--json']);
  expectExit(r, 3);
  const ev = events(r.stdout);
  const w2 = ev.filter((e) => e.type === 'host.result' && e.host === 'w2');
  expect(w2.map((e) => [e.task, e.status])).toEqual([
    ['first', 'changed'],
    ['slow', 'unreachable'],
  ]);
  expect(w2[1]).toMatchObject({ code: 'host/connection-lost', changed: false });
  const w1 = ev.filter((e) => e.type === 'host.result' && e.host === 'w1');
  expect(w1.map((e) => e.status)).toEqual(['changed', 'changed', 'changed', 'changed']);
  expect(ev.some((e) => e.type === 'decision' && e.host === 'w2' && /^unreachable: /.test(String(e.message)))).toBe(true);
  const end = ev.find((e) => e.type === 'run.end')!;
  expect(end).toMatchObject({ outcome: 'failed' });
  expect((end.recap as Record<string, { unreachable: number; failed: number }>).w2).toMatchObject({ unreachable: 1, failed: 0 });
});

test('after `lab start w2` the same run succeeds on both hosts', async () => {
  const r = await runTsplay(['run', '-i', l.inventory, playbook], { timeoutMs: 120_000 });
  expectExit(r, 0);
  expect(r.stdout).toMatch(/w2\s+: ok=4\s+changed=4\s+unreachable=0\s+failed=0/);
});

test('a worker already powered off: unreachable within the connect timeout, the others run', async () => {
  await lab('stop', 'w2');
  try {
    const r = await runTsplay(['run', '-i', l.inventory, '--connect-timeout', '3', '--json', playbook], { timeoutMs: 120_000 });
    expectExit(r, 3);
    const ev = events(r.stdout);
    const w2 = ev.filter((e) => e.type === 'host.result' && e.host === 'w2');
    expect(w2).toHaveLength(1);
    expect(w2[0]).toMatchObject({ task: 'first', status: 'unreachable' });
    expect(['host/timeout', 'host/no-route']).toContain(w2[0]!.code);
    expect(ev.filter((e) => e.type === 'host.result' && e.host === 'w1' && e.status === 'changed')).toHaveLength(4);
  } finally {
    await lab('start', 'w2');
  }
});
