import path from 'node:path';
import { installRoot } from '../engine/util/install.js';

/** Where everything the lab makes lives. One function so tests, the CLI and other code agree. */
export interface LabPaths {
  /** The lab state dir: env TSPLAY_LAB_DIR, default `<repo>/.lab`. */
  dir: string;
  /** The repository root (where bin/tsplay is). */
  repoRoot: string;
  /** The CLI launcher used in `power_on` commands. */
  tsplayBin: string;
  /** Client key the controller logs in with (root on every lab host). */
  privateKey: string;
  publicKey: string;
  authorizedKeys: string;
  /** `10.177.0.X ssh-ed25519 ...`, one line per lab host. */
  knownHosts: string;
  inventory: string;
  distccManifest: string;
  /** What `lab up` was last asked for (worker count), so `lab start` knows the topology. */
  config: string;
  /** Host keys, kept across `lab down`. */
  keysDir: string;
  /** Per-host runtime trees (private /run, /tmp, /var/log, ...), removed by `lab down`. */
  hostsDir: string;
  /** Debian's `systemctl` package unpacked with dpkg -x. */
  systemctlPkgDir: string;
  /** The docker-systemctl-replacement script bind-mounted over /usr/bin/systemctl. */
  systemctlScript: string;
  /** Serialises concurrent `tsplay lab` invocations. */
  lockFile: string;
}

export function labPaths(dir: string | undefined = process.env.TSPLAY_LAB_DIR): LabPaths {
  const root = installRoot();
  const d = path.resolve(dir && dir.length > 0 ? dir : path.join(root, '.lab'));
  const systemctlPkgDir = path.join(d, 'pkg', 'systemctl');
  return {
    dir: d,
    repoRoot: root,
    tsplayBin: path.join(root, 'bin', 'tsplay'),
    privateKey: path.join(d, 'id_ed25519'),
    publicKey: path.join(d, 'id_ed25519.pub'),
    authorizedKeys: path.join(d, 'authorized_keys'),
    knownHosts: path.join(d, 'known_hosts'),
    inventory: path.join(d, 'inventory.yml'),
    distccManifest: path.join(d, 'distcc-hosts.yml'),
    config: path.join(d, 'lab.json'),
    keysDir: path.join(d, 'keys'),
    hostsDir: path.join(d, 'hosts'),
    systemctlPkgDir,
    systemctlScript: path.join(systemctlPkgDir, 'usr', 'bin', 'systemctl'),
    lockFile: path.join(d, 'lab.lock'),
  };
}

/** The per-host tree under `hostsDir/<name>`; each directory is bind-mounted inside that host. */
export interface HostPaths {
  dir: string;
  run: string;
  tmp: string;
  log: string;
  systemd: string;
  /** Bind-mounted over /srv/build on the builder. */
  build: string;
  /** Bind-mounted over /sys/class/thermal. */
  thermal: string;
  thermalTemp: string;
  /** Bind-mounted over /proc/uptime; the holder rewrites it in place. */
  uptime: string;
  sshdConfig: string;
  /** Holder pid, written by the holder itself once its mounts are in place. */
  holderPid: string;
  holderLog: string;
  hostKey: string;
}

export function hostPaths(paths: LabPaths, host: string): HostPaths {
  const dir = path.join(paths.hostsDir, host);
  const thermal = path.join(dir, 'thermal');
  return {
    dir,
    run: path.join(dir, 'run'),
    tmp: path.join(dir, 'tmp'),
    log: path.join(dir, 'log'),
    systemd: path.join(dir, 'systemd'),
    build: path.join(dir, 'build'),
    thermal,
    thermalTemp: path.join(thermal, 'thermal_zone0', 'temp'),
    uptime: path.join(dir, 'uptime'),
    sshdConfig: path.join(dir, 'sshd_config'),
    holderPid: path.join(dir, 'holder.pid'),
    holderLog: path.join(dir, 'holder.log'),
    hostKey: path.join(paths.keysDir, host, 'ssh_host_ed25519_key'),
  };
}
