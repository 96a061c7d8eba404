/**
 * Where tsplay is installed: the directory holding its package.json. Found by walking up from this
 * file, which is dist/engine/util/install.js as tsc emits it and a chunk in dist/bundle/ once
 * bundled (build/bundle.ts), so no caller counts `../` from its own place.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface Installed {
  root: string;
  version: string;
}

let installed: Installed | undefined;

function find(): Installed {
  if (installed) return installed;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tsplay') return (installed = { root: dir, version: pkg.version ?? '0.0.0' });
    } catch {
      // no package.json here, or not ours: keep going up
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`tsplay: cannot find its own package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The installation's root directory (the repository, for a checkout). */
export function installRoot(): string {
  return find().root;
}

/** tsplay's version, from its package.json. */
export function tsplayVersion(): string {
  return find().version;
}

/**
 * Forgets what find() found. For the start-up snapshot (cli/snapshot-entry.ts): the snapshot is
 * written where it was built, but the installation it starts may since have moved.
 */
export function forgetInstallRoot(): void {
  installed = undefined;
}
