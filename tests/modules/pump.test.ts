/**
 * pump against the real lab builder through the real CLI: preflight's precision, the env file,
 * the truth of health (Debian 12's broken include server is degraded with its real message; an
 * include server that really serves includes is healthy), stop, and parse-time manifest errors.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ensureLab, type Lab } from '../helpers/lab.js';
import { runTsplay } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/paths.js';
import { block, decisions, expectOk, onHost, result, runPlay, scratch, shown, writePlay } from './build-lab.js';

let lab: Lab;
let dir: string;
const planted: { host: string; pid: number }[] = [];

beforeAll(async () => {
  lab = await ensureLab();
  dir = scratch('pump-test');
});

afterAll(async () => {
  // Whatever a failed test left behind: planted processes, pump sessions, scratch paths.
  // Killed by pid only while it is still ours (the pid may have been reused since).
  for (const p of planted) {
    const kill = `case "$(tr '\\0' ' ' </proc/${p.pid}/cmdline 2>/dev/null)" in *include_server.py*) pkill -9 -P ${p.pid}; kill -9 ${p.pid};; esac; rm -rf /tmp/tsplay-fake-is; true`;
    await onHost(lab.inventory, p.host, kill, dir).catch(() => undefined);
  }
  const stop = writePlay(
    dir,
    'cleanup.yml',
    `- name: cleanup
  hosts: builder
  tasks:
    - { name: stop test, pump: { action: stop, env_file: /run/tsplay/pump-test.env } }
    - { name: stop shim, pump: { action: stop, env_file: /run/tsplay/pump-shim.env } }
    - { name: rm, shell: "rm -rf /tmp/tsplay-fake-is /tmp/distcc-pump.tsplaytest /tmp/tsplay-pump-shim /srv/build/tsplay-pump-test" }
- name: cleanup w1
  hosts: w1
  tasks:
    - { name: rm, shell: "rm -rf /tmp/tsplay-fake-is" }
`,
  );
  await runPlay(lab.inventory, stop).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** The DISTCC_HOSTS the lab's manifest means, computed here independently of the module. */
function expectedHosts(mode: 'pump' | 'plain'): string {
  const m = parseYaml(readFileSync(lab.manifest, 'utf8')) as { workers: { host: string; address?: string; port?: number; jobs?: number; options?: string[] }[] };
  return m.workers
    .map((w) => {
      const opts = (w.options ?? ['cpp', 'lzo']).filter((o) => mode === 'pump' || o !== 'cpp');
      return `${w.address ?? w.host}:${w.port ?? 3632}/${w.jobs ?? 4}${opts.map((o) => ',' + o).join('')}`;
    })
    .join(' ');
}

const alive = (host: string, pid: number) => onHost(lab.inventory, host, `if [ -n "$(tr -d '\\0' </proc/${pid}/cmdline 2>/dev/null)" ]; then echo alive; else echo gone; fi`, dir).then((s) => s.trim());

test('preflight kills only a real stale include server on this host and removes stale pump dirs', async () => {
  const plant = [
    'mkdir -p /tmp/tsplay-fake-is /tmp/distcc-pump.tsplaytest && touch /tmp/distcc-pump.tsplaytest/stderr',
    `printf 'import time\\nwhile True: time.sleep(1)\\n' >/tmp/tsplay-fake-is/include_server.py`,
    'setsid /usr/bin/python3 /tmp/tsplay-fake-is/include_server.py --port /tmp/distcc-pump.tsplaytest/socket </dev/null >/dev/null 2>&1 &',
    'echo "fake $!"',
    // Mentions include_server.py but does not run it: must survive.
    `setsid sh -c 'sleep 600; : include_server.py' </dev/null >/dev/null 2>&1 &`,
    'echo "decoy $!"',
  ].join('\n');
  const out = await onHost(lab.inventory, 'builder', plant, dir);
  const fake = Number(/fake (\d+)/.exec(out)![1]);
  const decoy = Number(/decoy (\d+)/.exec(out)![1]);
  planted.push({ host: 'builder', pid: fake }, { host: 'builder', pid: decoy });
  // The same stale server on another host (w1): not the builder's to kill.
  const other = await onHost(
    lab.inventory,
    'w1',
    [
      'mkdir -p /tmp/tsplay-fake-is',
      `printf 'import time\\nwhile True: time.sleep(1)\\n' >/tmp/tsplay-fake-is/include_server.py`,
      'setsid /usr/bin/python3 /tmp/tsplay-fake-is/include_server.py --port /tmp/x </dev/null >/dev/null 2>&1 &',
      'echo "other $!"',
    ].join('\n'),
    dir,
  );
  const elsewhere = Number(/other (\d+)/.exec(other)![1]);
  planted.push({ host: 'w1', pid: elsewhere });
  expect(await alive('builder', fake)).toBe('alive');

  const pb = writePlay(
    dir,
    'preflight.yml',
    `- name: pump preflight
  hosts: builder
  tasks:
    - name: preflight
      pump: { action: preflight, env_file: /run/tsplay/pump-test.env }
      register: pre
    - { name: show pre, debug: { var: pre } }
    - name: preflight again
      pump: { action: preflight, env_file: /run/tsplay/pump-test.env }
    - { name: left, shell: "ls -d /tmp/distcc-pump.* 2>/dev/null; true" }
`,
  );
  const run = await runPlay(lab.inventory, pb);
  expectOk(run);
  const { ev } = run;
  const pre = shown<{ killed: { pid: number; cmdline: string }[]; removed: string[]; PATH: string; tools: Record<string, string | null>; toolchain_ok: boolean }>(ev, 'pre');
  expect(result(ev, 'preflight').changed).toBe(true);
  expect(pre.killed.map((k) => k.pid)).toContain(fake);
  expect(pre.killed.find((k) => k.pid === fake)!.cmdline).toContain('/tmp/tsplay-fake-is/include_server.py --port /tmp/distcc-pump.tsplaytest/socket');
  expect(pre.killed.map((k) => k.pid)).not.toContain(decoy);
  expect(pre.removed).toContain('/tmp/distcc-pump.tsplaytest');
  expect(pre.PATH).toContain('/usr/bin');
  expect(pre.tools.gcc).toBe('/usr/bin/gcc');
  expect(pre.tools.distcc).toBe('/usr/bin/distcc');
  expect(pre.tools.pump).toMatch(/\/(distcc-)?pump$/);
  expect(result(ev, 'preflight').msg).toMatch(/CC=\(unset\); HOSTCC=\(unset\)/);
  // Nothing stale is left, so the second run changes nothing.
  expect(result(ev, 'preflight again').changed).toBe(false);
  expect(result(ev, 'left').stdout).toBe('');

  expect(await alive('builder', fake)).toBe('gone');
  expect(await alive('builder', decoy)).toBe('alive');
  expect(await alive('w1', elsewhere)).toBe('alive');
});

test('start writes an owner-only env file with the manifest’s DISTCC_HOSTS; health is degraded naming PY_SSIZE_T_CLEAN; stop cleans up', async () => {
  const pb = writePlay(
    dir,
    'lifecycle.yml',
    `- name: pump lifecycle
  hosts: builder
  tasks:
    - { name: preflight, pump: { action: preflight, env_file: /run/tsplay/pump-test.env } }
    - name: start
      pump: { action: start, settle_seconds: 1, env_file: /run/tsplay/pump-test.env }
      register: started
    - name: env file
      shell: "stat -c '%a %U' /run/tsplay/pump-test.env && cat /run/tsplay/pump-test.env"
    - name: health
      pump: { action: health, env_file: /run/tsplay/pump-test.env }
      register: h
    - { name: show started, debug: { var: started } }
    - { name: show h, debug: { var: h } }
    - { name: show tsplay_pump, debug: { var: tsplay_pump } }
    - name: start again
      pump: { action: start, settle_seconds: 0, env_file: /run/tsplay/pump-test.env }
    - name: strict health
      pump: { action: health, require_healthy: true, env_file: /run/tsplay/pump-test.env }
      ignore_errors: true
    - name: stop
      pump: { action: stop, env_file: /run/tsplay/pump-test.env }
    - { name: env file gone, shell: "test -e /run/tsplay/pump-test.env; echo $?" }
    - name: stop again
      pump: { action: stop, env_file: /run/tsplay/pump-test.env }
`,
  );
  const run = await runPlay(lab.inventory, pb);
  expectOk(run);
  const { ev } = run;

  const env = result(ev, 'env file').stdout!;
  expect(env.split('\n')[0]).toBe('600 root');
  expect(env).toContain(`export DISTCC_HOSTS='${expectedHosts('pump')}'`);
  expect(env).toMatch(/^export INCLUDE_SERVER_PID=\d+$/m);
  expect(env).toMatch(/^export INCLUDE_SERVER_DIR=\/tmp\/distcc-pump\.\w+$/m);
  expect(env).toMatch(/^export INCLUDE_SERVER_PORT=\/tmp\/distcc-pump\.\w+\/socket$/m);
  expect(env).not.toContain('DISTCC_VERBOSE');

  // The include server's own words, from its log, after the probe compile made it fail.
  const started = shown<{ state: string; cause: string; started: boolean }>(ev, 'started');
  expect(result(ev, 'start').changed).toBe(true);
  expect(started.started).toBe(true);
  expect(started.state).toBe('degraded');
  expect(started.cause).toContain("PY_SSIZE_T_CLEAN macro must be defined for '#' formats");
  const h = shown<{ state: string; cause: string; probe: unknown }>(ev, 'h');
  expect(h.state).toBe('degraded');
  expect(h.cause).toContain("SystemError: PY_SSIZE_T_CLEAN macro must be defined for '#' formats");
  expect(result(ev, 'health').status).toBe('ok');
  expect(result(ev, 'health').msg).toMatch(/^pump is DEGRADED: /);
  expect(decisions(ev, 'health').map((d) => d.message).join('\n')).toMatch(/pump: degraded — include server internal error: SystemError: PY_SSIZE_T_CLEAN/);
  const fact = shown<{ state: string; cause: string; env_file: string; distcc_hosts: string }>(ev, 'tsplay_pump');
  expect(fact).toMatchObject({ state: 'degraded', env_file: '/run/tsplay/pump-test.env', distcc_hosts: expectedHosts('pump') });

  // The include server died on the probe, so a second start restarts it rather than keeping it.
  expect(result(ev, 'start again').changed).toBe(true);
  expect(decisions(ev, 'start again').map((d) => d.message).join('\n')).toMatch(/restarting, since its include server \(pid \d+\) is not running/);
  expect(result(ev, 'strict health').status).toBe('ignored');
  expect(result(ev, 'strict health').msg).toMatch(/DEGRADED.*require_healthy: true/);

  expect(result(ev, 'stop').changed).toBe(true);
  expect(result(ev, 'env file gone').stdout).toBe('1');
  expect(result(ev, 'stop again').changed).toBe(false);
  expect(result(ev, 'stop again').msg).toMatch(/not running/);
});

test('an include server that really serves includes is healthy, and make-jobserver then builds in pump mode', async () => {
  // The fixture re-does the three functions Python 3.11 rejects; with it pump really works.
  const shim = readFileSync(path.join(FIXTURES, 'pump-py311', 'distcc_pump_c_extensions.py'), 'utf8');
  const pb = writePlay(
    dir,
    'healthy.yml',
    `- name: a working pump
  hosts: builder
  tasks:
    - name: shimmed pump
      shell: |
        set -e
        d=/tmp/tsplay-pump-shim; rm -rf $d; mkdir -p $d/include_server
        cp /usr/lib/python3/dist-packages/include_server/*.py $d/include_server/
        cat >$d/include_server/distcc_pump_c_extensions.py <<'PYEOF'
${block(shim, 8)}
        PYEOF
        sed "s#^include_server=.*#include_server='$d/include_server/include_server.py'#" "$(command -v distcc-pump)" >$d/pump
        chmod +x $d/pump
        t=/srv/build/tsplay-pump-test; rm -rf $t; mkdir -p $t; cd $t
        printf '#define PUMPED 7\\n' >pumped.h
        for i in 1 2 3; do printf '#include "pumped.h"\\nint p%d(void) { return PUMPED + %d; }\\n' $i $i >p$i.c; done
        printf 'all: p1.o p2.o p3.o\\n' >Makefile
    - name: start
      pump: { action: start, pump_command: /tmp/tsplay-pump-shim/pump, env_file: /run/tsplay/pump-shim.env, settle_seconds: 1 }
      environment: { DISTCC_LOCATION: /usr/bin }
    - name: health
      pump: { action: health, env_file: /run/tsplay/pump-shim.env, require_healthy: true }
      register: h
    - { name: show h, debug: { var: h } }
    - name: build
      make-jobserver:
        chdir: /srv/build/tsplay-pump-test
        pump: "on"
        env_file: /run/tsplay/pump-shim.env
        variables: { CC: "distcc gcc" }
      environment: { DISTCC_VERBOSE: "1" }
      register: b
    - { name: show b, debug: { var: b } }
    - name: stop
      pump: { action: stop, env_file: /run/tsplay/pump-shim.env }
`,
  );
  const run = await runPlay(lab.inventory, pb);
  expectOk(run);
  const { ev } = run;
  const h = shown<{ state: string; probe: { includes_served: boolean; compiled_on: string; fallback: string[] } }>(ev, 'h');
  expect(h.state).toBe('healthy');
  expect(h.probe.includes_served).toBe(true);
  expect(h.probe.fallback).toEqual([]);
  expect(['10.177.0.101', '10.177.0.102']).toContain(h.probe.compiled_on);
  expect(result(ev, 'health').msg).toMatch(/^pump is healthy: the include server \(pid \d+\) served the probe's includes/);

  const b = shown<{ pump: boolean; rc: number; distcc_hosts: string }>(ev, 'b');
  expect(b.rc).toBe(0);
  expect(b.pump).toBe(true);
  expect(b.distcc_hosts).toBe(expectedHosts('pump'));
  // distcc's own log: the include server sent each file's header along, nothing fell back.
  const log = ev.filter((e) => e.type === 'host.output' && e.task === 'build').map((e) => e.text).join('');
  // Per distcc client (its pid): the compile that completed on a worker got pumped.h from the include server.
  const byPid = new Map<string, string[]>();
  for (const line of log.split('\n')) {
    const m = /^distcc\[(\d+)\]/.exec(line);
    if (m) byPid.set(m[1], [...(byPid.get(m[1]) ?? []), line]);
  }
  for (const f of ['p1.c', 'p2.c', 'p3.c']) {
    const done = new RegExp(`compile ${f.replace('.', '\\.')} on 10\\.177\\.0\\.10[12]:3632/\\d+,cpp,lzo completed ok`);
    const client = [...byPid.values()].find((lines) => lines.some((l) => done.test(l)));
    expect(client).toBeDefined();
    expect(client!.some((l) => /\(dcc_r_argv\) argv\[\d+\] = "[^"]*\/pumped\.h\.lzo"/.test(l))).toBe(true);
  }
  expect(log).not.toMatch(/preprocessing locally/);
  expect(result(ev, 'stop').changed).toBe(true);
});

test('a bad manifest is refused at parse time, pointing into the manifest; nothing runs', async () => {
  writePlay(
    dir,
    'bad-manifest.yml',
    `workers:
  - { host: w1, address: 10.177.0.101, port: 99999, options: [cpp, gzip] }
  - host: w2
    adress: 10.177.0.102
`,
  );
  const pb = writePlay(
    dir,
    'bad.yml',
    `- name: bad manifest
  hosts: builder
  tasks:
    - name: start pump
      pump:
        action: start
        manifest: bad-manifest.yml
    - name: build
      make-jobserver:
        chdir: /srv/build/nowhere
        manifest: no-such-manifest.yml
`,
  );
  for (const cmd of ['check', 'run']) {
    const r = await runTsplay([cmd, '-i', lab.inventory, pb]);
    expect(r.code).toBe(4);
    const m = path.join(dir, 'bad-manifest.yml');
    expect(r.stderr).toContain(`${m}:2:46: error manifest/invalid: task "start pump": distcc manifest: workers.0.port must be at most 65535`);
    expect(r.stderr).toContain(`${m}:2:68: error manifest/invalid: task "start pump": distcc manifest: workers.0.options.1 must be "cpp" or "lzo" or "zstd", not "gzip"`);
    expect(r.stderr).toContain(`${m}:4:5: error manifest/invalid: task "start pump": distcc manifest: workers.1: unknown key \`adress\``);
    expect(r.stderr).toContain(`${pb}:11:19: error manifest/missing: task "build": distcc manifest: cannot read ${path.join(dir, 'no-such-manifest.yml')}: no such file`);
    expect(r.stderr).toMatch(/nothing was run/);
    expect(r.stdout).not.toMatch(/TASK|host\.start/);
  }
});
