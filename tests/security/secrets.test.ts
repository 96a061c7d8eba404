/**
 * Secrets never reach output: values of variables marked secret (inventory `secret_vars`, or named
 * like one: *_password, *_token, *_secret, ...) wherever they come from (inventory, play vars,
 * set_fact, -e), and everything of a `no_log` task, are absent from the plain output, the live
 * listr2 display (under a real pty) and --json, at every verbosity. The lab's private key never
 * appears either, not even with -vvv or when authentication fails.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { runTsplay } from '../helpers/cli.js';
import { TSPLAY } from '../helpers/paths.js';
import { ensureLab, type Lab } from '../helpers/lab.js';
import { keygen } from '../helpers/sshd.js';
import { events } from '../helpers/background.js';

let l: Lab;
let dir: string;
let inventory: string;
let playbook: string;
const tag = randomBytes(4).toString('hex');
const S = {
  inventoryMarked: `distcc-${tag}-marked`,
  inventoryNamed: `pw-${tag}-named`,
  playVar: `play-${tag}-token`,
  extraVar: `extra-${tag}-secret`,
  noLog: `nolog-${tag}-plain`,
};
const extra = JSON.stringify({ deploy_secret: S.extraVar });

beforeAll(async () => {
  l = await ensureLab();
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-secrets-'));
  inventory = path.join(dir, 'inventory.yml');
  writeFileSync(
    inventory,
    `all:
  vars:
    user: root
    private_key: ${l.privateKey}
    known_hosts_file: ${l.knownHosts}
    hardware_class: x86_64
    secret_vars: [distcc_key]
  hosts:
    w1:
      address: 10.177.0.101
      distcc_key: ${S.inventoryMarked}
      db_password: ${S.inventoryNamed}
`,
  );
  playbook = path.join(dir, 'secrets.yml');
  writeFileSync(
    playbook,
    `- name: secrets
  hosts: w1
  vars:
    api_token: ${S.playVar}
  tasks:
    - name: echo them all
      command: echo {{ distcc_key }} {{ db_password }} {{ api_token }} {{ deploy_secret }}
    - name: to stderr, failing
      shell: echo "{{ distcc_key }} {{ api_token }}" >&2; exit 3
      ignore_errors: true
    - name: a derived fact named like a secret
      set_fact:
        session_token: "{{ api_token }}-derived"
    - name: echo the fact
      command: echo {{ session_token }}
    - name: debug the host vars
      debug:
        var: hostvars
    - name: debug a message
      debug:
        msg: "key is {{ distcc_key }}"
    - name: hidden
      shell: echo ${S.noLog} {{ inventory_hostname }}; echo ${S.noLog} >&2; exit 4
      no_log: true
      ignore_errors: true
`,
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Every secret value, and what a derived value would contain. */
const leaks = (text: string): string[] => Object.values(S).filter((v) => text.includes(v));

test('plain output (no TTY) at -vvv: every secret is masked, no_log hides everything', async () => {
  const r = await runTsplay(['run', '-i', inventory, '-vvv', '-e', extra, playbook], { timeoutMs: 120_000 });
  expect(r.code).toBe(0);
  expect(leaks(r.stdout + r.stderr)).toEqual([]);
  // The tasks did run and print: masked, not missing.
  expect(r.stdout).toContain('stdout: ******** ******** ******** ********');
  // session_token is a secret by its name, so the whole derived value is masked.
  expect(r.stdout).toMatch(/TASK \[echo the fact\][^]*?stdout: \*{8}\n/);
  expect(r.stdout).toContain('key is ********');
  expect(r.stdout).toMatch(/ignored: \[w1\].*the output has been hidden due to no_log: true/);
});

test('--json at -vvv: no secret in any event, no_log results carry no output or command', async () => {
  const r = await runTsplay(['run', '-i', inventory, '--json', '-vvv', '-e', extra, playbook], { timeoutMs: 120_000 });
  expect(r.code).toBe(0);
  expect(leaks(r.stdout + r.stderr)).toEqual([]);
  const ev = events(r.stdout);
  expect(ev.find((e) => e.type === 'host.result' && e.task === 'echo them all')).toMatchObject({ stdout: '******** ******** ******** ********' });
  const hidden = ev.find((e) => e.type === 'host.result' && e.task === 'hidden')!;
  expect(hidden).toMatchObject({ status: 'ignored', msg: 'the output has been hidden due to no_log: true' });
  expect(hidden.stdout).toBeUndefined();
  expect(hidden.stderr).toBeUndefined();
  expect(hidden.command).toBeUndefined();
  expect(ev.filter((e) => e.type === 'host.output' && e.task === 'hidden')).toEqual([]);
});

test('the live listr2 display (a real pty): no secret either', () => {
  // script(1) gives tsplay a terminal, so it picks the listr2 reporter as an operator would see it.
  const cmd = [TSPLAY, 'run', '-i', inventory, '-vv', '-e', extra, playbook].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  // A pty from script(1) has no size; give it one, or listr2 wraps every character onto its own line.
  const out = execFileSync('script', ['-qefc', `stty cols 200 rows 50; ${cmd}`, '/dev/null'], {
    encoding: 'utf8',
    env: { ...process.env, TERM: 'xterm', CI: undefined, NO_COLOR: '1' },
    timeout: 120_000,
  });
  expect(out).toMatch(/echo them all/); // it was the live display, and it ran
  expect(leaks(out)).toEqual([]);
});

test('the private key never appears in any output, with -vvv, in --json, or when authentication fails', async () => {
  const key = readFileSync(l.privateKey, 'utf8');
  const body = key.split('\n').filter((x) => x && !x.startsWith('-----'));
  expect(body.length).toBeGreaterThan(0);
  const shows = (text: string) => body.some((line) => text.includes(line)) || text.includes('PRIVATE KEY');

  const hello = path.join(dir, 'hello.yml');
  writeFileSync(hello, `- name: hello\n  hosts: w1\n  tasks:\n    - name: hello\n      command: hostname\n    - debug:\n        var: hostvars\n`);
  for (const args of [['-vvv'], ['--json', '-vvv']]) {
    const r = await runTsplay(['run', '-i', inventory, ...args, '-e', extra, hello], { timeoutMs: 120_000 });
    expect(r.code).toBe(0);
    expect(shows(r.stdout + r.stderr)).toBe(false);
  }

  // A key w1 does not accept: the failure names the key file, never its content.
  const wrong = path.join(dir, 'wrong_ed25519');
  keygen(wrong);
  const badInv = path.join(dir, 'bad-inventory.yml');
  writeFileSync(badInv, readFileSync(inventory, 'utf8').replace(l.privateKey, wrong));
  const r = await runTsplay(['run', '-i', badInv, '-vvv', '-e', extra, hello], { timeoutMs: 120_000 });
  expect(r.code).toBe(3);
  expect(r.stdout).toContain('rule: ssh/auth-failed');
  expect(r.stdout).toContain(wrong);
  const wrongBody = readFileSync(wrong, 'utf8').split('\n').filter((x) => x && !x.startsWith('-----'));
  expect(wrongBody.some((line) => r.stdout.includes(line) || r.stderr.includes(line))).toBe(false);
  expect(shows(r.stdout + r.stderr)).toBe(false);
});
