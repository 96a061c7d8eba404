/**
 * Appends journal lines with one synchronous write each (fd opened for append), so a controller
 * killed with SIGKILL loses at most the line in flight; the first and last lines are also fsynced.
 * Everything is redacted again here (defence in depth: the runner already masks per host) and
 * bounded, so a chatty `make` cannot fill the disk with its log.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { EngineEvent, TaskState } from '../events.js';
import type { Redactor } from '../run/redact.js';
import { JOURNAL_FILE, type EndLine, type JournalLine, type JournalMeta, type RestoredLine } from './format.js';

/** Per task, host and stream: live output kept in the journal, and the tail of stdout/stderr kept in a result. */
export const OUTPUT_LIMIT = 16 * 1024;
/** Strings inside registered results and facts (restored by resume) are kept up to this, tail first. */
export const STATE_STRING_LIMIT = 64 * 1024;

export class JournalError extends Error {
  constructor(
    readonly code: 'journal/unwritable' | 'journal/write-failed',
    message: string,
    readonly file: string,
  ) {
    super(message);
  }
}

export function tailBound(s: string | undefined, limit: number): string | undefined {
  if (s === undefined || s.length <= limit) return s;
  return `… (${s.length - limit} earlier bytes not kept)\n` + s.slice(s.length - limit);
}

export class JournalWriter {
  readonly file: string;
  /** Every line written, for metrics and the run's summary (already bounded and redacted). */
  readonly lines: JournalLine[] = [];
  private seq = 0;
  private fd: number | undefined;
  private failure: JournalError | undefined;
  private readonly outputBytes = new Map<string, number>();

  private constructor(
    readonly dir: string,
    private readonly redactor: Redactor,
    private readonly onFailure: (err: JournalError) => void,
  ) {
    this.file = path.join(dir, JOURNAL_FILE);
  }

  /**
   * Creates runs/<id>/ and writes the meta line: the probe that must succeed before any host is
   * contacted. Throws JournalError (read-only directory, disk full, ...) with the reason.
   */
  static open(runsDir: string, meta: JournalMeta, redactor: Redactor, onFailure: (err: JournalError) => void): JournalWriter {
    const w = new JournalWriter(path.join(runsDir, meta.runId), redactor, onFailure);
    try {
      ensureDir(w.dir);
      w.fd = openSync(w.file, 'ax');
      w.append(redactor.value(meta), true);
    } catch (err) {
      if (w.fd !== undefined) closeSync(w.fd);
      w.fd = undefined;
      throw new JournalError('journal/unwritable', `cannot write the run journal ${w.file}: ${describe(err)}`, w.file);
    }
    return w;
  }

  get error(): JournalError | undefined {
    return this.failure;
  }

  event(e: EngineEvent): void {
    const bounded = this.bound(e);
    if (bounded) this.write(bounded);
  }

  restored(line: Omit<RestoredLine, 'seq'>): void {
    this.write({ ...line, state: line.state && boundState(line.state) } as JournalLine);
  }

  end(line: Omit<EndLine, 'seq'>): void {
    this.write({ ...line, journalError: this.failure?.message } as JournalLine, true);
  }

  close(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // already reported through failure, if it matters
      }
      this.fd = undefined;
    }
  }

  private write(line: JournalLine, sync = false): void {
    if (this.failure || this.fd === undefined) return;
    try {
      this.append(this.redactor.value({ ...line, seq: ++this.seq } as JournalLine), sync);
    } catch (err) {
      this.failure = new JournalError('journal/write-failed', `the run journal ${this.file} could not be written: ${describe(err)}`, this.file);
      this.onFailure(this.failure);
    }
  }

  private append(line: JournalLine, sync: boolean): void {
    const buf = Buffer.from(JSON.stringify(line) + '\n', 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd!, buf, off, buf.length - off);
    if (sync) fsyncSync(this.fd!);
    this.lines.push(line);
  }

  /** Bounded copy of an event for the journal; undefined when output beyond the budget is dropped. */
  private bound(e: EngineEvent): JournalLine | undefined {
    switch (e.type) {
      case 'host.output': {
        const key = `${e.taskId ?? e.taskIndex}\0${e.host}\0${e.stream}`;
        const used = this.outputBytes.get(key) ?? 0;
        if (used >= OUTPUT_LIMIT) return undefined;
        const room = OUTPUT_LIMIT - used;
        this.outputBytes.set(key, used + e.text.length);
        if (e.text.length <= room) return { ...e, seq: 0 };
        return { ...e, text: e.text.slice(0, room) + `\n… (further ${e.stream} not journaled: ${OUTPUT_LIMIT / 1024} KiB per task and stream; the result keeps the tail)\n`, seq: 0 };
      }
      case 'host.result':
        return {
          ...e,
          msg: tailBound(e.msg, OUTPUT_LIMIT),
          stdout: tailBound(e.stdout, OUTPUT_LIMIT),
          stderr: tailBound(e.stderr, OUTPUT_LIMIT),
          command: tailBound(e.command, OUTPUT_LIMIT),
          diff: e.diff && { ...e.diff, before: tailBound(e.diff.before, OUTPUT_LIMIT)!, after: tailBound(e.diff.after, OUTPUT_LIMIT)! },
          state: e.state && boundState(e.state),
          seq: 0,
        };
      default:
        return { ...e, seq: 0 };
    }
  }
}

/** Bounds the strings; stdout_lines/stderr_lines are dropped when stdout/stderr are kept (resume derives them again). */
function boundState(st: TaskState): TaskState {
  return { ...st, registered: st.registered === undefined ? undefined : dropLines(boundValue(st.registered)), facts: st.facts && (boundValue(st.facts) as Record<string, unknown>) };
}

function boundValue(v: unknown): unknown {
  if (typeof v === 'string') return tailBound(v, STATE_STRING_LIMIT);
  if (Array.isArray(v)) return v.map(boundValue);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = boundValue(x);
    return out;
  }
  return v;
}

function dropLines(registered: unknown): unknown {
  if (!registered || typeof registered !== 'object' || Array.isArray(registered)) return registered;
  const o: Record<string, unknown> = { ...(registered as Record<string, unknown>) };
  if (typeof o.stdout === 'string') delete o.stdout_lines;
  if (typeof o.stderr === 'string') delete o.stderr_lines;
  if (Array.isArray(o.results)) o.results = o.results.map(dropLines);
  return o;
}

/** mkdir -p one level at a time: a recursive mkdir reports ENOENT where the real reason is EROFS or EACCES. */
function ensureDir(dir: string): void {
  if (existsSync(dir)) return;
  ensureDir(path.dirname(dir));
  mkdirSync(dir);
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    EROFS: 'the file system is read-only',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    ENOTDIR: 'a component of the path is not a directory',
    EEXIST: 'a journal for this run id already exists',
    EIO: 'input/output error',
  };
  return e?.code && why[e.code] ? `${why[e.code]} (${e.code})` : (e?.message ?? String(err));
}

/** Restores the stdout_lines/stderr_lines a journal dropped from a registered result (and its loop results). */
export function withDerivedLines(registered: unknown): unknown {
  if (!registered || typeof registered !== 'object' || Array.isArray(registered)) return registered;
  const o: Record<string, unknown> = { ...(registered as Record<string, unknown>) };
  if (typeof o.stdout === 'string' && o.stdout_lines === undefined) o.stdout_lines = o.stdout === '' ? [] : o.stdout.split('\n');
  if (typeof o.stderr === 'string' && o.stderr_lines === undefined) o.stderr_lines = o.stderr === '' ? [] : o.stderr.split('\n');
  if (Array.isArray(o.results)) o.results = o.results.map(withDerivedLines);
  return o;
}
