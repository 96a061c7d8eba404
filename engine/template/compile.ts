/**
 * Template compilation: Mustache's parser (its own nesting and standalone-line rules), then a
 * small checked tree of text, variable tags and sections. Compiled templates are cached by text.
 */
import Mustache from 'mustache';
import { TemplateSyntaxError } from './errors.js';

export type TemplateNode =
  | { kind: 'text'; text: string }
  | { kind: 'var'; name: string; parts: string[]; offset: number }
  | { kind: 'section'; name: string; parts: string[]; offset: number; inverted: boolean; quote: boolean; children: TemplateNode[] };

export interface CompiledTemplate {
  nodes: TemplateNode[];
  /** The template is exactly one variable tag (`"{{ jobs }}"`): renderValue returns its raw value. */
  single: boolean;
}

/** The section name reserved for the shell-quoting lambda: `{{#quote}}…{{/quote}}`. */
export const QUOTE_SECTION = 'quote';

type MustacheToken = [string, string, number, number, MustacheToken[]?, number?];

// A private writer with its cache off: tsplay caches compiled templates itself, and Mustache's
// global configuration stays untouched.
const writer = new Mustache.Writer();
(writer as unknown as { templateCache: unknown }).templateCache = undefined;

const NAME_RE = /^(?:\.|[^\s.(){}|'"[\]<>]+(?:\.[^\s.(){}|'"[\]<>]+)*)$/;

const MAX_CACHED = 10_000;
const cache = new Map<string, CompiledTemplate>();

export function compileTemplate(tpl: string): CompiledTemplate {
  const hit = cache.get(tpl);
  if (hit) return hit;
  let tokens: MustacheToken[];
  try {
    tokens = writer.parse(tpl) as MustacheToken[];
  } catch (e) {
    throw syntaxErrorFrom(tpl, e as Error);
  }
  const nodes = convert(tpl, tokens);
  const only = nodes[0];
  const single = nodes.length === 1 && only.kind === 'var' && only.offset === 0 && tokens[0][3] === tpl.length;
  const compiled: CompiledTemplate = { nodes, single };
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(tpl, compiled);
  return compiled;
}

function checkName(tpl: string, name: string, offset: number): string[] {
  if (name === '') throw new TemplateSyntaxError('empty tag', offset);
  if (!NAME_RE.test(name)) {
    const jinja = /[|(]/.test(name);
    const index = /[[\]]/.test(name);
    throw new TemplateSyntaxError(
      `invalid variable name '${name}' in tag ${tpl.slice(offset, offset + name.length + 6).split('\n')[0]}`,
      offset,
      jinja
        ? 'templates are Mustache: filters and calls are not available here (use a `vars` entry computed elsewhere, or {{#quote}}…{{/quote}} for shell quoting)'
        : index ? 'index lists with a dot: {{ items.0 }}' : 'a tag holds one variable name, e.g. {{ user.name }}',
    );
  }
  return name === '.' ? ['.'] : name.split('.');
}

function convert(tpl: string, tokens: MustacheToken[]): TemplateNode[] {
  const out: TemplateNode[] = [];
  for (const [type, value, start, , children] of tokens) {
    switch (type) {
      case 'text':
        out.push({ kind: 'text', text: value });
        break;
      case 'name':
      case '&':
        out.push({ kind: 'var', name: value, parts: checkName(tpl, value, start), offset: start });
        break;
      case '#':
      case '^': {
        const parts = checkName(tpl, value, start);
        out.push({
          kind: 'section',
          name: value,
          parts,
          offset: start,
          inverted: type === '^',
          quote: type === '#' && value === QUOTE_SECTION,
          children: convert(tpl, children ?? []),
        });
        break;
      }
      case '!':
        break;
      case '>':
        throw new TemplateSyntaxError(`partials ({{> ${value}}}) are not supported`, start);
      case '=':
        throw new TemplateSyntaxError('changing the tag delimiters ({{= =}}) is not supported', start);
      default:
        throw new TemplateSyntaxError(`unsupported tag type '${type}'`, start);
    }
  }
  return out;
}

/** Turns Mustache's parse errors (plain Errors with "at N" messages) into TemplateSyntaxError. */
function syntaxErrorFrom(tpl: string, e: Error): TemplateSyntaxError {
  const msg = e.message;
  let m = /^Unclosed tag at (\d+)$/.exec(msg);
  if (m) {
    // The unclosed tag swallows the rest of the template, so it is the last opening '{{'.
    let at = tpl.lastIndexOf('{{');
    while (at > 0 && tpl[at - 1] === '{') at--; // `{{{ x }}` starts at its first brace
    return new TemplateSyntaxError("unclosed tag: '{{' without a matching '}}'", at >= 0 ? at : Number(m[1]));
  }
  m = /^Unopened section "(.*)" at (\d+)$/s.exec(msg);
  if (m) return new TemplateSyntaxError(`{{/${m[1]}}} closes a section that was never opened`, Number(m[2]));
  m = /^Unclosed section "(.*)" at (\d+)$/s.exec(msg);
  if (m) {
    const at = Number(m[2]);
    if (at < tpl.length) {
      return new TemplateSyntaxError(`section '${m[1]}' is closed by a different tag`, at, `close it with {{/${m[1]}}} first`);
    }
    return new TemplateSyntaxError(`section '${m[1]}' is never closed`, innermostOpen(tpl) ?? at, `add {{/${m[1]}}}`);
  }
  return new TemplateSyntaxError(msg, 0);
}

/** Offset of the innermost section left open at the end of the template (for error positions). */
function innermostOpen(tpl: string): number | undefined {
  const open: number[] = [];
  for (const m of tpl.matchAll(/\{\{\s*([#^/])[^}]*\}\}/g)) {
    if (m[1] === '/') open.pop();
    else open.push(m.index);
  }
  return open.at(-1);
}
