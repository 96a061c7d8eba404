import type { Inventory, InventoryHost } from '../../engine/inventory/model.js';
import { magicVars } from '../../engine/vars/scope.js';

function host(name: string, groups: string[], vars: Record<string, unknown> = {}): InventoryHost {
  return { name, vars, groups, connection: 'ssh', address: `10.0.0.${name.length}`, port: 22, hardwareClass: 'x86_64', connectTimeoutMs: 1000, secretVars: [] };
}

function inventory(names: string[]): Inventory {
  const hosts = new Map(names.map((n) => [n, host(n, ['all', 'workers'], { n })]));
  return {
    path: '/srv/inv/hosts.yml',
    hosts,
    groups: new Map([
      ['all', { name: 'all', hosts: names, children: ['workers'], parents: [], vars: {} }],
      ['workers', { name: 'workers', hosts: names, children: [], parents: ['all'], vars: {} }],
    ]),
    localhost: host('localhost', []),
  };
}

test('magic variables: per host where they differ, one read-only groups and hostvars per inventory', () => {
  const inv = inventory(['w1', 'w2', 'w3']);
  const a = magicVars(inv.hosts.get('w1')!, inv, '/srv/pb', false);
  const b = magicVars(inv.hosts.get('w2')!, inv, '/srv/pb', true);
  expect(a.inventory_hostname).toBe('w1');
  expect(b.inventory_hostname).toBe('w2');
  expect(b.tsplay_check_mode).toBe(true);
  expect(a.group_names).toEqual(['workers']);
  expect(a.inventory_dir).toBe('/srv/inv');
  expect(a.inventory_file).toBe('/srv/inv/hosts.yml');
  expect(a.groups).toEqual({ all: ['w1', 'w2', 'w3'], workers: ['w1', 'w2', 'w3'] });
  expect((a.hostvars as Record<string, unknown>).w3).toEqual({ n: 'w3' });
  // Built once: every host's scope holds the same objects, which no task can change.
  expect(b.groups).toBe(a.groups);
  expect(b.hostvars).toBe(a.hostvars);
  expect(Object.isFrozen(a.groups)).toBe(true);
  expect(Object.isFrozen(a.hostvars)).toBe(true);
  expect(() => {
    (a.hostvars as Record<string, unknown>).w9 = {};
  }).toThrow(TypeError);
  // Another inventory has its own.
  const other = inventory(['x1']);
  const c = magicVars(other.hosts.get('x1')!, other, '/srv/pb', false);
  expect(c.groups).not.toBe(a.groups);
  expect(c.groups).toEqual({ all: ['x1'], workers: ['x1'] });
});
