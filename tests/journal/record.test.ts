/**
 * What the journal records and what survives: a controller killed with SIGKILL mid-run leaves a
 * journal that replay, autopsy and resume read; secrets (secret extra vars, secret inventory vars,
 * no_log tasks) appear in no journal, metrics file or report; the metrics file is strict
 * Prometheus text; an unwritable journal stops tsplay before any host is contacted, and a journal
 * that fails mid-run stops new tasks.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ensureLab } from '../helpers/lab.js';
import { expectExit } from '../helpers/cli.js';
import { TSPLAY } from '../helpers/paths.js';
import { workspace, type Workspace } from './workspace.js';
import { parsePrometheusText, sampleValue } from './prom-format.js';

let ws: Workspace;

beforeAll(async () => {
  await ensureLab();
  ws = workspace('journal-record');
});

afterAll(() => ws?.cleanup());

async function waitFor(what: string, cond: () => boolean, ms = 90_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a controller killed with SIGKILL mid-run leaves a journal that runs, replay, autopsy and resume read', async () => {
  const log = `/tmp/${ws.tag}/kill/log`;
  ws.write(
    'kill.yml',
    `- name: killed mid-run
  hosts: all
  tasks:
    - name: quick
      shell: mkdir -p /tmp/${ws.tag}/kill && echo quick >> ${log}
    - name: long sleep
      shell: echo $$ > /tmp/${ws.tag}/kill/pid-$(hostname) && sleep {{ nap }} && echo slept >> ${log}
`,
  );
  const before = new Set(ws.runIds());
  const child = spawn(TSPLAY, ['run', '-i', ws.inventory, 'kill.yml', '-e', 'nap=25'], { cwd: ws.dir, env: { ...process.env, TSPLAY_RUNS_DIR: ws.runsDir, NO_COLOR: '1' }, stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, sig) => resolve(sig)));
  let id = '';
  await waitFor('the sleep to start on both hosts', () => {
    id = ws.runIds().find((i) => !before.has(i)) ?? '';
    return id !== '' && ws.journalLines(id).filter((l) => l.type === 'host.start' && l.task === 'long sleep').length === 2;
  });
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');

  const lines = ws.journalLines(id);
  expect(lines[0].type).toBe('journal.meta');
  expect(lines.some((l) => l.type === 'journal.end' || l.type === 'run.end')).toBe(false);

  const row = JSON.parse((await ws.tsplay(['runs', '--json'])).stdout.split('\n')[0]);
  expect(row).toMatchObject({ id, outcome: 'incomplete' });

  const replay = await ws.tsplay(['replay', id, '--speed', '0']);
  expectExit(replay, 0);
  expect(replay.stdout).toMatch(/TASK \[quick\][^]*changed: \[builder\][^]*TASK \[long sleep\]/);
  expect(replay.stderr).toContain('the journal stops at');
  expect(replay.stderr).toContain('the controller died');

  // A torn last line (the write in flight when the controller died) is ignored, with a warning.
  appendFileSync(path.join(ws.runsDir, id, 'journal.jsonl'), '{"type":"host.result","time":"2026-');
  const a = await ws.tsplay(['autopsy', id]);
  expectExit(a, 0);
  expect(a.stderr).toContain('is incomplete (written when the controller died); it was ignored');
  expect(a.stdout).toContain('incomplete (the journal stops: the controller died)');
  expect(a.stdout).toMatch(/in flight when the journal stops\n {2}(builder|w1): 'long sleep' since [\d:.]+\n {2}(builder|w1): 'long sleep'/);
  expect(a.stdout).toContain(`tsplay resume ${id}`);
  const replayTorn = await ws.tsplay(['replay', id, '--speed', '0', '--json']);
  expectExit(replayTorn, 0);
  expect(replayTorn.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l).type)).toContain('host.start');

  // Resume: every host goes on (the run was cut short), 'quick' is not run again. The command the
  // dead controller left running may have been stopped with its session or have finished: wait
  // until it is gone either way, so the logs are settled.
  const gone = (host: string) => ws.sh(host, `kill -0 $(cat /tmp/${ws.tag}/kill/pid-${host}) 2>/dev/null && echo running || echo gone`).trim() === 'gone';
  await waitFor('the orphaned commands to end', () => gone('builder') && gone('w1'), 60_000);
  const settled = { builder: ws.lines('builder', log), w1: ws.lines('w1', log) };
  const resumed = await ws.tsplay(['resume', id, '-e', 'nap=0']);
  expectExit(resumed, 0);
  expect(resumed.stdout).toContain('resuming every host');
  for (const host of ['builder', 'w1'] as const) {
    expect(settled[host][0]).toBe('quick');
    expect(ws.lines(host, log)).toEqual([...settled[host], 'slept']);
    expect(ws.lines(host, log).filter((l) => l === 'quick')).toHaveLength(1);
  }
});

test('secrets never reach the journal, the metrics or the report; metrics are strict Prometheus text', async () => {
  const token = 'Tok-9f8e7d6c5b4a';
  const password = 'Inv-Pa55word-7781';
  const hidden = 'hidden-42-marker';
  const inv = ws.write('secret-inventory.yml', readFileSync(ws.inventory, 'utf8').replace('    user: root\n', `    user: root\n    db_password: ${password}\n`));
  ws.write(
    'secrets.yml',
    `- name: secrets
  hosts: all
  tasks:
    - name: Uses the secrets
      shell: echo "token={{ deploy_token }} password={{ db_password }}"
      register: said
    - name: A no_log task
      shell: echo hidden-$(( 6 * 7 ))-marker
      no_log: true
      register: quiet
    - name: Debug the token
      debug:
        msg: "the token is {{ deploy_token }}"
    - name: Thermal reading
      set_fact:
        tsplay_thermal: { celsius: 47.5, threshold_c: 85, throttled: false }
    - name: 'A "quoted" \\ name'
      shell: "true"
`,
  );
  const metrics = path.join(ws.dir, 'secrets.prom');
  const r = await ws.tsplay(['run', '-i', inv, 'secrets.yml', '-e', `deploy_token=${token}`, '--metrics-file', metrics, '-vv']);
  expectExit(r, 0);
  const [id] = ws.runIds();
  const journal = ws.journal(id);
  const report = path.join(ws.dir, 'secrets.html');
  expectExit(await ws.tsplay(['report', id, '-o', report]), 0);
  const promText = readFileSync(metrics, 'utf8');
  const html = readFileSync(report, 'utf8');
  for (const [what, text] of [['stdout', r.stdout], ['journal', journal], ['metrics', promText], ['report', html]] as const) {
    expect({ what, hasToken: text.includes(token), hasPassword: text.includes(password), hasHidden: text.includes(hidden) }).toEqual({ what, hasToken: false, hasPassword: false, hasHidden: false });
  }
  expect(journal).not.toContain('6 * 7');
  const lines = ws.journalLines(id);
  expect((lines[0] as { argv: string[] }).argv).toContain('deploy_token=********');
  const said = lines.find((l) => l.type === 'host.result' && l.task === 'Uses the secrets' && l.host === 'builder') as { stdout: string };
  expect(said.stdout).toBe('token=******** password=********');
  const quiet = lines.find((l) => l.type === 'host.result' && l.task === 'A no_log task') as { msg: string; stdout?: string; command?: string; state: unknown };
  expect(quiet).toMatchObject({ msg: 'the output has been hidden due to no_log: true', state: { register: 'quiet', withheld: 'no_log' } });
  expect(quiet.stdout).toBeUndefined();
  expect(quiet.command).toBeUndefined();

  // Metrics: strict format, the documented names, values from the run.
  const samples = parsePrometheusText(promText);
  expect(sampleValue(samples, 'tsplay_run_success')).toBe(1);
  expect(sampleValue(samples, 'tsplay_run_info', { run_id: id, kind: 'run', outcome: 'ok' })).toBe(1);
  expect(sampleValue(samples, 'tsplay_run_duration_seconds')).toBeGreaterThan(0);
  expect(sampleValue(samples, 'tsplay_host_tasks_total', { host: 'builder', status: 'changed' })).toBe(3);
  expect(sampleValue(samples, 'tsplay_host_tasks_total', { host: 'w1', status: 'ok' })).toBe(2);
  expect(sampleValue(samples, 'tsplay_host_unreachable', { host: 'w1' })).toBe(0);
  expect(sampleValue(samples, 'tsplay_thermal_celsius', { host: 'builder' })).toBe(47.5);
  expect(sampleValue(samples, 'tsplay_thermal_threshold_celsius', { host: 'w1' })).toBe(85);
  expect(sampleValue(samples, 'tsplay_thermal_throttled', { host: 'w1' })).toBe(0);
  const durations = samples.filter((s) => s.name === 'tsplay_task_duration_seconds');
  expect(durations).toHaveLength(10);
  expect(durations.map((s) => s.labels.task)).toContain('A "quoted" \\ name');
  expect(promText).toContain('task="A \\"quoted\\" \\\\ name"');
  expect(existsSync(`${metrics}.tmp`)).toBe(false);
  const types = promText.split('\n').filter((l) => l.startsWith('# TYPE')).map((l) => l.split(' ')[2]);
  expect(types).toEqual(expect.arrayContaining(['tsplay_run_success', 'tsplay_run_duration_seconds', 'tsplay_task_duration_seconds', 'tsplay_host_tasks_total', 'tsplay_thermal_celsius']));
});

test('the strict format check rejects what node_exporter would reject', () => {
  expect(() => parsePrometheusText('# TYPE a gauge\na{x="1"} 1\n')).not.toThrow();
  expect(() => parsePrometheusText('a 1\n')).toThrow(/without a TYPE/);
  expect(() => parsePrometheusText('# TYPE a gauge\na{x="q"uote"} 1\n')).toThrow();
  expect(() => parsePrometheusText('# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n')).toThrow(/duplicate series/);
  expect(() => parsePrometheusText('# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{y="2"} 1\n')).toThrow(/not together/);
  expect(() => parsePrometheusText('# TYPE a gauge\na one\n')).toThrow(/not a sample value/);
  expect(() => parsePrometheusText('# TYPE a gauge\na 1')).toThrow(/newline/);
});

test('a lifecycle run writes metrics per stage', async () => {
  for (const s of ['power-on', 'post-power-on-validate', 'pump-preflight', 'pump-start', 'kernel-build']) {
    const thermal = s === 'kernel-build' ? `    - name: thermal gate\n      thermal:\n        mode: throttle\n` : '';
    ws.write(`metric-stages/${s}.yml`, `- name: ${s}\n  hosts: all\n  tasks:\n    - name: ${s} ping\n      ping:\n${thermal}`);
  }
  const metrics = path.join(ws.dir, 'lifecycle.prom');
  expectExit(await ws.tsplay(['lifecycle', '-i', ws.inventory, '--playbooks', 'metric-stages', '--metrics-file', metrics]), 0);
  const samples = parsePrometheusText(readFileSync(metrics, 'utf8'));
  expect(sampleValue(samples, 'tsplay_run_success')).toBe(1);
  expect(samples.filter((s) => s.name === 'tsplay_stage_success').map((s) => `${s.labels.stage}=${s.value}`)).toEqual([
    'power-on=1',
    'post-power-on-validate=1',
    'pump-preflight=1',
    'pump-start=1',
    'kernel-build=1',
  ]);
  expect(samples.filter((s) => s.name === 'tsplay_task_duration_seconds')).toHaveLength(12);
  // The thermal module's reading (its tsplay_thermal fact, as journaled) is what the metrics show.
  const [id] = ws.runIds();
  for (const host of ['builder', 'w1']) {
    const r = ws.journalLines(id).find((l) => l.type === 'host.result' && l.task === 'thermal gate' && l.host === host) as { state: { facts: { tsplay_thermal: { celsius: number; threshold_c: number; throttled: boolean } } } };
    const fact = r.state.facts.tsplay_thermal;
    expect(typeof fact.celsius).toBe('number');
    expect(sampleValue(samples, 'tsplay_thermal_celsius', { host })).toBe(fact.celsius);
    expect(sampleValue(samples, 'tsplay_thermal_threshold_celsius', { host })).toBe(85);
    expect(sampleValue(samples, 'tsplay_thermal_throttled', { host })).toBe(fact.throttled ? 1 : 0);
  }
});

test('replay prints what the run printed, from the journal alone', async () => {
  ws.write('replay.yml', `- name: replayed\n  hosts: all\n  tasks:\n    - name: say\n      shell: echo hello from $(hostname)\n      register: r\n    - name: show\n      debug:\n        msg: "{{ r.stdout }}"\n    - name: skipped one\n      debug:\n        msg: never\n      when: false\n`);
  const r = await ws.tsplay(['run', '-i', ws.inventory, 'replay.yml', '-v']);
  expectExit(r, 0);
  const replay = await ws.tsplay(['replay', 'last', '--speed', '0', '-v']);
  expectExit(replay, 0);
  expect(replay.stdout).toBe(r.stdout);
  expect(replay.stdout).toContain('note [w1]: skipped: when `false` was false');
  expect(replay.stderr).toContain('no host is contacted');
});

describe('when the journal cannot be written', () => {
  const mounts: string[] = [];
  const mount = (dir: string, opts: string) => {
    mkdirSync(dir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'tsplay-test', dir]);
    mounts.push(dir);
  };
  afterAll(() => {
    for (const m of mounts) execFileSync('umount', [m]);
  });

  test('a read-only runs directory stops tsplay before any host is contacted', async () => {
    const ro = path.join(ws.dir, 'ro');
    mount(ro, 'ro,size=1m');
    const log = `/tmp/${ws.tag}/ro/log`;
    ws.write('ro.yml', `- hosts: all\n  tasks:\n    - name: would write\n      shell: mkdir -p /tmp/${ws.tag}/ro && echo ran >> ${log}\n`);
    const r = await ws.tsplay(['run', '-i', ws.inventory, 'ro.yml', '--runs-dir', path.join(ro, 'runs')]);
    expectExit(r, 6);
    expect(r.stderr).toMatch(/error journal\/unwritable: cannot write the run journal .*: the file system is read-only \(EROFS\)/);
    expect(r.stderr).toContain('nothing was run');
    expect(r.stdout).toBe('');
    expect(ws.lines('builder', log)).toEqual([]);
    const m = await ws.tsplay(['run', '-i', ws.inventory, 'ro.yml', '--metrics-file', path.join(ro, 'x.prom')]);
    expectExit(m, 6);
    expect(m.stderr).toContain('error journal/metrics-unwritable');
    expect(ws.lines('w1', log)).toEqual([]);
  });

  test('a journal that fills its disk mid-run stops new tasks and says so', async () => {
    const small = path.join(ws.dir, 'small');
    mount(small, 'size=48k');
    const log = `/tmp/${ws.tag}/full/log`;
    const chatty = (n: number) => `    - name: chatty ${n}\n      shell: yes x | head -c 30000\n`;
    ws.write('full.yml', `- hosts: all\n  tasks:\n${chatty(1)}${chatty(2)}${chatty(3)}    - name: after\n      shell: mkdir -p /tmp/${ws.tag}/full && echo ran >> ${log}\n`);
    const r = await ws.tsplay(['run', '-i', ws.inventory, 'full.yml', '-v', '--runs-dir', path.join(small, 'runs')]);
    expectExit(r, 6);
    expect(r.stderr).toMatch(/error journal\/write-failed: the run journal .* could not be written: no space left on the device \(ENOSPC\)/);
    expect(r.stderr).toContain('no new task will be started');
    expect(r.stdout).not.toContain('TASK [after]');
    expect(ws.lines('builder', log)).toEqual([]);
    expect(ws.lines('w1', log)).toEqual([]);
  });
});
