/**
 * The real CLI against the real lab hosts: several hosts at once, failing tasks, handlers,
 * loop/register/until, when, run_once, delegate_to localhost, limits, tags, extra vars and the
 * --json event stream. Light tasks only (cm3 takes part, but never in anything heavy).
 */
import os from 'node:os';
import type { EngineEvent } from '../../engine/events.js';
import { EXIT } from '../../cli/exit-codes.js';
import { expectExit, runTsplay } from '../helpers/cli.js';
import { ensureLab, type Lab } from '../helpers/lab.js';
import { hostFile, recap, results, runJson, scratch, statuses, type Scratch } from './support.js';

let lab: Lab;
let s: Scratch;
const HOSTS = ['builder', 'w1'];

beforeAll(async () => {
  lab = await ensureLab();
  s = scratch(lab, 'run');
});
afterAll(() => s?.cleanup([...HOSTS, 'cm3']));

const inv = () => ['-i', lab.inventory];

test('several hosts at once: every host runs every task, recap and exit 0', async () => {
  const pb = s.write(
    'several.yml',
    `- name: several
  hosts: cm3:builder:w1
  tasks:
    - name: where am I
      command: uname -n
      register: me
    - name: say it
      debug:
        msg: "{{ inventory_hostname }} is {{ me.stdout }}"
`,
  );
  const r = await runJson([pb, ...inv()]);
  expectExit(r, EXIT.OK);
  expect(statuses(r.events, 'where am I')).toEqual({ cm3: 'changed', builder: 'changed', w1: 'changed' });
  expect(Object.fromEntries(results(r.events, 'say it').map((e) => [e.host, e.msg]))).toEqual({ cm3: 'cm3 is cm3', builder: 'builder is builder', w1: 'w1 is w1' });
  const rc = recap(r.events);
  for (const h of ['cm3', 'builder', 'w1']) expect(rc[h]).toMatchObject({ ok: 2, changed: 1, failed: 0, unreachable: 0 });
  // The plain reporter prints the same recap.
  const plain = await runTsplay(['run', pb, ...inv()]);
  expectExit(plain, EXIT.OK);
  expect(plain.stdout).toMatch(/PLAY RECAP/);
  expect(plain.stdout).toMatch(/^w1\s+: ok=2\s+changed=1\s+unreachable=0\s+failed=0\s+skipped=0\s+ignored=0/m);
});

test('a failing task: the host leaves the play, the others go on; ignore_errors keeps a host in; exit 2', async () => {
  const pb = s.write(
    'failing.yml',
    `- hosts: builder:w1
  tasks:
    - name: only builder survives
      shell: test {{ inventory_hostname }} != w1
    - name: after the failure
      command: echo still here
    - name: ignored failure
      command: "false"
      ignore_errors: true
    - name: after the ignored failure
      command: echo still here
`,
  );
  const r = await runJson([pb, ...inv()]);
  expectExit(r, EXIT.HOST_FAILED);
  expect(statuses(r.events, 'only builder survives')).toEqual({ builder: 'changed', w1: 'failed' });
  expect(results(r.events, 'only builder survives').find((e) => e.host === 'w1')!.msg).toMatch(/exited with 1/);
  expect(statuses(r.events, 'after the failure')).toEqual({ builder: 'changed' });
  expect(statuses(r.events, 'ignored failure')).toEqual({ builder: 'ignored' });
  expect(statuses(r.events, 'after the ignored failure')).toEqual({ builder: 'changed' });
  const rc = recap(r.events);
  expect(rc.w1).toMatchObject({ ok: 0, failed: 1 });
  expect(rc.builder).toMatchObject({ ok: 3, changed: 3, failed: 0, ignored: 1 });
});

test('handlers run once at the end, only on the hosts that notified them; not when nothing changed', async () => {
  const dir = `${s.remote}/handlers`;
  const pb = s.write(
    'handlers.yml',
    `- hosts: builder:w1
  tasks:
    - name: prepare
      command: mkdir -p ${dir}
      changed_when: false
    - name: changes on w1 only
      command: "true"
      changed_when: inventory_hostname == 'w1'
      notify: record
    - name: changes on w1 again
      command: "true"
      changed_when: inventory_hostname == 'w1'
      notify: record
    - name: never changes
      command: "true"
      changed_when: false
      notify: never
    - name: last task
      command: "true"
  handlers:
    - name: record
      shell: echo ran >> ${dir}/record
    - name: never
      shell: echo ran >> ${dir}/never
`,
  );
  const r = await runJson([pb, ...inv()]);
  expectExit(r, EXIT.OK);
  expect(statuses(r.events, 'record')).toEqual({ w1: 'changed' });
  expect(results(r.events, 'never')).toEqual([]);
  // Once, and after every task of the play.
  expect(hostFile(lab, 'w1', `${dir}/record`)).toBe('ran\n');
  expect(hostFile(lab, 'builder', `${dir}/record`)).toBeUndefined();
  expect(hostFile(lab, 'w1', `${dir}/never`)).toBeUndefined();
  const order = r.events.filter((e) => e.type === 'task.start').map((e) => (e as Extract<EngineEvent, { type: 'task.start' }>).task);
  expect(order).toEqual(['prepare', 'changes on w1 only', 'changes on w1 again', 'never changes', 'last task', 'record']);
  expect(r.events.find((e) => e.type === 'task.start' && e.task === 'record')).toMatchObject({ handler: true, hosts: ['w1'] });
});

test('loop, register, until/retries and when', async () => {
  const dir = `${s.remote}/loop`;
  const pb = s.write(
    'loop.yml',
    `- hosts: builder:w1
  tasks:
    - name: prepare
      command: mkdir -p ${dir}
      changed_when: false
    - name: echo items
      command: echo {{ item }}
      loop: [alpha, beta, gamma]
      register: echoed
    - name: second item
      debug:
        msg: "{{ echoed.results.1.stdout }} of {{ echoed.results.2.item }}"
    - name: count to three
      shell: n=$(cat ${dir}/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${dir}/n; echo $n
      register: counter
      until: counter.stdout == '3'
      retries: 5
      delay: 0
    - name: show attempts
      debug:
        msg: "{{ counter.attempts }}"
    - name: give up
      command: echo never
      register: nope
      until: nope.stdout == 'always'
      retries: 1
      delay: 0
      ignore_errors: true
    - name: only on w1
      command: echo w1
      when: inventory_hostname == 'w1' and counter.attempts == 3
`,
  );
  const r = await runJson([pb, ...inv()]);
  expectExit(r, EXIT.OK);
  for (const h of HOSTS) {
    const loop = results(r.events, 'echo items').find((e) => e.host === h)!;
    expect(loop.status).toBe('changed');
  }
  expect(results(r.events, 'second item').map((e) => e.msg)).toEqual(['beta of gamma', 'beta of gamma']);
  expect(results(r.events, 'count to three').map((e) => e.attempts)).toEqual([3, 3]);
  expect(results(r.events, 'show attempts').map((e) => e.msg)).toEqual(['3', '3']);
  expect(hostFile(lab, 'w1', `${dir}/n`)).toBe('3\n');
  const gaveUp = results(r.events, 'give up');
  expect(gaveUp.map((e) => e.status)).toEqual(['ignored', 'ignored']);
  expect(gaveUp[0].msg).toMatch(/retries exhausted: until `nope.stdout == 'always'` still false after 2 attempts/);
  expect(statuses(r.events, 'only on w1')).toEqual({ builder: 'skipped', w1: 'changed' });
});

test('run_once runs on one host and its result stands for all; delegate_to localhost runs on the controller', async () => {
  const pb = s.write(
    'once.yml',
    `- hosts: builder:w1
  tasks:
    - name: once
      command: uname -n
      run_once: true
      register: first
    - name: everyone sees it
      debug:
        msg: "{{ first.stdout }}"
    - name: on the controller
      command: uname -n
      delegate_to: localhost
      register: ctl
    - name: controller name
      debug:
        msg: "{{ ctl.stdout }}"
`,
  );
  const r = await runJson([pb, ...inv()]);
  expectExit(r, EXIT.OK);
  const once = results(r.events, 'once');
  expect(once).toHaveLength(1);
  expect(results(r.events, 'everyone sees it').map((e) => [e.host, e.msg])).toEqual([
    ['builder', once[0].host],
    ['w1', once[0].host],
  ]);
  expect(results(r.events, 'controller name').map((e) => e.msg)).toEqual([os.hostname(), os.hostname()]);
  expect(statuses(r.events, 'on the controller')).toEqual({ builder: 'changed', w1: 'changed' });
});

test('-l limits the hosts; -t and --skip-tags select tasks', async () => {
  const pb = s.write(
    'tags.yml',
    `- hosts: builder:w1
  tasks:
    - name: build step
      command: "true"
      tags: [build]
    - name: check step
      command: "true"
      tags: [check]
    - name: untagged
      command: "true"
    - name: always step
      command: "true"
      tags: [always]
`,
  );
  const limited = await runJson([pb, ...inv(), '-l', 'w1']);
  expectExit(limited, EXIT.OK);
  expect(Object.keys(recap(limited.events))).toEqual(['w1']);
  expect(new Set(results(limited.events).map((e) => e.host))).toEqual(new Set(['w1']));

  const tagged = await runJson([pb, ...inv(), '-l', 'w1', '-t', 'build']);
  expectExit(tagged, EXIT.OK);
  expect(results(tagged.events).map((e) => e.task)).toEqual(['build step', 'always step']);

  const skipped = await runJson([pb, ...inv(), '-l', 'w1', '--skip-tags', 'build,always']);
  expectExit(skipped, EXIT.OK);
  expect(results(skipped.events).map((e) => e.task)).toEqual(['check step', 'untagged']);

  const unknown = await runTsplay(['run', pb, ...inv(), '-l', 'w9']);
  expectExit(unknown, EXIT.INVALID);
  expect(unknown.stderr).toContain('cli/unknown-limit');
});

test('-e k=v and -e @file beat every other variable; the later -e wins', async () => {
  const pb = s.write(
    'vars.yml',
    `- hosts: w1
  vars:
    a: play
    b: play
    c: play
  tasks:
    - set_fact:
        b: fact
    - name: show
      debug:
        msg: "a={{ a }} b={{ b }} c={{ c }} d={{ d }} memory={{ memory_mb }}"
      vars:
        c: task
        d: task
`,
  );
  const file = s.write('extra.yml', 'a: file\nd: file\n');
  const show = async (...e: string[]) => {
    const r = await runJson([pb, ...inv(), ...e]);
    expectExit(r, EXIT.OK);
    return results(r.events, 'show')[0].msg;
  };
  expect(await show()).toBe('a=play b=fact c=task d=task memory=4096');
  expect(await show('-e', 'b=cli c=cli', '-e', 'memory_mb=1')).toBe('a=play b=cli c=cli d=task memory=1');
  expect(await show('-e', `@${file}`)).toBe('a=file b=fact c=task d=file memory=4096');
  expect(await show('-e', `@${file}`, '-e', 'a=cli')).toBe('a=cli b=fact c=task d=file memory=4096');
  expect(await show('-e', 'a=cli', '-e', `@${file}`)).toBe('a=file b=fact c=task d=file memory=4096');
});

test('--json: one JSON object per line, in the documented shape', async () => {
  const pb = s.write(
    'json.yml',
    `- name: json play
  hosts: w1
  tasks:
    - name: say
      command: echo hello
`,
  );
  const r = await runJson([pb, ...inv()]);
  expectExit(r, EXIT.OK);
  expect(r.stderr).toBe('');
  const shapes: Record<string, { required: string[]; optional: string[] }> = {
    'run.start': { required: ['runId', 'playbooks', 'check'], optional: [] },
    'play.start': { required: ['play', 'playIndex', 'hosts'], optional: ['playbook'] },
    'task.start': { required: ['play', 'task', 'taskIndex', 'module', 'hosts'], optional: ['handler', 'taskId'] },
    'host.start': { required: ['task', 'taskIndex', 'host'], optional: ['item', 'taskId'] },
    'host.output': { required: ['task', 'taskIndex', 'host', 'stream', 'text'], optional: ['taskId'] },
    'host.result': { required: ['task', 'taskIndex', 'host', 'status', 'changed', 'durationMs'], optional: ['msg', 'rc', 'stdout', 'stderr', 'command', 'diff', 'attempts', 'item', 'code', 'taskId', 'state'] },
    decision: { required: ['message'], optional: ['task', 'taskIndex', 'host', 'data', 'taskId'] },
    'task.end': { required: ['task', 'taskIndex'], optional: [] },
    'play.end': { required: ['play', 'playIndex'], optional: [] },
    'run.end': { required: ['runId', 'outcome', 'durationMs', 'recap'], optional: [] },
  };
  for (const e of r.events) {
    const shape = shapes[e.type];
    expect(shape).toBeDefined();
    const keys = Object.keys(e).filter((k) => k !== 'type' && k !== 'time');
    for (const k of shape.required) expect(keys).toContain(k);
    for (const k of keys) expect([...shape.required, ...shape.optional]).toContain(k);
    expect(Number.isNaN(Date.parse(e.time))).toBe(false);
  }
  expect(r.events[0].type).toBe('run.start');
  expect(r.events.at(-1)!.type).toBe('run.end');
  const types = r.events.map((e) => e.type).filter((t) => t !== 'decision' && t !== 'host.output');
  expect(types).toEqual(['run.start', 'play.start', 'task.start', 'host.start', 'host.result', 'task.end', 'play.end', 'run.end']);
  expect(results(r.events, 'say')[0]).toMatchObject({ host: 'w1', status: 'changed', changed: true, rc: 0, stdout: 'hello', command: 'echo hello' });
  expect(r.events.at(-1)).toMatchObject({ outcome: 'ok', recap: { w1: { ok: 1, changed: 1, unreachable: 0, failed: 0, skipped: 0, ignored: 0 } } });
});
