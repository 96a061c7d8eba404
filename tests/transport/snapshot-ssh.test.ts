/**
 * ssh2 and node-ssh in the start-up snapshot (build/snapshot.ts, sshGraph; cli/snapshot-ssh-warmup.ts):
 * - the SSH warm-up runs its playbook to the end through the real transport against ssh2's server
 *   in memory, and leaves no temporary folder;
 * - the snapshot build's warm-ups all finish (a warm-up that failed or stalled would only make each
 *   start slower, silently: the build says so on stderr, which this checks is empty of it);
 * - a run from the snapshot connects to a real sshd with a graph made at run time: ssh2's native
 *   crypto binding is loaded from node_modules then, and the command runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { V8_FLAGS } from '../../build/snapshot.js';
import { warmSsh, type SshGraph } from '../../cli/snapshot-ssh-warmup.js';
import { ROOT, TSPLAY } from '../helpers/paths.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';

const requireHere = createRequire(path.join(ROOT, 'package.json'));

/** The graph as node_modules has it (the snapshot's is the same code, bundled). */
const nodeModulesGraph = (): SshGraph => ({
  nodeSsh: requireHere('node-ssh') as SshGraph['nodeSsh'],
  warmUp: () => ({
    Server: requireHere('ssh2/lib/server.js') as ReturnType<SshGraph['warmUp']>['Server'],
    generateKeyPairSync: (requireHere('ssh2/lib/keygen.js') as Pick<ReturnType<SshGraph['warmUp']>, 'generateKeyPairSync'>).generateKeyPairSync,
  }),
});

const warmUpDirs = () => readdirSync(os.tmpdir()).filter((f) => f.startsWith('tsplay-snapshot-ssh-warmup-'));

test('the SSH warm-up runs its playbook ok through the SSH transport, in memory, and leaves no temporary folder', async () => {
  const before = warmUpDirs();
  await expect(warmSsh(nodeModulesGraph, path.join(ROOT, 'inventory', 'hosts.yml'))).resolves.toBe('ok');
  expect(warmUpDirs()).toEqual(before);
});

test('every warm-up of the snapshot build finishes: the build reports none that failed or stalled', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-snapshot-build-'));
  try {
    const r = spawnSync(process.execPath, [...V8_FLAGS, '--snapshot-blob', path.join(dir, 'test.blob'), '--build-snapshot', 'entry.cjs'], {
      cwd: path.join(ROOT, 'dist', 'snapshot'),
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('snapshot warm-up'))).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('a run from the snapshot, against a real sshd', () => {
  let sshd: Sshd;
  let dir: string;
  beforeAll(async () => {
    sshd = await startSshd();
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-snapshot-ssh-'));
  });
  afterAll(async () => {
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('makes its SSH client at run time: the native crypto binding is loaded, the command runs', () => {
    const inv = path.join(dir, 'inventory.yml');
    writeFileSync(
      inv,
      `all:\n  hosts:\n    h: { address: 127.0.0.1, port: ${sshd.port}, user: ${sshd.user}, private_key: ${sshd.clientKeyPath}, known_hosts_file: ${sshd.knownHostsPath}, hardware_class: x86_64 }\n`,
    );
    const pb = path.join(dir, 'hello.yml');
    writeFileSync(pb, `- hosts: h\n  tasks:\n    - name: hello\n      command: echo hello from the host\n      register: out\n    - debug:\n        msg: "{{ out.stdout }}"\n`);
    const r = spawnSync('strace', ['-f', '-e', 'trace=openat', '-o', path.join(dir, 'strace.txt'), TSPLAY, 'run', '-i', inv, pb], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, TSPLAY_RUNS_DIR: path.join(dir, 'runs') },
    });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout).toContain('hello from the host');
    const opened = spawnSync('grep', ['-v', 'ENOENT', path.join(dir, 'strace.txt')], { encoding: 'utf8' }).stdout;
    expect(opened).toMatch(/dist\/snapshot\/tsplay\.blob/);
    expect(opened).toMatch(/ssh2\/lib\/protocol\/crypto\/build\/Release\/sshcrypto\.node/);
  });
});
