import { open, readFile, rm } from 'node:fs/promises';
import type { LabPaths } from './paths.js';
import { environmentError } from './errors.js';
import { sleep } from './exec.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `fn` holding the lab lock, so two `tsplay lab` commands never rebuild the same host at once. */
export async function withLabLock<T>(paths: LabPaths, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 300000;
  for (;;) {
    try {
      const fh = await open(paths.lockFile, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(paths.lockFile, 'utf8').catch(() => '')).trim());
      if (!(owner > 0 && alive(owner))) {
        await rm(paths.lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw environmentError('lab/locked', `another tsplay lab command (pid ${owner}) holds ${paths.lockFile}`);
      }
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(paths.lockFile, { force: true });
  }
}
