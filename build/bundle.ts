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
 * node-ssh and ssh2 are bundled too, in the chunk a run loads when it first connects: loading them
 * from node_modules (~45 files) cost ~13 ms more wall time and ~20 ms more CPU per run (A/B, 21 runs).
 * ssh2's native crypto binding stays in node_modules (nativeAddons below).
 */
import { build, type Plugin } from 'esbuild';
import { rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { installRoot } from '../engine/util/install.js';

/** ssh2's optional dependency on cpu-features (a native addon it requires inside try/catch). */
export const EXTERNAL = ['cpu-features'];

/**
 * ssh2's optional native crypto binding stays where npm built it: its require() is pointed there,
 * relative to the chunk (each chunk's require() resolves from its own place). Without the binding
 * ssh2 falls back to its JavaScript ciphers, bundled or not.
 */
export function nativeAddons(outdir: string): Plugin {
  return {
    name: 'native-addons',
    setup(b) {
      b.onResolve({ filter: /\.node$/ }, (args) => {
        const target = path.relative(outdir, path.resolve(args.resolveDir, args.path));
        return { path: target.startsWith('.') ? target : `./${target}`, external: true };
      });
    },
  };
}

/**
 * node-ssh uses one export of ssh2, its Client (`new ssh2.Client()`), but ssh2's index also loads
 * its server, key generator, agents and HTTP(S) agents, and with them Node's http, https, tls and
 * zlib: ~15 ms of every run's start for code a run never calls. node-ssh's `import 'ssh2'` gets a
 * module holding only the client.
 */
export const ssh2ClientOnly: Plugin = {
  name: 'ssh2-client-only',
  setup(b) {
    b.onResolve({ filter: /^ssh2$/ }, (args) =>
      /[\\/]node_modules[\\/]node-ssh[\\/]/.test(args.importer) ? { path: 'ssh2', namespace: 'ssh2-client-only' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'ssh2-client-only' }, () => ({
      contents: "module.exports = { Client: require('ssh2/lib/client.js') };",
      resolveDir: installRoot(),
      loader: 'js',
    }));
  },
};

/**
 * node-ssh's directory helpers (putDirectory, getDirectory) walk folders with sb-scandir and create
 * them with make-dir, which loads semver and compiles its ~40 regular expressions at load: a few
 * ms of every run for methods tsplay never calls (it writes files through its own transport). Both
 * become a function that says so if it is ever called.
 */
export const nodeSshDirectoryHelpersOut: Plugin = {
  name: 'node-ssh-directory-helpers-out',
  setup(b) {
    b.onResolve({ filter: /^(make-dir|sb-scandir)$/ }, (args) =>
      /[\\/]node_modules[\\/]node-ssh[\\/]/.test(args.importer) ? { path: args.path, namespace: 'node-ssh-unused' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'node-ssh-unused' }, (args) => ({
      contents: `module.exports = function () { throw new Error(${JSON.stringify(`${args.path} is not in tsplay's bundle: node-ssh's directory transfers are not used`)}); };`,
      loader: 'js',
    }));
  },
};

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
    plugins: [ssh2ClientOnly, nodeSshDirectoryHelpersOut, builtinsByRequire, nativeAddons(outdir)],
    // CommonJS dependencies call require(), which an ES module lacks, so each chunk makes its own;
    // some also look for files beside themselves (ssh2's poly1305 asks for its directory).
    banner: {
      js: [
        "import { createRequire as __tsplayCreateRequire } from 'node:module';",
        "import { fileURLToPath as __tsplayFileURLToPath } from 'node:url';",
        'const require = __tsplayCreateRequire(import.meta.url);',
        'const __filename = __tsplayFileURLToPath(import.meta.url);',
        "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
      ].join(' '),
    },
    logLevel: 'warning',
    legalComments: 'none',
  });
  return outdir;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outdir = await bundle();
  process.stdout.write(`bundled the CLI → ${outdir}\n`);
}
