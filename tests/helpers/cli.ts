/** Runs the real CLI (bin/tsplay) as a child process, the way an operator would. */
import { spawn } from 'node:child_process';
import { TSPLAY, ROOT } from './paths.js';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time in ms. */
  ms: number;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
  /** Called with stdout as it arrives (e.g. to act when a --json event shows up). */
  onStdout?: (chunk: string) => void;
}

/** `tsplay ARGS...`; never throws for a non-zero exit (tests assert on `code`). NO_COLOR is set. */
export function runTsplay(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(TSPLAY, args, {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      opts.onStdout?.(d);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 170_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Fails loudly (with the output) unless the CLI exited with `code`. */
export function expectExit(r: CliResult, code: number): void {
  if (r.code !== code) {
    throw new Error(`tsplay exited ${r.code ?? r.signal}, expected ${code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  }
}
