/**
 * Hosts that cannot be reached, and input that must not reach any host:
 * - an unreachable host is reported, the others go on, exit 3;
 * - wait-for-connection waits for a host that comes up during the run (a real sshd on 127.0.0.1,
 *   behind a forwarder the test opens only once tsplay has tried and failed), including a host the
 *   runner had already found unreachable;
 * - a doctrine violation (-j32 aimed at the CM3+) is rejected before any connection is made.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT } from '../../cli/exit-codes.js';
import { expectExit, runTsplay } from '../helpers/cli.js';
import { ensureLab, type Lab } from '../helpers/lab.js';
import { freePort, startSshd, type Sshd } from '../helpers/sshd.js';
import { connectionCounter, forwarder, hostFile, inventoryWith, recap, results, runJson, scratch, statuses, type Scratch } from './support.js';

let lab: Lab;
let s: Scratch;

beforeAll(async () => {
  lab = await ensureLab();
  s = scratch(lab, 'reach');
});
afterAll(() => s?.cleanup(['w1', 'builder', 'cm3']));

test('an unreachable host is reported as such; the others go on; exit 3', async () => {
  // 10.177.0.250 is inside the lab network, where no host answers.
  const inv = inventoryWith(lab, s.dir, `    ghosts:\n      hosts:\n        ghost: { address: 10.177.0.250, hardware_class: x86_64, connect_timeout: 3 }\n`, 'ghost.yml');
  const pb = s.write(
    'unreachable.yml',
    `- hosts: ghost:w1
  tasks:
    - name: first
      command: echo one
    - name: second
      command: echo two
- name: next play
  hosts: ghost:w1
  tasks:
    - name: third
      command: echo three
`,
  );
  const r = await runJson([pb, '-i', inv]);
  expectExit(r, EXIT.HOST_UNREACHABLE);
  expect(statuses(r.events, 'first')).toEqual({ ghost: 'unreachable', w1: 'changed' });
  expect(results(r.events, 'first').find((e) => e.host === 'ghost')!.msg).toMatch(/^ssh to ghost \(10\.177\.0\.250:22\): /);
  expect(statuses(r.events, 'second')).toEqual({ w1: 'changed' });
  expect(statuses(r.events, 'third')).toEqual({ w1: 'changed' });
  expect(recap(r.events)).toMatchObject({ ghost: { ok: 0, unreachable: 1, failed: 0 }, w1: { ok: 3, changed: 3, unreachable: 0, failed: 0 } });

  const plain = await runTsplay(['run', pb, '-i', inv]);
  expectExit(plain, EXIT.HOST_UNREACHABLE);
  expect(plain.stdout).toMatch(/^unreachable: \[ghost\]/m);
  expect(plain.stdout).toMatch(/^ghost\s+: ok=0\s+changed=0\s+unreachable=1\s+failed=0/m);
});

describe('wait-for-connection with a host that comes up during the run', () => {
  let sshd: Sshd;
  let dir: string;
  beforeAll(async () => {
    sshd = await startSshd();
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-it-late-'));
  });
  afterAll(async () => {
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An inventory whose host `late` is 127.0.0.1:port, where nothing listens until the forwarder starts. */
  function lateInventory(port: number): string {
    const kh = path.join(dir, `known_hosts-${port}`);
    writeFileSync(kh, `[127.0.0.1]:${port} ${sshd.hostKeyPub}\n`);
    const inv = path.join(dir, `inventory-${port}.yml`);
    writeFileSync(
      inv,
      `all:\n  hosts:\n    late: { address: 127.0.0.1, port: ${port}, user: ${sshd.user}, private_key: ${sshd.clientKeyPath}, known_hosts_file: ${kh}, hardware_class: x86_64 }\n`,
    );
    return inv;
  }

  /** Runs the playbook; the host comes up when tsplay reports its first failed wait attempt. */
  async function runUntilUp(pb: string, inv: string, port: number) {
    const fwd = forwarder(port, sshd.port);
    let started: Promise<void> | undefined;
    try {
      const r = await runJson([pb, '-i', inv], {
        onStdout: (chunk) => {
          if (!started && chunk.includes('waiting for late: attempt 1 failed')) started = fwd.start();
        },
      });
      await started;
      return { ...r, cameUp: started !== undefined };
    } finally {
      await fwd.close();
    }
  }

  test('a host that is down when the play starts: wait-for-connection retries until it answers', async () => {
    const port = await freePort();
    const pb = s.write(
      'late-first.yml',
      `- hosts: late
  tasks:
    - name: wait
      wait-for-connection: { timeout: 120, sleep: 1, connect_timeout: 5 }
    - name: use it
      command: echo hello from {{ inventory_hostname }}
`,
    );
    const r = await runUntilUp(pb, lateInventory(port), port);
    expect(r.cameUp).toBe(true);
    expectExit(r, EXIT.OK);
    const [wait] = results(r.events, 'wait');
    expect(wait).toMatchObject({ status: 'ok', changed: false });
    expect(wait.msg).toMatch(/^late answered after .*s \(attempt [2-9]\d*\)$/);
    expect(r.events.some((e) => e.type === 'decision' && e.host === 'late' && /attempt 1 failed \(ssh to late \(127\.0\.0\.1:\d+\): connection refused/.test(e.message))).toBe(true);
    expect(results(r.events, 'use it')[0]).toMatchObject({ status: 'changed', stdout: 'hello from late' });
  });

  test('a host found unreachable by an earlier task rejoins the play through wait_for_connection', async () => {
    const port = await freePort();
    const pb = s.write(
      'late-rejoin.yml',
      `- hosts: late
  tasks:
    - name: too early
      command: "true"
    - name: not run while down
      command: "true"
    - name: wait
      wait_for_connection: { timeout: 120, sleep: 1 }
    - name: use it
      command: echo back
`,
    );
    const r = await runUntilUp(pb, lateInventory(port), port);
    expect(r.cameUp).toBe(true);
    // The earlier unreachable stays in the recap (so exit 3), but the host did the rest of the play.
    expectExit(r, EXIT.HOST_UNREACHABLE);
    expect(statuses(r.events, 'too early')).toEqual({ late: 'unreachable' });
    expect(results(r.events, 'not run while down')).toEqual([]);
    expect(statuses(r.events, 'wait')).toEqual({ late: 'ok' });
    expect(results(r.events, 'use it')[0]).toMatchObject({ status: 'changed', stdout: 'back' });
    expect(recap(r.events).late).toMatchObject({ ok: 2, changed: 1, unreachable: 1, failed: 0 });
  });

  test('it fails with a clear message when the host never answers', async () => {
    const port = await freePort();
    const pb = s.write('never.yml', `- hosts: late\n  tasks:\n    - name: wait\n      wait-for-connection: { timeout: 3, sleep: 1, connect_timeout: 1 }\n    - name: after\n      command: "true"\n`);
    const r = await runJson([pb, '-i', lateInventory(port)]);
    expectExit(r, EXIT.HOST_FAILED);
    const [wait] = results(r.events, 'wait');
    expect(wait.status).toBe('failed');
    expect(wait.msg).toMatch(new RegExp(`^late did not answer within 3s \\(\\d+ attempts\\); last error: ssh to late \\(127\\.0\\.0\\.1:${port}\\): connection refused`));
    expect(results(r.events, 'after')).toEqual([]);
  });
});

test('any_errors_fatal: once the play stopped, a later wait-for-connection brings nobody back', async () => {
  const port = await freePort();
  const inv = inventoryWith(lab, s.dir, `    lates:\n      hosts:\n        late: { address: 127.0.0.1, port: ${port}, hardware_class: x86_64 }\n`, 'fatal.yml');
  const pb = s.write(
    'fatal-play.yml',
    `- hosts: late:w1
  any_errors_fatal: true
  tasks:
    - name: first
      command: "true"
    - name: wait
      wait_for_connection: { timeout: 2 }
    - name: after
      command: "true"
`,
  );
  const r = await runJson([pb, '-i', inv]);
  expectExit(r, EXIT.HOST_UNREACHABLE);
  expect(statuses(r.events, 'first')).toEqual({ late: 'unreachable', w1: 'changed' });
  expect(results(r.events, 'wait')).toEqual([]);
  expect(results(r.events, 'after')).toEqual([]);
});

describe('a doctrine violation is rejected before any host is contacted', () => {
  const playbook = (marker: string) => `- name: build on the orchestrator
  hosts: cm3
  tasks:
    - name: would leave a marker
      shell: touch ${marker}
    - name: forbidden build
      command: make -j32 -C /srv/build
`;

  test('make -j32 on cm3: doctrine/forbidden, exit 4, and the first task never ran', async () => {
    const marker = `${s.remote}-marker`;
    const pb = s.write('doctrine.yml', playbook(marker));
    const r = await runTsplay(['run', pb, '-i', lab.inventory]);
    expectExit(r, EXIT.INVALID);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/doctrine\.yml:7:21: error doctrine\/forbidden: task "forbidden build": /);
    expect(r.stderr).toContain('  7 |       command: make -j32 -C /srv/build');
    expect(r.stderr).toMatch(/\^ here/);
    expect(hostFile(lab, 'cm3', marker)).toBeUndefined();
  });

  test('no connection is even attempted (the cm3 of this inventory is a listener that counts)', async () => {
    const counter = await connectionCounter();
    try {
      const inv = path.join(s.dir, 'counting.yml');
      writeFileSync(inv, `all:\n  hosts:\n    cm3: { address: 127.0.0.1, port: ${counter.port}, hardware_class: cm3plus, user: root, private_key: ${lab.privateKey}, known_hosts_file: ${lab.knownHosts} }\n`);
      const pb = s.write('doctrine-count.yml', playbook('/tmp/never'));
      for (const args of [['run', pb, '-i', inv], ['run', '--json', pb, '-i', inv], ['check', pb, '-i', inv]]) {
        const r = await runTsplay(args);
        expectExit(r, EXIT.INVALID);
        expect(r.stderr).toContain('doctrine/forbidden');
      }
      // The counter itself works: a run that does reach the host is counted.
      const ok = s.write('contact.yml', `- hosts: cm3\n  tasks:\n    - ping:\n`);
      expect(counter.count()).toBe(0);
      expectExit(await runTsplay(['run', ok, '-i', inv]), EXIT.HOST_UNREACHABLE);
      expect(counter.count()).toBeGreaterThan(0);
    } finally {
      await counter.close();
    }
  });
});
