/**
 * The module registry: an explicit list (ESLint's lib/rules/index.js), no filesystem scanning.
 * Adding a module is one file, one line here, its tests and its README section.
 */
import type { ModuleDef } from '../engine/module-types.js';
import { assert } from './assert.js';
import { command } from './command.js';
import { debug } from './debug.js';
import { fail } from './fail.js';
import { ping } from './ping.js';
import { setFact } from './set-fact.js';
import { shell } from './shell.js';

export const MODULES: readonly ModuleDef[] = [assert, command, debug, fail, ping, setFact, shell];

const byName = new Map<string, ModuleDef>(MODULES.map((m) => [m.name, m]));

export function findModule(name: string): ModuleDef | undefined {
  return byName.get(name);
}

export function moduleNames(): string[] {
  return [...byName.keys()];
}
