/** tsplay inventory --list / --graph, as ansible-inventory does. */
import type { Command } from 'commander';
import { loadDoctrine } from '../../engine/doctrine/load.js';
import { loadInventory } from '../../engine/inventory/load.js';
import { EXIT } from '../exit-codes.js';
import { printDiagnostics } from '../diagnostics-output.js';
import { DEFAULT_INVENTORY } from '../options.js';
import { Redactor, secretValues } from '../../engine/run/redact.js';

export function registerInventory(program: Command): void {
  program
    .command('inventory')
    .description('show the inventory after variable precedence: --list (JSON) or --graph (tree)')
    .option('-i, --inventory <file>', 'inventory file', process.env.TSPLAY_INVENTORY ?? DEFAULT_INVENTORY)
    .option('--list', 'print hosts, groups and merged host variables as JSON')
    .option('--graph', 'print the group tree')
    .action((o: { inventory: string; list?: boolean; graph?: boolean }) => {
      const r = loadInventory(o.inventory, loadDoctrine());
      printDiagnostics(r.diagnostics);
      if (!r.inventory) return void (process.exitCode = EXIT.INVALID);
      const inv = r.inventory;
      if (o.graph) {
        const lines: string[] = [];
        const walk = (name: string, depth: number) => {
          const g = inv.groups.get(name)!;
          lines.push(`${'  |'.repeat(depth)}--@${name}:`);
          for (const c of g.children) walk(c, depth + 1);
          const childHosts = new Set(g.children.flatMap((c) => inv.groups.get(c)!.hosts));
          for (const h of g.hosts) if (!childHosts.has(h) && (name !== 'all' || !inv.groups.get('all')!.children.some((c) => inv.groups.get(c)!.hosts.includes(h)))) lines.push(`${'  |'.repeat(depth + 1)}--${h}`);
        };
        walk('all', 0);
        process.stdout.write(lines.map((l) => l.replace(/^ {2}/, '')).join('\n') + '\n');
        return;
      }
      const hostvars: Record<string, unknown> = {};
      for (const [n, h] of inv.hosts) hostvars[n] = new Redactor(secretValues(h.vars, h.secretVars)).value(h.vars);
      const out: Record<string, unknown> = { _meta: { hostvars } };
      for (const [n, g] of inv.groups) out[n] = { hosts: g.hosts.filter((h) => !g.children.some((c) => inv.groups.get(c)!.hosts.includes(h))), children: g.children, vars: g.vars };
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    });
}
