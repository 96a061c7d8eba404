import type { Reporter } from './reporter.js';

/** --json → JSON lines; a TTY → listr2's live tree (loaded only then); otherwise plain lines. */
export async function chooseReporter(o: { json: boolean; verbose: number }, out: NodeJS.WriteStream = process.stdout): Promise<Reporter> {
  if (o.json) {
    const { JsonReporter } = await import('./json.js');
    return new JsonReporter({ verbose: o.verbose, out });
  }
  if (out.isTTY && process.env.TERM !== 'dumb' && process.env.CI === undefined) {
    const { ListrReporter } = await import('./listr.js');
    return new ListrReporter({ verbose: o.verbose, out });
  }
  const { PlainReporter } = await import('./plain.js');
  return new PlainReporter({ verbose: o.verbose, out });
}
