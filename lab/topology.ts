/** The lab's fixed shape: one bridge, one /24, a cm3 orchestrator, a builder and N distcc workers. */

export const BRIDGE = 'tsplay0';
export const SUBNET = '10.177.0.0/24';
export const SUBNET_PREFIX = '10.177.0.';
export const BRIDGE_ADDRESS = '10.177.0.1';
export const NETNS_PREFIX = 'tsplay-';
export const DISTCC_PORT = 3632;
export const DISTCC_JOBS = 4;
export const DEFAULT_WORKERS = 2;
/** wK is 10.177.0.(100+K): the /24 leaves room for 154, benchmarks need 32. */
export const MAX_WORKERS = 64;
/** Millidegrees Celsius a host's sensor reads after `lab up`. */
export const DEFAULT_TEMP_MILLI = 45000;

export type HostRole = 'orchestrator' | 'builder' | 'worker';

export interface LabHost {
  name: string;
  role: HostRole;
  hardwareClass: 'cm3plus' | 'x86_64';
  arch: 'armv7l' | 'x86_64';
  memoryMb: number;
  address: string;
  /** Network namespace name, e.g. `tsplay-w1`. */
  netns: string;
  /** Root-namespace end of the host's veth pair (the host's end is `eth0`). */
  veth: string;
  /** Builder only: where the build tree is mounted. */
  buildMount?: string;
}

function host(name: string, role: HostRole, octet: number): LabHost {
  const base = { name, role, address: `${SUBNET_PREFIX}${octet}`, netns: `${NETNS_PREFIX}${name}`, veth: `tsp-${name}` };
  switch (role) {
    case 'orchestrator':
      return { ...base, hardwareClass: 'cm3plus', arch: 'armv7l', memoryMb: 1024 };
    case 'builder':
      return { ...base, hardwareClass: 'x86_64', arch: 'x86_64', memoryMb: 8192, buildMount: '/srv/build' };
    case 'worker':
      return { ...base, hardwareClass: 'x86_64', arch: 'x86_64', memoryMb: 4096 };
  }
}

export function workerName(k: number): string {
  return `w${k}`;
}

/** Every host of a lab with `workers` distcc workers, in a stable order: cm3, builder, w1..wN. */
export function labHosts(workers: number): LabHost[] {
  const hosts = [host('cm3', 'orchestrator', 10), host('builder', 'builder', 20)];
  for (let k = 1; k <= workers; k++) hosts.push(host(workerName(k), 'worker', 100 + k));
  return hosts;
}

/** The host called `name` in a lab of up to `maxWorkers` workers, or undefined. */
export function findHost(name: string, workers: number): LabHost | undefined {
  return labHosts(workers).find((h) => h.name === name);
}
