/**
 * The whole kernel-build lifecycle against the namespace lab (cm3, builder, w1, w2), through the
 * real CLI: power-on boots a stopped worker, post-power-on-validate, pump-preflight, pump-start
 * (whose health must tell the truth about Debian 12's include server), then kernel-build on a small
 * real C tree through distcc at -j14 — compiles that must show up in the workers' distccd logs.
 * Then the thermal throttle (-j12 when `lab heat` makes the builder hot) and the refusal of a build
 * aimed at the CM3+ before any host is contacted.
 */
import { mkdtempSync, readFileSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runTsplay, expectExit } from '../helpers/cli.js';
import { ensureLab, lab, LAB_DIR, type Lab } from '../helpers/lab.js';
import { writeCTree } from '../helpers/ctree.js';
import { ROOT } from '../helpers/paths.js';

interface Ev { type: string; task?: string; host?: string; status?: string; message?: string; msg?: string; [k: string]: unknown }

function events(stdout: string): Ev[] {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Ev);
}

function distccLog(worker: string): string {
  const p = path.join(LAB_DIR, 'hosts', worker, 'log', 'distccd.log');
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}

/** Compiles of our tree's units that a worker's distccd logged since `before` (its log length then). */
function compilesSince(worker: string, before: number): number {
  return (distccLog(worker).slice(before).match(/COMPILE_OK[^\n]*unit_\d+\.c/g) ?? []).length;
}

const TREE_VARS = ['-e', 'kernel_tree=/srv/build/ctree', '-e', 'kernel_source_tarball=', '-e', 'kernel_config=', '-e', 'kernel_target=all'];

let labInfo: Lab;

beforeAll(async () => {
  labInfo = await ensureLab(2);
  writeCTree(path.join(LAB_DIR, 'hosts', 'builder', 'build', 'ctree'));
}, 600_000);

afterAll(async () => {
  await runTsplay(['lab', 'heat', 'builder', '45']);
  await runTsplay(['lab', 'start', 'w2']);
});

test('the shipped playbooks pass tsplay check against the lab inventory and the example inventory', async () => {
  const playbooks = ['power-on', 'post-power-on-validate', 'pump-preflight', 'pump-start', 'kernel-build'].map((s) => `playbooks/${s}.yml`);
  expectExit(await runTsplay(['check', '-i', labInfo.inventory, ...playbooks]), 0);
  expectExit(await runTsplay(['check', '-i', 'inventory/hosts.yml', ...playbooks]), 0);
});

test('lifecycle: a stopped worker is powered on, pump health is truthful, the build runs on the workers at -j14', async () => {
  await lab('stop', 'w2');
  const before = { w1: distccLog('w1').length, w2: 0 };
  const r = await runTsplay(['lifecycle', '-i', labInfo.inventory, '--json', ...TREE_VARS], { timeoutMs: 600_000 });
  expectExit(r, 0);
  const ev = events(r.stdout);
  const results = ev.filter((e) => e.type === 'host.result');

  // power-on: w2 did not answer, so its power_on command ran on the controller, and it came back.
  const powered = results.filter((e) => e.task === 'Power on (the inventory\'s power_on command, on the controller)');
  expect(powered.find((e) => e.host === 'w2')?.status).toBe('changed');
  expect(powered.filter((e) => e.host !== 'w2').every((e) => e.status === 'skipped')).toBe(true);

  // post-power-on-validate: distccd active and 3632 listening on both workers.
  for (const w of ['w1', 'w2']) {
    expect(results.find((e) => e.task === 'distccd is active' && e.host === w)?.status).toBe('ok');
    expect(results.find((e) => e.task === 'Port 3632 is listening' && e.host === w)?.status).toBe('ok');
  }

  // pump-start: Debian 12's include server cannot serve under Python 3.11; health must say so.
  const health = results.find((e) => e.task?.startsWith('Pump health') && e.host === 'builder');
  expect(health).toBeDefined();
  expect(health!.status).toBe('ok');
  expect(String(health!.msg)).toMatch(/degraded/i);
  expect(String(health!.msg)).toMatch(/PY_SSIZE_T_CLEAN/);
  expect(String(health!.msg)).not.toMatch(/pump is healthy/);

  // kernel-build: make at -j14, and the compiles really ran on the workers.
  const build = results.find((e) => e.task === 'Build through distcc at -j14' && e.host === 'builder');
  expect(build?.status).toBe('changed');
  expect(JSON.stringify(ev.filter((e) => e.type === 'host.result' || e.type === 'decision'))).toMatch(/-j ?14|"jobs":14/);
  const onW1 = compilesSince('w1', before.w1);
  const onW2 = compilesSince('w2', before.w2);
  expect(onW1 + onW2).toBeGreaterThan(0);
  expect(onW1).toBeGreaterThan(0);
  expect(onW2).toBeGreaterThan(0);
}, 900_000);

test('kernel-build throttles to the diagnostic -j12 when the builder is above 85 °C, and says so', async () => {
  await lab('heat', 'builder', '91');
  try {
    // A fresh tree, so make has every unit to compile again.
    writeCTree(path.join(LAB_DIR, 'hosts', 'builder', 'build', 'ctree'));
    const r = await runTsplay(['run', '-i', labInfo.inventory, 'playbooks/kernel-build.yml', '--json', ...TREE_VARS], { timeoutMs: 600_000 });
    expectExit(r, 0);
    const ev = events(r.stdout);
    const decisions = ev.filter((e) => e.type === 'decision').map((e) => e.message ?? '');
    expect(decisions.some((m) => /91(\.0)?\s*°C/.test(m) && /-j ?12/.test(m))).toBe(true);
    const build = ev.find((e) => e.type === 'host.result' && e.task === 'Build through distcc at -j14');
    expect(build?.status).toBe('changed');
    expect(JSON.stringify(build)).toMatch(/-j ?12|"jobs":12/);
  } finally {
    await lab('heat', 'builder', '45');
  }
}, 900_000);

test('a kernel build aimed at the CM3+ is refused before any host is contacted', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-e2e-'));
  // Every host of this inventory points at a local listener that counts connections.
  let connections = 0;
  const server = net.createServer((s) => { connections++; s.destroy(); });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const inv = readFileSync(labInfo.inventory, 'utf8').replace(/address: 10\.177\.0\.\d+/g, `address: 127.0.0.1, port: ${port}`);
    writeFileSync(path.join(dir, 'inventory.yml'), inv);
    const pb = readFileSync(path.join(ROOT, 'playbooks', 'kernel-build.yml'), 'utf8').replace('hosts: builders', 'hosts: orchestrator');
    writeFileSync(path.join(dir, 'kernel-build.yml'), pb);
    copyFileSync(labInfo.manifest, path.join(dir, 'distcc-hosts.yml'));
    for (const cmd of ['run', 'check']) {
      const r = await runTsplay([cmd, '-i', path.join(dir, 'inventory.yml'), path.join(dir, 'kernel-build.yml'), ...TREE_VARS]);
      expectExit(r, 4);
      expect(r.stderr).toMatch(/kernel-build\.yml:\d+:\d+: error placement\/build-on-orchestrator/);
      expect(r.stderr).toMatch(/cm3/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(connections).toBe(0);
  } finally {
    server.close();
  }
});
