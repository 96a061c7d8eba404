import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabPaths } from './paths.js';
import { hostPaths } from './paths.js';
import { DISTCC_JOBS, DISTCC_PORT, SUBNET, type LabHost } from './topology.js';
import { must } from './exec.js';
import { hostEnv, nsenterArgs } from './holder.js';

/** distccd as a unit in the worker's private /etc/systemd/system, run by the systemctl replacement. */
export function distccdUnit(host: LabHost): string {
  return [
    '[Unit]',
    `Description=distcc compile server (tsplay lab ${host.name})`,
    'After=network.target',
    '',
    '[Service]',
    'Type=simple',
    // distccd drops to user distccd before opening its log, so the log must be its own.
    'ExecStartPre=/bin/sh -c "touch /var/log/distccd.log && chown distccd /var/log/distccd.log"',
    `ExecStart=/usr/bin/distccd --no-detach --daemon --user distccd --listen ${host.address} --port ${DISTCC_PORT}` +
      ` --allow ${SUBNET} --jobs ${DISTCC_JOBS} --log-level info --log-file /var/log/distccd.log`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** Writes the host's unit files (workers: distccd.service). */
export async function writeUnits(paths: LabPaths, host: LabHost): Promise<void> {
  if (host.role !== 'worker') return;
  await writeFile(path.join(hostPaths(paths, host.name).systemd, 'distccd.service'), distccdUnit(host));
}

/** Units `lab up` enables on a host. */
export function unitsToEnable(host: LabHost): string[] {
  return host.role === 'worker' ? ['distccd.service'] : [];
}

/**
 * Boot: enable the host's units (with its systemctl), then start every unit enabled in its private
 * multi-user.target.wants that is not already active — what systemd would do on the way to multi-user.
 */
export async function bootUnits(host: LabHost, holder: number): Promise<void> {
  const enable = unitsToEnable(host);
  const script = [
    'set -e',
    'for u in "$@"; do [ -e "/etc/systemd/system/multi-user.target.wants/$u" ] || /usr/bin/systemctl enable "$u"; done',
    'for f in /etc/systemd/system/multi-user.target.wants/*; do',
    '  [ -e "$f" ] || continue',
    '  u=${f##*/}',
    '  /usr/bin/systemctl is-active -q "$u" || /usr/bin/systemctl start "$u"',
    'done',
  ].join('\n');
  await must('nsenter', nsenterArgs(holder, ['/usr/bin/bash', '-c', script, 'boot', ...enable]), { timeoutMs: 120000, env: hostEnv() });
}
