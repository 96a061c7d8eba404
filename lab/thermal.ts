import { readFile, writeFile } from 'node:fs/promises';
import type { LabPaths } from './paths.js';
import { hostPaths } from './paths.js';
import type { LabHost } from './topology.js';
import { usageError } from './errors.js';

export const MIN_CELSIUS = -40;
export const MAX_CELSIUS = 150;

/** Parses a CELSIUS argument; a bad one is a usage error. */
export function parseCelsius(text: string): number {
  const c = Number(text);
  if (text.trim() === '' || !Number.isFinite(c) || c < MIN_CELSIUS || c > MAX_CELSIUS) {
    throw usageError('lab/bad-temperature', `temperature must be a number of degrees Celsius from ${MIN_CELSIUS} to ${MAX_CELSIUS}, got "${text}"`);
  }
  return c;
}

/** Sets the host's sensor; written in place, so the file bind-mounted on the host keeps its inode. */
export async function setTemperature(paths: LabPaths, host: LabHost, celsius: number): Promise<void> {
  await writeFile(hostPaths(paths, host.name).thermalTemp, `${Math.round(celsius * 1000)}\n`);
}

/** The host's sensor in degrees Celsius, or undefined when it has none yet. */
export async function readTemperature(paths: LabPaths, host: LabHost): Promise<number | undefined> {
  const text = (await readFile(hostPaths(paths, host.name).thermalTemp, 'utf8').catch(() => '')).trim();
  const milli = Number(text);
  return text !== '' && Number.isFinite(milli) ? milli / 1000 : undefined;
}
