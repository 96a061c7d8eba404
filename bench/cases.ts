/**
 * The work the suite times, each written three ways: a tsplay playbook, an Ansible playbook doing the
 * same commands, and a plain-ssh lower bound (one remote shell per host running every check).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { LabHostEntry } from './lab.js';

export interface BenchCase {
  name: string;
  /** The tsplay playbook (the shipped one under playbooks/ when it exists). */
  tsplay: string;
  ansible: string;
  /** Shell run in one ssh session per target host. */
  lowerScript: string;
  /** The hosts the case works on (for the lower bound's ssh targets). */
  targets(hosts: readonly LabHostEntry[]): LabHostEntry[];
  /** True when `tsplay` is the stage shipped in playbooks/, not the bench's stand-in. */
  shipped: boolean;
}

/** The two lifecycle stages issue 5 times "as shipped". */
export const SHIPPED_STAGES = ['post-power-on-validate', 'pump-preflight'] as const;
/** The five lifecycle playbooks `tsplay check` is timed on when they ship. */
export const LIFECYCLE = ['power-on', 'post-power-on-validate', 'pump-preflight', 'pump-start', 'kernel-build'] as const;

export function benchDir(repo: string): string {
  return path.join(repo, 'bench');
}

export function cases(repo: string, shippedDir: string): BenchCase[] {
  const bench = benchDir(repo);
  const stage = (name: string, group: string): BenchCase => {
    const shipped = path.join(shippedDir, `${name}.yml`);
    const isShipped = existsSync(shipped);
    return {
      name,
      tsplay: isShipped ? shipped : path.join(bench, 'playbooks', `${name}.yml`),
      ansible: path.join(bench, 'ansible', `${name}.yml`),
      lowerScript: path.join(bench, 'lower-bound', `${name}.sh`),
      targets: (hosts) => hosts.filter((h) => h.group === group),
      shipped: isShipped,
    };
  };
  return [
    {
      name: 'validate-8',
      tsplay: path.join(bench, 'playbooks', 'validate-8.yml'),
      ansible: path.join(bench, 'ansible', 'validate-8.yml'),
      lowerScript: path.join(bench, 'lower-bound', 'validate-8.sh'),
      targets: (hosts) => [...hosts],
      shipped: false,
    },
    stage('post-power-on-validate', 'workers'),
    stage('pump-preflight', 'builders'),
  ];
}

/**
 * What `tsplay check` and `ansible-playbook --syntax-check` are timed on: the five lifecycle
 * playbooks and their Ansible versions (bench/ansible/<stage>.yml) when playbooks/ ships them all,
 * else the bench's own playbooks and theirs.
 */
export function checkFiles(repo: string, shippedDir: string): { tsplay: string[]; ansible: string[]; shipped: boolean } {
  const bench = benchDir(repo);
  const five = LIFECYCLE.map((n) => path.join(shippedDir, `${n}.yml`));
  if (five.every((f) => existsSync(f))) {
    return { tsplay: five, ansible: LIFECYCLE.map((n) => path.join(bench, 'ansible', `${n}.yml`)), shipped: true };
  }
  const own = cases(repo, shippedDir);
  return { tsplay: own.map((c) => c.tsplay), ansible: own.map((c) => c.ansible), shipped: false };
}
