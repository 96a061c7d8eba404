/**
 * Build step (`npm run build` runs it after the bundle): tsplay's V8 start-up snapshot, which
 * bin/tsplay starts node with (cli/snapshot-entry.ts says what it holds and why).
 *
 *   dist/snapshot/entry.cjs     cli/snapshot-entry.ts and everything it imports, one CommonJS file
 *   dist/snapshot/tsplay.blob   the heap after entry.cjs has run under `node --build-snapshot`
 *   dist/snapshot/node.stamp    the node binary the blob was built by (size, mtime, inode) and the
 *                               V8 flags it was built with: a blob only loads into the same node
 *                               with the same flags, so bin/tsplay uses it only when both match
 *
 * A snapshot that cannot be built (an unusual platform, a node without --build-snapshot) is not an
 * error: bin/tsplay then starts tsplay from dist/bundle as bin/tsplay.js does, only slower.
 */
import { build, type Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { EXTERNAL, nativeAddons, nodeSshDirectoryHelpersOut, ssh2ClientOnly } from './bundle.js';
import { installRoot } from '../engine/util/install.js';
import { PROFILE_OPTIONS, precompiledFile, type Profile } from '../engine/validate/precompiled.js';

/**
 * The V8 flags tsplay runs with, as bin/tsplay.js's #! line has them (it says why; a test checks
 * the two agree); the snapshot is built with them because V8 refuses a blob built under others.
 */
export const V8_FLAGS = ['--max-semi-space-size=2', '--no-opt', '--single-threaded-gc'];

/** `size mtime inode` of a file, as `stat -L -c '%s %Y %i'` prints them (bin/tsplay compares the two). */
export function fileStamp(file: string): string {
  const st = statSync(file);
  return `${st.size} ${Math.floor(st.mtimeMs / 1000)} ${st.ino}`;
}

/**
 * `require('tsplay:precompiled-validators')` in cli/snapshot-entry.ts: this build's
 * dist/schemas/validators-*.cjs (engine/validate/precompile.ts wrote them just before), bundled.
 */
function precompiledValidators(root: string): Plugin {
  // resolveDir: where the validators' own requires of ajv's runtime are resolved from.
  return {
    name: 'precompiled-validators',
    setup(b) {
      b.onResolve({ filter: /^tsplay:precompiled-validators$/ }, () => ({ path: 'validators', namespace: 'tsplay-precompiled' }));
      b.onLoad({ filter: /.*/, namespace: 'tsplay-precompiled' }, () => ({
        contents: (Object.keys(PROFILE_OPTIONS) as Profile[]).map((p) => `exports.${p} = require(${JSON.stringify(precompiledFile(p))});`).join('\n'),
        resolveDir: root,
        loader: 'js',
      }));
    },
  };
}

/**
 * The SSH client (node-ssh and ssh2's client, as dist/bundle has them) as a module graph that can
 * be made more than once: `require('tsplay:ssh-graph')` is a function that runs the graph's module
 * bodies anew at each call, with the `require` it is given, and returns node-ssh's exports (and,
 * for the warm-up only, ssh2's server and key generator, whose module bodies run only when asked).
 *
 * Why: ssh2 cannot be loaded while the snapshot is built and kept, because its module state comes
 * from the machine it runs on (its native crypto binding, which a snapshot cannot hold; the CPU's
 * AES support; the poly1305 WebAssembly, which does not exist while a snapshot is built). But V8
 * keeps the bytecode of every function that has run, and every instance of the graph shares its
 * functions' code: the warm-up (cli/snapshot-ssh-warmup.ts) makes one instance, without the
 * binding, runs its playbook through tsplay's SSH transport and that instance against ssh2's
 * server in memory, then drops it; a run's first connection makes the instance it uses, with the binding,
 * from code compiled at build time instead of at each start.
 *
 * `node-ssh`, as engine/transport/ssh.ts imports it, is that run-time instance.
 */
function sshGraph(outdir: string, root: string): Plugin {
  return {
    name: 'ssh-graph',
    setup(b) {
      b.onResolve({ filter: /^node-ssh$/ }, (args) =>
        /[\\/]engine[\\/]transport[\\/]/.test(args.importer) ? { path: 'node-ssh', namespace: 'ssh-graph' } : undefined,
      );
      b.onResolve({ filter: /^tsplay:ssh-graph$/ }, () => ({ path: 'factory', namespace: 'ssh-graph' }));
      b.onLoad({ filter: /^node-ssh$/, namespace: 'ssh-graph' }, () => ({
        // `require` here is the bundle's own (its banner's), which resolves from the installation.
        contents: "module.exports = require('tsplay:ssh-graph')(require).nodeSsh;",
        loader: 'js',
      }));
      b.onLoad({ filter: /^factory$/, namespace: 'ssh-graph' }, async () => {
        const graph = await build({
          stdin: {
            contents: [
              "exports.nodeSsh = require('node-ssh');",
              "exports.warmUp = () => ({ Server: require('ssh2/lib/server.js'), generateKeyPairSync: require('ssh2/lib/keygen.js').generateKeyPairSync });",
            ].join('\n'),
            resolveDir: root,
            loader: 'js',
          },
          write: false,
          bundle: true,
          format: 'cjs',
          platform: 'node',
          target: 'node20',
          external: EXTERNAL,
          plugins: [ssh2ClientOnly, nodeSshDirectoryHelpersOut, poly1305WithoutWasm, nativeAddons(outdir)],
          logLevel: 'warning',
          legalComments: 'none',
          minifyWhitespace: true,
          minifySyntax: true,
        });
        const code = graph.outputFiles[0]!.text;
        return {
          contents: `module.exports = function sshGraph(require) {\nvar module = { exports: {} }, exports = module.exports;\n${code}\nreturn module.exports;\n};\n`,
          resolveDir: outdir,
          loader: 'js',
        };
      });
    },
  };
}

/**
 * ssh2's poly1305 (for chacha20-poly1305) is WebAssembly, which node does not have while it builds
 * a snapshot; ssh2 instantiates it before any connection starts, and waits for it. Without
 * WebAssembly (only then) the module gives a stand-in whose functions say so if they are called:
 * the warm-up negotiates AES-GCM and never calls them.
 */
const poly1305WithoutWasm: Plugin = {
  name: 'poly1305-without-wasm',
  setup(b) {
    b.onLoad({ filter: /[\\/]ssh2[\\/]lib[\\/]protocol[\\/]crypto[\\/]poly1305\.js$/ }, (args) => ({
      contents: `${readFileSync(args.path, 'utf8')}
if (typeof WebAssembly === 'undefined') module.exports = function () {
  var unavailable = function () { throw new Error('poly1305 is not available without WebAssembly'); };
  return Promise.resolve({ _malloc: function () { return 0; }, cwrap: function () { return unavailable; } });
};
`,
      loader: 'js',
    }));
  },
};

export async function buildSnapshot(root = installRoot()): Promise<{ blob?: string; problem?: string }> {
  const outdir = path.join(root, 'dist', 'snapshot');
  rmSync(outdir, { recursive: true, force: true });
  const entry = path.join(outdir, 'entry.cjs');
  await build({
    entryPoints: [path.join(root, 'dist', 'cli', 'snapshot-entry.js')],
    outfile: entry,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    plugins: [sshGraph(outdir, root), ssh2ClientOnly, nodeSshDirectoryHelpersOut, precompiledValidators(root), nativeAddons(outdir)],
    // While the snapshot is built, `require` loads only Node's own modules; snapshot-entry.ts points
    // these two at the installation when tsplay starts.
    define: { 'import.meta.url': '__tsplayImportMetaUrl' },
    banner: {
      js: [
        'var __tsplayRequire = require;',
        'var require = Object.assign((id) => __tsplayRequire(id), { resolve: (id, o) => __tsplayRequire.resolve(id, o) });',
        "var __tsplayImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
      ].join(' '),
    },
    logLevel: 'warning',
    // esbuild keeps quiet about suspicious code inside node_modules, but the SSH graph reaches this
    // build as one virtual module: asn1's `!strings instanceof Array` would be reported at each build.
    logOverride: { 'suspicious-boolean-not': 'silent' },
    legalComments: 'none',
    // The source is part of the snapshot (V8 keeps it to compile functions on first call), and
    // the bigger the snapshot, the longer node takes to read it in: whitespace and syntax
    // minified, names kept (stack traces still name functions). 9.2 → 6.7 MB; −6 ms a start.
    minifyWhitespace: true,
    minifySyntax: true,
  });
  const blob = path.join(outdir, 'tsplay.blob');
  // Node warns that some of its modules are "not yet fully verified" in snapshots; the tests run
  // every command through the blob, so those warnings are kept only for a build that fails.
  const r = spawnSync(process.execPath, [...V8_FLAGS, '--snapshot-blob', blob, '--build-snapshot', entry], { cwd: outdir, encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(outdir, { recursive: true, force: true });
    return { problem: `node --build-snapshot exited ${r.status ?? r.signal}: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-5).join('\n')}` };
  }
  // A warm-up that failed leaves a working snapshot that compiles more at each start: say so.
  for (const line of (r.stderr ?? '').split('\n')) if (line.startsWith('snapshot warm-up')) process.stderr.write(`${line}\n`);
  writeFileSync(path.join(outdir, 'node.stamp'), `${fileStamp(process.execPath)}\n${V8_FLAGS.join(' ')}\n`);
  return { blob };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { blob, problem } = await buildSnapshot();
  if (blob) process.stdout.write(`built the start-up snapshot → ${blob}\n`);
  else process.stderr.write(`no start-up snapshot (tsplay starts without one, slower): ${problem}\n`);
}
