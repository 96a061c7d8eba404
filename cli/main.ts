/**
 * The CLI is a thin layer over the engine (pyinfra's habit): it parses flags with commander, picks a
 * reporter and maps outcomes to exit codes. User mistakes print a rule id and a message, never a
 * stack trace.
 */
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { isTsplayError } from '../engine/diagnostics.js';
import { EXIT, UsageError } from './exit-codes.js';
import { printDiagnostics } from './diagnostics-output.js';
import { registerRun } from './commands/run.js';
import { registerCheck } from './commands/check.js';
import { registerList } from './commands/list.js';
import { registerInventory } from './commands/inventory.js';
import { registerLab } from './commands/lab.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('tsplay')
    .description('Ansible-style playbooks for the CM3+ kernel-build cluster, with the pumpsafe parallelism doctrine checked before anything runs')
    .version(pkg.version, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(`tsplay: ${str.replace(/^error: /, 'error cli/usage: ')}`),
    });
  registerRun(program);
  registerCheck(program);
  registerList(program);
  registerInventory(program);
  registerLab(program);
  program.addHelpText(
    'after',
    `
Exit codes: 0 ok · 2 a host failed · 3 a host was unreachable · 4 invalid input (nothing ran) · 5 bad usage · 130/143 interrupted · 70 internal error`,
  );
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = handleError(err);
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
