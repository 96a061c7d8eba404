/**
 * The yaml library's parse errors as diagnostics with the place a person should look at: an
 * unclosed quote or bracket where it opened, a mis-indented line at its first character, and one
 * diagnostic per mistake rather than the cascade of errors that follows it.
 */
import type { LineCounter, YAMLError } from 'yaml';
import type { Diagnostic } from '../diagnostics.js';
import { findOpener } from './opening.js';
import type { SourceFile } from './source.js';

export function syntaxDiagnostics(text: string, errors: YAMLError[], lc: LineCounter, source: SourceFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  const usedOpeners = new Set<number>();
  const seenAt = new Set<string>();
  // A multi-line implicit key explains the "nested mapping" error that starts where it starts.
  const multiline = new Set(errors.filter((e) => e.code === 'MULTILINE_IMPLICIT_KEY' && spansLines(text, e)).map((e) => e.pos[0]));
  let unexpected = false;
  const openers: { d: Diagnostic; offset: number; quote: boolean }[] = [];
  for (const e of errors) {
    if (e.code === 'BLOCK_AS_IMPLICIT_KEY' && multiline.has(e.pos[0])) continue;
    // After one unexpected token the parser has lost its place; the rest of the stream is noise.
    if (e.code === 'UNEXPECTED_TOKEN') {
      if (unexpected) continue;
      unexpected = true;
    }
    const start = Math.min(e.pos[0], text.length);
    const opener = findOpener(text, e.message, start, usedOpeners);
    let code = opener ? 'yaml/unclosed' : `yaml/${e.code.toLowerCase().replace(/_/g, '-')}`;
    let message = opener?.message ?? plainMessage(e.code, e.message, text, start);
    let hint = opener ? 'close it, or quote the whole value' : HINTS[e.code];
    let offset = opener?.offset ?? (e.code === 'TAB_AS_INDENT' ? start : skipIndent(text, pastLineEnd(text, start)));
    if (!opener && e.code === 'MULTILINE_IMPLICIT_KEY' && spansLines(text, e)) {
      const last = lineStart(text, Math.min(e.pos[1], text.length));
      if (indentOf(text, last) > keyIndentOf(text, lineStart(text, start))) {
        // `hosts: workers` then `   tasks:` one column too deep: YAML reads "workers tasks" as a key.
        offset = skipIndent(text, last);
        code = 'yaml/bad-indent';
        message = 'this line is indented deeper than the key above it, so YAML reads it as the continuation of the value above';
        hint = 'line it up with its siblings (YAML uses spaces, and siblings must start at the same column)';
      } else {
        message = 'this key runs on to the next line: is a `:` missing after it?';
        hint = 'write `key: value`; a key and its value are separated by a colon and a space';
      }
    }
    const p = lc.linePos(offset);
    const at = { line: p.line, column: p.col };
    // One mistake often trips several parser errors at the same place; the first says it best.
    if (seenAt.has(`${at.line}:${at.column}`)) continue;
    seenAt.add(`${at.line}:${at.column}`);
    out.push(source.diag(code, message, at, hint));
    if (opener) openers.push({ d: out[out.length - 1], offset: opener.offset, quote: /quoted/.test(opener.message) });
  }
  // A quote left open inside [ or { swallows the closing bracket: the bracket is not a second mistake.
  const quotes = openers.filter((o) => o.quote);
  return out.filter((d) => !openers.some((o) => o.d === d && !o.quote && quotes.some((q) => q.offset > o.offset)));
}

const HINTS: Record<string, string> = {
  DUPLICATE_KEY: 'a key may appear once per mapping; remove or rename one of them',
  BAD_INDENT: 'check the indentation: YAML uses spaces, and siblings must line up',
  MISSING_CHAR: 'check the indentation: YAML uses spaces, and siblings must line up',
  TAB_AS_INDENT: 'YAML indentation must be spaces, not tabs',
  BLOCK_AS_IMPLICIT_KEY: 'a value may be missing a ":" or the line above is mis-indented',
  BAD_DQ_ESCAPE: 'in double quotes a backslash starts an escape; write \\\\ for a backslash, or use single quotes',
  UNEXPECTED_TOKEN: 'a bracket, quote or dash is out of place here',
};

function plainMessage(code: string, message: string, text: string, offset: number): string {
  if (code === 'DUPLICATE_KEY') {
    const key = /^(?:"([^"]*)"|'([^']*)'|([^:#\n]*?))\s*:/.exec(text.slice(offset));
    const name = key ? (key[1] ?? key[2] ?? key[3]) : undefined;
    return name ? `\`${name}\` appears twice in this mapping` : 'a key appears twice in this mapping';
  }
  if (code === 'MULTIPLE_DOCS') return 'a second YAML document starts here (`---`); tsplay reads one document per file';
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

function spansLines(text: string, e: YAMLError): boolean {
  return text.slice(e.pos[0], Math.min(e.pos[1], text.length)).includes('\n');
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function indentOf(text: string, start: number): number {
  let i = start;
  while (text[i] === ' ') i++;
  return i - start;
}

/** Indentation of the key on a line, past any `- ` sequence markers (`- name: x` → 2). */
function keyIndentOf(text: string, start: number): number {
  let i = start;
  while (text[i] === ' ' || (text[i] === '-' && text[i + 1] === ' ')) i++;
  return i - start;
}

/** An error reported at the end of a line is about what comes next: the following non-blank line. */
function pastLineEnd(text: string, offset: number): number {
  let i = offset;
  while (i < text.length && (text[i] === ' ' || text[i] === '\r')) i++;
  if (text[i] !== '\n') return offset;
  while (i < text.length && /\s/.test(text[i])) i++;
  return i < text.length ? i : offset;
}

/** An offset in a line's leading spaces moves to the line's first character: that is what is mis-indented. */
export function skipIndent(text: string, offset: number): number {
  const begin = lineStart(text, offset);
  if (!/^[ ]*$/.test(text.slice(begin, offset))) return offset;
  let i = offset;
  while (text[i] === ' ') i++;
  return i < text.length && text[i] !== '\n' && text[i] !== '\r' ? i : offset;
}
