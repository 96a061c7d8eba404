/**
 * The CLI bundle (build/bundle.ts) as `npm run build` leaves it in dist/bundle: what bin/tsplay.js
 * starts. The CLI tests run it against real hosts; this checks what they would not notice.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT } from '../helpers/paths.js';

const dir = path.join(ROOT, 'dist', 'bundle');
const chunks = readdirSync(dir).filter((f) => f.endsWith('.js'));
const text = (f: string) => readFileSync(path.join(dir, f), 'utf8');

test('bin/tsplay.js starts the bundle', () => {
  expect(readFileSync(path.join(ROOT, 'bin', 'tsplay.js'), 'utf8')).toContain("import('../dist/bundle/main.js')");
  expect(chunks).toContain('main.js');
});

test("Node's own modules are required, not imported (only the banner imports node:module and node:url)", () => {
  for (const f of chunks) {
    const imports = [...text(f).matchAll(/^import .* from "(node:[a-z_/]+|[a-z_]+)";?$/gm)].map((m) => m[1]);
    expect({ chunk: f, imports }).toEqual({ chunk: f, imports: [] });
  }
});

test("ssh2's native crypto binding is required from where npm built it, relative to its chunk", () => {
  const withBinding = chunks.filter((f) => text(f).includes('sshcrypto.node'));
  expect(withBinding).toHaveLength(1);
  const spec = /require\("([^"]*sshcrypto\.node)"\)/.exec(text(withBinding[0]!))![1]!;
  expect(path.resolve(dir, spec)).toBe(path.join(path.dirname(createRequire(import.meta.url).resolve('ssh2/package.json')), 'lib', 'protocol', 'crypto', 'build', 'Release', 'sshcrypto.node'));
});
