/**
 * The SSH transport under faults, against a throwaway sshd on 127.0.0.1 (the "host" is this
 * machine, so its process table is ours to read): killing a command finds the processes that left
 * its process group; connect retries are reported and bounded in time; close() does not wait on a
 * peer that stopped answering.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import net from 'node:net';
import { SshTransport, type ConnectRetry, type SshTransportOptions } from '../../engine/transport/index.js';
import { sessionPids, startSshd, type Sshd } from '../helpers/sshd.js';
import { eventually } from '../helpers/background.js';

let sshd: Sshd;

beforeAll(async () => {
  sshd = await startSshd();
});

afterAll(async () => {
  await sshd?.stop();
});

function opts(s: Sshd, extra: Partial<SshTransportOptions> = {}): SshTransportOptions {
  return {
    host: 'testhost',
    address: '127.0.0.1',
    port: s.port,
    user: s.user,
    privateKeyPath: s.clientKeyPath,
    knownHostsPath: s.knownHostsPath,
    connectTimeoutMs: 5000,
    ...extra,
  };
}

/** Live (non-zombie) processes whose command line contains `needle`. */
function live(needle: string): string[] {
  return execFileSync('ps', ['-e', '-o', 'pid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.includes(needle) && !/^\d+\s+Z/.test(l) && !l.includes('ps -e -o'));
}

function reap(needle: string): void {
  for (const line of live(needle)) {
    try {
      process.kill(Number(line.split(/\s+/)[0]), 'SIGKILL');
    } catch {
      // gone
    }
  }
}

const marker = (): string => `${3000 + randomInt(1000)}.${randomInt(100000, 999999)}`;

describe('killing what an exec started', () => {
  test('abort also kills a child that left the process group with setsid and ignores TERM', async () => {
    const t = new SshTransport(opts(sshd));
    const m = marker();
    const ac = new AbortController();
    try {
      const running = t.exec(`setsid sh -c 'trap "" TERM; sleep ${m}' </dev/null >/dev/null 2>&1 & sleep ${m}`, { signal: ac.signal });
      expect(await eventually(() => live(`sleep ${m}`).length >= 2, 10_000)).toBe(true);
      ac.abort();
      expect(await running).toMatchObject({ rc: 130, aborted: true });
      expect(live(m)).toEqual([]);
    } finally {
      reap(m);
      await t.close();
    }
  });

  test('the command sees TSPLAY_EXEC_ID, a fresh one per exec', async () => {
    const t = new SshTransport(opts(sshd));
    try {
      const a = (await t.exec('printf %s "$TSPLAY_EXEC_ID"')).stdout;
      const b = (await t.exec('printf %s "$TSPLAY_EXEC_ID"')).stdout;
      expect(a).toMatch(/^[0-9a-f]{16}$/);
      expect(b).toMatch(/^[0-9a-f]{16}$/);
      expect(a).not.toBe(b);
    } finally {
      await t.close();
    }
  });

  test('a timed-out command whose children escaped the group is fully killed too', async () => {
    const t = new SshTransport(opts(sshd));
    const m = marker();
    try {
      const r = await t.exec(`setsid sleep ${m} </dev/null >/dev/null 2>&1 & sleep ${m}`, { timeoutMs: 1000 });
      expect(r).toMatchObject({ rc: 124, timedOut: true });
      expect(live(m)).toEqual([]);
    } finally {
      reap(m);
      await t.close();
    }
  });
});

describe('a kill that reaches the host before the command starts', () => {
  let slow: Sshd;
  beforeAll(async () => {
    // Commands (not kills or probes) start 1.5 s late, like a login shell with a slow rc file.
    slow = await startSshd({
      config: ['ForceCommand case "$SSH_ORIGINAL_COMMAND" in *"echo \\$\\$ >"*) sleep 1.5;; esac; eval "$SSH_ORIGINAL_COMMAND"'],
    });
  });
  afterAll(async () => {
    await slow?.stop();
  });

  test('the command never runs, and no pid file is left', async () => {
    // A channel per command (no long-lived shell): ForceCommand delays each command's own session.
    const t = new SshTransport({ ...opts(slow), remoteShell: false });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-late-'));
    const touched = path.join(dir, 'ran');
    try {
      await t.connect();
      const pidFilesBefore = readdirSync('/tmp').filter((f) => /^\.tsplay-.*\.pgid$/.test(f));
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 300);
      const r = await t.exec(`touch ${touched}`, { signal: ac.signal });
      expect(r).toMatchObject({ rc: 130, aborted: true });
      // Give the late wrapper time to arrive and find its pid file taken.
      await new Promise((res) => setTimeout(res, 2500));
      expect(existsSync(touched)).toBe(false);
      // Another run's pid files may come and go in /tmp meanwhile; a claim left behind would be empty.
      const left = readdirSync('/tmp').filter(
        (f) => /^\.tsplay-.*\.pgid$/.test(f) && !pidFilesBefore.includes(f) && statSync(path.join('/tmp', f), { throwIfNoEntry: false })?.size === 0,
      );
      expect(left).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await t.close();
    }
  });
});

describe('connect retries', () => {
  let busy: Sshd;
  beforeAll(async () => {
    busy = await startSshd({ config: ['MaxStartups 1:100:1', 'LoginGraceTime 60'] });
  });
  afterAll(async () => {
    await busy?.stop();
  });

  test('each retry is reported (attempt, bound, delay, code) before it is made', async () => {
    const seen: ConnectRetry[] = [];
    const trs = Array.from({ length: 6 }, (_, i) => new SshTransport(opts(busy, { host: `h${i}`, onConnectRetry: (r) => seen.push(r) })));
    try {
      await Promise.all(trs.map((x) => x.connect()));
      expect(seen.length).toBeGreaterThan(0);
      for (const r of seen) {
        expect(r.attempts).toBe(6);
        expect(r.attempt).toBeGreaterThanOrEqual(2);
        expect(r.attempt).toBeLessThanOrEqual(6);
        expect(r.delayMs).toBeGreaterThan(0);
        expect(r.code).toBe('host/connection-lost');
        expect(r.message).toContain(`ssh to ${r.host} (127.0.0.1:${busy.port})`);
      }
    } finally {
      await Promise.all(trs.map((x) => x.close()));
    }
  });

  test('retries stop at the connect timeout even when attempts remain', async () => {
    const hog = net.connect(busy.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      hog.once('data', () => resolve());
      hog.once('error', reject);
    });
    const seen: ConnectRetry[] = [];
    // 10 retries would take ~2 min of backoff; a 1.5 s connect timeout bounds them.
    const t = new SshTransport(opts(busy, { connectTimeoutMs: 1500, connectRetries: 10, onConnectRetry: (r) => seen.push(r) }));
    try {
      await expect(t.connect()).rejects.toMatchObject({ code: 'host/connection-lost' });
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.length).toBeLessThan(10);
      const waited = seen.reduce((sum, r) => sum + r.delayMs, 0);
      expect(waited).toBeLessThanOrEqual(1500);
    } finally {
      hog.destroy();
      await t.close();
    }
  });
});

test('close() does not wait on a peer that stopped answering', async () => {
  const before = new Set(sessionPids(sshd.pid));
  const t = new SshTransport(opts(sshd));
  await t.connect();
  const mine = sessionPids(sshd.pid).filter((p) => !before.has(p));
  expect(mine.length).toBeGreaterThan(0);
  for (const p of mine) process.kill(p, 'SIGSTOP'); // the TCP connection stays, nobody answers
  try {
    const t0 = Date.now();
    await t.close();
    // CLOSE_GRACE_MS (1 s) plus slack.
    expect(Date.now() - t0).toBeLessThan(3000);
    // And the socket is really gone from this process (a half-closed one kept node alive for minutes).
    const ours = execFileSync('ss', ['-tnpH', 'dst', `127.0.0.1:${sshd.port}`], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(`pid=${process.pid},`));
    expect(ours).toEqual([]);
  } finally {
    for (const p of mine) {
      try {
        process.kill(p, 'SIGCONT');
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
});
