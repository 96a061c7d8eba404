import {
  ExprEvalError,
  ExprSyntaxError,
  UndefinedVariableError,
  compileExpression,
  evaluateExpression,
  isTruthy,
} from '../../engine/expr/index.js';

const scope: Record<string, unknown> = {
  n: 3,
  zero: 0,
  f: 2.5,
  s: 'Hello World',
  empty: '',
  list: [1, 2, 3],
  names: ['web', 'db'],
  nested: [[1], [2]],
  obj: { a: 1, b: { c: 'deep' }, nul: null },
  nothing: null,
  yes: true,
  no: false,
  ok_result: { changed: false, failed: false, skipped: false, rc: 0 },
  changed_result: { changed: true, failed: false, rc: 0 },
  failed_result: { failed: true, changed: false, rc: 2 },
  skipped_result: { skipped: true, changed: false },
  loop_result: { results: [{ changed: false }, { changed: true }] },
  version: 'v1.22.3',
  csv: 'a,b,,c',
  spaced: '  padded  ',
};

const ev = (src: string, sc: Record<string, unknown> = scope): unknown => evaluateExpression(src, sc);

function thrown(fn: () => unknown): Error & { code?: string; offset?: number; hint?: string; name: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string; offset?: number; name: string };
  }
  throw new Error('expected an error, none was thrown');
}

describe('literals', () => {
  it.each([
    ['true', true], ['True', true], ['false', false], ['False', false],
    ['none', null], ['None', null], ['null', null],
    ['42', 42], ['4.5', 4.5], ['.5', 0.5], ['1e3', 1000],
    ["'it\\'s'", "it's"], ['"a\\nb"', 'a\nb'],
    ['[1, "two", none]', [1, 'two', null]], ['[]', []],
  ])('%s evaluates to %p', (src, want) => {
    expect(ev(src)).toEqual(want);
  });
});

describe('variables and member access', () => {
  it.each([
    ['n', 3], ['obj.a', 1], ['obj.b.c', 'deep'], ["obj['b']['c']", 'deep'], ['obj.nul', null],
    ['list[0]', 1], ['list[-1]', 3], ['nested[1][0]', 2], ['s[0]', 'H'], ['names[n - 2]', 'db'],
  ])('%s → %p', (src, want) => {
    expect(ev(src)).toEqual(want);
  });

  it('an undefined root variable is an UndefinedVariableError with its name and offset', () => {
    const err = thrown(() => ev('n > 1 and missing == 2'));
    expect(err).toBeInstanceOf(UndefinedVariableError);
    expect(err.code).toBe('template/undefined-variable');
    expect(err.name).toBe('missing');
    expect(err.offset).toBe(10);
  });

  it('a missing attribute of a defined object names the full path', () => {
    const result = { rc: 0 };
    const err = thrown(() => ev('result.rcc == 0', { result }));
    expect(err).toBeInstanceOf(UndefinedVariableError);
    expect(err.name).toBe('result.rcc');
    expect(err.offset).toBe(0);
    expect(err.message).toContain('result.rcc');
  });

  it.each([
    ['obj.b.x.y', 'obj.b.x'],
    ['obj.nul.x', 'obj.nul.x'],
    ['list[7]', 'list[7]'],
    ["obj['zz']", 'obj["zz"]'],
    ['n.x', 'n.x'],
  ])('%s fails naming %s', (src, name) => {
    const err = thrown(() => ev(src));
    expect(err).toBeInstanceOf(UndefinedVariableError);
    expect(err.name).toBe(name);
  });

  it('never reaches prototype properties', () => {
    for (const src of ['constructor', 'obj.constructor', 'obj.toString', '__proto__', 'obj.__proto__', 'list.length', 'list.map']) {
      expect(thrown(() => ev(src))).toBeInstanceOf(UndefinedVariableError);
    }
  });

  it('resolves through scopes layered with Object.create', () => {
    const base = { inherited: 'from base', shadowed: 'base' };
    const layered = Object.assign(Object.create(base) as Record<string, unknown>, { shadowed: 'top' });
    expect(ev('inherited + shadowed', layered)).toBe('from basetop');
  });

  it('a property holding undefined counts as undefined', () => {
    expect(thrown(() => ev('u', { u: undefined }))).toBeInstanceOf(UndefinedVariableError);
    expect(ev('u is defined', { u: undefined })).toBe(false);
  });
});

describe('operators', () => {
  it.each([
    ['n == 3', true], ['n == "3"', false], ['n != 3', false], ['list == [1, 2, 3]', true],
    ['nested == [[1], [2]]', true], ['nested == [[1], [3]]', false], ['1 == 1.0', true], ['nothing == none', true],
    ['n < 4', true], ['n <= 3', true], ['n > 3', false], ['n >= 3', true], ["'a' < 'b'", true],
    ['n + 1', 4], ['n - 1', 2], ['n * 2', 6], ['n / 2', 1.5], ['n % 2', 1], ['-7 % 3', 2], ['7 % -3', -2],
    ["'ab' + 'cd'", 'abcd'], ["'ab' * 2", 'abab'], ['list + [4]', [1, 2, 3, 4]],
    ['-n', -3], ['+n', 3], ['1 + 2 * 3', 7], ['(1 + 2) * 3', 9],
    ['yes and no', false], ['yes or no', true], ['no or n', 3], ['n and s', 'Hello World'], ['zero and missing', 0],
    ['yes or missing', true], ['not yes', false], ['not empty', true], ['not not n', true],
    ['yes ? "a" : "b"', 'a'], ['no ? "a" : "b"', 'b'], ['empty ? 1 : n > 2 ? 2 : 3', 2],
    // `or` binds looser than `and`
    ['yes or yes and no', true], ['(yes or yes) and no', false],
  ])('%s → %p', (src, want) => {
    expect(ev(src)).toEqual(want);
  });

  it.each([
    ["'World' in s", true], ["'world' in s", false], ['2 in list', true], ['5 in list', false],
    ['[1] in nested', true], ["'a' in obj", true], ["'z' in obj", false],
    ["'web' not in names", false], ["'app' not in names", true], ["'x' not in s", true],
  ])('membership: %s → %p', (src, want) => {
    expect(ev(src)).toBe(want);
  });

  it('`not` takes the whole comparison, as in Jinja', () => {
    expect(ev('not n == 4')).toBe(true);
    expect(ev("not 'web' in names")).toBe(false);
    expect(ev('not changed_result is changed')).toBe(false);
    expect(ev('not ok_result is changed')).toBe(true);
    expect(ev('not zero | bool')).toBe(true);
    expect(ev('(not n) == false')).toBe(true);
    expect(ev('not yes and yes')).toBe(false);
    expect(ev('not no and yes')).toBe(true);
  });

  it.each([
    ["n + 'a'", 'expr/type'], ["n < 'a'", 'expr/type'], ["'a' in n", 'expr/type'], ["1 in s", 'expr/type'],
    ['-s', 'expr/type'], ['n / 0', 'expr/value'], ['n % zero', 'expr/value'], ['list - list', 'expr/type'],
  ])('%s fails with %s', (src, code) => {
    const err = thrown(() => ev(src));
    expect(err).toBeInstanceOf(ExprEvalError);
    expect(err.code).toBe(code);
    expect(typeof err.offset).toBe('number');
  });

  it('short-circuits: the right side of and/or is not evaluated when not needed', () => {
    expect(ev('missing is defined and missing > 1')).toBe(false);
    expect(ev('missing is undefined or missing > 1')).toBe(true);
  });
});

describe('tests (is …)', () => {
  it.each([
    ['n is defined', true], ['missing is defined', false], ['missing is undefined', true], ['n is undefined', false],
    ['missing is not defined', true], ['n is not defined', false],
    ['obj.b.c is defined', true], ['obj.zz is defined', false], ['obj.zz.yy is defined', false],
    ['obj.nul.x is defined', false], ['missing.a.b is not defined', true], ['list[9] is defined', false],
    ['nothing is none', true], ['n is none', false], ['obj.nul is not none', false],
    ['s is string', true], ['n is string', false], ['n is number', true], ['f is number', true], ["'3' is number", false],
    ['yes is boolean', true], ['obj is mapping', true], ['list is sequence', true],
    ['yes is true', true], ['no is false', true], ['n is true', false],
    ['ok_result is succeeded', true], ['failed_result is succeeded', false], ['ok_result is success', true],
    ['failed_result is failed', true], ['ok_result is failed', false], ['failed_result is not failed', false],
    ['changed_result is changed', true], ['ok_result is changed', false], ['loop_result is changed', true],
    ['skipped_result is skipped', true], ['ok_result is skipped', false], ['ok_result is not skipped', true],
    ["version is match('v1\\\\.')", true], ["version is match('1\\\\.')", false], ["version is search('22')", true],
    ["version is search('(?i)V1')", true], ["s is not search('xyz')", true],
    ['list | length is number', true],
  ])('%s → %p', (src, want) => {
    expect(ev(src)).toBe(want);
  });

  it('registered-result tests need a mapping', () => {
    const err = thrown(() => ev('n is changed'));
    expect(err).toBeInstanceOf(ExprEvalError);
    expect(err.code).toBe('expr/type');
    expect(err.message).toContain("'changed'");
    expect(err.offset).toBe(5);
  });

  it('`is none` and type tests are strict about undefined variables', () => {
    expect(thrown(() => ev('missing is none'))).toBeInstanceOf(UndefinedVariableError);
    expect(thrown(() => ev('missing is string'))).toBeInstanceOf(UndefinedVariableError);
  });

  it('an unknown test fails at compile time with its offset', () => {
    const err = thrown(() => compileExpression('n is prime'));
    expect(err).toBeInstanceOf(ExprSyntaxError);
    expect(err.code).toBe('expr/unknown-test');
    expect(err.offset).toBe(5);
  });
});

describe('filters', () => {
  it.each([
    ["'42' | int", 42], ["' 7 ' | int", 7], ["'4.9' | int", 4], ["'abc' | int", 0], ["'abc' | int(-1)", -1],
    ['f | int', 2], ['yes | int', 1], ['nothing | int', 0],
    ["'2.5' | float", 2.5], ["'x' | float", 0], ['n | float', 3], ["'1e2' | float", 100],
    ['n | string', '3'], ['yes | string', 'true'], ['nothing | string', ''], ['list | string', '[1,2,3]'],
    ["'yes' | bool", true], ["'On' | bool", true], ["'1' | bool", true], ["'no' | bool", false], ["'false' | bool", false],
    ['1 | bool', true], ['0 | bool', false], ['nothing | bool', false], ['yes | bool', true],
    ['s | length', 11], ['list | length', 3], ['obj | length', 3], ['list | count', 3],
    ['s | lower', 'hello world'], ['s | upper', 'HELLO WORLD'], ['spaced | trim', 'padded'],
    ['missing | default(5)', 5], ['missing | d(5)', 5], ['n | default(5)', 3], ['missing | default', ''],
    ['obj.zz | default("x")', 'x'], ['obj.b.zz.yy | default(1)', 1], ['nothing | default(1)', null],
    ['empty | default("x", true)', 'x'], ['empty | default("x")', ''],
    ['missing | default(other | default(7))', 7],
    ["names | join(', ')", 'web, db'], ['list | join', '123'], ['[1, none, "a"] | join("-")', '1--a'],
    ['list | first', 1], ['list | last', 3], ['s | first', 'H'], ['s | last', 'd'],
    ["'a b' | quote", "'a b'"], ['s | quote', "'Hello World'"], ['n | quote', '3'], ["'' | quote", "''"],
    ["version | regex_search('\\\\d+\\\\.\\\\d+')", '1.22'],
    ["version | regex_search('(\\\\d+)\\\\.(\\\\d+)', '\\\\2', '\\\\1')", ['22', '1']],
    ["version | regex_search('(?P<major>\\\\d+)', '\\\\g<major>')", ['1']],
    ["version | regex_search('zzz')", null],
    ["csv | split(',')", ['a', 'b', '', 'c']], ["'  a  b c ' | split", ['a', 'b', 'c']],
    // filters bind tighter than arithmetic and comparison, and chain left to right
    ["'2' | int + 1", 3], ["s | lower | upper", 'HELLO WORLD'], ['list | length > 2', true],
    ['(list | first) + 10', 11],
  ])('%s → %p', (src, want) => {
    expect(ev(src)).toEqual(want);
  });

  it('default only evaluates its argument when it is needed', () => {
    expect(ev('n | default(missing)')).toBe(3);
    expect(thrown(() => ev('gone | default(missing)'))).toBeInstanceOf(UndefinedVariableError);
  });

  it('default does not excuse undefined variables inside other expressions', () => {
    const err = thrown(() => ev('(missing | lower) | default("x")'));
    expect(err).toBeInstanceOf(UndefinedVariableError);
    expect(err.name).toBe('missing');
  });

  it.each([
    ['n | length', 'expr/type'], ['n | join', 'expr/type'], ['[] | first', 'expr/value'], ["'' | last", 'expr/value'],
    ["n | split(',')", 'expr/type'], ["s | split('')", 'expr/value'], ["s | regex_search(pat)", 'expr/value'],
    ["s | regex_search('(a)', '\\\\5')", 'expr/value'], ["s | regex_search('a', 'x')", 'expr/value'],
  ])('%s fails with %s', (src, code) => {
    const err = thrown(() => ev(src, { ...scope, pat: '(' }));
    expect(err).toBeInstanceOf(ExprEvalError);
    expect(err.code).toBe(code);
  });

  it('a filter error points at the filter name', () => {
    const err = thrown(() => ev('n + (obj | join)'));
    expect(err.offset).toBe(11);
    expect(err.message).toContain("filter 'join'");
  });

  it('an unknown filter fails at compile time with its offset', () => {
    const err = thrown(() => compileExpression('s | lower | shout'));
    expect(err).toBeInstanceOf(ExprSyntaxError);
    expect(err.code).toBe('expr/unknown-filter');
    expect(err.offset).toBe(12);
    expect(err.message).toContain('shout');
  });

  it.each([
    ["s | lower('x')", 4], ['s | regex_search', 4], ['s | default(1, 2, 3)', 4],
  ])('wrong argument count for %s fails at compile time', (src, offset) => {
    const err = thrown(() => compileExpression(src));
    expect(err).toBeInstanceOf(ExprSyntaxError);
    expect(err.code).toBe('expr/syntax');
    expect(err.offset).toBe(offset);
  });

  it('a literal invalid regular expression fails at compile time at the pattern', () => {
    const err = thrown(() => compileExpression("s | regex_search('(')"));
    expect(err).toBeInstanceOf(ExprSyntaxError);
    expect(err.offset).toBe(17);
  });

  it.each([['s | 1'], ['s | obj.a'], ["s | 'lower'"]])('%s: the right of | must be a filter name', (src) => {
    const err = thrown(() => compileExpression(src));
    expect(err).toBeInstanceOf(ExprSyntaxError);
    expect(err.offset).toBe(4);
  });
});

describe('syntax errors', () => {
  it.each([
    ['n ==', 4, undefined],
    // Unclosed brackets and quotes point at their opener, not at the end of the input.
    ['(n + 1', 0, undefined],
    ["'unclosed", 0, undefined],
    ['n == (1 + (2', 10, undefined],
    ['n && yes', 2, '`and`'],
    ['n || yes', 2, '`or`'],
    ['!yes', 0, '`not`'],
    ['n and', 2, undefined],
    ['n m', 2, undefined],
    ['foo(1)', 0, 'filter'],
    ['s.upper()', 0, 'filter'],
    ['obj?.a', 0, undefined],
    ['', 0, undefined],
    ['n   ', undefined, undefined],
    ['x  not  in y', 3, 'single space'],
    ['list[', 5, undefined],
    ['1abc', 1, undefined],
  ])('%p fails at offset %p', (src, offset, hint) => {
    if (offset === undefined) {
      expect(() => compileExpression(src)).not.toThrow();
      return;
    }
    const err = thrown(() => compileExpression(src));
    expect(err).toBeInstanceOf(ExprSyntaxError);
    expect(err.code).toBe('expr/syntax');
    expect(err.offset).toBe(offset);
    if (hint) expect(err.hint).toContain(hint);
  });

  it('evaluateExpression on bad source throws the syntax error', () => {
    expect(thrown(() => ev('n ==='))).toBeInstanceOf(ExprSyntaxError);
  });
});

describe('compileExpression', () => {
  it('caches by source', () => {
    expect(compileExpression('n > 1 and yes')).toBe(compileExpression('n > 1 and yes'));
  });

  it.each([
    ['n > 1 and s', ['n', 's']],
    ['x is defined and x > 1', ['x']],
    ['x is defined', []],
    ['x.y.z is not defined', []],
    ['x | default(1)', []],
    ['x | default(y)', ['y']],
    ['a[b] is defined', ['b']],
    ['x.y | lower', ['x']],
    ['not (a in b) or c ? d : e', ['a', 'b', 'c', 'd', 'e']],
    ['[p, q | int] | length', ['p', 'q']],
    ["r is match(pattern)", ['r', 'pattern']],
    ['x is none', ['x']],
    ['1 + 2', []],
  ])('roots of %s', (src, roots) => {
    expect([...compileExpression(src).roots].sort()).toEqual([...roots].sort());
  });

  it('evaluates a compiled expression against many scopes', () => {
    const c = compileExpression("inventory_hostname in groups['web']");
    const groups = { web: ['a', 'b'] };
    expect(evaluateExpression(c, { inventory_hostname: 'a', groups })).toBe(true);
    expect(evaluateExpression(c, { inventory_hostname: 'c', groups })).toBe(false);
  });
});

describe('isTruthy', () => {
  it.each([
    [true, true], [false, false], [null, false], [undefined, false], [0, false], [1, true], [-1, true], [NaN, false],
    ['', false], ['false', true], [' ', true], [[], false], [[0], true], [{}, false], [{ a: 1 }, true],
  ])('%p → %p', (v, want) => {
    expect(isTruthy(v)).toBe(want);
  });
});
