/**
 * bin/tsplay.js started as an operator starts it, through its #! line (not `node bin/tsplay.js`):
 * NODE_EXTRA_CA_CERTS is kept from node itself (which would parse the whole root certificate
 * store at start-up, for a tool that makes no TLS connection) and given back to the commands
 * tsplay runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TSPLAY } from '../helpers/paths.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-launcher-'));
  writeFileSync(path.join(dir, 'local.yml'), 'all:\n  hosts:\n    ctl:\n      connection: local\n      hardware_class: x86_64\n');
  writeFileSync(
    path.join(dir, 'env.yml'),
    [
      '- hosts: ctl',
      '  tasks:',
      '    - name: the operator\'s NODE_EXTRA_CA_CERTS reaches the command',
      '      shell: test "$NODE_EXTRA_CA_CERTS" = /nonexistent/tsplay-ca.pem',
      '    - name: the hand-over variable does not',
      '      shell: test -z "${TSPLAY_NODE_EXTRA_CA_CERTS+set}"',
      '',
    ].join('\n'),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const launch = (args: string[], env: NodeJS.ProcessEnv) =>
  spawnSync(TSPLAY, args, { cwd: dir, env: { ...process.env, NO_COLOR: '1', ...env }, encoding: 'utf8' });

test('node starts without NODE_EXTRA_CA_CERTS (an unreadable one would be warned about)', () => {
  // The control: plain node reads the variable at start-up and warns that it cannot load it.
  const plain = spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/tsplay-ca.pem' }, encoding: 'utf8' });
  expect(plain.stderr).toMatch(/extra certs/i);
  const r = launch(['--version'], { NODE_EXTRA_CA_CERTS: '/nonexistent/tsplay-ca.pem' });
  expect(r.status).toBe(0);
  expect(r.stderr).toBe('');
});

test('commands tsplay runs see NODE_EXTRA_CA_CERTS as the operator set it', () => {
  const r = launch(['run', '-i', 'local.yml', 'env.yml'], { NODE_EXTRA_CA_CERTS: '/nonexistent/tsplay-ca.pem' });
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: expect.stringContaining('ok=2') });
});

test('without NODE_EXTRA_CA_CERTS, none appears', () => {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  writeFileSync(path.join(dir, 'none.yml'), '- hosts: ctl\n  tasks:\n    - shell: test -z "${NODE_EXTRA_CA_CERTS+set}${TSPLAY_NODE_EXTRA_CA_CERTS+set}"\n');
  const r = spawnSync(TSPLAY, ['run', '-i', 'local.yml', 'none.yml'], { cwd: dir, env: { ...env, NO_COLOR: '1' }, encoding: 'utf8' });
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: expect.stringContaining('ok=1') });
});
