import { writeFile } from 'node:fs/promises';
import type { LabPaths } from './paths.js';
import { DISTCC_JOBS, DISTCC_PORT, type HostRole, type LabHost } from './topology.js';

/** The command that powers a host on, as the inventory's `power_on` string. */
export function powerOnCommand(paths: LabPaths, host: LabHost): string {
  return `${paths.tsplayBin} lab start ${host.name}`;
}

function yamlString(s: string): string {
  return JSON.stringify(s);
}

function hostLine(paths: LabPaths, h: LabHost): string {
  const fields = [
    `address: ${h.address}`,
    `hardware_class: ${h.hardwareClass}`,
    `arch: ${h.arch}`,
    `memory_mb: ${h.memoryMb}`,
    ...(h.buildMount ? [`build_mount: ${h.buildMount}`, `required_mounts: [/run, /tmp, ${h.buildMount}]`] : []),
    `power_on: ${yamlString(powerOnCommand(paths, h))}`,
  ];
  return `        ${h.name}: { ${fields.join(', ')} }`;
}

const GROUPS: { group: string; role: HostRole }[] = [
  { group: 'orchestrator', role: 'orchestrator' },
  { group: 'builders', role: 'builder' },
  { group: 'workers', role: 'worker' },
];

/** tsplay's Ansible-shaped inventory for the lab, one flow mapping per host. */
export function inventoryYaml(paths: LabPaths, hosts: readonly LabHost[]): string {
  const out = [
    'all:',
    '  vars:',
    '    user: root',
    `    private_key: ${paths.privateKey}`,
    `    known_hosts_file: ${paths.knownHosts}`,
    `    distcc_manifest: ${paths.distccManifest}`,
    // What power-on checks on every host; the builder adds its build mount.
    '    required_mounts: [/run, /tmp]',
    '    distccd_log: /var/log/distccd.log',
    // Debian's systemctl script runs units without systemd as PID 1 and says so: "offline".
    '    systemd_ok_states: [running, degraded, offline]',
    '  children:',
  ];
  for (const { group, role } of GROUPS) {
    const members = hosts.filter((h) => h.role === role);
    if (members.length === 0) continue;
    out.push(`    ${group}:`, '      hosts:', ...members.map((h) => hostLine(paths, h)));
  }
  return out.join('\n') + '\n';
}

/** The distcc manifest: every worker, its port, job slots and client options. */
export function distccManifestYaml(hosts: readonly LabHost[]): string {
  const workers = hosts.filter((h) => h.role === 'worker');
  const lines = workers.map(
    (w) => `  - { host: ${w.name}, address: ${w.address}, port: ${DISTCC_PORT}, jobs: ${DISTCC_JOBS}, options: [cpp, lzo] }`,
  );
  return workers.length === 0 ? 'workers: []\n' : ['workers:', ...lines].join('\n') + '\n';
}

export async function writeInventory(paths: LabPaths, hosts: readonly LabHost[]): Promise<void> {
  await writeFile(paths.inventory, inventoryYaml(paths, hosts));
  await writeFile(paths.distccManifest, distccManifestYaml(hosts));
}
