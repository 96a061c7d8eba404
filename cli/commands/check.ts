/** tsplay check: everything `run` checks before it runs, and nothing else. Executes nothing, anywhere. */
import type { Command } from 'commander';
import { prepare } from '../../engine/prepare.js';
import { EXIT } from '../exit-codes.js';
import { parseExtraVars } from '../extra-vars.js';
import { addInventoryOptions } from '../options.js';
import { printDiagnostics } from '../diagnostics-output.js';

export function registerCheck(program: Command): void {
  const cmd = program
    .command('check')
    .description('validate playbooks against the inventory and the doctrine without contacting any host (for pre-commit and CI)')
    .argument('<playbook...>', 'playbook files');
  addInventoryOptions(cmd);
  cmd.option('--format <format>', 'text or json', 'text');
  cmd.action((playbooks: string[], o: { inventory: string; limit?: string; extraVars: string[]; format: string }) => {
    if (o.format !== 'text' && o.format !== 'json') {
      process.stderr.write(`tsplay: error cli/bad-format: --format must be text or json, not "${o.format}"\n`);
      return void (process.exitCode = EXIT.USAGE);
    }
    const extraVars = parseExtraVars(o.extraVars);
    const p = prepare({ playbooks, inventory: o.inventory, limit: o.limit, extraVars, check: true });
    if (o.format === 'json') {
      const plays = (p.plan?.plays ?? []).map((pp) => ({ playbook: pp.playbook.path, play: pp.play.name, hosts: pp.hosts, tasks: pp.play.tasks.length }));
      process.stdout.write(JSON.stringify({ ok: p.errors === 0, errors: p.errors, warnings: p.diagnostics.length - p.errors, diagnostics: p.diagnostics, plays }, null, 2) + '\n');
    } else {
      printDiagnostics(p.diagnostics);
      if (p.errors === 0) {
        const tasks = p.playbooks.reduce((n, pb) => n + pb.plays.reduce((m, pl) => m + pl.tasks.length + pl.handlers.length, 0), 0);
        process.stdout.write(`ok: ${playbooks.length} playbook${playbooks.length === 1 ? '' : 's'}, ${p.plan?.plays.length ?? 0} plays, ${tasks} tasks checked against ${o.inventory} and the doctrine\n`);
      }
    }
    process.exitCode = p.errors ? EXIT.INVALID : EXIT.OK;
  });
}
