/**
 * SshTransport against a real sshd on 127.0.0.1. The "remote" host is this machine, so leftover
 * processes are checked with the local process table.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HostKeyError,
  SshTransport,
  TransferError,
  UnreachableError,
  createTransport,
  type SshTransportOptions,
} from '../../engine/transport/index.js';
import { freePort, keygen, sessionPids, startSshd, type Sshd } from '../helpers/sshd.js';

let sshd: Sshd;
let t: SshTransport;
let scratch: string;

function opts(extra: Partial<SshTransportOptions> = {}): SshTransportOptions {
  return {
    host: 'testhost',
    address: '127.0.0.1',
    port: sshd.port,
    user: sshd.user,
    privateKeyPath: sshd.clientKeyPath,
    knownHostsPath: sshd.knownHostsPath,
    connectTimeoutMs: 5000,
    ...extra,
  };
}

/** Live (non-zombie) processes whose command line contains `needle`. */
function live(needle: string): string[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,stat=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.includes(needle) && !/^\d+\s+Z/.test(l) && !l.includes('ps -e -o'));
}

/** Polls `ok` every 20 ms for up to `ms`; fails the test if it never holds. */
async function waitFor(ok: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Kills (by pid) leftover test processes this file started, so one failure does not leak. */
function reap(needle: string): void {
  for (const line of live(needle)) {
    try {
      process.kill(Number(line.split(/\s+/)[0]), 'SIGKILL');
    } catch {
      // gone
    }
  }
}

function signalSessions(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // gone
    }
  }
}

async function expectUnreachable(p: Promise<unknown>, code: string): Promise<UnreachableError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UnreachableError);
  expect((err as UnreachableError).code).toBe(code);
  return err as UnreachableError;
}

beforeAll(async () => {
  sshd = await startSshd();
  scratch = mkdtempSync(path.join(os.tmpdir(), 'tsplay-ssh-test-'));
  t = new SshTransport(opts());
  await t.connect();
});

afterAll(async () => {
  await t?.close();
  await sshd?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('exec', () => {
  test('string through /bin/sh -c: stdout, stderr, exit code', async () => {
    expect(await t.exec('echo out; echo err >&2; exit 3')).toEqual({ rc: 3, stdout: 'out\n', stderr: 'err\n' });
    expect((await t.exec('true')).rc).toBe(0);
  });

  test('a command killed by a signal reports 128+n', async () => {
    expect((await t.exec('kill -s KILL $$')).rc).toBe(137);
  });

  test('argv elements stay literal: no injection', async () => {
    const marker = path.join(scratch, 'pwned');
    const hostile = [`$(touch ${marker})`, `\`touch ${marker}\``, `; touch ${marker}`, "it's", '"dq"', '*', '', 'a\nb'];
    const res = await t.exec(['printf', '[%s]', ...hostile]);
    expect(res.rc).toBe(0);
    expect(res.stdout).toBe(hostile.map((h) => `[${h}]`).join(''));
    expect(existsSync(marker)).toBe(false);
  });

  test('argv[0] is always a program: not a builtin, keyword or assignment', async () => {
    expect((await t.exec(['exit', '3'])).rc).toBe(127);
    expect((await t.exec(['FOO=bar', 'true'])).rc).toBe(127);
    expect((await t.exec(['/bin/echo', 'ok'])).stdout).toBe('ok\n');
    await expect(t.exec([])).rejects.toThrow(/empty/);
  });

  test('env values are passed literally, names are validated', async () => {
    const marker = path.join(scratch, 'env-pwned');
    const env = { A: `$(touch ${marker})`, B: `it's "x" \`id\` $HOME\nline2`, C: '', D: '\\' };
    const res = await t.exec('printf "[%s]" "$A" "$B" "$C" "$D"', { env });
    expect(res.stdout).toBe(`[${env.A}][${env.B}][][\\]`);
    expect(existsSync(marker)).toBe(false);
    await expect(t.exec('true', { env: { 'BAD;touch /tmp/x': '1' } })).rejects.toThrow(TypeError);
  });

  test('cwd, including one with spaces and quotes; a missing cwd fails the command', async () => {
    const d = path.join(scratch, "dir with 'quote'");
    await t.exec(['mkdir', '-p', d]);
    expect(await t.exec('pwd', { cwd: d })).toMatchObject({ rc: 0, stdout: `${d}\n` });
    const missing = await t.exec('echo should-not-run', { cwd: path.join(scratch, 'nope') });
    expect(missing.rc).not.toBe(0);
    expect(missing.stdout).toBe('');
  });

  test('stdin: string and binary buffer, then closed', async () => {
    expect((await t.exec('cat', { stdin: 'hello\n' })).stdout).toBe('hello\n');
    const bin = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
    const res = await t.exec('wc -c; ', { stdin: bin });
    expect(res.stdout.trim()).toBe(String(bin.length));
    const sum = await t.exec('sha256sum', { stdin: bin });
    expect(sum.stdout.split(' ')[0]).toBe(createHash('sha256').update(bin).digest('hex'));
    // without stdin, a reader sees EOF at once
    expect((await t.exec('cat; echo done')).stdout).toBe('done\n');
  });

  test('live output callbacks fire before the command ends; UTF-8 split across chunks survives', async () => {
    const events: Array<[string, string, number]> = [];
    const start = Date.now();
    const res = await t.exec('echo first; echo e1 >&2; sleep 0.6; echo second', {
      onStdout: (c) => events.push(['out', c, Date.now() - start]),
      onStderr: (c) => events.push(['err', c, Date.now() - start]),
    });
    const end = Date.now() - start;
    const first = events.find(([s, c]) => s === 'out' && c.includes('first'))!;
    expect(first[2]).toBeLessThan(end - 400);
    expect(events.some(([s, c]) => s === 'err' && c.includes('e1'))).toBe(true);
    expect(res.stdout).toBe('first\nsecond\n');
    const euro = await t.exec("i=0; while [ $i -lt 20000 ]; do printf '€'; i=$((i+1)); done");
    expect(euro.stdout).toBe('€'.repeat(20000));
  });

  test('20 concurrent execs share one connection, at most 8 channels at once', async () => {
    const before = sshd.log().split('Accepted publickey').length;
    const start = Date.now();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.exec(`sleep 0.3; echo ${i}`)),
    );
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `${i}\n`));
    expect(results.every((r) => r.rc === 0)).toBe(true);
    expect(Date.now() - start).toBeGreaterThanOrEqual(3 * 300 - 50); // 8 + 8 + 4
    expect(sshd.log().split('Accepted publickey').length).toBe(before);
  });

  test('timeout kills the whole remote process group (TERM, then KILL) → rc 124', async () => {
    const start = Date.now();
    const res = await t.exec(
      "sleep 4242 & (trap '' TERM; sleep 4243; :) & sh -c 'sleep 4244; :' ; echo never",
      { timeoutMs: 800 },
    );
    const took = Date.now() - start;
    try {
      expect(res).toMatchObject({ rc: 124, timedOut: true, stdout: '' });
      expect(took).toBeGreaterThanOrEqual(800);
      expect(took).toBeLessThan(800 + 3500);
      expect(live('sleep 424')).toEqual([]);
      // the connection is still fine afterwards
      expect((await t.exec('echo ok')).stdout).toBe('ok\n');
    } finally {
      reap('sleep 424');
    }
  });

  test('abort kills the whole remote process group → rc 130', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 500);
    const started: string[] = [];
    const res = await t.exec("sh -c 'sleep 4245; :' & sleep 4246; echo never", {
      signal: ac.signal,
      onStdout: (c) => started.push(c),
    });
    try {
      expect(res).toMatchObject({ rc: 130, aborted: true });
      expect(live('sleep 424')).toEqual([]);
      const pre = new AbortController();
      pre.abort();
      const marker = path.join(scratch, 'ran');
      expect(await t.exec(`touch ${marker}`, { signal: pre.signal })).toMatchObject({ rc: 130, aborted: true });
      expect(existsSync(marker)).toBe(false);
    } finally {
      reap('sleep 424');
    }
  });

  test('commands share one long-lived shell on the host, which survives a timed-out command', async () => {
    // The command's parent is the wrapper; the wrapper's parent is whatever started it.
    const starter = "awk '{print $4}' /proc/$PPID/stat";
    const a = await t.exec(starter);
    const b = await t.exec(['sh', '-c', starter]);
    expect(a.rc).toBe(0);
    expect(a.stdout).toMatch(/^\d+\n$/);
    expect(await t.exec(starter)).toMatchObject({ stdout: a.stdout });
    // The shell (the wrapper's parent) is /bin/sh (dash here), not the login shell (bash for root).
    expect((await t.exec('readlink /proc/$PPID/exe')).stdout).toMatch(/\/(dash|sh)\n$/);
    expect((await t.exec('sleep 4248', { timeoutMs: 300 })).rc).toBe(124);
    expect(await t.exec(starter)).toMatchObject({ stdout: a.stdout });
    expect(b.rc).toBe(0);
    reap('sleep 4248');
    // Its commands' pid files are gone when the connection closes.
    const pidFiles = (): string[] => readdirSync('/tmp').filter((f) => f.startsWith('.tsplay-shell-'));
    const before = pidFiles();
    const fresh = new SshTransport(opts());
    await fresh.exec('true');
    await fresh.exec(['true']);
    const mine = pidFiles().filter((d) => !before.includes(d));
    expect(mine).toHaveLength(2);
    expect(mine.every((f) => f.endsWith('.pgid'))).toBe(true);
    await fresh.close();
    await waitFor(() => mine.every((f) => !existsSync(path.join('/tmp', f))));
    // Without it, each command has its own session.
    const own = new SshTransport(opts({ remoteShell: false }));
    try {
      const x = await own.exec(starter);
      const y = await own.exec(starter);
      expect(x.stdout).toMatch(/^\d+\n$/);
      expect(x.stdout).not.toBe(y.stdout);
    } finally {
      await own.close();
    }
  });

  test('while the shell is busy, other commands on the host get their own channels', async () => {
    const slow = t.exec('sleep 0.5; echo slow');
    const quick = await Promise.all([1, 2, 3].map((i) => t.exec(`echo ${i}`)));
    expect(quick.map((r) => r.stdout)).toEqual(['1\n', '2\n', '3\n']);
    expect((await slow).stdout).toBe('slow\n');
  });

  test('a timed-out command leaves no pid file behind', async () => {
    const pidFiles = (): string[] => readdirSync('/tmp').filter((f) => /^\.tsplay-.*\.pgid$/.test(f));
    const before = pidFiles();
    await t.exec('sleep 4247', { timeoutMs: 300 });
    await t.exec('true');
    // The kill removed the timed-out command's file; the one left is `true`'s, which the live
    // shell keeps until it ends (as the test above shows).
    const added = pidFiles().filter((f) => !before.includes(f));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/^\.tsplay-shell-[0-9a-f]+-[0-9a-f]+\.pgid$/);
    reap('sleep 4247');
  });
});

describe('put / get', () => {
  test('put writes content and mode; get reads it back byte for byte', async () => {
    const f = path.join(scratch, "put 'me'.bin");
    const content = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 13) % 256));
    await t.put(f, content, 0o640);
    expect(statSync(f).mode & 0o7777).toBe(0o640);
    expect(readFileSync(f).equals(content)).toBe(true);
    expect((await t.get(f))!.equals(content)).toBe(true);
    await t.put(f, 'text ünïcode\n', 0o600);
    expect((await t.get(f))!.toString()).toBe('text ünïcode\n');
    expect(statSync(f).mode & 0o7777).toBe(0o600);
  });

  test('without a mode: a new file is 0644, an existing file keeps its mode', async () => {
    const f = path.join(scratch, 'nomode');
    await t.put(f, 'a');
    expect(statSync(f).mode & 0o777).toBe(0o644);
    await t.exec(['chmod', '751', f]);
    await t.put(f, 'b');
    expect(statSync(f).mode & 0o777).toBe(0o751);
  });

  test('get of a missing file is null; of a directory is a TransferError', async () => {
    expect(await t.get(path.join(scratch, 'missing'))).toBeNull();
    await expect(t.get(scratch)).rejects.toMatchObject({ code: 'transport/get-failed' });
  });

  test('put into a missing directory fails with a TransferError and leaves nothing', async () => {
    const err = await t.put(path.join(scratch, 'no-such-dir', 'f'), 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransferError);
    expect((err as TransferError).code).toBe('transport/put-failed');
    expect((err as TransferError).message).toMatch(/no-such-dir/);
  });

  test('put is atomic: a concurrent reader only ever sees the old or the new content', async () => {
    const f = path.join(scratch, 'atomic');
    const a = Buffer.alloc(2_000_000, 'a');
    const b = Buffer.alloc(2_000_000, 'b');
    const sums = new Set([a, b].map((x) => createHash('md5').update(x).digest('hex')));
    await t.put(f, a);
    const reader = t.exec(
      `end=$(($(date +%s) + 3)); while [ $(date +%s) -lt $end ]; do md5sum < '${f}' | cut -c1-32; done | sort | uniq -c`,
    );
    for (let i = 0; i < 8; i++) await t.put(f, i % 2 ? a : b);
    const seen = (await reader).stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[1]!);
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) expect(sums.has(s)).toBe(true);
    const leftovers = execFileSync('ls', ['-a', scratch], { encoding: 'utf8' }).split('\n').filter((n) => n.includes('tsplay-'));
    expect(leftovers).toEqual([]);
  });
});

describe('host keys', () => {
  let hostKeyBlob: Buffer;
  let fp: string;
  beforeAll(() => {
    hostKeyBlob = Buffer.from(sshd.hostKeyPub.split(' ')[1]!, 'base64');
    fp = `SHA256:${createHash('sha256').update(hostKeyBlob).digest('base64').replace(/=+$/, '')}`;
  });

  test('unknown host key is refused, with type, fingerprint and what to do', async () => {
    const kh = path.join(scratch, 'kh-empty');
    writeFileSync(kh, '');
    const tr = new SshTransport(opts({ knownHostsPath: kh }));
    const err = await expectUnreachable(tr.connect(), 'ssh/unknown-host-key');
    expect(err).toBeInstanceOf(HostKeyError);
    expect(err.message).toContain(fp);
    expect(err.message).toContain('ssh-ed25519');
    expect(err.message).toContain(`[127.0.0.1]:${sshd.port}`);
    expect(err.hint).toMatch(/--trust-new-host-keys/);
    expect(err.hint).toMatch(/ssh-keyscan -p \d+ -t ssh-ed25519 127\.0\.0\.1/);
    expect(readFileSync(kh, 'utf8')).toBe('');
    await tr.close();
  });

  test('trustNewHostKeys records the key (file created 0600); the next run verifies it', async () => {
    const kh = path.join(scratch, 'trust', 'known_hosts');
    const first = new SshTransport(opts({ knownHostsPath: kh, trustNewHostKeys: true }));
    await first.connect();
    expect((await first.exec('echo in')).stdout).toBe('in\n');
    await first.close();
    expect(statSync(kh).mode & 0o777).toBe(0o600);
    expect(readFileSync(kh, 'utf8')).toBe(`[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
    const second = new SshTransport(opts({ knownHostsPath: kh }));
    await second.connect();
    await second.close();
    expect(readFileSync(kh, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
  });

  test('a changed host key is refused even with trustNewHostKeys, naming the known_hosts line', async () => {
    const other = keygen(path.join(scratch, 'other-host-key'));
    const kh = path.join(scratch, 'kh-changed');
    const text = `# comment\n[127.0.0.1]:${sshd.port} ${other}\n`;
    writeFileSync(kh, text);
    const tr = new SshTransport(opts({ knownHostsPath: kh, trustNewHostKeys: true }));
    const err = await expectUnreachable(tr.connect(), 'ssh/changed-host-key');
    expect(err.message).toContain(fp);
    expect(err.message).toContain(`${kh} line 2`);
    expect(err.hint).toContain('ssh-keygen -R');
    expect(readFileSync(kh, 'utf8')).toBe(text);
  });

  test('a hashed known_hosts entry is accepted', async () => {
    const kh = path.join(scratch, 'kh-hashed');
    copyFileSync(sshd.knownHostsPath, kh);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', kh], { stdio: 'ignore' });
    expect(readFileSync(kh, 'utf8')).toMatch(/^\|1\|/);
    const tr = new SshTransport(opts({ knownHostsPath: kh }));
    await tr.connect();
    expect((await tr.exec('echo hashed')).stdout).toBe('hashed\n');
    await tr.close();
  });

  test('an @revoked key is refused', async () => {
    const kh = path.join(scratch, 'kh-revoked');
    writeFileSync(kh, `@revoked * ${sshd.hostKeyPub}\n[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
    await expectUnreachable(new SshTransport(opts({ knownHostsPath: kh, trustNewHostKeys: true })).connect(), 'ssh/revoked-host-key');
  });
});

describe('connection failures', () => {
  test('connection refused → host/connection-refused, quickly, without retries', async () => {
    const port = await freePort();
    const start = Date.now();
    const err = await expectUnreachable(new SshTransport(opts({ port })).connect(), 'host/connection-refused');
    expect(Date.now() - start).toBeLessThan(1500);
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.stack === undefined || !err.message.includes('    at ')).toBe(true);
  });

  test('a server that never speaks → host/timeout after connectTimeoutMs', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    const start = Date.now();
    try {
      await expectUnreachable(new SshTransport(opts({ port, connectTimeoutMs: 600 })).connect(), 'host/timeout');
      expect(Date.now() - start).toBeLessThan(2000);
    } finally {
      silent.close();
      // the silent server keeps accepted sockets open; drop them
      silent.unref();
    }
  });

  // sshd dropping a connection before the SSH handshake (as under MaxStartups), retried or not.
  test.each([0, 1])('a server that hangs up at once → host/connection-lost (%i retries), never a hang', async (connectRetries) => {
    const rude = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => rude.listen(0, '127.0.0.1', r));
    const port = (rude.address() as net.AddressInfo).port;
    let accepted = 0;
    rude.on('connection', () => accepted++);
    const start = Date.now();
    try {
      await expectUnreachable(new SshTransport(opts({ port, connectRetries, connectTimeoutMs: 5000 })).connect(), 'host/connection-lost');
      expect(Date.now() - start).toBeLessThan(4000);
      expect(accepted).toBe(connectRetries + 1);
    } finally {
      rude.close();
    }
  });

  test('wrong key → ssh/auth-failed naming the user and key, not retried', async () => {
    const wrong = path.join(scratch, 'wrong-key');
    keygen(wrong);
    const before = sshd.log().split('Connection closed by authenticating user').length;
    const err = await expectUnreachable(new SshTransport(opts({ privateKeyPath: wrong })).connect(), 'ssh/auth-failed');
    expect(err.message).toContain(`'${sshd.user}'`);
    expect(err.message).toContain(wrong);
    expect(err.hint).toContain('authorized_keys');
    await new Promise((r) => setTimeout(r, 200));
    expect(sshd.log().split('Connection closed by authenticating user').length - before).toBeLessThanOrEqual(1);
  });

  test('missing key file → ssh/auth-failed without contacting the host', async () => {
    const err = await expectUnreachable(
      new SshTransport(opts({ privateKeyPath: path.join(scratch, 'no-key') })).connect(),
      'ssh/auth-failed',
    );
    expect(err.message).toMatch(/no such file/);
  });

  test('connect() is idempotent and concurrent callers share one connection', async () => {
    const tr = new SshTransport(opts());
    const before = sshd.log().split('Accepted publickey').length;
    await Promise.all([tr.connect(), tr.connect(), tr.connect(), tr.exec('true')]);
    await tr.connect();
    expect(sshd.log().split('Accepted publickey').length - before).toBe(1);
    await tr.close();
  });

  test('a connection dropped mid-exec → host/connection-lost, and it stays lost', async () => {
    const before = new Set(sessionPids(sshd.pid));
    const tr = new SshTransport(opts());
    await tr.connect();
    const mine = sessionPids(sshd.pid).filter((p) => !before.has(p));
    expect(mine.length).toBeGreaterThan(0);
    const running = tr.exec('sleep 4251');
    await new Promise((r) => setTimeout(r, 300));
    const start = Date.now();
    signalSessions(mine, 'SIGKILL');
    try {
      const err = await expectUnreachable(running, 'host/connection-lost');
      expect(err.message).toContain('testhost');
      expect(Date.now() - start).toBeLessThan(3000);
      await expectUnreachable(tr.exec('true'), 'host/connection-lost');
    } finally {
      reap('sleep 4251');
      await tr.close();
    }
  });

  test('network partition: an exec with a timeout still settles shortly after it', async () => {
    const before = new Set(sessionPids(sshd.pid));
    const tr = new SshTransport(opts());
    await tr.connect();
    const mine = sessionPids(sshd.pid).filter((p) => !before.has(p));
    const running = tr.exec('sleep 4252', { timeoutMs: 1500 });
    await new Promise((r) => setTimeout(r, 300));
    signalSessions(mine, 'SIGSTOP'); // the peer stops answering, the TCP connection stays up
    const start = Date.now();
    try {
      const res = await running;
      expect(res).toMatchObject({ rc: 124, timedOut: true });
      expect(res.stderr).toMatch(/could not confirm/);
      expect(Date.now() - start).toBeLessThan(1200 + 2500 + 500);
    } finally {
      signalSessions(mine, 'SIGCONT');
      signalSessions(mine, 'SIGKILL');
      reap('sleep 4252');
      await tr.close();
    }
  });
});

describe('retries under load (sshd MaxStartups)', () => {
  let busy: Sshd;
  beforeAll(async () => {
    busy = await startSshd({ config: ['MaxStartups 1'] });
  });
  afterAll(async () => {
    await busy.stop();
  });
  const busyOpts = (extra: Partial<SshTransportOptions>): SshTransportOptions => ({
    host: 'busy',
    address: '127.0.0.1',
    port: busy.port,
    user: busy.user,
    privateKeyPath: busy.clientKeyPath,
    knownHostsPath: busy.knownHostsPath,
    connectTimeoutMs: 5000,
    ...extra,
  });

  test('without retries, some of 8 simultaneous connects are dropped → host/connection-lost', async () => {
    const trs = Array.from({ length: 8 }, () => new SshTransport(busyOpts({ connectRetries: 0 })));
    const results = await Promise.allSettled(trs.map((x) => x.connect()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) expect((f.reason as UnreachableError).code).toBe('host/connection-lost');
    await Promise.all(trs.map((x) => x.close()));
  });

  test('with retries (backoff + jitter), all 8 get through', async () => {
    const trs = Array.from({ length: 8 }, () => new SshTransport(busyOpts({ connectRetries: 8 })));
    await Promise.all(trs.map((x) => x.connect()));
    const outs = await Promise.all(trs.map((x) => x.exec('echo up')));
    expect(outs.every((o) => o.stdout === 'up\n')).toBe(true);
    await Promise.all(trs.map((x) => x.close()));
  });
});

describe('factory and loading', () => {
  test('createTransport builds an SSH transport that works', async () => {
    const tr = createTransport(
      {
        name: 'web1',
        connection: 'ssh',
        address: '127.0.0.1',
        port: sshd.port,
        user: sshd.user,
        privateKeyPath: sshd.clientKeyPath,
        knownHostsPath: sshd.knownHostsPath,
      },
      { trustNewHostKeys: false, connectTimeoutMs: 5000 },
    );
    expect(tr.host).toBe('web1');
    expect((await tr.exec(['echo', 'factory'])).stdout).toBe('factory\n');
    await tr.close();
  });

  test('node-ssh is not loaded until an SSH transport connects', async () => {
    const index = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../engine/transport/index.js');
    const script = `
      import { createRequire } from 'node:module';
      const cache = createRequire(import.meta.url).cache;
      const loaded = () => Object.keys(cache).some((k) => k.includes('/node_modules/ssh2/'));
      const m = await import(${JSON.stringify(index)});
      const local = m.createTransport({ name: 'l', connection: 'local' }, { trustNewHostKeys: false, connectTimeoutMs: 1000 });
      await local.exec('true');
      const ssh = m.createTransport({ name: 's', connection: 'ssh', address: '127.0.0.1', port: ${await freePort()}, user: 'x' }, { trustNewHostKeys: false, connectTimeoutMs: 1000 });
      const before = loaded();
      await ssh.connect().catch(() => {});
      console.log(JSON.stringify({ before, after: loaded() }));
    `;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: path.dirname(index) });
      let s = '';
      child.stdout.on('data', (b: Buffer) => (s += b.toString()));
      child.stderr.on('data', (b: Buffer) => (s += b.toString()));
      child.on('close', (code) => (code === 0 ? resolve(s) : reject(new Error(s))));
    });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ before: false, after: true });
  });
});
