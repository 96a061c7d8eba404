/**
 * The fixture corpus under tests/fixtures/: each case is a directory with its playbook(s),
 * optionally its own inventory.yml (else tests/fixtures/inventory.yml), args.json (the tsplay argv;
 * default `check playbook.yml -i inventory.yml`) and, for bad inputs, expect.json.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES } from './paths.js';

export interface ExpectedDiagnostic {
  code: string;
  file?: string;
  line?: number;
  column?: number;
}

export interface Expectation {
  note?: string;
  exit: number;
  /** For usage errors (no diagnostics): a substring of stderr, e.g. `error cli/bad-number`. */
  stderr?: string;
  diagnostics: ExpectedDiagnostic[];
}

export interface FixtureCase {
  /** Relative to tests/fixtures/bad or good, e.g. `doctrine/j32`. */
  name: string;
  dir: string;
  argv: string[];
  expect?: Expectation;
}

export const DEFAULT_ARGV = ['check', 'playbook.yml', '-i', 'inventory.yml'];
export const TRAP_PLACEHOLDER = '__TRAP_PORT__';

/** Every case below `root` (a directory holding expect.json or a playbook is a case). */
export function loadCases(kind: 'bad' | 'good'): FixtureCase[] {
  const root = path.join(FIXTURES, kind);
  const out: FixtureCase[] = [];
  const walk = (dir: string) => {
    const entries = readdirSync(dir);
    const isCase = kind === 'bad' ? entries.includes('expect.json') : entries.some((e) => /\.ya?ml$/.test(e) || e === 'args.json');
    if (isCase) {
      const argsFile = path.join(dir, 'args.json');
      out.push({
        name: path.relative(root, dir),
        dir,
        argv: existsSync(argsFile) ? (JSON.parse(readFileSync(argsFile, 'utf8')) as string[]) : DEFAULT_ARGV,
        expect: kind === 'bad' ? (JSON.parse(readFileSync(path.join(dir, 'expect.json'), 'utf8')) as Expectation) : undefined,
      });
      return;
    }
    for (const e of entries.sort()) if (statSync(path.join(dir, e)).isDirectory()) walk(path.join(dir, e));
  };
  walk(root);
  return out;
}

/**
 * Copies a case into a fresh directory with the trap's port written in, adding the default
 * inventory when the case has none. Returns the directory (tsplay runs there, so diagnostics name
 * `playbook.yml`, `inventory.yml`, `group_vars/...`).
 */
export function stageCase(c: FixtureCase, trapPort: number, parent = os.tmpdir()): string {
  const dir = mkdtempSync(path.join(parent, 'case-'));
  cpSync(c.dir, dir, { recursive: true });
  if (!existsSync(path.join(dir, 'inventory.yml'))) cpSync(path.join(FIXTURES, 'inventory.yml'), path.join(dir, 'inventory.yml'));
  const fill = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = path.join(d, e);
      if (statSync(p).isDirectory()) fill(p);
      else if (/\.ya?ml$/.test(e)) {
        const text = readFileSync(p, 'utf8');
        if (text.includes(TRAP_PLACEHOLDER)) writeFileSync(p, text.split(TRAP_PLACEHOLDER).join(String(trapPort)));
      }
    }
  };
  fill(dir);
  return dir;
}

/** A valid playbook that, if it ever ran, would create `markerPath` on the controller. */
export function markerPlaybook(markerPath: string): string {
  return `- name: Leave a marker if anything runs
  hosts: localhost
  tasks:
    - name: Touch the marker
      command:
        argv: [touch, ${JSON.stringify(markerPath)}]
`;
}
