/**
 * What a run depended on, so that a later `tsplay resume` can tell whether it is still the same
 * run: the sha256 of every playbook, the inventory, its group_vars/host_vars files and the files
 * the tasks name (templates, the distcc manifest, ...), plus the git commit of the playbooks.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Inventory } from '../inventory/model.js';
import type { Plan } from '../validate/check.js';
import { magicVars } from '../vars/scope.js';
import { partialRender, isUnresolved, renderVarsBlock } from '../validate/partial-render.js';
import type { FileChange, FileFingerprint } from './format.js';

const MAX_HASHED_BYTES = 256 * 1024 * 1024;

export function sha256File(file: string): string | null {
  try {
    const st = statSync(file);
    if (!st.isFile() || st.size > MAX_HASHED_BYTES) return null;
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return null;
  }
}

export type GitInfo = { root: string; commit: string; dirty: boolean } | null;

const gitCache = new Map<string, Promise<GitInfo>>();

/**
 * The git commit holding `dir`, and whether the files under `dir` differ from it (untracked files
 * count: a new group_vars file changes a run as much as an edit does); null outside git or before
 * the first commit. One git process (`status --branch` names the commit too), without blocking:
 * the run command starts this before validating, so git works on another core meanwhile, and
 * later callers share the answer. Each process tsplay starts copies its page tables, a cost that
 * grows with its heap.
 */
export function gitInfoAsync(dir: string): Promise<GitInfo> {
  const key = path.resolve(dir);
  let p = gitCache.get(key);
  if (!p) {
    p = new Promise<GitInfo>((resolve) => {
      execFile('git', ['-C', key, 'status', '--porcelain=v2', '--branch', '--', '.'], { encoding: 'utf8', timeout: 5000 }, (err, stdout) => {
        const root = err ? undefined : worktreeRoot(key);
        let commit: string | undefined;
        let dirty = false;
        for (const line of err ? [] : stdout.split('\n')) {
          if (line.startsWith('# branch.oid ')) commit = line.slice('# branch.oid '.length).trim();
          else if (line !== '' && !line.startsWith('#')) dirty = true;
        }
        resolve(root && commit && /^[0-9a-f]{40,64}$/.test(commit) ? { root, commit, dirty } : null);
      });
    });
    gitCache.set(key, p);
  }
  return p;
}

/** The nearest directory at or above `dir` holding `.git` (a directory, or a worktree's file), as git finds it. */
function worktreeRoot(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, '.git'))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

/** group_vars/ and host_vars/ files beside the inventory (all of them: a new one changes variables too). */
export function varsFiles(inventoryPath: string): string[] {
  const dir = path.dirname(path.resolve(inventoryPath));
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && /\.(ya?ml|json)$/.test(e)) out.push(p);
    }
  };
  for (const kind of ['group_vars', 'host_vars']) walk(path.join(dir, kind));
  return out;
}

/**
 * Controller-side files the tasks name: string arguments that, rendered with what is known before
 * the run, are a relative path to a file beside the playbook, or an absolute path to a file under
 * the playbook's project or the inventory's directory. (Paths on the hosts are left alone: the
 * same path on the controller is a different file.)
 */
export function referencedFiles(plan: Plan, inv: Inventory, extraVars: Record<string, unknown>): string[] {
  const found = new Set<string>();
  const invDir = path.dirname(path.resolve(inv.path));
  for (const pp of plan.plays) {
    const pbDir = pp.playbook.dir;
    const roots = [path.dirname(pbDir), invDir].map((r) => r + path.sep);
    const consider = (s: string) => {
      if (!s || s.includes('\n') || s.length > 4096 || isUnresolved(s)) return;
      const abs = path.isAbsolute(s) ? s : path.resolve(pbDir, s);
      if (path.isAbsolute(s) && !roots.some((r) => abs.startsWith(r))) return;
      try {
        if (existsSync(abs) && statSync(abs).isFile()) found.add(abs);
      } catch {
        // unreadable: not a file this run can depend on
      }
    };
    const walk = (v: unknown) => {
      if (typeof v === 'string') consider(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    // Hosts of a play usually share these values; rendering for a few is enough to find the files.
    for (const hostName of pp.hosts.slice(0, 8)) {
      const host = inv.hosts.get(hostName) ?? inv.localhost;
      const magic = magicVars(host, inv, pbDir, false);
      const playVars = renderVarsBlock(pp.play.vars, { ...host.vars, ...extraVars, ...magic });
      for (const task of [...pp.play.tasks, ...pp.play.handlers]) {
        const taskVars = renderVarsBlock(task.vars, { ...host.vars, ...playVars, ...extraVars, ...magic });
        walk(partialRender(task.args, { ...host.vars, ...playVars, ...taskVars, ...extraVars, ...magic }));
      }
    }
  }
  return [...found].sort();
}

export function fingerprint(plan: Plan, inv: Inventory, extraVars: Record<string, unknown>): FileFingerprint[] {
  const out: FileFingerprint[] = [];
  const seen = new Set<string>();
  const add = (p: string, role: FileFingerprint['role']) => {
    const abs = path.resolve(p);
    if (seen.has(abs)) return;
    seen.add(abs);
    out.push({ path: abs, role, sha256: sha256File(abs) });
  };
  for (const pp of plan.plays) add(pp.playbook.absPath, 'playbook');
  add(inv.path, 'inventory');
  for (const f of varsFiles(inv.path)) add(f, 'vars');
  for (const f of referencedFiles(plan, inv, extraVars)) add(f, 'referenced');
  return out;
}

/** What changed between a recorded fingerprint and the files now (a file newly referenced counts). */
export function compareFingerprints(recorded: FileFingerprint[], now: FileFingerprint[]): FileChange[] {
  const changes: FileChange[] = [];
  const nowByPath = new Map(now.map((f) => [f.path, f]));
  for (const r of recorded) {
    const current = nowByPath.has(r.path) ? nowByPath.get(r.path)!.sha256 : sha256File(r.path);
    if (current === r.sha256) continue;
    changes.push({ path: r.path, change: current === null ? 'missing' : 'changed', old: r.sha256, new: current });
  }
  const recordedPaths = new Set(recorded.map((r) => r.path));
  for (const n of now) if (!recordedPaths.has(n.path)) changes.push({ path: n.path, change: 'new', old: null, new: n.sha256 });
  return changes;
}
