/**
 * Host keys against the lab: verified by default; an unknown or changed key stops that host (and
 * only that host) with a message that says what to check; trusting new keys is an explicit flag
 * that records them and never overrides a changed key. Each test uses its own copy of the lab's
 * known_hosts (`--known-hosts`), so the lab's own file is never touched.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expectExit, runTsplay } from '../helpers/cli.js';
import { ensureLab, type Lab } from '../helpers/lab.js';
import { keygen } from '../helpers/sshd.js';
import { events } from '../helpers/background.js';

const W2 = '10.177.0.102';

let l: Lab;
let dir: string;
let playbook: string;
let labLines: string[];
let w2Line: string;
let w2Fingerprint: string;

beforeAll(async () => {
  l = await ensureLab();
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-hostkeys-'));
  playbook = path.join(dir, 'hello.yml');
  writeFileSync(playbook, `- name: hello\n  hosts: w1,w2\n  tasks:\n    - name: hello\n      command: hostname\n`);
  labLines = readFileSync(l.knownHosts, 'utf8').split('\n').filter(Boolean);
  w2Line = labLines.find((x) => x.startsWith(`${W2} `))!;
  expect(w2Line).toBeDefined();
  const one = path.join(dir, 'w2-only');
  writeFileSync(one, w2Line + '\n');
  // The fingerprint as OpenSSH prints it, to compare with tsplay's message.
  w2Fingerprint = execFileSync('ssh-keygen', ['-l', '-f', one], { encoding: 'utf8' }).split(/\s+/)[1]!;
  expect(w2Fingerprint).toMatch(/^SHA256:/);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function knownHosts(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
  return file;
}

const run = (kh: string, ...extra: string[]) =>
  runTsplay(['run', '-i', l.inventory, '--known-hosts', kh, ...extra, playbook], { timeoutMs: 120_000 });

test('unknown host key: w2 stops with what to check (fingerprint, file, flag); w1 goes on', async () => {
  const kh = knownHosts('unknown', labLines.filter((x) => x !== w2Line));
  const before = readFileSync(kh, 'utf8');
  const r = await run(kh, '--json');
  expectExit(r, 3);
  const ev = events(r.stdout);
  const w2 = ev.find((e) => e.type === 'host.result' && e.host === 'w2')!;
  expect(w2).toMatchObject({ status: 'unreachable', code: 'ssh/unknown-host-key' });
  const msg = String(w2.msg);
  expect(msg).toContain(`unknown host key ssh-ed25519 ${w2Fingerprint}`);
  expect(msg).toContain(`${W2} is not in ${kh}`);
  expect(msg).toContain('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub'); // how to check it on the host
  expect(msg).toContain('--trust-new-host-keys');
  expect(ev.find((e) => e.type === 'host.result' && e.host === 'w1')).toMatchObject({ status: 'changed' });
  // Refused, not retried, and nothing recorded.
  expect(ev.filter((e) => e.type === 'decision' && /retrying/.test(String(e.message)))).toEqual([]);
  expect(readFileSync(kh, 'utf8')).toBe(before);
});

test('the plain output says the same, with the rule id', async () => {
  const kh = knownHosts('unknown-plain', labLines.filter((x) => x !== w2Line));
  const r = await run(kh);
  expectExit(r, 3);
  expect(r.stdout).toMatch(/unreachable: \[w2\].*unknown host key ssh-ed25519 SHA256:/);
  expect(r.stdout).toContain('rule: ssh/unknown-host-key');
  expect(r.stdout).toMatch(/w1\s+: ok=1/);
  expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
});

test('changed host key: refused with HOST KEY CHANGED, the line and both fingerprints; w1 goes on', async () => {
  const other = keygen(path.join(dir, 'impostor'));
  const kh = knownHosts('changed', labLines.map((x) => (x === w2Line ? `${W2} ${other}` : x)));
  const line = labLines.indexOf(w2Line) + 1;
  const r = await run(kh, '--json');
  expectExit(r, 3);
  const ev = events(r.stdout);
  const w2 = ev.find((e) => e.type === 'host.result' && e.host === 'w2')!;
  expect(w2).toMatchObject({ status: 'unreachable', code: 'ssh/changed-host-key' });
  const msg = String(w2.msg);
  expect(msg).toContain(`HOST KEY CHANGED — the host presented ssh-ed25519 ${w2Fingerprint}, but ${kh} line ${line} records SHA256:`);
  expect(msg).toContain(`ssh-keygen -R '${W2}' -f ${kh}`);
  expect(ev.find((e) => e.type === 'host.result' && e.host === 'w1')).toMatchObject({ status: 'changed' });
});

test('--trust-new-host-keys never overrides a changed key, and leaves the file alone', async () => {
  const other = keygen(path.join(dir, 'impostor2'));
  const kh = knownHosts('changed-trust', labLines.map((x) => (x === w2Line ? `${W2} ${other}` : x)));
  const before = readFileSync(kh, 'utf8');
  const r = await run(kh, '--json', '--trust-new-host-keys');
  expectExit(r, 3);
  expect(events(r.stdout).find((e) => e.type === 'host.result' && e.host === 'w2')).toMatchObject({ code: 'ssh/changed-host-key' });
  expect(readFileSync(kh, 'utf8')).toBe(before);
});

test('--trust-new-host-keys records the unknown key (the right one), and the next run verifies it without the flag', async () => {
  const start = labLines.filter((x) => x !== w2Line);
  const kh = knownHosts('trust', start);
  const r = await run(kh, '--trust-new-host-keys');
  expectExit(r, 0);
  const added = readFileSync(kh, 'utf8').split('\n').filter(Boolean).filter((x) => !start.includes(x));
  expect(added).toEqual([w2Line]);
  expectExit(await run(kh), 0);
});

test('--trust-new-host-keys with no known_hosts file at all: created 0600 with every host key', async () => {
  const kh = path.join(dir, 'fresh', 'known_hosts');
  const r = await run(kh, '--trust-new-host-keys');
  expectExit(r, 0);
  expect(statSync(kh).mode & 0o777).toBe(0o600);
  const lines = readFileSync(kh, 'utf8').split('\n').filter(Boolean).sort();
  expect(lines).toEqual(labLines.filter((x) => x.startsWith('10.177.0.101 ') || x === w2Line).sort());
});
