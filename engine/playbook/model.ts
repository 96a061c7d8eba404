/** The checked, typed shape of a playbook. Raw objects are kept so diagnostics can point into the YAML. */
import type { SourceFile } from '../yaml/source.js';

export interface ExperimentalDecl {
  reason: string;
  fresh_boot: true;
  monitored: true;
}

export interface TaskSpec {
  /** Stable id within the run: `p<play>.t<task>` or `p<play>.h<handler>`. */
  id: string;
  index: number;
  name: string;
  /** Canonical module name (e.g. `set-fact`). */
  module: string;
  /** The key as written (e.g. `set_fact`), for positions. */
  moduleKey: string;
  /** Arguments as written (templates not rendered), with schema defaults filled in. */
  args: Record<string, unknown>;
  when: string[];
  until: string[];
  changedWhen: string[];
  failedWhen: string[];
  register?: string;
  loop?: unknown[] | string;
  loopVar: string;
  loopLabel?: string;
  retries: number;
  delay: number;
  ignoreErrors: boolean;
  notify: string[];
  listen: string[];
  tags: string[];
  runOnce: boolean;
  delegateTo?: string;
  environment: Record<string, unknown>;
  timeout?: number;
  noLog: boolean;
  vars: Record<string, unknown>;
  build: boolean;
  experimental?: ExperimentalDecl;
  isHandler: boolean;
  /** The task mapping as parsed (for source positions). */
  raw: Record<string, unknown>;
}

export interface PlaySpec {
  index: number;
  name: string;
  /** Host pattern, e.g. `workers:&x86:!w3`. */
  hosts: string;
  vars: Record<string, unknown>;
  tasks: TaskSpec[];
  handlers: TaskSpec[];
  tags: string[];
  anyErrorsFatal: boolean;
  gatherFacts: boolean;
  environment: Record<string, unknown>;
  experimental?: ExperimentalDecl;
  raw: Record<string, unknown>;
}

export interface PlaybookSpec {
  /** As given on the command line (used in messages). */
  path: string;
  absPath: string;
  dir: string;
  source: SourceFile;
  plays: PlaySpec[];
}
