/**
 * port-check against the lab's w1 (distccd on 10.177.0.101:3632), through the real CLI; plus the
 * /proc/net/tcp fallback parser checked against ss on this machine's own sockets.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { EXIT } from '../../cli/exit-codes.js';
import { formatListener, parseProcNetTcp, parseSs } from '../../modules/lib/listeners.js';
import { ensureLab, type Lab } from '../helpers/lab.js';
import { exitCode, play } from './run-play.js';

let lab: Lab;
const on = (hosts: string, extra: string[] = []) => ({ inventory: lab.inventory, hosts, extra });
/** In the lab's subnet, held by no host: a connect there gets no answer at all. */
const SILENT_ADDRESS = '10.177.0.254';
/** Nothing on the workers listens here. */
const UNUSED_PORT = 3999;

beforeAll(async () => {
  lab = await ensureLab(2);
}, 600_000);

test('listening on the target: w1’s distccd on 3632 (ss), reported with its address', async () => {
  const p = await play(
    [
      { name: 'listening', 'port-check': { port: 3632 }, register: 'p' },
      { name: 'show', debug: { var: 'p' } },
    ],
    on('w1'),
  );
  exitCode(p, 0);
  expect(p.result('listening')).toMatchObject({ status: 'ok', changed: false, msg: 'w1: 10.177.0.101:3632 listening' });
  expect(p.shown('p')).toMatchObject({ host: '*', port: 3632, state: 'listening', from: 'target', listeners: ['10.177.0.101:3632'], source: 'ss -ltnH' });
  expect(typeof (p.shown('p') as { ms: unknown }).ms).toBe('number');
});

test('listening fails clearly: an unused port, and a port bound to another address', async () => {
  const p = await play(
    [
      { name: 'unused', 'port-check': { port: UNUSED_PORT }, ignore_errors: true },
      { name: 'wrong address', port_check: { port: 3632, host: '127.0.0.1' }, ignore_errors: true },
      { name: 'from the controller', 'port-check': { port: 3632, from: 'controller' }, ignore_errors: true },
    ],
    on('w1'),
  );
  exitCode(p, 0);
  expect(p.result('unused')).toMatchObject({ status: 'ignored', msg: `w1: nothing listens on ${UNUSED_PORT} (expected listening)` });
  expect(p.result('wrong address').msg).toBe('w1: nothing listens on 127.0.0.1:3632 (expected listening; it listens on 10.177.0.101:3632 only)');
  expect(p.result('from the controller').msg).toMatch(/`state: listening` is read on the target/);
});

test('open from the controller to w1’s inventory address (the default) and to an explicit one', async () => {
  const p = await play(
    [
      { name: 'default address', 'port-check': { port: 3632, state: 'open', from: 'controller' }, register: 'a' },
      { name: 'explicit', port_check: { host: '10.177.0.101', port: 3632, state: 'open', from: 'controller', timeout: 3 } },
      { name: 'show', debug: { var: 'a' } },
    ],
    on('w1'),
  );
  exitCode(p, 0);
  expect(p.result('default address').msg).toBe('10.177.0.101:3632 is open from the controller');
  expect(p.result('explicit').status).toBe('ok');
  expect(p.shown('a')).toMatchObject({ host: '10.177.0.101', port: 3632, state: 'open', from: 'controller', expected: 'open' });
});

test('open and closed from the target (bash /dev/tcp on w1)', async () => {
  const p = await play(
    [
      { name: 'open', 'port-check': { host: '10.177.0.101', port: 3632, state: 'open' } },
      { name: 'loopback is closed', 'port-check': { port: 3632, state: 'closed' }, register: 'c' },
      { name: 'unused is closed', 'port-check': { host: '10.177.0.101', port: UNUSED_PORT, state: 'closed' } },
      { name: 'unused is not open', 'port-check': { host: '10.177.0.101', port: UNUSED_PORT, state: 'open' }, ignore_errors: true },
      { name: 'show', debug: { var: 'c' } },
    ],
    on('w1'),
  );
  exitCode(p, 0);
  expect(p.result('open').msg).toBe('10.177.0.101:3632 is open from w1');
  expect(p.result('loopback is closed').msg).toBe('127.0.0.1:3632 is closed (connection refused) from w1');
  expect(p.shown('c')).toMatchObject({ host: '127.0.0.1', state: 'closed', expected: 'closed', from: 'target', reason: 'connection refused' });
  expect(p.result('unused is closed').status).toBe('ok');
  expect(p.result('unused is not open')).toMatchObject({ status: 'ignored', msg: `w1: 10.177.0.101:${UNUSED_PORT} is closed (connection refused) from w1 (expected open)` });
});

test('closed on an unused port from the controller', async () => {
  const p = await play([{ name: 'closed', 'port-check': { port: UNUSED_PORT, state: 'closed', from: 'controller' } }], on('w1'));
  exitCode(p, 0);
  expect(p.result('closed').msg).toBe(`10.177.0.101:${UNUSED_PORT} is closed (connection refused) from the controller`);
});

test('the timeout is honoured against an address that never answers (controller and target)', async () => {
  // Without our timer the kernel would give up on its own (ARP: "no route to host", after ~3 s);
  // a 1 s timeout must end the attempt first and say so.
  const p = await play(
    [
      { name: 'controller', 'port-check': { host: SILENT_ADDRESS, port: 3632, state: 'open', from: 'controller', timeout: 1 }, register: 'c', ignore_errors: true },
      { name: 'target', 'port-check': { host: SILENT_ADDRESS, port: 3632, state: 'open', timeout: 1 }, register: 't', ignore_errors: true },
      { name: 'closed passes', 'port-check': { host: SILENT_ADDRESS, port: 3632, state: 'closed', from: 'controller', timeout: 1 } },
      { name: 'show c', debug: { var: 'c' } },
      { name: 'show t', debug: { var: 't' } },
    ],
    on('w1'),
  );
  exitCode(p, 0);
  expect(p.result('controller').msg).toBe(`w1: ${SILENT_ADDRESS}:3632 is closed (timed out after 1s) from the controller (expected open)`);
  expect(p.result('target').msg).toBe(`w1: ${SILENT_ADDRESS}:3632 is closed (timed out after 1s) from w1 (expected open)`);
  expect(p.result('closed passes').status).toBe('ok');
  // The attempt really lasted the timeout (a lower bound, not a speed claim).
  expect((p.shown('c') as { ms: number }).ms).toBeGreaterThanOrEqual(990);
  expect((p.shown('t') as { ms: number }).ms).toBeGreaterThanOrEqual(990);
});

test('templated port (ansible_port, -e) is rendered then checked; a non-number fails clearly', async () => {
  const p = await play(
    [
      { name: 'ssh', 'port-check': { host: '{{ ansible_host }}', port: '{{ ansible_port }}', state: 'open', from: 'controller' } },
      { name: 'from -e', 'port-check': { port: '{{ p }}' } },
      { name: 'bad', 'port-check': { port: '{{ q }}' } },
    ],
    on('w1', ['-e', 'p=3632', '-e', 'q=distcc']),
  );
  exitCode(p, EXIT.HOST_FAILED);
  expect(p.result('ssh').msg).toBe('10.177.0.101:22 is open from the controller');
  expect(p.result('from -e').status).toBe('ok');
  expect(p.result('bad').msg).toBe('invalid arguments after rendering: port must be integer (got "distcc")');
});

describe('/proc/net/tcp fallback', () => {
  test('finds the same listeners as ss on this machine', async () => {
    // A listener of our own on each family, so the comparison is never between two empty sets.
    const servers = await Promise.all(
      ['127.0.0.1', '::1'].map(
        (host) =>
          new Promise<net.Server>((resolve) => {
            const s = net.createServer();
            s.listen(0, host, () => resolve(s));
          }),
      ),
    );
    try {
      // Other programs open and close listeners meanwhile: ss before and after bracket the kernel's table.
      const viaSs = () => new Set(parseSs(execFileSync('ss', ['-ltnH'], { encoding: 'utf8' })).map(formatListener));
      const before = viaSs();
      const proc = parseProcNetTcp(['/proc/net/tcp', '/proc/net/tcp6'].map((f) => readFileSync(f, 'utf8')).join('\n')).map(formatListener);
      const after = viaSs();
      for (const s of servers) {
        const a = s.address() as net.AddressInfo;
        const mine = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
        expect(before.has(mine)).toBe(true);
        expect(proc).toContain(mine);
      }
      expect(proc.filter((l) => !before.has(l) && !after.has(l))).toEqual([]);
      expect([...before].filter((l) => after.has(l) && !proc.includes(l))).toEqual([]);
      expect(proc.length).toBeGreaterThanOrEqual(2);
    } finally {
      for (const s of servers) s.close();
    }
  });
});
