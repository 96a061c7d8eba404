/**
 * The entry of tsplay's V8 start-up snapshot. `npm run build` (build/snapshot.ts) bundles this file
 * into one CommonJS script, dist/snapshot/entry.cjs, and runs it under `node --build-snapshot`: the
 * CLI and the modules of the commands imported below are then loaded, compiled and initialised
 * once, at build time, and written to dist/snapshot/tsplay.blob. bin/tsplay starts node with that
 * blob, and node starts from the heap as it was left here instead of reading, compiling and running
 * ~2 MB of JavaScript: ~40 ms less per start on the bench machine (README, Performance), more on a
 * CM3+.
 *
 * What the snapshot must not hold is anything that belongs to the run rather than the build: no
 * module computes paths, colours or environment at load time (the install root is forgotten below;
 * chalk's levels are chosen per stream when a reporter starts; ajv's precompiled validators and
 * ssh2, with its native binding, are loaded at run time through a real `require`).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { forgetInstallRoot } from '../engine/util/install.js';
import { main } from './main.js';
// The commands whose start-up matters most, initialised into the snapshot. Any other command's
// module is in the bundle too, and initialised when it runs.
import './commands/run.js';
import './commands/check.js';

// Set by the bundle's banner (build/snapshot.ts): the `require` and `import.meta.url` the bundled
// modules see, pointed at the installation at run time.
declare let __tsplayRequire: NodeJS.Require;
declare let __tsplayImportMetaUrl: string;

v8.startupSnapshot.addSerializeCallback(() => forgetInstallRoot());

v8.startupSnapshot.setDeserializeMainFunction(() => {
  // bin/tsplay passes <root>/bin/tsplay.js as the script: the installation is the one it names.
  const entry = path.join(path.dirname(path.dirname(path.resolve(process.argv[1] ?? ''))), 'dist', 'snapshot', 'entry.cjs');
  __tsplayRequire = createRequire(entry);
  __tsplayImportMetaUrl = pathToFileURL(entry).href;
  main(process.argv).catch((err: unknown) => {
    process.stderr.write(`tsplay: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(70);
  });
});
