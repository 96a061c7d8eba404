/** tsplay list-tasks / list-hosts: what a run would do, after validation. */
import type { Command } from 'commander';
import { prepare } from '../../engine/prepare.js';
import { EXIT } from '../exit-codes.js';
import { parseExtraVars } from '../extra-vars.js';
import { addInventoryOptions } from '../options.js';
import { printDiagnostics } from '../diagnostics-output.js';

export function registerList(program: Command): void {
  for (const what of ['tasks', 'hosts'] as const) {
    const cmd = program.command(`list-${what}`).description(`list the ${what} each play would run ${what === 'tasks' ? '' : 'on '}(validates first)`).argument('<playbook...>');
    addInventoryOptions(cmd);
    cmd.action((playbooks: string[], o: { inventory: string; limit?: string; extraVars: string[] }) => {
      const p = prepare({ playbooks, inventory: o.inventory, limit: o.limit, extraVars: parseExtraVars(o.extraVars), check: true });
      printDiagnostics(p.diagnostics);
      if (p.errors) return void (process.exitCode = EXIT.INVALID);
      const out: string[] = [];
      for (const pp of p.plan!.plays) {
        out.push(`playbook: ${pp.playbook.path}`, `  play #${pp.play.index + 1} (${pp.play.hosts}): ${pp.play.name}${pp.play.tags.length ? `\tTAGS: [${pp.play.tags.join(', ')}]` : ''}`);
        if (what === 'hosts') {
          out.push(`    hosts (${pp.hosts.length}):`, ...pp.hosts.map((h) => `      ${h}`));
        } else {
          out.push('    tasks:');
          for (const t of pp.play.tasks) out.push(`      ${t.name}\t[${t.module}]${t.tags.length ? `\tTAGS: [${t.tags.join(', ')}]` : ''}`);
          if (pp.play.handlers.length) out.push('    handlers:', ...pp.play.handlers.map((h) => `      ${h.name}\t[${h.module}]`));
        }
      }
      process.stdout.write(out.join('\n') + '\n');
    });
  }
}
