/**
 * template and copy through the real CLI on lab hosts: check mode leaves the host alone, --diff
 * shows the change, a second run changes nothing, secrets get exactly their mode, and template
 * problems are reported with the template file's line and column.
 */
import { EXIT } from '../../cli/exit-codes.js';
import { expectExit, runTsplay } from '../helpers/cli.js';
import { ensureLab, type Lab } from '../helpers/lab.js';
import { hostFile, hostMode, recap, results, runJson, scratch, statuses, type Scratch } from './support.js';

let lab: Lab;
let s: Scratch;
const HOSTS = ['builder', 'w1'];

beforeAll(async () => {
  lab = await ensureLab();
  s = scratch(lab, 'files');
  s.write(
    'templates/distccd.conf.mustache',
    `# {{ inventory_hostname }} — managed by tsplay
ALLOWEDNETS="{{ allowed_net }}"
JOBS={{ jobs }}
{{#listen}}LISTENER="{{ . }}"
{{/listen}}NOTE="{{ note }}"
`,
  );
  s.write(
    'site.yml',
    `- hosts: builder:w1
  vars:
    allowed_net: 10.177.0.0/24
    jobs: 14
    listen: [0.0.0.0]
    note: "a<b & c>d"
  tasks:
    - name: directory
      command: mkdir -p ${s.remote}
      changed_when: false
    - name: distccd conf
      template:
        src: distccd.conf.mustache
        dest: ${s.remote}/distccd.conf
        mode: '0644'
    - name: pump secret
      copy:
        content: "PUMP_TOKEN={{ token }}\\n"
        dest: ${s.remote}/pump.env
        mode: '0600'
      no_log: true
`,
  );
});
afterAll(() => s?.cleanup(HOSTS));

const site = () => [`${s.dir}/site.yml`, '-i', lab.inventory, '-e', 'token=t0k3n'];

test('first run writes the files, a second run changes nothing', async () => {
  const first = await runJson(site());
  expectExit(first, EXIT.OK);
  expect(statuses(first.events, 'distccd conf')).toEqual({ builder: 'changed', w1: 'changed' });
  expect(statuses(first.events, 'pump secret')).toEqual({ builder: 'changed', w1: 'changed' });
  expect(hostFile(lab, 'w1', `${s.remote}/distccd.conf`)).toBe(
    '# w1 — managed by tsplay\nALLOWEDNETS="10.177.0.0/24"\nJOBS=14\nLISTENER="0.0.0.0"\nNOTE="a<b & c>d"\n',
  );
  expect(hostFile(lab, 'builder', `${s.remote}/distccd.conf`)).toMatch(/^# builder — managed by tsplay\n/);
  expect(hostMode(lab, 'w1', `${s.remote}/distccd.conf`)).toBe(0o644);
  expect(hostFile(lab, 'w1', `${s.remote}/pump.env`)).toBe('PUMP_TOKEN=t0k3n\n');
  expect(hostMode(lab, 'w1', `${s.remote}/pump.env`)).toBe(0o600);
  // no_log hides what the secret task did, in every event.
  expect(first.stdout).not.toContain('t0k3n');

  const second = await runJson(site());
  expectExit(second, EXIT.OK);
  for (const h of HOSTS) expect(recap(second.events)[h]).toMatchObject({ ok: 3, changed: 0, failed: 0 });
  expect(results(second.events, 'distccd conf')[0].msg).toMatch(/is up to date$/);
});

test('-C reports what would change and leaves the host untouched; -D shows the diff', async () => {
  expectExit(await runTsplay(['run', ...site()]), EXIT.OK);
  const before = hostFile(lab, 'w1', `${s.remote}/distccd.conf`);
  const r = await runTsplay(['run', ...site(), '-C', '-D', '-e', 'jobs=12', '-l', 'w1']);
  expectExit(r, EXIT.OK);
  expect(r.stdout).toMatch(/changed: \[w1\] .* would update \/tmp\/tsplay-it-files-\w+\/distccd\.conf \(content\)/);
  expect(r.stdout).toContain(`--- before: ${s.remote}/distccd.conf`);
  expect(r.stdout).toContain(`+++ after: ${s.remote}/distccd.conf`);
  expect(r.stdout).toMatch(/- JOBS=14\n\s+\+ JOBS=12\n/);
  expect(r.stdout).toMatch(/^w1\s+: ok=2\s+changed=1\s+unreachable=0\s+failed=0\s+skipped=1\s/m);
  // Untouched on the host: read it from the host's own /tmp and over SSH.
  expect(hostFile(lab, 'w1', `${s.remote}/distccd.conf`)).toBe(before);
  const cat = s.write('cat.yml', `- hosts: w1\n  tasks:\n    - name: read\n      command: cat ${s.remote}/distccd.conf\n`);
  const read = await runJson([cat, '-i', lab.inventory]);
  expectExit(read, EXIT.OK);
  expect(results(read.events, 'read')[0].stdout).toContain('JOBS=14\n');

  // --json carries the diff as data.
  const j = await runJson([...site(), '-C', '-D', '-e', 'jobs=12', '-l', 'w1']);
  expect(results(j.events, 'distccd conf')[0].diff).toEqual({ path: `${s.remote}/distccd.conf`, before, after: before!.replace('JOBS=14', 'JOBS=12') });
  // The secret's diff is hidden by no_log.
  const secret = await runJson([...site(), '-C', '-D', '-e', 'token=other', '-l', 'w1']);
  expect(results(secret.events, 'pump secret')[0]).toMatchObject({ status: 'changed' });
  expect(results(secret.events, 'pump secret')[0].diff).toBeUndefined();
  expect(secret.stdout).not.toMatch(/t0k3n|other/);
});

test('a mode change alone is a change, and the secret is never left readable', async () => {
  expectExit(await runTsplay(['run', ...site(), '-l', 'w1']), EXIT.OK);
  const chmod = s.write('loosen.yml', `- hosts: w1\n  tasks:\n    - command: chmod 0644 ${s.remote}/pump.env\n`);
  expectExit(await runTsplay(['run', chmod, '-i', lab.inventory]), EXIT.OK);
  expect(hostMode(lab, 'w1', `${s.remote}/pump.env`)).toBe(0o644);
  const r = await runJson([...site(), '-l', 'w1']);
  expectExit(r, EXIT.OK);
  expect(results(r.events, 'pump secret')[0]).toMatchObject({ status: 'changed' });
  expect(hostMode(lab, 'w1', `${s.remote}/pump.env`)).toBe(0o600);
});

test('an undefined variable in a template file: exit 4 with the template file:line:col, nothing run', async () => {
  const marker = `${s.remote}/marker-undefined`;
  s.write('templates/broken.mustache', 'ok={{ allowed_net }}\n\nbad= {{ no_such_var }}\n');
  const pb = s.write(
    'broken.yml',
    `- hosts: builder:w1
  vars:
    allowed_net: x
  tasks:
    - name: would leave a marker
      shell: mkdir -p ${s.remote} && touch ${marker}
    - name: broken template
      template:
        src: broken.mustache
        dest: ${s.remote}/broken.conf
`,
  );
  for (const cmd of ['run', 'check']) {
    const r = await runTsplay([cmd, pb, '-i', lab.inventory]);
    expectExit(r, EXIT.INVALID);
    expect(r.stderr).toMatch(/templates\/broken\.mustache:3:6: error template\/undefined-variable: task "broken template": template \S*broken\.mustache uses `no_such_var`, which is not defined for hosts? builder\b/);
    expect(r.stderr).toContain('  3 | bad= {{ no_such_var }}');
    expect(r.stderr).toMatch(/nothing was run/);
  }
  for (const h of HOSTS) expect(hostFile(lab, h, marker)).toBeUndefined();
});

test('an undefined variable in a task string and a missing template: exit 4 pointing into the playbook', async () => {
  const marker = `${s.remote}/marker-task`;
  const pb = s.write(
    'task-var.yml',
    `- hosts: w1
  tasks:
    - name: would leave a marker
      shell: mkdir -p ${s.remote} && touch ${marker}
    - name: echo it
      command: echo {{ undefined_thing }}
    - name: missing template
      template: { src: nowhere.mustache, dest: /tmp/x }
`,
  );
  const r = await runTsplay(['run', pb, '-i', lab.inventory]);
  expectExit(r, EXIT.INVALID);
  expect(r.stderr).toMatch(/task-var\.yml:6:21: error template\/undefined-variable: task "echo it": `undefined_thing` is not defined for host w1/);
  expect(r.stderr).toMatch(/task-var\.yml:8:24: error template\/missing-src: task "missing template": template source "nowhere\.mustache" does not exist/);
  expect(hostFile(lab, 'w1', marker)).toBeUndefined();
});

test('a template error only knowable at run time fails that host with file:line:col', async () => {
  s.write('templates/late.mustache', 'rc={{ probe.rc }}\nmissing={{ probe.no_such_field }}\n');
  const pb = s.write(
    'late.yml',
    `- hosts: w1
  tasks:
    - name: probe
      command: "true"
      register: probe
    - name: late template
      template:
        src: late.mustache
        dest: ${s.remote}/late.conf
`,
  );
  const r = await runJson([pb, '-i', lab.inventory]);
  expectExit(r, EXIT.HOST_FAILED);
  const [res] = results(r.events, 'late template');
  expect(res).toMatchObject({ status: 'failed', code: 'template/undefined-variable' });
  expect(res.msg).toMatch(/templates\/late\.mustache:2:9: 'probe\.no_such_field' is undefined/);
  expect(hostFile(lab, 'w1', `${s.remote}/late.conf`)).toBeUndefined();
});
