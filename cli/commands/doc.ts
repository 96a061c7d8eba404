/** tsplay doc [MODULE]: module reference generated from the modules' schemas (like ansible-doc). */
import type { Command } from 'commander';
import { MODULES, findModule, moduleNames } from '../../modules/index.js';
import { moduleMarkdown, modulesMarkdown } from '../../engine/docs/module-doc.js';
import { canonicalModuleName } from '../../engine/playbook/keywords.js';
import { didYouMean } from '../../engine/util/suggest.js';
import { UsageError } from '../exit-codes.js';

export function registerDoc(program: Command): void {
  program
    .command('doc')
    .description('show a module’s arguments and examples (all modules without a name), as markdown')
    .argument('[module]', 'module name, e.g. make-jobserver')
    .option('--list', 'list module names with one line each')
    .action((name: string | undefined, o: { list?: boolean }) => {
      if (o.list) {
        for (const m of MODULES) process.stdout.write(`${m.name.padEnd(22)}${m.description.split(/(?<=\.)\s/)[0]}\n`);
        return;
      }
      if (name === undefined) return void process.stdout.write(modulesMarkdown(MODULES));
      const m = findModule(canonicalModuleName(name));
      if (!m) throw new UsageError('cli/unknown-module', `no module named "${name}"`, didYouMean(name, moduleNames()) ?? `modules: ${moduleNames().join(', ')}`);
      process.stdout.write(moduleMarkdown(m));
    });
}
