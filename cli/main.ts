/**
 * The CLI is a thin layer over the engine (pyinfra's habit): it parses flags with commander, picks a
 * reporter and maps outcomes to exit codes. User mistakes print a rule id and a message, never a
 * stack trace.
 */
import { Command, CommanderError } from 'commander';
import { isTsplayError } from '../engine/diagnostics.js';
import { tsplayVersion } from '../engine/util/install.js';
import { EXIT, UsageError } from './exit-codes.js';
import { printDiagnostics } from './diagnostics-output.js';

type Register = (program: Command) => void;

/**
 * Every command, by the names it registers. A command's module is imported only when that command
 * runs: start-up is most of a `tsplay check`, which has no use for ssh2, the runner or the lab.
 * Help, and anything not recognised here, loads them all.
 */
const COMMANDS: ReadonlyArray<{ names: readonly string[]; load: () => Promise<Register> }> = [
  { names: ['run'], load: async () => (await import('./commands/run.js')).registerRun },
  { names: ['check'], load: async () => (await import('./commands/check.js')).registerCheck },
  { names: ['list-tasks', 'list-hosts'], load: async () => (await import('./commands/list.js')).registerList },
  { names: ['inventory'], load: async () => (await import('./commands/inventory.js')).registerInventory },
  { names: ['lab'], load: async () => (await import('./commands/lab.js')).registerLab },
  { names: ['lifecycle'], load: async () => (await import('./commands/lifecycle.js')).registerLifecycle },
  { names: ['runs'], load: async () => (await import('./commands/runs.js')).registerRuns },
  { names: ['replay'], load: async () => (await import('./commands/replay.js')).registerReplay },
  { names: ['autopsy'], load: async () => (await import('./commands/autopsy.js')).registerAutopsy },
  { names: ['resume'], load: async () => (await import('./commands/resume.js')).registerResume },
  { names: ['report'], load: async () => (await import('./commands/report.js')).registerReport },
  { names: ['doc'], load: async () => (await import('./commands/doc.js')).registerDoc },
];

/** The program with the command named in `argv` (argv[2] onwards), or with every command. */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command();
  program
    .name('tsplay')
    .description('Ansible-style playbooks for the CM3+ kernel-build cluster, with the pumpsafe parallelism doctrine checked before anything runs')
    .version(tsplayVersion(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(`tsplay: ${str.replace(/^error: /, 'error cli/usage: ')}`),
    });
  const name = argv.slice(2).find((a) => !a.startsWith('-'));
  const one = COMMANDS.find((c) => name !== undefined && c.names.includes(name));
  for (const register of await Promise.all((one ? [one] : COMMANDS).map((c) => c.load()))) register(program);
  program.addHelpText(
    'after',
    `
Exit codes: 0 ok · 2 a host failed · 3 a host was unreachable · 4 invalid input (nothing ran) · 5 bad usage · 6 the run journal cannot be written · 130/143 interrupted · 70 internal error`,
  );
  return program;
}

/**
 * The launchers start node without NODE_EXTRA_CA_CERTS, which makes Node 20 parse its whole root
 * certificate store before any JavaScript runs (~40 ms of every start on the bench machine) for a
 * tool that makes no TLS connection; they hand its value over in TSPLAY_NODE_EXTRA_CA_CERTS ('' when
 * it was unset), put back here so that the commands tsplay starts see the operator's environment.
 */
export function restoreLauncherEnv(env: NodeJS.ProcessEnv = process.env): void {
  const saved = env.TSPLAY_NODE_EXTRA_CA_CERTS;
  if (saved === undefined) return;
  delete env.TSPLAY_NODE_EXTRA_CA_CERTS;
  if (saved !== '') env.NODE_EXTRA_CA_CERTS = saved;
}

export async function main(argv: string[]): Promise<void> {
  restoreLauncherEnv();
  // Once nothing is left to do, exit at once, with process.exitCode: returning from the event
  // loop instead has Node free the V8 heap page by page first (~4 ms of a `tsplay check`). If
  // nothing is left while the command has not finished, something it waits for can never happen:
  // say so and fail, rather than exit 0 halfway through a run.
  let finished = false;
  process.once('beforeExit', () => {
    if (!finished) {
      process.stderr.write('tsplay: internal error: nothing left to wait for, but the command had not finished (a bug in tsplay); the journal holds the run up to here\n');
      process.exitCode = 70;
    }
    process.exit();
  });
  // `tsplay runs | head`: a closed pipe must not crash tsplay (nor stop a run whose journal is still being written).
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = handleError(err);
  } finally {
    finished = true;
  }
}

function handleError(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.OK;
    return EXIT.USAGE;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`tsplay: error ${err.code}: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`);
    return EXIT.USAGE;
  }
  if (isTsplayError(err)) {
    printDiagnostics(err.diagnostics);
    return EXIT.INVALID;
  }
  const e = err as Error;
  process.stderr.write(`tsplay: internal error (a bug in tsplay, please report it): ${e?.stack ?? String(err)}\n`);
  return EXIT.INTERNAL;
}
