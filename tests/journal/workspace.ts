/**
 * A scratch project for the journal tests: a temp directory with an inventory holding two lab
 * hosts (builder and one worker), playbooks written by the test, and its own runs directory. Commands run
 * the real CLI in that directory; host files are read and planted over the lab's SSH.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runTsplay, type CliResult } from '../helpers/cli.js';
import { LAB_DIR } from '../helpers/lab.js';

export const HOSTS: Record<string, string> = { builder: '10.177.0.20', w1: '10.177.0.101', w2: '10.177.0.102' };

export interface Workspace {
  dir: string;
  /** The worker in the inventory (w1 by default; w2 for the tests that power it off). */
  worker: string;
  runsDir: string;
  inventory: string;
  /** Unique per workspace, so files planted on hosts never collide with another test or helper. */
  tag: string;
  write(rel: string, text: string): string;
  tsplay(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** Runs a shell command on a lab host as root; returns stdout. */
  sh(host: string, cmd: string): string;
  /** Lines of a file on a host ([] when missing). */
  lines(host: string, file: string): string[];
  /** Run ids in the runs dir, newest first. */
  runIds(): string[];
  journal(id: string): string;
  journalLines(id: string): Record<string, unknown>[];
  cleanup(): void;
}

export function workspace(name: string, worker = 'w1'): Workspace {
  const dir = mkdtempSync(path.join(os.tmpdir(), `tsplay-${name}-`));
  const tag = path.basename(dir);
  const runsDir = path.join(dir, 'runs');
  const inventory = path.join(dir, 'inventory.yml');
  writeFileSync(
    inventory,
    [
      'all:',
      '  vars:',
      '    user: root',
      `    private_key: ${LAB_DIR}/id_ed25519`,
      `    known_hosts_file: ${LAB_DIR}/known_hosts`,
      '  children:',
      '    builders:',
      '      hosts:',
      `        builder: { address: ${HOSTS.builder}, hardware_class: x86_64 }`,
      '    workers:',
      '      hosts:',
      `        ${worker}: { address: ${HOSTS[worker]}, hardware_class: x86_64 }`,
      '',
    ].join('\n'),
  );
  const sh = (host: string, cmd: string): string =>
    execFileSync('ssh', ['-i', `${LAB_DIR}/id_ed25519`, '-o', `UserKnownHostsFile=${LAB_DIR}/known_hosts`, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', `root@${HOSTS[host]}`, cmd], { encoding: 'utf8' });
  return {
    dir,
    worker,
    runsDir,
    inventory,
    tag,
    write(rel, text) {
      const p = path.join(dir, rel);
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, text);
      return p;
    },
    tsplay: (args, env = {}) => runTsplay(args, { cwd: dir, env: { TSPLAY_RUNS_DIR: runsDir, ...env }, timeoutMs: 170_000 }),
    sh,
    lines(host, file) {
      const out = sh(host, `cat ${file} 2>/dev/null || true`);
      return out.split('\n').filter(Boolean);
    },
    runIds() {
      try {
        return readdirSync(runsDir).sort().reverse();
      } catch {
        return [];
      }
    },
    journal: (id) => readFileSync(path.join(runsDir, id, 'journal.jsonl'), 'utf8'),
    journalLines(id) {
      return readFileSync(path.join(runsDir, id, 'journal.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    cleanup() {
      for (const h of ['builder', worker]) {
        try {
          sh(h, `rm -rf /tmp/${tag}`);
        } catch {
          // host down: nothing planted there survives its next lab start anyway
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
