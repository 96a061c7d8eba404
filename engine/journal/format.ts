/**
 * The journal of a run: runs/<run-id>/journal.jsonl, one JSON object per line, appended as things
 * happen. Line 1 is `journal.meta`; then every engine event as emitted (bounded and redacted), with
 * `journal.restored` lines in a resumed run; the last line is `journal.end`. A controller killed
 * mid-run leaves a journal without `journal.end` (and perhaps a torn last line), which readers accept.
 */
import type { EngineEvent, HostStatus, TaskState } from '../events.js';

export const JOURNAL_FILE = 'journal.jsonl';
export const JOURNAL_FORMAT = 1;

export type RunKind = 'run' | 'lifecycle';
export type RunOutcome = 'ok' | 'failed' | 'interrupted';

/** A file the run depended on, with its content hash (resume refuses when one changed). */
export interface FileFingerprint {
  /** Absolute path. */
  path: string;
  role: 'playbook' | 'inventory' | 'vars' | 'referenced';
  /** sha256 hex of the content; null when the file could not be read. */
  sha256: string | null;
}

export interface PlannedTaskInfo {
  id: string;
  name: string;
  module: string;
  handler: boolean;
  runOnce: boolean;
  register?: string;
  noLog: boolean;
  line?: number;
  column?: number;
}

export interface PlannedPlayInfo {
  index: number;
  name: string;
  hosts: string[];
  tasks: PlannedTaskInfo[];
}

export interface PlannedPlaybookInfo {
  /** As given (display), and absolute. */
  path: string;
  absPath: string;
  /** The lifecycle stage this playbook is, when the run is a lifecycle. */
  stage?: string;
  plays: PlannedPlayInfo[];
}

/** What `tsplay resume` needs to run the same thing again (secret extra vars masked). */
export interface RecordedOptions {
  playbooks: string[];
  inventory: string;
  limit?: string;
  /** Extra vars with secret values masked; `secretExtraVars` names the masked ones. */
  extraVars: Record<string, unknown>;
  secretExtraVars: string[];
  tags: string[];
  skipTags: string[];
  check: boolean;
  diff: boolean;
  startAtTask?: string;
  forks: number;
  trustNewHostKeys: boolean;
  knownHosts?: string;
  connectTimeout?: number;
  /** lifecycle: the playbooks directory and the stage range that was asked for. */
  playbooksDir?: string;
  from?: string;
  to?: string;
}

export interface JournalMeta {
  type: 'journal.meta';
  seq: 0;
  format: typeof JOURNAL_FORMAT;
  runId: string;
  kind: RunKind;
  tsplayVersion: string;
  /** The command line, with secret values masked. */
  argv: string[];
  cwd: string;
  user: string;
  hostname: string;
  pid: number;
  start: string;
  options: RecordedOptions;
  /** lifecycle: every stage in order (also those outside --from/--to), with its playbook. */
  stages?: { name: string; index: number; playbook: string; selected: boolean }[];
  git: { root: string; commit: string; dirty: boolean } | null;
  files: FileFingerprint[];
  plan: PlannedPlaybookInfo[];
  /** Set on a resumed run. */
  parent?: { runId: string; forced: FileChange[]; fromStage?: string };
}

export interface FileChange {
  path: string;
  change: 'changed' | 'missing' | 'new';
  old: string | null;
  new: string | null;
}

/** A task already done in the parent run, carried into a resumed run's journal (not run again). */
export interface RestoredLine {
  type: 'journal.restored';
  seq: number;
  time: string;
  fromRun: string;
  playbook: string;
  taskId: string;
  task: string;
  host: string;
  status: HostStatus;
  changed: boolean;
  durationMs: number;
  state?: TaskState;
}

export interface EndLine {
  type: 'journal.end';
  seq: number;
  time: string;
  runId: string;
  outcome: RunOutcome;
  durationMs: number;
  exitCode: number;
  /** Why the run ended as it did, in one line (e.g. the lifecycle stage it stopped at). */
  message?: string;
  /** Set when the journal could not be written completely (what was lost is not in the file). */
  journalError?: string;
}

export type EventLine = EngineEvent & { seq: number };

export type JournalLine = JournalMeta | EventLine | RestoredLine | EndLine;

export function isEventLine(l: JournalLine): l is EventLine {
  return !l.type.startsWith('journal.');
}
