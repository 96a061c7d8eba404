/**
 * All side effects on a host go through one Transport. Modules never spawn processes or open
 * sockets themselves: they describe commands and the transport runs them (pyinfra's connectors).
 */
export interface ExecOptions {
  /** Extra environment for the command. Values are passed literally (never shell-interpreted). */
  env?: Record<string, string>;
  /** Working directory on the host. */
  cwd?: string;
  /** Written to the command's stdin, then stdin is closed. */
  stdin?: string | Buffer;
  /** Kill the command (its whole process group on the host) after this many ms. */
  timeoutMs?: number;
  /** Aborting kills the command's whole process group on the host. */
  signal?: AbortSignal;
  /** Live output, as it arrives. */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
}

export interface ExecResult {
  /** Exit code; 124 when it timed out, 130 when aborted, 128+n when killed by signal n. */
  rc: number;
  stdout: string;
  stderr: string;
  timedOut?: boolean;
  aborted?: boolean;
}

/**
 * `command` as a string runs through `/bin/sh -c` on the host (the shell module).
 * `command` as an argv array runs without any shell interpretation of its elements (the command
 * module): over SSH each element is single-quoted, locally it is spawned directly.
 */
export type Command = string | readonly string[];

export interface Transport {
  /** Inventory name of the host this transport reaches. */
  readonly host: string;
  /** Opens the connection (idempotent). Rejects with UnreachableError when the host cannot be reached. */
  connect(): Promise<void>;
  exec(command: Command, opts?: ExecOptions): Promise<ExecResult>;
  /** Writes a file atomically (temp file + rename), creating no parent directories. */
  put(path: string, content: string | Buffer, mode?: number): Promise<void>;
  /** Reads a file; null when it does not exist. */
  get(path: string): Promise<Buffer | null>;
  close(): Promise<void>;
}

/** The host could not be reached (connect failed, refused, timed out, or the connection dropped). */
export class UnreachableError extends Error {
  readonly code: string;
  readonly hint?: string;
  constructor(message: string, code = 'host/unreachable', hint?: string) {
    super(message);
    this.name = 'UnreachableError';
    this.code = code;
    this.hint = hint;
  }
}

/** Host-key verification refused the host (unknown, changed or revoked key). */
export class HostKeyError extends UnreachableError {
  constructor(
    message: string,
    code: 'ssh/unknown-host-key' | 'ssh/changed-host-key' | 'ssh/revoked-host-key',
    hint: string,
  ) {
    super(message, code, hint);
    this.name = 'HostKeyError';
  }
}

/** Quotes one word for a POSIX shell: the result is always a single literal word. */
export function shellQuote(word: string): string {
  if (word === '') return "''";
  if (/^[A-Za-z0-9_\/.,:=@%+-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
