/**
 * Ansible host patterns: `all`/`*`, host and group names, globs (`w*`), `~regex`, unions
 * (`a:b` or `a,b`), intersections (`a:&b`) and exclusions (`a:!b`). Unions apply first, then
 * intersections, then exclusions; the result keeps inventory order.
 */
import type { Inventory } from './model.js';

export interface PatternResult {
  hosts: string[];
  /** Terms that name no host or group (a typo, usually). */
  unknown: string[];
  /** Terms with bad syntax (empty terms, broken regex). */
  invalid: { term: string; why: string }[];
}

export function resolvePattern(pattern: string, inv: Inventory): PatternResult {
  const order = [...inv.hosts.keys()];
  const unknown: string[] = [];
  const invalid: { term: string; why: string }[] = [];
  const raw = pattern.split(/[:,]/).map((t) => t.trim());
  if (raw.some((t) => t === '' || t === '!' || t === '&')) invalid.push({ term: pattern, why: 'empty term (doubled `:` or a trailing separator?)' });
  const terms = raw.filter((t) => t && t !== '!' && t !== '&');
  const union = new Set<string>();
  const intersections: Set<string>[] = [];
  const exclude = new Set<string>();
  for (const term of terms) {
    const op = term[0] === '!' ? '!' : term[0] === '&' ? '&' : '';
    const name = op ? term.slice(1) : term;
    const matched = matchTerm(name, inv, invalid);
    if (matched === undefined) {
      unknown.push(name);
      continue;
    }
    if (op === '!') matched.forEach((h) => exclude.add(h));
    else if (op === '&') intersections.push(new Set(matched));
    else matched.forEach((h) => union.add(h));
  }
  let hosts = order.filter((h) => union.has(h));
  // `localhost` may be targeted even when implicit.
  if (union.has('localhost') && !inv.hosts.has('localhost')) hosts.push('localhost');
  for (const set of intersections) hosts = hosts.filter((h) => set.has(h));
  hosts = hosts.filter((h) => !exclude.has(h));
  return { hosts, unknown, invalid };
}

function matchTerm(name: string, inv: Inventory, invalid: { term: string; why: string }[]): string[] | undefined {
  if (name === 'all' || name === '*') return [...inv.hosts.keys()];
  if (inv.groups.has(name)) return inv.groups.get(name)!.hosts;
  if (inv.hosts.has(name)) return [name];
  if (name === 'localhost') return ['localhost'];
  if (name.startsWith('~')) {
    let re: RegExp;
    try {
      re = new RegExp(name.slice(1));
    } catch (e) {
      invalid.push({ term: name, why: `bad regular expression: ${(e as Error).message}` });
      return [];
    }
    return collect(inv, (n) => re.test(n));
  }
  if (/[*?[]/.test(name)) {
    let re: RegExp;
    try {
      re = globToRegExp(name);
    } catch (e) {
      invalid.push({ term: name, why: `bad glob: ${(e as Error).message}` });
      return [];
    }
    const found = collect(inv, (n) => re.test(n));
    return found.length ? found : undefined;
  }
  return undefined;
}

/** `w*`, `w?`, `w[12]`: a `[` without its `]` is a literal character, never a broken regex. */
function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    const close = c === '[' ? glob.indexOf(']', i + 2) : -1;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (close > 0) {
      const body = glob.slice(i + 1, close);
      out += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`.replace(/\\/g, '\\\\');
      i = close;
    } else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

function collect(inv: Inventory, test: (name: string) => boolean): string[] {
  const out = new Set<string>();
  for (const [g, group] of inv.groups) if (test(g)) group.hosts.forEach((h) => out.add(h));
  for (const h of inv.hosts.keys()) if (test(h)) out.add(h);
  return [...inv.hosts.keys()].filter((h) => out.has(h));
}
