import { labPaths, type LabPaths } from './paths.js';
import { DISTCC_PORT, labHosts, type LabHost } from './topology.js';
import { readLabConfig } from './config.js';
import { networkFacts } from './network.js';
import { holderPid } from './holder.js';
import { listeningPorts } from './sshd.js';
import { readTemperature } from './thermal.js';
import { requireRoot } from './lifecycle.js';

export type PowerState = 'up' | 'down';
export type ServiceState = 'up' | 'down' | 'n/a';

export interface HostStatus {
  host: string;
  class: LabHost['hardwareClass'];
  address: string;
  power: PowerState;
  sshd: ServiceState;
  distccd: ServiceState;
  celsius: number | null;
}

export interface LabStatus {
  dir: string;
  configured: boolean;
  workers: number;
  hosts: HostStatus[];
}

/** Reads every host's state: holder alive and cable in, and whether sshd / distccd listen. */
export async function labStatus(paths: LabPaths = labPaths()): Promise<LabStatus> {
  requireRoot();
  const config = await readLabConfig(paths);
  if (!config) return { dir: paths.dir, configured: false, workers: 0, hosts: [] };
  const facts = await networkFacts();
  const hosts = await Promise.all(
    labHosts(config.workers).map(async (h): Promise<HostStatus> => {
      const holder = await holderPid(paths, h);
      const cable = facts.links.get(h.veth) === true;
      const up = holder !== undefined && cable;
      const ports = holder !== undefined ? await listeningPorts(holder) : new Set<number>();
      const sshd = up && ports.has(22);
      const distccd = up && ports.has(DISTCC_PORT);
      return {
        host: h.name,
        class: h.hardwareClass,
        address: h.address,
        power: up ? 'up' : 'down',
        sshd: sshd ? 'up' : 'down',
        distccd: h.role !== 'worker' ? 'n/a' : distccd ? 'up' : 'down',
        celsius: (await readTemperature(paths, h)) ?? null,
      };
    }),
  );
  return { dir: paths.dir, configured: true, workers: config.workers, hosts };
}

/** The status table `tsplay lab status` prints. */
export function formatStatus(status: LabStatus): string {
  if (!status.configured) return `lab is not up (state dir ${status.dir}); run \`tsplay lab up\``;
  const head = ['HOST', 'CLASS', 'ADDRESS', 'POWER', 'SSHD', 'DISTCCD', '°C'];
  const rows = status.hosts.map((h) => [h.host, h.class, h.address, h.power, h.sshd, h.distccd === 'n/a' ? '-' : h.distccd,
    h.celsius === null ? '?' : h.celsius.toFixed(1)]);
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((r) => (r[i] ?? '').length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}
