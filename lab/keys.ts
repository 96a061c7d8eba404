import { access, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabPaths } from './paths.js';
import { hostPaths } from './paths.js';
import type { LabHost } from './topology.js';
import { must } from './exec.js';

async function exists(p: string): Promise<boolean> {
  return access(p).then(() => true, () => false);
}

async function keygen(file: string, comment: string): Promise<void> {
  if (await exists(file)) return;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

/** The controller's client key and the authorized_keys every lab sshd trusts. Kept across `lab down`. */
export async function ensureClientKey(paths: LabPaths): Promise<void> {
  await keygen(paths.privateKey, 'tsplay-lab-controller');
  await chmod(paths.privateKey, 0o600);
  const pub = (await readFile(paths.publicKey, 'utf8')).trim();
  await writeFile(paths.authorizedKeys, pub + '\n', { mode: 0o600 });
}

/** Each host's ed25519 host key, generated once and kept across `lab down`. */
export async function ensureHostKey(paths: LabPaths, host: LabHost): Promise<void> {
  await keygen(hostPaths(paths, host.name).hostKey, `root@${host.name}`);
}

/** `10.177.0.X ssh-ed25519 AAAA...`, one line per host, for StrictHostKeyChecking=yes. */
export async function writeKnownHosts(paths: LabPaths, hosts: readonly LabHost[]): Promise<void> {
  const lines: string[] = [];
  for (const h of hosts) {
    const [type, key] = (await readFile(hostPaths(paths, h.name).hostKey + '.pub', 'utf8')).trim().split(/\s+/);
    lines.push(`${h.address} ${type} ${key}`);
  }
  await writeFile(paths.knownHosts, lines.join('\n') + '\n', { mode: 0o644 });
}
