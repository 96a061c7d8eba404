import { readFile, writeFile } from 'node:fs/promises';
import type { LabPaths } from './paths.js';
import { findHost, labHosts, type LabHost } from './topology.js';
import { environmentError, usageError } from './errors.js';

/** What `lab up` last built; `lab start/stop/status` read it to know the topology. */
export interface LabConfig {
  workers: number;
}

export async function readLabConfig(paths: LabPaths): Promise<LabConfig | undefined> {
  try {
    const parsed = JSON.parse(await readFile(paths.config, 'utf8')) as Partial<LabConfig>;
    return typeof parsed.workers === 'number' ? { workers: parsed.workers } : undefined;
  } catch {
    return undefined;
  }
}

export async function writeLabConfig(paths: LabPaths, config: LabConfig): Promise<void> {
  await writeFile(paths.config, JSON.stringify(config, null, 2) + '\n');
}

/** The named host of the configured lab; an unknown name is a usage error. */
export async function configuredHost(paths: LabPaths, name: string): Promise<{ host: LabHost; hosts: LabHost[] }> {
  const config = await readLabConfig(paths);
  if (!config) throw environmentError('lab/not-up', 'the lab is not up', 'run `tsplay lab up` first');
  const hosts = labHosts(config.workers);
  const host = findHost(name, config.workers);
  if (!host) {
    throw usageError('lab/unknown-host', `no lab host "${name}" (hosts: ${hosts.map((h) => h.name).join(', ')})`);
  }
  return { host, hosts };
}
