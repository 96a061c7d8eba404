/**
 * What the bench times: the shipped lifecycle stages against Ansible translations of the same
 * stages, every file present (a missing twin would make `--syntax-check` time less work).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LIFECYCLE, cases, checkFiles } from '../../bench/cases.js';
import { ROOT } from '../helpers/paths.js';

const shipped = path.join(ROOT, 'playbooks');

test('check is timed on the five shipped playbooks and an Ansible version of each', () => {
  const f = checkFiles(ROOT, shipped);
  expect(f.shipped).toBe(true);
  expect(f.tsplay).toEqual(LIFECYCLE.map((n) => path.join(shipped, `${n}.yml`)));
  expect(f.ansible).toEqual(LIFECYCLE.map((n) => path.join(ROOT, 'bench', 'ansible', `${n}.yml`)));
  for (const file of [...f.tsplay, ...f.ansible]) expect(existsSync(file)).toBe(true);
});

test('the timed stages are the shipped ones, and each Ansible twin has their tasks, in order', () => {
  for (const c of cases(ROOT, shipped)) {
    for (const file of [c.tsplay, c.ansible, c.lowerScript]) expect(existsSync(file)).toBe(true);
    if (c.name === 'validate-8') continue;
    expect(c.shipped).toBe(true);
    const names = (file: string) => [...readFileSync(file, 'utf8').matchAll(/^ {4}- name: (.*)$/gm)].map((m) => m[1]);
    // Ansible may need two tasks for one of tsplay's (read the manifest, then check it).
    const theirs = names(c.ansible);
    let at = 0;
    for (const name of names(c.tsplay)) {
      at = theirs.indexOf(name, at);
      expect({ task: name, found: at >= 0 }).toEqual({ task: name, found: true });
      at++;
    }
  }
});
