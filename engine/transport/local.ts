/**
 * `connection: local`: runs commands on the machine tsplay runs on. Each command leads its own
 * process group (spawned detached), so a timeout or abort kills everything it started.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { OutputCollector, signalExitCode, stoppedResult } from './output.js';
import { TransferError } from './transfer-error.js';
import type { Command, ExecOptions, ExecResult, Transport } from './transport.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** TERM, then KILL when the group is still there after this long. */
const TERM_GRACE_MS = 1000;
/** After the kill, how long to wait for output pipes that escaped processes may hold open. */
const DRAIN_MS = 1000;

export interface LocalTransportOptions {
  /** Inventory name; defaults to `localhost`. */
  host?: string;
}

export class LocalTransport implements Transport {
  readonly host: string;

  constructor(opts: LocalTransportOptions = {}) {
    this.host = opts.host ?? 'localhost';
  }

  async connect(): Promise<void> {
    // Nothing to open.
  }

  async exec(command: Command, opts: ExecOptions = {}): Promise<ExecResult> {
    for (const name of Object.keys(opts.env ?? {})) {
      if (!ENV_NAME.test(name)) throw new TypeError(`exec: invalid environment variable name ${JSON.stringify(name)}`);
    }
    if (typeof command !== 'string' && command.length === 0) throw new TypeError('exec: the argv array is empty');
    if (opts.signal?.aborted) return stoppedResult('abort', '', '');
    if (opts.cwd !== undefined) {
      const problem = await fs.stat(opts.cwd).then(
        (s) => (s.isDirectory() ? undefined : 'Not a directory'),
        (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? 'No such file or directory' : (err.code ?? 'error')),
      );
      if (problem) return { rc: 1, stdout: '', stderr: `cannot cd to ${opts.cwd}: ${problem}\n` };
    }

    const [file, args] = typeof command === 'string' ? ['/bin/sh', ['-c', command]] : [command[0]!, command.slice(1)];
    const stdout = new OutputCollector(opts.onStdout);
    const stderr = new OutputCollector(opts.onStderr);
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (b: Buffer) => stdout.push(b));
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    child.stdin.on('error', () => undefined); // the command may exit without reading its stdin
    child.stdin.end(opts.stdin);
    const closed = new Promise<void>((resolve) => {
      child.once('close', () => resolve());
      child.once('error', () => resolve());
    });

    return new Promise<ExecResult>((resolve) => {
      let settled = false;
      let stopping = false;
      const settle = (result: () => ExecResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        resolve(result());
      };
      const stop = (reason: 'timeout' | 'abort'): void => {
        if (settled || stopping) return;
        stopping = true;
        void killGroup(child.pid).then(() => {
          void Promise.race([closed, delay(DRAIN_MS)]).then(() => {
            child.stdout.destroy();
            child.stderr.destroy();
            settle(() => stoppedResult(reason, stdout.text(), stderr.text()));
          });
        });
      };
      const onAbort = (): void => stop('abort');
      const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => stop('timeout'), Math.max(0, opts.timeoutMs));
      opts.signal?.addEventListener('abort', onAbort, { once: true });

      child.once('error', (err: NodeJS.ErrnoException) => {
        if (stopping) return;
        const why = err.code === 'ENOENT' ? 'command not found' : err.code === 'EACCES' ? 'permission denied' : err.message;
        settle(() => ({ rc: err.code === 'ENOENT' ? 127 : 126, stdout: stdout.text(), stderr: `${file}: ${why}\n` }));
      });
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        if (stopping) return;
        const rc = code ?? (signal ? signalExitCode(signal) : 255);
        settle(() => ({ rc, stdout: stdout.text(), stderr: stderr.text() }));
      });
    });
  }

  async put(file: string, content: string | Buffer, mode?: number): Promise<void> {
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tsplay-${randomBytes(6).toString('hex')}`);
    try {
      const finalMode = mode ?? (await fs.stat(file).then((s) => s.mode & 0o7777, () => 0o644));
      await fs.writeFile(tmp, content, { flag: 'wx', mode: 0o600 });
      await fs.chmod(tmp, finalMode);
      await fs.rename(tmp, file);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw new TransferError(
        `could not write ${file} on ${this.host}: ${describe(err)}`,
        'transport/put-failed',
        'Does the directory exist, and may tsplay\'s user write to it?',
      );
    }
  }

  async get(file: string): Promise<Buffer | null> {
    try {
      return await fs.readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new TransferError(`could not read ${file} on ${this.host}: ${describe(err)}`, 'transport/get-failed');
    }
  }

  async close(): Promise<void> {
    // Nothing to close.
  }
}

/** TERM the process group, KILL it if anything is left after TERM_GRACE_MS. */
async function killGroup(pgid: number | undefined): Promise<void> {
  if (pgid === undefined) return;
  if (!signalGroup(pgid, 'SIGTERM')) return;
  const deadline = Date.now() + TERM_GRACE_MS;
  while (Date.now() < deadline) {
    await delay(50);
    if (!signalGroup(pgid, 0)) return;
  }
  signalGroup(pgid, 'SIGKILL');
}

/** false when the group no longer exists. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
      return 'no space left on device';
    default:
      return e.message ?? String(err);
  }
}
