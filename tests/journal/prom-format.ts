/**
 * A strict check of Prometheus text exposition format 0.0.4 (what node_exporter's textfile
 * collector parses): HELP/TYPE before a family's samples, each at most once, a family's samples
 * together, valid metric and label names, escaped label values, numeric values, no duplicate series.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parseValue(v: string, where: string): number {
  if (v === 'NaN') return NaN;
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) throw new Error(`${where}: "${v}" is not a sample value`);
  return Number(v);
}

/** Parses `{a="x",b="y"}` starting at text[0] === '{'; returns the labels and the rest after '}'. */
function parseLabels(text: string, where: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const m = /^([^=]+)="/.exec(text.slice(i));
    if (!m) throw new Error(`${where}: bad label at "${text.slice(i)}"`);
    const name = m[1];
    if (!LABEL.test(name)) throw new Error(`${where}: bad label name "${name}"`);
    if (name in labels) throw new Error(`${where}: label "${name}" twice`);
    i += m[0].length;
    let value = '';
    for (;;) {
      const ch = text[i];
      if (ch === undefined || ch === '\n') throw new Error(`${where}: unterminated label value`);
      if (ch === '\\') {
        const next = text[i + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else throw new Error(`${where}: bad escape \\${next} in a label value`);
        i += 2;
        continue;
      }
      if (ch === '"') break;
      value += ch;
      i++;
    }
    labels[name] = value;
    i++;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`${where}: expected , or } after a label value`);
  }
}

export function parsePrometheusText(text: string): Sample[] {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const samples: Sample[] = [];
  const help = new Set<string>();
  const type = new Map<string, string>();
  const finished = new Set<string>();
  const series = new Set<string>();
  let current: string | undefined;
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, n) => {
      const where = `line ${n + 1}`;
      if (line.startsWith('#')) {
        const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
        if (!m) {
          if (/^# (HELP|TYPE)/.test(line)) throw new Error(`${where}: malformed ${line}`);
          return; // a comment
        }
        const [, kind, name, rest] = m;
        if (!NAME.test(name)) throw new Error(`${where}: bad metric name "${name}"`);
        if (samples.some((s) => s.name === name)) throw new Error(`${where}: ${kind} for ${name} after its samples`);
        if (kind === 'HELP') {
          if (help.has(name)) throw new Error(`${where}: second HELP for ${name}`);
          if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) throw new Error(`${where}: bad escape in HELP`);
          help.add(name);
        } else {
          if (type.has(name)) throw new Error(`${where}: second TYPE for ${name}`);
          if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`${where}: unknown TYPE "${rest}"`);
          type.set(name, rest);
        }
        return;
      }
      if (line.trim() === '') throw new Error(`${where}: empty line`);
      const nm = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
      if (!nm) throw new Error(`${where}: no metric name in "${line}"`);
      const name = nm[1];
      let rest = line.slice(name.length);
      let labels: Record<string, string> = {};
      if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, where));
      const parts = rest.trim().split(/\s+/);
      if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2) throw new Error(`${where}: expected " value [timestamp]" in "${line}"`);
      const value = parseValue(parts[0], where);
      if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`${where}: bad timestamp`);
      if (!type.has(name)) throw new Error(`${where}: sample of ${name} without a TYPE line before it`);
      if (current !== name) {
        if (current !== undefined) finished.add(current);
        if (finished.has(name)) throw new Error(`${where}: samples of ${name} are not together`);
        current = name;
      }
      const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
      if (series.has(key)) throw new Error(`${where}: duplicate series ${key}`);
      series.add(key);
      samples.push({ name, labels, value });
    });
  return samples;
}

export function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels);
  return samples.find((s) => s.name === name && want.every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === want.length)?.value;
}
