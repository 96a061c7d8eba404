/**
 * sshd refusing connections under load (MaxStartups): connection attempts are retried with
 * backoff, each retry is a decision in the run's log, and the retries are bounded. Against a
 * throwaway sshd on 127.0.0.1 with `MaxStartups 1:100:1` (one unauthenticated connection at a
 * time, every other one dropped) reached through many inventory aliases at once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expectExit, runTsplay } from '../helpers/cli.js';
import { keygen, startSshd, type Sshd } from '../helpers/sshd.js';
import { events } from '../helpers/background.js';

const HOSTS = 8;
/** One first attempt plus the transport's default of 5 retries. */
const ATTEMPTS = 6;

let sshd: Sshd;
let dir: string;
let playbook: string;

beforeAll(async () => {
  sshd = await startSshd({ config: ['MaxStartups 1:100:1', 'LoginGraceTime 60'] });
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-maxstartups-'));
  playbook = path.join(dir, 'crowd.yml');
  writeFileSync(playbook, `- name: crowd\n  hosts: crowd\n  tasks:\n    - name: hello\n      command: echo up\n`);
});

afterAll(async () => {
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** An inventory of HOSTS aliases for the one sshd. */
function inventory(name: string, key = sshd.clientKeyPath): string {
  const file = path.join(dir, `inventory-${name}.yml`);
  const hosts = Array.from({ length: HOSTS }, (_, i) => `        h${i + 1}: {}`).join('\n');
  writeFileSync(
    file,
    `all:
  vars:
    address: 127.0.0.1
    port: ${sshd.port}
    user: ${sshd.user}
    private_key: ${key}
    known_hosts_file: ${sshd.knownHostsPath}
    hardware_class: x86_64
  children:
    crowd:
      hosts:
${hosts}
`,
  );
  return file;
}

type Ev = ReturnType<typeof events>[number];
const retries = (ev: Ev[]) => ev.filter((e) => e.type === 'decision' && /retrying \(attempt \d+ of \d+\)/.test(String(e.message)));

test(`${HOSTS} hosts at once against MaxStartups 1:100:1: all get through, the retries are on record`, async () => {
  const r = await runTsplay(['run', '-i', inventory('crowd'), '-f', String(HOSTS), '--json', playbook], { timeoutMs: 120_000 });
  expectExit(r, 0);
  const ev = events(r.stdout);
  const results = ev.filter((e) => e.type === 'host.result');
  expect(results).toHaveLength(HOSTS);
  expect(results.every((e) => e.status === 'changed' && e.stdout === 'up')).toBe(true);
  const rs = retries(ev);
  expect(rs.length).toBeGreaterThan(0);
  for (const d of rs) {
    expect(String(d.message)).toMatch(/^ssh to h\d+ \(127\.0\.0\.1:\d+\): the host closed the connection during the SSH handshake/);
    const data = d.data as { attempt: number; attempts: number; delay_ms: number; code: string };
    expect(data.attempts).toBe(ATTEMPTS);
    expect(data.attempt).toBeGreaterThanOrEqual(2);
    expect(data.attempt).toBeLessThanOrEqual(ATTEMPTS);
    expect(data.code).toBe('host/connection-lost');
  }
  // sshd did turn connections away: the retries were needed.
  expect(sshd.log()).toMatch(/drop connection #\d+ from \[127\.0\.0\.1\]:\d+ .* past MaxStartups/);
});

test('the plain output notes each retry by default', async () => {
  const r = await runTsplay(['run', '-i', inventory('plain'), '-f', String(HOSTS), playbook], { timeoutMs: 120_000 });
  expectExit(r, 0);
  expect(r.stdout).toMatch(/note \[h\d+\]: ssh to h\d+ .*retrying \(attempt 2 of 6\) in \d+\.\d s/);
});

test('a server that keeps refusing: bounded retries, then unreachable (exit 3), never a hang', async () => {
  // Hold the one unauthenticated slot open (connected, never speaking), so sshd drops everyone else.
  const hog = net.connect(sshd.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    hog.once('data', () => resolve()); // sshd's banner: the slot is taken
    hog.once('error', reject);
  });
  try {
    const r = await runTsplay(['run', '-i', inventory('refused'), '-f', String(HOSTS), '--json', playbook], { timeoutMs: 120_000 });
    expectExit(r, 3);
    const ev = events(r.stdout);
    const results = ev.filter((e) => e.type === 'host.result');
    expect(results).toHaveLength(HOSTS);
    for (const e of results) {
      expect(e).toMatchObject({ status: 'unreachable', code: 'host/connection-lost' });
      expect(String(e.msg)).toMatch(/during the SSH handshake \(\d attempts?\).*MaxStartups/);
    }
    // Every host gave up within its attempts; none retried past the bound.
    const rs = retries(ev);
    expect(rs.length).toBeGreaterThan(0);
    for (const d of rs) expect((d.data as { attempt: number }).attempt).toBeLessThanOrEqual(ATTEMPTS);
    const perHost = new Map<string, number>();
    for (const d of rs) perHost.set(String(d.host), (perHost.get(String(d.host)) ?? 0) + 1);
    for (const n of perHost.values()) expect(n).toBeLessThanOrEqual(ATTEMPTS - 1);
    expect(ev.find((e) => e.type === 'run.end')).toMatchObject({ outcome: 'failed' });
  } finally {
    hog.destroy();
  }
});

test('an authentication failure is never retried', async () => {
  const wrongKey = path.join(dir, 'wrong_ed25519');
  keygen(wrongKey);
  const r = await runTsplay(['run', '-i', inventory('wrongkey', wrongKey), '-f', '1', '-l', 'h1', '--json', playbook], { timeoutMs: 120_000 });
  expectExit(r, 3);
  const ev = events(r.stdout);
  expect(ev.find((e) => e.type === 'host.result')).toMatchObject({ host: 'h1', status: 'unreachable', code: 'ssh/auth-failed' });
  expect(retries(ev)).toEqual([]);
});
