import { access, mkdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { labPaths, hostPaths, type LabPaths } from './paths.js';
import { DEFAULT_WORKERS, MAX_WORKERS, labHosts, type LabHost } from './topology.js';
import { environmentError, usageError } from './errors.js';
import { inParallel } from './exec.js';
import { silent, type LabLog } from './log.js';
import { ensurePackages, ensureSystemctl } from './packages.js';
import {
  checkSubnetFree, ensureBridge, ensureHostNetwork, healFromController, hostsFile, linkDown, linkUp, networkFacts,
  partitionFromController, removeAllNetwork,
  removeHostNetwork, writeNetnsHosts, type NetworkFacts,
} from './network.js';
import { MOUNTED_OVER, ensureRootMount, ensureSystemctlMount, holderPid, holderScriptPath, killHostProcesses, startHolder, writeHolderScript } from './holder.js';
import { ensureClientKey, ensureHostKey, writeKnownHosts } from './keys.js';
import { ensureHostTree, resetForBoot } from './host-files.js';
import { ensureSshd, writeSshdConfig } from './sshd.js';
import { bootUnits, writeUnits } from './units.js';
import { writeInventory } from './inventory.js';
import { configuredHost, readLabConfig, writeLabConfig } from './config.js';
import { withLabLock } from './lock.js';
import { setTemperature } from './thermal.js';

/** Hosts set up at once: enough to hide latency, few enough for a 2-core machine. */
const PARALLEL = 8;

export function requireRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw environmentError('lab/not-root', 'tsplay lab needs root (network namespaces, veths, bind mounts)', 'run it as root, e.g. with sudo');
  }
}

/** Parses a --workers value; a bad one is a usage error. */
export function parseWorkers(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > MAX_WORKERS) {
    throw usageError('lab/bad-workers', `--workers must be a whole number from 1 to ${MAX_WORKERS}, got "${text}"`);
  }
  return n;
}

/** The holder bind-mounts over these paths, so a lab dir under one of them would vanish inside hosts. */
async function checkLabDirPlacement(paths: LabPaths): Promise<void> {
  const real = await realpath(paths.dir).catch(() => paths.dir);
  for (const dir of [paths.dir, real]) {
    const bad = MOUNTED_OVER.find((m) => dir === m || dir.startsWith(m + '/'));
    if (bad) {
      throw usageError('lab/bad-lab-dir', `the lab dir ${dir} is under ${bad}, which every lab host mounts over`,
        'set TSPLAY_LAB_DIR to a directory elsewhere (the default is <repo>/.lab)');
    }
  }
}

/** Which lab dir owns the namespaces and the bridge on this machine (there is one lab per machine). */
const OWNER_FILE = '/run/tsplay-lab.owner';

/** Kills every lab host's processes and removes the namespaces, veths and bridge (any owner's). */
async function removeRunningLab(facts: NetworkFacts): Promise<void> {
  const template = labHosts(0)[0]!;
  await inParallel([...facts.netns], PARALLEL, (ns) => killHostProcesses({ ...template, netns: ns, name: ns }));
  await removeAllNetwork();
}

/**
 * Refuses to take over a lab another checkout brought up (its hosts hold other keys and paths),
 * unless `takeOver` is set or that checkout's lab dir is gone (the lab is an orphan). A taken-over
 * lab is torn down first and then built afresh from this lab dir.
 */
async function claimLab(paths: LabPaths, takeOver: boolean, log: LabLog): Promise<void> {
  const owner = (await readFile(OWNER_FILE, 'utf8').catch(() => '')).trim();
  const facts = await networkFacts();
  if (owner && owner !== paths.dir && (facts.links.has('tsplay0') || facts.netns.size > 0)) {
    const orphan = await access(owner).then(() => false, () => true);
    if (!takeOver && !orphan) {
      throw environmentError('lab/other-owner', `a lab brought up from ${owner} is running on this machine`,
        `use it with TSPLAY_LAB_DIR=${owner}, run \`tsplay lab down\` with that TSPLAY_LAB_DIR first, or pass --take-over to tear it down and build this one`);
    }
    log(`lab up: taking over the lab of ${owner}${orphan ? ' (that directory is gone)' : ''}: tearing it down`);
    await removeRunningLab(facts);
  }
  await writeFile(OWNER_FILE, paths.dir + '\n');
}

/** Files a host needs before it boots: key, private trees, units, sshd config, /etc/netns hosts. */
async function prepareHost(paths: LabPaths, host: LabHost, etcHosts: string): Promise<void> {
  await ensureHostKey(paths, host);
  await ensureHostTree(paths, host);
  await writeUnits(paths, host);
  await writeSshdConfig(paths, host);
  await writeNetnsHosts(host, etcHosts);
}

/**
 * Power on (or repair) one host: network, holder, sshd, enabled units. A host whose holder is gone
 * is booted afresh: stray processes killed, /run emptied, uptime from zero.
 */
async function bootHost(paths: LabPaths, host: LabHost, facts: NetworkFacts, log: LabLog): Promise<void> {
  await ensureHostNetwork(host, facts);
  let pid = await holderPid(paths, host);
  if (pid === undefined) {
    await killHostProcesses(host);
    await resetForBoot(paths, host);
    pid = await startHolder(paths, host);
    log(`${host.name}: booted (holder pid ${pid})`);
  }
  if (await ensureSystemctlMount(paths, pid)) log(`${host.name}: the systemctl script was mounted again (an upgrade had replaced /usr/bin/systemctl)`);
  if (await ensureRootMount(paths, host, pid)) log(`${host.name}: private /root mounted`);
  await ensureSshd(paths, host, pid);
  await bootUnits(host, pid);
}

export interface UpOptions {
  /** Worker count; default: what the lab has now, or 2 for a new lab. */
  workers?: number;
  /** Tear down a lab another lab dir brought up instead of refusing (lab/other-owner). */
  takeOver?: boolean;
  log?: LabLog;
}

/** `tsplay lab up`: builds or repairs the whole lab; safe to run again. Returns the lab paths. */
export async function labUp(opts: UpOptions = {}): Promise<LabPaths> {
  requireRoot();
  const log = opts.log ?? silent;
  const paths = labPaths();
  await checkLabDirPlacement(paths);
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  return withLabLock(paths, async () => {
    await claimLab(paths, opts.takeOver ?? false, log);
    await ensurePackages(log);
    await ensureSystemctl(paths, log);
    const workers = opts.workers ?? (await readLabConfig(paths))?.workers ?? DEFAULT_WORKERS;
    const hosts = labHosts(workers);
    await checkSubnetFree();
    const facts = await networkFacts();
    await ensureBridge(facts);

    const wanted = new Set(hosts.map((h) => h.netns));
    for (const ns of [...facts.netns].filter((n) => !wanted.has(n))) {
      const name = ns.slice('tsplay-'.length);
      log(`${name}: removed (not in a lab of ${workers} workers)`);
      await killHostProcesses({ ...hosts[0]!, name, netns: ns });
      await removeHostNetwork(ns, `tsp-${name}`);
      await rm(hostPaths(paths, name).dir, { recursive: true, force: true });
      facts.netns.delete(ns);
    }

    await writeHolderScript(paths);
    await ensureClientKey(paths);
    const etcHosts = hostsFile(hosts);
    await inParallel(hosts, PARALLEL, (h) => prepareHost(paths, h, etcHosts));
    await writeKnownHosts(paths, hosts);
    await writeLabConfig(paths, { workers });
    await writeInventory(paths, hosts);
    await inParallel(hosts, PARALLEL, (h) => bootHost(paths, h, facts, log));
    log(`lab up: ${hosts.length} hosts (cm3, builder, ${workers} workers); inventory ${paths.inventory}`);
    return paths;
  });
}

/** `tsplay lab stop HOST`: pulls the cable and kills every process of the host. */
export async function labStop(name: string, log: LabLog = silent): Promise<void> {
  requireRoot();
  const paths = labPaths();
  const { host } = await configuredHost(paths, name);
  await withLabLock(paths, async () => {
    await linkDown(host);
    await killHostProcesses(host);
    await rm(hostPaths(paths, host.name).holderPid, { force: true });
    log(`${host.name}: powered off`);
  });
}

/** `tsplay lab start HOST`: boots the host (link up, new holder, mounts, sshd, enabled units). */
export async function labStart(name: string, log: LabLog = silent): Promise<void> {
  requireRoot();
  const paths = labPaths();
  const { host, hosts } = await configuredHost(paths, name);
  await withLabLock(paths, async () => {
    const facts = await networkFacts();
    if (!facts.links.has('tsplay0')) throw environmentError('lab/not-up', 'the lab bridge tsplay0 is missing', 'run `tsplay lab up`');
    await prepareHost(paths, host, hostsFile(hosts));
    await bootHost(paths, host, facts, log);
    log(`${host.name}: up`);
  });
}

/**
 * `tsplay lab partition HOST`: the host keeps running (its processes, sshd, the commands tsplay
 * started live on) but nothing passes between it and the controller: a network partition, not a
 * power cut. It lasts until `lab heal`, through `lab up` and `lab stop`/`start`.
 */
export async function labPartition(name: string, log: LabLog = silent): Promise<void> {
  requireRoot();
  const paths = labPaths();
  const { host } = await configuredHost(paths, name);
  await withLabLock(paths, async () => {
    const facts = await networkFacts();
    if (!facts.netns.has(host.netns)) throw environmentError('lab/not-up', `${host.name} has no network namespace`, 'run `tsplay lab up`');
    await partitionFromController(host);
    log(`${host.name}: partitioned from the controller (still running; \`tsplay lab heal ${host.name}\` undoes it)`);
  });
}

/** `tsplay lab heal HOST`: ends a partition (and plugs the cable back in). */
export async function labHeal(name: string, log: LabLog = silent): Promise<void> {
  requireRoot();
  const paths = labPaths();
  const { host } = await configuredHost(paths, name);
  await withLabLock(paths, async () => {
    const facts = await networkFacts();
    if (!facts.netns.has(host.netns) || !facts.links.has(host.veth)) {
      throw environmentError('lab/not-up', `${host.name} has no network`, `run \`tsplay lab start ${host.name}\``);
    }
    await healFromController(host);
    await linkUp(host);
    log(`${host.name}: reachable again`);
  });
}

/** `tsplay lab heat HOST CELSIUS`: sets the reading of the host's thermal sensor. */
export async function labHeat(name: string, celsius: number): Promise<void> {
  requireRoot();
  const paths = labPaths();
  const { host } = await configuredHost(paths, name);
  await setTemperature(paths, host, celsius);
}

/** `tsplay lab down`: every lab process, namespace, veth and the bridge; keys are kept. */
export async function labDown(log: LabLog = silent): Promise<void> {
  requireRoot();
  const paths = labPaths();
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await withLabLock(paths, async () => {
    const facts = await networkFacts();
    await removeRunningLab(facts);
    for (const p of [paths.hostsDir, paths.config, paths.inventory, paths.distccManifest, holderScriptPath(paths)]) {
      await rm(p, { recursive: true, force: true });
    }
    await rm(OWNER_FILE, { force: true });
    log(`lab down: removed ${facts.netns.size} hosts and the bridge; keys kept in ${path.relative(process.cwd(), paths.dir) || paths.dir}`);
  });
}
