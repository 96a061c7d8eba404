/**
 * A real, throwaway sshd on 127.0.0.1 for transport tests: temp host key, temp authorized_keys,
 * temp config, `sshd -D -e -f cfg` on a free port.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Sshd {
  port: number;
  /** The sshd master process. */
  pid: number;
  user: string;
  /** A private key the server accepts. */
  clientKeyPath: string;
  /** A known_hosts file holding this server's host key under `[127.0.0.1]:port`. */
  knownHostsPath: string;
  /** `ssh-ed25519 AAAA...` */
  hostKeyPub: string;
  dir: string;
  /** What sshd wrote to stderr so far (-e). */
  log(): string;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Extra sshd_config lines. */
  config?: string[];
}

const SSHD = '/usr/sbin/sshd';

export function keygen(file: string, type = 'ed25519'): string {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'tsplay-test', '-f', file], { stdio: 'ignore' });
  const [t, k] = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/);
  return `${t} ${k}`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-sshd-'));
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation directory
  const hostKey = path.join(dir, 'host_ed25519');
  const hostKeyPub = keygen(hostKey);
  const clientKeyPath = path.join(dir, 'client_ed25519');
  const clientPub = keygen(clientKeyPath);
  writeFileSync(path.join(dir, 'authorized_keys'), `${clientPub}\n`, { mode: 0o600 });
  const user = os.userInfo().username;

  for (let tries = 0; ; tries++) {
    const port = await freePort();
    const cfg = path.join(dir, 'sshd_config');
    writeFileSync(
      cfg,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${path.join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
        'AuthenticationMethods publickey',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'StrictModes no',
        'UsePAM no',
        'UseDNS no',
        'Subsystem sftp internal-sftp',
        'LogLevel INFO',
        ...(opts.config ?? []),
        '',
      ].join('\n'),
    );
    const child = spawn(SSHD, ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let log = '';
    child.stderr!.on('data', (b: Buffer) => {
      log += b.toString();
    });
    const up = await waitForBanner(port, child, 5000);
    if (up) {
      const knownHostsPath = path.join(dir, 'known_hosts');
      writeFileSync(knownHostsPath, `[127.0.0.1]:${port} ${hostKeyPub}\n`, { mode: 0o600 });
      return {
        port,
        pid: child.pid!,
        user,
        clientKeyPath,
        knownHostsPath,
        hostKeyPub,
        dir,
        log: () => log,
        stop: () => stopSshd(child, dir),
      };
    }
    child.kill('SIGKILL');
    if (tries >= 3) throw new Error(`sshd did not start:\n${log}`);
  }
}

async function stopSshd(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    // sshd leads its own process group (detached); per-connection children may linger in it.
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 3000)))]);
    clearTimeout(timer);
  }
  rmSync(dir, { recursive: true, force: true });
}

async function waitForBanner(port: number, child: ChildProcess, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.setTimeout(1000);
      sock.once('data', (b) => {
        sock.destroy();
        resolve(b.toString().startsWith('SSH-'));
      });
      sock.once('error', () => resolve(false));
      sock.once('timeout', () => {
        sock.destroy();
        resolve(false);
      });
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Pids of the per-connection sshd processes (descendants of the master named sshd). */
export function sessionPids(masterPid: number): number[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' });
  const children = new Map<number, Array<{ pid: number; comm: string }>>();
  for (const line of out.trim().split('\n')) {
    const [pid, ppid, comm] = line.trim().split(/\s+/) as [string, string, string];
    const list = children.get(Number(ppid)) ?? [];
    list.push({ pid: Number(pid), comm });
    children.set(Number(ppid), list);
  }
  const result: number[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      if (!c.comm.startsWith('sshd')) continue;
      result.push(c.pid);
      walk(c.pid);
    }
  };
  walk(masterPid);
  return result;
}
