/** The registered result of a task on a host, as playbooks see it (`register: r` → r.rc, r.stdout_lines...). */
import type { TaskResult } from '../module-types.js';

export interface RegisteredResult {
  changed: boolean;
  failed: boolean;
  skipped: boolean;
  msg?: string;
  rc?: number;
  stdout?: string;
  stderr?: string;
  stdout_lines?: string[];
  stderr_lines?: string[];
  attempts?: number;
  results?: RegisteredResult[];
  item?: unknown;
  [key: string]: unknown;
}

export function toRegistered(r: TaskResult, extra: { attempts?: number; item?: unknown } = {}): RegisteredResult {
  const out: RegisteredResult = {
    ...(r.data ?? {}),
    changed: r.changed,
    failed: r.failed === true,
    skipped: r.skipped === true,
  };
  if (r.msg !== undefined) out.msg = r.msg;
  if (r.rc !== undefined) out.rc = r.rc;
  if (r.stdout !== undefined) {
    out.stdout = r.stdout.replace(/\n$/, '');
    out.stdout_lines = out.stdout === '' ? [] : out.stdout.split('\n');
  }
  if (r.stderr !== undefined) {
    out.stderr = r.stderr.replace(/\n$/, '');
    out.stderr_lines = out.stderr === '' ? [] : out.stderr.split('\n');
  }
  if (r.diff) out.diff = r.diff;
  if (extra.attempts !== undefined) out.attempts = extra.attempts;
  if (extra.item !== undefined) out.item = extra.item;
  return out;
}

export function skippedResult(msg: string, item?: unknown): RegisteredResult {
  const r: RegisteredResult = { changed: false, failed: false, skipped: true, msg };
  if (item !== undefined) r.item = item;
  return r;
}
