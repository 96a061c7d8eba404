/**
 * A variable's value never becomes shell syntax by accident. Hostile values (command substitution,
 * quote breaking, backticks, `;`) go through the command module (argv, no shell), through `shell`
 * inside {{#quote}}…{{/quote}}, and through `environment`; each reaches the program as one literal
 * argument, and none of the files the values try to create appears on the host (w1's /tmp is
 * <lab>/hosts/w1/tmp here) or on the controller. A control task proves those files would be seen.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { expectExit, runTsplay } from '../helpers/cli.js';
import { ensureLab, type Lab } from '../helpers/lab.js';
import { events } from '../helpers/background.js';

let l: Lab;
let dir: string;
let id: string;
let hostTmp: string;

beforeAll(async () => {
  l = await ensureLab();
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-injection-'));
  id = randomBytes(6).toString('hex');
  hostTmp = path.join(l.dir, 'hosts', 'w1', 'tmp');
});

afterAll(() => {
  for (const f of readdirSync(hostTmp)) if (f.includes(id)) rmSync(path.join(hostTmp, f), { force: true });
  rmSync(dir, { recursive: true, force: true });
});

/** Values that would each create /tmp/pwned-ID-N if they ever reached a shell as syntax. */
function hostile(): string[] {
  return [
    `$(touch /tmp/pwned-${id}-1); x`,
    `'; touch /tmp/pwned-${id}-2; '`,
    `\`touch /tmp/pwned-${id}-3\``,
    `"; touch /tmp/pwned-${id}-4; echo "`,
    `x && touch /tmp/pwned-${id}-5 # y`,
  ];
}

function pwned(): string[] {
  const here = (d: string) => (existsSync(d) ? readdirSync(d).filter((f) => f.startsWith(`pwned-${id}`)) : []);
  return [...here(hostTmp), ...here(os.tmpdir())];
}

test('command (argv), shell with {{#quote}}, and environment keep every hostile value one literal argument', async () => {
  const playbook = path.join(dir, 'literal.yml');
  writeFileSync(
    playbook,
    `- name: literal
  hosts: w1
  tasks:
    - name: control
      shell: touch /tmp/control-${id}
    - name: argv
      command:
        argv: [printf, "=%s=", "{{ item }}"]
      loop: "{{ values }}"
    - name: cmd quoted
      command: printf =%s= {{#quote}}{{ item }}{{/quote}}
      loop: "{{ values }}"
    - name: shell quoted
      shell: printf '=%s=' {{#quote}}{{ item }}{{/quote}}
      loop: "{{ values }}"
    - name: environment
      shell: printf '=%s=' "$HOSTILE"
      environment:
        HOSTILE: "{{ item }}"
      loop: "{{ values }}"
`,
  );
  const values = hostile();
  const r = await runTsplay(['run', '-i', l.inventory, '--json', '-e', JSON.stringify({ values }), playbook], { timeoutMs: 120_000 });
  expectExit(r, 0);
  // A loop's items run one after another; their live output, in order, is each value framed by '='.
  const out = events(r.stdout).filter((e) => e.type === 'host.output' && e.stream === 'stdout');
  for (const task of ['argv', 'cmd quoted', 'shell quoted', 'environment']) {
    const got = out.filter((e) => e.task === task).map((e) => String(e.text)).join('');
    expect([task, got]).toEqual([task, values.map((v) => `=${v}=`).join('')]);
  }
  // The control shows the check can see a file made on w1; nothing hostile ran.
  expect(existsSync(path.join(hostTmp, `control-${id}`))).toBe(true);
  expect(pwned()).toEqual([]);
});

test('command without a quote section refuses values that carry shell operators, and runs nothing', async () => {
  const playbook = path.join(dir, 'unquoted.yml');
  writeFileSync(
    playbook,
    `- name: unquoted
  hosts: w1
  tasks:
    - name: cmd unquoted
      command: printf =%s= {{ item }}
      loop: "{{ values }}"
      ignore_errors: true
`,
  );
  const values = hostile();
  const r = await runTsplay(['run', '-i', l.inventory, '--json', '-e', JSON.stringify({ values }), playbook], { timeoutMs: 120_000 });
  expectExit(r, 0);
  const results = events(r.stdout).filter((e) => e.type === 'host.result');
  expect(results).toHaveLength(1);
  // Each item either failed with the operator message or printed its words literally; none ran anything.
  const msg = String(results[0]!.msg);
  expect(msg).toMatch(/items failed: command does not run a shell, so `.+` would be passed as a plain argument/);
  expect(pwned()).toEqual([]);
});
