/**
 * The module registry: an explicit list (ESLint's lib/rules/index.js), no filesystem scanning.
 * Adding a module is one file, one line here, its tests and its README section.
 */
import type { ModuleDef } from '../engine/module-types.js';
import { assert } from './assert.js';
import { command } from './command.js';
import { copy } from './copy.js';
import { debug } from './debug.js';
import { distccManifest } from './distcc-manifest.js';
import { fail } from './fail.js';
import { makeJobserver } from './make-jobserver.js';
import { ping } from './ping.js';
import { portCheck } from './port-check.js';
import { pump } from './pump.js';
import { setFact } from './set-fact.js';
import { shell } from './shell.js';
import { systemd } from './systemd.js';
import { template } from './template.js';
import { thermal } from './thermal.js';
import { waitForConnection } from './wait-for-connection.js';

export const MODULES: readonly ModuleDef[] = [assert, command, copy, debug, distccManifest, fail, makeJobserver, ping, portCheck, pump, setFact, shell, systemd, template, thermal, waitForConnection];

const byName = new Map<string, ModuleDef>(MODULES.map((m) => [m.name, m]));

export function findModule(name: string): ModuleDef | undefined {
  return byName.get(name);
}

export function moduleNames(): string[] {
  return [...byName.keys()];
}
