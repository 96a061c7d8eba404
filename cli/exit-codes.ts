/** tsplay's exit codes (documented in README.md). */
export const EXIT = {
  OK: 0,
  /** A host failed a task. */
  HOST_FAILED: 2,
  /** A host was unreachable (and none failed). */
  HOST_UNREACHABLE: 3,
  /** Bad input: YAML, schema, doctrine, placement, inventory, templates. Nothing ran. */
  INVALID: 4,
  /** Bad command-line usage. Nothing ran. */
  USAGE: 5,
  /** The run journal (or metrics file) cannot be written: nothing ran, or no new task was started once it failed. */
  JOURNAL: 6,
  /** A bug in tsplay. */
  INTERNAL: 70,
  /** Interrupted by SIGINT. */
  SIGINT: 130,
  /** Interrupted by SIGTERM. */
  SIGTERM: 143,
} as const;

export class UsageError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
