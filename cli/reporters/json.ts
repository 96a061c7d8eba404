/** --json: one engine event per line (the documented EngineEvent shape), nothing else on stdout. */
import type { EngineEvent } from '../../engine/events.js';
import type { Reporter, ReporterOptions } from './reporter.js';

export class JsonReporter implements Reporter {
  constructor(private readonly opts: ReporterOptions) {}
  onEvent(e: EngineEvent): void {
    this.opts.out.write(JSON.stringify(e) + '\n');
  }
  async finish(): Promise<void> {}
}
