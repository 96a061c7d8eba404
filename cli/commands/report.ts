/** tsplay report RUN -o FILE.html: a self-contained HTML page of a recorded run (timeline per host, task graph). */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { buildModel } from '../../engine/journal/model.js';
import { defaultRunsDir } from '../../engine/journal/read.js';
import { UsageError } from '../exit-codes.js';
import { addRunsDirOption, journalWarnings, openJournal } from '../journal-options.js';
import { renderReport } from '../report/html.js';

export function registerReport(program: Command): void {
  const cmd = program
    .command('report')
    .description('write a self-contained HTML page of a recorded run: a timeline per host and the task graph with each task’s outcome (opens offline)')
    .argument('<run>', 'run id, a unique start of one, or `last`')
    .requiredOption('-o, --output <file>', 'the HTML file to write');
  addRunsDirOption(cmd);
  cmd.action((ref: string, o: { output: string; runsDir?: string }) => {
    const j = openJournal(defaultRunsDir(o.runsDir), ref);
    for (const w of journalWarnings(j)) process.stderr.write(`tsplay: warning: ${w}\n`);
    try {
      writeFileSync(o.output, renderReport(buildModel(j)));
    } catch (err) {
      throw new UsageError('report/unwritable', `cannot write ${o.output}: ${(err as Error).message}`);
    }
    process.stderr.write(`tsplay: wrote ${o.output} (run ${j.meta.runId})\n`);
  });
}
