/**
 * Python-flavoured regular expressions (as written in Ansible playbooks) translated to JS ones:
 * `(?P<name>…)` groups, `(?P=name)` back-references and leading inline flags like `(?i)`.
 */
const cache = new Map<string, RegExp>();

export function pythonRegex(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (re) return re;
  let flags = '';
  let body = pattern;
  const lead = /^\(\?([imsx]+)\)/.exec(body);
  if (lead) {
    if (lead[1].includes('x')) throw new SyntaxError('the verbose flag (?x) is not supported');
    flags = [...new Set(lead[1])].join('');
    body = body.slice(lead[0].length);
  }
  body = body.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  re = new RegExp(body, flags); // throws SyntaxError on an invalid pattern
  if (cache.size > 1000) cache.clear();
  cache.set(pattern, re);
  return re;
}
