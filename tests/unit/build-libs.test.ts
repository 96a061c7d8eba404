/**
 * The pure parts of pump and make-jobserver, as data: the pump health truth table fed with distcc
 * and include-server output captured verbatim on the lab builder (tests/fixtures/pump-logs: Debian
 * 12's broken include server — the first probe, then a second once it had died — and one fixed
 * with the Python 3.11 shim), the env-file
 * and DISTCC_HOSTS formats, MAKEFLAGS filtering, error-line capture and the launcher's syntax.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES } from '../helpers/paths.js';
import { classify, parseStatus, serverCause, type ServerStatus } from '../../modules/lib/pump-health.js';
import { parseExports, renderPumpEnv, toPumpEnv, type PumpEnv } from '../../modules/lib/pump-env.js';
import { parseManifest, renderDistccHosts } from '../../modules/lib/distcc-manifest.js';
import { ErrorLines, foreignFlags, launcherScript, parseProbe, takesFifo } from '../../modules/lib/jobserver.js';
import { parsePreflight, preflightScript, shutdownScript } from '../../modules/lib/pump-scripts.js';

const log = (name: string) => readFileSync(path.join(FIXTURES, 'pump-logs', name), 'utf8');

const env: PumpEnv = {
  DISTCC_HOSTS: '10.177.0.101:3632/4,cpp,lzo',
  INCLUDE_SERVER_PORT: '/tmp/distcc-pump.sWn9Ba/socket',
  INCLUDE_SERVER_PID: '16048',
  INCLUDE_SERVER_DIR: '/tmp/distcc-pump.sWn9Ba',
};
const up: ServerStatus = { alive: true, cmdline: '/usr/bin/python3 /usr/lib/python3/dist-packages/include_server/include_server.py --port /tmp/distcc-pump.sWn9Ba/socket', socket: true, stderr: '' };
const dead: ServerStatus = { alive: false, cmdline: '', socket: false, stderr: '' };
const PY = "include server internal error: SystemError: PY_SSIZE_T_CLEAN macro must be defined for '#' formats";

describe('pump health truth table', () => {
  const rows: [string, Parameters<typeof classify>[0], 'off' | 'healthy' | 'degraded', RegExp][] = [
    ['no env file', { envProblem: 'pump has not been started (no /run/tsplay/pump.env)' }, 'off', /no \/run\/tsplay\/pump\.env/],
    ['server dead, its log names PY_SSIZE_T_CLEAN', { env, server: { ...dead, stderr: log('degraded-server.stderr') } }, 'degraded', /^include server internal error: SystemError: PY_SSIZE_T_CLEAN macro must be defined for '#' formats — Debian 12/],
    ['server dead, log silent', { env, server: dead }, 'degraded', /the include server \(pid 16048\) is not running/],
    ['alive but no socket', { env, server: { ...up, socket: false } }, 'degraded', /socket \/tmp\/distcc-pump\.sWn9Ba\/socket is missing/],
    ['probe fell back, server log names the cause', { env, server: up, probe: { rc: 0, log: log('degraded-probe.txt') }, after: { ...dead, stderr: log('degraded-server.stderr') } }, 'degraded', /PY_SSIZE_T_CLEAN/],
    ['probe fell back, no server log', { env, server: up, probe: { rc: 0, log: log('degraded-probe.txt') }, after: dead }, 'degraded', /^distcc fell back to local preprocessing: Warning: include server gave up analyzing; Warning: failed to get includes from include server, preprocessing locally$/],
    ['socket vanished under the probe', { env, server: up, probe: { rc: 0, log: log('dead-socket-probe.txt') } }, 'degraded', /failed to connect to UNIX-DOMAIN/],
    ['includes served, compiled on a worker', { env, server: up, probe: { rc: 0, log: log('healthy-probe.txt') }, after: up }, 'healthy', /^$/],
    ['includes served but the compile failed', { env, server: up, probe: { rc: 1, log: log('healthy-probe.txt') + 'distcc[1] ERROR: compile probe.c on localhost failed\n' }, after: up }, 'degraded', /the probe compile failed \(exit 1\)/],
    ['includes served, compiled locally', { env, server: up, probe: { rc: 0, log: log('healthy-probe.txt').replace(/on 10\.177\.0\.101:3632\/4,cpp,lzo completed/, 'on localhost completed') }, after: up }, 'degraded', /did not compile on a worker/],
    ['a clean compile that never asked the include server', { env, server: up, probe: { rc: 0, log: 'distcc[9] compile probe.c on 10.177.0.101:3632/4,lzo completed ok\n' }, after: up }, 'degraded', /did not show the include server serving includes/],
  ];
  test.each(rows)('%s', (_name, evidence, state, cause) => {
    const r = classify(evidence);
    expect(r.state).toBe(state);
    expect(r.cause ?? '').toMatch(cause);
  });

  test('healthy names the worker and no fallback', () => {
    const r = classify({ env, server: up, probe: { rc: 0, log: log('healthy-probe.txt') }, after: up });
    expect(r.probe).toEqual({ ran: true, rc: 0, includes_served: true, compiled_on: '10.177.0.101', fallback: [] });
  });

  test('the include server’s log: exception class and message, with the Debian 12 hint', () => {
    const c = serverCause(log('degraded-server.stderr'))!;
    expect(c.cause.startsWith(PY)).toBe(true);
    expect(c.hint).toMatch(/plain distcc/);
    expect(serverCause('Traceback (most recent call last):\n  File "x", line 1\nOSError: [Errno 98] Address already in use\n')).toEqual({ cause: 'include server crashed: OSError: [Errno 98] Address already in use' });
    expect(serverCause('')).toBeUndefined();
  });

  test('server status lines', () => {
    const s = parseStatus(`alive\t1\ncmdline\t${up.cmdline} \nsocket\t0\n--- include server stderr\nboom\n`);
    expect(s).toEqual({ alive: true, cmdline: up.cmdline, socket: false, stderr: 'boom\n' });
  });
});

describe('env file', () => {
  test('pump --startup output parses into a session', () => {
    const vars = parseExports(log('startup.out'));
    const r = toPumpEnv(vars);
    expect('env' in r && r.env).toEqual({ ...env, DISTCC_HOSTS: '10.177.0.101:3632/4,cpp,lzo 10.177.0.102:3632/4,cpp,lzo' });
    expect(toPumpEnv({ DISTCC_HOSTS: 'x' })).toEqual({ missing: ['INCLUDE_SERVER_PORT', 'INCLUDE_SERVER_PID', 'INCLUDE_SERVER_DIR'] });
  });

  test('what tsplay writes reads back the same, quotes and all', () => {
    const e: PumpEnv = { ...env, DISTCC_HOSTS: "a:1/2,cpp it's", DISTCC_VERBOSE: '1' };
    const text = renderPumpEnv(e, '/m.yml');
    expect(text).toContain("export DISTCC_HOSTS='a:1/2,cpp it'\\''s'");
    const back = toPumpEnv(parseExports(text));
    expect('env' in back && back.env).toEqual(e);
  });
});

describe('DISTCC_HOSTS from the manifest', () => {
  test('address over host, defaults filled, cpp only in pump mode', () => {
    const m = parseManifest('workers:\n  - { host: w1, address: 10.0.0.1 }\n  - { host: w2, port: 3633, jobs: 8, options: [lzo] }\n  - { host: w3, options: [] }\n', 'm.yml');
    if (!m.ok) throw new Error(JSON.stringify(m.diagnostics));
    expect(renderDistccHosts(m.manifest, 'pump')).toBe('10.0.0.1:3632/4,cpp,lzo w2:3633/8,lzo w3:3632/4');
    expect(renderDistccHosts(m.manifest, 'plain')).toBe('10.0.0.1:3632/4,lzo w2:3633/8,lzo w3:3632/4');
  });

  test('problems carry the manifest’s line and column', () => {
    const m = parseManifest('workers:\n  - { host: w1 }\n  - { host: w1, jobs: 65 }\n', 'm.yml');
    expect(m.ok).toBe(false);
    if (m.ok) return;
    expect(m.diagnostics.map((d) => `${d.code} ${d.line}:${d.column}`)).toEqual(['manifest/invalid 3:23']);
    const dup = parseManifest('workers:\n  - { host: w1 }\n  - { host: w1 }\n', 'm.yml');
    expect(!dup.ok && dup.diagnostics.map((d) => `${d.code} ${d.line}:${d.column} ${d.message}`)).toEqual(['manifest/invalid 3:5 distcc manifest: worker 2 (w1) is the same server as worker 1 (w1:3632)']);
    const empty = parseManifest('workers: []\n', 'm.yml');
    expect(!empty.ok && empty.diagnostics[0].message).toMatch(/workers must not be an empty list/);
  });
});

describe('make-jobserver pieces', () => {
  test('a task MAKEFLAGS keeps its other flags but never its parallelism', () => {
    expect(foreignFlags('-k -j 14 --no-print-directory -l8 --jobserver-auth=3,4 -kj4 --load-average 2')).toEqual({
      kept: ['-k', '--no-print-directory'],
      dropped: ['-j', '14', '-l8', '--jobserver-auth=3,4', '-kj4', '--load-average', '2'],
    });
    expect(foreignFlags(undefined)).toEqual({ kept: [], dropped: [] });
  });

  test('make versions: 4.4 takes fifo:PATH, 4.3 descriptors, anything else is not GNU make', () => {
    expect(takesFifo(parseProbe('make\tGNU Make 4.4.1\n'))).toBe(true);
    expect(takesFifo(parseProbe('make\tGNU Make 4.3\nflock\t1\ngnufind\t1\n'))).toBe(false);
    expect(parseProbe('make\tGNU Make 4.3\nflock\t1\ngnufind\t1\nsteve\t1\n')).toMatchObject({ makeVersion: 'GNU Make 4.3', steve: true, flock: true, gnuFind: true });
    expect(parseProbe('make\tbmake 20200710\n').makeVersion).toBeNull();
  });

  test('error lines: compiler errors and make’s *** lines, across chunk boundaries, at most ten', () => {
    const e = new ErrorLines();
    e.push('gcc -c a.c\na.c:3:1: err');
    e.push('or: expected ‘;’\nmake[1]: *** [Makefile:4: a.o] Error 1\nok line\n');
    e.push('make: *** [Makefile:9: all] Error 2');
    expect(e.end()).toEqual(['a.c:3:1: error: expected ‘;’', 'make[1]: *** [Makefile:4: a.o] Error 1', 'make: *** [Makefile:9: all] Error 2']);
  });

  test.each([
    ['pool, make 4.3', { kind: 'pool' as const, fifoStyle: false }],
    ['pool, make 4.4', { kind: 'pool' as const, fifoStyle: true }],
    ['steve, make 4.4', { kind: 'steve' as const, fifoStyle: true }],
  ])('the launcher is valid POSIX sh (%s)', (_n, s) => {
    const script = launcherScript({ ...s, jobs: 14, load: 14, argv: ['make', "CC=distcc gcc", 'all'], extraFlags: ['-k'] });
    expect(() => execFileSync('/bin/sh', ['-n', '-c', script])).not.toThrow();
    expect(script).toContain(s.fifoStyle ? `MAKEFLAGS='--jobserver-auth=fifo:${s.kind === 'steve' ? '/dev/steve' : '/run/tsplay/jobserver/pool.fifo'} -l14 -k'` : "MAKEFLAGS='--jobserver-auth=3,4 -l14 -k'");
    expect(script).toContain("make 'CC=distcc gcc' all");
  });

  test('pump scripts are valid POSIX sh and their reports parse', () => {
    for (const s of [preflightScript({ apply: true, envFile: '/run/tsplay/pump.env' }), shutdownScript('/usr/bin/distcc-pump', env, true)]) {
      expect(() => execFileSync('/bin/sh', ['-n', '-c', s])).not.toThrow();
    }
    const p = parsePreflight('server\t12\t/usr/bin/python3 /x/include_server.py --port /tmp/distcc-pump.a/socket \nkilled\t12\ndir\t/tmp/distcc-pump.a\nPATH\t/usr/bin:/bin\nCC\tdistcc gcc\ntool\tgcc\t/usr/bin/gcc\ntool\tpump\t\nversion\tgcc\t12.2.0\n');
    expect(p).toMatchObject({ servers: [{ pid: 12, killed: true }], dirs: ['/tmp/distcc-pump.a'], path: '/usr/bin:/bin', cc: 'distcc gcc', hostcc: null, tools: { gcc: '/usr/bin/gcc', pump: null }, versions: { gcc: '12.2.0' } });
  });
});
