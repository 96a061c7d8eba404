/**
 * The CLI bundle (build/bundle.ts) as `npm run build` leaves it in dist/bundle: what bin/tsplay.js
 * starts. The CLI tests run it against real hosts; this checks what they would not notice.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT, TSPLAY_JS } from '../helpers/paths.js';

const dir = path.join(ROOT, 'dist', 'bundle');
const chunks = readdirSync(dir).filter((f) => f.endsWith('.js'));
const text = (f: string) => readFileSync(path.join(dir, f), 'utf8');

test('bin/tsplay.js starts the bundle', () => {
  expect(readFileSync(TSPLAY_JS, 'utf8')).toContain("import('../dist/bundle/main.js')");
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

test("node-ssh gets ssh2's client alone: loading the connection chunk loads no http, https or tls", () => {
  const withNodeSsh = chunks.filter((f) => /^var NodeSSH = class/m.test(text(f)));
  expect(withNodeSsh).toHaveLength(1);
  const probe = `import(${JSON.stringify(path.join(dir, withNodeSsh[0]!))}).then((m) => {
    const loaded = process.moduleLoadList.filter((x) => /^NativeModule (https?|tls|_tls_wrap)$/.test(x));
    const ssh = m.NodeSSH;
    process.stdout.write(JSON.stringify({ loaded, nodeSsh: typeof ssh, client: typeof new ssh().connect }));
  })`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toEqual({ loaded: [], nodeSsh: 'function', client: 'function' });
  // ssh2's HTTP(S) agents are not in the bundle at all, nor in the start-up snapshot's.
  for (const f of chunks) expect({ f, agents: text(f).includes('SSHTTPSAgent') }).toEqual({ f, agents: false });
  expect(readFileSync(path.join(ROOT, 'dist', 'snapshot', 'entry.cjs'), 'utf8')).not.toContain('SSHTTPSAgent');
});

test("node-ssh's directory helpers (make-dir and semver, sb-scandir) are out of both bundles; calling one says why", () => {
  const snapshot = readFileSync(path.join(ROOT, 'dist', 'snapshot', 'entry.cjs'), 'utf8');
  for (const [f, t] of [...chunks.map((c) => [c, text(c)]), ['entry.cjs', snapshot]]) {
    expect({ f, semver: t.includes('node_modules/semver/'), makeDir: t.includes('node_modules/make-dir/'), scandir: t.includes('node_modules/sb-scandir/') })
      .toEqual({ f, semver: false, makeDir: false, scandir: false });
  }
  const withNodeSsh = chunks.find((f) => /^var NodeSSH = class/m.test(text(f)))!;
  const probe = `import(${JSON.stringify(path.join(dir, withNodeSsh))}).then(async (m) => {
    const ssh = new m.NodeSSH();
    // An SFTP session of its own, so putDirectory gets as far as walking the local folder.
    try { await ssh.putDirectory('/tmp', '/tmp/tsplay-no-such-remote', { sftp: { end() {} } }); } catch (e) { process.stdout.write(String(e.message)); }
  })`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
  expect(r.stdout).toMatch(/is not in tsplay's bundle: node-ssh's directory transfers are not used/);
});
