/**
 * Loads an inventory in Ansible's YAML shape (all → children → hosts/vars) with group_vars/ and
 * host_vars/ beside it, merges variables by precedence, and checks every host's connection and
 * hardware facts against the doctrine's hardware classes. Problems are diagnostics with positions.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Diagnostic } from '../diagnostics.js';
import { loadYamlFile, type SourceFile } from '../yaml/source.js';
import { compile, schemaDiagnostics } from '../validate/schema.js';
import { didYouMean } from '../util/suggest.js';
import { HostMerger } from '../validate/host-merge.js';
import type { Doctrine } from '../doctrine-types.js';
import type { Inventory, InventoryGroup, InventoryHost } from './model.js';
import inventorySchema from '../../schemas/inventory.schema.json' with { type: 'json' };
import hostSchema from '../../schemas/host-connection.schema.json' with { type: 'json' };

const ALIASES: Record<string, string> = {
  ansible_host: 'address',
  ansible_port: 'port',
  ansible_user: 'user',
  ansible_ssh_private_key_file: 'private_key',
  ansible_connection: 'connection',
};

interface RawGroup {
  hosts?: Record<string, Record<string, unknown> | null> | null;
  vars?: Record<string, unknown> | null;
  children?: Record<string, RawGroup | null> | null;
}

interface Where {
  source: SourceFile;
  container: unknown;
  key: string;
}

/** Where a variable was written (the inventory, a group_vars/ or host_vars/ file), for error positions. */
type Origins = Map<string, Where>;

function originsOf(source: SourceFile, vars: Record<string, unknown>, into: Origins): void {
  for (const k of Object.keys(vars)) into.set(k, { source, container: vars, key: k });
}

export interface InventoryResult {
  inventory?: Inventory;
  diagnostics: Diagnostic[];
}

export function loadInventory(file: string, doctrine: Doctrine): InventoryResult {
  const abs = path.resolve(file);
  const { value, source, diagnostics } = loadYamlFile(abs, file);
  if (diagnostics.length) return { diagnostics };
  const diags: Diagnostic[] = [];
  if (value === null || value === undefined) return { diagnostics: [source.diag('inventory/empty', `${file} is empty: an inventory starts with \`all:\``, { line: 1, column: 1 })] };
  diags.push(...schemaDiagnostics(compile(inventorySchema), value, source, undefined, { codePrefix: 'inventory' }));
  if (diags.length) return { diagnostics: diags };

  const groups = new Map<string, InventoryGroup & { where: Where; origins: Origins }>();
  const hostOrder: string[] = [];
  const hostVarsRaw = new Map<string, { vars: Record<string, unknown>; where: Where }[]>();
  const directHosts = new Map<string, string[]>();

  // Walk the tree; a group named in several places is one group (Ansible merges them).
  const walk = (name: string, g: RawGroup | null, parent: string | undefined, container: unknown) => {
    let group = groups.get(name);
    if (!group) {
      group = { name, hosts: [], children: [], parents: [], vars: {}, where: { source, container, key: name }, origins: new Map() };
      groups.set(name, group);
      directHosts.set(name, []);
    }
    if (parent && !group.parents.includes(parent)) group.parents.push(parent);
    if (parent) {
      const p = groups.get(parent)!;
      if (!p.children.includes(name)) p.children.push(name);
    }
    if (!g) return;
    if (g.vars) {
      Object.assign(group.vars, g.vars);
      originsOf(source, g.vars, group.origins);
    }
    for (const [h, hv] of Object.entries(g.hosts ?? {})) {
      if (!hostOrder.includes(h)) hostOrder.push(h);
      directHosts.get(name)!.push(h);
      const list = hostVarsRaw.get(h) ?? [];
      list.push({ vars: hv ?? {}, where: { source, container: g.hosts, key: h } });
      hostVarsRaw.set(h, list);
    }
    for (const [c, cg] of Object.entries(g.children ?? {})) walk(c, cg, name, g.children);
  };
  walk('all', (value as { all: RawGroup }).all, undefined, value);

  // Cycles: a group that is its own ancestor.
  const cycle = findCycle(groups);
  if (cycle) {
    const g = groups.get(cycle[0])!;
    return {
      diagnostics: [
        source.diag('inventory/group-cycle', `groups form a cycle: ${cycle.join(' → ')}`, source.locate(g.where.container, g.where.key, 'key'), 'a group cannot be its own child or descendant; remove one of the children entries'),
      ],
    };
  }
  for (const h of hostOrder) {
    if (groups.has(h)) diags.push(source.diag('inventory/host-group-clash', `"${h}" is both a host and a group`, source.locate(hostVarsRaw.get(h)![0].where.container, h, 'key'), 'rename one of them: patterns could not tell them apart'));
  }

  // group_vars/ and host_vars/ beside the inventory file.
  const dir = path.dirname(abs);
  for (const [name, group] of groups) {
    for (const extra of varsFiles(dir, 'group_vars', name, file, diags)) {
      Object.assign(group.vars, extra.vars);
      originsOf(extra.source, extra.vars, group.origins);
    }
  }
  const fileHostVars = new Map<string, { vars: Record<string, unknown>; origins: Origins }>();
  for (const h of hostOrder) {
    const merged = { vars: {} as Record<string, unknown>, origins: new Map() as Origins };
    for (const extra of varsFiles(dir, 'host_vars', h, file, diags)) {
      Object.assign(merged.vars, extra.vars);
      originsOf(extra.source, extra.vars, merged.origins);
    }
    fileHostVars.set(h, merged);
  }

  // Membership, including descendants.
  const descendants = (name: string, seen = new Set<string>()): string[] => {
    if (seen.has(name)) return [];
    seen.add(name);
    const g = groups.get(name)!;
    return [...directHosts.get(name)!, ...g.children.flatMap((c) => descendants(c, seen))];
  };
  for (const [name, g] of groups) {
    const set = new Set(descendants(name));
    g.hosts = name === 'all' ? [...hostOrder] : hostOrder.filter((h) => set.has(h));
  }
  const depth = new Map<string, number>();
  const depthOf = (name: string): number => {
    if (depth.has(name)) return depth.get(name)!;
    const g = groups.get(name)!;
    const d = g.parents.length ? 1 + Math.max(...g.parents.map(depthOf)) : 0;
    depth.set(name, d);
    return d;
  };

  const hosts = new Map<string, InventoryHost>();
  const validateHost = compile(hostSchema);
  const merger = new HostMerger(diags);
  for (const h of hostOrder) {
    const memberOf = [...groups.values()].filter((g) => g.hosts.includes(h)).sort((a, b) => depthOf(a.name) - depthOf(b.name) || a.name.localeCompare(b.name));
    const vars: Record<string, unknown> = {};
    const origins: Origins = new Map();
    for (const g of memberOf) {
      Object.assign(vars, g.vars);
      for (const [k, o] of g.origins) origins.set(k, o);
    }
    for (const entry of hostVarsRaw.get(h)!) {
      Object.assign(vars, entry.vars);
      originsOf(source, entry.vars, origins);
    }
    const fromFiles = fileHostVars.get(h)!;
    Object.assign(vars, fromFiles.vars);
    for (const [k, o] of fromFiles.origins) origins.set(k, o);
    for (const [alias, canon] of Object.entries(ALIASES)) {
      if (alias in vars && !(canon in vars)) {
        vars[canon] = vars[alias];
        if (origins.has(alias)) origins.set(canon, origins.get(alias)!);
      }
    }
    const where = hostVarsRaw.get(h)![0].where;
    // Errors point where the bad value is written (the host, its group, a vars file); a missing key at the host.
    const origin = (pointer: string) => origins.get(pointer.split('/')[1]?.replace(/~1/g, '/').replace(/~0/g, '~') ?? '');
    const hostDiags = schemaDiagnostics(validateHost, vars, source, { container: where.container, key: h }, { codePrefix: 'inventory', what: `host ${h}`, origin });
    for (const d of hostDiags) {
      if (d.code === 'inventory/missing-key' && d.message.includes('hardware_class')) {
        d.code = 'inventory/missing-hardware-class';
        d.hint = `declare it on the host or its group, one of: ${Object.keys(doctrine.classes).join(', ')} — the parallelism doctrine is keyed by it`;
      }
      merger.add(d, h);
    }
    if (hostDiags.length) continue;
    const cls = String(vars.hardware_class);
    if (!doctrine.classes[cls]) {
      const at = origins.get('hardware_class') ?? where;
      merger.add(
        at.source.diag(
          'inventory/unknown-hardware-class',
          `host ${h}: hardware_class "${cls}" is not in the doctrine (schemas/doctrine.json)`,
          at.source.locate(at.container, at.key),
          didYouMean(cls, Object.keys(doctrine.classes)) ?? `known classes: ${Object.keys(doctrine.classes).join(', ')}`,
        ),
        h,
      );
      continue;
    }
    const connection = (vars.connection as 'ssh' | 'local' | undefined) ?? (h === 'localhost' ? 'local' : 'ssh');
    hosts.set(h, {
      name: h,
      vars,
      groups: memberOf.map((g) => g.name),
      connection,
      address: String(vars.address ?? h),
      port: (vars.port as number | undefined) ?? 22,
      user: vars.user as string | undefined,
      privateKey: vars.private_key ? resolveUserPath(dir, String(vars.private_key)) : undefined,
      knownHostsFile: vars.known_hosts_file ? resolveUserPath(dir, String(vars.known_hosts_file)) : undefined,
      hardwareClass: cls,
      powerOn: vars.power_on as string | undefined,
      connectTimeoutMs: ((vars.connect_timeout as number | undefined) ?? 10) * 1000,
      secretVars: (vars.secret_vars as string[] | undefined) ?? [],
    });
  }
  if (diags.some((d) => d.severity === 'error')) return { diagnostics: diags };
  const allVars = groups.get('all')!.vars;
  const localhost: InventoryHost = hosts.get('localhost') ?? {
    name: 'localhost',
    vars: { ...allVars, hardware_class: 'cm3plus', connection: 'local' },
    groups: [],
    connection: 'local',
    address: '127.0.0.1',
    port: 22,
    hardwareClass: 'cm3plus',
    connectTimeoutMs: 10000,
    secretVars: (allVars.secret_vars as string[] | undefined) ?? [],
    implicit: true,
  };
  const outGroups = new Map<string, InventoryGroup>();
  for (const [n, g] of groups) outGroups.set(n, { name: g.name, hosts: g.hosts, children: g.children, parents: g.parents, vars: g.vars });
  return { inventory: { path: file, hosts, groups: outGroups, localhost }, diagnostics: diags };
}

function findCycle(groups: Map<string, { children: string[] }>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const c of groups.get(n)?.children ?? []) {
      const found = visit(c);
      if (found) return found;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of groups.keys()) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}

/** group_vars/NAME.yml|.yaml, or every *.yml|*.yaml in group_vars/NAME/ (sorted). */
function varsFiles(dir: string, kind: 'group_vars' | 'host_vars', name: string, invFile: string, diags: Diagnostic[]): { vars: Record<string, unknown>; source: SourceFile }[] {
  const base = path.join(dir, kind);
  if (!existsSync(base)) return [];
  const files: string[] = [];
  for (const ext of ['.yml', '.yaml', '']) {
    const p = path.join(base, name + ext);
    if (!existsSync(p)) continue;
    if (statSync(p).isDirectory()) {
      for (const f of readdirSync(p).sort()) if (/\.ya?ml$/.test(f)) files.push(path.join(p, f));
    } else if (ext) files.push(p);
  }
  const out: { vars: Record<string, unknown>; source: SourceFile }[] = [];
  const shown = (p: string) => path.join(path.dirname(invFile), path.relative(dir, p));
  for (const f of files) {
    const { value, source, diagnostics } = loadYamlFile(f, shown(f));
    diags.push(...diagnostics);
    if (diagnostics.length || value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      diags.push(source.diag('inventory/vars-not-a-mapping', `${shown(f)} must be a mapping of variable names to values`, { line: 1, column: 1 }));
      continue;
    }
    out.push({ vars: value as Record<string, unknown>, source });
  }
  return out;
}

/** A path from the inventory: `~/` is the controller user's home (as ssh reads it), else relative to the inventory. */
function resolveUserPath(dir: string, p: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(os.homedir(), p.slice(1));
  return path.resolve(dir, p);
}
