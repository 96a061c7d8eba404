/**
 * Before/after for performance work: several builds of tsplay (checkouts, each built) run the same
 * command in turn, round after round (rotating who goes first), so that load from anything else on
 * the machine falls on all of them alike. Prints the median wall time, CPU time and peak RSS of each.
 *
 *   node dist/bench/ab.js --build /tmp/before --build . --runs 15 -- check -i inv.yml play.yml
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { measure } from './measure.js';
import { median } from './report.js';

interface Side {
  name: string;
  repo: string;
  wall: number[];
  cpu: number[];
  rss: number[];
  failed: number;
}

/** bin/tsplay, or bin/tsplay.js in a checkout from before the snapshot launcher. */
function launcher(repo: string): string {
  const sh = path.join(repo, 'bin', 'tsplay');
  return existsSync(sh) ? sh : path.join(repo, 'bin', 'tsplay.js');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { build: { type: 'string', multiple: true }, runs: { type: 'string', default: '15' } },
    allowPositionals: true,
  });
  const builds = values.build ?? [];
  if (builds.length < 2 || positionals.length === 0) {
    process.stderr.write('usage: node dist/bench/ab.js --build REPO_A --build REPO_B [--build ...] [--runs N] -- TSPLAY_ARGS...\n');
    process.exit(2);
  }
  const runs = Number(values.runs);
  const logs = mkdtempSync(path.join(os.tmpdir(), 'tsplay-ab-'));
  const sides: Side[] = builds.map((b, i) => ({ name: String.fromCharCode(65 + i), repo: path.resolve(b), wall: [], cpu: [], rss: [], failed: 0 }));
  for (let round = 0; round <= runs; round++) {
    const order = sides.map((_, i) => sides[(i + round) % sides.length]!);
    for (const side of order) {
      const m = await measure([launcher(side.repo), ...positionals], {
        cwd: process.cwd(),
        env: { ...process.env, NO_COLOR: '1' },
        logBase: path.join(logs, `${side.name}-${round}`),
      });
      if (round === 0) continue; // warm-up
      if (m.exitCode !== 0) {
        side.failed++;
        process.stderr.write(`ab: ${side.name} round ${round} exited ${m.exitCode}; output kept in ${m.stdoutFile}\n`);
      }
      side.wall.push(m.wallMs);
      if (m.cpuMs !== undefined) side.cpu.push(m.cpuMs);
      if (m.maxRssKb !== undefined) side.rss.push(m.maxRssKb);
    }
  }
  if (!sides.some((s) => s.failed)) rmSync(logs, { recursive: true, force: true });
  const [first] = sides;
  for (const s of sides) {
    process.stdout.write(
      `${s.name} ${s.repo}: wall ${Math.round(median(s.wall))} ms, cpu ${Math.round(median(s.cpu))} ms, peak RSS ${(median(s.rss) / 1024).toFixed(1)} MB` +
        `${s === first ? '' : ` (×${(median(s.wall) / median(first!.wall)).toFixed(2)} wall, ×${(median(s.cpu) / median(first!.cpu)).toFixed(2)} cpu vs A)`}` +
        ` — median of ${s.wall.length}${s.failed ? `, ${s.failed} exited non-zero` : ''}\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`ab: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 70;
});
