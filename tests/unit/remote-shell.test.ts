/**
 * The long-lived remote shell's framing, against the real script run by a local /bin/sh (the same
 * dash a Debian host runs it with) through a pipe standing in for the SSH channel: output passes
 * byte for byte and as it arrives, markers split across chunks are found, output that looks like a
 * marker does not end a command, and a shell that dies mid-command is reported. Also the argv commands
 * it runs without a wrapper shell, and the kill script's part in them.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { killGroupScript, wrapCommand } from '../../engine/transport/remote-command.js';
import { REMOTE_SHELL_COMMAND, RemoteShell, ShellGoneError, type ShellChannel } from '../../engine/transport/remote-shell.js';

/**
 * A ShellChannel over a local REMOTE_SHELL_COMMAND run by /bin/sh, as a login shell runs sshd's
 * command; `split` re-chunks stdout byte by byte; `strace` records the shell's own system calls.
 */
function localChannel(opts: { split?: boolean; strace?: string; cwd?: string } = {}): { channel: ShellChannel; child: ChildProcessWithoutNullStreams } {
  // Its own process group, so closing it kills what it runs too (as the host's kill does).
  const argv = ['/bin/sh', '-c', REMOTE_SHELL_COMMAND];
  // In `cwd` with $PWD naming it, as sshd's login shell starts in the home directory.
  const where = opts.cwd === undefined ? {} : { cwd: opts.cwd, env: { ...process.env, PWD: opts.cwd } };
  const child = opts.strace
    ? spawn('strace', ['-qq', '-e', 'trace=read', '-o', opts.strace, ...argv], { detached: true, ...where })
    : spawn(argv[0]!, argv.slice(1), { detached: true, ...where });
  const out = new EventEmitter();
  const err = new EventEmitter();
  child.stdout.on('data', (b: Buffer) => {
    if (opts.split) for (const byte of b) out.emit('data', Buffer.from([byte]));
    else out.emit('data', b);
  });
  child.stderr.on('data', (b: Buffer) => err.emit('data', b));
  child.on('exit', () => out.emit('close'));
  const channel: ShellChannel = {
    write: (d) => child.stdin.write(d),
    on: (event: 'data' | 'close', l: (...a: never[]) => void) => out.on(event, l as (...a: unknown[]) => void),
    stderr: { on: (_e, l) => err.on('data', l) },
    close: () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
  return { channel, child };
}

async function collect(shell: RemoteShell, script: string): Promise<{ rc: number; out: Buffer; err: Buffer; chunks: number }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const rc = await shell.run(script, (b) => out.push(b), (b) => err.push(b));
  return { rc, out: Buffer.concat(out), err: Buffer.concat(err), chunks: out.length };
}

const shells: RemoteShell[] = [];
afterEach(() => {
  for (const s of shells.splice(0)) s.close();
});

async function start(opts: { split?: boolean } = {}): Promise<RemoteShell> {
  const { channel } = localChannel(opts);
  const shell = await RemoteShell.start(channel, 5000);
  shells.push(shell);
  return shell;
}

test('the greeting says whether setsid -w and /proc exist; the pid files of its commands go when the shell ends', async () => {
  const { channel, child } = localChannel();
  const shell = await RemoteShell.start(channel, 5000);
  expect(shell.hasSetsid).toBe(true); // util-linux is installed here
  expect(shell.hasProc).toBe(true);
  expect(shell.idle).toBe(true);
  expect(shell.pidPrefix).toMatch(/^\/tmp\/\.tsplay-shell-[0-9a-f]{24}-$/);
  const mine = (): string[] => readdirSync('/tmp').filter((f) => `/tmp/${f}`.startsWith(shell.pidPrefix));
  const files: string[] = [];
  for (const argv of [['true'], ['sh', '-c', 'exit 4']]) {
    const execId = randomBytes(8).toString('hex');
    files.push(`${shell.pidPrefix}${execId}.pgid`);
    await collect(shell, wrapCommand(argv, { pidFile: files.at(-1)!, execId, setsid: true, keepPidFile: true, direct: true }));
  }
  expect(mine().map((f) => `/tmp/${f}`).sort()).toEqual([...files].sort());
  // Someone else's file with a name like them stays.
  const other = `/tmp/.tsplay-shell-${randomBytes(12).toString('hex')}-0.pgid`;
  writeFileSync(other, '1\n');
  try {
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.stdin.end(); // what sshd does when the channel closes
    await exited;
    expect(mine()).toEqual([]);
    expect(existsSync(other)).toBe(true);
  } finally {
    rmSync(other, { force: true });
  }
});

test('a greeting that does not repeat the pid file prefix it was given is refused', async () => {
  const out = new EventEmitter();
  const channel: ShellChannel = {
    write: () => {
      setImmediate(() => out.emit('data', Buffer.from('tsplay-shell setsid proc /tmp/.tsplay-shell-000000000000000000000000-\n')));
      return true;
    },
    on: (event: 'data' | 'close', l: (...a: never[]) => void) => out.on(event, l as (...a: unknown[]) => void),
    stderr: { on: () => undefined },
    close: () => undefined,
  };
  await expect(RemoteShell.start(channel, 2000)).rejects.toThrow(/the remote shell said/);
});

test.each([false, true])('commands run one after another with their own status and exact output (byte-split: %p)', async (split) => {
  const shell = await start({ split });
  expect(await collect(shell, 'echo hello')).toMatchObject({ rc: 0, out: Buffer.from('hello\n'), err: Buffer.alloc(0) });
  expect(await collect(shell, "printf 'no newline'; printf 'e' >&2; exit 3")).toMatchObject({
    rc: 3, out: Buffer.from('no newline'), err: Buffer.from('e'),
  });
  // Multi-line scripts, quotes, backslashes and leading blanks survive the trip.
  const tricky = "x='a\\\\b'\n  printf '%s|%s\\n' \"$x\" '  lead'\nprintf 'tab\\there\\n'";
  expect((await collect(shell, tricky)).out.toString()).toBe('a\\\\b|  lead\ntab\there\n');
  // Output holding RS bytes and text like a marker does not end the command early.
  const fake = await collect(shell, "printf '\\036tsplay-end-00 0\\n\\036'; sleep 0.1; echo after");
  expect(fake.out).toEqual(Buffer.from('\x1etsplay-end-00 0\n\x1eafter\n'));
  // stdin is /dev/null, not the shell's own input.
  expect((await collect(shell, 'cat; echo eof')).out.toString()).toBe('eof\n');
  expect(shell.idle).toBe(true);
});

test('the shell reads its input in blocks, not a byte per system call (dash\'s `read` would)', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-shell-strace-'));
  try {
    const trace = path.join(dir, 'trace');
    const { channel, child } = localChannel({ strace: trace });
    const shell = await RemoteShell.start(channel, 5000);
    shells.push(shell);
    // A 4 KB command, as long as a task with a few env variables and a long argv.
    const long = `: '${'x'.repeat(4000)}'; echo done`;
    for (let i = 0; i < 3; i++) expect((await collect(shell, long)).out.toString()).toBe('done\n');
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.stdin.end();
    await exited;
    const reads = readFileSync(trace, 'utf8').split('\n').filter((l) => l.startsWith('read(0,'));
    // The setup script, three commands and the end of input: a few reads each, not ~12000.
    expect(reads.length).toBeGreaterThan(3);
    expect(reads.length).toBeLessThan(20);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a command that is not valid shell fails alone; the shell goes on', async () => {
  const shell = await start();
  const bad = await collect(shell, 'echo "unterminated');
  expect(bad.rc).toBe(2);
  expect(bad.err.toString()).toMatch(/Syntax error|unterminated/i);
  expect(await collect(shell, 'echo still here')).toMatchObject({ rc: 0, out: Buffer.from('still here\n') });
});

test('binary output passes unchanged', async () => {
  const shell = await start();
  const r = await collect(shell, "head -c 200000 /dev/urandom | tee /tmp/.tsplay-rs-test | sha256sum | cut -d' ' -f1 >&2; cat /tmp/.tsplay-rs-test; rm -f /tmp/.tsplay-rs-test");
  const { createHash } = await import('node:crypto');
  expect(createHash('sha256').update(r.out).digest('hex')).toBe(r.err.toString().trim());
  expect(r.out.length).toBe(200000);
});

test('output reaches the caller while the command still runs', async () => {
  const shell = await start();
  const seen: Array<[string, number]> = [];
  const t0 = Date.now();
  const rc = await shell.run("echo first; sleep 0.5; echo second", (b) => seen.push([b.toString(), Date.now() - t0]), () => undefined);
  expect(rc).toBe(0);
  const first = seen.find(([s]) => s.includes('first'))!;
  expect(first[0]).toBe('first\n'); // the whole line, newline included, before the sleep ends
  expect(first[1]).toBeLessThan(400);
});

test('a shell that dies under a command rejects it with ShellGoneError and is no longer idle', async () => {
  const { channel, child } = localChannel();
  const shell = await RemoteShell.start(channel, 5000);
  let started!: () => void;
  const up = new Promise<void>((resolve) => (started = resolve));
  const running = shell.run('echo up; sleep 5', () => started(), () => undefined);
  expect(shell.idle).toBe(false);
  await expect(shell.run('true', () => undefined, () => undefined)).rejects.toThrow('busy');
  await up; // the command runs (killing the shell before it forks would leave no group to kill below)
  child.kill('SIGKILL'); // the shell only: its command lives on, as after a crash
  await expect(running).rejects.toBeInstanceOf(ShellGoneError);
  process.kill(-child.pid!, 'SIGKILL');
  expect(shell.idle).toBe(false);
  expect(shell.alive).toBe(false);
});

describe('argv commands run straight from the shell (WrapOptions.direct)', () => {
  const wrap = (shell: RemoteShell, argv: string[], extra: { cwd?: string; env?: Record<string, string> } = {}): { script: string; pidFile: string; execId: string } => {
    const execId = randomBytes(8).toString('hex');
    const pidFile = `${shell.pidPrefix}${execId}.pgid`;
    return { script: wrapCommand(argv, { ...extra, pidFile, execId, setsid: true, keepPidFile: true, direct: true }), pidFile, execId };
  };
  const killLocally = (pidFile: string, execId: string): number => spawnSync('/bin/sh', ['-c', killGroupScript(pidFile, execId)]).status ?? -1;

  test('no wrapper shell: the command leads its own group with the pid the pid file names', async () => {
    const shell = await start();
    expect(shell.hasProc).toBe(true);
    // awk reads its own stat: pid, then ppid and pgrp after the command name.
    const w = wrap(shell, ['awk', '{ sub(/.*\\) /, ""); print $2, $3 }', '/proc/self/stat']);
    expect(w.script).not.toMatch(/\/bin\/sh|eval/);
    const r = await collect(shell, w.script);
    expect(r.rc).toBe(0);
    const [ppid, pgrp] = r.out.toString().trim().split(' ');
    const [pid, shellPid] = readFileSync(w.pidFile, 'utf8').trim().split(' ');
    expect(pgrp).toBe(pid); // the group leader is the command itself, under the pid the file gave
    expect(ppid).toBe(shellPid); // and no shell sits between it and the long-lived shell
  });

  test('the command starts in the shell\'s directory, $PWD unchanged, though the subshell passed through /proc/self', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-direct-cwd-'));
    const link = `${dir}-link`;
    try {
      symlinkSync(dir, link);
      // A shell that started in a directory reached through a symlink, as a home directory may be.
      const { channel } = localChannel({ cwd: link });
      const shell = await RemoteShell.start(channel, 5000);
      shells.push(shell);
      const r = await collect(shell, wrap(shell, ['sh', '-c', 'echo "$PWD $(pwd -P)"']).script);
      expect(r).toMatchObject({ rc: 0, out: Buffer.from(`${link} ${dir}\n`) });
    } finally {
      rmSync(link, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('exit status, cwd, env and the exec id reach the command; a missing program is 127', async () => {
    const shell = await start();
    expect((await collect(shell, wrap(shell, ['sh', '-c', 'exit 3']).script)).rc).toBe(3);
    const w = wrap(shell, ['sh', '-c', 'echo "$(pwd) $GREETING $TSPLAY_EXEC_ID"'], { cwd: '/usr', env: { GREETING: "it's me" } });
    expect((await collect(shell, w.script)).out.toString()).toBe(`/usr it's me ${w.execId}\n`);
    const missing = await collect(shell, wrap(shell, ['tsplay-no-such-program', '--x']).script);
    expect(missing.rc).toBe(127);
    expect(missing.err.toString()).toMatch(/tsplay-no-such-program: No such file or directory/);
    expect((await collect(shell, wrap(shell, ['sh', '-c', 'exit 0'], { cwd: '/tsplay-no-such-dir' }).script)).rc).toBe(1);
  });

  test('a subshell that cannot read its pid does not start (an empty pid would name the shell\'s own group)', async () => {
    const shell = await start();
    const marker = path.join(os.tmpdir(), `tsplay-direct-${randomBytes(4).toString('hex')}`);
    const w = wrap(shell, ['touch', marker]);
    const r = await collect(shell, w.script.replace('cd -P /proc/self', 'cd -P /proc/tsplay-no-such-dir'));
    expect(r.rc).toBe(125);
    expect(r.err.toString()).toMatch(/not started: cannot learn its pid from \/proc\/self/);
    expect(existsSync(w.pidFile)).toBe(false);
    expect(existsSync(marker)).toBe(false);
  });

  test('a kill reaches the whole group of a running direct command', async () => {
    const shell = await start();
    const w = wrap(shell, ['sh', '-c', 'sleep 4251 & sleep 4252; echo never']);
    const running = collect(shell, w.script);
    await waitFor(() => existsSync(w.pidFile) && pgrepCount('sleep 425[12]') === 2);
    expect(killLocally(w.pidFile, w.execId)).toBe(0);
    const r = await running;
    expect(r.rc).toBe(143);
    expect(r.out.toString()).toBe('');
    await waitFor(() => pgrepCount('sleep 425[12]') === 0);
  });

  test('a kill that comes before setsid kills the subshell itself, and never a process that is not the shell\'s child', async () => {
    // The window between claiming the pid file and setsid, held open: the subshell writes the pid
    // file as directArgv does, then sleeps without leading a group.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-direct-'));
    const f = path.join(dir, 'x.pgid');
    const shellProc = spawn('/bin/sh', ['-c', `(cd -P /proc/self; p=\${PWD#/proc/}; cd /; echo "$p $$" >${f}; exec sleep 4253) & wait`], { detached: true });
    try {
      await waitFor(() => existsSync(f) && readFileSync(f, 'utf8').includes(' ') && pgrepCount('sleep 4253') === 1);
      const [pid, shellPid] = readFileSync(f, 'utf8').trim().split(' ');
      expect(shellPid).toBe(String(shellProc.pid));
      // A pid file whose shell is not the process's parent (the pid was reused): left alone.
      writeFileSync(f, `${pid} ${process.pid}\n`);
      expect(killLocally(f, 'ab12')).toBe(0);
      expect(pgrepCount('sleep 4253')).toBe(1);
      writeFileSync(f, `${pid} ${shellPid}\n`);
      expect(killLocally(f, 'ab12')).toBe(0);
      await waitFor(() => pgrepCount('sleep 4253') === 0);
    } finally {
      try {
        process.kill(-shellProc.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function pgrepCount(pattern: string): number {
  const r = spawnSync('pgrep', ['-c', '-f', `^${pattern}$`], { encoding: 'utf8' });
  return Number.parseInt(r.stdout.trim() || '0', 10);
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
