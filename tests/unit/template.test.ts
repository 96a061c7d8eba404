import { execFileSync } from 'node:child_process';
import {
  TemplateSyntaxError,
  UndefinedVariableError,
  hasTemplate,
  offsetToLineCol,
  renderTemplate,
  renderValue,
  shellQuote,
  templateVariables,
} from '../../engine/template/index.js';
import { shellQuote as transportShellQuote } from '../../engine/transport/transport.js';

const scope: Record<string, unknown> = {
  name: 'web01',
  port: 8080,
  ratio: 0.5,
  on: true,
  off: false,
  nothing: null,
  empty: '',
  html: `<b>&"'</b>`,
  list: ['a', 'b'],
  hosts: [{ name: 'h1', ip: '10.0.0.1' }, { name: 'h2' }],
  user: { name: 'deploy', home: '/home/deploy', groups: ['wheel'], shell: null },
  nums: [],
  jobs: 4,
};

function thrown(fn: () => unknown): Error & { code?: string; offset?: number; hint?: string; name: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string; offset?: number; name: string };
  }
  throw new Error('expected an error, none was thrown');
}

/** Runs `printf %s <word>` through a real /bin/sh and returns what the shell passed to printf. */
function throughShell(quotedWord: string): string {
  return execFileSync('/bin/sh', ['-c', `printf %s ${quotedWord}`], { encoding: 'utf8' });
}

describe('renderTemplate', () => {
  it.each([
    ['plain text', 'plain text'],
    ['{{ name }}', 'web01'],
    ['{{name}}:{{ port }}', 'web01:8080'],
    ['{{ user.name }} in {{ user.home }}', 'deploy in /home/deploy'],
    ['{{ list.0 }}{{ list.1 }}', 'ab'],
    ['{{ hosts.1.name }}', 'h2'],
    ['{{ ratio }} {{ on }} {{ off }}', '0.5 true false'],
    ['[{{ nothing }}][{{ user.shell }}][{{ empty }}]', '[][][]'],
    ['{{ list }}', '["a","b"]'],
    ['{{ user.groups }}', '["wheel"]'],
    ['{{ hosts.0 }}', '{"name":"h1","ip":"10.0.0.1"}'],
    ['{{! a comment }}x', 'x'],
  ])('%s → %s', (tpl, want) => {
    expect(renderTemplate(tpl, scope)).toBe(want);
  });

  it('never HTML-escapes: {{ }}, {{{ }}} and {{& }} render the same raw text', () => {
    expect(renderTemplate('{{ html }}|{{{ html }}}|{{& html }}', scope)).toBe(`<b>&"'</b>|<b>&"'</b>|<b>&"'</b>`);
  });

  describe('sections', () => {
    it.each([
      ['{{#list}}[{{.}}]{{/list}}', '[a][b]'],
      ['{{#hosts}}{{name}}@{{port}} {{/hosts}}', 'h1@8080 h2@8080 '],
      ['{{#user}}{{name}}:{{home}}{{/user}}', 'deploy:/home/deploy'],
      ['{{#on}}yes{{/on}}{{#off}}no{{/off}}', 'yes'],
      ['{{#nums}}x{{/nums}}{{#nothing}}y{{/nothing}}{{#empty}}z{{/empty}}', ''],
      ['{{^off}}A{{/off}}{{^nums}}B{{/nums}}{{^nothing}}C{{/nothing}}{{^on}}D{{/on}}{{^list}}E{{/list}}', 'ABC'],
      ['{{^undefined_flag}}default{{/undefined_flag}}', 'default'],
      ['{{^user.missing.deeper}}soft{{/user.missing.deeper}}', 'soft'],
      ['hosts:\n{{#hosts}}\n  - {{name}}\n{{/hosts}}\nend', 'hosts:\n  - h1\n  - h2\nend'],
    ])('%s → %j', (tpl, want) => {
      expect(renderTemplate(tpl, scope)).toBe(want);
    });

    it('a normal section over an undefined name is an error at the section tag', () => {
      const err = thrown(() => renderTemplate('ok {{#missing}}x{{/missing}}', scope));
      expect(err).toBeInstanceOf(UndefinedVariableError);
      expect(err.name).toBe('missing');
      expect(err.offset).toBe(3);
    });

    it('inside a section, a name missing from both the item and the scope is an error', () => {
      const err = thrown(() => renderTemplate('{{#hosts}}{{ip}}{{/hosts}}', scope));
      expect(err).toBeInstanceOf(UndefinedVariableError);
      expect(err.name).toBe('ip');
      expect(err.offset).toBe(10);
    });
  });

  describe('undefined variables are errors, never empty strings', () => {
    it.each([
      ['{{ missing }}', 'missing', 0],
      ['port={{ port }} host={{ host }}', 'host', 21],
      ['{{ user.missing }}', 'user.missing', 0],
      ['x {{ user.missing.deeper }}', 'user.missing', 2],
      ['{{ user.shell.path }}', 'user.shell.path', 0],
      ['{{ list.5 }}', 'list.5', 0],
      ['{{ name.length }}', 'name.length', 0],
      ['{{ user.constructor }}', 'user.constructor', 0],
      ['{{ toString }}', 'toString', 0],
      ['{{{ gone }}}', 'gone', 0],
    ])('%s → UndefinedVariableError(%s) at %i', (tpl, name, offset) => {
      const err = thrown(() => renderTemplate(tpl, scope));
      expect(err).toBeInstanceOf(UndefinedVariableError);
      expect(err.code).toBe('template/undefined-variable');
      expect(err.name).toBe(name);
      expect(err.offset).toBe(offset);
    });

    it('the message names the whole tag when a middle part is missing', () => {
      expect(thrown(() => renderTemplate('{{ user.missing.deeper }}', scope)).message).toContain('user.missing.deeper');
    });
  });

  describe('the quote lambda', () => {
    const hostile = [
      '$(rm -rf /)',
      '`id`',
      "it's",
      `"double" and 'single'`,
      'line1\nline2\n',
      'semi; colon && pipe | amp & star * ? [x] ~ $HOME ${X} \\ back',
      '',
      '   ',
      '-n',
      "''''",
      'ünïcödé ✓',
    ];

    it.each(hostile.map((s) => [s]))('%j renders as one shell word that round-trips through /bin/sh', (value) => {
      const rendered = renderTemplate('{{#quote}}{{ v }}{{/quote}}', { v: value });
      expect(rendered).toBe(shellQuote(value));
      expect(throughShell(rendered)).toBe(value);
    });

    it('quotes the whole rendered inner text, including literal text and several variables', () => {
      const tpl = 'ls {{#quote}}{{ dir }}/{{ file }}{{/quote}}';
      const rendered = renderTemplate(tpl, { dir: '/tmp/a b', file: "x'; rm -rf / #" });
      expect(rendered).toBe(`ls '/tmp/a b/x'\\''; rm -rf / #'`);
      expect(throughShell(rendered.slice(3))).toBe("/tmp/a b/x'; rm -rf / #");
    });

    it('quotes values inside a loop', () => {
      const rendered = renderTemplate('{{#list}}{{#quote}}{{.}} x{{/quote}} {{/list}}', scope);
      expect(rendered).toBe("'a x' 'b x' ");
    });

    it('still reports undefined variables inside it', () => {
      const err = thrown(() => renderTemplate('{{#quote}}{{ nope }}{{/quote}}', scope));
      expect(err).toBeInstanceOf(UndefinedVariableError);
      expect(err.offset).toBe(10);
    });

    it('is the transport shellQuote, re-exported', () => {
      expect(shellQuote).toBe(transportShellQuote);
    });
  });

  describe('syntax errors carry the offset', () => {
    it.each([
      ['{{ x', 0, 'unclosed tag'],
      ['ok {{ a }} then {{ b', 16, 'unclosed tag'],
      ['{{{ x }}', 0, 'unclosed tag'],
      ['text {{#a}}never closed', 5, 'never closed'],
      ['{{#a}}{{#b}}x{{/b}}', 0, 'never closed'],
      ['{{#a}}{{#b}}x{{/a}}{{/b}}', 13, 'different'],
      ['abc {{/a}}', 4, 'never opened'],
      ['{{ x | default(1) }}', 0, 'invalid variable name'],
      ['{{ list[0] }}', 0, 'invalid variable name'],
      ['{{ }}', 0, 'empty'],
      ['{{ a..b }}', 0, 'invalid variable name'],
      ['{{> partial }}', 0, 'partials'],
      ['a{{=<% %>=}}', 1, 'delimiters'],
    ])('%j → offset %i', (tpl, offset, text) => {
      const err = thrown(() => renderTemplate(tpl, scope));
      expect(err).toBeInstanceOf(TemplateSyntaxError);
      expect(err.code).toBe('template/syntax');
      expect(err.offset).toBe(offset);
      expect(err.message.toLowerCase()).toContain(text);
    });

    it('a Jinja filter in a tag gets a hint', () => {
      expect(thrown(() => renderTemplate('{{ x | upper }}', scope)).hint).toMatch(/Mustache/);
    });
  });

  it('renders many times from the cache with different scopes', () => {
    const tpl = 'host={{ h }}';
    for (let i = 0; i < 50; i++) expect(renderTemplate(tpl, { h: `n${i}` })).toBe(`n${i}`.replace(/^/, 'host='));
  });
});

describe('renderValue', () => {
  it.each([
    ['{{ jobs }}', 4],
    ['{{ on }}', true],
    ['{{ nothing }}', null],
    ['{{ user.groups }}', ['wheel']],
    ['{{ hosts.0 }}', { name: 'h1', ip: '10.0.0.1' }],
    ['{{{ ratio }}}', 0.5],
    [' {{ jobs }}', ' 4'],
    ['{{ jobs }} ', '4 '],
    ['{{ jobs }}{{ jobs }}', '44'],
    ['jobs={{ jobs }}', 'jobs=4'],
    ['{{#quote}}{{ name }}{{/quote}}', 'web01'],
    ['no template', 'no template'],
  ])('%j → %j', (input, want) => {
    expect(renderValue(input, scope)).toEqual(want);
  });

  it('recurses into arrays and objects without touching keys or the input', () => {
    const input = { '{{ name }}': ['{{ port }}', 'p{{ port }}', 3, null, true], nested: { deep: '{{ user.home }}/x' } };
    const out = renderValue(input, scope);
    expect(out).toEqual({ '{{ name }}': [8080, 'p8080', 3, null, true], nested: { deep: '/home/deploy/x' } });
    expect(input.nested.deep).toBe('{{ user.home }}/x');
  });

  it('an undefined variable in a single-tag string is still an error', () => {
    const err = thrown(() => renderValue({ a: ['{{ missing.x }}'] }, scope));
    expect(err).toBeInstanceOf(UndefinedVariableError);
    expect(err.name).toBe('missing');
  });
});

describe('hasTemplate', () => {
  it.each([['{{ x }}', true], ['a {{', true], ['{ x }', false], ['', false], ['}}', false]])('%j → %p', (s, want) => {
    expect(hasTemplate(s)).toBe(want);
  });
});

describe('templateVariables', () => {
  it('lists outer-scope names with roots and offsets, skipping names resolved inside sections', () => {
    const tpl = '{{ a.b }} {{#items}}{{ name }}{{/items}} {{^c}}{{ d }}{{/c}} {{#quote}}{{ e.f }}{{/quote}} {{ . }}';
    expect(templateVariables(tpl)).toEqual([
      { name: 'a.b', root: 'a', offset: 0, inverted: false },
      { name: 'items', root: 'items', offset: 10, inverted: false },
      { name: 'c', root: 'c', offset: 41, inverted: true },
      { name: 'd', root: 'd', offset: 47, inverted: false },
      { name: 'e.f', root: 'e', offset: 71, inverted: false },
    ]);
  });

  it('returns nothing for plain text and throws TemplateSyntaxError on a broken template', () => {
    expect(templateVariables('no tags')).toEqual([]);
    const err = thrown(() => templateVariables('x {{#a}}'));
    expect(err).toBeInstanceOf(TemplateSyntaxError);
    expect(err.offset).toBe(2);
  });
});

describe('offsetToLineCol', () => {
  const text = 'ab\ncd\r\nef\rgh';
  it.each([
    [0, 1, 1], [1, 1, 2], [2, 1, 3], [3, 2, 1], [4, 2, 2], [5, 2, 3], [6, 2, 4], [7, 3, 1], [9, 3, 3], [10, 4, 1],
    [12, 4, 3], [99, 4, 3], [-5, 1, 1],
  ])('offset %i → line %i column %i', (offset, line, column) => {
    expect(offsetToLineCol(text, offset)).toEqual({ line, column });
  });

  it('points a template error into a multi-line string', () => {
    const tpl = 'first line\n  second {{ nope }}';
    const err = thrown(() => renderTemplate(tpl, {}));
    expect(offsetToLineCol(tpl, err.offset as number)).toEqual({ line: 2, column: 10 });
  });
});
