/**
 * The launchers as operators start them: bin/tsplay (package.json `bin`), which starts node from
 * the start-up snapshot (cli/snapshot-entry.ts) when the node on PATH built it, else hands over to
 * bin/tsplay.js, which loads the bundle through its #! line. Both keep NODE_EXTRA_CA_CERTS from node
 * itself (which would parse the whole root certificate store at start-up, for a tool that makes no
 * TLS connection) and give it back to the commands tsplay runs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, TSPLAY, TSPLAY_JS } from '../helpers/paths.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-launcher-'));
  writeFileSync(path.join(dir, 'local.yml'), 'all:\n  hosts:\n    ctl:\n      connection: local\n      hardware_class: x86_64\n');
  writeFileSync(
    path.join(dir, 'env.yml'),
    [
      '- hosts: ctl',
      '  tasks:',
      "    - name: the operator's NODE_EXTRA_CA_CERTS reaches the command",
      '      shell: test "$NODE_EXTRA_CA_CERTS" = /nonexistent/tsplay-ca.pem',
      '    - name: the hand-over variable does not',
      '      shell: test -z "${TSPLAY_NODE_EXTRA_CA_CERTS+set}"',
      '',
    ].join('\n'),
  );
  writeFileSync(path.join(dir, 'none.yml'), '- hosts: ctl\n  tasks:\n    - shell: test -z "${NODE_EXTRA_CA_CERTS+set}${TSPLAY_NODE_EXTRA_CA_CERTS+set}"\n');
  writeFileSync(path.join(dir, 'ok.yml'), '- hosts: ctl\n  tasks:\n    - command: "true"\n');
  writeFileSync(path.join(dir, 'nap.yml'), '- hosts: ctl\n  tasks:\n    - command: sleep 3\n');
  // A wait on one of tsplay's own timers (not a command's): the snapshot must not carry timer state
  // (a duration other than the 1 s the warm-up's remote shell uses, which hid the bug).
  writeFileSync(path.join(dir, 'timer.yml'), '- hosts: ctl\n  tasks:\n    - wait-for-connection: { delay: 2, timeout: 10 }\n    - debug: { msg: after the delay }\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const launch = (bin: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(bin, args, { cwd: dir, env: { ...process.env, NO_COLOR: '1', ...env }, encoding: 'utf8' });

/** The command line node runs under when `bin` starts `args` (read from /proc while it runs). */
async function cmdlineOf(bin: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ argv: string[]; code: number | null }> {
  const child = spawn(bin, args, { cwd: dir, env: { ...env, NO_COLOR: '1' }, stdio: 'ignore' });
  let argv: string[] = [];
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 30));
    try {
      argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      break;
    }
    if (argv.some((a) => a.endsWith('tsplay.js'))) break; // past the sh launcher's exec
  }
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { argv, code };
}

describe.each([
  ['bin/tsplay', TSPLAY],
  ['bin/tsplay.js', TSPLAY_JS],
])('%s', (_name, bin) => {
  test("a task that waits on tsplay's own timer waits, and the run goes on after it", () => {
    const t0 = Date.now();
    const r = launch(bin, ['run', '-i', 'local.yml', 'timer.yml']);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout).toContain('after the delay');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
  });

  test('node starts without NODE_EXTRA_CA_CERTS (an unreadable one would be warned about)', () => {
    // The control: plain node reads the variable at start-up and warns that it cannot load it.
    const plain = spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/tsplay-ca.pem' }, encoding: 'utf8' });
    expect(plain.stderr).toMatch(/extra certs/i);
    const r = launch(bin, ['--version'], { NODE_EXTRA_CA_CERTS: '/nonexistent/tsplay-ca.pem' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  });

  test('commands tsplay runs see NODE_EXTRA_CA_CERTS as the operator set it', () => {
    const r = launch(bin, ['run', '-i', 'local.yml', 'env.yml'], { NODE_EXTRA_CA_CERTS: '/nonexistent/tsplay-ca.pem' });
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: expect.stringContaining('ok=2') });
  });

  test('without NODE_EXTRA_CA_CERTS, none appears', () => {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const r = spawnSync(bin, ['run', '-i', 'local.yml', 'none.yml'], { cwd: dir, env: { ...env, NO_COLOR: '1' }, encoding: 'utf8' });
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: expect.stringContaining('ok=1') });
  });

  test('colours are chosen when tsplay starts: FORCE_COLOR colours a pipe, NO_COLOR wins', () => {
    const forced = launch(bin, ['run', '-i', 'local.yml', 'ok.yml'], { NO_COLOR: undefined, FORCE_COLOR: '1' });
    expect(forced.stdout).toContain('\x1b[32mrun ok\x1b[39m');
    const both = launch(bin, ['run', '-i', 'local.yml', 'ok.yml'], { NO_COLOR: '1', FORCE_COLOR: '1' });
    expect(both.stdout).toContain('run ok');
    expect(both.stdout).not.toContain('\x1b[');
    const plain = launch(bin, ['run', '-i', 'local.yml', 'ok.yml'], { NO_COLOR: undefined, FORCE_COLOR: undefined });
    expect(plain.stdout).toContain('run ok');
    expect(plain.stdout).not.toContain('\x1b[');
  });
});

describe('bin/tsplay and the start-up snapshot', () => {
  test('starts node from the snapshot, with the V8 flags it was built with', async () => {
    const stamp = readFileSync(path.join(ROOT, 'dist', 'snapshot', 'node.stamp'), 'utf8').split('\n');
    const { argv, code } = await cmdlineOf(TSPLAY, ['run', '-i', 'local.yml', 'nap.yml']);
    expect(code).toBe(0);
    expect(argv).toEqual([
      expect.stringMatching(/node$/),
      ...stamp[1]!.split(' '),
      '--snapshot-blob',
      expect.stringMatching(/dist\/snapshot\/tsplay\.blob$/),
      expect.stringMatching(/bin\/tsplay\.js$/),
      'run', '-i', 'local.yml', 'nap.yml',
    ]);
  });

  describe('in a copy of the installation', () => {
    let copy: string;
    beforeAll(() => {
      copy = mkdtempSync(path.join(os.tmpdir(), 'tsplay-moved-'));
      for (const d of ['bin', 'dist', 'playbooks', 'schemas']) cpSync(path.join(ROOT, d), path.join(copy, d), { recursive: true, preserveTimestamps: true });
      cpSync(path.join(ROOT, 'package.json'), path.join(copy, 'package.json'));
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
      // Started through a symlink, as npm's bin links do.
      mkdirSync(path.join(copy, 'links'));
      symlinkSync(path.join(copy, 'bin', 'tsplay'), path.join(copy, 'links', 'tsplay'));
    });
    afterAll(() => rmSync(copy, { recursive: true, force: true }));

    test('the snapshot finds the copy, not the tree it was built in', () => {
      // lifecycle's default playbooks folder comes from the install root.
      const r = launch(path.join(copy, 'links', 'tsplay'), ['lifecycle', '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout.replace(/\s+/g, ' ')).toContain(path.join(copy, 'playbooks'));
      // And a check there reads nothing of the tree the snapshot was built in: its own snapshot,
      // with the precompiled validators inside (no validators file is read at all).
      const moved = spawnSync('strace', ['-f', '-e', 'trace=openat', path.join(copy, 'links', 'tsplay'), 'check', '-i', 'local.yml', 'none.yml'], { cwd: dir, encoding: 'utf8' });
      expect(moved.status).toBe(0);
      expect(moved.stderr).toContain(`${copy}/bin/../dist/snapshot/tsplay.blob`);
      expect(moved.stderr).not.toContain(path.join(ROOT, 'dist'));
      expect(moved.stderr).not.toMatch(/validators-(check|rendered)\.cjs/);
    });

    test('a snapshot built by another node is not used: bin/tsplay.js runs instead, and works', async () => {
      const stampFile = path.join(copy, 'dist', 'snapshot', 'node.stamp');
      const good = readFileSync(stampFile, 'utf8');
      writeFileSync(stampFile, good.replace(/^\d+/, '1'));
      try {
        const { argv, code } = await cmdlineOf(path.join(copy, 'bin', 'tsplay'), ['run', '-i', 'local.yml', 'nap.yml']);
        expect(code).toBe(0);
        expect(argv).not.toContain('--snapshot-blob');
        expect(argv.some((a) => a.endsWith(path.join('bin', 'tsplay.js')))).toBe(true);
      } finally {
        writeFileSync(stampFile, good);
      }
    });

    test('without a snapshot (not built), bin/tsplay.js runs', () => {
      rmSync(path.join(copy, 'dist', 'snapshot'), { recursive: true, force: true });
      const r = launch(path.join(copy, 'bin', 'tsplay'), ['run', '-i', 'local.yml', 'env.yml'], { NODE_EXTRA_CA_CERTS: '/nonexistent/tsplay-ca.pem' });
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: expect.stringContaining('ok=2'), stderr: '' });
    });
  });
});

test("bin/tsplay.js's #! line carries the V8 flags the snapshot is built with", async () => {
  const { V8_FLAGS } = await import('../../build/snapshot.js');
  const shebang = readFileSync(TSPLAY_JS, 'utf8').split('\n')[0]!;
  expect(shebang.slice(shebang.indexOf(' node ') + 6).split(' ')).toEqual(V8_FLAGS);
});
