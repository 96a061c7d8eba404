/**
 * Finds every parallelism value in a command line or MAKEFLAGS/MAKEOPTS string:
 * `-j14`, `-j 14`, `--jobs=14`, `--jobs 14`, bare `-j`/`--jobs` (unbounded), flag clusters like
 * `-kj8`, and values that are not plain numbers (`-j$(nproc)`, `-j 014`).
 */
export interface JobsToken {
  /** The parsed number; null for unbounded (bare -j) or a value that is not a literal number. */
  jobs: number | null;
  /** Why jobs is null or suspicious. */
  kind: 'number' | 'unbounded' | 'dynamic' | 'malformed';
  /** The text as written, e.g. `-j 32`. */
  raw: string;
  /** Offset of the flag in the scanned string. */
  offset: number;
}

// make's single-letter flags that take no argument and may be clustered before j (e.g. -kj8).
const CLUSTER = 'BbeiknqrsStwdLR';

export function scanJobs(text: string): JobsToken[] {
  const out: JobsToken[] = [];
  // Tokenise on whitespace, remembering offsets (quotes are kept in tokens; good enough for flags).
  const tokens: { t: string; o: number }[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) tokens.push({ t: m[0].replace(/^['"]|['"]$/g, ''), o: m.index });
  for (let i = 0; i < tokens.length; i++) {
    const { t, o } = tokens[i];
    let value: string | undefined;
    let flag: string | undefined;
    const long = /^--jobs(?:=(.*))?$/.exec(t);
    const short = new RegExp(`^-[${CLUSTER}]*j(.*)$`).exec(t);
    if (long) {
      flag = t;
      value = long[1];
    } else if (short && !t.startsWith('--')) {
      flag = t;
      value = short[1];
    } else continue;
    let raw = flag;
    if (value === undefined || value === '') {
      // `-j 14` / `--jobs 14`: make takes the next word when it starts with a digit.
      const next = tokens[i + 1];
      if (next && /^[0-9$`(]/.test(next.t)) {
        value = next.t;
        raw = `${flag} ${next.t}`;
        i++;
      }
    }
    out.push(classify(value, raw, o));
  }
  return out;
}

function classify(value: string | undefined, raw: string, offset: number): JobsToken {
  if (value === undefined || value === '') return { jobs: null, kind: 'unbounded', raw, offset };
  if (/^[1-9][0-9]*$/.test(value)) return { jobs: Number(value), kind: 'number', raw, offset };
  if (/^0[0-9]*$/.test(value)) return { jobs: Number.parseInt(value, 10), kind: 'malformed', raw, offset };
  return { jobs: null, kind: 'dynamic', raw, offset };
}
