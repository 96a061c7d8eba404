/**
 * Errors are data with a place. Every user-facing problem — YAML, schema, doctrine, inventory,
 * template, CLI — is a Diagnostic with a stable rule `code`, and where it has one, the file, line
 * and column (1-based), the offending source line and a hint.
 */
export type Severity = 'error' | 'warning';

export interface Diagnostic {
  /** Stable rule id, e.g. `doctrine/forbidden`, `schema/unknown-key`, `yaml/syntax`. */
  code: string;
  message: string;
  severity: Severity;
  file?: string;
  /** 1-based. */
  line?: number;
  /** 1-based. */
  column?: number;
  /** The offending source line, without its newline. */
  sourceLine?: string;
  hint?: string;
}

/** Thrown when work cannot go on because of user input; carries every problem found in one pass. */
export class TsplayError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[] | Diagnostic) {
    const list = Array.isArray(diagnostics) ? diagnostics : [diagnostics];
    super(list.map((d) => `${d.code}: ${d.message}`).join('\n'));
    this.name = 'TsplayError';
    this.diagnostics = list;
  }
}

export function isTsplayError(err: unknown): err is TsplayError {
  return err instanceof TsplayError;
}

/** Renders a diagnostic the way Ansible and compilers do: place, rule, message, the line, a caret. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.file ? `${d.file}${d.line ? `:${d.line}${d.column ? `:${d.column}` : ''}` : ''}: ` : '';
  const out = [`${where}${d.severity} ${d.code}: ${d.message}`];
  if (d.sourceLine !== undefined && d.line) {
    const gutter = String(d.line);
    out.push(`  ${gutter} | ${d.sourceLine}`);
    const caretPad = ' '.repeat(Math.max(0, (d.column ?? 1) - 1));
    out.push(`  ${' '.repeat(gutter.length)} | ${caretPad}^ here`);
  }
  if (d.hint) out.push(`  hint: ${d.hint}`);
  return out.join('\n');
}
