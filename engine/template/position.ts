/**
 * Maps a 0-based offset in a (multi-line) string to a 1-based line and column. Line breaks are
 * `\n`, `\r\n` (one break) and a lone `\r`, as in YAML. Columns count UTF-16 code units.
 * Offsets outside the text are clamped to it.
 */
export function offsetToLineCol(text: string, offset: number): { line: number; column: number } {
  const end = Math.max(0, Math.min(Number.isFinite(offset) ? Math.floor(offset) : 0, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  // An offset on the '\n' of a '\r\n' pair (or on the '\r') stays on the line it ends.
  return { line, column: end - lineStart + 1 };
}
