/**
 * Variable precedence, as in Ansible (lowest first): inventory group vars < inventory host vars <
 * play vars < task vars < registered results and set-fact < extra vars (-e). Magic variables
 * (inventory_hostname, groups, hostvars, ...) are reserved and always win.
 */
import path from 'node:path';
import type { Inventory, InventoryHost } from '../inventory/model.js';

export const MAGIC_VARS = ['inventory_hostname', 'inventory_hostname_short', 'group_names', 'groups', 'hostvars', 'playbook_dir', 'inventory_dir', 'inventory_file', 'ansible_host', 'ansible_port', 'tsplay_check_mode', 'ansible_check_mode', 'hardware_class'] as const;

export function magicVars(host: InventoryHost, inv: Inventory, playbookDir: string, check: boolean): Record<string, unknown> {
  const shared = inventoryWide(inv);
  return {
    inventory_hostname: host.name,
    inventory_hostname_short: host.name.split('.')[0],
    group_names: host.groups.filter((g) => g !== 'all'),
    groups: shared.groups,
    hostvars: shared.hostvars,
    playbook_dir: playbookDir,
    // As in Ansible: files an inventory names (e.g. distcc_manifest) are relative to it.
    inventory_dir: shared.inventoryDir,
    inventory_file: shared.inventoryFile,
    tsplay_check_mode: check,
    ansible_check_mode: check,
    hardware_class: host.hardwareClass,
    // The connection's address and port after inventory aliases, under their Ansible names.
    ansible_host: host.address,
    ansible_port: host.port,
  };
}

interface InventoryWide {
  groups: Readonly<Record<string, string[]>>;
  hostvars: Readonly<Record<string, Record<string, unknown>>>;
  inventoryDir: string;
  inventoryFile: string;
}

const wide = new WeakMap<Inventory, InventoryWide>();

/**
 * The magic variables that are the same for every host of an inventory, made once per inventory
 * (a loaded inventory does not change) and shared by every host's scope, read-only: built anew for
 * each host and task, they made validating and running a play cost time in the square of its hosts.
 */
function inventoryWide(inv: Inventory): InventoryWide {
  let w = wide.get(inv);
  if (!w) {
    const groups: Record<string, string[]> = {};
    for (const [n, g] of inv.groups) groups[n] = g.hosts;
    const hostvars: Record<string, Record<string, unknown>> = {};
    for (const [n, h] of inv.hosts) hostvars[n] = h.vars;
    const inventoryFile = path.resolve(inv.path);
    w = { groups: Object.freeze(groups), hostvars: Object.freeze(hostvars), inventoryDir: path.dirname(inventoryFile), inventoryFile };
    wide.set(inv, w);
  }
  return w;
}

export interface ScopeLayers {
  host: Record<string, unknown>;
  play: Record<string, unknown>;
  task: Record<string, unknown>;
  /** Registered results and set-fact / module facts for this host. */
  facts: Record<string, unknown>;
  extra: Record<string, unknown>;
  magic: Record<string, unknown>;
  /** The loop variable, when looping. */
  loop?: Record<string, unknown>;
}

export function buildScope(l: ScopeLayers): Record<string, unknown> {
  return Object.assign({}, l.host, l.play, l.task, l.facts, l.loop ?? {}, l.extra, l.magic);
}
