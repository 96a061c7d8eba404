/**
 * `tsplay report`: a self-contained HTML page of a recorded run, opened in headless Chromium
 * (Debian's chromium package): a screenshot is taken, and the DOM after scripts ran must hold the
 * hosts, the tasks with their outcomes, and nothing a task name could inject.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ensureLab } from '../helpers/lab.js';
import { expectExit } from '../helpers/cli.js';
import { workspace, type Workspace } from './workspace.js';

const CHROMIUM = '/usr/bin/chromium';
let ws: Workspace;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; tests/setup.sh does)`);
  await ensureLab();
  ws = workspace('journal-report');
});

afterAll(() => ws?.cleanup());

function chromium(args: string[]): string {
  return execFileSync(CHROMIUM, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${path.join(ws.dir, 'chromium-profile')}`, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const b = readFileSync(file);
  expect(b.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

test('the report of a failed lifecycle opens offline: timeline per host, task graph with outcomes, escaped names, no secrets', async () => {
  const secret = 'Tok-report-5e4d3c2b';
  const evil = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>';
  for (const s of ['power-on', 'post-power-on-validate', 'pump-preflight', 'pump-start', 'kernel-build']) {
    let text = `- name: ${s}\n  hosts: all\n  tasks:\n    - name: ${s} says the token\n      shell: echo "{{ deploy_token }}"\n`;
    if (s === 'post-power-on-validate') text += `    - name: '${evil}'\n      shell: "true"\n`;
    if (s === 'pump-preflight') text += `    - name: Clear stale include servers\n      shell: if [ "$(hostname)" = w1 ]; then echo "include server stuck" >&2; exit 1; fi\n`;
    ws.write(`stages/${s}.yml`, text);
  }
  const r = await ws.tsplay(['lifecycle', '-i', ws.inventory, '--playbooks', 'stages', '-e', `deploy_token=${secret}`]);
  expectExit(r, 2);
  const [id] = ws.runIds();
  const html = path.join(ws.dir, 'report.html');
  const made = await ws.tsplay(['report', id, '-o', html]);
  expectExit(made, 0);
  const page = readFileSync(html, 'utf8');

  // Self-contained: nothing is fetched (the only URL is the SVG namespace, a name, not a request).
  expect((page.match(/https?:\/\/[^\s"'<>]+/g) ?? []).filter((u) => u !== 'http://www.w3.org/2000/svg')).toEqual([]);
  expect(page).not.toMatch(/<(link|img|iframe|object|embed)\b|@import|url\((?!#)/i);
  expect(page).not.toContain(secret);
  expect(page).not.toContain('<script>document.title');
  expect(page.match(/<script\b/g)).toHaveLength(2);

  const png = path.join(ws.dir, 'report.png');
  chromium(['--window-size=1400,900', `--screenshot=${png}`, `file://${html}`]);
  expect(existsSync(png)).toBe(true);
  expect(pngSize(png)).toEqual({ width: 1400, height: 900 });
  // A blank page compresses to a few KB; the drawn report is far larger.
  expect(statSync(png).size).toBeGreaterThan(30_000);

  const dom = chromium(['--virtual-time-budget=5000', '--dump-dom', `file://${html}`]);
  expect(dom).toContain('data-rendered="yes"');
  expect(dom).toContain(`tsplay lifecycle ${id}`);
  for (const h of ['builder', 'w1']) {
    expect(dom).toContain(`<g data-host="${h}" class="gantt-row">`);
    expect(dom).toContain(`<tr data-host="${h}">`);
  }
  expect(dom).toMatch(/<g class="task-node" data-task="Clear stale include servers" data-status="failed"/);
  expect(dom).toMatch(/<g class="task-node" data-task="power-on says the token" data-status="changed"/);
  expect(dom).toMatch(/<g class="task-node" data-task="pump-start says the token" data-status="not run"/);
  expect(dom).toMatch(/<rect [^>]*data-task="Clear stale include servers" data-status="failed"/);
  expect(dom).toContain('include server stuck');
  expect(dom).toContain("lifecycle stopped at stage 3/5 pump-preflight: w1 failed task 'Clear stale include servers'");
  // The hostile task name is text, never markup: no injected element, title untouched.
  expect(dom).toContain('&lt;script&gt;document.title="pwned"&lt;/script&gt;');
  expect(dom).not.toContain('<img src="x"');
  expect(dom).not.toContain('<title>pwned');
  expect(dom).not.toContain(secret);
});
