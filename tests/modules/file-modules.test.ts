/**
 * template and copy, run directly against this machine's file system through LocalTransport:
 * honest `changed`, --check writes nothing, --diff, exact modes, backups, owners, errors with places.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { copy } from '../../modules/copy.js';
import { template, TemplateFileError } from '../../modules/template.js';
import { parseMode } from '../../modules/lib/file-args.js';
import { parseProbe, plan } from '../../modules/lib/file-sync.js';
import { moduleContext } from '../helpers/module-context.js';

let dir: string;
let pbDir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-files-'));
  pbDir = path.join(dir, 'playbook');
  mkdirSync(path.join(pbDir, 'templates'), { recursive: true });
  mkdirSync(path.join(pbDir, 'files'), { recursive: true });
  mkdirSync(path.join(dir, 'host'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const modeOf = (p: string) => statSync(p).mode & 0o7777;
const dest = (name: string) => path.join(dir, 'host', name);

describe('copy', () => {
  test('creates the file (0644 by default), then reports ok on the second run', async () => {
    const ctx = moduleContext({ playbookDir: pbDir });
    const r1 = await copy.run(ctx, { content: 'a=1\n', dest: dest('a.conf') });
    expect(r1).toMatchObject({ changed: true });
    expect(r1.failed).toBeFalsy();
    expect(r1.msg).toContain('created');
    expect(readFileSync(dest('a.conf'), 'utf8')).toBe('a=1\n');
    expect(modeOf(dest('a.conf'))).toBe(0o644);
    const r2 = await copy.run(ctx, { content: 'a=1\n', dest: dest('a.conf') });
    expect(r2.changed).toBe(false);
    expect(r2.data?.changes).toEqual([]);
  });

  test('--check says it would change and writes nothing; --diff gives before and after', async () => {
    writeFileSync(dest('b.conf'), 'old\n', { mode: 0o644 });
    const ctx = moduleContext({ playbookDir: pbDir, check: true, diff: true });
    const r = await copy.run(ctx, { content: 'new\n', dest: dest('b.conf'), mode: '0600' });
    expect(r.changed).toBe(true);
    expect(r.msg).toMatch(/^would update .*b\.conf \(content, mode 0644 → 0600\)$/);
    expect(r.diff).toEqual({ path: dest('b.conf'), before: 'old\n', after: 'new\n' });
    expect(readFileSync(dest('b.conf'), 'utf8')).toBe('old\n');
    expect(modeOf(dest('b.conf'))).toBe(0o644);
    // A file that does not exist yet: the diff's before is empty, nothing is created.
    const r2 = await copy.run(ctx, { content: 'x', dest: dest('new.conf') });
    expect(r2).toMatchObject({ changed: true, diff: { before: '', after: 'x' } });
    expect(existsSync(dest('new.conf'))).toBe(false);
  });

  test('a secret gets exactly the mode asked for, whether new, replaced or only re-moded', async () => {
    const ctx = moduleContext({ playbookDir: pbDir });
    await copy.run(ctx, { content: 'TOKEN=1\n', dest: dest('s.env'), mode: '0600' });
    expect(modeOf(dest('s.env'))).toBe(0o600);
    writeFileSync(dest('t.env'), 'TOKEN=0\n', { mode: 0o644 });
    chmodSync(dest('t.env'), 0o644);
    const r = await copy.run(ctx, { content: 'TOKEN=2\n', dest: dest('t.env'), mode: '0400' });
    expect(r.data?.changes).toEqual(['content', 'mode']);
    expect(modeOf(dest('t.env'))).toBe(0o400);
    // Same content, only the mode differs: chmod alone, reported as a change.
    chmodSync(dest('s.env'), 0o666);
    const r2 = await copy.run(ctx, { content: 'TOKEN=1\n', dest: dest('s.env'), mode: '0600' });
    expect(r2).toMatchObject({ changed: true, data: { changes: ['mode'] } });
    expect(modeOf(dest('s.env'))).toBe(0o600);
  });

  test('without mode an existing file keeps its mode', async () => {
    writeFileSync(dest('k.conf'), 'one\n');
    chmodSync(dest('k.conf'), 0o640);
    const r = await copy.run(moduleContext({ playbookDir: pbDir }), { content: 'two\n', dest: dest('k.conf') });
    expect(r.changed).toBe(true);
    expect(modeOf(dest('k.conf'))).toBe(0o640);
    expect(readFileSync(dest('k.conf'), 'utf8')).toBe('two\n');
  });

  test('backup keeps the old file next to the new one, with its mode', async () => {
    writeFileSync(dest('c.conf'), 'v1\n');
    chmodSync(dest('c.conf'), 0o600);
    const r = await copy.run(moduleContext({ playbookDir: pbDir }), { content: 'v2\n', dest: dest('c.conf'), backup: true });
    const bak = String(r.data?.backup_file);
    expect(bak).toMatch(/c\.conf\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$/);
    expect(readFileSync(bak, 'utf8')).toBe('v1\n');
    expect(modeOf(bak)).toBe(0o600);
    expect(readFileSync(dest('c.conf'), 'utf8')).toBe('v2\n');
    // No content change, no backup.
    const again = await copy.run(moduleContext({ playbookDir: pbDir }), { content: 'v2\n', dest: dest('c.conf'), backup: true });
    expect(again.data?.backup_file).toBeUndefined();
    expect(readdirSync(path.join(dir, 'host')).filter((f) => f.startsWith('c.conf.'))).toHaveLength(1);
  });

  test('src is copied byte for byte from the playbook dir or its files/ folder, never templated', async () => {
    const bytes = Buffer.from([0, 1, 2, 0x7b, 0x7b, 0x20, 0x78, 0x20, 0x7d, 0x7d, 255]);
    writeFileSync(path.join(pbDir, 'files', 'blob.bin'), bytes);
    const ctx = moduleContext({ playbookDir: pbDir, diff: true });
    const r = await copy.run(ctx, { src: 'blob.bin', dest: dest('blob.bin') });
    expect(r.changed).toBe(true);
    expect(readFileSync(dest('blob.bin')).equals(bytes)).toBe(true);
    expect(r.diff?.after).toMatch(/^\(binary file: 11 bytes, sha256 [0-9a-f]{64}\)/);
    expect((await copy.run(ctx, { src: 'blob.bin', dest: dest('blob.bin') })).changed).toBe(false);
  });

  test('content that is a mapping is written as JSON', async () => {
    await copy.run(moduleContext({ playbookDir: pbDir }), { content: { a: [1, 2] }, dest: dest('j.json') });
    expect(JSON.parse(readFileSync(dest('j.json'), 'utf8'))).toEqual({ a: [1, 2] });
  });

  test('owner and group are set and compared (chown only when they differ)', async () => {
    const ctx = moduleContext({ playbookDir: pbDir });
    const r = await copy.run(ctx, { content: 'o\n', dest: dest('o.conf'), owner: 'nobody', group: 'nogroup', mode: '0640' });
    expect(r.changed).toBe(true);
    const st = statSync(dest('o.conf'));
    expect(st.uid).toBe(Number(readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('nobody:'))!.split(':')[2]));
    expect(modeOf(dest('o.conf'))).toBe(0o640);
    const r2 = await copy.run(ctx, { content: 'o\n', dest: dest('o.conf'), owner: 'nobody', group: 'nogroup', mode: '0640' });
    expect(r2.changed).toBe(false);
    const r3 = await copy.run(ctx, { content: 'o\n', dest: dest('o.conf'), owner: 'root' });
    expect(r3).toMatchObject({ changed: true, data: { changes: ['owner'] } });
    expect(statSync(dest('o.conf')).uid).toBe(0);
  });

  test('refuses a directory and a relative dest, also in check mode; a missing parent directory fails unless in check mode', async () => {
    for (const check of [false, true]) {
      const ctx = moduleContext({ playbookDir: pbDir, check });
      const d = await copy.run(ctx, { content: 'x', dest: path.join(dir, 'host') });
      expect(d).toMatchObject({ failed: true, changed: false });
      expect(d.msg).toContain('is a directory');
      const p = await copy.run(ctx, { content: 'x', dest: path.join(dir, 'nope', 'x.conf') });
      expect(p.msg).toContain(`its directory ${path.join(dir, 'nope')} does not exist`);
      // --check: an earlier task that would create the directory did not run, so it is not a failure.
      expect(p).toMatchObject(check ? { changed: true } : { changed: false, failed: true });
      expect(existsSync(path.join(dir, 'nope'))).toBe(false);
      const rel = await copy.run(ctx, { content: 'x', dest: 'x.conf' });
      expect(rel.msg).toContain('must be an absolute path');
    }
  });

  test('staticCheck: a missing or directory src and an unquoted mode are parse-time errors', () => {
    mkdirSync(path.join(pbDir, 'files', 'adir'));
    const probs = copy.staticCheck!({ src: 'nope.txt', dest: '/x', mode: 600 }, { playbookDir: pbDir });
    expect(probs.map((p) => p.code).sort()).toEqual(['args/bad-mode', 'copy/missing-src']);
    expect(probs.find((p) => p.code === 'copy/missing-src')!.message).toContain('nope.txt');
    const d = copy.staticCheck!({ src: 'adir', dest: '/x' }, { playbookDir: pbDir });
    expect(d[0].message).toContain('is a directory');
    // A run-time value (U+0001 after parse-time rendering) cannot be checked yet.
    expect(copy.staticCheck!({ src: '\u0001.txt', dest: '/x', mode: '\u0001' }, { playbookDir: pbDir })).toEqual([]);
  });
});

describe('template', () => {
  const tpl = (name: string, text: string) => writeFileSync(path.join(pbDir, 'templates', name), text);

  test('renders with the task variables, no HTML escaping, and is idempotent', async () => {
    tpl('d.conf.mustache', 'host={{ inventory_hostname }}\n{{#peers}}peer={{ name }}:{{ port }}\n{{/peers}}token={{ token }}\n');
    const vars = { inventory_hostname: 'w1', peers: [{ name: 'a', port: 1 }, { name: 'b', port: 2 }], token: `<&"'>` };
    const ctx = moduleContext({ playbookDir: pbDir, vars });
    const r = await template.run(ctx, { src: 'd.conf.mustache', dest: dest('d.conf'), mode: '0600' });
    expect(r.changed).toBe(true);
    expect(readFileSync(dest('d.conf'), 'utf8')).toBe(`host=w1\npeer=a:1\npeer=b:2\ntoken=<&"'>\n`);
    expect(modeOf(dest('d.conf'))).toBe(0o600);
    const again = await template.run(ctx, { src: 'd.conf.mustache', dest: dest('d.conf'), mode: '0600' });
    expect(again.changed).toBe(false);
    const other = await template.run(moduleContext({ playbookDir: pbDir, vars: { ...vars, token: 'x' }, diff: true }), { src: 'd.conf.mustache', dest: dest('d.conf'), mode: '0600' });
    expect(other.changed).toBe(true);
    expect(other.diff?.before).toContain(`token=<&"'>`);
    expect(other.diff?.after).toContain('token=x');
  });

  test('an undefined variable fails naming the variable, the template file, line and column', async () => {
    tpl('u.mustache', 'a={{ a }}\nb= {{ r.missing }}\n');
    const ctx = moduleContext({ playbookDir: pbDir, vars: { a: 1, r: { rc: 0 } } });
    let err: unknown;
    try {
      await template.run(ctx, { src: 'u.mustache', dest: dest('u') });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateFileError);
    expect((err as TemplateFileError).code).toBe('template/undefined-variable');
    expect((err as Error).message).toMatch(/templates\/u\.mustache:2:4: 'r\.missing' is undefined/);
    expect(existsSync(dest('u'))).toBe(false);
  });

  test('src is found beside the playbook first, then in templates/', async () => {
    writeFileSync(path.join(pbDir, 'x.mustache'), 'beside\n');
    tpl('x.mustache', 'templates\n');
    tpl('only.mustache', 'only\n');
    const ctx = moduleContext({ playbookDir: pbDir });
    await template.run(ctx, { src: 'x.mustache', dest: dest('x') });
    await template.run(ctx, { src: 'only.mustache', dest: dest('only') });
    expect(readFileSync(dest('x'), 'utf8')).toBe('beside\n');
    expect(readFileSync(dest('only'), 'utf8')).toBe('only\n');
  });

  test('staticCheck: missing src, syntax errors and undefined variables point into the template file', () => {
    expect(template.staticCheck!({ src: 'gone.mustache', dest: '/x' }, { playbookDir: pbDir })).toMatchObject([{ code: 'template/missing-src', arg: 'src' }]);
    tpl('s.mustache', 'ok\n  x={{#open}}\n');
    const [syntax] = template.staticCheck!({ src: 's.mustache', dest: '/x' }, { playbookDir: pbDir });
    expect(syntax).toMatchObject({ code: 'template/syntax', line: 2, column: 5, sourceLine: '  x={{#open}}' });
    expect(syntax.file).toMatch(/templates\/s\.mustache$/);
    tpl('v.mustache', 'a={{ known }}\n{{^maybe}}none{{/maybe}}\n{{#list}}{{ inner }}{{/list}}\nb={{ unknown.x }}\n');
    const known = new Set(['known', 'list']);
    const probs = template.staticCheck!({ src: 'v.mustache', dest: '/x' }, { playbookDir: pbDir, host: 'w1', isDefined: (r) => known.has(r) });
    expect(probs).toHaveLength(1);
    expect(probs[0]).toMatchObject({ code: 'template/undefined-variable', line: 4, column: 3, sourceLine: 'b={{ unknown.x }}' });
    expect(probs[0].message).toContain('`unknown.x`, which is not defined for host w1');
  });
});

describe('file helpers', () => {
  test('modes: quoted octal strings only', () => {
    expect(parseMode('0600')).toBe(0o600);
    expect(parseMode('644')).toBe(0o644);
    expect(parseMode('1777')).toBe(0o1777);
    expect(parseMode(undefined)).toBeUndefined();
    expect(() => parseMode(600)).toThrow(/is a number/);
    expect(() => parseMode('0800')).toThrow(/not an octal mode/);
    expect(() => parseMode('u=rw')).toThrow(/not an octal mode/);
  });

  test('probe output and what differs', () => {
    const cur = parseProbe(`file 600 0 root 0 root 12\n${'a'.repeat(64)}\n`);
    expect(cur).toMatchObject({ state: 'file', mode: 0o600, user: 'root', uid: '0', size: 12, sha256: 'a'.repeat(64) });
    expect(parseProbe('absent\n').state).toBe('absent');
    expect(parseProbe('file 644 0 root 0 root 1\n-\n').sha256).toBeUndefined();
    const want = { dest: '/x', from: 'f', sha256: 'a'.repeat(64) };
    expect(plan(cur, want, true)).toEqual([]);
    expect(plan(cur, { ...want, mode: 0o644, owner: '0', group: 'staff' }, false)).toEqual(['content', 'mode', 'group']);
    expect(plan({ state: 'absent' }, want, undefined)).toEqual(['content']);
    expect(plan({ state: 'absent' }, { ...want, mode: 0o600, owner: 'nobody' }, undefined)).toEqual(['content', 'owner']);
  });
});
