/**
 * A network partition mid-task: `lab partition w2` cuts w2 off from the controller while it runs a
 * long command; w2 keeps running, it just cannot be reached. A task with `timeout:` fails after its
 * timeout and tsplay returns within a bounded time after it; without a timeout the dead connection
 * is found by SSH keepalives and the host is reported unreachable. w2 is always healed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import { expectExit, runTsplay } from '../helpers/cli.js';
import { lab, ensureLab, type Lab } from '../helpers/lab.js';
import { events, hostProcesses, reapHost, startTsplay } from '../helpers/background.js';

/** Correctness bounds, not benchmarks: the timeout, the kill grace (2.5 s), closing (1 s), and slack for a loaded machine. */
const TIMEOUT_S = 5;
const AFTER_TIMEOUT_MARGIN_MS = 10_000;
/** 3 keepalives 5 s apart, plus slack. */
const KEEPALIVE_BOUND_MS = 15_000 + 10_000;

let l: Lab;
let dir: string;

beforeAll(async () => {
  l = await ensureLab();
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-partition-'));
});

afterAll(async () => {
  await lab('heal', 'w2');
  rmSync(dir, { recursive: true, force: true });
});

function playbook(name: string, marker: string, timeout?: number): string {
  const file = path.join(dir, `${name}.yml`);
  writeFileSync(
    file,
    `- name: partition
  hosts: w2
  tasks:
    - name: warm up
      command: hostname
    - name: stuck
      shell: echo started; sleep ${marker}
${timeout === undefined ? '' : `      timeout: ${timeout}\n`}`,
  );
  return file;
}

/** Starts the run, partitions w2 once the long command runs there; returns the run and how long it took after the cut. */
async function runPartitioned(file: string, marker: string) {
  const bg = startTsplay(['run', '-i', l.inventory, '--json', file], { timeoutMs: 120_000 });
  await bg.until((out) => /"host":"w2","stream":"stdout","text":"started/.test(out));
  expect(hostProcesses('w2', marker).length).toBeGreaterThan(0);
  await lab('partition', 'w2');
  const cut = Date.now();
  const r = await bg.done;
  return { r, afterCutMs: Date.now() - cut };
}

test('a task with timeout: 5 fails after its timeout, and tsplay returns soon after', async () => {
  const marker = `${5000 + randomInt(1000)}.${randomInt(100000, 999999)}`;
  const file = playbook('timeout', marker, TIMEOUT_S);
  try {
    const { r, afterCutMs } = await runPartitioned(file, marker);
    expectExit(r, 2);
    expect(afterCutMs).toBeLessThan(TIMEOUT_S * 1000 + AFTER_TIMEOUT_MARGIN_MS);
    const ev = events(r.stdout);
    const stuck = ev.find((e) => e.type === 'host.result' && e.task === 'stuck')!;
    expect(stuck).toMatchObject({ host: 'w2', status: 'failed', rc: 124 });
    expect(String(stuck.msg)).toMatch(/^timed out: /);
    // tsplay says it could not kill what it can no longer reach, and where to find it.
    expect(String(stuck.stderr)).toMatch(/could not confirm that the command's processes on w2 were killed: .*\/tmp\/\.tsplay-(shell-[0-9a-f]+-)?[0-9a-f]+\.pgid/);
    expect(ev.find((e) => e.type === 'run.end')).toMatchObject({ outcome: 'failed' });
  } finally {
    await lab('heal', 'w2');
    reapHost('w2', marker, 'sleep');
  }
});

test('without a timeout, the dead connection is found by keepalives: w2 unreachable, no hang', async () => {
  const marker = `${6000 + randomInt(1000)}.${randomInt(100000, 999999)}`;
  const file = playbook('keepalive', marker);
  try {
    const { r, afterCutMs } = await runPartitioned(file, marker);
    expectExit(r, 3);
    expect(afterCutMs).toBeLessThan(KEEPALIVE_BOUND_MS);
    const stuck = events(r.stdout).find((e) => e.type === 'host.result' && e.task === 'stuck')!;
    expect(stuck).toMatchObject({ host: 'w2', status: 'unreachable', code: 'host/connection-lost' });
    expect(String(stuck.msg)).toMatch(/no answer to 3 keepalives/);
  } finally {
    await lab('heal', 'w2');
    reapHost('w2', marker, 'sleep');
  }
});

test('after `lab heal w2`, w2 answers again', async () => {
  const file = path.join(dir, 'after.yml');
  writeFileSync(file, `- name: after\n  hosts: w2\n  tasks:\n    - name: hello\n      command: hostname\n`);
  const r = await runTsplay(['run', '-i', l.inventory, file], { timeoutMs: 120_000 });
  expectExit(r, 0);
  expect(r.stdout).toMatch(/w2\s+: ok=1/);
});
