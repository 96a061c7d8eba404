/**
 * make-jobserver against the real lab builder through the real CLI: a generated C project built
 * through distcc (the workers' distccd logs show the compiles), -j14 by default, -j12 when the
 * host is throttled, one token pool shared by concurrent makes (never more than 14 jobs), SIGINT
 * leaving no make or cc1 behind, and the parse-time refusals (cm3, -j32) with no host contacted.
 */
import { readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { parse as parseYaml } from 'yaml';
import { ensureLab, type Lab } from '../helpers/lab.js';
import { runTsplay } from '../helpers/cli.js';
import { decisions, expectOk, maxConcurrency, onHost, result, runPlay, scratch, shown, sleepMakefile, startPlay, writePlay, block } from './build-lab.js';

let lab: Lab;
let dir: string;
const tag = `tsplay-mj-${process.pid}`;
const root = `/srv/build/${tag}`;

beforeAll(async () => {
  lab = await ensureLab();
  dir = scratch('make-jobserver-test');
});

afterAll(async () => {
  await onHost(lab.inventory, 'builder', `rm -rf ${root}`, dir).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

function plainHosts(): string {
  const m = parseYaml(readFileSync(lab.manifest, 'utf8')) as { workers: { host: string; address?: string; port?: number; jobs?: number; options?: string[] }[] };
  return m.workers.map((w) => `${w.address ?? w.host}:${w.port ?? 3632}/${w.jobs ?? 4}${(w.options ?? ['cpp', 'lzo']).filter((o) => o !== 'cpp').map((o) => ',' + o).join('')}`).join(' ');
}

interface BuildResult {
  rc: number;
  jobs: number;
  load: number;
  level: string;
  jobserver: string;
  make_version: string;
  pump: boolean;
  distcc_hosts: string;
  throttled: boolean;
  duration_s: number;
  error_lines: string[];
}

test('builds a generated 16-file C project through distcc on the workers, at -j14 under the tsplay pool', async () => {
  const d = `${root}/c`;
  const makefile = ['.RECIPEPREFIX = >', 'OBJS := $(patsubst %.c,%.o,$(wildcard *.c))', 'prog: $(OBJS)', '> gcc -o $@ $^', '%.o: %.c common.h', '> @echo "flags[$(MAKEFLAGS)]"', '> $(CC) -c $< -o $@', ''].join('\n');
  const pb = writePlay(
    dir,
    'c-project.yml',
    `- name: a small C project through distcc
  hosts: builder
  tasks:
    - name: generate
      shell: |
        set -e
        rm -rf ${d}; mkdir -p ${d}; cd ${d}
        printf '#define K 3\\n' >common.h
        for i in $(seq 1 16); do printf '#include "common.h"\\nint f%d(int x) { return x * K + %d; }\\n' $i $i >${tag}_f$i.c; done
        printf 'int main(void) { return 0; }\\n' >${tag}_main.c
        cat >Makefile <<'MK'
${block(makefile, 8)}
        MK
    - name: build
      make-jobserver:
        chdir: ${d}
        target: prog
        variables: { CC: "distcc gcc" }
      register: b
    - { name: show b, debug: { var: b } }
    - { name: built, shell: "test -x ${d}/prog && ls ${d}/*.o | wc -l" }
- name: the workers' side
  hosts: workers
  tasks:
    - name: compiles
      shell: "grep -c 'COMPILE_OK.* ${tag}_' /var/log/distccd.log || true"
`,
  );
  const run = await runPlay(lab.inventory, pb);
  expectOk(run);
  const { ev } = run;
  const b = shown<BuildResult>(ev, 'b');
  expect(b).toMatchObject({ rc: 0, jobs: 14, load: 14, level: 'production', jobserver: 'tsplay-pool:/run/tsplay/jobserver/pool.fifo', pump: false, distcc_hosts: plainHosts(), throttled: false });
  expect(b.make_version).toMatch(/^GNU Make 4\.\d/);
  expect(result(ev, 'built').stdout).toBe('17');
  // The doctrine's value is what the run reports (JSON events) and what make was given.
  const made = decisions(ev, 'build').find((x) => x.message!.startsWith('make: '))!;
  expect(made.message).toMatch(/^make: -j14 \(production\) under tsplay-pool:\/run\/tsplay\/jobserver\/pool\.fifo \(14 tokens/);
  expect(made.data).toMatchObject({ jobs: 14, load: 14, level: 'production' });
  const out = ev.filter((e) => e.type === 'host.output' && e.task === 'build').map((e) => e.text).join('');
  const flags = [...out.matchAll(/flags\[([^\]]*)\]/g)].map((m) => m[1]);
  expect(flags).toHaveLength(17);
  for (const f of flags) {
    expect(f).toMatch(/--jobserver-auth=(3,4|fifo:\S+)/);
    expect(f).toMatch(/(^| )-l14( |$)/);
  }
  expect(out).toMatch(/\[tsplay jobserver\] pool \/run\/tsplay\/jobserver\/pool\.fifo: 14 tokens/);
  // Every compile ran on a worker: their distccd logs name each of the 17 files once.
  const n1 = Number(result(ev, 'compiles', 'w1').stdout);
  const n2 = Number(result(ev, 'compiles', 'w2').stdout);
  // (How they spread over w1 and w2 depends on the machine's load: make's -l14 holds jobs back.)
  expect(n1 + n2).toBe(17);
});

test('a throttled host builds at the diagnostic -j12 and says why', async () => {
  const d = `${root}/t`;
  const pb = writePlay(
    dir,
    'throttled.yml',
    `- name: throttled
  hosts: builder
  tasks:
    - name: the thermal module's verdict
      set-fact:
        tsplay_thermal: { celsius: 91, threshold_c: 85, throttled: true, sensor: true }
    - name: generate
      shell: |
        rm -rf ${d}; mkdir -p ${d}; cat >${d}/Makefile <<'MK'
${block(sleepMakefile(26, 1, `${d}/log`), 8)}
        MK
    - name: build
      make-jobserver: { chdir: ${d}, variables: { TAG: t }, load: 0 }
      register: b
    - { name: show b, debug: { var: b } }
    - { name: log, shell: "cat ${d}/log" }
`,
  );
  const run = await runPlay(lab.inventory, pb);
  expectOk(run);
  const { ev } = run;
  const b = shown<BuildResult>(ev, 'b');
  expect(b).toMatchObject({ rc: 0, jobs: 12, level: 'diagnostic', throttled: true });
  const said = decisions(ev, 'build').map((x) => x.message).join('\n');
  expect(said).toContain('thermal: builder is throttled (91°C ≥ 85°C): -j12 (diagnostic) instead of -j14');
  expect(said).toMatch(/make: -j12 \(diagnostic\) under tsplay-pool/);
  const c = maxConcurrency(result(ev, 'log').stdout!);
  expect(c.byTag.get('t')).toBe(26);
  expect(c.max).toBeLessThanOrEqual(12);
  expect(c.max).toBeGreaterThan(1);
});

test('two make-jobserver runs at once share one pool: never more than 14 jobs together (two plain make -j14 do exceed it)', async () => {
  const log = `${root}/pool.log`;
  const ctl = `${root}/control.log`;
  const prep = writePlay(
    dir,
    'pool-prep.yml',
    `- name: prepare
  hosts: builder
  tasks:
    - name: makefiles
      shell: |
        set -e
        rm -rf ${root}/p; mkdir -p ${root}/p/a ${root}/p/b ${root}/p/x ${root}/p/y; rm -f ${log} ${ctl}
        cat >${root}/p/a/Makefile <<'MK'
${block(sleepMakefile(30, 1, log), 8)}
        MK
        cp ${root}/p/a/Makefile ${root}/p/b/Makefile
        cat >${root}/p/x/Makefile <<'MK'
${block(sleepMakefile(30, 1, ctl), 8)}
        MK
        cp ${root}/p/x/Makefile ${root}/p/y/Makefile
`,
  );
  expectOk(await runPlay(lab.inventory, prep));
  const run = (name: string, task: string) => writePlay(dir, name, `- name: ${name}\n  hosts: builder\n  tasks:\n    - name: build\n${task}\n`);
  const pa = run('pool-a.yml', `      make-jobserver: { chdir: ${root}/p/a, variables: { TAG: a }, load: 0 }`);
  const pbk = run('pool-b.yml', `      make-jobserver: { chdir: ${root}/p/b, variables: { TAG: b }, load: 0 }`);
  const [ra, rb] = await Promise.all([startPlay(lab.inventory, pa).done, startPlay(lab.inventory, pbk).done]);
  expect(ra.code).toBe(0);
  expect(rb.code).toBe(0);
  // The control: the same work as two ordinary makes, each with its own -j14.
  const px = run('plain-x.yml', `      command: { cmd: "make -j14 TAG=x", chdir: ${root}/p/x }`);
  const py = run('plain-y.yml', `      command: { cmd: "make -j14 TAG=y", chdir: ${root}/p/y }`);
  const [rx, ry] = await Promise.all([startPlay(lab.inventory, px).done, startPlay(lab.inventory, py).done]);
  expect(rx.code).toBe(0);
  expect(ry.code).toBe(0);

  const logs = await onHost(lab.inventory, 'builder', `cat ${log}; echo ===; cat ${ctl}`, dir);
  const [poolLog, ctlLog] = logs.split('===\n');
  const pool = maxConcurrency(poolLog);
  expect(pool.byTag.get('a')).toBe(30);
  expect(pool.byTag.get('b')).toBe(30);
  expect(pool.overlapped).toEqual(new Set(['a', 'b']));
  expect(pool.max).toBeLessThanOrEqual(14);
  expect(pool.max).toBeGreaterThan(7);
  const control = maxConcurrency(ctlLog);
  expect(control.overlapped).toEqual(new Set(['x', 'y']));
  expect(control.max).toBeGreaterThan(14);
});

test('SIGINT kills make and every compiler it started, even those outside its process group', async () => {
  const d = `${root}/i`;
  const makefile = [
    '.RECIPEPREFIX = >',
    'all: compile escapee s1 s2 s3',
    'compile:',
    '> @echo started $@',
    '> gcc -O2 -c big.c -o big.o',
    // Like distcc's local preprocessor, which distcc moves into a process group of its own.
    'escapee:',
    '> @echo started $@',
    '> setsid sleep 391',
    's%:',
    '> @echo started $@',
    '> sleep 392',
    '',
  ].join('\n');
  const prep = writePlay(
    dir,
    'int-prep.yml',
    `- name: prepare
  hosts: builder
  tasks:
    - name: a slow compile
      shell: |
        set -e
        rm -rf ${d}; mkdir -p ${d}; cd ${d}
        awk 'BEGIN { print "int big(int x) {"; for (i = 0; i < 5000; i++) printf "x = (x * %d) ^ (x >> %d) + %d; if (x %% %d == 3) x += big(x - %d);\\n", i + 3, i % 7 + 1, i, i + 11, i + 1; print "return x; }" }' >big.c
        cat >Makefile <<'MK'
${block(makefile, 8)}
        MK
`,
  );
  expectOk(await runPlay(lab.inventory, prep));
  const list = `for p in /proc/[0-9]*; do c=$(readlink $p/cwd 2>/dev/null) || continue; case $c in ${d}|${d}/*) printf '%s %s\\n' "\${p#/proc/}" "$(tr '\\0' ' ' <$p/cmdline)";; esac; done`;
  // No load limit: on a busy machine -l14 would start these one at a time.
  const pb = writePlay(dir, 'int.yml', `- name: interrupted\n  hosts: builder\n  tasks:\n    - name: build\n      make-jobserver: { chdir: ${d}, load: 0 }\n`);
  const run = startPlay(lab.inventory, pb);
  let before = '';
  let done: Awaited<typeof run.done>;
  try {
    for (let i = 0; i < 40; i++) {
      if (run.output().includes('started compile')) {
        before = await onHost(lab.inventory, 'builder', list, dir);
        if (/cc1 /.test(before) && /sleep 391/.test(before) && /sleep 392/.test(before)) break;
      }
      await new Promise((res) => setTimeout(res, 500));
    }
    expect(before).toMatch(/^\d+ make /m);
    expect(before).toMatch(/cc1 .*big\.c/);
    expect(before).toMatch(/sleep 391/);
  } finally {
    run.child.kill('SIGINT');
    done = await run.done;
  }
  expect(done.code).toBe(130);
  const res = done.ev.find((e) => e.type === 'host.result' && e.task === 'build')!;
  expect(res.status).toBe('failed');
  expect(res.msg).toMatch(/^interrupted: make -j14 in .* was killed with every compiler it started/);
  const after = await onHost(lab.inventory, 'builder', list, dir);
  expect(after).toBe('');
});

test('parse time: a build aimed at cm3, jobs: 32 and a MAKEFLAGS variable are refused with their places, and no host is contacted', async () => {
  const server = net.createServer((s) => {
    contacts++;
    s.destroy();
  });
  let contacts = 0;
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const inv = writePlay(
      dir,
      'inv.yml',
      `all:
  vars: { user: root, private_key: ${lab.privateKey}, known_hosts_file: ${lab.knownHosts}, distcc_manifest: ${lab.manifest} }
  hosts:
    cm3: { address: 127.0.0.1, port: ${port}, hardware_class: cm3plus }
    builder: { address: 127.0.0.1, port: ${port}, hardware_class: x86_64 }
`,
    );
    const pb = writePlay(
      dir,
      'refused.yml',
      `- name: refused
  hosts: all
  tasks:
    - name: kernel on the pi
      make-jobserver:
        chdir: /srv/build/linux
    - name: desktop parallelism
      make-jobserver:
        chdir: /srv/build/linux
        jobs: 32
      delegate_to: builder
    - name: makeflags on the command line
      make-jobserver:
        chdir: /srv/build/linux
        variables: { MAKEFLAGS: "-j14" }
      delegate_to: builder
`,
    );
    for (const cmd of ['check', 'run']) {
      const r = await runTsplay([cmd, '-i', inv, pb]);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(`${pb}:5:7: error placement/build-on-orchestrator: task "kernel on the pi" is a build and would run on cm3, a cm3plus host`);
      expect(r.stderr).toContain(`${pb}:10:15: error doctrine/forbidden: task "desktop parallelism": -j32 is forbidden on x86_64 hardware (host builder)`);
      expect(r.stderr).toContain(`${pb}:15:20: error args/makeflags-variable: task "makeflags on the command line": variables.MAKEFLAGS would be on make’s command line`);
      expect(r.stderr).toMatch(/nothing was run/);
    }
    expect(contacts).toBe(0);
  } finally {
    server.close();
  }
});

test('a -j in the task’s MAKEFLAGS is dropped, not obeyed: the jobserver decides', async () => {
  const d = `${root}/f`;
  const pb = writePlay(
    dir,
    'makeflags.yml',
    `- name: makeflags
  hosts: builder
  tasks:
    - name: generate
      shell: |
        rm -rf ${d}; mkdir -p ${d}; cat >${d}/Makefile <<'MK'
${block(sleepMakefile(20, 1, `${d}/log`), 8)}
        MK
    - name: build
      make-jobserver: { chdir: ${d}, variables: { TAG: f }, load: 0 }
      environment: { MAKEFLAGS: "-k -j 14" }
    - { name: log, shell: "cat ${d}/log" }
`,
  );
  const run = await runPlay(lab.inventory, pb);
  expectOk(run);
  const { ev } = run;
  expect(decisions(ev, 'build').map((x) => x.message).join('\n')).toContain('MAKEFLAGS from the task environment: dropped -j 14');
  expect(ev.filter((e) => e.type === 'host.output' && e.task === 'build').map((e) => e.text).join('')).toContain('make started with MAKEFLAGS=--jobserver-auth=3,4 -k');
  expect(maxConcurrency(result(ev, 'log').stdout!).max).toBeLessThanOrEqual(14);
});

test('a failing build fails the task with the compiler’s first error lines and make’s exit code', async () => {
  const d = `${root}/e`;
  const pb = writePlay(
    dir,
    'broken.yml',
    `- name: broken
  hosts: builder
  tasks:
    - name: generate
      shell: |
        rm -rf ${d}; mkdir -p ${d}; cd ${d}
        printf 'int ok(void) { return 1; }\\n' >good.c
        printf 'int broken(void) { return 1 }\\n' >bad.c
        printf 'all: good.o bad.o\\n' >Makefile
    - name: build
      make-jobserver: { chdir: ${d}, variables: { CC: "distcc gcc" } }
      register: b
      ignore_errors: true
    - { name: show b, debug: { var: b } }
`,
  );
  const run = await runPlay(lab.inventory, pb);
  expectOk(run);
  const res = result(run.ev, 'build');
  expect(res.status).toBe('ignored');
  expect(res.rc).toBe(2);
  expect(res.msg).toMatch(/^make -j14 in \S+ failed \(exit 2\) after [\d.]+s: bad\.c:1:\d+: error: expected ['‘];['’] before ['‘]}['’] token/);
  expect(res.msg).toContain('make: *** [<builtin>: bad.o] Error 1');
  const b = shown<BuildResult>(run.ev, 'b');
  expect(b.rc).toBe(2);
  expect(b.error_lines[0]).toMatch(/^bad\.c:1:\d+: error: /);
  expect(typeof b.duration_s).toBe('number');
});
