/**
 * The doctrine's two halves: the scanner that finds every -j value a command line or MAKEFLAGS
 * string can hand to make (however it is spelt), and the judge that weighs a value against a
 * hardware class of schemas/doctrine.json.
 */
import { scanJobs, scanMakeflags, type JobsToken } from '../../engine/doctrine/scan.js';
import { judgeJobs, type JobsValue } from '../../engine/doctrine/rules.js';
import { loadDoctrine } from '../../engine/doctrine/load.js';
import type { DoctrineClass } from '../../engine/doctrine-types.js';

const brief = (t: JobsToken) => [t.jobs, t.kind, t.raw, t.offset];

describe('scanJobs finds every spelling of -j', () => {
  it.each([
    ['make -j14', [[14, 'number', '-j14', 5]]],
    ['make -j 14', [[14, 'number', '-j 14', 5]]],
    ['make --jobs=14', [[14, 'number', '--jobs=14', 5]]],
    ['make --jobs 14', [[14, 'number', '--jobs 14', 5]]],
    ['make -C /srv/build/linux -j14 bzImage', [[14, 'number', '-j14', 25]]],
    ['make -kj8', [[8, 'number', '-kj8', 5]]],
    ['make -ksj 12', [[12, 'number', '-ksj 12', 5]]],
    ['pump make -j14 bzImage modules', [[14, 'number', '-j14', 10]]],
  ])('%p', (text, want) => {
    expect(scanJobs(text).map(brief)).toEqual(want);
  });

  it.each([
    ['make -j', 'unbounded', '-j'],
    ['make --jobs', 'unbounded', '--jobs'],
    ['make -j bzImage', 'unbounded', '-j'],
    ['make -j -k', 'unbounded', '-j'],
    ['make -j +4', 'unbounded', '-j'],
    ['make -j$(nproc)', 'dynamic', '-j$(nproc)'],
    ['make -j `nproc`', 'dynamic', '-j `nproc`'],
    ['make -j"$JOBS"', 'dynamic', '-j$JOBS'],
    ['make --jobs=${N}', 'dynamic', '--jobs=${N}'],
    ['make -j$((4*8))', 'dynamic', '-j$((4*8))'],
    ['make -j 014', 'malformed', '-j 014'],
    ['make -j0', 'malformed', '-j0'],
    ['make --jobs=0x20', 'malformed', '--jobs=0x20'],
    ['make -j1e2', 'malformed', '-j1e2'],
    ['make -j3.5', 'malformed', '-j3.5'],
  ])('%p is %s', (text, kind, raw) => {
    const [t] = scanJobs(text);
    expect(t.kind).toBe(kind);
    expect(t.raw).toBe(raw);
    expect(t.offset).toBe(5);
  });

  test('a leading zero still carries the number it looks like (for the message)', () => {
    expect(scanJobs('make -j 014')[0].jobs).toBe(14);
  });

  test('a template tag whose value is known only at run time is not mistaken for a bare -j', () => {
    // validate/partial-render.ts leaves U+0001 where such a tag was.
    expect(scanJobs('make -j \u0001').map(brief)).toEqual([[null, 'dynamic', '-j \u0001', 5]]);
    expect(scanJobs('make -j\u0001')[0].kind).toBe('dynamic');
  });

  test('every value on a line is found, in order, including a later one that overrides an earlier', () => {
    expect(scanJobs('make -j14 && make -j 4 -j 32').map((t) => t.raw)).toEqual(['-j14', '-j 4', '-j 32']);
    expect(scanJobs('make -j14; make -j48|tee log').map((t) => t.jobs)).toEqual([14, 48]);
  });

  describe('what the shell does to a word is undone first', () => {
    it.each([
      ["make -j'3'2", 32, 5],
      ['make -j"3"2', 32, 5],
      ['make -j 3""2', 32, 5],
      ['make -j\\32', 32, 5],
      ['make "-j" 32', 32, 6],
      ["make '--jobs=40'", 40, 6],
    ])('%p is -j%p', (text, jobs, offset) => {
      const [t] = scanJobs(text);
      expect(t.jobs).toBe(jobs);
      expect(t.kind).toBe('number');
      expect(t.offset).toBe(offset);
    });
  });

  describe('command lines inside command lines are scanned too', () => {
    it.each([
      ["sh -c 'make -j32 bzImage'", 32, 12],
      ['bash -c "cd /src && make --jobs=48"', 48, 25],
      ["bash -c 'sh -c \"make -j64\"'", 64, 21],
      ['echo $(make -j33)', 33, 12],
      ['echo `make -j 34`', 34, 11],
      ['(cd /src; make -j35)', 35, 15],
      ['MAKEFLAGS=-j48 make bzImage', 48, 10],
      ['export MAKEFLAGS="-j 50"; make', 50, 18],
      ['env MAKEOPTS=--jobs=40 make', 40, 13],
      ['MAKEFLAGS=kj36 make', 36, 10],
    ])('%p holds -j%p', (text, jobs, offset) => {
      const found = scanJobs(text);
      expect(found).toHaveLength(1);
      expect(found[0].jobs).toBe(jobs);
      expect(found[0].offset).toBe(offset);
      expect(text.slice(offset)).toMatch(/^['"]?(-|k)/);
    });
  });

  it.each([
    'make bzImage modules',
    'tar -cjf linux.tar.bz2 linux',
    'make --jobserver-auth=fifo:/dev/steve',
    'echo jobs=32',
    'ls -la /tmp',
    '',
  ])('%p holds no -j', (text) => {
    expect(scanJobs(text)).toEqual([]);
  });

  test('a quoted -j handed to another program is still reported (the scanner is conservative)', () => {
    expect(scanJobs('grep -- -j32 notes.txt').map((t) => t.jobs)).toEqual([32]);
  });

  test('deeply nested quoting terminates', () => {
    const nested = 'sh -c '.repeat(50) + 'make -j32';
    expect(() => scanJobs(nested)).not.toThrow();
  });
});

describe('scanMakeflags', () => {
  it.each([
    ['-j14', [14, 'number', '-j14', 0]],
    ['j14', [14, 'number', 'j14', 0]],
    ['kj32', [32, 'number', 'kj32', 0]],
    ['-k -j', [null, 'unbounded', '-j', 3]],
    ['--jobs=40 --no-print-directory', [40, 'number', '--jobs=40', 0]],
    ['-j 24', [24, 'number', '-j 24', 0]],
  ])('%p', (text, want) => {
    expect(scanMakeflags(text).map(brief)).toEqual([want]);
  });

  it.each(['w', 'k', '--no-print-directory', 'V=1'])('%p holds no -j', (text) => {
    expect(scanMakeflags(text)).toEqual([]);
  });
});

describe('judgeJobs against the CM3+ table', () => {
  const doctrine = loadDoctrine();
  const cm3 = doctrine.classes.cm3plus;
  const value = (jobs: number | null, kind: JobsValue['kind'] = 'number'): JobsValue => ({ jobs, kind, raw: jobs === null ? '-j' : `-j${jobs}` });
  const judge = (v: JobsValue, declared = false) => judgeJobs(v, cm3, 'cm3plus', 'cm3', declared);

  test('the table is the one of PARALLELISM.md', () => {
    expect(cm3.levels).toEqual({ production: 14, diagnostic: 12, experimental: 24 });
    expect(cm3.forbidden_from).toBe(32);
    expect(cm3.may_build).toBe(false);
  });

  it.each([
    [14, 'production'],
    [12, 'diagnostic'],
  ])('-j%p is allowed (%s)', (jobs, level) => {
    expect(judge(value(jobs))).toEqual({ ok: true, level, jobs });
  });

  test('-j24 needs a declared experiment', () => {
    expect(judge(value(24))).toMatchObject({ ok: false, code: 'doctrine/experimental-undeclared' });
    expect(judge(value(24), true)).toEqual({ ok: true, level: 'experimental', jobs: 24 });
  });

  it.each([32, 33, 48, 64, 1000, Number.MAX_SAFE_INTEGER])('-j%p is forbidden, declared or not', (jobs) => {
    expect(judge(value(jobs))).toMatchObject({ ok: false, code: 'doctrine/forbidden' });
    expect(judge(value(jobs), true)).toMatchObject({ ok: false, code: 'doctrine/forbidden' });
  });

  it.each([1, 2, 8, 13, 15, 16, 23, 25, 31])('-j%p is not a value of the doctrine', (jobs) => {
    const v = judge(value(jobs), true);
    expect(v).toMatchObject({ ok: false, code: 'doctrine/not-in-doctrine' });
    if (!v.ok) expect(v.hint).toContain('-j14');
  });

  test('bare -j is unbounded; run-time values cannot be judged; odd spellings are malformed', () => {
    expect(judge(value(null, 'unbounded'))).toMatchObject({ ok: false, code: 'doctrine/unbounded' });
    expect(judge({ jobs: null, kind: 'dynamic', raw: '-j$(nproc)' })).toMatchObject({ ok: false, code: 'doctrine/not-literal' });
    expect(judge({ jobs: 14, kind: 'malformed', raw: '-j 014' })).toMatchObject({ ok: false, code: 'doctrine/malformed' });
    expect(judge({ jobs: 0, kind: 'number', raw: '-j0' })).toMatchObject({ ok: false, code: 'doctrine/malformed' });
    expect(judge({ jobs: 14.5, kind: 'number', raw: 'jobs: 14.5' })).toMatchObject({ ok: false, code: 'doctrine/malformed' });
  });

  test('messages name the class and the host; hints give the production value', () => {
    const v = judge(value(48));
    if (v.ok) throw new Error('allowed');
    expect(v.message).toContain('cm3plus');
    expect(v.message).toContain('host cm3');
    expect(v.hint).toContain('-j14');
  });

  test('the forbidden range wins over the experimental value when a table puts them together', () => {
    const tight: DoctrineClass = { ...cm3, forbidden_from: 20 };
    expect(judgeJobs(value(24), tight, 'tight', 'h', true)).toMatchObject({ ok: false, code: 'doctrine/forbidden' });
  });
});
