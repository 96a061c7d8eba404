/**
 * The journal's pure parts on hand-made data (no lab): the writer's bounds and redaction, reading
 * torn journals, finding runs, what resume restores and for which hosts, metric label escaping.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EngineEvent } from '../../engine/events.js';
import type { JournalLine, JournalMeta } from '../../engine/journal/format.js';
import { JournalError, JournalWriter, OUTPUT_LIMIT } from '../../engine/journal/writer.js';
import { readJournal, resolveRun, JournalReadError } from '../../engine/journal/read.js';
import { buildModel } from '../../engine/journal/model.js';
import { planResume, skipDoneFor } from '../../engine/journal/resume.js';
import { renderMetrics } from '../../engine/journal/metrics.js';
import { gitInfoAsync } from '../../engine/journal/fingerprint.js';
import { Redactor } from '../../engine/run/redact.js';
import type { PlaySpec, TaskSpec } from '../../engine/playbook/model.js';
import { parsePrometheusText, sampleValue } from './prom-format.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-journal-unit-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const T = (s: number) => new Date(Date.UTC(2025, 0, 1, 12, 0, s)).toISOString();

function meta(runId: string, extra: Partial<JournalMeta> = {}): JournalMeta {
  return {
    type: 'journal.meta',
    seq: 0,
    format: 1,
    runId,
    kind: 'run',
    tsplayVersion: '0.0.0',
    argv: ['run', 'site.yml'],
    cwd: dir,
    user: 'tester',
    hostname: 'elsewhere',
    pid: 1,
    start: T(0),
    options: { playbooks: ['site.yml'], inventory: 'inv.yml', extraVars: {}, secretExtraVars: [], tags: [], skipTags: [], check: false, diff: false, forks: 10, trustNewHostKeys: false },
    git: null,
    files: [],
    plan: [
      {
        path: 'site.yml',
        absPath: path.join(dir, 'site.yml'),
        plays: [
          {
            index: 0,
            name: 'p',
            hosts: ['a', 'b'],
            tasks: [
              { id: 'p0.t0', name: 'first', module: 'shell', handler: false, runOnce: false, register: 'r1', noLog: false, line: 4, column: 7 },
              { id: 'p0.t1', name: 'once', module: 'shell', handler: false, runOnce: true, register: 'r2', noLog: false, line: 7, column: 7 },
              { id: 'p0.t2', name: 'secret', module: 'shell', handler: false, runOnce: false, register: 'r3', noLog: true, line: 10, column: 7 },
              { id: 'p0.t3', name: 'breaks', module: 'shell', handler: false, runOnce: false, noLog: false, line: 13, column: 7 },
            ],
          },
        ],
      },
    ],
    ...extra,
  };
}

function result(seq: number, host: string, taskId: string, task: string, status: string, state?: unknown): JournalLine {
  return { type: 'host.result', seq, time: T(seq), task, taskIndex: Number(taskId.slice(-1)), taskId, host, status, changed: status === 'changed', durationMs: 500, state } as JournalLine;
}

function writeJournal(id: string, lines: JournalLine[], tail = ''): string {
  mkdirSync(path.join(dir, 'runs', id), { recursive: true });
  const file = path.join(dir, 'runs', id, 'journal.jsonl');
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n' + tail);
  return file;
}

const PLAY_START = { type: 'play.start', seq: 1, time: T(1), play: 'p', playIndex: 0, hosts: ['a', 'b'], playbook: 'site.yml' } as JournalLine;

test('the writer bounds live output per task, host and stream, keeps the tail of results, and redacts everything', () => {
  const secret = 'hunter2-secret';
  const m = meta('20250101-120000-aaaaaa', { argv: ['run', `-e`, `pw=${secret}`] });
  const errors: JournalError[] = [];
  const w = JournalWriter.open(path.join(dir, 'runs'), m, new Redactor([secret]), (e) => errors.push(e));
  const out = (text: string): EngineEvent => ({ type: 'host.output', time: T(1), task: 't', taskIndex: 0, taskId: 'p0.t0', host: 'a', stream: 'stdout', text });
  for (let i = 0; i < 40; i++) w.event(out('x'.repeat(1000) + '\n'));
  w.event({ type: 'host.output', time: T(1), task: 't', taskIndex: 0, taskId: 'p0.t0', host: 'a', stream: 'stderr', text: `oops ${secret}\n` });
  const long = 'head\n' + 'y'.repeat(3 * OUTPUT_LIMIT) + '\nthe real error';
  w.event({ type: 'host.result', time: T(2), task: 't', taskIndex: 0, taskId: 'p0.t0', host: 'a', status: 'failed', changed: false, stderr: long, command: `login ${secret}`, durationMs: 1, state: { register: 'r', registered: { rc: 1, stdout: 'one\ntwo', stdout_lines: ['one', 'two'], note: secret } } });
  w.end({ type: 'journal.end', time: T(3), runId: m.runId, outcome: 'failed', durationMs: 3000, exitCode: 2 });
  w.close();
  expect(errors).toEqual([]);
  const text = readFileSync(w.file, 'utf8');
  expect(text).not.toContain(secret);
  const lines = text.trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i));
  expect(lines[0].argv).toEqual(['run', '-e', 'pw=********']);
  const kept = lines.filter((l) => l.type === 'host.output' && l.stream === 'stdout').map((l) => l.text).join('');
  expect(kept.length).toBeLessThan(OUTPUT_LIMIT + 200);
  expect(kept).toContain('further stdout not journaled');
  expect(lines.find((l) => l.stream === 'stderr').text).toBe('oops ********\n');
  const res = lines.find((l) => l.type === 'host.result');
  expect(res.stderr.endsWith('\nthe real error')).toBe(true);
  expect(res.stderr.startsWith(`… (${long.length - OUTPUT_LIMIT} earlier bytes not kept)\n`)).toBe(true);
  expect(res.command).toBe('login ********');
  expect(res.state.registered).toEqual({ rc: 1, stdout: 'one\ntwo', note: '********' });
  expect(lines[lines.length - 1]).toMatchObject({ type: 'journal.end', outcome: 'failed' });
});

test('a journal that cannot be created is a JournalError with the reason; nothing is left half-made', () => {
  writeFileSync(path.join(dir, 'file'), '');
  expect(() => JournalWriter.open(path.join(dir, 'file', 'runs'), meta('x'), new Redactor([]), () => undefined)).toThrow(JournalError);
  expect(() => JournalWriter.open(path.join(dir, 'file', 'runs'), meta('x'), new Redactor([]), () => undefined)).toThrow(/not a directory \(ENOTDIR\)/);
});

test('readers drop a torn last line, report bad lines elsewhere, and find runs by id, prefix and last', () => {
  writeJournal('20250101-120000-aaaaaa', [meta('20250101-120000-aaaaaa'), PLAY_START], '{"type":"host.res');
  writeJournal('20250101-130000-bbbbbb', [meta('20250101-130000-bbbbbb')]);
  writeJournal('20250101-130500-cccccc', [meta('20250101-130500-cccccc')]);
  const runs = path.join(dir, 'runs');
  const j = readJournal(resolveRun(runs, '20250101-12'));
  expect(j.tornTail).toBe(true);
  expect(j.lines).toHaveLength(2);
  expect(j.end).toBeUndefined();
  expect(buildModel(j).outcome).toBe('incomplete');
  expect(resolveRun(runs, 'last')).toContain('20250101-130500-cccccc');
  expect(() => resolveRun(runs, '20250101-13')).toThrow(/start of 2 run ids/);
  expect(() => resolveRun(runs, 'nope')).toThrow(JournalReadError);
  const file = resolveRun(runs, '20250101-130000-bbbbbb');
  appendFileSync(file, 'garbage\n' + JSON.stringify(PLAY_START) + '\n');
  expect(readJournal(file).badLines).toEqual([2]);
});

test('resume after an ordinary failure: only the failed hosts, done tasks skipped, results restored (run_once for the play, no_log as status only)', () => {
  const lines: JournalLine[] = [
    meta('20250101-120000-aaaaaa'),
    PLAY_START,
    result(2, 'a', 'p0.t0', 'first', 'changed', { register: 'r1', registered: { rc: 0, stdout: 'A1\nA2', changed: true } }),
    result(3, 'b', 'p0.t0', 'first', 'changed', { register: 'r1', registered: { rc: 0, stdout: 'B1', changed: true } }),
    result(4, 'a', 'p0.t1', 'once', 'ok', { register: 'r2', registered: { rc: 0, stdout: 'ONCE' }, facts: { fact_x: 1 } }),
    result(5, 'a', 'p0.t2', 'secret', 'changed', { register: 'r3', withheld: 'no_log' }),
    result(6, 'b', 'p0.t2', 'secret', 'changed', { register: 'r3', withheld: 'no_log' }),
    result(7, 'a', 'p0.t3', 'breaks', 'ok'),
    result(8, 'b', 'p0.t3', 'breaks', 'failed'),
    { type: 'journal.end', seq: 9, time: T(9), runId: '20250101-120000-aaaaaa', outcome: 'failed', durationMs: 9000, exitCode: 2 } as JournalLine,
  ];
  const m = buildModel(readJournal(writeJournal('20250101-120000-aaaaaa', lines)));
  expect(m.firstFailure).toMatchObject({ host: 'b', task: 'breaks', info: { line: 13 } });
  const rp = planResume(m);
  if ('nothing' in rp) throw new Error(rp.nothing);
  expect([...rp.onlyHosts!]).toEqual(['b']);
  expect(rp.facts.b.r1).toEqual({ rc: 0, stdout: 'B1', stdout_lines: ['B1'], changed: true });
  expect(rp.facts.a.r1).toMatchObject({ stdout_lines: ['A1', 'A2'] });
  expect(rp.facts.b.r2).toMatchObject({ stdout: 'ONCE' });
  expect(rp.facts.b.fact_x).toBe(1);
  expect(rp.facts.b.r3).toMatchObject({ changed: true, failed: false, msg: expect.stringContaining('no_log') });
  expect(rp.withheld.map((t) => t.host)).toEqual(['a', 'b']);
  const skip = skipDoneFor(rp);
  const task = (id: string, name: string, runOnce = false) => ({ id, name, runOnce }) as TaskSpec;
  const play = {} as PlaySpec;
  expect(skip(play, task('p0.t0', 'first'), 'b', 'site.yml')).toEqual({ changed: true });
  expect(skip(play, task('p0.t1', 'once', true), 'b', 'site.yml')).toEqual({ changed: false });
  expect(skip(play, task('p0.t3', 'breaks'), 'b', 'site.yml')).toBeUndefined();
  expect(skip(play, task('p0.t0', 'renamed'), 'b', 'site.yml')).toBeUndefined();
  expect(skip(play, task('p0.t0', 'first'), 'b', 'other.yml')).toBeUndefined();
});

test('resume after any_errors_fatal or an interruption goes on with every host; a finished run has nothing to resume', () => {
  const base: JournalLine[] = [meta('20250101-120000-aaaaaa'), PLAY_START, result(2, 'a', 'p0.t0', 'first', 'failed')];
  const fatal = buildModel(readJournal(writeJournal('20250101-120000-aaaaaa', [...base, { type: 'decision', seq: 3, time: T(3), message: 'any_errors_fatal: a host failed "first", so play "p" stops for every host' } as JournalLine, { type: 'journal.end', seq: 4, time: T(4), runId: 'x', outcome: 'failed', durationMs: 1, exitCode: 2 } as JournalLine])));
  const rp = planResume(fatal);
  expect('nothing' in rp ? rp.nothing : rp.onlyHosts).toBeUndefined();
  const killed = buildModel(readJournal(writeJournal('20250101-120001-aaaaaa', base)));
  const rk = planResume(killed);
  expect('nothing' in rk ? rk.nothing : rk.reason).toContain('cut short');
  const ok = buildModel(readJournal(writeJournal('20250101-120002-aaaaaa', [meta('20250101-120002-aaaaaa'), { type: 'journal.end', seq: 1, time: T(1), runId: 'x', outcome: 'ok', durationMs: 1, exitCode: 0 } as JournalLine])));
  expect(planResume(ok)).toEqual({ nothing: 'run 20250101-120002-aaaaaa finished ok: there is nothing to resume' });
});

test('metric label values are escaped and the exposition parses strictly', () => {
  const lines: JournalLine[] = [
    meta('20250101-120000-aaaaaa'),
    PLAY_START,
    { type: 'task.start', seq: 2, time: T(2), play: 'p', task: 'odd "name" \\ with\nnewline', taskIndex: 0, taskId: 'p0.t0', module: 'make-jobserver', hosts: ['a'] } as JournalLine,
    result(3, 'a', 'p0.t0', 'odd "name" \\ with\nnewline', 'changed', { facts: { tsplay_thermal: { celsius: 86.5, threshold_c: 85, throttled: true } } }),
    result(4, 'b', 'p0.t0', 'odd "name" \\ with\nnewline', 'unreachable'),
    { type: 'journal.end', seq: 5, time: T(5), runId: 'x', outcome: 'failed', durationMs: 5000, exitCode: 3 } as JournalLine,
  ];
  const text = renderMetrics(buildModel(readJournal(writeJournal('20250101-120000-aaaaaa', lines))));
  expect(text).toContain('task="odd \\"name\\" \\\\ with\\nnewline"');
  const s = parsePrometheusText(text);
  expect(sampleValue(s, 'tsplay_run_success')).toBe(0);
  expect(sampleValue(s, 'tsplay_run_duration_seconds')).toBe(5);
  expect(sampleValue(s, 'tsplay_make_duration_seconds', { host: 'a' })).toBe(0.5);
  expect(sampleValue(s, 'tsplay_make_success', { host: 'b' })).toBe(0);
  expect(sampleValue(s, 'tsplay_thermal_celsius', { host: 'a' })).toBe(86.5);
  expect(sampleValue(s, 'tsplay_thermal_throttled', { host: 'a' })).toBe(1);
  expect(sampleValue(s, 'tsplay_host_unreachable', { host: 'b' })).toBe(1);
  expect(sampleValue(s, 'tsplay_host_tasks_total', { host: 'b', status: 'unreachable' })).toBe(1);
});

describe('the git commit of the playbooks (gitInfoAsync, one real git per folder)', () => {
  const git = (cwd: string, ...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' }).trim();
  const repo = (name: string): string => {
    const root = path.join(dir, name);
    mkdirSync(path.join(root, 'playbooks'), { recursive: true });
    writeFileSync(path.join(root, 'playbooks', 'a.yml'), '- hosts: all\n  tasks: []\n');
    git(root, 'init', '-q');
    return root;
  };

  test('a clean checkout: its commit and root, not dirty', async () => {
    const root = repo('clean');
    git(root, 'add', '.');
    git(root, 'commit', '-qm', 'one');
    expect(await gitInfoAsync(path.join(root, 'playbooks'))).toEqual({ root, commit: git(root, 'rev-parse', 'HEAD'), dirty: false });
  });

  test('an edit or a new file under the folder makes it dirty; one elsewhere in the repository does not', async () => {
    const root = repo('dirty');
    mkdirSync(path.join(root, 'docs'));
    git(root, 'add', '.');
    git(root, 'commit', '-qm', 'one');
    writeFileSync(path.join(root, 'docs', 'new.md'), 'elsewhere\n');
    expect(await gitInfoAsync(path.join(root, 'playbooks'))).toMatchObject({ dirty: false });
    // The answer is kept per folder for the process's life, so each case has a repository of its own.
    const untracked = repo('untracked');
    git(untracked, 'add', '.');
    git(untracked, 'commit', '-qm', 'one');
    writeFileSync(path.join(untracked, 'playbooks', 'b.yml'), '[]\n');
    expect(await gitInfoAsync(path.join(untracked, 'playbooks'))).toMatchObject({ root: untracked, dirty: true });
    const edited = repo('edited');
    git(edited, 'add', '.');
    git(edited, 'commit', '-qm', 'one');
    writeFileSync(path.join(edited, 'playbooks', 'a.yml'), '- hosts: none\n  tasks: []\n');
    expect(await gitInfoAsync(path.join(edited, 'playbooks'))).toMatchObject({ root: edited, dirty: true });
  });

  test('outside git, or before the first commit: null', async () => {
    const plain = path.join(dir, 'plain');
    mkdirSync(plain);
    expect(await gitInfoAsync(plain)).toBeNull();
    expect(await gitInfoAsync(path.join(repo('empty'), 'playbooks'))).toBeNull();
  });
});
