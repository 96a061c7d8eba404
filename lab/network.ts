import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BRIDGE, BRIDGE_ADDRESS, NETNS_PREFIX, SUBNET, type LabHost } from './topology.js';
import { must, run } from './exec.js';
import { environmentError } from './errors.js';

/** Reads of the root namespace's network state, taken once per operation. */
export interface NetworkFacts {
  netns: Set<string>;
  /** Link name → whether it is administratively up. */
  links: Map<string, boolean>;
}

interface IpLink {
  ifname: string;
  flags?: string[];
}
interface IpAddr {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}
interface IpRoute {
  dst: string;
  dev?: string;
}

export async function networkFacts(): Promise<NetworkFacts> {
  const [ns, links] = await Promise.all([must('ip', ['netns', 'list']), must('ip', ['-j', 'link', 'show'])]);
  const netns = new Set(
    ns.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((n) => n.startsWith(NETNS_PREFIX)),
  );
  const linkMap = new Map<string, boolean>();
  for (const l of JSON.parse(links) as IpLink[]) linkMap.set(l.ifname, (l.flags ?? []).includes('UP'));
  return { netns, links: linkMap };
}

function ipv4ToInt(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function cidrRange(cidr: string): [number, number] {
  const [addr, len] = cidr.split('/');
  const bits = len === undefined ? 32 : Number(len);
  const size = 2 ** (32 - bits);
  const start = Math.floor(ipv4ToInt(addr ?? '0.0.0.0') / size) * size;
  return [start, start + size - 1];
}

function overlaps(a: string, b: string): boolean {
  const [a0, a1] = cidrRange(a);
  const [b0, b1] = cidrRange(b);
  return a0 <= b1 && b0 <= a1;
}

/** Refuses to build the lab if 10.177.0.0/24 is already used on this machine by anything but the lab's bridge. */
export async function checkSubnetFree(): Promise<void> {
  const [addrs, routes] = await Promise.all([must('ip', ['-j', '-4', 'addr', 'show']), must('ip', ['-j', '-4', 'route', 'show', 'table', 'all'])]);
  const clashes: string[] = [];
  for (const link of JSON.parse(addrs) as IpAddr[]) {
    if (link.ifname === BRIDGE) continue;
    for (const a of link.addr_info ?? []) {
      if (a.family === 'inet' && overlaps(`${a.local}/${a.prefixlen}`, SUBNET)) clashes.push(`${a.local}/${a.prefixlen} on ${link.ifname}`);
    }
  }
  for (const r of JSON.parse(routes) as IpRoute[]) {
    if (r.dev === BRIDGE || r.dst === 'default' || !/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(r.dst)) continue;
    if (r.dst.startsWith('127.') || r.dst.startsWith('255.')) continue;
    if (overlaps(r.dst, SUBNET)) clashes.push(`route ${r.dst}${r.dev ? ` dev ${r.dev}` : ''}`);
  }
  if (clashes.length > 0) {
    throw environmentError('lab/subnet-in-use', `the lab subnet ${SUBNET} is already in use on this machine: ${clashes.join('; ')}`,
      'free it (or tear down whatever uses it) before `tsplay lab up`');
  }
}

/** The bridge in the root namespace: the controller reaches every host through 10.177.0.1. */
export async function ensureBridge(facts: NetworkFacts): Promise<void> {
  if (!facts.links.has(BRIDGE)) {
    await must('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
    facts.links.set(BRIDGE, false);
  }
  // Lab traffic is IPv4 on one segment; keep IPv6 router solicitations and DAD off the bridge.
  await writeFile(`/proc/sys/net/ipv6/conf/${BRIDGE}/disable_ipv6`, '1\n').catch(() => undefined);
  await must('ip', ['addr', 'replace', `${BRIDGE_ADDRESS}/24`, 'dev', BRIDGE]);
  if (!facts.links.get(BRIDGE)) {
    await must('ip', ['link', 'set', BRIDGE, 'up']);
    facts.links.set(BRIDGE, true);
  }
}

/** A host's namespace, veth pair (eth0 inside, tsp-NAME on the bridge) and address; brings the link up. */
export async function ensureHostNetwork(host: LabHost, facts: NetworkFacts): Promise<void> {
  if (!facts.netns.has(host.netns)) {
    await must('ip', ['netns', 'add', host.netns]);
    facts.netns.add(host.netns);
  }
  // Per-namespace sysctls: no IPv6 on lab links, nothing routed anywhere but the lab segment.
  await must('ip', ['netns', 'exec', host.netns, 'sysctl', '-q', '-w',
    'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  if (!facts.links.has(host.veth)) {
    await must('ip', ['link', 'add', host.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.netns]);
    facts.links.set(host.veth, false);
  }
  await must('ip', ['-n', host.netns, '-batch', '-'], {
    input: [`addr replace ${host.address}/24 dev eth0`, 'link set lo up', 'link set eth0 up', ''].join('\n'),
  });
  await linkUp(host);
  facts.links.set(host.veth, true);
}

/** Plugs the host's cable back in (root side of its veth). */
export async function linkUp(host: LabHost): Promise<void> {
  await must('ip', ['link', 'set', host.veth, 'master', BRIDGE, 'up']);
}

/** Pulls the host's cable: the root side of its veth goes down, so nothing reaches it. */
export async function linkDown(host: LabHost): Promise<void> {
  const r = await run('ip', ['link', 'set', host.veth, 'down']);
  if (r.code !== 0 && !/Cannot find device/.test(r.stderr)) {
    throw environmentError('lab/command-failed', `ip link set ${host.veth} down: ${r.stderr.trim()}`);
  }
}

/**
 * Cuts the host off from the controller while it keeps running: inside its namespace, traffic to
 * the bridge address is blackholed. Unlike a pulled cable, a `lab up` repairing the lab (which
 * other users of a shared lab run at any time) does not undo it; only `lab heal` does.
 */
export async function partitionFromController(host: LabHost): Promise<void> {
  await must('ip', ['-n', host.netns, 'route', 'replace', 'blackhole', `${BRIDGE_ADDRESS}/32`]);
}

/** Undoes partitionFromController (a no-op when the host is not partitioned). */
export async function healFromController(host: LabHost): Promise<void> {
  const r = await run('ip', ['-n', host.netns, 'route', 'del', 'blackhole', `${BRIDGE_ADDRESS}/32`]);
  if (r.code !== 0 && !/No such process|Cannot find|does not exist/i.test(r.stderr)) {
    throw environmentError('lab/command-failed', `ip -n ${host.netns} route del blackhole ${BRIDGE_ADDRESS}/32: ${r.stderr.trim()}`);
  }
}

/** Pids of every process whose network namespace is the host's (holder, sshd, units, ssh sessions). */
export async function netnsPids(netns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', netns]);
  if (r.code !== 0) return [];
  return r.stdout.split('\n').map((l) => Number(l.trim())).filter((n) => Number.isInteger(n) && n > 0);
}

/** The inode of a named network namespace, to tell which processes are in it. */
export async function netnsInode(netns: string): Promise<number | undefined> {
  try {
    return (await stat(path.join('/run/netns', netns))).ino;
  } catch {
    return undefined;
  }
}

/** /etc/netns/NS/hosts, which `ip netns exec` bind-mounts over /etc/hosts for the host's holder. */
export function netnsEtcDir(host: LabHost): string {
  return path.join('/etc/netns', host.netns);
}

export function hostsFile(hosts: readonly LabHost[]): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `${BRIDGE_ADDRESS}\tcontroller`];
  for (const h of hosts) lines.push(`${h.address}\t${h.name}`);
  return lines.join('\n') + '\n';
}

/** Written in place (same inode), so running hosts see new workers without a restart. */
export async function writeNetnsHosts(host: LabHost, content: string): Promise<void> {
  await mkdir(netnsEtcDir(host), { recursive: true });
  await writeFile(path.join(netnsEtcDir(host), 'hosts'), content);
}

/** Removes one host's namespace, veth and /etc/netns entry (its processes must be gone). */
export async function removeHostNetwork(netns: string, veth: string | undefined): Promise<void> {
  await run('ip', ['netns', 'del', netns]);
  if (veth) await run('ip', ['link', 'del', veth]);
  await rm(path.join('/etc/netns', netns), { recursive: true, force: true });
}

/** Every lab namespace, veth and /etc/netns entry, and finally the bridge. */
export async function removeAllNetwork(): Promise<void> {
  const facts = await networkFacts();
  for (const ns of facts.netns) await run('ip', ['netns', 'del', ns]);
  for (const link of facts.links.keys()) if (link.startsWith('tsp-')) await run('ip', ['link', 'del', link]);
  if (facts.links.has(BRIDGE)) await must('ip', ['link', 'del', BRIDGE]);
  const etc = await readdir('/etc/netns').catch(() => [] as string[]);
  for (const d of etc) if (d.startsWith(NETNS_PREFIX)) await rm(path.join('/etc/netns', d), { recursive: true, force: true });
}
