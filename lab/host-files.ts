import { access, chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabPaths } from './paths.js';
import { hostPaths } from './paths.js';
import { DEFAULT_TEMP_MILLI, type LabHost } from './topology.js';

async function exists(p: string): Promise<boolean> {
  return access(p).then(() => true, () => false);
}

/**
 * The host's private trees under hostsDir/<name>: run, tmp, log, systemd (→ /etc/systemd/system),
 * srv + build (builder), thermal (→ /sys/class/thermal) and uptime (→ /proc/uptime).
 * Existing content (a heated sensor, files in /tmp, enabled units) is kept.
 */
export async function ensureHostTree(paths: LabPaths, host: LabHost): Promise<void> {
  const hp = hostPaths(paths, host.name);
  for (const d of [hp.run, hp.log, hp.systemd, path.dirname(hp.thermalTemp)]) await mkdir(d, { recursive: true, mode: 0o755 });
  await mkdir(path.join(hp.dir, 'root'), { recursive: true, mode: 0o700 });
  await mkdir(hp.tmp, { recursive: true });
  await chmod(hp.tmp, 0o1777);
  if (host.buildMount) {
    await mkdir(path.join(hp.dir, 'srv', 'build'), { recursive: true });
    await mkdir(hp.build, { recursive: true });
  }
  if (!(await exists(hp.thermalTemp))) await writeFile(hp.thermalTemp, `${DEFAULT_TEMP_MILLI}\n`);
  await writeFile(path.join(path.dirname(hp.thermalTemp), 'type'), host.role === 'orchestrator' ? 'cpu-thermal\n' : 'x86_pkg_temp\n');
  if (!(await exists(hp.uptime))) await writeFile(hp.uptime, '0.00 0.00\n');
}

/**
 * What a power cycle clears: the private /run (pid files, systemctl state) is emptied and
 * /proc/uptime starts again from zero. /tmp, /var/log and the build tree survive, as on disk.
 */
export async function resetForBoot(paths: LabPaths, host: LabHost): Promise<void> {
  const hp = hostPaths(paths, host.name);
  await rm(hp.run, { recursive: true, force: true });
  await mkdir(path.join(hp.run, 'sshd'), { recursive: true, mode: 0o755 });
  await chmod(path.join(hp.run, 'sshd'), 0o755);
  await writeFile(hp.uptime, '0.00 0.00\n');
}
