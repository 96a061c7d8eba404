/**
 * The built-in file and wait modules' arguments as the loader sees them: schema problems with
 * their rule ids and places, in one pass.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPlaybook } from '../../engine/playbook/load.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-args-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(text: string) {
  const file = path.join(dir, 'p.yml');
  writeFileSync(file, text);
  return loadPlaybook(file).diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`);
}

test('copy and command need exactly one of their alternative keys, said plainly', () => {
  expect(
    load(`- hosts: all
  tasks:
    - copy: { dest: /tmp/x }
    - copy: { dest: /tmp/x, src: a, content: b }
    - command: { chdir: /tmp }
    - command: { cmd: ls, argv: [ls] }
`),
  ).toEqual([
    '3:7 args/missing-key task 1: copy: needs one of `src` or `content`',
    '4:37 args/exclusive-keys task 2: copy: takes only one of `src` or `content`, not `src` and `content` together',
    '5:7 args/missing-key task 3: command: needs one of `cmd` or `argv`',
    '6:27 args/exclusive-keys task 4: command: takes only one of `cmd` or `argv`, not `cmd` and `argv` together',
  ]);
});

test('template, copy and wait-for-connection argument shapes', () => {
  expect(
    load(`- hosts: all
  tasks:
    - template: { src: a.mustache }
    - template: { src: a.mustache, dest: /x, mod: '0644' }
    - copy: { content: x, dest: /x, backup: yes please }
    - wait_for_connection: { timeout: 0, sleep: -1 }
    - ansible.builtin.wait_for_connection: { timeout: "{{ t }}", connect_timeout: 3 }
    - wait-for-connection:
`),
  ).toEqual([
    '3:7 args/missing-key task 1: template: missing required key `dest`',
    "4:46 args/unknown-key task 2: template: unknown key `mod`",
    '5:45 args/wrong-type task 3: copy: backup must be a boolean, not the string "yes please"',
    '6:39 args/minimum task 4: wait-for-connection: timeout must be at least 1',
    '6:49 args/minimum task 4: wait-for-connection: sleep must be at least 0',
  ]);
});
