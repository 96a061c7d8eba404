/**
 * The entry of tsplay's V8 start-up snapshot. `npm run build` (build/snapshot.ts) bundles this file
 * into one CommonJS script, dist/snapshot/entry.cjs, and runs it under `node --build-snapshot`: the
 * CLI and the modules of the commands imported below are then loaded, compiled and initialised
 * once, at build time, and written to dist/snapshot/tsplay.blob. bin/tsplay starts node with that
 * blob, and node starts from the heap as it was left here instead of reading, compiling and running
 * ~2 MB of JavaScript: ~50 ms less per start on the bench machine (README, Performance), more on a
 * CM3+.
 *
 * What the snapshot must not hold is anything that belongs to the run rather than the build: no
 * module computes paths, colours or environment at load time (the install root is forgotten below;
 * chalk's levels are chosen per stream when a reporter starts; ssh2's module graph, with its
 * native binding, is instantiated at run time: build/snapshot.ts, sshGraph).
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import type { ValidateFunction } from 'ajv';
import { forgetInstallRoot } from '../engine/util/install.js';
import { providePrecompiled, type Profile } from '../engine/validate/precompiled.js';
import { buildProgram, main } from './main.js';
import { warmRun } from './snapshot-warmup.js';
import { warmSsh, type SshGraph } from './snapshot-ssh-warmup.js';
import { prepare } from '../engine/prepare.js';
import { renderTemplate } from '../engine/template/render.js';
import { evaluateExpression } from '../engine/expr/index.js';
// The commands whose start-up matters most, initialised into the snapshot. Any other command's
// module is in the bundle too, and initialised when it runs.
import './commands/run.js';
import './commands/check.js';

// Set by the bundle's banner (build/snapshot.ts): the `require` and `import.meta.url` the bundled
// modules see, pointed at the installation at run time.
declare let __tsplayRequire: NodeJS.Require;
declare let __tsplayImportMetaUrl: string;

/** The shipped playbooks and example inventory, beside dist/ (build/snapshot.ts runs this in dist/snapshot). */
const SHIPPED = { playbooks: path.resolve('..', '..', 'playbooks'), inventory: path.resolve('..', '..', 'inventory', 'hosts.yml') };

// The precompiled schema validators of this build (build/snapshot.ts bundles them under this
// name), loaded once here rather than read and compiled from dist/schemas at every start.
const bundled = require('tsplay:precompiled-validators') as Record<Profile, Record<string, ValidateFunction>>;
for (const [profile, validators] of Object.entries(bundled)) providePrecompiled(profile as Profile, validators);

// Warm-up: V8 keeps in the snapshot the bytecode of what has run, so the code every run needs
// first is compiled here rather than at each start: everything `tsplay check` does, over the
// shipped playbooks and the example inventory. What it leaves behind is keyed by content (parsed
// expressions and templates) or comes from this build (the doctrine table); the install root it
// found is forgotten below. A warm-up that fails only leaves more to compile at run time.
try {
  const playbooks = readdirSync(SHIPPED.playbooks).filter((n) => n.endsWith('.yml')).map((n) => path.join(SHIPPED.playbooks, n));
  prepare({ playbooks, inventory: SHIPPED.inventory, extraVars: {}, check: true });
  renderTemplate('{{ a }} and {{ b }}', { a: 1, b: 'x' });
  evaluateExpression('a == 1 and b in ["x"]', { a: 1, b: 'x' });
} catch (err) {
  warmUpNote('failed', err);
}

// Then, in turn: commander parsing command lines (warmCli below); the run path
// (cli/snapshot-warmup.ts), a playbook through the Runner against in-memory hosts; ssh2 and node-ssh
// (cli/snapshot-ssh-warmup.ts), the same playbook through the SSH transport to ssh2's server in
// memory. The build's event loop runs them, and settleTimers after them, to the end before the
// snapshot is taken. Nothing of an in-memory connection keeps the event loop alive: a warm-up
// stuck on one would let node take the snapshot halfway, silently, but for this timer.
const stuck = setTimeout(() => warmUpNote('did not finish within 60 s'), 60_000);
warmCli()
  .catch((err: unknown) => warmUpNote('command line failed', err))
  .then(() => warmRun(SHIPPED.inventory))
  .then(
    (outcome) => {
      if (outcome !== 'ok') warmUpNote(`run ended ${outcome}`);
    },
    (err: unknown) => warmUpNote('run failed', err),
  )
  .then(() => warmSsh(require('tsplay:ssh-graph') as (req: (id: string) => unknown) => SshGraph, SHIPPED.inventory))
  .then((outcome) => {
    if (outcome !== 'ok') warmUpNote(`ssh run ended ${outcome}`);
  })
  .catch((err: unknown) => warmUpNote('ssh run failed', err))
  .finally(() => {
    clearTimeout(stuck);
    return settleTimers();
  });

/**
 * commander's parsing of a `run` and a `check` command line, as every start does, with each
 * command's action replaced by nothing (~90 of commander's functions, ~3 ms of compiling a start).
 */
async function warmCli(): Promise<void> {
  for (const args of [['run', '-i', SHIPPED.inventory, '--forks', '10', '-v', 'warm-up.yml'], ['check', '-i', SHIPPED.inventory, 'warm-up.yml']]) {
    const argv = ['node', 'tsplay', ...args];
    const program = await buildProgram(argv);
    for (const command of program.commands) command.action(() => undefined);
    await program.parseAsync(argv);
  }
}

/** Says on stderr (build/snapshot.ts passes on the lines that start so) that a warm-up went wrong. */
function warmUpNote(what: string, err?: unknown): void {
  const detail = err === undefined ? '' : `: ${(err as Error)?.stack ?? String(err)}`;
  process.stderr.write(`snapshot warm-up ${what} (tsplay works, a little slower to start)${detail}\n`);
}

/**
 * Node's timers keep the earliest expiry they have asked libuv for in a variable of their own; a
 * timer cleared before it fired (in the warm-up: the remote shell's greeting timeout) leaves it
 * set, and the snapshot would keep that build-time value: every timer of a run, due later than
 * it, would then never be scheduled, and a run waiting on one would stop, or hang, halfway (seen:
 * a `wait-for-connection: {delay: 2}` exited at once). A timer that fires last resets it, whatever
 * any warm-up did before.
 */
function settleTimers(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

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
