/**
 * The namespace lab for tests: `tsplay lab up` once per test file (idempotent, ~3 s when already
 * up), then the lab's own inventory. Needs root, like the lab itself.
 */
import path from 'node:path';
import { runTsplay, expectExit, type CliResult } from './cli.js';
import { ROOT } from './paths.js';

export interface Lab {
  dir: string;
  inventory: string;
  manifest: string;
  knownHosts: string;
  privateKey: string;
}

export const LAB_DIR = process.env.TSPLAY_LAB_DIR ?? path.join(ROOT, '.lab');

let up: Promise<Lab> | undefined;

/**
 * Brings the lab up (or repairs it) with `workers` workers; every host powered on, 45 °C. The tests
 * take the machine's one lab over (--take-over) when another checkout left its lab running.
 */
export function ensureLab(workers = 2): Promise<Lab> {
  up ??= (async () => {
    const r = await runTsplay(['lab', 'up', '--take-over', '--workers', String(workers)], { timeoutMs: 600_000 });
    expectExit(r, 0);
    for (const h of ['cm3', 'builder', ...Array.from({ length: workers }, (_, i) => `w${i + 1}`)]) {
      expectExit(await runTsplay(['lab', 'heat', h, '45']), 0);
    }
    return {
      dir: LAB_DIR,
      inventory: path.join(LAB_DIR, 'inventory.yml'),
      manifest: path.join(LAB_DIR, 'distcc-hosts.yml'),
      knownHosts: path.join(LAB_DIR, 'known_hosts'),
      privateKey: path.join(LAB_DIR, 'id_ed25519'),
    };
  })();
  return up;
}

/** `tsplay lab ARGS...`, failing the test when it fails. */
export async function lab(...args: string[]): Promise<CliResult> {
  const r = await runTsplay(['lab', ...args], { timeoutMs: 300_000 });
  expectExit(r, 0);
  return r;
}
