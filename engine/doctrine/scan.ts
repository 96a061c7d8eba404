/**
 * Finds every parallelism value in a command line or MAKEFLAGS/MAKEOPTS string:
 * `-j14`, `-j 14`, `--jobs=14`, `--jobs 14`, bare `-j`/`--jobs` (unbounded), flag clusters like
 * `-kj8`, and values that are not plain numbers (`-j$(nproc)`, `-j 014`).
 *
 * Command lines are split into words the way a shell would (quotes and backslashes removed, so
 * `-j'3'2` is `-j32`), and the scan goes on inside quoted strings (`sh -c "make -j32"`), command
 * substitutions (`$(make -j32)`, backticks) and inline `MAKEFLAGS=-j32` assignments, because the
 * shell runs those too.
 */
export interface JobsToken {
  /** The parsed number; null for unbounded (bare -j) or a value that is not a literal number. */
  jobs: number | null;
  /** Why jobs is null or suspicious. */
  kind: 'number' | 'unbounded' | 'dynamic' | 'malformed';
  /** The text as the shell would see it, e.g. `-j 32`. */
  raw: string;
  /** Offset of the flag in the scanned string. */
  offset: number;
}

// make's single-letter flags that take no argument and may be clustered before j (e.g. -kj8).
const CLUSTER = 'BbeiknqrsStwdLR';
const SHORT = new RegExp(`^-[${CLUSTER}]*j(.*)$`, 's');
const LONG = /^--jobs(?:=(.*))?$/s;
const MAKE_VARS = /^(MAKEFLAGS|MAKEOPTS)=(.*)$/s;
// What make takes as the argument of a bare `-j`: the next word, when it is (or will become) a number.
// U+0001 marks a template tag whose value is only known at run time (validate/partial-render.ts).
const NEXT_VALUE = /^[0-9$`\u0001]/;

/** A word after quote removal; `at[i]` is the offset in the scanned text of `text[i]`. */
interface Word {
  text: string;
  at: number[];
  /** Text run by the shell inside this word: `$(…)` and backquoted command substitutions. */
  subs: Word[];
}

export function scanJobs(text: string): JobsToken[] {
  return dedupe(scan(text, identity(text.length), 0));
}

/** MAKEFLAGS / MAKEOPTS values: make also reads a first word of bare flag letters (`j8` for `-j8`). */
export function scanMakeflags(text: string): JobsToken[] {
  const words = splitWords(text, identity(text.length));
  const first = words[0];
  if (first && new RegExp(`^[${CLUSTER}]*j[0-9]*$`).test(first.text)) {
    const tok = classify(first.text.slice(first.text.indexOf('j') + 1), first.text, first.at[0]);
    return dedupe([tok, ...scan(text, identity(text.length), 0).filter((t) => t.offset !== first.at[0])]);
  }
  return scanJobs(text);
}

function identity(n: number): number[] {
  return Array.from({ length: n + 1 }, (_, i) => i);
}

function scan(text: string, at: number[], depth: number): JobsToken[] {
  if (depth > 8) return [];
  const out: JobsToken[] = [];
  const words = splitWords(text, at);
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    for (const sub of w.subs) out.push(...scan(sub.text, sub.at, depth + 1));
    const t = w.text;
    const long = LONG.exec(t);
    const short = t.startsWith('--') ? null : SHORT.exec(t);
    const assignment = MAKE_VARS.exec(t);
    if (long || short) {
      let value = long ? long[1] : short![1];
      let raw = t;
      if (value === undefined || value === '') {
        // `-j 14` / `--jobs 14`: make takes the next word when it is a number.
        const next = words[i + 1];
        if (next && NEXT_VALUE.test(next.text)) {
          value = next.text;
          raw = `${t} ${next.text}`;
          i++;
        }
      }
      out.push(classify(value, raw, w.at[0]));
    } else if (assignment) {
      const start = assignment[1].length + 1;
      out.push(...scanMakeflagsWord(assignment[2], w.at.slice(start)));
    } else if (depth < 8 && /[\s;&|]/.test(t) && t !== text) {
      // A quoted string holding a command line (`sh -c "make -j32"`): the shell may run it.
      out.push(...scan(t, w.at, depth + 1));
    }
  }
  return out;
}

function scanMakeflagsWord(text: string, at: number[]): JobsToken[] {
  return scanMakeflags(text).map((t) => ({ ...t, offset: at[t.offset] ?? at[0] }));
}

/**
 * Shell-like word splitting: blanks and the operators ; & | < > ( ) end a word; quotes and
 * backslashes are removed; `$(…)` and `…` stay in the word (their value is only known when the
 * shell runs) and are also returned as sub-commands to scan.
 */
function splitWords(s: string, at: number[]): Word[] {
  const out: Word[] = [];
  let cur: Word | undefined;
  const add = (ch: string, i: number) => {
    cur ??= { text: '', at: [], subs: [] };
    cur.text += ch;
    cur.at.push(at[i] ?? at[at.length - 1]);
  };
  const end = () => {
    if (cur) out.push({ ...cur, at: [...cur.at, cur.at[cur.at.length - 1] + 1] });
    cur = undefined;
  };
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else add(c, i);
      continue;
    }
    if ((c === '$' && s[i + 1] === '(') || c === '`') {
      const close = c === '`' ? s.indexOf('`', i + 1) : matchingParen(s, i + 1);
      const stop = close < 0 ? s.length : close + 1;
      const innerStart = c === '`' ? i + 1 : i + 2;
      const innerEnd = close < 0 ? s.length : close;
      for (let j = i; j < stop; j++) add(s[j], j);
      cur!.subs.push({ text: s.slice(innerStart, innerEnd), at: at.slice(innerStart, innerEnd + 1), subs: [] });
      i = stop - 1;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1])) add(s[++i], i);
      else add(c, i);
      continue;
    }
    if (/\s/.test(c) || ';&|<>()'.includes(c)) {
      end();
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      cur ??= { text: '', at: [], subs: [] };
    } else if (c === '\\' && i + 1 < s.length) add(s[++i], i);
    else add(c, i);
  }
  end();
  return out.filter((w) => w.text !== '' || w.subs.length);
}

function matchingParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

function classify(value: string | undefined, raw: string, offset: number): JobsToken {
  if (value === undefined || value === '') return { jobs: null, kind: 'unbounded', raw, offset };
  if (/^[1-9][0-9]*$/.test(value)) return { jobs: Number(value), kind: 'number', raw, offset };
  if (/[$`\u0001]/.test(value)) return { jobs: null, kind: 'dynamic', raw, offset };
  // 014, 0, +32, 0x20, 3.5: make would read these differently from what they look like.
  const leading = /^0[0-9]*$/.test(value) ? Number.parseInt(value, 10) : null;
  return { jobs: leading, kind: 'malformed', raw, offset };
}

/** A value seen both directly and through a quoted sub-command is one value. */
function dedupe(tokens: JobsToken[]): JobsToken[] {
  const seen = new Set<number>();
  return tokens.filter((t) => (seen.has(t.offset) ? false : (seen.add(t.offset), true))).sort((a, b) => a.offset - b.offset);
}
