/**
 * A module is one file exporting one ModuleDef (ESLint's rule shape): its name, a description,
 * the JSON Schema of its arguments (validated with ajv before anything runs) and the function that
 * does the work. Modules are listed in modules/index.ts; nothing is discovered from the filesystem.
 */
import type { Transport } from './transport/transport.js';
import type { DoctrineClass } from './doctrine-types.js';

export type JsonSchema = Record<string, unknown>;

export interface HostInfo {
  /** Inventory name. */
  name: string;
  /** Hardware class from the inventory (e.g. `cm3plus`, `x86_64`). */
  hardwareClass: string;
  /** All variables of the host after inventory precedence (group vars < host vars). */
  vars: Record<string, unknown>;
}

export interface TaskContext {
  /** The host the task acts on (the delegate when `delegate_to` is set). */
  host: HostInfo;
  /** The inventory host the task is running *for* (differs from `host` under delegate_to). */
  forHost: string;
  /** Connected lazily on first use; shared by every task of the run on that host. */
  transport: Transport;
  /** --check: report what would change, change nothing. */
  check: boolean;
  /** --diff: include before/after in results where a module can. */
  diff: boolean;
  /** Every variable visible to the task (already merged by precedence). */
  vars: Record<string, unknown>;
  /** The doctrine entry of the acting host's hardware class. */
  doctrine: DoctrineClass;
  /** Task-level environment (already rendered), to pass to commands. */
  environment: Record<string, string>;
  /** Timeout for this task in ms, when the task sets one. */
  timeoutMs?: number;
  /** Aborted when the run is interrupted (SIGINT/SIGTERM) or the task times out. */
  signal: AbortSignal;
  /** Live output from the host, line-buffered by the reporters. */
  output(stream: 'stdout' | 'stderr', text: string): void;
  /** Record a decision the module made and why (e.g. "thermal: throttled to -j12, 87°C ≥ 85°C"). */
  decision(message: string, data?: Record<string, unknown>): void;
  /** The run's controller-side transport (for modules that act from the controller, e.g. port-check from: controller). */
  controller: Transport;
  /** Directory of the playbook file, for resolving relative `src:` paths. */
  playbookDir: string;
  /**
   * Drops the acting host's connection so the next transport call opens a fresh one (a lost SSH
   * connection otherwise stays lost). For wait-for-connection; `connectTimeoutMs` bounds the
   * handshake of the new connection.
   */
  reconnect?(opts?: { connectTimeoutMs?: number }): void;
}

export interface TaskResult {
  changed: boolean;
  failed?: boolean;
  /** Human-readable summary or failure reason. */
  msg?: string;
  rc?: number;
  stdout?: string;
  stderr?: string;
  /** For --diff. */
  diff?: { path?: string; before: string; after: string };
  /** Facts to store on the host (set-fact, thermal readings, pump state...). */
  facts?: Record<string, unknown>;
  /** Whether the module skipped its work (e.g. `creates` exists). */
  skipped?: boolean;
  /** Module-specific data, exposed on the registered result. */
  data?: Record<string, unknown>;
}

/** A parallelism value that a task will use, found statically (for the doctrine check). */
export interface ParallelismUse {
  /** The number, or null when unbounded/unknown (bare `-j`, `-j$(nproc)`). */
  jobs: number | null;
  /** The raw text the value came from, e.g. `-j 32` or `jobs: 24`. */
  raw: string;
  /** Which argument it came from (for the error position), e.g. `jobs` or `cmd`. */
  arg: string;
  /** Offset of the value inside that argument's string, when it is a string. */
  offset?: number;
}

export interface StaticProblem {
  /** Rule id, e.g. `manifest/invalid`. */
  code: string;
  message: string;
  hint?: string;
  /** The argument the problem is about (for the position). */
  arg: string;
  /** When the problem is inside another file (e.g. the manifest), its place there. */
  file?: string;
  line?: number;
  column?: number;
  sourceLine?: string;
}

export interface StaticCheckContext {
  playbookDir: string;
  /** The host the check is for (messages name it). */
  host?: string;
  /**
   * Whether a variable (by its first name part) will be defined when the task runs on that host:
   * inventory, play, task and extra vars, magic vars, names registered or set as facts earlier,
   * the loop variable. For modules that read templates from files (template).
   */
  isDefined?(root: string): boolean;
  /** The variables known at parse time for the host (inventory, play, task, -e); run-time values hold U+0001. */
  vars?: Record<string, unknown>;
}

export interface ModuleDef<A = any> {
  name: string;
  description: string;
  /** JSON Schema of the arguments (draft-07, validated by ajv with useDefaults). */
  schema: JsonSchema;
  /** Arguments the engine must not template-render (expressions, e.g. assert's `that`). */
  noRender?: string[];
  /** For command/shell: the argument that a free-form string value fills. */
  freeForm?: string;
  /** True for build tasks: placement forbids them on hardware classes that must never build. */
  build?: boolean | ((args: A) => boolean);
  /** Runs on the controller without touching the host (debug, assert, set-fact, fail). */
  controllerOnly?: boolean;
  /** Static parallelism values in the (parse-time rendered) args, for the doctrine check. */
  parallelism?(args: A): ParallelismUse[];
  /**
   * Parse-time checks beyond the schema, on arguments rendered with what is known before the run
   * (strings holding run-time values contain U+0001). E.g. pump validates the distcc manifest file.
   * Runs on the controller during `tsplay check` and before `tsplay run`; must not contact hosts.
   * `vars` are the variables known at parse time for the host (inventory, play, task, -e).
   */
  staticCheck?(args: A, ctx: StaticCheckContext): StaticProblem[];
  /** Fact names this module sets on the host (so templates may use them in later tasks). */
  providesFacts?: string[];
  /** Markdown examples for the generated docs. */
  examples?: string;
  run(ctx: TaskContext, args: A): Promise<TaskResult>;
}
