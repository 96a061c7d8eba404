/**
 * For an unterminated quoted scalar or flow collection, the YAML parser reports the place where
 * the input ran out (often the end of the file). The mistake is where the quote or bracket opened,
 * so we look for it in the concrete syntax tree.
 */
import { Parser } from 'yaml';

interface Opening {
  offset: number;
  /** `"`, `'`, `[` or `{`. */
  opener: string;
  closed: boolean;
}

const CLOSER: Record<string, string> = { '[': ']', '{': '}' };

function openings(text: string): Opening[] {
  const out: Opening[] = [];
  const walk = (x: unknown): void => {
    if (!x || typeof x !== 'object') return;
    if (Array.isArray(x)) return x.forEach(walk);
    const t = x as { type?: string; offset?: number; source?: string; start?: { offset: number; source: string }; end?: { source?: string }[] };
    if (t.type === 'flow-collection' && t.start) {
      const closer = CLOSER[t.start.source];
      out.push({ offset: t.start.offset, opener: t.start.source, closed: (t.end ?? []).some((e) => e.source === closer) });
    } else if ((t.type === 'double-quoted-scalar' || t.type === 'single-quoted-scalar') && t.offset !== undefined && t.source) {
      const q = t.source[0];
      const body = t.source.trimEnd();
      // A quoted scalar is closed when it ends with its quote (and that quote is not the opening one).
      const escapes = q === '"' ? (/(\\*)"$/.exec(body)?.[1].length ?? 0) : 0;
      out.push({ offset: t.offset, opener: q, closed: body.length > 1 && body.endsWith(q) && escapes % 2 === 0 });
    }
    for (const v of Object.values(x)) walk(v);
  };
  for (const tok of new Parser().parse(text)) walk(tok);
  return out;
}

/**
 * Where the opener an error is about is, and a message saying so; undefined when the error is not about an
 * unterminated quote or flow collection. `used` keeps two errors from pointing at one opener.
 */
export function findOpener(text: string, message: string, errorOffset: number, used: Set<number>): { offset: number; message: string } | undefined {
  const opener = /Missing closing "quote/.test(message) ? '"' : /Missing closing 'quote/.test(message) ? "'" : /end with a \]/.test(message) ? '[' : /end with a \}/.test(message) ? '{' : undefined;
  if (!opener) return undefined;
  const candidates = openings(text).filter((o) => o.opener === opener && !o.closed && o.offset <= errorOffset && !used.has(o.offset));
  const best = candidates.sort((a, b) => b.offset - a.offset)[0];
  if (!best) return undefined;
  used.add(best.offset);
  const closer = CLOSER[opener] ?? opener;
  return { offset: best.offset, message: opener === '"' || opener === "'" ? `this ${opener === '"' ? 'double' : 'single'}-quoted string is never closed (missing ${closer})` : `this \`${opener}\` is never closed with \`${closer}\`` };
}
