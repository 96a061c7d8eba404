import { access, mkdir, readdir, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import type { LabPaths } from './paths.js';
import { must, run } from './exec.js';
import { environmentError } from './errors.js';
import type { LabLog } from './log.js';

/** A program the lab runs, where Debian puts it, and the Debian package that ships it. */
interface Requirement {
  paths: string[];
  pkg: string;
}

const REQUIREMENTS: Requirement[] = [
  { paths: ['/usr/sbin/sshd'], pkg: 'openssh-server' },
  { paths: ['/usr/bin/ssh-keygen', '/usr/bin/ssh'], pkg: 'openssh-client' },
  { paths: ['/usr/bin/distccd', '/usr/bin/distcc', '/usr/sbin/update-distcc-symlinks'], pkg: 'distcc' },
  { paths: ['/usr/sbin/ip'], pkg: 'iproute2' },
  { paths: ['/usr/bin/unshare', '/usr/bin/nsenter', '/usr/bin/findmnt'], pkg: 'util-linux' },
  // The systemctl script's shebang is #! /usr/bin/python3 — Debian's, not whatever python3 is on PATH.
  { paths: ['/usr/bin/python3'], pkg: 'python3' },
  { paths: ['/usr/bin/gcc'], pkg: 'gcc' },
  { paths: ['/usr/bin/bash'], pkg: 'bash' },
];

/** Compilers distcc 3.4 must find whitelisted in /usr/lib/distcc before it will run them. */
const DISTCC_WHITELIST = ['gcc', 'cc', 'x86_64-linux-gnu-gcc'];

async function exists(p: string, mode = constants.F_OK): Promise<boolean> {
  try {
    await access(p, mode);
    return true;
  } catch {
    return false;
  }
}

export async function missingPackages(): Promise<string[]> {
  const missing: string[] = [];
  for (const req of REQUIREMENTS) {
    for (const p of req.paths) {
      if (!(await exists(p, constants.X_OK))) {
        if (!missing.includes(req.pkg)) missing.push(req.pkg);
      }
    }
  }
  return missing;
}

async function aptGet(args: string[]): Promise<void> {
  await must('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** Installs missing Debian packages (saying so), and whitelists the compilers for distccd. */
export async function ensurePackages(log: LabLog): Promise<void> {
  const missing = await missingPackages();
  if (missing.length > 0) {
    log(`installing missing Debian packages: apt-get install -y ${missing.join(' ')}`);
    try {
      await aptGet(['install', '-y', '--no-install-recommends', ...missing]);
    } catch {
      log('apt-get install failed; running apt-get update and trying once more');
      await aptGet(['update']);
      await aptGet(['install', '-y', '--no-install-recommends', ...missing]);
    }
    const still = await missingPackages();
    if (still.length > 0) {
      throw environmentError('lab/missing-package', `still missing after apt-get install: ${still.join(', ')}`,
        `install them by hand: apt-get install ${still.join(' ')}`);
    }
  }
  const unlisted: string[] = [];
  for (const c of DISTCC_WHITELIST) if (!(await exists(path.join('/usr/lib/distcc', c)))) unlisted.push(c);
  if (unlisted.length > 0) {
    log(`whitelisting compilers for distccd (${unlisted.join(', ')}): update-distcc-symlinks`);
    await must('update-distcc-symlinks', []);
  }
}

/**
 * Debian's `systemctl` package (docker-systemctl-replacement) unpacked into the lab dir.
 * Never `apt-get install`ed: it conflicts with systemd and would remove packages from this machine.
 */
export async function ensureSystemctl(paths: LabPaths, log: LabLog): Promise<void> {
  if (await exists(paths.systemctlScript, constants.X_OK)) return;
  const work = path.join(paths.dir, 'pkg', 'download');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  log('fetching Debian package systemctl (apt-get download; unpacked with dpkg -x, not installed)');
  const download = async (): Promise<boolean> => {
    const r = await run('bash', ['-c', `cd "$1" && apt-get download systemctl`, 'download', work]);
    return r.code === 0;
  };
  if (!(await download())) {
    log('apt-get download failed; running apt-get update and trying once more');
    await aptGet(['update']);
    if (!(await download())) {
      throw environmentError('lab/missing-package', 'cannot download the Debian package `systemctl`',
        'check that apt can reach Debian: apt-get update && apt-get download systemctl');
    }
  }
  const deb = (await readdir(work)).find((f) => f.startsWith('systemctl_') && f.endsWith('.deb'));
  if (!deb) throw environmentError('lab/missing-package', `apt-get download left no systemctl_*.deb in ${work}`);
  await rm(paths.systemctlPkgDir, { recursive: true, force: true });
  await must('dpkg', ['-x', path.join(work, deb), paths.systemctlPkgDir]);
  await rm(work, { recursive: true, force: true });
  if (!(await exists(paths.systemctlScript, constants.X_OK))) {
    throw environmentError('lab/missing-package', `${deb} holds no usr/bin/systemctl`);
  }
}
