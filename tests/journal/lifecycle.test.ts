/**
 * `tsplay lifecycle` with five small stage playbooks of the test's own, against the lab: every
 * stage validated before the first runs, stages in order with banners, a stop at the first failing
 * stage (named, with its exit code), and `resume` starting again at that stage.
 */
import { ensureLab } from '../helpers/lab.js';
import { expectExit } from '../helpers/cli.js';
import { workspace, type Workspace } from './workspace.js';

const STAGES = ['power-on', 'post-power-on-validate', 'pump-preflight', 'pump-start', 'kernel-build'];
let ws: Workspace;

/** Stage playbooks in DIR: each appends its name to a log on every host; pump-preflight fails on a planted file. */
function writeStages(dir: string, log: string, block: string, extra: Partial<Record<string, string>> = {}): void {
  for (const s of STAGES) {
    const reg = s.replace(/-/g, '_');
    let text = `- name: stage ${s}
  hosts: all
  tasks:
    - name: ${s} step
      shell: mkdir -p $(dirname ${log}) && echo ${s} >> ${log} && echo ${s}-$(hostname)-$(cat /proc/sys/kernel/random/uuid)
      register: ${reg}_out
`;
    if (s === 'pump-preflight') {
      text += `
    - name: Clear stale include servers
      shell: if [ -e ${block} ]; then echo "stale include server holds ${block}" >&2; exit 1; fi
`;
    }
    if (s === 'kernel-build') {
      text += `
    - name: Use what power-on registered
      shell: echo "used {{ power_on_out.stdout }}" >> ${log}
`;
    }
    ws.write(`${dir}/${s}.yml`, extra[s] ?? text);
  }
}

beforeAll(async () => {
  await ensureLab();
  ws = workspace('journal-lifecycle');
});

afterAll(() => ws?.cleanup());

test('the lifecycle stops at the first failing stage, naming it; resume starts again at that stage', async () => {
  const log = `/tmp/${ws.tag}/lc/log`;
  const block = `/tmp/${ws.tag}/lc/block`;
  writeStages('stages', log, block);
  ws.sh('w1', `mkdir -p /tmp/${ws.tag}/lc && touch ${block}`);

  const r = await ws.tsplay(['lifecycle', '-i', ws.inventory, '--playbooks', 'stages']);
  expectExit(r, 2);
  expect(r.stdout).toContain("lifecycle stopped at stage 3/5 pump-preflight: w1 failed task 'Clear stale include servers'");
  for (const [i, s] of STAGES.entries()) {
    const banner = `STAGE ${i + 1}/5 ${s} `;
    if (i < 3) expect(r.stdout).toContain(banner);
    else expect(r.stdout).not.toContain(banner);
  }
  expect(r.stdout.indexOf('STAGE 1/5')).toBeLessThan(r.stdout.indexOf('STAGE 2/5'));
  expect(r.stdout).toContain('stage 2/5 post-power-on-validate ok');
  expect(ws.lines('w1', log)).toEqual(['power-on', 'post-power-on-validate', 'pump-preflight']);
  expect(ws.lines('builder', log)).toEqual(['power-on', 'post-power-on-validate', 'pump-preflight']);

  const [id] = ws.runIds();
  const row = JSON.parse((await ws.tsplay(['runs', '--json'])).stdout.split('\n')[0]);
  expect(row).toMatchObject({ id, kind: 'lifecycle', outcome: 'failed', failed: ['w1'], stage: '3/5 pump-preflight' });

  const a = await ws.tsplay(['autopsy', 'last']);
  expectExit(a, 0);
  expect(a.stdout).toMatch(/3\/5 pump-preflight\s+failed/);
  expect(a.stdout).toMatch(/4\/5 pump-start\s+not run/);
  expect(a.stdout).toContain('host:     w1');
  expect(a.stdout).toContain("task:     'Clear stale include servers' (play 'stage pump-preflight', stage pump-preflight)");
  expect(a.stdout).toMatch(/at:\s+\S+\/stages\/pump-preflight\.yml:8:7/);
  expect(a.stdout).toContain(`| stale include server holds ${block}`);

  const token = (ws.journalLines(id).find((l) => l.type === 'host.result' && l.host === 'w1' && l.task === 'power-on step') as { state: { registered: { stdout: string } } }).state.registered.stdout;

  ws.sh('w1', `rm -f ${block}`);
  const resumed = await ws.tsplay(['resume', id]);
  expectExit(resumed, 0);
  expect(resumed.stdout).not.toContain('STAGE 1/5');
  expect(resumed.stdout).not.toContain('STAGE 2/5');
  expect(resumed.stdout).toContain('STAGE 3/5 pump-preflight');
  expect(resumed.stdout).toContain('stage 5/5 kernel-build ok');
  expect(resumed.stdout).toContain(`lifecycle resumes at stage 3/5 pump-preflight: the stages before it succeeded in run ${id}`);
  // w1: stages 1-2 and stage 3's first task were not run again; power-on's registered result came from the journal.
  expect(ws.lines('w1', log)).toEqual(['power-on', 'post-power-on-validate', 'pump-preflight', 'pump-start', 'kernel-build', `used ${token}`]);
  // builder had finished stage 3: it only runs stages 4 and 5.
  expect(ws.lines('builder', log)).toEqual(['power-on', 'post-power-on-validate', 'pump-preflight', 'pump-start', 'kernel-build', expect.stringMatching(/^used power-on-builder-/)]);

  const rj = ws.journalLines(ws.runIds()[0]);
  expect(rj[0]).toMatchObject({ kind: 'lifecycle', parent: { runId: id, fromStage: 'pump-preflight' } });
  expect((rj[0] as { stages: { name: string; selected: boolean }[] }).stages.map((s) => s.selected)).toEqual([false, false, true, true, true]);
  expect(rj.filter((l) => l.type === 'stage.start').map((l) => l.stage)).toEqual(['pump-preflight', 'pump-start', 'kernel-build']);
});

test('every stage is validated before the first runs: an error in kernel-build means nothing runs', async () => {
  const log = `/tmp/${ws.tag}/invalid/log`;
  writeStages('invalid', log, `/tmp/${ws.tag}/invalid/block`, {
    'kernel-build': `- name: broken
  hosts: all
  tasks:
    - name: a module that does not exist
      no_such_module: {}
`,
  });
  const runsBefore = ws.runIds().length;
  const r = await ws.tsplay(['lifecycle', '-i', ws.inventory, '--playbooks', 'invalid']);
  expectExit(r, 4);
  expect(r.stderr).toMatch(/invalid\/kernel-build\.yml:5:7: error \S+/);
  expect(r.stderr).toContain('nothing was run');
  expect(r.stdout).not.toContain('STAGE 1/5');
  expect(ws.lines('builder', log)).toEqual([]);
  expect(ws.runIds().length).toBe(runsBefore);
});

test('a missing stage playbook and a bad stage name are reported before anything runs', async () => {
  ws.write('partial/power-on.yml', '- hosts: all\n  tasks: []\n');
  const r = await ws.tsplay(['lifecycle', '-i', ws.inventory, '--playbooks', 'partial']);
  expectExit(r, 4);
  expect(r.stderr).toContain('error lifecycle/missing-stage: stage post-power-on-validate');
  expect(r.stderr).toContain('error lifecycle/missing-stage: stage kernel-build');
  const bad = await ws.tsplay(['lifecycle', '-i', ws.inventory, '--playbooks', 'partial', '--from', 'pump-stop']);
  expectExit(bad, 5);
  expect(bad.stderr).toContain('cli/unknown-stage');
  expect(bad.stderr).toContain('power-on, post-power-on-validate, pump-preflight, pump-start, kernel-build');
});

test('--from/--to run a range of stages; --json carries the stage events', async () => {
  const log = `/tmp/${ws.tag}/range/log`;
  writeStages('range', log, `/tmp/${ws.tag}/range/block`);
  const r = await ws.tsplay(['lifecycle', '-i', ws.inventory, '--playbooks', 'range', '--from', 'post-power-on-validate', '--to', '4', '--json']);
  expectExit(r, 0);
  const events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  expect(events.filter((e) => e.type === 'stage.start').map((e) => `${e.index}/${e.total} ${e.stage}`)).toEqual(['2/5 post-power-on-validate', '3/5 pump-preflight', '4/5 pump-start']);
  expect(events.filter((e) => e.type === 'stage.end').every((e) => e.outcome === 'ok')).toBe(true);
  expect(ws.lines('w1', log)).toEqual(['post-power-on-validate', 'pump-preflight', 'pump-start']);
});
