export type ConnectionKind = 'ssh' | 'local';

export interface InventoryHost {
  name: string;
  /** Host variables after precedence: group vars (all < parents < children, group_vars/ files after the inventory's) < host vars (inventory < host_vars/). */
  vars: Record<string, unknown>;
  /** Every group the host belongs to, including `all`, in inventory order. */
  groups: string[];
  connection: ConnectionKind;
  address: string;
  port: number;
  user?: string;
  privateKey?: string;
  knownHostsFile?: string;
  hardwareClass: string;
  powerOn?: string;
  connectTimeoutMs: number;
  /** Names of variables whose values are secret (redacted everywhere). */
  secretVars: string[];
  /** True for the implicit `localhost` (not in `all`). */
  implicit?: boolean;
}

export interface InventoryGroup {
  name: string;
  /** Hosts directly in the group or in any descendant group, in inventory order. */
  hosts: string[];
  children: string[];
  parents: string[];
  vars: Record<string, unknown>;
}

export interface Inventory {
  path: string;
  hosts: Map<string, InventoryHost>;
  groups: Map<string, InventoryGroup>;
  /** The implicit localhost (connection local), used for `delegate_to: localhost` when the inventory has no localhost. */
  localhost: InventoryHost;
}
