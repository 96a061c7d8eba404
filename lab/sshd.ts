import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import type { LabPaths } from './paths.js';
import { hostPaths } from './paths.js';
import type { LabHost } from './topology.js';
import { must, waitFor } from './exec.js';
import { hostEnv, nsenterArgs, processInNetns } from './holder.js';

/** The host's own sshd: its address only, root by key only, state in its private /run. */
export function sshdConfig(paths: LabPaths, host: LabHost): string {
  const hp = hostPaths(paths, host.name);
  return [
    `# tsplay lab: sshd for ${host.name}`,
    `ListenAddress ${host.address}:22`,
    `HostKey ${hp.hostKey}`,
    'PidFile /run/sshd.pid',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    `AuthorizedKeysFile ${paths.authorizedKeys}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'UseDNS no',
    'StrictModes yes',
    'MaxStartups 100:30:200',
    'MaxSessions 64',
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    'AcceptEnv LANG LC_* DISTCC_*',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
}

export async function writeSshdConfig(paths: LabPaths, host: LabHost): Promise<void> {
  await writeFile(hostPaths(paths, host.name).sshdConfig, sshdConfig(paths, host), { mode: 0o644 });
}

/** True when something accepts TCP connections on address:port within timeoutMs. */
export function tcpListening(address: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: address, port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/**
 * TCP ports something listens on inside the network namespace of process `pid`, read from
 * /proc/PID/net/tcp — a quiet check that does not open connections (and so logs nothing on the host).
 */
export async function listeningPorts(pid: number): Promise<Set<number>> {
  const text = await readFile(`/proc/${pid}/net/tcp`, 'utf8').catch(() => '');
  const ports = new Set<number>();
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    const local = cols[1];
    if (cols[3] !== '0A' || !local) continue; // 0A = LISTEN
    ports.add(parseInt(local.split(':')[1] ?? '', 16));
  }
  return ports;
}

/** The pid of the host's running sshd, read from its private /run, or undefined. */
export async function sshdPid(paths: LabPaths, host: LabHost): Promise<number | undefined> {
  const text = await readFile(`${hostPaths(paths, host.name).run}/sshd.pid`, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return (await processInNetns(pid, host.netns)) ? pid : undefined;
}

/** Starts sshd inside the host (it daemonizes) unless it already runs; waits until it accepts connections. */
export async function ensureSshd(paths: LabPaths, host: LabHost, holderPid: number): Promise<void> {
  if ((await sshdPid(paths, host)) !== undefined && (await tcpListening(host.address, 22, 500))) return;
  const hp = hostPaths(paths, host.name);
  await must('nsenter', nsenterArgs(holderPid, ['/usr/sbin/sshd', '-f', hp.sshdConfig, '-E', '/var/log/sshd.log']), { env: hostEnv() });
  await waitFor(`sshd on ${host.name} (${host.address}:22)`, 15000, async () =>
    (await tcpListening(host.address, 22, 300)) ? true : undefined,
  );
}
