/**
 * A run that fails mid-way against the lab is listed by `runs`, explained by `autopsy`, and
 * finished by `resume` without running again the tasks that had succeeded (each task appends to a
 * log on the host; the lines are counted) and with registered results restored from the journal.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { ensureLab, lab } from '../helpers/lab.js';
import { expectExit } from '../helpers/cli.js';
import { workspace, type Workspace } from './workspace.js';

let ws: Workspace;

function playbook(tag: string): string {
  return `- name: journal resume test
  hosts: all
  tasks:
    - name: Prepare the scratch dir
      shell: mkdir -p /tmp/${tag} && echo prepared >> /tmp/${tag}/log && echo token-$(hostname)-$(cat /proc/sys/kernel/random/uuid)
      register: first

    - name: Check nothing blocks this host
      shell: echo checked >> /tmp/${tag}/log; if [ -e /tmp/${tag}/block ]; then echo "blocked by /tmp/${tag}/block" >&2; exit 3; fi

    - name: Use the registered result
      shell: echo "used {{ first.stdout }}" >> /tmp/${tag}/log
`;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

beforeAll(async () => {
  await ensureLab();
  ws = workspace('journal-resume');
});

afterAll(() => ws?.cleanup());

test('a failed run is listed, explained, refused after an edit, then resumed from the failed task with registered results restored', async () => {
  const pb = ws.write('site.yml', playbook(ws.tag));
  const text = readFileSync(pb, 'utf8');
  ws.sh('w1', `mkdir -p /tmp/${ws.tag} && touch /tmp/${ws.tag}/block`);

  const failed = await ws.tsplay(['run', '-i', ws.inventory, 'site.yml']);
  expectExit(failed, 2);
  const [id] = ws.runIds();
  expect(failed.stderr).toContain(`tsplay autopsy ${id}`);

  // runs: newest first, failed, naming w1.
  const runs = await ws.tsplay(['runs', '--json']);
  expectExit(runs, 0);
  const row = JSON.parse(runs.stdout.split('\n')[0]);
  expect(row).toMatchObject({ id, kind: 'run', outcome: 'failed', failed: ['w1'], unreachable: [] });
  const table = await ws.tsplay(['runs']);
  expect(table.stdout.split('\n')[1]).toMatch(new RegExp(`^${id}\\s+run\\s+failed\\s+\\S+\\s+w1\\s+-\\s+site\\.yml`));

  // autopsy: host, task, file:line, command, rc, stderr tail, the chain, the resume command.
  const a = await ws.tsplay(['autopsy', id.slice(0, 17)]);
  expectExit(a, 0);
  expect(a.stdout).toContain('host:     w1');
  expect(a.stdout).toContain("task:     'Check nothing blocks this host'");
  expect(a.stdout).toMatch(/at:\s+site\.yml:8:7/);
  expect(a.stdout).toContain('rc:       3');
  expect(a.stdout).toContain(`| blocked by /tmp/${ws.tag}/block`);
  expect(a.stdout).toMatch(/changed\s+'Prepare the scratch dir'/);
  expect(a.stdout).toMatch(/unreachable hosts\n {2}none/);
  expect(a.stdout).toContain(`resume it with\n  tsplay resume ${id}`);
  const aj = JSON.parse((await ws.tsplay(['autopsy', id, '--json'])).stdout);
  expect(aj.firstFailure).toMatchObject({ host: 'w1', task: 'Check nothing blocks this host', rc: 3, line: 8, module: 'shell' });

  const before = { builder: ws.lines('builder', `/tmp/${ws.tag}/log`), w1: ws.lines('w1', `/tmp/${ws.tag}/log`) };
  expect(before.w1).toEqual(['prepared', 'checked']);
  expect(before.builder).toEqual(['prepared', 'checked', expect.stringMatching(/^used token-builder-/)]);
  const firstJournal = ws.journalLines(id);
  const registered = firstJournal.find((l) => l.type === 'host.result' && l.host === 'w1' && l.task === 'Prepare the scratch dir') as { state: { registered: { stdout: string } } };
  const token = registered.state.registered.stdout;
  expect(token).toMatch(/^token-w1-[0-9a-f-]{36}$/);

  // The cause is fixed, but the playbook was edited: resume refuses, naming the file and both hashes.
  ws.sh('w1', `rm -f /tmp/${ws.tag}/block`);
  writeFileSync(pb, text + '# an edit after the run\n');
  const refused = await ws.tsplay(['resume', id]);
  expectExit(refused, 4);
  expect(refused.stderr).toContain('error resume/changed');
  expect(refused.stderr).toContain(`changed: ${pb}`);
  expect(refused.stderr).toContain(`recorded sha256 ${sha(text)}`);
  expect(refused.stderr).toContain(`now      sha256 ${sha(text + '# an edit after the run\n')}`);
  expect(ws.lines('w1', `/tmp/${ws.tag}/log`)).toEqual(before.w1);
  expect(ws.runIds()[0]).toBe(id);

  // Back as recorded: resume continues w1 from the failed task; builder is left alone.
  writeFileSync(pb, text);
  const resumed = await ws.tsplay(['resume', 'last']);
  expectExit(resumed, 0);
  expect(resumed.stdout).toContain('resuming w1: the host that failed or was unreachable');
  expect(resumed.stdout).toMatch(/note \[w1\]: already done in the resumed run: not run again/);
  expect(ws.lines('w1', `/tmp/${ws.tag}/log`)).toEqual(['prepared', 'checked', 'checked', `used ${token}`]);
  expect(ws.lines('builder', `/tmp/${ws.tag}/log`)).toEqual(before.builder);

  // The resume's journal is linked to its parent and carries the restored tasks.
  const [rid] = ws.runIds();
  expect(rid).not.toBe(id);
  const rj = ws.journalLines(rid);
  expect(rj[0]).toMatchObject({ type: 'journal.meta', parent: { runId: id, forced: [] } });
  const restored = rj.filter((l) => l.type === 'journal.restored').map((l) => `${l.host}:${l.task}`);
  expect(restored.sort()).toEqual(['builder:Check nothing blocks this host', 'builder:Prepare the scratch dir', 'builder:Use the registered result', 'w1:Prepare the scratch dir']);
  expect(rj.filter((l) => l.type === 'host.result').map((l) => `${l.host}:${l.task}:${l.status}`)).toEqual(['w1:Check nothing blocks this host:changed', 'w1:Use the registered result:changed']);
  expect(rj[rj.length - 1]).toMatchObject({ type: 'journal.end', outcome: 'ok', exitCode: 0 });

  // Nothing left to do.
  const again = await ws.tsplay(['resume', rid]);
  expectExit(again, 0);
  expect(again.stderr).toContain('finished ok: there is nothing to resume');
});

test('resume --force goes on after an edit and records what changed', async () => {
  const pb = ws.write('force.yml', playbook(`${ws.tag}/force`));
  ws.sh('w1', `mkdir -p /tmp/${ws.tag}/force && touch /tmp/${ws.tag}/force/block`);
  expectExit(await ws.tsplay(['run', '-i', ws.inventory, 'force.yml']), 2);
  const [id] = ws.runIds();
  ws.sh('w1', `rm -f /tmp/${ws.tag}/force/block`);
  writeFileSync(pb, readFileSync(pb, 'utf8') + '# edited\n');
  expectExit(await ws.tsplay(['resume', id]), 4);
  const forced = await ws.tsplay(['resume', id, '--force']);
  expectExit(forced, 0);
  expect(forced.stderr).toContain('resuming with --force although files changed since the run');
  expect(ws.lines('w1', `/tmp/${ws.tag}/force/log`)).toEqual(['prepared', 'checked', 'checked', expect.stringMatching(/^used token-w1-/)]);
  const meta = ws.journalLines(ws.runIds()[0])[0] as { parent: { runId: string; forced: { path: string; change: string }[] } };
  expect(meta.parent.runId).toBe(id);
  expect(meta.parent.forced).toEqual([expect.objectContaining({ path: pb, change: 'changed' })]);
});

test('a host that was unreachable (lab stop) is resumed after lab start; the hosts that finished are not touched', async () => {
  // w2 is the worker the lab's tests power off; this test has its own inventory with it.
  const wu = workspace('journal-unreachable', 'w2');
  wu.write('unreach.yml', playbook(`${wu.tag}/unreach`));
  try {
    await lab('stop', 'w2');
    const r = await wu.tsplay(['run', '-i', wu.inventory, 'unreach.yml', '--connect-timeout', '5']);
    expectExit(r, 3);
    const [id] = wu.runIds();
    const a = await wu.tsplay(['autopsy', id]);
    expect(a.stdout).toContain('host:     w2 (unreachable)');
    expect(a.stdout).toMatch(/unreachable hosts\n {2}w2 at 'Prepare the scratch dir'/);
    const builderLog = wu.lines('builder', `/tmp/${wu.tag}/unreach/log`);
    expect(builderLog).toEqual(['prepared', 'checked', expect.stringMatching(/^used token-builder-/)]);

    await lab('start', 'w2');
    const resumed = await wu.tsplay(['resume', id]);
    expectExit(resumed, 0);
    expect(wu.lines('w2', `/tmp/${wu.tag}/unreach/log`)).toEqual(['prepared', 'checked', expect.stringMatching(/^used token-w2-/)]);
    expect(wu.lines('builder', `/tmp/${wu.tag}/unreach/log`)).toEqual(builderLog);
  } finally {
    await lab('start', 'w2');
    wu.cleanup();
  }
});
