import type { Diagnostic } from '../engine/diagnostics.js';
import { formatDiagnostic } from '../engine/diagnostics.js';
import { makeChalk } from './reporters/style.js';

export const MAX_SHOWN = 200;

/** Prints diagnostics to stderr (text) — errors red, warnings yellow — and a one-line summary. */
export function printDiagnostics(diags: Diagnostic[], stream: NodeJS.WritableStream = process.stderr): void {
  const c = makeChalk(stream);
  // A hostile or generated file can hold thousands of mistakes; the first ones say what is wrong.
  for (const d of diags.slice(0, MAX_SHOWN)) {
    const text = formatDiagnostic(d);
    const [first, ...rest] = text.split('\n');
    stream.write((d.severity === 'error' ? c.red(first) : c.yellow(first)) + '\n' + rest.map((l) => l + '\n').join(''));
  }
  if (diags.length > MAX_SHOWN) stream.write(`… and ${diags.length - MAX_SHOWN} more not shown (tsplay check --format json lists them all)\n`);
  const errors = diags.filter((d) => d.severity === 'error').length;
  const warnings = diags.length - errors;
  if (diags.length) stream.write(`${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}${errors ? '; nothing was run' : ''}\n`);
}
