/**
 * One lab per machine: `lab up` from a second lab dir refuses while the first one's lab runs,
 * `--take-over` replaces it, and a lab whose directory is gone is taken over without asking.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { ensureLab, LAB_DIR } from '../helpers/lab.js';
import { expectExit, runTsplay } from '../helpers/cli.js';
import { ROOT } from '../helpers/paths.js';

const OTHER = path.join(ROOT, '.lab-owner-test');
const other = { TSPLAY_LAB_DIR: OTHER };

interface HostStatus { host: string; power: string; sshd: string }

async function status(env: Record<string, string>): Promise<HostStatus[]> {
  const r = await runTsplay(['lab', 'status', '--json'], { env });
  expectExit(r, 0);
  return (JSON.parse(r.stdout) as { hosts: HostStatus[] }).hosts;
}

beforeAll(async () => {
  await rm(OTHER, { recursive: true, force: true });
  await ensureLab();
}, 600_000);

afterAll(async () => {
  await rm(OTHER, { recursive: true, force: true });
});

test('a second lab dir is refused while the first lab runs, and the first lab is left alone', async () => {
  const r = await runTsplay(['lab', 'up', '--workers', '1'], { env: other, timeoutMs: 300_000 });
  expectExit(r, 1);
  expect(r.stderr).toContain('lab/other-owner');
  expect(r.stderr).toContain(`a lab brought up from ${LAB_DIR} is running on this machine`);
  expect(r.stderr).toContain('--take-over');
  expect(r.stderr).not.toMatch(/\n\s+at /);
  const hosts = await status({ TSPLAY_LAB_DIR: LAB_DIR });
  expect(hosts.map((h) => `${h.host}:${h.power}:${h.sshd}`)).toEqual(
    ['cm3', 'builder', 'w1', 'w2'].map((h) => `${h}:up:up`));
});

test('--take-over tears the running lab down and builds the new one; an orphaned lab is taken over', async () => {
  const taken = await runTsplay(['lab', 'up', '--take-over', '--workers', '1'], { env: other, timeoutMs: 600_000 });
  expectExit(taken, 0);
  expect(taken.stderr + taken.stdout).toContain(`taking over the lab of ${LAB_DIR}`);
  expect((await status(other)).map((h) => `${h.host}:${h.power}:${h.sshd}`)).toEqual(
    ['cm3', 'builder', 'w1'].map((h) => `${h}:up:up`));

  // The second checkout disappears with its lab still running: the first one takes it back unasked.
  await rm(OTHER, { recursive: true, force: true });
  const back = await runTsplay(['lab', 'up', '--workers', '2'], { env: { TSPLAY_LAB_DIR: LAB_DIR }, timeoutMs: 600_000 });
  expectExit(back, 0);
  expect(back.stderr + back.stdout).toContain(`taking over the lab of ${OTHER} (that directory is gone)`);
  expect((await status({ TSPLAY_LAB_DIR: LAB_DIR })).map((h) => `${h.host}:${h.power}:${h.sshd}`)).toEqual(
    ['cm3', 'builder', 'w1', 'w2'].map((h) => `${h}:up:up`));
}, 900_000);
