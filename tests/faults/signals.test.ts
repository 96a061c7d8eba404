/**
 * SIGINT / SIGTERM to tsplay during a long make on builder: tsplay stops within 2 s, says it
 * stopped the remote commands, records the interruption, exits 130 / 143, and leaves no process of
 * the tree it started on builder — make, its recipe shells and sleeps, and a child that left the
 * process group with setsid and ignores TERM (as a daemonising helper would).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import { ensureLab, type Lab } from '../helpers/lab.js';
import { eventually, events, hostProcesses, reapHost, startTsplay } from '../helpers/background.js';

/** The bound from signal to exit. */
const STOP_BOUND_MS = 2000;
/** The kill runs on the host; give its last KILL a moment to land before looking. */
const SETTLE_MS = 3000;

let l: Lab;
let dir: string;

beforeAll(async () => {
  l = await ensureLab();
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-signals-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A make with four long jobs plus an escaping child, all carrying `marker` on their command line
 * (the sleep length is the marker), so builder's process table tells what is left.
 */
function makePlaybook(marker: string): string {
  const file = path.join(dir, `make-${marker}.yml`);
  writeFileSync(
    file,
    `- name: long make
  hosts: builder
  tasks:
    - name: make with long jobs
      shell: |
        d=/tmp/faultsig-${marker}; mkdir -p $d
        printf 'all: a b c d e\\na b c d:\\n\\tsleep ${marker}\\ne:\\n\\tsetsid sh -c "trap \\\\"\\\\" TERM; sleep ${marker}" </dev/null >/dev/null 2>&1 &\\n' > $d/Makefile
        make -j12 -f $d/Makefile
`,
  );
  return file;
}

/** The tree on builder: wrapper shells, make, four recipe sleeps, the escapee. */
const TREE_SIZE = 6;

async function interrupt(signal: 'SIGINT' | 'SIGTERM', json: boolean) {
  const marker = `${7000 + randomInt(1000)}.${randomInt(100000, 999999)}`;
  const bg = startTsplay(['run', '-i', l.inventory, ...(json ? ['--json'] : []), makePlaybook(marker)], { timeoutMs: 120_000 });
  try {
    // Wait until the whole tree runs: 4 sleeps under make and the escapee.
    const running = await eventually(() => hostProcesses('builder', marker).filter((p) => p.args.startsWith('sleep ')).length >= 5, 60_000);
    expect(running).toBe(true);
    expect(hostProcesses('builder', marker).length).toBeGreaterThanOrEqual(TREE_SIZE);
    const sent = Date.now();
    bg.child.kill(signal);
    const r = await bg.done;
    const tookMs = Date.now() - sent;
    const gone = await eventually(() => hostProcesses('builder', marker).length === 0, SETTLE_MS);
    return { r, tookMs, gone, left: hostProcesses('builder', marker) };
  } finally {
    bg.child.kill('SIGKILL');
    reapHost('builder', marker);
    rmSync(path.join(l.dir, 'hosts', 'builder', 'tmp', `faultsig-${marker}`), { recursive: true, force: true });
  }
}

test('SIGINT: exits 130 within 2 s, says it stopped the commands, nothing of the tree is left on builder', async () => {
  const { r, tookMs, gone, left } = await interrupt('SIGINT', false);
  expect(r.code).toBe(130);
  expect(tookMs).toBeLessThan(STOP_BOUND_MS);
  expect(left).toEqual([]);
  expect(gone).toBe(true);
  expect(r.stderr).toContain('tsplay: SIGINT — stopping the commands started on the hosts');
  expect(r.stderr).toMatch(/tsplay: SIGINT — (stopped the commands running on builder|gave up waiting for the hosts)/);
  expect(r.stdout).toContain('note: interrupted by SIGINT: stopping remote commands');
  expect(r.stdout).toContain('run interrupted');
});

test('SIGTERM with --json: exits 143 within 2 s, the interruption is recorded, nothing is left', async () => {
  const { r, tookMs, gone, left } = await interrupt('SIGTERM', true);
  expect(r.code).toBe(143);
  expect(tookMs).toBeLessThan(STOP_BOUND_MS);
  expect(left).toEqual([]);
  expect(gone).toBe(true);
  const ev = events(r.stdout);
  expect(ev.some((e) => e.type === 'decision' && e.message === 'interrupted by SIGTERM: stopping remote commands')).toBe(true);
  // Unless tsplay had to give up waiting, the stopped task and the run's end are on record too.
  if (/stopped the commands running on builder/.test(r.stderr)) {
    expect(ev.find((e) => e.type === 'host.result')).toMatchObject({ host: 'builder', rc: 130 });
    expect(ev.find((e) => e.type === 'run.end')).toMatchObject({ outcome: 'interrupted' });
  } else {
    expect(r.stderr).toMatch(/gave up waiting for the hosts/);
  }
});
