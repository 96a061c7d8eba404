/**
 * The hostile and broken input corpus (tests/fixtures/bad/**), run through the real CLI.
 *
 * For every case: the exit code; each expected diagnostic's rule id, file, line and column, shown
 * in the text output with the offending source line and a caret under the column; the same
 * diagnostics (and nothing else) in `check --format json`; no stack trace anywhere. A sample of the
 * cases (all doctrine, placement and CLI ones) is also given to `tsplay run` behind a playbook that
 * would leave a marker file if anything ran, and every inventory points its hosts at a TCP trap
 * that must see no connection. Control tests at the
 * end show that the marker and the trap do catch a run that goes ahead.
 *
 * The valid fixtures (tests/fixtures/good/**) must pass `tsplay check` cleanly.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runTsplay, type CliResult } from '../helpers/cli.js';
import { loadCases, markerPlaybook, stageCase, type ExpectedDiagnostic, type FixtureCase } from '../helpers/fixtures.js';
import { openTrap, type Trap } from '../helpers/trap.js';
import { FIXTURES } from '../helpers/paths.js';

// TSPLAY_CORPUS_ONLY=doctrine/ runs the cases whose name contains that text (while working on them).
const only = process.env.TSPLAY_CORPUS_ONLY;
const bad = loadCases('bad').filter((c) => !only || c.name.includes(only));
const good = loadCases('good').filter((c) => !only || c.name.includes(only));

interface Outcome {
  dir: string;
  /** The case's own argv. */
  text: CliResult;
  /** The same with `--format json` (check commands that fail validation). */
  json?: CliResult;
  /** `tsplay run marker.yml <the case's playbooks and options>`. */
  run?: CliResult;
  marker?: string;
}

let trap: Trap;
let work: string;
const outcomes = new Map<string, Outcome>();
const goodOutcomes = new Map<string, { dir: string; text: CliResult; json: CliResult }>();

/**
 * `check`/`run` argv with the marker playbook first, or undefined when the case names no playbook.
 * `tsplay run` is tried on a sample, to keep the suite's length reasonable: every doctrine,
 * placement and command-line case, and the first two of every other category.
 */
function runVariant(c: FixtureCase): string[] | undefined {
  const { argv } = c;
  if ((argv[0] !== 'check' && argv[0] !== 'run') || argv.length < 2) return undefined;
  const [category] = c.name.split('/');
  const always = ['doctrine', 'placement', 'cli'];
  if (!always.includes(category) && bad.filter((b) => b.name.startsWith(`${category}/`)).indexOf(c) > 1) return undefined;
  return ['run', 'marker.yml', ...argv.slice(1)];
}

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

beforeAll(async () => {
  trap = await openTrap();
  work = mkdtempSync(path.join(os.tmpdir(), 'tsplay-corpus-'));
  // The CLI runs are independent processes: run them side by side, assert one case per test.
  await pool(bad, 8, async (c) => {
    const dir = stageCase(c, trap.port, work);
    const o: Outcome = { dir, text: await runTsplay(c.argv, { cwd: dir }) };
    if (c.argv[0] === 'check' && c.expect!.exit === 4) o.json = await runTsplay([...c.argv, '--format', 'json'], { cwd: dir });
    const runArgv = runVariant(c);
    if (runArgv) {
      o.marker = path.join(dir, 'MARKER');
      writeFileSync(path.join(dir, 'marker.yml'), markerPlaybook(o.marker));
      o.run = await runTsplay(runArgv, { cwd: dir });
    }
    outcomes.set(c.name, o);
  });
  await pool(good, 8, async (c) => {
    const dir = stageCase(c, trap.port, work);
    goodOutcomes.set(c.name, { dir, text: await runTsplay(c.argv, { cwd: dir }), json: await runTsplay([...c.argv, '--format', 'json'], { cwd: dir }) });
  });
}, 900_000);

afterAll(async () => {
  await trap?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

function show(r: CliResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

function expectNoCrash(r: CliResult): void {
  const all = r.stdout + r.stderr;
  for (const bad of [/^\s+at\s/m, /\b(TypeError|ReferenceError|RangeError|SyntaxError)\b/, /node:internal/, /internal error/]) {
    if (bad.test(all)) throw new Error(`output matches ${bad}: a stack trace or crash\n${show(r)}`);
  }
}

function sourceLine(dir: string, file: string, line: number): string {
  return readFileSync(path.join(dir, file), 'utf8').split(/\r?\n/)[line - 1];
}

/** Each expected diagnostic as the text reporter prints it: place, rule, the line, the caret. */
function expectTextDiagnostics(r: CliResult, dir: string, expected: ExpectedDiagnostic[]): void {
  const lines = r.stderr.split('\n');
  for (const d of expected) {
    const head = d.line !== undefined ? `${d.file}:${d.line}:${d.column}: error ${d.code}: ` : d.file ? `${d.file}: error ${d.code}: ` : `error ${d.code}: `;
    const i = lines.findIndex((l) => l.startsWith(head));
    if (i < 0) throw new Error(`no diagnostic "${head}…"\n${show(r)}`);
    if (d.line !== undefined) {
      const gutter = String(d.line);
      expect(lines[i + 1]).toBe(`  ${gutter} | ${sourceLine(dir, d.file!, d.line)}`);
      expect(lines[i + 2]).toBe(`  ${' '.repeat(gutter.length)} | ${' '.repeat(d.column! - 1)}^ here`);
    }
  }
  const summary = /^(\d+) errors?, \d+ warnings?; nothing was run$/m.exec(r.stderr);
  if (!summary) throw new Error(`no "N errors, …; nothing was run" summary\n${show(r)}`);
  expect(Number(summary[1])).toBe(expected.length);
}

const key = (d: ExpectedDiagnostic) => JSON.stringify([d.code, d.file ?? null, d.line ?? null, d.column ?? null]);

(bad.length ? describe : describe.skip)('bad inputs: the case as written (text output)', () => {
  test.each(bad.map((c) => [c.name, c] as const))('%s', (_name, c: FixtureCase) => {
    const o = outcomes.get(c.name)!;
    const exp = c.expect!;
    expectNoCrash(o.text);
    if (o.text.code !== exp.exit) throw new Error(`expected exit ${exp.exit}\n${show(o.text)}`);
    expect(o.text.stdout).toBe('');
    if (exp.stderr) expect(o.text.stderr).toContain(exp.stderr);
    if (exp.exit === 4) expectTextDiagnostics(o.text, o.dir, exp.diagnostics);
    else expect(o.text.stderr).toMatch(/^tsplay: error cli\/[a-z-]+: /m);
  });
});

const withJson = bad.filter((c) => c.argv[0] === 'check' && c.expect!.exit === 4);
(withJson.length ? describe : describe.skip)('bad inputs: check --format json', () => {
  test.each(withJson.map((c) => [c.name, c] as const))('%s', (_name, c: FixtureCase) => {
    const o = outcomes.get(c.name)!;
    const r = o.json!;
    expectNoCrash(r);
    expect(r.code).toBe(4);
    const report = JSON.parse(r.stdout) as {
      ok: boolean;
      errors: number;
      warnings: number;
      plays: unknown[];
      diagnostics: { code: string; severity: string; message: string; file?: string; line?: number; column?: number; sourceLine?: string; hint?: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.errors).toBe(c.expect!.diagnostics.length);
    expect(Array.isArray(report.plays)).toBe(true);
    const errors = report.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map(key).sort()).toEqual(c.expect!.diagnostics.map(key).sort());
    for (const d of report.diagnostics) {
      expect(typeof d.message).toBe('string');
      expect(d.message.length).toBeGreaterThan(0);
      expect(['error', 'warning']).toContain(d.severity);
      if (d.line !== undefined) expect(d.sourceLine).toBe(sourceLine(o.dir, d.file!, d.line));
      if (d.hint !== undefined) expect(typeof d.hint).toBe('string');
    }
  });
});

const runnable = bad.filter((c) => runVariant(c));
(runnable.length ? describe : describe.skip)('bad inputs: tsplay run refuses and runs nothing', () => {
  test.each(runnable.map((c) => [c.name, c] as const))('%s', (_name, c: FixtureCase) => {
    const o = outcomes.get(c.name)!;
    const r = o.run!;
    expectNoCrash(r);
    if (r.code !== c.expect!.exit) throw new Error(`expected exit ${c.expect!.exit}\n${show(r)}`);
    expect(r.stdout).toBe('');
    expect(existsSync(o.marker!)).toBe(false);
    if (c.expect!.exit === 4) expectTextDiagnostics(r, o.dir, c.expect!.diagnostics);
    else expect(r.stderr).toMatch(/^tsplay: error cli\/[a-z-]+: /m);
  });
});

describe('oversize files (generated: too big to commit)', () => {
  const big = '# padding\n'.repeat(110_000); // 1.1 MB of comments: still valid YAML, just too large
  const ping = '- name: Ping\n  hosts: workers\n  tasks:\n    - ping:\n';
  const cases: { name: string; files: Record<string, string>; argv: string[]; exit: number; diag?: ExpectedDiagnostic; stderr?: string }[] = [
    { name: 'playbook', files: { 'playbook.yml': ping + big }, argv: ['check', 'playbook.yml', '-i', 'inventory.yml'], exit: 4, diag: { code: 'yaml/too-large', file: 'playbook.yml' } },
    { name: 'second playbook', files: { 'playbook.yml': ping, 'more.yml': big + ping }, argv: ['check', 'playbook.yml', 'more.yml', '-i', 'inventory.yml'], exit: 4, diag: { code: 'yaml/too-large', file: 'more.yml' } },
    {
      name: 'inventory',
      files: { 'playbook.yml': ping, 'inventory.yml': readFileSync(path.join(FIXTURES, 'inventory.yml'), 'utf8') + big },
      argv: ['check', 'playbook.yml', '-i', 'inventory.yml'],
      exit: 4,
      diag: { code: 'yaml/too-large', file: 'inventory.yml' },
    },
    { name: 'group_vars file', files: { 'playbook.yml': ping, 'group_vars/workers.yml': 'distcc_slots: 4\n' + big }, argv: ['check', 'playbook.yml', '-i', 'inventory.yml'], exit: 4, diag: { code: 'yaml/too-large', file: 'group_vars/workers.yml' } },
    { name: '-e @file', files: { 'playbook.yml': ping, 'vars.yml': 'build_jobs: 14\n' + big }, argv: ['check', 'playbook.yml', '-i', 'inventory.yml', '-e', '@vars.yml'], exit: 5, stderr: 'error cli/extra-vars-file' },
  ];
  test.each(cases.map((c) => [c.name, c] as const))('%s over 1 MiB is refused', async (_name, c) => {
    const dir = mkdtempSync(path.join(work, 'big-'));
    for (const [f, text] of Object.entries({ 'inventory.yml': readFileSync(path.join(FIXTURES, 'inventory.yml'), 'utf8'), ...c.files })) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      writeFileSync(path.join(dir, f), text.split('__TRAP_PORT__').join(String(trap.port)));
    }
    const r = await runTsplay(c.argv, { cwd: dir });
    expectNoCrash(r);
    expect(r.code).toBe(c.exit);
    if (c.diag) expectTextDiagnostics(r, dir, [c.diag]);
    if (c.stderr) expect(r.stderr).toContain(c.stderr);
    const marker = path.join(dir, 'MARKER');
    writeFileSync(path.join(dir, 'marker.yml'), markerPlaybook(marker));
    const run = await runTsplay(['run', 'marker.yml', ...c.argv.slice(1)], { cwd: dir });
    expectNoCrash(run);
    expect(run.code).toBe(c.exit);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('floods (generated)', () => {
  const stage = (files: Record<string, string>): string => {
    const dir = mkdtempSync(path.join(work, 'flood-'));
    writeFileSync(path.join(dir, 'inventory.yml'), readFileSync(path.join(FIXTURES, 'inventory.yml'), 'utf8').split('__TRAP_PORT__').join(String(trap.port)));
    for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
    return dir;
  };

  test('more than 10,000 tasks in a play is refused before the schema runs', async () => {
    const dir = stage({ 'playbook.yml': '- name: Many\n  hosts: workers\n  tasks:\n' + '    - ping:\n'.repeat(10_001) });
    const r = await runTsplay(['check', 'playbook.yml', '-i', 'inventory.yml'], { cwd: dir });
    expectNoCrash(r);
    expect(r.code).toBe(4);
    expectTextDiagnostics(r, dir, [{ code: 'playbook/too-many', file: 'playbook.yml', line: 3, column: 3 }]);
  });

  test('thousands of diagnostics: the text shows the first 200, JSON has them all', async () => {
    const dir = stage({ 'playbook.yml': '- name: Many\n  hosts: builders\n  tasks:\n' + '    - command: make -j32\n'.repeat(300) });
    const r = await runTsplay(['check', 'playbook.yml', '-i', 'inventory.yml'], { cwd: dir });
    expectNoCrash(r);
    expect(r.code).toBe(4);
    expect(r.stderr.match(/: error doctrine\/forbidden: /g)).toHaveLength(200);
    expect(r.stderr).toContain('… and 100 more not shown (tsplay check --format json lists them all)');
    expect(r.stderr).toMatch(/^300 errors, 0 warnings; nothing was run$/m);
    const json = await runTsplay(['check', 'playbook.yml', '-i', 'inventory.yml', '--format', 'json'], { cwd: dir });
    expect((JSON.parse(json.stdout) as { diagnostics: unknown[] }).diagnostics).toHaveLength(300);
  });
});

// (describe.skip when TSPLAY_CORPUS_ONLY selects none: test.each refuses an empty table)
(good.length ? describe : describe.skip)('valid fixtures pass', () => {
  test.each(good.map((c) => [c.name, c] as const))('%s', (_name, c: FixtureCase) => {
    const o = goodOutcomes.get(c.name)!;
    expectNoCrash(o.text);
    if (o.text.code !== 0) throw new Error(`expected exit 0\n${show(o.text)}`);
    expect(o.text.stderr).toBe('');
    expect(o.text.stdout).toMatch(/^ok: \d+ playbooks?, \d+ plays, \d+ tasks checked against inventory\.yml and the doctrine\n$/);
    expect(o.json.code).toBe(0);
    const report = JSON.parse(o.json.stdout) as { ok: boolean; errors: number; diagnostics: unknown[]; plays: { hosts: string[] }[] };
    expect(report.ok).toBe(true);
    expect(report.errors).toBe(0);
    expect(report.diagnostics).toEqual([]);
    expect(report.plays.length).toBeGreaterThan(0);
    for (const p of report.plays) expect(p.hosts.length).toBeGreaterThan(0);
  });
});

describe('nothing was contacted', () => {
  test('no connection reached the trap during the whole corpus (check and run)', () => {
    if (!only) expect(bad.length).toBeGreaterThanOrEqual(120);
    expect(trap.connections()).toBe(0);
  });
});

// Controls: the marker and the trap do catch a run that goes ahead, so the zeros above mean something.
describe('controls', () => {
  test('a valid marker playbook does leave the marker', async () => {
    const dir = mkdtempSync(path.join(work, 'control-marker-'));
    writeFileSync(path.join(dir, 'inventory.yml'), readFileSync(path.join(FIXTURES, 'inventory.yml'), 'utf8').split('__TRAP_PORT__').join(String(trap.port)));
    const marker = path.join(dir, 'MARKER');
    writeFileSync(path.join(dir, 'marker.yml'), markerPlaybook(marker));
    const r = await runTsplay(['run', 'marker.yml', '-i', 'inventory.yml'], { cwd: dir });
    if (r.code !== 0) throw new Error(show(r));
    expect(existsSync(marker)).toBe(true);
  });

  test('a valid run against the fixture inventory does reach the trap (and reports the host unreachable)', async () => {
    const before = trap.connections();
    const c: FixtureCase = { name: 'control', dir: path.join(FIXTURES, 'good', 'limit-and-tags'), argv: [] };
    const dir = stageCase(c, trap.port, work);
    const r = await runTsplay(['run', 'playbook.yml', '-i', 'inventory.yml', '-l', 'w1'], { cwd: dir, timeoutMs: 60_000 });
    expectNoCrash(r);
    expect(r.code).toBe(3);
    expect(trap.connections()).toBeGreaterThan(before);
  });
});
