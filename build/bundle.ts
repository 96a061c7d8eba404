/**
 * Build step (`npm run build` runs it after tsc and the schema precompile): bundles the CLI that
 * tsc emitted (dist/cli/main.js and everything it imports, dependencies included) with esbuild
 * into dist/bundle/, one chunk per lazily loaded command, which bin/tsplay.js starts.
 *
 * Why: Node 20's ES module loader resolves, reads and compiles each of the ~200 files a `tsplay
 * run` used to load one by one; that was ~100 ms of every start on this machine (README,
 * Performance), and more on a CM3+. The bundle is the same JavaScript tsc emitted, so the tests
 * that import dist/ modules and the CLI they start run the same code.
 *
 * node-ssh and ssh2 stay outside: ssh2 finds files beside its own (its optional native crypto
 * binding, a wasm-compiled poly1305), and both are loaded only when a run connects.
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { installRoot } from '../engine/util/install.js';

export const EXTERNAL = ['node-ssh', 'ssh2'];

export async function bundle(root = installRoot()): Promise<string> {
  const outdir = path.join(root, 'dist', 'bundle');
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: [path.join(root, 'dist', 'cli', 'main.js')],
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    // CommonJS dependencies call require(); an ES module has none, so each chunk makes its own.
    banner: { js: "import { createRequire as __tsplayCreateRequire } from 'node:module'; const require = __tsplayCreateRequire(import.meta.url);" },
    logLevel: 'warning',
    legalComments: 'none',
  });
  return outdir;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outdir = await bundle();
  process.stdout.write(`bundled the CLI → ${outdir}\n`);
}
