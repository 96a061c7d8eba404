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
 * Node's own modules are loaded with require(), not import: importing one from an ES module makes
 * Node build a facade that reads every export, which loads what tsplay never uses (`node:crypto`'s
 * webcrypto, `node:fs`'s streams): ~15 ms of each start.
 *
 * node-ssh and ssh2 stay outside: ssh2 finds files beside its own (its optional native crypto
 * binding, a wasm-compiled poly1305), and both are loaded only when a run connects.
 */
import { build, type Plugin } from 'esbuild';
import { rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { installRoot } from '../engine/util/install.js';

export const EXTERNAL = ['node-ssh', 'ssh2'];

/** `import … from 'node:x'` becomes a CommonJS module of the bundle holding `require('node:x')`. */
const builtinsByRequire: Plugin = {
  name: 'builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) =>
      isBuiltin(args.path) && args.kind !== 'require-call' ? { path: args.path, namespace: 'node-builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

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
    plugins: [builtinsByRequire],
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
